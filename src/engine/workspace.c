/*
 * workspace: the event's commit (github.sha, else HEAD) checked out into a job's directory (see
 * workspace.h) through src/git/checkout.c, which writes the files with
 * libgit2 without touching the repository's own index or work tree.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/workspace.h"
#include "git/checkout.h"

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

int workspace_create(const char *repo_dir, const char *rev, const char *dest, struct buf *err)
{
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
	char sha[REPO_OID_HEX];
	int r;
	if (!rev || !*rev)
		rev = "HEAD";
	if (repo_resolve(repo, rev, sha, NULL) < 0) {
		buf_addf(err, "repository '%s' has no commit '%s'", repo_dir, rev);
		r = KILN_EINVAL;
	} else {
		/* the one libgit2 checkout (src/git/checkout.c) */
		r = repo_checkout(repo, sha, dest, 0, err);
	}
	repo_close(repo);
	return r;
}
