/*
 * actions/checkout: write the event's commit (or `ref`) into
 * $GITHUB_WORKSPACE/<path> with git/checkout, then make that directory a
 * git repository of its own that borrows the source repository's objects
 * (objects/info/alternates, as `git clone --shared`): HEAD on the commit
 * (on the branch when it is the event's branch), origin's branches as
 * refs/remotes/origin/..., tags, and an index of the commit's tree, so
 * `git rev-parse`, `git log`, `git diff`, `git status` work without a
 * copy of the history. Nothing is written into the source repository.
 * When it is the job's first step and asks for HEAD in the workspace, the
 * files the executor checked out are kept (they are that tree already).
 *
 * Inputs: repository (only the run's own), ref, path, fetch-depth
 * (accepted; the whole history is always visible), clean (default true);
 * the network inputs (token, ssh-key, ...) are ignored.
 * Outputs: ref, commit (as actions/checkout v4).
 */
#include "base/kiln.h"
#include "actions/actions.h"
#include "base/fs.h"
#include "git/checkout.h"

#include <errno.h>
#include <git2.h>
#include <sys/stat.h>

struct refs_out {
	struct buf *packed;
	const char *branch_ref; /* refs/heads/<b> we check out, or NULL */
};

/* origin's branches become remote-tracking refs; tags are kept */
static int add_ref(git_reference *ref, void *arg)
{
	struct refs_out *o = arg;
	const char *name = git_reference_name(ref);
	git_reference *res = NULL;
	if (git_reference_resolve(&res, ref) == 0) {
		char hex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(hex, sizeof(hex), git_reference_target(res));
		if (str_starts_with(name, "refs/heads/"))
			buf_addf(o->packed, "%s refs/remotes/origin/%s\n", hex, name + 11);
		else if (str_starts_with(name, "refs/tags/"))
			buf_addf(o->packed, "%s %s\n", hex, name);
		git_reference_free(res);
	}
	git_reference_free(ref);
	return 0;
}

/* a file of the job's scratch repository: plain writes, no fsync (the
 * whole run directory is scratch; fsync cost ~20 ms per file under load) */
static int write_text(const char *dir, const char *name, const char *text, struct buf *err)
{
	struct buf p = BUF_INIT;
	buf_addf(&p, "%s/%s", dir, name);
	FILE *f = fopen(p.buf, "we");
	int ok = f && fputs(text, f) >= 0;
	if (f && fclose(f) != 0)
		ok = 0;
	if (!ok)
		buf_addf(err, "cannot write '%s': %s", p.buf, strerror(errno));
	buf_release(&p);
	return ok ? 0 : KILN_EIO;
}

/* the .git directory of dest: alternates to the source's objects */
static int make_gitdir(struct repo *src, const char *dest, const char *sha, const char *branch,
		       struct buf *err)
{
	git_repository *g = repo_git(src);
	struct buf dir = BUF_INIT, t = BUF_INIT, packed = BUF_INIT;
	int r = KILN_EIO;
	buf_addf(&dir, "%s/.git", dest);
	static const char *const sub[] = { "objects/info", "objects/pack", "refs/heads",
					   "refs/tags", "refs/remotes/origin", "info" };
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		buf_reset(&t);
		buf_addf(&t, "%s/%s", dir.buf, sub[i]);
		int m = mkdir_p(t.buf, 0777);
		if (m < 0) {
			buf_addf(err, "cannot create '%s': %s", t.buf, strerror(-m));
			goto out;
		}
	}
	const char *common = git_repository_commondir(g);
	buf_reset(&t);
	buf_addf(&t, "%s%sobjects\n", common, str_ends_with(common, "/") ? "" : "/");
	if (write_text(dir.buf, "objects/info/alternates", t.buf, err) < 0)
		goto out;
	const char *wd = git_repository_workdir(g);
	buf_reset(&t);
	buf_addf(&t,
		 "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"
		 "\tlogallrefupdates = true\n[remote \"origin\"]\n\turl = %s\n"
		 "\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
		 wd ? wd : common);
	if (write_text(dir.buf, "config", t.buf, err) < 0)
		goto out;
	struct refs_out o = { &packed, NULL };
	git_reference_foreach(g, add_ref, &o);
	if (write_text(dir.buf, "packed-refs", packed.buf ? packed.buf : "", err) < 0)
		goto out;
	buf_reset(&t);
	if (branch) {
		buf_addf(&t, "ref: refs/heads/%s\n", branch);
		struct buf rp = BUF_INIT, line = BUF_INIT;
		buf_addf(&rp, "refs/heads/%s", branch);
		buf_addf(&line, "%s\n", sha);
		char *slash = strrchr(rp.buf, '/');
		struct buf d = BUF_INIT;
		buf_addf(&d, "%s/%.*s", dir.buf, (int)(slash - rp.buf), rp.buf);
		int ok = mkdir_p(d.buf, 0777) == 0 && write_text(dir.buf, rp.buf, line.buf, err) == 0;
		buf_release(&d);
		buf_release(&rp);
		buf_release(&line);
		if (!ok)
			goto out;
	} else {
		buf_addf(&t, "%s\n", sha);
	}
	if (write_text(dir.buf, "HEAD", t.buf, err) < 0)
		goto out;
	r = 0;
out:
	buf_release(&dir);
	buf_release(&t);
	buf_release(&packed);
	return r;
}

/* the index of dest's repository: the commit's tree */
static int write_index(const char *dest, const char *sha, struct buf *err)
{
	git_repository *w = NULL;
	git_index *idx = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_oid oid;
	int r = KILN_EIO;
	if (git_repository_open(&w, dest) < 0 || git_oid_fromstr(&oid, sha) < 0 ||
	    git_commit_lookup(&commit, w, &oid) < 0 || git_commit_tree(&tree, commit) < 0 ||
	    git_repository_index(&idx, w) < 0 || git_index_read_tree(idx, tree) < 0 ||
	    git_index_write(idx) < 0) {
		const git_error *e = git_error_last();
		buf_addf(err, "cannot write the index of '%s': %s", dest,
			 e && e->message ? e->message : "libgit2 error");
	} else {
		r = 0;
	}
	git_index_free(idx);
	git_tree_free(tree);
	git_commit_free(commit);
	git_repository_free(w);
	return r;
}

/* the branch to put HEAD on: `ref` naming a branch, or the event's */
static char *branch_of(struct repo *src, const char *ref_in, const char *event_ref)
{
	if (!*ref_in)
		return str_starts_with(event_ref, "refs/heads/") ? xstrdup(event_ref + 11) : NULL;
	git_reference *ref = NULL;
	char *b = NULL;
	if (git_reference_dwim(&ref, repo_git(src), ref_in) == 0 &&
	    git_reference_is_branch(ref))
		b = xstrdup(git_reference_name(ref) + 11);
	git_reference_free(ref);
	if (!b && str_starts_with(ref_in, "refs/heads/"))
		b = xstrdup(ref_in + 11);
	return b;
}

int act_checkout_start(struct builtin_call *c, struct buf *err)
{
	const char *repository = act_input(c, "repository");
	const char *own = act_github(c, "repository");
	if (*repository && strcmp(repository, own)) {
		buf_addf(err,
			 "actions/checkout: repository '%s' is not the run's repository ('%s'): kiln "
			 "runs offline; vendor it (git submodule or a copy) and drop 'repository:'",
			 repository, own);
		return KILN_EINVAL;
	}
	int clean;
	if (act_input_bool(c, "clean", 1, &clean, err) < 0)
		return KILN_EINVAL;
	const char *depth = act_input(c, "fetch-depth");
	if (*depth && strspn(depth, "0123456789") != strlen(depth)) {
		buf_addf(err, "actions/checkout: fetch-depth: expected a number, got '%s'", depth);
		return KILN_EINVAL;
	}
	struct buf dest = BUF_INIT;
	if (act_path(c->workspace, act_input(c, "path"), 1, &dest, err) < 0) {
		buf_release(&dest);
		return KILN_EINVAL;
	}
	const char *ref_in = act_input(c, "ref");
	const char *rev = *ref_in ? ref_in : *act_github(c, "sha") ? act_github(c, "sha") : "HEAD";
	struct repo *src = NULL;
	char sha[REPO_OID_HEX];
	char *branch = NULL;
	int r = repo_open(c->repo_dir, &src, err);
	if (r < 0)
		goto out;
	if ((r = repo_resolve(src, rev, sha, err)) < 0) {
		buf_reset(err);
		buf_addf(err, "actions/checkout: unknown ref '%s' in '%s'", rev, c->repo_dir);
		goto out;
	}
	if (strcmp(rev, sha))
		act_logf(c, LOG_INFO, "Checking out %s (%s) into %s", rev, sha, dest.buf);
	else
		act_logf(c, LOG_INFO, "Checking out %s into %s", sha, dest.buf);
	char head[REPO_OID_HEX];
	struct buf ignore = BUF_INIT;
	int same = c->workspace_pristine && !strcmp(dest.buf, c->workspace) &&
		   repo_resolve(src, "HEAD", head, &ignore) == 0 && !strcmp(head, sha);
	buf_release(&ignore);
	/* the first step of the job, for HEAD into the workspace: the files
	 * are already exactly there (the executor's checkout), only .git is new */
	if (!same && (r = repo_checkout(src, sha, dest.buf, clean, err)) < 0)
		goto out;
	branch = branch_of(src, ref_in, *ref_in ? "" : act_github(c, "ref"));
	if ((r = make_gitdir(src, dest.buf, sha, branch, err)) < 0 ||
	    (r = write_index(dest.buf, sha, err)) < 0)
		goto out;
	struct ev *outs = ev_object();
	ev_object_set(outs, "ref", ev_cstr(branch ? branch : *ref_in ? ref_in : act_github(c, "ref")));
	ev_object_set(outs, "commit", ev_cstr(sha));
	repo_close(src);
	free(branch);
	buf_release(&dest);
	c->complete(c, RESULT_SUCCESS, outs);
	return 0;
out:
	if (src)
		repo_close(src);
	free(branch);
	buf_release(&dest);
	return r < 0 ? r : KILN_EIO;
}
