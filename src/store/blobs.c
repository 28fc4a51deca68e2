/* blobs: content-addressed files in the store, shared by replicas (see blobs.h). */
#include "base/kiln.h"
#include "base/fs.h"
#include "store/blobs.h"
#include "store/runs.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

int blobs_stat(struct db *db, const char *digest, int64_t *size, struct buf *err)
{
	const char *what = "cannot read the blob store";
	return sql_one_i64(db, sql_prep(db, err, what, "SELECT size FROM blobs WHERE digest = ?1", "t",
					digest),
			   err, what, size);
}

int blobs_add_chunk(struct db *db, const char *digest, int64_t offset, const void *p, size_t n,
		    struct buf *err)
{
	struct dbstmt *st = NULL;
	/* the same chunk again (another uploader) only proves it is recent:
	 * the sweep takes old chunks of incomplete blobs */
	if (db_prepare(db, "INSERT INTO blob_chunks (digest, seq, size, data, created_at)"
			   " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (digest, seq)"
			   " DO UPDATE SET created_at = excluded.created_at", &st) != DB_OK)
		return sql_fail(db, err, "cannot store a blob chunk");
	dbs_bind_text(st, 1, digest);
	dbs_bind_i64(st, 2, offset);
	dbs_bind_i64(st, 3, (int64_t)n);
	dbs_bind_blob(st, 4, p, n);
	dbs_bind_i64(st, 5, runs_now_ms());
	int rc = dbs_step(st);
	dbs_finalize(st);
	return rc == DB_DONE ? 0 : sql_fail(db, err, "cannot store a blob chunk");
}

/* the row that makes a blob complete (its use renewed when it exists) */
static int add_row(struct db *db, const char *digest, const char *kind, int64_t size,
		   struct buf *err)
{
	return sql_run(db, err, "cannot store a blob",
		       "INSERT INTO blobs (digest, kind, size, created_at, used_at)"
		       " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (digest)"
		       " DO UPDATE SET used_at = excluded.used_at",
		       "ttii", digest, kind, size, runs_now_ms()) < 0 ? -1 : 0;
}

static void hex_digest(crypto_generichash_state *h, char out[65])
{
	unsigned char d[32];
	crypto_generichash_final(h, d, sizeof(d));
	sodium_bin2hex(out, 65, d, sizeof(d));
}

int blobs_put_file(struct db *db, const char *digest, const char *kind, const char *path,
		   struct buf *err)
{
	int64_t size = 0;
	int have = blobs_stat(db, digest, &size, err);
	if (have)
		return have < 0 ? -1 : add_row(db, digest, kind, size, err);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return buf_addf(err, "cannot read '%s': %s", path, strerror(errno)), -1;
	unsigned char *chunk = xmalloc(BLOB_CHUNK);
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 32);
	int rc = 0;
	for (;;) {
		size_t n = 0;
		while (n < BLOB_CHUNK) {
			ssize_t r = read(fd, chunk + n, BLOB_CHUNK - n);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				buf_addf(err, "cannot read '%s': %s", path, strerror(errno));
				rc = -1;
				goto out;
			}
			if (r == 0)
				break;
			n += (size_t)r;
		}
		if (!n && size)
			break;
		crypto_generichash_update(&h, chunk, n);
		if (blobs_add_chunk(db, digest, size, chunk, n, err)) {
			rc = -1;
			goto out;
		}
		size += (int64_t)n;
		if (n < BLOB_CHUNK)
			break;
	}
	char got[65];
	hex_digest(&h, got);
	if (strcmp(got, digest)) {
		buf_addf(err, "'%s' is not blob %s (it changed?)", path, digest);
		rc = -1;
	} else {
		rc = add_row(db, digest, kind, size, err);
	}
out:
	free(chunk);
	close(fd);
	return rc;
}

int blobs_part_size(struct db *db, const char *digest, int64_t *size, struct buf *err)
{
	int have = blobs_stat(db, digest, size, err);
	if (have)
		return have < 0 ? -1 : 0;
	/* chunks are only added at the part size: contiguous from 0 */
	struct dbstmt *st = sql_prep(db, err, "cannot read the blob store",
				     "SELECT COALESCE(MAX(seq + size), 0) FROM blob_chunks"
				     " WHERE digest = ?1", "t", digest);
	if (!st)
		return -1;
	int rc = dbs_step(st);
	*size = rc == DB_ROW ? dbs_col_i64(st, 0) : 0;
	dbs_finalize(st);
	return rc == DB_ROW ? 0 : sql_fail(db, err, "cannot read the blob store");
}

struct span {
	int64_t seq, size;
};

static void read_span(struct dbstmt *st, void *p)
{
	struct span *s = p;
	s->seq = dbs_col_i64(st, 0);
	s->size = dbs_col_i64(st, 1);
}

/*
 * Call fn with the blob's bytes in order, a chunk at a time (one query
 * each: a large blob is never in memory whole). Overlapping chunks (two
 * uploaders cutting differently) give their new bytes only. 0, KILN_ENOENT
 * (a gap: the blob is incomplete), -1 with err, or fn's non-zero result.
 */
static int each_chunk(struct db *db, const char *digest,
		      int (*fn)(const unsigned char *p, size_t n, void *arg), void *arg,
		      int64_t *total, struct buf *err)
{
	struct span *v = NULL;
	size_t n = 0;
	struct dbstmt *st = sql_prep(db, err, "cannot read the blob store",
				     "SELECT seq, size FROM blob_chunks WHERE digest = ?1 ORDER BY seq",
				     "t", digest);
	if (sql_rows(db, st, err, "cannot read the blob store", sizeof(*v), read_span, (void **)&v,
		     &n))
		return -1;
	int64_t pos = 0;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (v[i].seq + v[i].size <= pos)
			continue;
		if (v[i].seq > pos) {
			rc = KILN_ENOENT;
			break;
		}
		st = sql_prep(db, err, "cannot read a blob chunk",
			      "SELECT data FROM blob_chunks WHERE digest = ?1 AND seq = ?2", "ti",
			      digest, v[i].seq);
		if (!st) {
			rc = -1;
			break;
		}
		if (dbs_step(st) != DB_ROW) {
			rc = sql_fail(db, err, "cannot read a blob chunk");
		} else {
			size_t len = dbs_col_bytes(st, 0);
			const unsigned char *p = dbs_col_blob(st, 0);
			size_t skip = (size_t)(pos - v[i].seq);
			if (len != (size_t)v[i].size || !p) {
				buf_addf(err, "blob %s: a chunk has the wrong size", digest);
				rc = -1;
			} else {
				rc = fn(p + skip, len - skip, arg);
				pos += (int64_t)(len - skip);
			}
		}
		dbs_finalize(st);
	}
	free(v);
	if (total)
		*total = pos;
	return rc;
}

static int hash_fn(const unsigned char *p, size_t n, void *arg)
{
	crypto_generichash_update(arg, p, n);
	return 0;
}

int blobs_seal(struct db *db, const char *digest, const char *kind, struct buf *err)
{
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 32);
	int64_t size = 0;
	int rc = each_chunk(db, digest, hash_fn, &h, &size, err);
	if (rc < 0 && rc != KILN_ENOENT)
		return -1;
	char got[65];
	hex_digest(&h, got);
	if (rc == 0 && !strcmp(got, digest))
		return add_row(db, digest, kind, size, err);
	/* not the blob it claims to be: start again from nothing */
	if (sql_run(db, err, "cannot drop a blob upload",
		    "DELETE FROM blob_chunks WHERE digest = ?1 AND NOT EXISTS"
		    " (SELECT 1 FROM blobs b WHERE b.digest = ?1)", "t", digest) < 0)
		return -1;
	return 1;
}

/* a read must find a complete blob whose chunks add up to its size */
static int read_checked(struct db *db, const char *digest,
			int (*fn)(const unsigned char *p, size_t n, void *arg), void *arg,
			struct buf *err)
{
	int64_t size = 0, got = 0;
	int have = blobs_stat(db, digest, &size, err);
	if (have <= 0)
		return have < 0 ? -1 : KILN_ENOENT;
	int rc = each_chunk(db, digest, fn, arg, &got, err);
	if (rc == 0 && got != size)
		rc = KILN_ENOENT;
	if (rc == KILN_ENOENT)
		buf_addf(err, "blob %s is incomplete in the store", digest);
	return rc;
}

static int append_fn(const unsigned char *p, size_t n, void *arg)
{
	buf_add(arg, p, n);
	return 0;
}

int blobs_read(struct db *db, const char *digest, struct buf *out, struct buf *err)
{
	return read_checked(db, digest, append_fn, out, err);
}

static int write_fn(const unsigned char *p, size_t n, void *arg)
{
	return fs_write_all(*(int *)arg, p, n) < 0 ? KILN_EIO : 0;
}

int blobs_write_fd(struct db *db, const char *digest, int fd, struct buf *err)
{
	int rc = read_checked(db, digest, write_fn, &fd, err);
	if (rc == KILN_EIO)
		buf_addf(err, "cannot write blob %s: %s", digest, strerror(errno));
	return rc == KILN_EIO ? -1 : rc;
}

int blobs_upload_size(struct db *db, const char *digest, int64_t run_id, int64_t *size,
		      struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot read the blob uploads",
				     "SELECT size FROM blob_uploads WHERE digest = ?1 AND run_id = ?2",
				     "ti", digest, run_id);
	if (!st)
		return -1;
	int rc = dbs_step(st);
	*size = rc == DB_ROW ? dbs_col_i64(st, 0) : 0;
	dbs_finalize(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : sql_fail(db, err, "cannot read the blob uploads");
}

int blobs_upload_note(struct db *db, const char *digest, int64_t run_id, int64_t job_id,
		      int64_t size, struct buf *err)
{
	return sql_run(db, err, "cannot record a blob upload",
		       "INSERT INTO blob_uploads (digest, run_id, job_id, size, created_at)"
		       " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (digest, run_id)"
		       " DO UPDATE SET job_id = excluded.job_id, size = excluded.size",
		       "tiiii", digest, run_id, job_id, size, runs_now_ms()) < 0 ? -1 : 0;
}

int blobs_uploaded(struct db *db, const char *digest, int64_t run_id, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot read the blob uploads",
				     "SELECT 1 FROM blob_uploads u JOIN blobs b ON b.digest = u.digest"
				     " WHERE u.digest = ?1 AND u.run_id = ?2 AND u.size = b.size",
				     "ti", digest, run_id);
	if (!st)
		return -1;
	int rc = dbs_step(st);
	dbs_finalize(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : sql_fail(db, err, "cannot read the blob uploads");
}

int blobs_range_eq(struct db *db, const char *digest, int64_t off, const void *p, size_t n,
		   struct buf *err)
{
	int64_t end = off + (int64_t)n, pos = off;
	struct dbstmt *st = sql_prep(db, err, "cannot read a blob chunk",
				     "SELECT seq, data FROM blob_chunks WHERE digest = ?1 AND seq < ?3"
				     " AND seq + size > ?2 ORDER BY seq", "tii", digest, off, end);
	if (!st)
		return -1;
	int rc, eq = 1;
	while ((rc = dbs_step(st)) == DB_ROW && eq) {
		int64_t seq = dbs_col_i64(st, 0);
		const unsigned char *d = dbs_col_blob(st, 1);
		size_t len = dbs_col_bytes(st, 1);
		/* every stored byte of the range must be the same, without gaps */
		int64_t from = seq > off ? seq : off;
		int64_t to = seq + (int64_t)len < end ? seq + (int64_t)len : end;
		if (from > pos || !d)
			eq = 0;
		else if (to > from)
			eq = !memcmp(d + (from - seq), (const unsigned char *)p + (from - off),
				     (size_t)(to - from));
		if (to > pos)
			pos = to;
	}
	if (rc != DB_ROW && rc != DB_DONE) {
		dbs_finalize(st);
		return sql_fail(db, err, "cannot read a blob chunk");
	}
	dbs_finalize(st);
	return eq && pos >= end;
}

int blobs_sweep(struct db *db, int64_t now_ms, int64_t keep_ms, int64_t *n, struct buf *err)
{
	int64_t cut = now_ms - keep_ms;
	/* whatever its kind: a digest is its content, and one blob may be a
	 * run's source, an artifact and a cache at once (the first upload
	 * named its kind) */
	int c = sql_run(db, err, "cannot sweep the blob store",
			"DELETE FROM blobs WHERE used_at < ?1 AND NOT EXISTS"
			" (SELECT 1 FROM agent_jobs j WHERE j.source = blobs.digest"
			" AND j.status <> 'done') AND NOT EXISTS"
			" (SELECT 1 FROM artifacts a WHERE a.digest = blobs.digest"
			" AND a.expired = 0 AND a.expires_at > ?2) AND NOT EXISTS"
			" (SELECT 1 FROM caches c WHERE c.digest = blobs.digest)", "ii", cut, now_ms);
	/* the chunks of what went, and of uploads abandoned (renewed by every
	 * write: an upload in progress is younger) */
	if (c < 0 || sql_run(db, err, "cannot sweep the blob store",
			     "DELETE FROM blob_chunks WHERE created_at < ?1 AND NOT EXISTS"
			     " (SELECT 1 FROM blobs b WHERE b.digest = blob_chunks.digest)",
			     "i", cut) < 0 ||
	    sql_run(db, err, "cannot sweep the blob store",
		    "DELETE FROM blob_uploads WHERE created_at < ?1 AND NOT EXISTS"
		    " (SELECT 1 FROM blob_chunks b WHERE b.digest = blob_uploads.digest)",
		    "i", cut) < 0)
		return -1;
	*n = c;
	return 0;
}
