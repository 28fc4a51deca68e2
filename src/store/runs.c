/* runs: recording and reading run history (see runs.h). */
#include "base/kiln.h"
#include "store/db.h"
#include "store/owner.h"
#include "store/runs.h"
#include "store/sql.h"

#include <time.h>
#include <zstd.h>

int64_t runs_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(struct db *db, struct buf *err, const char *what)
{
	return db_fail(db, err, what);
}

/*
 * Run one statement kept prepared on the connection (db_prepare_cached):
 * the recorder runs the same few statements for every job and step, and
 * preparing them anew was most of its cost. Binds: 'i' int64, 'I' int64
 * (NULL when <= 0), 't' text, 'b' blob (ptr, len). With nret > 0, the
 * first row's first nret columns (an INSERT's RETURNING) go to ret.
 */
static int run_cached(struct db *db, const char *sql, const char *what, struct buf *err,
		      int64_t *ret, int nret, const char *types, va_list ap)
{
	struct dbstmt *st;
	if (db_prepare_cached(db, sql, &st) != DB_OK)
		return fail(db, err, what);
	for (int i = 0; types[i]; i++) {
		if (types[i] == 'i') {
			dbs_bind_i64(st, i + 1, va_arg(ap, int64_t));
		} else if (types[i] == 'I') {
			int64_t v = va_arg(ap, int64_t);
			if (v > 0)
				dbs_bind_i64(st, i + 1, v);
			else
				dbs_bind_null(st, i + 1);
		} else if (types[i] == 't') {
			const char *s = va_arg(ap, const char *);
			dbs_bind_text(st, i + 1, s ? s : "");
		} else {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			dbs_bind_blob(st, i + 1, p, n);
		}
	}
	int rc = dbs_step(st);
	if (rc == DB_ROW)
		for (int i = 0; i < nret; i++)
			ret[i] = dbs_col_i64(st, i);
	while (rc == DB_ROW)
		rc = dbs_step(st);
	if (rc != DB_DONE || (nret && !ret[0])) {
		if (rc == DB_DONE)
			buf_addf(err, "%s: no row returned", what);
		else
			fail(db, err, what);
		dbs_reset(st);
		return -1;
	}
	dbs_reset(st);
	return 0;
}

static int exec_stmt(struct db *db, const char *sql, const char *what, struct buf *err,
		     const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	int r = run_cached(db, sql, what, err, NULL, 0, types, ap);
	va_end(ap);
	return r;
}

/* a statement with RETURNING: its first row's first nret columns into ret */
static int returning_stmt(struct db *db, const char *sql, const char *what, struct buf *err,
			  int64_t *ret, int nret, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	for (int i = 0; i < nret; i++)
		ret[i] = 0;
	int r = run_cached(db, sql, what, err, ret, nret, types, ap);
	va_end(ap);
	return r;
}

int runs_start(struct db *db, const struct run_info *ri, int64_t *run_id, int *number, struct buf *err)
{
	struct owner me;
	owner_self(&me);
	/* one INSERT ... SELECT: the writer lock makes the number race-free */
	int64_t ret[2];
	if (returning_stmt(db,
			   "INSERT INTO runs (workflow, name, number, event, ref, sha, status, started_at,"
			   " repo, owner_host, owner_boot, owner_pid, owner_start, repo_name, event_id,"
			   " attempt) "
			   "SELECT ?1, ?2, COALESCE(MAX(number), 0) + 1, ?3, ?4, ?5, 'in_progress', ?6, ?7,"
			   " ?8, ?9, ?10, ?11, ?12, ?13, ?14 FROM runs WHERE workflow = ?1"
			   " RETURNING id, number",
			   "cannot record run", err, ret, 2, "tttttitttiitIi", ri->workflow,
			   ri->name ? ri->name : ri->workflow, ri->event, ri->ref, ri->sha, runs_now_ms(),
			   ri->repo, me.host, me.boot, me.pid, me.start, ri->repo_name ? ri->repo_name : "",
			   ri->event_id, (int64_t)(ri->attempt > 0 ? ri->attempt : 1)) < 0)
		return -1;
	*run_id = ret[0];
	*number = (int)ret[1];
	return 0;
}

int runs_finish(struct db *db, int64_t run_id, const char *conclusion, const char *reason,
		struct buf *err)
{
	return exec_stmt(db,
			 "UPDATE runs SET status = 'completed', conclusion = ?2, finished_at = ?3, "
			 "reason = NULLIF(?4, '') WHERE id = ?1 AND status <> 'completed'",
			 "cannot record run end", err, "itit", run_id, conclusion, runs_now_ms(), reason);
}

int runs_job_start(struct db *db, int64_t run_id, const char *name, int64_t *job_id, struct buf *err)
{
	return returning_stmt(db,
			      "INSERT INTO jobs (run_id, name, status, started_at)"
			      " VALUES (?1, ?2, 'in_progress', ?3) RETURNING id",
			      "cannot record job", err, job_id, 1, "iti", run_id, name, runs_now_ms());
}

int runs_job_finish(struct db *db, int64_t job_id, const char *conclusion, struct buf *err)
{
	return exec_stmt(db,
			 "UPDATE jobs SET status = 'completed', conclusion = ?2, finished_at = ?3 "
			 "WHERE id = ?1 AND status <> 'completed'",
			 "cannot record job end", err, "iti", job_id, conclusion, runs_now_ms());
}

int runs_job_summary(struct db *db, int64_t job_id, const char *markdown, struct buf *err)
{
	return exec_stmt(db, "UPDATE jobs SET summary = ?2 WHERE id = ?1", "cannot record job summary",
			 err, "it", job_id, markdown);
}

int runs_job_set_status(struct db *db, int64_t job_id, const char *status, struct buf *err)
{
	return exec_stmt(db, "UPDATE jobs SET status = ?2 WHERE id = ?1 AND conclusion IS NULL",
			 "cannot record job status", err, "it", job_id, status);
}

int runs_step_start(struct db *db, int64_t job_id, int number, const char *name, int64_t *step_id,
		    struct buf *err)
{
	return returning_stmt(db,
			      "INSERT INTO steps (job_id, number, name, status, started_at) "
			      "VALUES (?1, ?2, ?3, 'in_progress', ?4) RETURNING id",
			      "cannot record step", err, step_id, 1, "iiti", job_id, (int64_t)number, name,
			      runs_now_ms());
}

int runs_step_finish(struct db *db, int64_t step_id, const char *conclusion, struct buf *err)
{
	return exec_stmt(db,
			 "UPDATE steps SET status = 'completed', conclusion = ?2, finished_at = ?3 "
			 "WHERE id = ?1 AND status <> 'completed'",
			 "cannot record step end", err, "iti", step_id, conclusion, runs_now_ms());
}

/* ---- line times: varints, the first absolute, then deltas ---- */

static void varint_add(struct buf *out, uint64_t v)
{
	while (v >= 0x80) {
		buf_addch(out, (char)(0x80 | (v & 0x7f)));
		v >>= 7;
	}
	buf_addch(out, (char)v);
}

static void times_encode(const int64_t *t, size_t n, struct buf *out)
{
	int64_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		/* a clock stepping back reads as "the same time" */
		int64_t v = i && t[i] < prev ? prev : t[i];
		varint_add(out, (uint64_t)(i ? v - prev : v));
		prev = v;
	}
}

static void times_push(struct runs_times *t, int64_t v)
{
	ALLOC_GROW(t->at, t->nr + 1, t->alloc);
	t->at[t->nr++] = v;
}

/* append the times of one encoded piece; -1 when it is corrupt */
static int times_decode(const unsigned char *p, size_t n, struct runs_times *t)
{
	int64_t prev = 0;
	size_t i = 0;
	for (int first = 1; i < n; first = 0) {
		uint64_t v = 0;
		int shift = 0;
		do {
			if (i >= n || shift > 63)
				return -1;
			v |= (uint64_t)(p[i] & 0x7f) << shift;
			shift += 7;
		} while (p[i++] & 0x80);
		prev = first ? (int64_t)v : prev + (int64_t)v;
		times_push(t, prev);
	}
	return 0;
}

void runs_times_release(struct runs_times *t)
{
	free(t->at);
	t->at = NULL;
	t->nr = t->alloc = 0;
}

static int compress_into(ZSTD_CCtx *zc, const void *data, size_t len, struct buf *out,
			 struct buf *err)
{
	size_t cap = ZSTD_compressBound(len);
	buf_grow(out, cap);
	size_t zn = zc ? ZSTD_compressCCtx(zc, out->buf + out->len, cap, data, len, 3)
		       : ZSTD_compress(out->buf + out->len, cap, data, len, 3);
	if (ZSTD_isError(zn)) {
		buf_addf(err, "cannot compress log: %s", ZSTD_getErrorName(zn));
		return -1;
	}
	buf_setlen(out, out->len + zn);
	return 0;
}

/* one compressed chunk, with the times of the lines that start in it
 * (times NULL: unknown, stored as NULL) */
static int store_chunk(struct db *db, ZSTD_CCtx *zc, int64_t job_id, const char *data, size_t len,
		       const int64_t *times, size_t ntimes, struct buf *err)
{
	struct buf z = BUF_INIT, tv = BUF_INIT, tz = BUF_INIT;
	int r = -1;
	times_encode(times, ntimes, &tv);
	if (compress_into(zc, data, len, &z, err) < 0 ||
	    (times && compress_into(zc, tv.buf, tv.len, &tz, err) < 0))
		goto out;
	r = exec_stmt(db,
		      "INSERT INTO logs (job_id, seq, raw_len, data, times) "
		      "SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4 FROM logs WHERE job_id = ?1",
		      "cannot store log", err, "iibb", job_id, (int64_t)len, (const void *)z.buf, z.len,
		      (const void *)(times ? tz.buf : NULL), tz.len);
out:
	buf_release(&z);
	buf_release(&tv);
	buf_release(&tz);
	return r;
}

int runs_log_append(struct db *db, int64_t job_id, const char *data, size_t len, struct buf *err)
{
	return len ? store_chunk(db, NULL, job_id, data, len, NULL, 0, err) : 0;
}

void runs_log_init(struct runs_log *l, struct db *db, int64_t job_id)
{
	memset(l, 0, sizeof(*l));
	l->db = db;
	l->job_id = job_id;
	l->line_start = 1;
	buf_init(&l->pending, 0);
}

void runs_log_set_zctx(struct runs_log *l, ZSTD_CCtx *zc)
{
	l->zc = zc;
}

int runs_log_write(struct runs_log *l, const char *data, size_t len, struct buf *err)
{
	/* every line that starts in data was written now */
	int64_t now = runs_now_ms();
	for (const char *p = data, *end = data + len; p < end;) {
		if (l->line_start) {
			ALLOC_GROW(l->times, l->ntimes + 1, l->atimes);
			l->times[l->ntimes++] = now;
			l->line_start = 0;
		}
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		l->line_start = 1;
		p = nl + 1;
	}
	buf_add(&l->pending, data, len);
	if (l->pending.len >= RUNS_LOG_CHUNK)
		return runs_log_flush(l, err);
	return 0;
}

int runs_log_dirty(const struct runs_log *l)
{
	return l->pending.len > l->synced;
}

int runs_log_sync(struct runs_log *l, struct buf *err)
{
	if (!runs_log_dirty(l))
		return 0;
	struct buf tv = BUF_INIT;
	times_encode(l->times + l->times_synced, l->ntimes - l->times_synced, &tv);
	int r = exec_stmt(l->db,
			  "INSERT INTO log_tail (job_id, seq, data, times) "
			  "SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3 FROM log_tail WHERE job_id = ?1",
			  "cannot store log", err, "ibb", l->job_id,
			  (const void *)(l->pending.buf + l->synced), l->pending.len - l->synced,
			  (const void *)tv.buf, tv.len);
	buf_release(&tv);
	if (r < 0)
		return -1;
	l->synced = l->pending.len;
	l->times_synced = l->ntimes;
	return 0;
}

int runs_log_store(struct runs_log *l, struct buf *err)
{
	/* the chunk replaces the job's tail rows atomically (a savepoint
	 * nests in the caller's transaction, if any) */
	if (sql_savepoint(l->db, "runs_log", err) < 0)
		return -1;
	static const int64_t none[1];
	if ((l->pending.len && store_chunk(l->db, l->zc, l->job_id, l->pending.buf, l->pending.len,
					   l->ntimes ? l->times : none, l->ntimes, err) < 0) ||
	    (l->synced && exec_stmt(l->db, "DELETE FROM log_tail WHERE job_id = ?1", "cannot store log",
				    err, "i", l->job_id) < 0)) {
		sql_rollback_to(l->db, "runs_log");
		sql_release(l->db, "runs_log", NULL);
		return -1;
	}
	return sql_release(l->db, "runs_log", err);
}

int runs_log_flush(struct runs_log *l, struct buf *err)
{
	if (runs_log_store(l, err) < 0)
		return -1; /* all kept: the caller may try again */
	buf_reset(&l->pending);
	l->synced = 0;
	l->ntimes = l->times_synced = 0;
	return 0;
}

void runs_log_release(struct runs_log *l)
{
	buf_release(&l->pending);
	free(l->times);
	l->times = NULL;
	l->ntimes = l->atimes = l->times_synced = 0;
}

static void copy_col(char *dst, size_t n, struct dbstmt *st, int col)
{
	const char *s = dbs_col_text(st, col);
	snprintf(dst, n, "%s", s ? (const char *)s : "");
}

#define RUN_COLS \
	"id, workflow, name, event, ref, sha, status, conclusion, number, started_at, finished_at," \
	" repo, reason, repo_name, COALESCE(event_id, 0), attempt"

static void read_row(struct dbstmt *st, struct run_row *r)
{
	r->id = dbs_col_i64(st, 0);
	copy_col(r->workflow, sizeof(r->workflow), st, 1);
	copy_col(r->name, sizeof(r->name), st, 2);
	copy_col(r->event, sizeof(r->event), st, 3);
	copy_col(r->ref, sizeof(r->ref), st, 4);
	copy_col(r->sha, sizeof(r->sha), st, 5);
	copy_col(r->status, sizeof(r->status), st, 6);
	copy_col(r->conclusion, sizeof(r->conclusion), st, 7);
	r->number = dbs_col_int(st, 8);
	r->started_ms = dbs_col_i64(st, 9);
	r->finished_ms = dbs_col_i64(st, 10);
	copy_col(r->repo, sizeof(r->repo), st, 11);
	copy_col(r->reason, sizeof(r->reason), st, 12);
	copy_col(r->repo_name, sizeof(r->repo_name), st, 13);
	r->event_id = dbs_col_i64(st, 14);
	r->attempt = dbs_col_int(st, 15);
}

int runs_list(struct db *db, const char *workflow, const char *repo, int limit, struct run_row **out,
	      size_t *n, struct buf *err)
{
	struct dbstmt *st;
	*out = NULL;
	*n = 0;
	if (db_prepare(db,
			       "SELECT " RUN_COLS " FROM runs WHERE (?1 IS NULL OR workflow = ?1 OR name = ?1) "
			       "AND (?3 IS NULL OR repo = ?3) ORDER BY id DESC LIMIT ?2", &st) != DB_OK)
		return fail(db, err, "cannot list runs");
	if (workflow)
		dbs_bind_text(st, 1, workflow);
	dbs_bind_i64(st, 2, limit > 0 ? limit : INT64_MAX); /* no LIMIT -1 (PostgreSQL) */
	if (repo)
		dbs_bind_text(st, 3, repo);
	size_t alloc = 0;
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW) {
		ALLOC_GROW(*out, *n + 1, alloc);
		read_row(st, &(*out)[(*n)++]);
	}
	dbs_finalize(st);
	if (rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return fail(db, err, "cannot list runs");
	}
	return 0;
}

int runs_find(struct db *db, const char *spec, struct run_row *out, struct buf *err)
{
	struct dbstmt *st;
	const char *hash = strrchr(spec, '#');
	char *end;
	long long num = strtoll(hash ? hash + 1 : spec, &end, 10);
	if (*end || end == (hash ? hash + 1 : spec) || num <= 0) {
		buf_addf(err, "bad run '%s': expected a run id or WORKFLOW#NUMBER", spec);
		return -1;
	}
	const char *sql = hash ? "SELECT " RUN_COLS " FROM runs WHERE number = ?1 AND (workflow = ?2 "
				 "OR name = ?2 OR workflow LIKE '%/' || ?2 || '.yml' "
				 "OR workflow LIKE '%/' || ?2 || '.yaml' OR workflow LIKE '%/' || ?2) "
				 "ORDER BY id DESC LIMIT 1"
			       : "SELECT " RUN_COLS " FROM runs WHERE id = ?1";
	if (db_prepare(db, sql, &st) != DB_OK)
		return fail(db, err, "cannot find run");
	dbs_bind_i64(st, 1, num);
	if (hash)
		dbs_bind_textn(st, 2, spec, (size_t)(hash - spec));
	int rc = dbs_step(st);
	if (rc == DB_ROW)
		read_row(st, out);
	dbs_finalize(st);
	if (rc == DB_ROW)
		return 0;
	if (rc == DB_DONE)
		return KILN_ENOENT;
	return fail(db, err, "cannot find run");
}

static int decompress_into(const void *z, size_t zn, size_t raw, struct buf *out, struct buf *err)
{
	buf_grow(out, raw);
	size_t got = ZSTD_decompress(out->buf + out->len, raw, z, zn);
	if (ZSTD_isError(got) || got != raw) {
		buf_addf(err, "stored log is corrupt: %s", ZSTD_isError(got) ? ZSTD_getErrorName(got) : "bad length");
		return -1;
	}
	buf_setlen(out, out->len + raw);
	return 0;
}

/*
 * The times of one row (column col of st; compressed in a chunk) appended
 * to t; a row without times (recorded before they were kept) or a corrupt
 * one makes the whole log's times unknown (*known = 0).
 */
static void row_times(struct dbstmt *st, int col, int compressed, struct runs_times *t, int *known)
{
	const void *p = dbs_col_blob(st, col);
	size_t n = (size_t)dbs_col_bytes(st, col);
	if (!t || !*known)
		return;
	if (dbs_col_null(st, col)) {
		*known = 0;
		return;
	}
	if (!compressed) {
		*known = times_decode(p, n, t) == 0;
		return;
	}
	unsigned long long raw = n ? ZSTD_getFrameContentSize(p, n) : 0;
	if (!n || raw == ZSTD_CONTENTSIZE_ERROR || raw == ZSTD_CONTENTSIZE_UNKNOWN || raw > (1u << 26)) {
		*known = 0;
		return;
	}
	unsigned char *v = xmalloc(raw ? (size_t)raw : 1);
	size_t got = ZSTD_decompress(v, (size_t)raw, p, n);
	*known = !ZSTD_isError(got) && got == raw && times_decode(v, got, t) == 0;
	free(v);
}

/* append one job's log, and its line times when t is not NULL */
static int job_log(struct db *db, int64_t job_id, struct buf *out, struct runs_times *t,
		   struct buf *err)
{
	struct dbstmt *st;
	int known = 1;
	if (db_prepare(db, "SELECT raw_len, data, times FROM logs WHERE job_id = ?1 ORDER BY seq", &st) != DB_OK)
		return fail(db, err, "cannot read logs");
	dbs_bind_i64(st, 1, job_id);
	int rc, r = 0;
	while (!r && (rc = dbs_step(st)) == DB_ROW) {
		r = decompress_into(dbs_col_blob(st, 1), (size_t)dbs_col_bytes(st, 1),
				    (size_t)dbs_col_i64(st, 0), out, err);
		row_times(st, 2, 1, t, &known);
	}
	if (!r && rc != DB_DONE)
		r = fail(db, err, "cannot read logs");
	dbs_finalize(st);
	if (r)
		return r;
	/* then the text not yet in a chunk (runs_log_sync) */
	if (db_prepare(db, "SELECT data, times FROM log_tail WHERE job_id = ?1 ORDER BY seq", &st) != DB_OK)
		return fail(db, err, "cannot read logs");
	dbs_bind_i64(st, 1, job_id);
	while ((rc = dbs_step(st)) == DB_ROW) {
		buf_add(out, dbs_col_blob(st, 0), (size_t)dbs_col_bytes(st, 0));
		row_times(st, 1, 0, t, &known);
	}
	if (rc != DB_DONE)
		r = fail(db, err, "cannot read logs");
	dbs_finalize(st);
	if (t && !known)
		t->nr = 0;
	return r;
}

int runs_read_job_log(struct db *db, int64_t job_id, struct buf *out, struct runs_times *times,
		      struct buf *err)
{
	/* one read transaction: a chunk replacing the tail rows between the
	 * two statements would otherwise be missed */
	if (db_exec(db, "BEGIN", NULL) < 0)
		return fail(db, err, "cannot read logs");
	if (times)
		times->nr = 0;
	int r = job_log(db, job_id, out, times, err);
	db_exec(db, "COMMIT", NULL);
	return r;
}

void runs_stamp_lines(const char *log, size_t len, const struct runs_times *t, struct buf *out)
{
	size_t line = 0;
	for (size_t i = 0; i < len; line++) {
		const char *nl = memchr(log + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (log + i)) + 1 : len - i;
		if (t && line < t->nr) {
			int64_t at = t->at[line];
			time_t secs = (time_t)(at / 1000);
			struct tm tm;
			char s[24];
			gmtime_r(&secs, &tm);
			strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
			buf_addf(out, "%s.%03dZ ", s, (int)(at % 1000));
		} else {
			buf_addf(out, "%24s ", "");
		}
		buf_add(out, log + i, n);
		i += n;
	}
}

int runs_read_logs(struct db *db, int64_t run_id, const char *job, struct buf *out, struct buf *err)
{
	return runs_read_logs_stamped(db, run_id, job, 0, out, err);
}

int runs_read_logs_stamped(struct db *db, int64_t run_id, const char *job, int stamped,
			   struct buf *out, struct buf *err)
{
	struct dbstmt *st;
	if (db_prepare(db,
			       "SELECT id, name, COALESCE(conclusion, status) FROM jobs WHERE run_id = ?1 "
			       "AND (?2 IS NULL OR name = ?2) ORDER BY id", &st) != DB_OK)
		return fail(db, err, "cannot read jobs");
	dbs_bind_i64(st, 1, run_id);
	if (job)
		dbs_bind_text(st, 2, job);
	int rc, r = 0, found = 0;
	while (!r && (rc = dbs_step(st)) == DB_ROW) {
		found++;
		if (!job)
			buf_addf(out, "== job %s (%s)\n", dbs_col_text(st, 1),
				 dbs_col_text(st, 2));
		if (stamped) {
			struct buf log = BUF_INIT;
			struct runs_times t = RUNS_TIMES_INIT;
			r = job_log(db, dbs_col_i64(st, 0), &log, &t, err);
			if (!r)
				runs_stamp_lines(log.buf, log.len, &t, out);
			runs_times_release(&t);
			buf_release(&log);
		} else {
			r = job_log(db, dbs_col_i64(st, 0), out, NULL, err);
		}
		if (!job && out->len && out->buf[out->len - 1] != '\n')
			buf_addch(out, '\n');
	}
	if (!r && rc != DB_DONE)
		r = fail(db, err, "cannot read jobs");
	dbs_finalize(st);
	if (!r && job && !found)
		return KILN_ENOENT;
	return r;
}

int runs_event_cancelled(struct db *db, int64_t event_id, struct buf *reason, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot read the event's runs",
				    "SELECT COUNT(*), CAST(SUM(CASE WHEN conclusion = 'cancelled' THEN 1 ELSE 0 END) AS BIGINT),"
				    " MIN(CASE WHEN reason <> '' THEN reason END) FROM runs WHERE event_id = ?1",
				    "i", event_id);
	if (!st)
		return -1;
	int rc = dbs_step(st), r = 0;
	if (rc == DB_ROW) {
		int64_t n = dbs_col_i64(st, 0), c = dbs_col_i64(st, 1);
		r = n > 0 && n == c;
		if (r && dbs_col_text(st, 2))
			buf_addstr(reason, dbs_col_text(st, 2));
	}
	dbs_finalize(st);
	return rc == DB_ROW ? r : sql_fail(db, err, "cannot read the event's runs");
}

int runs_job_outputs(struct db *db, int64_t job_id, const char *json, struct buf *err)
{
	return sql_run(db, err, "cannot record job outputs",
		       "UPDATE jobs SET outputs = ?2 WHERE id = ?1", "it", job_id, json) < 0 ? -1 : 0;
}

static void read_prior(struct dbstmt *st, void *el)
{
	struct runs_prior_job *j = el;
	j->name = sql_col_strdup(st, 0);
	j->conclusion = xstrdup(dbs_col_text(st, 1) ? dbs_col_text(st, 1) : "");
	j->outputs = sql_col_strdup(st, 2);
	if (!j->name)
		j->name = xstrdup("");
}

int runs_prior_jobs(struct db *db, int64_t run_id, struct runs_prior_job **out, size_t *n,
		    struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot read the run's jobs",
				     "SELECT name, conclusion, outputs FROM jobs WHERE run_id = ?1"
				     " ORDER BY id", "i", run_id);
	return sql_rows(db, st, err, "cannot read the run's jobs", sizeof(**out), read_prior,
			(void **)out, n);
}

void runs_prior_jobs_free(struct runs_prior_job *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].conclusion);
		free(v[i].outputs);
	}
	free(v);
}
