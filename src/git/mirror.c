/* mirror: bare mirrors of the server's repositories (see mirror.h). */
#include "base/kiln.h"
#include "base/fs.h"
#include "git/gitlib.h"
#include "git/mirror.h"

#include <git2.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void lib_once(void)
{
	gitlib_init();
}

/* subject: a path or a URL, named without the credentials a URL may carry
 * (the message reaches logs, the API and the UI) */
static int git_fail(struct buf *err, const char *what, const char *subject)
{
	const git_error *e = git_error_last();
	char *shown = url_redact(subject);
	buf_addf(err, "%s '%s': %s", what, shown, e && e->message ? e->message : "libgit2 error");
	free(shown);
	return -1;
}

static int yaml_name(const char *n)
{
	return str_ends_with(n, ".yml") || str_ends_with(n, ".yaml");
}

static void tree_files(git_repository *repo, const git_tree *t, const char *prefix, int depth, size_t max,
		       void (*fn)(const char *path, const char *data, size_t len, void *arg), void *arg)
{
	for (size_t i = 0; i < git_tree_entrycount(t); i++) {
		const git_tree_entry *te = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(te);
		char *rel = *prefix ? xstrfmt("%s/%s", prefix, name) : xstrdup(name);
		if (git_tree_entry_type(te) == GIT_OBJECT_TREE && depth > 0) {
			git_tree *sub = NULL;
			if (!git_tree_lookup(&sub, repo, git_tree_entry_id(te)))
				tree_files(repo, sub, rel, depth - 1, max, fn, arg);
			git_tree_free(sub);
		} else if (git_tree_entry_type(te) == GIT_OBJECT_BLOB && yaml_name(name)) {
			git_blob *b = NULL;
			if (!git_blob_lookup(&b, repo, git_tree_entry_id(te)) && (size_t)git_blob_rawsize(b) <= max)
				fn(rel, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), arg);
			git_blob_free(b);
		}
		free(rel);
	}
}

/*
 * The tree of dir (NULL or "": the root) at commit sha in the bare
 * repository path: 0 with *repo and *tree (the caller frees both), or
 * KILN_ENOENT with both NULL.
 */
static int open_tree(const char *path, const char *sha, const char *dir, git_repository **repo,
		     git_tree **tree)
{
	git_commit *c = NULL;
	git_tree *root = NULL;
	git_tree_entry *e = NULL;
	git_oid oid;
	int ret = KILN_ENOENT;
	*repo = NULL;
	*tree = NULL;
	if (git_oid_fromstr(&oid, sha) < 0 || git_repository_open_bare(repo, path) < 0 ||
	    git_commit_lookup(&c, *repo, &oid) < 0 || git_commit_tree(&root, c) < 0)
		goto out;
	if (!dir || !*dir) {
		*tree = root;
		root = NULL;
	} else if (git_tree_entry_bypath(&e, root, dir) < 0 ||
		   git_tree_entry_type(e) != GIT_OBJECT_TREE ||
		   git_tree_lookup(tree, *repo, git_tree_entry_id(e)) < 0) {
		goto out;
	}
	ret = 0;
out:
	git_tree_entry_free(e);
	git_tree_free(root);
	git_commit_free(c);
	if (ret) {
		git_tree_free(*tree);
		git_repository_free(*repo);
		*tree = NULL;
		*repo = NULL;
	}
	return ret;
}

int mirror_files(const char *path, const char *sha, const char *dir, size_t max,
		 void (*fn)(const char *path, const char *data, size_t len, void *arg), void *arg)
{
	lib_once();
	git_repository *repo;
	git_tree *t;
	int ret = open_tree(path, sha, dir, &repo, &t);
	if (!ret)
		tree_files(repo, t, "", 1, max, fn, arg);
	git_tree_free(t);
	git_repository_free(repo);
	git_error_clear();
	return ret;
}


int mirror_url_ok(const char *url, struct buf *err)
{
	struct stat st;
	if (str_starts_with(url, "https://") || str_starts_with(url, "http://") ||
	    str_starts_with(url, "file://"))
		return 0;
	if (url[0] == '/' && !stat(url, &st) && S_ISDIR(st.st_mode))
		return 0;
	char *shown = url_redact(url);
	buf_addf(err, "unsupported repository URL '%s' (expected an absolute path to a git "
		      "repository, file://, http:// or https://)", shown);
	free(shown);
	return -1;
}

/*
 * The remote is anonymous (URL from the store, refspecs here), never
 * looked up in the mirror's config: git_remote_lookup in libgit2 1.5 leaks
 * pcre2 match data on every call (config regex iterators).
 */
static const char *const refspecs[] = { "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*" };

/* an in-memory remote for url; url.*.insteadOf is not applied (reading it
 * is what leaks in libgit2 1.5, and the URL kiln stores is the one meant) */
static int remote_for(git_remote **out, git_repository *repo, const char *url)
{
	git_remote_create_options o;
	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	gitlib_tls_ready(); /* the CA bundle, parsed only when connecting */
	return git_remote_create_with_opts(out, url, &o);
}

int mirror_create(const char *path, const char *url, struct buf *err)
{
	lib_once();
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	int r = -1;
	if (git_repository_init(&repo, path, 1) < 0) {
		git_fail(err, "cannot create mirror", path);
		goto out;
	}
	/* for people looking at the mirror; kiln passes the URL itself */
	if (git_repository_config(&cfg, repo) < 0 ||
	    git_config_set_string(cfg, "kiln.url", url) < 0) {
		git_fail(err, "cannot configure mirror", path);
		goto out;
	}
	r = 0;
out:
	git_config_free(cfg);
	git_repository_free(repo);
	return r;
}

int mirror_fetch(const char *path, const char *url, struct buf *err)
{
	lib_once();
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	int r = -1;
	if (git_repository_open_bare(&repo, path) < 0) {
		git_fail(err, "cannot open mirror", path);
		goto out;
	}
	if (remote_for(&remote, repo, url) < 0) {
		git_fail(err, "bad repository URL", url);
		goto out;
	}
	git_fetch_options fo;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.prune = GIT_FETCH_PRUNE;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE; /* the refspecs have them */
	git_strarray specs = { (char **)refspecs, ARRAY_SIZE(refspecs) };
	if (git_remote_fetch(remote, &specs, &fo, "kiln serve: fetch") < 0) {
		git_fail(err, "cannot fetch", url);
		goto out;
	}
	r = 0;
out:
	git_remote_free(remote);
	git_repository_free(repo);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mirror_refs(const char *path, struct strvec *out, struct buf *err)
{
	lib_once();
	git_repository *repo = NULL;
	git_reference_iterator *it = NULL;
	git_reference *ref;
	size_t first = out->nr;
	if (git_repository_open_bare(&repo, path) < 0)
		return git_fail(err, "cannot open mirror", path);
	if (git_reference_iterator_glob_new(&it, repo, "refs/*") < 0) {
		git_repository_free(repo);
		return git_fail(err, "cannot list refs of", path);
	}
	while (!git_reference_next(&ref, it)) {
		const char *name = git_reference_name(ref);
		git_object *obj = NULL;
		if ((str_starts_with(name, "refs/heads/") || str_starts_with(name, "refs/tags/")) &&
		    !git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT)) {
			char hex[GIT_OID_HEXSZ + 1];
			git_oid_tostr(hex, sizeof(hex), git_object_id(obj));
			strvec_pushf(out, "%s=%s", name, hex);
		}
		git_object_free(obj);
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	git_repository_free(repo);
	if (out->nr > first)
		qsort(out->v + first, out->nr - first, sizeof(char *), cmp_str);
	return 0;
}

int mirror_default_branch(const char *path, const char *url, struct buf *out, struct buf *err)
{
	lib_once();
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_buf b = { 0 };
	int r = -1;
	if (git_repository_open_bare(&repo, path) < 0)
		return git_fail(err, "cannot open mirror", path);
	if (remote_for(&remote, repo, url) < 0) {
		git_fail(err, "bad repository URL", url);
		goto out;
	}
	if (!git_remote_connect(remote, GIT_DIRECTION_FETCH, NULL, NULL, NULL) &&
	    !git_remote_default_branch(&b, remote) && str_starts_with(b.ptr, "refs/heads/")) {
		buf_addstr(out, b.ptr + strlen("refs/heads/"));
		r = 0;
		goto out;
	}
	git_error_clear();
	const char *names[] = { "main", "master" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char ref[64];
		git_reference *gr = NULL;
		snprintf(ref, sizeof(ref), "refs/heads/%s", names[i]);
		if (!git_reference_lookup(&gr, repo, ref)) {
			git_reference_free(gr);
			buf_addstr(out, names[i]);
			r = 0;
			goto out;
		}
	}
	buf_addstr(out, "main");
	r = 0;
out:
	git_buf_dispose(&b);
	if (remote)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	git_repository_free(repo);
	return r;
}

int mirror_has_commit(const char *path, const char *sha)
{
	lib_once();
	git_repository *repo = NULL;
	git_oid oid;
	git_commit *c = NULL;
	int ok = strlen(sha) == GIT_OID_HEXSZ && !git_oid_fromstr(&oid, sha) &&
		 !git_repository_open_bare(&repo, path) && !git_commit_lookup(&c, repo, &oid);
	git_commit_free(c);
	git_repository_free(repo);
	git_error_clear();
	return ok;
}

/* a file of a throwaway work tree: no fsync (a crash removes the tree) */
static int put_file(const char *dir, const char *name, const char *data, size_t len)
{
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/%s", dir, name);
	int fd = open(path.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int r = fd < 0 ? -1 : fs_write_all(fd, data, len) < 0 ? -1 : 0;
	if (fd >= 0 && close(fd) < 0)
		r = -1;
	buf_release(&path);
	return r;
}

/* `url = "..."` in git config syntax; -1 for a control character */
static int config_quote(struct buf *out, const char *v)
{
	buf_addch(out, '"');
	for (; *v; v++) {
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return -1;
		if (*v == '"' || *v == '\\')
			buf_addch(out, '\\');
		buf_addch(out, *v);
	}
	buf_addch(out, '"');
	return 0;
}

/*
 * The .git of a work tree, written directly: what git_repository_init plus
 * a loose ref and a reflog per branch and tag would make, in six small
 * files (a fresh work tree per run is on the webhook -> first step path).
 */
static int worktree_gitdir(const char *gitdir, const char *mirror, const char *sha, const char *ref,
			   const char *origin, struct buf *err)
{
	static const char *const dirs[] = { "objects/info", "objects/pack", "refs/heads", "refs/tags" };
	struct buf b = BUF_INIT, path = BUF_INIT;
	struct strvec refs = STRVEC_INIT;
	int ret = -1;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		buf_reset(&path);
		buf_addf(&path, "%s/%s", gitdir, dirs[i]);
		if (mkdir_p(path.buf, 0755) < 0) {
			buf_addf(err, "cannot create '%s'", path.buf);
			goto out;
		}
	}
	buf_addf(&b, "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"
		     "\tlogallrefupdates = true\n[remote \"origin\"]\n\turl = ");
	if (config_quote(&b, origin)) {
		buf_addf(err, "repository URL with a control character: '%s'", origin);
		goto out;
	}
	buf_addch(&b, '\n');
	if (put_file(gitdir, "config", b.buf, b.len))
		goto io;
	buf_reset(&b);
	buf_addf(&b, "%s\n", sha);
	if (put_file(gitdir, "HEAD", b.buf, b.len))
		goto io;
	buf_reset(&b);
	buf_addf(&b, "%s/objects\n", mirror);
	if (put_file(gitdir, "objects/info/alternates", b.buf, b.len))
		goto io;
	/* the mirror's branches and tags, as a clone would have them (a pull
	 * request's base branch, a push's previous commit on other refs), with
	 * `ref` at sha; packed-refs without the "sorted" trait: readers sort */
	if (mirror_refs(mirror, &refs, err))
		goto out;
	buf_reset(&b);
	int have_ref = !ref || !*ref ||
		       !(str_starts_with(ref, "refs/heads/") || str_starts_with(ref, "refs/tags/"));
	for (size_t i = 0; i < refs.nr; i++) {
		char *eq = strchr(refs.v[i], '=');
		*eq = '\0';
		if (!have_ref && !strcmp(refs.v[i], ref)) {
			buf_addf(&b, "%s %s\n", sha, ref);
			have_ref = 1;
		} else {
			buf_addf(&b, "%s %s\n", eq + 1, refs.v[i]);
		}
	}
	if (!have_ref)
		buf_addf(&b, "%s %s\n", sha, ref);
	if (b.len && put_file(gitdir, "packed-refs", b.buf, b.len))
		goto io;
	ret = 0;
	goto out;
io:
	buf_addf(err, "cannot write the work tree's repository '%s': %s", gitdir, strerror(errno));
out:
	strvec_clear(&refs);
	buf_release(&b);
	buf_release(&path);
	return ret;
}

int mirror_worktree(const char *path, const char *sha, const char *ref, const char *origin,
		    const char *dest, struct buf *err)
{
	lib_once();
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	git_oid oid;
	int ret = -1;
	struct buf gitdir = BUF_INIT;
	if (git_oid_fromstr(&oid, sha) < 0 || strlen(sha) != GIT_OID_HEXSZ) {
		buf_addf(err, "not a commit id: '%s'", sha);
		goto out;
	}
	buf_addf(&gitdir, "%s/.git", dest);
	if (worktree_gitdir(gitdir.buf, path, sha, ref, origin, err))
		goto out;
	if (git_repository_open(&repo, dest) < 0 || git_commit_lookup(&commit, repo, &oid) < 0) {
		git_fail(err, "commit not in the mirror", sha);
		goto out;
	}
	git_checkout_options co;
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_RECREATE_MISSING;
	if (git_checkout_tree(repo, (git_object *)commit, &co) < 0) {
		git_fail(err, "cannot check out", sha);
		goto out;
	}
	ret = 0;
out:
	git_commit_free(commit);
	git_repository_free(repo);
	buf_release(&gitdir);
	return ret;
}

int mirror_resolve(const char *path, const char *name, char sha[41], struct buf *ref_out)
{
	lib_once();
	git_repository *repo = NULL;
	int ret = KILN_ENOENT;
	if (git_repository_open_bare(&repo, path) < 0)
		goto out;
	const char *fmts[] = { "refs/heads/%s", "refs/tags/%s", "%s" };
	for (size_t i = 0; i < ARRAY_SIZE(fmts) && ret; i++) {
		char full[512];
		git_reference *r = NULL;
		git_object *obj = NULL;
		snprintf(full, sizeof(full), fmts[i], name);
		if (!str_starts_with(full, "refs/heads/") && !str_starts_with(full, "refs/tags/"))
			continue;
		if (!git_reference_lookup(&r, repo, full) &&
		    !git_reference_peel(&obj, r, GIT_OBJECT_COMMIT)) {
			git_oid_tostr(sha, 41, git_object_id(obj));
			buf_addstr(ref_out, full);
			ret = 0;
		}
		git_object_free(obj);
		git_reference_free(r);
	}
out:
	git_repository_free(repo);
	git_error_clear();
	return ret;
}

int mirror_workflows(const char *path, const char *sha,
		     void (*fn)(const char *name, const char *data, size_t len, void *arg),
		     void *arg)
{
	lib_once();
	git_repository *repo;
	git_tree *dir;
	int ret = open_tree(path, sha, ".github/workflows", &repo, &dir);
	if (ret)
		goto out;
	/* tree entries are sorted by name already */
	for (size_t i = 0; i < git_tree_entrycount(dir); i++) {
		const git_tree_entry *te = git_tree_entry_byindex(dir, i);
		const char *name = git_tree_entry_name(te);
		git_blob *b = NULL;
		if (git_tree_entry_type(te) != GIT_OBJECT_BLOB ||
		    (!str_ends_with(name, ".yml") && !str_ends_with(name, ".yaml")) ||
		    git_blob_lookup(&b, repo, git_tree_entry_id(te)) < 0)
			continue;
		fn(name, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), arg);
		git_blob_free(b);
	}
out:
	git_tree_free(dir);
	git_repository_free(repo);
	git_error_clear();
	return ret;
}
