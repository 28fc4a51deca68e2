/*
 * snapshot: the index's paths read from the work tree, then the untracked
 * files git_status_list reports (ignore rules applied by libgit2), each
 * copied with base/copytree.
 */
#include "base/kiln.h"
#include "base/copytree.h"
#include "base/fs.h"
#include "git/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

struct snap {
	int wd_fd;            /* the work tree */
	int dest_fd;          /* the snapshot */
	const char *dest;
	struct buf dir;       /* the last parent directory made, relative */
	size_t nfiles;
};

/* make the parent directories of `path` (relative) in the snapshot */
static int make_parents(struct snap *s, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t l = slash ? (size_t)(slash - path) : 0;
	if (!l || (s->dir.len == l && !memcmp(s->dir.buf, path, l)))
		return 0;
	buf_reset(&s->dir);
	buf_add(&s->dir, path, l);
	char *full = xstrfmt("%s/%s", s->dest, s->dir.buf);
	int r = mkdir_p(full, 0777);
	free(full);
	return r;
}

/*
 * Copy the work tree's `path` into the snapshot: a regular file (mode 755
 * when executable, else 644, as git records it), a symlink, or for a
 * gitlink an empty directory. Missing (deleted) paths are skipped.
 */
static int copy_path(struct snap *s, const char *path, int gitlink)
{
	struct stat st;
	int r = make_parents(s, path);
	if (r < 0)
		return r;
	if (gitlink)
		return mkdirat(s->dest_fd, path, 0777) < 0 && errno != EEXIST ? -errno : 0;
	if (fstatat(s->wd_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if (S_ISREG(st.st_mode)) {
		int in = openat(s->wd_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0)
			return errno == ENOENT ? 0 : -errno;
		r = copy_file_at(in, st.st_size, s->dest_fd, path,
				 st.st_mode & 0111 ? 0755 : 0644);
		close(in);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(s->wd_fd, path, target, sizeof(target) - 1);
		if (n < 0)
			return errno == ENOENT ? 0 : -errno;
		target[n] = '\0';
		r = symlinkat(target, s->dest_fd, path) < 0 ? -errno : 0;
	} else {
		return 0; /* a directory where the index has a file, a FIFO...: not content */
	}
	if (r == -EEXIST) /* a path listed twice (an index conflict's stages) */
		return 0;
	if (!r)
		s->nfiles++;
	return r;
}

/* every path of the index, as the work tree has it */
static int copy_tracked(struct snap *s, git_repository *g, struct buf *err)
{
	git_index *idx = NULL;
	if (git_repository_index(&idx, g) < 0) {
		const git_error *e = git_error_last();
		buf_addf(err, "cannot read the index: %s", e && e->message ? e->message : "libgit2 error");
		return KILN_EIO;
	}
	int r = 0;
	size_t n = git_index_entrycount(idx);
	for (size_t i = 0; i < n && !r; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);
		r = copy_path(s, e->path, e->mode == GIT_FILEMODE_COMMIT);
		if (r < 0)
			buf_addf(err, "cannot copy '%s' into the snapshot: %s", e->path, strerror(-r));
	}
	git_index_free(idx);
	return r < 0 ? KILN_EIO : 0;
}

/* the untracked files that no ignore rule excludes */
static int copy_untracked(struct snap *s, git_repository *g, struct buf *err)
{
	git_status_options so;
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_WORKDIR_ONLY;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
		   GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	git_status_list *sl = NULL;
	if (git_status_list_new(&sl, g, &so) < 0) {
		const git_error *e = git_error_last();
		buf_addf(err, "cannot list the work tree: %s",
			 e && e->message ? e->message : "libgit2 error");
		return KILN_EIO;
	}
	int r = 0;
	size_t n = git_status_list_entrycount(sl);
	for (size_t i = 0; i < n && !r; i++) {
		const git_status_entry *e = git_status_byindex(sl, i);
		if (!(e->status & GIT_STATUS_WT_NEW) || !e->index_to_workdir)
			continue;
		const char *p = e->index_to_workdir->new_file.path;
		size_t l = strlen(p);
		if (!l || p[l - 1] == '/')
			continue; /* an untracked repository of its own: not ours */
		r = copy_path(s, p, 0);
		if (r < 0)
			buf_addf(err, "cannot copy '%s' into the snapshot: %s", p, strerror(-r));
	}
	git_status_list_free(sl);
	return r < 0 ? KILN_EIO : 0;
}

int repo_snapshot_worktree(struct repo *r, const char *dest, size_t *nfiles, struct buf *err)
{
	git_repository *g = repo_git(r);
	const char *wd = git_repository_workdir(g);
	if (!wd || git_repository_is_bare(g)) {
		buf_addf(err, "the repository has no work tree (bare): name a commit with --head");
		return KILN_EINVAL;
	}
	int m = mkdir_p(dest, 0777);
	if (m < 0) {
		buf_addf(err, "cannot create '%s': %s", dest, strerror(-m));
		return KILN_EIO;
	}
	struct snap s = { .wd_fd = -1, .dest_fd = -1, .dest = dest, .dir = BUF_INIT };
	s.wd_fd = open(wd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	s.dest_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;
	if (s.wd_fd < 0 || s.dest_fd < 0) {
		buf_addf(err, "cannot open '%s': %s", s.wd_fd < 0 ? wd : dest, strerror(errno));
		rc = KILN_EIO;
	}
	if (!rc)
		rc = copy_tracked(&s, g, err);
	if (!rc)
		rc = copy_untracked(&s, g, err);
	if (nfiles)
		*nfiles = s.nfiles;
	if (s.wd_fd >= 0)
		close(s.wd_fd);
	if (s.dest_fd >= 0)
		close(s.dest_fd);
	buf_release(&s.dir);
	return rc;
}
