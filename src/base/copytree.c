/*
 * copytree: recursive copy with *at() calls on open directory descriptors
 * (no path building per file beyond the error message, no nftw).
 */
#include "base/kiln.h"
#include "base/copytree.h"
#include "base/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* the file's data: a reflink, else copy_file_range, else read/write */
static int copy_data(int in, int out, off_t size)
{
	if (size == 0)
		return 0;
	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	off_t done = 0;
	while (done < size) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)(size - done), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += n;
	}
	if (done >= size)
		return 0;
	/* copy_file_range is not supported here (EXDEV, EINVAL, ENOSYS) or
	 * the file shrank: finish with plain reads */
	if (lseek(in, done, SEEK_SET) < 0)
		return -errno;
	char b[65536];
	for (;;) {
		ssize_t n = read(in, b, sizeof(b));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		for (ssize_t w = 0; w < n;) {
			ssize_t k = write(out, b + w, (size_t)(n - w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return -errno;
			w += k;
		}
	}
}

int copy_file_at(int src_fd, off_t size, int dir_fd, const char *name, mode_t mode)
{
	int out = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0)
		return -errno;
	int r = copy_data(src_fd, out, size);
	if (close(out) < 0 && !r)
		r = -errno;
	return r;
}

static int copy_dir(int sfd, int dfd, struct buf *path, struct buf *err);

/* one directory entry of `sfd` into `dfd` */
static int copy_entry(int sfd, int dfd, const char *name, struct buf *path, struct buf *err)
{
	struct stat st;
	int r = 0;
	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISREG(st.st_mode)) {
		int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0)
			return -errno;
		r = copy_file_at(in, st.st_size, dfd, name, st.st_mode & 07777);
		close(in);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlinkat(target, dfd, name) < 0)
			r = -errno;
	} else if (S_ISDIR(st.st_mode)) {
		if (mkdirat(dfd, name, (st.st_mode & 07777) | 0700) < 0)
			return -errno;
		int s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int d2 = s2 < 0 ? -1 : openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s2 < 0 || d2 < 0) {
			r = -errno;
		} else {
			size_t l = path->len;
			buf_addf(path, "/%s", name);
			r = copy_dir(s2, d2, path, err);
			buf_setlen(path, l);
		}
		if (s2 >= 0)
			close(s2);
		if (d2 >= 0)
			close(d2);
	}
	return r;
}

/* copy every entry of sfd into dfd; on error err says which path */
static int copy_dir(int sfd, int dfd, struct buf *path, struct buf *err)
{
	int fd = dup(sfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		buf_addf(err, "cannot copy '%s': %s", path->buf, strerror(errno));
		return KILN_EIO;
	}
	int r = 0;
	struct dirent *de;
	while (!r && (de = readdir(d))) {
		const char *n = de->d_name;
		if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
			continue;
		r = copy_entry(sfd, dfd, n, path, err);
		if (r < 0 && r != KILN_EIO) {
			buf_addf(err, "cannot copy '%s/%s': %s", path->buf, n, strerror(-r));
			r = KILN_EIO;
		}
	}
	closedir(d);
	return r;
}

int copy_entry_at(int src_dir_fd, int dst_dir_fd, const char *name)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	buf_addstr(&path, ".");
	int r = copy_entry(src_dir_fd, dst_dir_fd, name, &path, &err);
	buf_release(&path);
	buf_release(&err);
	return r == KILN_EIO ? -EIO : r;
}

int copy_tree(const char *src, const char *dst, struct buf *err)
{
	int m = mkdir_p(dst, 0777);
	if (m < 0) {
		buf_addf(err, "cannot create '%s': %s", dst, strerror(-m));
		return KILN_EIO;
	}
	int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int dfd = sfd < 0 ? -1 : open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;
	if (sfd < 0 || dfd < 0) {
		buf_addf(err, "cannot copy '%s' to '%s': %s", src, dst, strerror(errno));
		r = KILN_EIO;
	} else {
		struct buf path = BUF_INIT;
		buf_addstr(&path, src);
		r = copy_dir(sfd, dfd, &path, err);
		buf_release(&path);
	}
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	return r;
}
