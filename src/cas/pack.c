/*
 * pack: expand a cache path list (files, directories, globs, ! excludes)
 * and write the matched tree as tar + zstd (libarchive, multithreaded zstd)
 * into a content-addressed blob with its manifest.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "cas/cas.h"
#include "cas/cas-int.h"
#include "git/glob.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define IO_CHUNK (1 << 20)

struct pathset {
	struct strvec names;    /* archive names: relative to cwd, or absolute */
	struct glob *excl;      /* ! patterns */
	size_t nexcl;
	const char *cwd;
};

/* the on-disk path of an archive name */
void cas__disk_path(const char *cwd, const char *name, struct buf *out)
{
	buf_reset(out);
	if (name[0] != '/')
		buf_addf(out, "%s/", cwd);
	buf_addstr(out, name);
}

static int excluded(const struct pathset *ps, const char *name)
{
	for (size_t i = 0; i < ps->nexcl; i++)
		if (glob_match(&ps->excl[i], name))
			return 1;
	return 0;
}

/* add name and, for a directory, everything below it; type is a dirent
 * d_type (DT_UNKNOWN: look) so the walk stats only directories */
static void add_tree(struct pathset *ps, const char *name, unsigned char type, struct buf *tmp)
{
	if (excluded(ps, name))
		return;
	strvec_push(&ps->names, name);
	if (type != DT_DIR && type != DT_UNKNOWN)
		return;
	cas__disk_path(ps->cwd, name, tmp);
	struct stat st;
	if (type == DT_UNKNOWN && (lstat(tmp->buf, &st) < 0 || !S_ISDIR(st.st_mode)))
		return;
	DIR *d = opendir(tmp->buf);
	if (!d)
		return;
	struct dirent *de;
	struct strvec kids = STRVEC_INIT;
	struct buf types = BUF_INIT;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			strvec_pushf(&kids, "%s/%s", name, de->d_name);
			buf_addch(&types, de->d_type);
		}
	closedir(d);
	for (size_t i = 0; i < kids.nr; i++)
		add_tree(ps, kids.v[i], (unsigned char)types.buf[i], tmp);
	strvec_clear(&kids);
	buf_release(&types);
}

/* walk below dir (an archive name, "" for cwd) adding what g matches */
static void add_glob(struct pathset *ps, const char *dir, const struct glob *g, struct buf *tmp)
{
	cas__disk_path(ps->cwd, *dir ? dir : ".", tmp);
	DIR *d = opendir(tmp->buf);
	if (!d)
		return;
	struct dirent *de;
	struct strvec kids = STRVEC_INIT;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_pushf(&kids, "%s%s%s", dir, *dir && strcmp(dir, "/") ? "/" : "", de->d_name);
	closedir(d);
	for (size_t i = 0; i < kids.nr; i++) {
		if (glob_match(g, kids.v[i])) {
			add_tree(ps, kids.v[i], DT_UNKNOWN, tmp);
			continue;
		}
		cas__disk_path(ps->cwd, kids.v[i], tmp);
		struct stat st;
		if (lstat(tmp->buf, &st) == 0 && S_ISDIR(st.st_mode))
			add_glob(ps, kids.v[i], g, tmp);
	}
	strvec_clear(&kids);
}

/* "~/x" -> "$HOME/x"; strips "./" and trailing '/' */
static char *normalize(const char *p)
{
	struct buf b = BUF_INIT;
	const char *home = getenv("HOME");
	if ((p[0] == '~' && (p[1] == '/' || !p[1])) && home)
		buf_addf(&b, "%s%s", home, p + 1);
	else
		buf_addstr(&b, p);
	while (b.len > 2 && !memcmp(b.buf, "./", 2)) {
		memmove(b.buf, b.buf + 2, b.len - 1);
		b.len -= 2;
	}
	while (b.len > 1 && b.buf[b.len - 1] == '/')
		b.buf[--b.len] = '\0';
	return buf_detach(&b, NULL);
}

static int has_magic(const char *p)
{
	return strpbrk(p, "*?[{") != NULL;
}

/* the directory part of a glob before its first magic segment */
static char *static_prefix(const char *p)
{
	const char *m = strpbrk(p, "*?[{");
	const char *slash = m;
	while (slash > p && *slash != '/')
		slash--;
	if (slash == p)
		return xstrdup(*p == '/' ? "/" : "");
	return xstrndup(p, (size_t)(slash - p));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cas__expand(const struct strvec *paths, const char *cwd, struct strvec *out, struct buf *err)
{
	struct pathset ps = { STRVEC_INIT, NULL, 0, cwd };
	struct buf tmp = BUF_INIT;
	size_t alloc = 0;
	int r = 0;
	for (size_t i = 0; i < paths->nr && !r; i++) {
		const char *p = paths->v[i];
		if (*p != '!')
			continue;
		char *n = normalize(p + 1);
		ALLOC_GROW(ps.excl, ps.nexcl + 1, alloc);
		struct glob g = GLOB_INIT;
		if (glob_compile_syntax(&g, n, GLOB_PICOMATCH, err) < 0)
			r = -1;
		else
			ps.excl[ps.nexcl++] = g;
		free(n);
	}
	for (size_t i = 0; i < paths->nr && !r; i++) {
		const char *p = paths->v[i];
		if (*p == '!' || !*p)
			continue;
		char *n = normalize(p);
		if (!has_magic(n)) {
			struct stat st;
			cas__disk_path(cwd, n, &tmp);
			if (lstat(tmp.buf, &st) == 0)
				add_tree(&ps, n, DT_UNKNOWN, &tmp);
		} else {
			struct glob g = GLOB_INIT;
			if (glob_compile_syntax(&g, n, GLOB_PICOMATCH, err) < 0) {
				r = -1;
			} else {
				char *pre = static_prefix(n);
				add_glob(&ps, pre, &g, &tmp);
				free(pre);
			}
			glob_release(&g);
		}
		free(n);
	}
	if (!r && ps.names.nr) {
		qsort(ps.names.v, ps.names.nr, sizeof(char *), cmp_str);
		for (size_t i = 0; i < ps.names.nr; i++)
			if (!out->nr || strcmp(out->v[out->nr - 1], ps.names.v[i]))
				strvec_push(out, ps.names.v[i]);
	}
	for (size_t i = 0; i < ps.nexcl; i++)
		glob_release(&ps.excl[i]);
	free(ps.excl);
	strvec_clear(&ps.names);
	buf_release(&tmp);
	return r;
}

/*
 * libarchive writes the tar stream to wcb; we compress it with libzstd's
 * multithreaded streaming API (ZSTD_c_nbWorkers): workers compress while
 * this thread reads the next files, the same overlap `tar | zstd -T0`
 * gets from two processes (libarchive's own zstd filter flushes per
 * block, which serialises the workers). The compressed bytes are hashed
 * (the blob's address) and written to the temp file.
 */
struct wctx {
	struct cas_pipe pipe; /* the tar stream, from this thread to the compressor */
	pthread_t thread;
	int started;
	int fd;
	crypto_generichash_state h;
	uint64_t n;   /* compressed bytes written */
	int err;      /* errno of a failed write */
	ZSTD_CCtx *z;
	char *zbuf;   /* compressed output buffer */
	size_t zcap;
};

static int out_bytes(struct wctx *w, const char *p, size_t len)
{
	crypto_generichash_update(&w->h, (const unsigned char *)p, len);
	w->n += len;
	while (len) {
		ssize_t k = write(w->fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			w->err = errno;
			return -1;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* feed (or with end set, finish) the zstd stream */
static int zfeed(struct wctx *w, const void *buf, size_t len, int end)
{
	ZSTD_inBuffer in = { buf, len, 0 };
	for (;;) {
		ZSTD_outBuffer out = { w->zbuf, w->zcap, 0 };
		size_t left = ZSTD_compressStream2(w->z, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left)) {
			w->err = EIO;
			return -1;
		}
		if (out.pos && out_bytes(w, w->zbuf, out.pos) < 0)
			return -1;
		if (end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

/* libarchive's output: hand the tar stream to the compressor thread */
static la_ssize_t wcb(struct archive *a, void *data, const void *buf, size_t len)
{
	(void)a;
	struct wctx *w = data;
	const char *p = buf;
	for (size_t left = len; left;) {
		char *b = cas__pipe_begin_put(&w->pipe);
		if (!b)
			return -1; /* the compressor failed */
		size_t n = left < CAS_PIPE_CHUNK ? left : CAS_PIPE_CHUNK;
		memcpy(b, p, n);
		cas__pipe_end_put(&w->pipe, n);
		p += n;
		left -= n;
	}
	return (la_ssize_t)len;
}

/* the compressor thread: compress, hash and write what wcb hands over,
 * then end the frame; w->err on failure */
static void *compressor(void *arg)
{
	struct wctx *w = arg;
	const char *b;
	size_t n;
	while ((b = cas__pipe_get(&w->pipe, &n)))
		if (zfeed(w, b, n, 0) < 0) {
			cas__pipe_abort(&w->pipe);
			return NULL;
		}
	if (zfeed(w, NULL, 0, 1) < 0)
		cas__pipe_abort(&w->pipe);
	return NULL;
}

/* copy size bytes (the header's) of path into the archive; no read for
 * the end of file once they are in (one syscall per file saved) */
static int copy_file(struct archive *a, const char *path, off_t size, char *io, struct buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		buf_addf(err, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	while (size > 0) {
		ssize_t k = read(fd, io, IO_CHUNK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			buf_addf(err, "cannot read '%s': %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (!k)
			break;
		if (archive_write_data(a, io, (size_t)k) != k) {
			buf_addf(err, "cannot write archive: %s", archive_error_string(a));
			close(fd);
			return -1;
		}
		size -= k;
	}
	close(fd);
	return 0;
}

/* write one archive member; regular files also go to the manifest */
static int add_member(struct archive *a, struct archive_entry *e, const char *cwd, const char *name,
		      char *io, struct buf *man, struct buf *tmp, struct buf *err)
{
	struct stat st;
	cas__disk_path(cwd, name, tmp);
	if (lstat(tmp->buf, &st) < 0)
		return 0; /* vanished since the walk */
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
		return 0;
	archive_entry_clear(e);
	archive_entry_copy_pathname(e, name);
	archive_entry_copy_stat(e, &st);
	/* no access or change time: the same tree makes the same blob, and
	 * pax has fewer records to write (restore sets neither) */
	archive_entry_unset_atime(e);
	archive_entry_unset_ctime(e);
	archive_entry_set_uname(e, "");
	archive_entry_set_gname(e, "");
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t k = readlink(tmp->buf, target, sizeof(target) - 1);
		if (k < 0)
			return 0;
		target[k] = '\0';
		archive_entry_copy_symlink(e, target);
	}
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		buf_addf(err, "cannot write archive: %s", archive_error_string(a));
		return -1;
	}
	if (S_ISREG(st.st_mode)) {
		buf_addf(man, "%lld %lld %ld %o ", (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			 (long)st.st_mtim.tv_nsec, (unsigned)(st.st_mode & 07777));
		buf_add(man, name, strlen(name) + 1);
		if (st.st_size && copy_file(a, tmp->buf, st.st_size, io, err) < 0)
			return -1;
	}
	return 0;
}

static struct archive *new_writer(struct wctx *w, struct buf *err)
{
	struct archive *a = archive_write_new();
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	w->z = ZSTD_createCCtx();
	w->zcap = ZSTD_CStreamOutSize();
	w->zbuf = xmalloc(w->zcap);
	ZSTD_CCtx_setParameter(w->z, ZSTD_c_compressionLevel, 3); /* zstd's default, as the CLI */
	ZSTD_CCtx_setParameter(w->z, ZSTD_c_checksumFlag, 1);
	/* workers; fails harmlessly on a single-threaded libzstd */
	ZSTD_CCtx_setParameter(w->z, ZSTD_c_nbWorkers, n > 1 ? (int)n : 1);
	if (archive_write_set_format_pax(a) != ARCHIVE_OK) {
		buf_addf(err, "libarchive: %s", archive_error_string(a));
		archive_write_free(a);
		return NULL;
	}
	archive_write_set_bytes_per_block(a, IO_CHUNK);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open2(a, w, NULL, wcb, NULL, NULL) != ARCHIVE_OK) {
		buf_addf(err, "libarchive: %s", archive_error_string(a));
		archive_write_free(a);
		return NULL;
	}
	return a;
}

static void hex(const unsigned char *h, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[h[i] >> 4];
		out[2 * i + 1] = d[h[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * Move the finished temp blob to its content address, after its manifest
 * (CAS_MANIFEST_MAGIC, the hash of the records, then the records: the
 * unchanged-tree check trusts none of a manifest that does not match).
 * Without CAS_PACK_NOSYNC both are fsync'd. With it neither is: after a
 * power loss the blob may be empty or a part, which cas_unpack's hash
 * check finds; a blob already there (the same bytes, perhaps an
 * artifact's, fsync'd) is kept, not replaced by the unsynced copy.
 */
static int publish(struct cas *c, const char *tmp, const char *blob, const struct buf *man,
		   unsigned flags, struct buf *err)
{
	int sync = !(flags & CAS_PACK_NOSYNC);
	struct buf path = BUF_INIT, file = BUF_INIT;
	unsigned char h[32];
	char hx[65];
	int r = 0;
	crypto_generichash(h, sizeof(h), (const unsigned char *)man->buf, man->len, NULL, 0);
	hex(h, sizeof(h), hx);
	buf_addf(&file, "%s %s\n", CAS_MANIFEST_MAGIC, hx);
	buf_add(&file, man->buf, man->len);
	buf_addf(&path, "%s/blobs/%s.manifest", c->dir, blob);
	int w = sync ? write_file_atomic(path.buf, file.buf, file.len, 0600)
		     : write_file_replace(path.buf, file.buf, file.len, 0600);
	if (w < 0) {
		buf_addf(err, "cannot write '%s': %s", path.buf, strerror(-w));
		r = -1;
	}
	buf_reset(&path);
	buf_addf(&path, "%s/blobs/%s.tzst", c->dir, blob);
	struct stat old, new;
	if (!r && !sync && stat(path.buf, &old) == 0 && stat(tmp, &new) == 0 &&
	    old.st_size == new.st_size) {
		/* the same bytes (same name, same size), kept: it may be an
		 * artifact's, fsync'd; one of another size is the torn rest of
		 * an unsynced save and is replaced */
		unlink(tmp);
	} else if (!r && rename(tmp, path.buf) < 0) {
		buf_addf(err, "cannot rename blob into '%s': %s", path.buf, strerror(errno));
		r = -1;
	} else if (!r && sync) {
		buf_reset(&path);
		buf_addf(&path, "%s/blobs", c->dir);
		fsync_dir(path.buf);
	}
	buf_release(&path);
	buf_release(&file);
	return r;
}

int cas_pack(struct cas *c, const struct strvec *paths, const char *cwd, char blob[65],
	     uint64_t *size, size_t *nfiles, struct buf *err)
{
	return cas_pack_flags(c, paths, cwd, 0, blob, size, nfiles, err);
}

int cas_pack_flags(struct cas *c, const struct strvec *paths, const char *cwd, unsigned flags,
		   char blob[65], uint64_t *size, size_t *nfiles, struct buf *err)
{
	struct strvec names = STRVEC_INIT;
	if (cas__expand(paths, cwd, &names, err) < 0)
		return -1;
	if (!names.nr) {
		strvec_clear(&names);
		return KILN_ENOENT;
	}
	struct buf tmp = BUF_INIT, man = BUF_INIT, scratch = BUF_INIT;
	buf_addf(&tmp, "%s/blobs/.tmp-XXXXXX", c->dir);
	struct wctx w = { .fd = mkostemp(tmp.buf, O_CLOEXEC) };
	int r = -1;
	struct archive *a = NULL;
	struct archive_entry *e = archive_entry_new();
	char *io = xmalloc(IO_CHUNK);
	if (w.fd < 0) {
		buf_addf(err, "cannot create a blob in '%s/blobs': %s", c->dir, strerror(errno));
		goto out;
	}
	crypto_generichash_init(&w.h, NULL, 0, 32);
	cas__pipe_init(&w.pipe);
	if (!(a = new_writer(&w, err)))
		goto out;
	if (pthread_create(&w.thread, NULL, compressor, &w)) {
		buf_addstr(err, "cannot start the cache compressor thread");
		goto out;
	}
	w.started = 1;
	size_t nf = 0;
	for (size_t i = 0; i < names.nr; i++) {
		size_t before = man.len;
		if (add_member(a, e, cwd, names.v[i], io, &man, &scratch, err) < 0)
			goto out;
		nf += man.len != before;
	}
	int closed = archive_write_close(a) == ARCHIVE_OK;
	cas__pipe_close(&w.pipe);
	pthread_join(w.thread, NULL);
	w.started = 0;
	if (!closed || w.err) {
		buf_addf(err, "cannot write blob: %s", w.err ? strerror(w.err) : archive_error_string(a));
		goto out;
	}
	if (!(flags & CAS_PACK_NOSYNC) && fsync(w.fd) < 0) {
		buf_addf(err, "cannot write blob: %s", strerror(errno));
		goto out;
	}
	unsigned char h[32];
	crypto_generichash_final(&w.h, h, sizeof(h));
	hex(h, sizeof(h), blob);
	if (publish(c, tmp.buf, blob, &man, flags, err) < 0)
		goto out;
	*size = w.n;
	if (nfiles)
		*nfiles = nf;
	r = 0;
out:
	if (w.started) { /* an error: stop the compressor before libarchive flushes */
		cas__pipe_abort(&w.pipe);
		pthread_join(w.thread, NULL);
	}
	if (a)
		archive_write_free(a);
	if (w.fd >= 0)
		cas__pipe_free(&w.pipe);
	ZSTD_freeCCtx(w.z);
	free(w.zbuf);
	archive_entry_free(e);
	if (w.fd >= 0)
		close(w.fd);
	if (r)
		unlink(tmp.buf);
	free(io);
	strvec_clear(&names);
	buf_release(&tmp);
	buf_release(&man);
	buf_release(&scratch);
	return r;
}
