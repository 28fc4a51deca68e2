/*
 * fetch: libgit2's remote API over a bare cache repository (see fetch.h).
 * One connection per resolution: the advertised refs decide what to fetch,
 * then only that ref (or, for an abbreviated commit id, every branch and
 * tag, as a clone would) is downloaded on the same connection.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "git/fetch.h"
#include "git/gitlib.h"

#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <unistd.h>

/* GitHub's basic auth for tokens: any user name works, this is the documented one */
#define TOKEN_USER "x-access-token"

struct cred_state {
	const char *token;
	int asked;  /* the server asked for credentials */
	int given;  /* we answered with the token */
};

static int cred_cb(git_credential **out, const char *url, const char *user, unsigned int allowed,
		   void *payload)
{
	struct cred_state *cs = payload;
	(void)url;
	(void)user;
	cs->asked = 1;
	/* one try: a refused token must not loop */
	if (!cs->token || !*cs->token || cs->given || !(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT))
		return GIT_EUSER;
	cs->given = 1;
	return git_credential_userpass_plaintext_new(out, TOKEN_USER, cs->token);
}

/* libgit2's last message for `what`; auth failures said plainly */
static int net_fail(struct buf *err, const struct cred_state *cs, const char *url, const char *what)
{
	if (cs->asked && !cs->given) {
		buf_addf(err, "%s '%s': authentication required (give a token with GITHUB_TOKEN "
			 "or -s GITHUB_TOKEN)", what, url);
		return KILN_EIO;
	}
	if (cs->asked) {
		buf_addf(err, "%s '%s': authentication failed (the token was refused)", what, url);
		return KILN_EIO;
	}
	const git_error *e = git_error_last();
	buf_addf(err, "%s '%s': %s", what, url, e && e->message ? e->message : "libgit2 error");
	return KILN_EIO;
}

int fetch_open_bare(const char *dir, struct repo **out, struct buf *err)
{
	gitlib_init(); /* kept for the process, as repo.c does */
	if (access(dir, F_OK) == 0)
		return repo_open_bare(dir, out, err);
	/* created aside and renamed: a crash never leaves a half-made repository */
	char *tmp = xstrfmt("%s.tmp.%ld", dir, (long)getpid());
	git_repository *g = NULL;
	int rc = KILN_EIO;
	if (git_repository_init(&g, tmp, 1) < 0) {
		const git_error *e = git_error_last();
		buf_addf(err, "cannot create '%s': %s", tmp, e && e->message ? e->message : "libgit2");
		goto out;
	}
	git_repository_free(g);
	if (rename(tmp, dir) < 0) {
		buf_addf(err, "cannot rename '%s': %s", tmp, strerror(errno));
		goto out;
	}
	rc = repo_open_bare(dir, out, err);
out:
	free(tmp);
	return rc;
}

int fetch_has_commit(struct repo *r, const char *sha)
{
	git_oid oid;
	git_commit *c;
	if (git_oid_fromstr(&oid, sha) < 0 || git_commit_lookup(&c, repo_git(r), &oid) < 0)
		return 0;
	git_commit_free(c);
	return 1;
}

static int is_hex(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return 0;
	for (; *s; s++)
		if (!strchr("0123456789abcdefABCDEF", *s))
			return 0;
	return 1;
}

/* the advertised ref `ref` names: exact refs/..., else tag, then branch (git's rev-parse order) */
static const git_remote_head *find_head(const git_remote_head **heads, size_t n, const char *ref)
{
	char *cand[3] = { NULL, NULL, NULL };
	const git_remote_head *found = NULL;
	if (!strncmp(ref, "refs/", 5)) {
		cand[0] = xstrdup(ref);
	} else {
		cand[0] = xstrfmt("refs/tags/%s", ref);
		cand[1] = xstrfmt("refs/heads/%s", ref);
	}
	for (size_t c = 0; c < 3 && cand[c] && !found; c++)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(heads[i]->name, cand[c])) {
				found = heads[i];
				break;
			}
	for (size_t c = 0; c < 3; c++)
		free(cand[c]);
	return found;
}

/* the commit an object id names (annotated tags peeled) */
static int peel_commit(git_repository *g, const git_oid *oid, char sha[REPO_OID_HEX])
{
	git_object *o = NULL, *c = NULL;
	int rc = -1;
	if (git_object_lookup(&o, g, oid, GIT_OBJECT_ANY) == 0 &&
	    git_object_peel(&c, o, GIT_OBJECT_COMMIT) == 0) {
		git_oid_tostr(sha, REPO_OID_HEX, git_object_id(c));
		rc = 0;
	}
	git_object_free(c);
	git_object_free(o);
	return rc;
}

static int do_fetch(git_remote *rem, char **specs, size_t n, const git_remote_callbacks *cb,
		    const git_proxy_options *px)
{
	git_fetch_options fo;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.callbacks = *cb;
	fo.proxy_opts = *px;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	git_strarray arr = { specs, n };
	return git_remote_fetch(rem, &arr, &fo, NULL);
}

int fetch_resolve(struct repo *r, const char *url, const char *token, const char *ref,
		  char sha[REPO_OID_HEX], struct buf *err)
{
	/* messages name the URL without credentials a mirror URL may carry */
	char *shown = url_redact(url);
	git_repository *g = repo_git(r);
	git_remote *rem = NULL;
	struct cred_state cs = { token, 0, 0 };
	git_remote_callbacks cb;
	git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb.credentials = cred_cb;
	cb.payload = &cs;
	git_proxy_options px;
	git_proxy_options_init(&px, GIT_PROXY_OPTIONS_VERSION);
	px.type = GIT_PROXY_AUTO;
	int rc = KILN_EIO;

	/* no url.*.insteadOf: kiln's URL is the one used, and libgit2 1.5
	 * leaks pcre2 match data on every config regex (see repo.c) */
	git_remote_create_options ro;
	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = g;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	gitlib_tls_ready(); /* the CA bundle, parsed only by runs that connect */
	if (git_remote_create_with_opts(&rem, url, &ro) < 0) {
		rc = net_fail(err, &cs, shown, "bad repository URL");
		goto out;
	}
	if (git_remote_connect(rem, GIT_DIRECTION_FETCH, &cb, &px, NULL) < 0) {
		rc = net_fail(err, &cs, shown, "cannot reach");
		goto out;
	}
	const git_remote_head **heads;
	size_t n;
	if (git_remote_ls(&heads, &n, rem) < 0) {
		rc = net_fail(err, &cs, shown, "cannot list the refs of");
		goto out;
	}
	const git_remote_head *h = find_head(heads, n, ref);
	if (h) {
		/* prefer the advertised peeled id of an annotated tag */
		char *peeled = xstrfmt("%s^{}", h->name);
		git_oid want = h->oid;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(heads[i]->name, peeled))
				want = heads[i]->oid;
		free(peeled);
		if (peel_commit(g, &want, sha) == 0) {
			rc = 0; /* already here: nothing to download */
			goto out;
		}
		char *spec = xstrfmt("+%s:%s", h->name, h->name);
		int fr = do_fetch(rem, &spec, 1, &cb, &px);
		free(spec);
		if (fr < 0) {
			rc = net_fail(err, &cs, shown, "cannot fetch from");
			goto out;
		}
		if (peel_commit(g, &h->oid, sha) < 0) {
			buf_addf(err, "'%s' of '%s' is not a commit", ref, shown);
			rc = KILN_ENOENT;
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (!is_hex(ref, 7, 40)) {
		buf_addf(err, "'%s' has no tag or branch '%s'", shown, ref);
		rc = KILN_ENOENT;
		goto out;
	}
	/* a commit id: every branch and tag, as a clone would */
	char *all[] = { "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*" };
	if (do_fetch(rem, all, 2, &cb, &px) < 0) {
		rc = net_fail(err, &cs, shown, "cannot fetch from");
		goto out;
	}
	git_oid prefix;
	git_object *o = NULL;
	if (git_oid_fromstrn(&prefix, ref, strlen(ref)) < 0 ||
	    git_object_lookup_prefix(&o, g, &prefix, strlen(ref), GIT_OBJECT_COMMIT) < 0) {
		buf_addf(err, "'%s' has no tag, branch or commit '%s'", shown, ref);
		rc = KILN_ENOENT;
		goto out;
	}
	git_oid_tostr(sha, REPO_OID_HEX, git_object_id(o));
	git_object_free(o);
	rc = 0;
out:
	git_remote_free(rem);
	free(shown);
	return rc;
}

/* the tree of `path` in commit `sha` (caller frees) */
static int lookup_tree(git_repository *g, const char *sha, const char *path, git_tree **out,
		       struct buf *err)
{
	git_oid oid;
	git_commit *c = NULL;
	git_tree *root = NULL;
	git_tree_entry *e = NULL;
	int rc = KILN_ENOENT;
	*out = NULL;
	if (git_oid_fromstr(&oid, sha) < 0 || git_commit_lookup(&c, g, &oid) < 0 ||
	    git_commit_tree(&root, c) < 0) {
		buf_addf(err, "commit '%s' is not in the repository", sha);
		goto out;
	}
	if (!path || !*path) {
		*out = root;
		root = NULL;
		rc = 0;
		goto out;
	}
	if (git_tree_entry_bypath(&e, root, path) < 0 || git_tree_entry_type(e) != GIT_OBJECT_TREE ||
	    git_tree_lookup(out, g, git_tree_entry_id(e)) < 0) {
		buf_addf(err, "no directory '%s' in commit %.12s", path, sha);
		goto out;
	}
	rc = 0;
out:
	git_tree_entry_free(e);
	git_tree_free(root);
	git_commit_free(c);
	return rc;
}

int fetch_tree_id(struct repo *r, const char *sha, const char *path, char out[REPO_OID_HEX],
		  struct buf *err)
{
	git_tree *t;
	int rc = lookup_tree(repo_git(r), sha, path, &t, err);
	if (rc < 0)
		return rc;
	git_oid_tostr(out, REPO_OID_HEX, git_tree_id(t));
	git_tree_free(t);
	return 0;
}

int fetch_write_tree(struct repo *r, const char *sha, const char *path, const char *dest,
		     struct buf *err)
{
	git_repository *g = repo_git(r);
	git_tree *t;
	int rc = lookup_tree(g, sha, path, &t, err);
	if (rc < 0)
		return rc;
	git_checkout_options opts;
	git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
	opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX |
				 GIT_CHECKOUT_DONT_WRITE_INDEX;
	opts.target_directory = dest;
	if (git_checkout_tree(g, (git_object *)t, &opts) < 0) {
		const git_error *e = git_error_last();
		buf_addf(err, "cannot write commit %.12s into '%s': %s", sha, dest,
			 e && e->message ? e->message : "libgit2 error");
		rc = KILN_EIO;
	}
	git_tree_free(t);
	return rc;
}

int fetch_read_blob(struct repo *r, const char *sha, const char *path, struct buf *out,
		    struct buf *err)
{
	git_repository *g = repo_git(r);
	git_tree *root;
	git_tree_entry *e = NULL;
	git_blob *b = NULL;
	int rc = lookup_tree(g, sha, "", &root, err);
	if (rc < 0)
		return rc;
	if (git_tree_entry_bypath(&e, root, path) < 0 || git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&b, g, git_tree_entry_id(e)) < 0) {
		buf_addf(err, "no file '%s' in commit %.12s", path, sha);
		rc = KILN_ENOENT;
	} else {
		buf_add(out, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	}
	git_blob_free(b);
	git_tree_entry_free(e);
	git_tree_free(root);
	return rc;
}
