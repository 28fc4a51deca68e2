/*
 * unpack: restore a blob into the workspace. First the manifest fast path
 * (every file already there with the same size and mtime: nothing to do),
 * otherwise extraction with libarchive, skipping files that already match.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "cas/cas.h"
#include "cas/cas-int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define VERIFY_CHUNK (1 << 20)

static void hex(const unsigned char *h, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[h[i] >> 4];
		out[2 * i + 1] = d[h[i] & 15];
	}
	out[2 * n] = '\0';
}

/* does the file at path have this size and mtime? */
static int same_file(const char *path, long long size, long long sec, long nsec)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size &&
	       st.st_mtim.tv_sec == sec && st.st_mtim.tv_nsec == nsec;
}

/* 1 when every manifest file is in place, 0 when not, -1 when unreadable */
static int manifest_unchanged(struct cas *c, const char *blob, const char *cwd)
{
	struct buf man = BUF_INIT, path = BUF_INIT;
	buf_addf(&path, "%s/blobs/%s.manifest", c->dir, blob);
	if (buf_read_file(&man, path.buf) < 0) {
		buf_release(&path);
		return -1;
	}
	const char *p = man.buf, *end = man.buf + man.len;
	size_t ml = strlen(CAS_MANIFEST_MAGIC);
	if (man.len >= ml + 66 && !memcmp(p, CAS_MANIFEST_MAGIC " ", ml + 1) && p[ml + 65] == '\n') {
		/* written unsynced: a part left by a power loss must not pass */
		unsigned char h[32];
		char hx[65];
		p += ml + 66;
		crypto_generichash(h, sizeof(h), (const unsigned char *)p, (size_t)(end - p), NULL, 0);
		hex(h, sizeof(h), hx);
		if (memcmp(hx, man.buf + ml + 1, 64)) {
			buf_release(&man);
			buf_release(&path);
			return -1;
		}
	}
	int ok = p < end ? 1 : 0; /* no files: nothing proves the tree is there */
	while (ok && p < end) {
		long long size, sec;
		long nsec;
		unsigned mode;
		int used = 0;
		if (sscanf(p, "%lld %lld %ld %o %n", &size, &sec, &nsec, &mode, &used) != 4 || !used) {
			ok = -1;
			break;
		}
		const char *name = p + used;
		const char *nul = memchr(name, '\0', (size_t)(end - name));
		if (!nul) {
			ok = -1;
			break;
		}
		cas__disk_path(cwd, name, &path);
		ok = same_file(path.buf, size, sec, nsec);
		p = nul + 1;
	}
	buf_release(&man);
	buf_release(&path);
	return ok;
}

/* libarchive's message, or one when our read callback failed */
static const char *aerr(struct archive *a)
{
	const char *s = archive_error_string(a);
	return s ? s : "read error";
}

static int copy_data(struct archive *in, struct archive *out, struct buf *err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	for (;;) {
		int r = archive_read_data_block(in, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK) {
			buf_addf(err, "cannot read cache blob: %s", aerr(in));
			return -1;
		}
		if (archive_write_data_block(out, buf, size, off) != ARCHIVE_OK) {
			buf_addf(err, "cannot write: %s", archive_error_string(out));
			return -1;
		}
	}
}

/*
 * The decompressor thread: reads the blob and hands the tar stream to
 * libarchive in this thread (rcb) through a pipe, so that decompressing
 * and writing files run side by side, as `zstd -d | tar -x` does.
 */
struct dctx {
	struct cas_pipe pipe;
	int fd;
	const char *why; /* set before an abort: what went wrong */
};

static void *decompressor(void *arg)
{
	struct dctx *d = arg;
	ZSTD_DStream *z = ZSTD_createDStream();
	size_t incap = ZSTD_DStreamInSize() * 8, left = 0, opos = 0;
	char *in = xmalloc(incap), *out = cas__pipe_begin_put(&d->pipe);
	int eof = 0;
	while (out && !d->why) {
		ssize_t k = 0;
		if (!eof) {
			k = read(d->fd, in, incap);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				d->why = "cannot read the blob";
				break;
			}
			eof = k == 0;
		}
		ZSTD_inBuffer ib = { in, (size_t)k, 0 };
		/* decode this input; at the end, drain what the decoder holds */
		while (out && (ib.pos < ib.size || eof)) {
			ZSTD_outBuffer ob = { out, CAS_PIPE_CHUNK, opos };
			size_t inpos = ib.pos;
			size_t ret = ZSTD_decompressStream(z, &ob, &ib);
			if (ZSTD_isError(ret)) {
				d->why = ZSTD_getErrorName(ret);
				break;
			}
			int full = ob.pos == CAS_PIPE_CHUNK, progress = ob.pos != opos;
			if (progress || ib.pos != inpos)
				left = ret; /* 0: a frame ended (not the next one's hint) */
			opos = ob.pos;
			if (full) {
				cas__pipe_end_put(&d->pipe, opos);
				out = cas__pipe_begin_put(&d->pipe);
				opos = 0;
			} else if (eof && !progress) {
				break;
			}
		}
		if (eof)
			break;
	}
	if (out && !d->why && left)
		d->why = "the blob ends inside a zstd frame";
	if (out && !d->why && opos)
		cas__pipe_end_put(&d->pipe, opos);
	if (d->why)
		cas__pipe_abort(&d->pipe);
	else
		cas__pipe_close(&d->pipe);
	free(in);
	ZSTD_freeDStream(z);
	return NULL;
}

/* libarchive's input: the next chunk of the tar stream */
static la_ssize_t rcb(struct archive *a, void *data, const void **buf)
{
	(void)a;
	struct dctx *d = data;
	size_t n;
	const char *b = cas__pipe_get(&d->pipe, &n);
	*buf = b;
	return b ? (la_ssize_t)n : d->why ? -1 : 0;
}

/* no ".." component (libarchive's SECURE_NODOTDOT refuses those) */
static int plain(const char *name)
{
	for (const char *p = name; (p = strstr(p, "..")); p += 2)
		if ((p == name || p[-1] == '/') && (!p[2] || p[2] == '/'))
			return 0;
	return 1;
}

/*
 * A regular file that is not there yet, written directly: open (O_EXCL),
 * write, futimens, close — 4 system calls where libarchive's disk writer
 * makes 9 (umask twice, unlink, fcntl, ...), and system calls are what a
 * restore of many small files costs. 0 when written, 1 when libarchive
 * should do it (a missing parent, set-id bits), -1 with err.
 */
static int write_new_file(struct archive *in, struct archive_entry *e, const char *path,
			  mode_t mask, struct buf *err)
{
	mode_t mode = archive_entry_perm(e) & 07777;
	if (mode & 07000)
		return 1;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		buf_addf(err, "cannot restore '%s': %s", path, strerror(errno));
		return -1;
	}
	int64_t size = archive_entry_size(e), end = 0;
	const void *buf;
	size_t n;
	la_int64_t off;
	int r = 0, h;
	while (!r && size > 0 && (h = archive_read_data_block(in, &buf, &n, &off)) != ARCHIVE_EOF) {
		if (h != ARCHIVE_OK) {
			buf_addf(err, "cannot read cache blob: %s", aerr(in));
			r = -1;
		} else if (off != end && lseek(fd, off, SEEK_SET) < 0) {
			r = -1;
		} else if (fs_write_all(fd, buf, n) < 0) {
			r = -1;
		} else {
			end = off + (int64_t)n;
		}
	}
	struct timespec ts[2] = { { 0, UTIME_NOW },
				  { archive_entry_mtime(e), archive_entry_mtime_nsec(e) } };
	if (!r && ((end < size && ftruncate(fd, size) < 0) ||
		   ((mode & mask) && fchmod(fd, mode) < 0) || futimens(fd, ts) < 0))
		r = -1;
	if (close(fd) < 0 && !r)
		r = -1;
	if (r && !err->len)
		buf_addf(err, "cannot restore '%s': %s", path, strerror(errno));
	return r;
}

/* extract the blob open at fd (read from its start; not closed here) */
static int extract(int fd, const char *blobpath, const char *cwd, struct buf *err)
{
	mode_t mask = umask(022);
	umask(mask);
	struct dctx d = { .fd = fd };
	if (lseek(fd, 0, SEEK_SET) < 0) {
		buf_addf(err, "cannot read cache blob '%s': %s", blobpath, strerror(errno));
		return -1;
	}
	cas__pipe_init(&d.pipe);
	pthread_t th;
	if (pthread_create(&th, NULL, decompressor, &d)) {
		buf_addstr(err, "cannot start the cache decompressor thread");
		cas__pipe_free(&d.pipe);
		return -1;
	}
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	struct buf path = BUF_INIT;
	struct archive_entry *e;
	int r = 0;
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
						    ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						    ARCHIVE_EXTRACT_UNLINK);
	if (archive_read_open(in, &d, NULL, rcb, NULL) != ARCHIVE_OK) {
		buf_addf(err, "cannot read cache blob '%s': %s", blobpath, aerr(in));
		r = -1;
	}
	while (!r) {
		int h = archive_read_next_header(in, &e);
		if (h == ARCHIVE_EOF)
			break;
		if (h != ARCHIVE_OK) {
			buf_addf(err, "corrupt cache blob '%s': %s", blobpath, aerr(in));
			r = -1;
			break;
		}
		const char *name = archive_entry_pathname(e);
		cas__disk_path(cwd, name, &path);
		struct stat st;
		int gone = lstat(path.buf, &st) < 0 && errno == ENOENT;
		if (archive_entry_filetype(e) == AE_IFREG && !gone && S_ISREG(st.st_mode) &&
		    st.st_size == archive_entry_size(e) && st.st_mtim.tv_sec == archive_entry_mtime(e) &&
		    st.st_mtim.tv_nsec == archive_entry_mtime_nsec(e)) {
			archive_read_data_skip(in);
			continue;
		}
		if (archive_entry_filetype(e) == AE_IFREG && gone && plain(name)) {
			int w = write_new_file(in, e, path.buf, mask, err);
			if (w < 0) {
				r = -1;
				break;
			}
			if (w == 0)
				continue;
		}
		archive_entry_copy_pathname(e, path.buf);
		if (archive_write_header(out, e) != ARCHIVE_OK) {
			buf_addf(err, "cannot restore '%s': %s", path.buf, archive_error_string(out));
			r = -1;
			break;
		}
		if (archive_entry_size(e) > 0 && copy_data(in, out, err) < 0)
			r = -1;
		else if (archive_write_finish_entry(out) != ARCHIVE_OK) {
			buf_addf(err, "cannot restore '%s': %s", path.buf, archive_error_string(out));
			r = -1;
		}
	}
	cas__pipe_abort(&d.pipe); /* done (or failed): stop the decompressor */
	pthread_join(th, NULL);
	if (r && d.why)
		buf_addf(err, " (%s)", d.why);
	archive_read_free(in);
	archive_write_free(out);
	cas__pipe_free(&d.pipe);
	buf_release(&path);
	return r;
}

/* do the bytes of the blob open at fd hash to blob? 0, CAS_CORRUPT or -1 (unreadable) */
static int verify(int fd, const char *path, const char *blob, struct buf *err)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	unsigned char *io = xmalloc(VERIFY_CHUNK), h[32];
	int r = 0;
	for (;;) {
		ssize_t k = read(fd, io, VERIFY_CHUNK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			buf_addf(err, "cannot read cache blob '%s': %s", path, strerror(errno));
			r = -1;
			break;
		}
		if (!k)
			break;
		crypto_generichash_update(&st, io, (size_t)k);
	}
	free(io);
	if (r)
		return r;
	char hx[65];
	crypto_generichash_final(&st, h, sizeof(h));
	hex(h, sizeof(h), hx);
	if (strcmp(hx, blob)) {
		buf_addf(err, "cache blob %.12s is damaged (its bytes hash to %.12s)", blob, hx);
		return CAS_CORRUPT;
	}
	return 0;
}

int cas_unpack(struct cas *c, const char *blob, const char *cwd, int *unchanged, struct buf *err)
{
	if (unchanged)
		*unchanged = 0;
	if (manifest_unchanged(c, blob, cwd) == 1) {
		if (unchanged)
			*unchanged = 1;
		return 0;
	}
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/blobs/%s.tzst", c->dir, blob);
	/* one open for both: the bytes extracted are the bytes verified,
	 * whatever is renamed over the name meanwhile (a concurrent fetch) */
	int r, fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		buf_addf(err, "cannot open cache blob '%s': %s", path.buf, strerror(errno));
		r = errno == ENOENT ? CAS_CORRUPT : -1;
	} else {
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		r = verify(fd, path.buf, blob, err);
		if (!r)
			r = extract(fd, path.buf, cwd, err);
		close(fd);
	}
	buf_release(&path);
	return r;
}
