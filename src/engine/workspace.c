/*
 * workspace: HEAD's tree checked out into a job's directory with libgit2
 * (see workspace.h). git_checkout_tree with a target directory writes the
 * files without touching the repository's own index or work tree.
 */
#include "base/kiln.h"
#include "engine/workspace.h"

#include <errno.h>
#include <git2.h>
#include <pthread.h>
#include <sys/stat.h>

int workspace_mkdirs(const char *path, int mode)
{
	if (mkdir(path, (mode_t)mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	int r = 0;
	if (slash && slash != copy) {
		*slash = '\0';
		r = workspace_mkdirs(copy, mode);
	}
	free(copy);
	if (r < 0)
		return r;
	if (mkdir(path, (mode_t)mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void lib_init_once(void)
{
	git_libgit2_init(); /* never shut down: see workspace_create */
}

void workspace_lib_hold(void)
{
	git_libgit2_init();
}

void workspace_lib_release(void)
{
	git_libgit2_shutdown();
}

static int git_fail(struct buf *err, const char *what)
{
	const git_error *e = git_error_last();
	buf_addf(err, "%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
	return KILN_EIO;
}

int workspace_create(const char *repo_dir, const char *dest, struct buf *err)
{
	git_repository *repo = NULL;
	git_object *tree = NULL;
	int r = 0;

	int mr = workspace_mkdirs(dest, 0777);
	if (mr < 0) {
		buf_addf(err, "cannot create workspace '%s': %s", dest, strerror(-mr));
		return KILN_EIO;
	}
	/*
	 * libgit2's global init+shutdown costs ~10 ms each (measured), more
	 * than the checkout itself; so the first workspace initialises it for
	 * the life of the process and the per-call reference below is only a
	 * counter bump.
	 */
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, lib_init_once);
	git_libgit2_init();
	if (git_repository_open_ext(&repo, repo_dir, 0, NULL) < 0) {
		buf_addf(err, "'%s' is not a git repository", repo_dir);
		r = KILN_EINVAL;
		goto out;
	}
	if (git_revparse_single(&tree, repo, "HEAD^{tree}") < 0) {
		buf_addf(err, "repository '%s' has no commit at HEAD", repo_dir);
		r = KILN_EINVAL;
		goto out;
	}
	git_checkout_options opts;
	git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
	opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX |
				 GIT_CHECKOUT_DONT_WRITE_INDEX;
	opts.target_directory = dest;
	if (git_checkout_tree(repo, tree, &opts) < 0)
		r = git_fail(err, "cannot check out HEAD into the workspace");
out:
	git_object_free(tree);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return r;
}
