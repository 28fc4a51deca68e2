/*
 * pg: the PostgreSQL back-end of the store interface (sql.h), through
 * libpq. A statement is its SQL with ?N rewritten to $N, run with
 * PQexecParams on the first dbs_step (text results, binary bytea
 * parameters), its rows then read from the PGresult. SQLite's behaviour
 * is kept where kiln relies on it: sql_begin takes one writer lock (a
 * transaction-scoped advisory lock), a constraint violation is
 * DB_CONSTRAINT, a lost connection is re-opened before the next statement
 * outside a transaction. See docs/internals/store.md.
 */
#include "base/kiln.h"
#include "base/util.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/pgsql.h"
#include "store/sqlimpl.h"

#include <errno.h>
#include <libpq-fe.h>
#include <time.h>

/* type oids (server/catalog/pg_type_d.h, stable since PostgreSQL 7) */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25

struct pg_param {
	char *v; /* NULL binds NULL */
	int len;
	Oid type;
	int binary;
};

struct pg_stmt {
	struct dbstmt base;
	char *src;  /* the SQL as given (the cache key) */
	char *sql;  /* rewritten for PostgreSQL */
	int nparams;
	struct pg_param *params;
	PGresult *res;
	int executed, row, nrows;
	unsigned char **blobs; /* bytea columns of the current row, decoded */
	size_t *blob_len;
	int ncols;
	int cached, in_use;
	struct pg_stmt *next;
};

struct pg {
	struct db base;
	PGconn *c;
	char *shown; /* the URL without its password */
	char err[512];
	int code;
	int changes;
	int gave_up; /* the last wait for a lost server ended without it */
	struct pg_stmt *cache;
};

#define PG(db) ((struct pg *)(db))
#define STMT(st) ((struct pg_stmt *)(st))

static char *memdupz(const void *data, size_t n)
{
	char *d = xmalloc(n + 1);
	if (n)
		memcpy(d, data, n);
	d[n] = '\0';
	return d;
}

static void set_err(struct pg *p, int code, const char *msg)
{
	p->code = code;
	snprintf(p->err, sizeof(p->err), "%s", msg ? msg : "");
	size_t n = strlen(p->err);
	while (n && (p->err[n - 1] == '\n' || p->err[n - 1] == ' '))
		p->err[--n] = '\0';
}

/* the DB_* code of a failed result, by SQLSTATE */
static int code_of(const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (!state)
		return DB_ERROR;
	if (!strncmp(state, "23", 2))
		return DB_CONSTRAINT;
	if (!strcmp(state, "55P03") || !strcmp(state, "40001") || !strcmp(state, "40P01"))
		return DB_BUSY;
	return DB_ERROR;
}

static void result_err(struct pg *p, const PGresult *r)
{
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	set_err(p, code_of(r), m ? m : PQerrorMessage(p->c));
	if (PQstatus(p->c) != CONNECTION_OK)
		p->base.losses++;
}

/*
 * A connection lost (the server restarted, a network error) is opened
 * again before the next statement when no transaction was open: nothing
 * of a transaction can be lost that way, and the server and `kiln run`
 * go on without an operator. A restart takes the server away for a
 * moment (refusing connections, then "starting up"): the statement waits
 * for it up to PG_RECONNECT_MS, trying every PG_RECONNECT_EVERY_MS, rather
 * than failing (a `kiln run` whose recorder fails a write stops recording
 * its run). Once a wait gave up, later statements try once each until a
 * connection is made again: a store that stays down does not stall every
 * statement.
 */
#define PG_RECONNECT_MS 30000
#define PG_RECONNECT_EVERY_MS 200

static void reconnect_if_lost(struct pg *p)
{
	if (PQstatus(p->c) == CONNECTION_OK)
		return;
	for (int waited = 0;; waited += PG_RECONNECT_EVERY_MS) {
		PQreset(p->c);
		if (PQstatus(p->c) == CONNECTION_OK) {
			p->gave_up = 0;
			return;
		}
		if (p->gave_up || waited >= PG_RECONNECT_MS) {
			p->gave_up = 1;
			return;
		}
		struct timespec ts = { 0, PG_RECONNECT_EVERY_MS * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

static int lost(struct pg *p)
{
	return PQstatus(p->c) != CONNECTION_OK;
}

static int pg_in_tx(struct db *db)
{
	PGTransactionStatusType s = PQtransactionStatus(PG(db)->c);
	return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

static int pg_exec(struct db *db, const char *sql)
{
	struct pg *p = PG(db);
	int idle = !pg_in_tx(db);
	for (int attempt = 0;; attempt++) {
		if (idle)
			reconnect_if_lost(p);
		PGresult *r = PQexec(p->c, sql);
		ExecStatusType s = PQresultStatus(r);
		if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
			PQclear(r);
			return DB_OK;
		}
		result_err(p, r);
		PQclear(r);
		if (!(idle && attempt == 0 && lost(p)))
			return p->code;
	}
}

/* the writer lock's key: "kiln" */
#define WRITE_LOCK "1802071150"

static int pg_begin(struct db *db)
{
	return pg_exec(db, "BEGIN; SELECT pg_advisory_xact_lock(" WRITE_LOCK ")");
}

static void clear_row(struct pg_stmt *s)
{
	for (int i = 0; i < s->ncols && s->blobs; i++) {
		PQfreemem(s->blobs[i]);
		s->blobs[i] = NULL;
	}
}

static void clear_result(struct pg_stmt *s)
{
	clear_row(s);
	free(s->blobs);
	free(s->blob_len);
	s->blobs = NULL;
	s->blob_len = NULL;
	s->ncols = 0;
	PQclear(s->res);
	s->res = NULL;
	s->executed = 0;
	s->row = -1;
	s->nrows = 0;
}

static void clear_params(struct pg_stmt *s)
{
	for (int i = 0; i < s->nparams; i++) {
		free(s->params[i].v);
		s->params[i] = (struct pg_param){ 0 };
	}
}

static void pg_reset(struct dbstmt *st)
{
	struct pg_stmt *s = STMT(st);
	clear_result(s);
	clear_params(s);
	s->in_use = 0;
}

static void stmt_free(struct pg_stmt *s)
{
	clear_result(s);
	clear_params(s);
	free(s->params);
	free(s->src);
	free(s->sql);
	free(s);
}

static void pg_finalize(struct dbstmt *st)
{
	if (STMT(st)->cached)
		pg_reset(st);
	else
		stmt_free(STMT(st));
}

static void pg_close(struct db *db)
{
	struct pg *p = PG(db);
	while (p->cache) {
		struct pg_stmt *s = p->cache;
		p->cache = s->next;
		stmt_free(s);
	}
	PQfinish(p->c);
	free(p->shown);
	free(p->base.tx_savepoint);
	free(p);
}

static int pg_prepare(struct db *db, const char *sql, int cached, struct dbstmt **out)
{
	struct pg *p = PG(db);
	if (cached)
		for (struct pg_stmt *s = p->cache; s; s = s->next)
			if (!s->in_use && !strcmp(s->src, sql)) {
				s->in_use = 1;
				*out = &s->base;
				return DB_OK;
			}
	struct buf out_sql = BUF_INIT, err = BUF_INIT;
	int n = pgsql_rewrite(sql, &out_sql, &err);
	if (n < 0) {
		set_err(p, DB_ERROR, err.buf);
		buf_release(&out_sql);
		buf_release(&err);
		return DB_ERROR;
	}
	buf_release(&err);
	struct pg_stmt *s = xcalloc(1, sizeof(*s));
	s->base.db = db;
	s->src = xstrdup(sql);
	s->sql = buf_detach(&out_sql, NULL);
	s->nparams = n;
	s->params = xcalloc(n ? (size_t)n : 1, sizeof(*s->params));
	s->row = -1;
	if (cached) {
		s->cached = s->in_use = 1;
		s->next = p->cache;
		p->cache = s;
	}
	*out = &s->base;
	return DB_OK;
}

static PGresult *run(struct pg *p, struct pg_stmt *s)
{
	const char **vals = xcalloc(s->nparams ? (size_t)s->nparams : 1, sizeof(*vals));
	int *lens = xcalloc(s->nparams ? (size_t)s->nparams : 1, sizeof(*lens));
	int *fmts = xcalloc(s->nparams ? (size_t)s->nparams : 1, sizeof(*fmts));
	Oid *types = xcalloc(s->nparams ? (size_t)s->nparams : 1, sizeof(*types));
	for (int i = 0; i < s->nparams; i++) {
		vals[i] = s->params[i].v;
		lens[i] = s->params[i].len;
		fmts[i] = s->params[i].binary;
		types[i] = s->params[i].type;
	}
	/*
	 * A NULL parameter has no type: PostgreSQL takes it from its use, and
	 * fails when the use alone does not say (`?1 IS NULL`; 42P18, 42P08):
	 * then, as SQLite, take it as text. Inside a transaction the failed
	 * try would abort it: a savepoint keeps it.
	 */
	int untyped = 0;
	for (int i = 0; i < s->nparams; i++)
		untyped |= !types[i];
	int sp = untyped && pg_in_tx(&p->base);
	if (sp)
		PQclear(PQexec(p->c, "SAVEPOINT kiln_untyped"));
	PGresult *r = PQexecParams(p->c, s->sql, s->nparams, types, vals, lens, fmts, 0);
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (untyped && state && (!strcmp(state, "42P18") || !strcmp(state, "42P08"))) {
		PQclear(r);
		if (sp)
			PQclear(PQexec(p->c, "ROLLBACK TO SAVEPOINT kiln_untyped"));
		for (int i = 0; i < s->nparams; i++)
			if (!types[i])
				types[i] = OID_TEXT;
		r = PQexecParams(p->c, s->sql, s->nparams, types, vals, lens, fmts, 0);
	}
	if (sp) {
		ExecStatusType st = PQresultStatus(r);
		PQclear(PQexec(p->c, st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK
					     ? "RELEASE SAVEPOINT kiln_untyped"
					     : "ROLLBACK TO SAVEPOINT kiln_untyped;"
					       " RELEASE SAVEPOINT kiln_untyped"));
	}
	free(vals);
	free(lens);
	free(fmts);
	free(types);
	return r;
}

static int execute(struct pg *p, struct pg_stmt *s)
{
	int idle = !pg_in_tx(&p->base);
	PGresult *r;
	for (int attempt = 0;; attempt++) {
		if (idle)
			reconnect_if_lost(p);
		r = run(p, s);
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
			break;
		result_err(p, r);
		PQclear(r);
		if (!(idle && attempt == 0 && lost(p)))
			return p->code;
	}
	s->res = r;
	s->executed = 1;
	s->row = -1;
	s->nrows = PQntuples(r);
	s->ncols = PQnfields(r);
	s->blobs = xcalloc(s->ncols ? (size_t)s->ncols : 1, sizeof(*s->blobs));
	s->blob_len = xcalloc(s->ncols ? (size_t)s->ncols : 1, sizeof(*s->blob_len));
	const char *n = PQcmdTuples(r);
	p->changes = n && *n ? (int)strtol(n, NULL, 10) : 0;
	set_err(p, DB_OK, "");
	return DB_OK;
}

static int pg_step(struct dbstmt *st)
{
	struct pg_stmt *s = STMT(st);
	struct pg *p = PG(st->db);
	if (!s->executed) {
		int rc = execute(p, s);
		if (rc != DB_OK)
			return rc;
	}
	clear_row(s);
	if (s->row + 1 >= s->nrows) {
		s->row = s->nrows;
		return DB_DONE;
	}
	s->row++;
	return DB_ROW;
}

static int pg_param_count(struct dbstmt *st)
{
	return STMT(st)->nparams;
}

static void pg_bind(struct dbstmt *st, int i, enum db_bind kind, int64_t v, const void *data,
		    size_t n)
{
	struct pg_stmt *s = STMT(st);
	if (i < 1 || i > s->nparams)
		return; /* as SQLite: a parameter the SQL does not have is ignored */
	struct pg_param *pp = &s->params[i - 1];
	free(pp->v);
	*pp = (struct pg_param){ 0 };
	switch (kind) {
	case DB_BIND_NULL:
		break;
	case DB_BIND_I64:
		pp->v = xstrfmt("%lld", (long long)v);
		pp->type = OID_INT8;
		break;
	case DB_BIND_TEXT:
		pp->v = memdupz(data, n);
		pp->type = OID_TEXT;
		break;
	case DB_BIND_BLOB:
		pp->v = memdupz(data, n);
		pp->len = (int)n;
		pp->binary = 1;
		pp->type = OID_BYTEA;
		break;
	}
}

static int valid(struct pg_stmt *s, int i)
{
	return s->res && s->row >= 0 && s->row < s->nrows && i >= 0 && i < s->ncols;
}

static int pg_col_null(struct dbstmt *st, int i)
{
	struct pg_stmt *s = STMT(st);
	return !valid(s, i) || PQgetisnull(s->res, s->row, i);
}

static const unsigned char *bytea(struct pg_stmt *s, int i, size_t *n)
{
	if (!s->blobs[i])
		s->blobs[i] = PQunescapeBytea((const unsigned char *)PQgetvalue(s->res, s->row, i),
					      &s->blob_len[i]);
	*n = s->blob_len[i];
	return s->blobs[i];
}

static int64_t pg_col_i64(struct dbstmt *st, int i)
{
	struct pg_stmt *s = STMT(st);
	if (pg_col_null(st, i))
		return 0;
	const char *v = PQgetvalue(s->res, s->row, i);
	if (PQftype(s->res, i) == OID_BOOL)
		return *v == 't';
	return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct dbstmt *st, int i)
{
	struct pg_stmt *s = STMT(st);
	if (pg_col_null(st, i))
		return NULL;
	if (PQftype(s->res, i) == OID_BYTEA) {
		/* as sqlite3_column_text of a blob: its bytes (a NUL ends them) */
		size_t n;
		return (const char *)bytea(s, i, &n);
	}
	if (PQftype(s->res, i) == OID_BOOL)
		return *PQgetvalue(s->res, s->row, i) == 't' ? "1" : "0";
	return PQgetvalue(s->res, s->row, i);
}

static const void *pg_col_blob(struct dbstmt *st, int i, size_t *n)
{
	struct pg_stmt *s = STMT(st);
	*n = 0;
	if (pg_col_null(st, i))
		return NULL;
	if (PQftype(s->res, i) == OID_BYTEA)
		return bytea(s, i, n);
	*n = (size_t)PQgetlength(s->res, s->row, i);
	return PQgetvalue(s->res, s->row, i);
}

static int pg_changes(struct db *db)
{
	return PG(db)->changes;
}

static const char *pg_errmsg(struct db *db)
{
	return PG(db)->err;
}

static int pg_errcode(struct db *db)
{
	return PG(db)->code;
}

static int pg_damaged(struct db *db)
{
	(void)db;
	return 0;
}

static const char *pg_where(struct db *db)
{
	return PG(db)->shown;
}

static int pg_has_table(struct db *db, const char *name)
{
	struct dbstmt *st;
	if (pg_prepare(db,
		       "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema()"
		       " AND table_name = ?1",
		       0, &st) != DB_OK)
		return -1;
	dbs_bind_text(st, 1, name);
	int rc = pg_step(st);
	pg_finalize(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

static int pg_legacy_version(struct db *db)
{
	(void)db;
	return 0;
}

static int pg_set_legacy_version(struct db *db, int v)
{
	(void)db;
	(void)v;
	return DB_OK;
}

static char *pg_migration(struct db *db, int i)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	if (pgsql_translate_ddl(db_migrations[i], &out, &err) < 0) {
		/* fails the migration with the reason */
		buf_reset(&out);
		buf_addf(&out, "DO $kiln$ BEGIN RAISE EXCEPTION '%s'; END $kiln$", err.buf);
		set_err(PG(db), DB_ERROR, err.buf);
	}
	buf_release(&err);
	return buf_detach(&out, NULL);
}

static const struct db_ops pg_ops = {
	.name = "postgres",
	.dialect = DB_POSTGRES,
	.close = pg_close,
	.exec = pg_exec,
	.in_tx = pg_in_tx,
	.begin = pg_begin,
	.prepare = pg_prepare,
	.step = pg_step,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.param_count = pg_param_count,
	.bind = pg_bind,
	.col_null = pg_col_null,
	.col_i64 = pg_col_i64,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.changes = pg_changes,
	.errmsg = pg_errmsg,
	.errcode = pg_errcode,
	.damaged = pg_damaged,
	.where = pg_where,
	.has_table = pg_has_table,
	.legacy_version = pg_legacy_version,
	.set_legacy_version = pg_set_legacy_version,
	.migration = pg_migration,
};

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* NOTICEs ("relation exists, skipping") are not for users */
}

int db_pg_open(const char *url, struct db **out, struct buf *err)
{
	*out = NULL;
	const char *why = db_pg_libpq_error();
	if (why) {
		buf_addf(err, "postgres: %s", why);
		return -1;
	}
	PGconn *c = PQconnectdb(url);
	if (!c) {
		buf_addstr(err, "postgres: out of memory");
		return -1;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		buf_addf(err, "postgres: %s", PQerrorMessage(c));
		buf_rtrim(err);
		PQfinish(c);
		return -1;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	struct pg *p = xcalloc(1, sizeof(*p));
	p->base.ops = &pg_ops;
	p->c = c;
	p->shown = url_redact(url);
	*out = &p->base;
	/* a writer waits for the lock as long as SQLite's busy timeout, then
	 * fails with DB_BUSY instead of hanging */
	char sql[128];
	snprintf(sql, sizeof(sql),
		 "SET lock_timeout = %d; SET client_min_messages = warning; SET TIME ZONE 'UTC'",
		 DB_BUSY_TIMEOUT_MS);
	if (pg_exec(&p->base, sql) != DB_OK) {
		buf_addf(err, "postgres: %s", p->err);
		return -1;
	}
	return 0;
}
