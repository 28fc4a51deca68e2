/* sql: the back-end-neutral database interface and its helpers (see sql.h). */
#include "base/kiln.h"
#include "store/db.h"
#include "store/sqlimpl.h"

#include <stdarg.h>

enum db_dialect db_dialect(const struct db *db)
{
	return db->ops->dialect;
}

const char *db_name(const struct db *db)
{
	return db->ops->name;
}

const char *db_errmsg(struct db *db)
{
	return db->ops->errmsg(db);
}

int db_errcode(struct db *db)
{
	return db->ops->errcode(db);
}

int db_changes(struct db *db)
{
	return db->ops->changes(db);
}

unsigned db_losses(struct db *db)
{
	return db->losses;
}

int db_prepare(struct db *db, const char *sql, struct dbstmt **out)
{
	*out = NULL;
	return db->ops->prepare(db, sql, 0, out);
}

int db_prepare_cached(struct db *db, const char *sql, struct dbstmt **out)
{
	*out = NULL;
	return db->ops->prepare(db, sql, 1, out);
}

int dbs_step(struct dbstmt *st)
{
	return st->db->ops->step(st);
}

int dbs_step_id(struct dbstmt *st, int64_t *id)
{
	*id = 0;
	int rc = dbs_step(st);
	if (rc == DB_ROW)
		*id = dbs_col_i64(st, 0);
	while (rc == DB_ROW)
		rc = dbs_step(st);
	return rc;
}

int dbs_reset(struct dbstmt *st)
{
	st->db->ops->reset(st);
	return DB_OK;
}

void dbs_finalize(struct dbstmt *st)
{
	if (st)
		st->db->ops->finalize(st);
}

int dbs_param_count(struct dbstmt *st)
{
	return st->db->ops->param_count(st);
}

void dbs_bind_i64(struct dbstmt *st, int i, int64_t v)
{
	st->db->ops->bind(st, i, DB_BIND_I64, v, NULL, 0);
}

void dbs_bind_text(struct dbstmt *st, int i, const char *s)
{
	if (s)
		st->db->ops->bind(st, i, DB_BIND_TEXT, 0, s, strlen(s));
	else
		dbs_bind_null(st, i);
}

void dbs_bind_textn(struct dbstmt *st, int i, const char *s, size_t n)
{
	st->db->ops->bind(st, i, DB_BIND_TEXT, 0, s, n);
}

void dbs_bind_blob(struct dbstmt *st, int i, const void *p, size_t n)
{
	st->db->ops->bind(st, i, DB_BIND_BLOB, 0, p ? p : "", n);
}

void dbs_bind_null(struct dbstmt *st, int i)
{
	st->db->ops->bind(st, i, DB_BIND_NULL, 0, NULL, 0);
}

int64_t dbs_col_i64(struct dbstmt *st, int i)
{
	return st->db->ops->col_i64(st, i);
}

int dbs_col_int(struct dbstmt *st, int i)
{
	return (int)st->db->ops->col_i64(st, i);
}

const char *dbs_col_text(struct dbstmt *st, int i)
{
	return st->db->ops->col_text(st, i);
}

const void *dbs_col_blob(struct dbstmt *st, int i)
{
	size_t n;
	return st->db->ops->col_blob(st, i, &n);
}

size_t dbs_col_bytes(struct dbstmt *st, int i)
{
	size_t n = 0;
	st->db->ops->col_blob(st, i, &n);
	return n;
}

int dbs_col_null(struct dbstmt *st, int i)
{
	return st->db->ops->col_null(st, i);
}

int sql_fail(struct db *db, struct buf *err, const char *what)
{
	buf_addf(err, "%s: %s: %s", db->ops->name, what, db_errmsg(db));
	return -1;
}

int sql_rows(struct db *db, struct dbstmt *st, struct buf *err, const char *what, size_t size,
	     void (*read)(struct dbstmt *st, void *element), void **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	char *rows = NULL;
	size_t alloc = 0;
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW) {
		ALLOC_GROW(rows, (*n + 1) * size, alloc); /* in bytes: rows is a char * */
		read(st, rows + (*n)++ * size);
	}
	if (rc != DB_DONE) {
		sql_fail(db, err, what);
		dbs_finalize(st);
		free(rows);
		*n = 0;
		return -1;
	}
	dbs_finalize(st);
	*out = rows;
	return 0;
}

static void bind_all(struct dbstmt *st, const char *types, va_list ap)
{
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
			dbs_bind_text(st, i + 1, va_arg(ap, const char *));
		} else {
			fprintf(stderr, "BUG: sql: bad bind type '%c'\n", types[i]);
			abort();
		}
	}
}

int sql_one_i64(struct db *db, struct dbstmt *st, struct buf *err, const char *what, int64_t *out)
{
	if (!st)
		return -1;
	int rc = dbs_step(st), r = 0;
	if (rc == DB_ROW) {
		*out = dbs_col_i64(st, 0);
		r = 1;
	} else if (rc != DB_DONE) {
		r = sql_fail(db, err, what);
	}
	dbs_finalize(st);
	return r;
}

struct dbstmt *sql_prep(struct db *db, struct buf *err, const char *what, const char *sql,
			const char *types, ...)
{
	struct dbstmt *st = NULL;
	if (db_prepare(db, sql, &st) != DB_OK) {
		sql_fail(db, err, what);
		return NULL;
	}
	va_list ap;
	va_start(ap, types);
	bind_all(st, types, ap);
	va_end(ap);
	return st;
}

int sql_run(struct db *db, struct buf *err, const char *what, const char *sql, const char *types,
	    ...)
{
	struct dbstmt *st = NULL;
	if (db_prepare(db, sql, &st) != DB_OK)
		return sql_fail(db, err, what);
	va_list ap;
	va_start(ap, types);
	bind_all(st, types, ap);
	va_end(ap);
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW)
		;
	if (rc != DB_DONE) {
		sql_fail(db, err, what);
		dbs_finalize(st);
		return -1;
	}
	dbs_finalize(st);
	return db_changes(db);
}

void sql_col_text(struct dbstmt *st, int i, char *out, size_t n)
{
	const char *s = dbs_col_text(st, i);
	snprintf(out, n, "%s", s ? s : "");
}

char *sql_col_strdup(struct dbstmt *st, int i)
{
	const char *s = dbs_col_text(st, i);
	return s ? xstrdup(s) : NULL;
}

int sql_begin(struct db *db, struct buf *err)
{
	return db->ops->begin(db) == DB_OK ? 0 : sql_fail(db, err, "cannot begin a transaction");
}

int sql_commit(struct db *db, struct buf *err)
{
	if (db->ops->exec(db, "COMMIT") == DB_OK)
		return 0;
	sql_fail(db, err, "cannot commit");
	sql_rollback(db);
	return -1;
}

void sql_rollback(struct db *db)
{
	db->ops->exec(db, "ROLLBACK");
	free(db->tx_savepoint);
	db->tx_savepoint = NULL;
}

int db_duty(struct db *db, int64_t key)
{
	if (db->ops->dialect != DB_POSTGRES)
		return 1;
	/* held already (granted to this backend), else try: never stacked */
	struct dbstmt *st;
	if (db_prepare(db,
		       "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
		       " AND pid = pg_backend_pid() AND granted AND classid = 0 AND objid = ?1"
		       " AND objsubid = 1) THEN true ELSE pg_try_advisory_lock(?1) END",
		       &st) != DB_OK)
		return -1;
	dbs_bind_i64(st, 1, key);
	int rc = dbs_step(st);
	int held = rc == DB_ROW ? (int)dbs_col_i64(st, 0) : -1;
	dbs_finalize(st);
	return held;
}

static int sp_exec(struct db *db, const char *verb, const char *name, struct buf *err)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "%s %s", verb, name);
	if (db->ops->exec(db, sql) == DB_OK)
		return 0;
	if (err)
		sql_fail(db, err, verb);
	return -1;
}

/* PostgreSQL has no savepoint outside a transaction: begin one, ended
 * by the release of that savepoint (as SQLite does by itself) */
int sql_savepoint(struct db *db, const char *name, struct buf *err)
{
	if (db->ops->dialect == DB_POSTGRES && !db->ops->in_tx(db)) {
		if (db->ops->exec(db, "BEGIN") != DB_OK)
			return sql_fail(db, err, "cannot begin a transaction");
		free(db->tx_savepoint);
		db->tx_savepoint = xstrdup(name);
	}
	return sp_exec(db, "SAVEPOINT", name, err);
}

int sql_release(struct db *db, const char *name, struct buf *err)
{
	if (db->tx_savepoint && !strcmp(db->tx_savepoint, name)) {
		free(db->tx_savepoint);
		db->tx_savepoint = NULL;
		if (db->ops->exec(db, "COMMIT") == DB_OK)
			return 0;
		sql_fail(db, err, "cannot commit");
		db->ops->exec(db, "ROLLBACK");
		return -1;
	}
	return sp_exec(db, "RELEASE", name, err);
}

void sql_rollback_to(struct db *db, const char *name)
{
	sp_exec(db, "ROLLBACK TO", name, NULL);
}
