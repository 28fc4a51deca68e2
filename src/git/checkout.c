/*
 * checkout: git_checkout_tree with a target directory. Emptying the
 * directory (clean) uses nftw, never a shell.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "git/checkout.h"

#include <errno.h>
#include <ftw.h>
#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (ftw->level == 0)
		return 0; /* keep dest itself */
	int r = flag == FTW_DP ? rmdir(path) : unlink(path);
	return r < 0 && errno != ENOENT ? -1 : 0;
}

static int empty_dir(const char *dir, struct buf *err)
{
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0) {
		buf_addf(err, "cannot empty '%s': %s", dir, strerror(errno));
		return KILN_EIO;
	}
	return 0;
}

int repo_checkout(struct repo *r, const char *rev, const char *dest, int clean, struct buf *err)
{
	const char *what = rev && *rev ? rev : "HEAD";
	git_object *obj = NULL, *tree = NULL;
	int rc = 0;
	int mr = mkdir_p(dest, 0777);
	if (mr < 0) {
		buf_addf(err, "cannot create '%s': %s", dest, strerror(-mr));
		return KILN_EIO;
	}
	if (clean && empty_dir(dest, err) < 0)
		return KILN_EIO;
	if (git_revparse_single(&obj, repo_git(r), what) < 0 ||
	    git_object_peel(&tree, obj, GIT_OBJECT_TREE) < 0) {
		buf_addf(err, "unknown revision '%s'", what);
		rc = KILN_ENOENT;
		goto out;
	}
	git_checkout_options opts;
	git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
	opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX |
				 GIT_CHECKOUT_DONT_WRITE_INDEX;
	opts.target_directory = dest;
	if (git_checkout_tree(repo_git(r), tree, &opts) < 0) {
		const git_error *e = git_error_last();
		buf_addf(err, "cannot check out '%s' into '%s': %s", what, dest,
			 e && e->message ? e->message : "libgit2 error");
		rc = KILN_EIO;
	}
out:
	git_object_free(tree);
	git_object_free(obj);
	return rc;
}
