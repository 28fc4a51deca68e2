/*
 * workspace: the run's snapshot (git/snapshot.c for the work tree,
 * git/checkout.c for a commit) and the per-job copy (base/copytree.c; see
 * workspace.h).
 */
#include "base/kiln.h"
#include "base/copytree.h"
#include "base/fs.h"
#include "engine/workspace.h"
#include "git/checkout.h"
#include "git/snapshot.h"

#include <errno.h>
#include <git2.h>
#include <sys/stat.h>

void workspace_lib_hold(void)
{
	git_libgit2_init();
}

void workspace_lib_release(void)
{
	git_libgit2_shutdown();
}

/* the tree of `rev` (NULL: HEAD) checked out into dest */
static int checkout_rev(struct repo *repo, const char *repo_dir, const char *rev, const char *dest,
			struct buf *err)
{
	char sha[REPO_OID_HEX];
	if (!rev || !*rev)
		rev = "HEAD";
	if (repo_resolve(repo, rev, sha, NULL) < 0) {
		buf_addf(err, "repository '%s' has no commit '%s'", repo_dir, rev);
		return KILN_EINVAL;
	}
	/* the one libgit2 checkout (src/git/checkout.c) */
	return repo_checkout(repo, sha, dest, 0, err);
}

int workspace_snapshot_repo(struct repo *repo, const char *repo_dir, const char *rev,
			    const char *dir, struct buf *err)
{
	return rev ? checkout_rev(repo, repo_dir, rev, dir, err)
		   : repo_snapshot_worktree(repo, dir, NULL, err);
}

int workspace_snapshot(const char *repo_dir, const char *rev, const char *dir, struct buf *err)
{
	struct repo *repo;
	if (repo_open(repo_dir, &repo, NULL) < 0) {
		buf_addf(err, "'%s' is not a git repository", repo_dir);
		return KILN_EINVAL;
	}
	int r = workspace_snapshot_repo(repo, repo_dir, rev, dir, err);
	repo_close(repo);
	return r;
}

int workspace_create(const char *repo_dir, const char *rev, const char *snapshot,
		     const char *dest, struct buf *err)
{
	if (snapshot)
		return copy_tree(snapshot, dest, err);
	int mr = mkdir_p(dest, 0777);
	if (mr < 0) {
		buf_addf(err, "cannot create workspace '%s': %s", dest, strerror(-mr));
		return KILN_EIO;
	}
	/*
	 * libgit2's global init+shutdown costs ~10 ms each (measured), more
	 * than the checkout itself; src/git initialises it once for the life
	 * of the process, so opening here costs no init.
	 */
	struct repo *repo;
	if (repo_open(repo_dir, &repo, NULL) < 0) {
		buf_addf(err, "'%s' is not a git repository", repo_dir);
		return KILN_EINVAL;
	}
	int r = checkout_rev(repo, repo_dir, rev, dest, err);
	repo_close(repo);
	return r;
}
