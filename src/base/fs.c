/* fs: data directory resolution, mkdir -p, atomic file writes. */
#include "base/kiln.h"
#include "base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int mkdir_p(const char *path, mode_t mode)
{
	/* leaf first: when the parent exists (the common case for job
	 * directories) this is one mkdir, with no walk over the components */
	if (mkdir(path, mode) == 0)
		return 0;
	if (errno == EEXIST) {
		struct stat st;
		return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	}
	if (errno != ENOENT)
		return -errno;
	char *parent = xstrdup(path);
	char *slash = strrchr(parent, '/');
	while (slash && slash > parent && slash[-1] == '/')
		slash--;
	int r = -ENOENT;
	if (slash && slash != parent) {
		*slash = '\0';
		r = mkdir_p(parent, mode);
	}
	free(parent);
	if (r < 0)
		return r;
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int kiln_data_dir(struct buf *out, struct buf *err)
{
	const char *home = getenv("KILN_HOME");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *uhome = getenv("HOME");
	size_t start = out->len;
	if (home && *home)
		buf_addstr(out, home);
	else if (xdg && *xdg == '/')
		buf_addf(out, "%s/kiln", xdg);
	else if (uhome && *uhome)
		buf_addf(out, "%s/.local/share/kiln", uhome);
	else {
		buf_addstr(err, "cannot find the kiln data directory: set KILN_HOME or HOME");
		return -1;
	}
	int r = mkdir_p(out->buf + start, 0700);
	if (r < 0) {
		buf_addf(err, "cannot create data directory '%s': %s", out->buf + start, strerror(-r));
		buf_setlen(out, start);
		return -1;
	}
	return 0;
}

int kiln_data_path(const char *name, struct buf *out, struct buf *err)
{
	if (kiln_data_dir(out, err) < 0)
		return -1;
	buf_addf(out, "/%s", name);
	return 0;
}

int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int fs_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0)
			errno = EIO; /* no progress: do not spin */
		if (w <= 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

const char *fs_proc_stat(pid_t pid, char *data, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, data, size - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	data[n] = '\0';
	/* comm (field 2) may hold spaces and parens: fields restart after
	 * the last ')' */
	char *p = strrchr(data, ')');
	if (!p || p[1] != ' ')
		return NULL;
	return p + 2;
}

int fs_proc_environ_has(pid_t pid, const char *entry, int prefix)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	struct buf b = BUF_INIT;
	int found = 0;
	if (buf_read_file(&b, path) == 0) {
		size_t n = strlen(entry);
		for (size_t i = 0; i < b.len && !found;) {
			const char *e = b.buf + i;
			size_t l = strnlen(e, b.len - i);
			found = (prefix ? l >= n : l == n) && !memcmp(e, entry, n);
			i += l + 1;
		}
	}
	buf_release(&b);
	return found;
}

int fs_connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -e;
	}
	return fd;
}

static int write_file_renamed(const char *path, const void *data, size_t len, mode_t mode,
			      int sync)
{
	struct buf tmp = BUF_INIT, dir = BUF_INIT;
	buf_addf(&tmp, "%s.tmp.XXXXXX", path);
	int fd = mkostemp(tmp.buf, O_CLOEXEC);
	int r = 0;
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (fchmod(fd, mode) < 0 || (r = fs_write_all(fd, data, len)) < 0 ||
	    (sync && fsync(fd) < 0)) {
		r = r ? r : -errno;
		close(fd);
		unlink(tmp.buf);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp.buf, path) < 0) {
		r = -errno;
		unlink(tmp.buf);
		goto out;
	}
	if (!sync)
		goto out;
	const char *slash = strrchr(path, '/');
	if (slash)
		buf_add(&dir, path, slash == path ? 1 : (size_t)(slash - path));
	else
		buf_addstr(&dir, ".");
	r = fsync_dir(dir.buf);
out:
	buf_release(&tmp);
	buf_release(&dir);
	return r;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_file_renamed(path, data, len, mode, 1);
}

int write_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_file_renamed(path, data, len, mode, 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static int make_writable(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D && !(st->st_mode & S_IWUSR))
		chmod(path, st->st_mode | S_IRWXU);
	return 0;
}

void rmtree(const char *path)
{
	if (access(path, F_OK) != 0)
		return;
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	/* a job may have left read-only directories (module caches):
	 * make them writable and try once more */
	if (access(path, F_OK) == 0) {
		nftw(path, make_writable, 16, FTW_PHYS);
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
}

/* what a non-regular file is, for the message */
static const char *file_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a file";
}

int fs_read_input(const char *path, size_t limit, struct buf *out, struct buf *why)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int r = 0;
	if (fd < 0) {
		r = -errno;
		buf_addstr(why, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		buf_addstr(why, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		buf_addstr(why, "is a directory");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		buf_addf(why, "not a regular file (%s)", file_kind(st.st_mode));
		goto out;
	}
	if ((size_t)st.st_size > limit)
		goto too_big;
	/* a regular file: blocking reads again (NFS, FUSE) */
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	size_t start = out->len;
	for (;;) {
		buf_grow(out, 8192);
		size_t room = out->alloc - out->len - 1;
		size_t left = limit + 1 - (out->len - start);
		ssize_t n = read(fd, out->buf + out->len, room < left ? room : left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			buf_addstr(why, strerror(errno));
			buf_setlen(out, start);
			goto out;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->buf[out->len] = '\0';
		if (out->len - start > limit) {
			buf_setlen(out, start);
			goto too_big;
		}
	}
	goto out;
too_big:
	r = -EFBIG;
	buf_addf(why, "file is larger than %zu bytes", limit);
out:
	close(fd);
	return r;
}
