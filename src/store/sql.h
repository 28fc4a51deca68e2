/*
 * sql: the one database interface of kiln. Code outside the back-end files
 * (src/store/sqlite.c, src/store/pg.c) sees only `struct db` (a connection)
 * and `struct dbstmt` (a prepared statement on it) and never a back-end
 * type, so the same store functions run on SQLite (the embedded default)
 * and on PostgreSQL. docs/internals/store.md says how to write SQL that
 * runs on both; in short:
 *   - parameters are ?1, ?2, ... (rewritten to $1, $2 for PostgreSQL);
 *     every ?N must be bound, and a ?N used twice is one parameter
 *   - ids and times are BIGINT / INTEGER (times in unix milliseconds),
 *     booleans are integers 0/1, binary data is BLOB (bytea in PostgreSQL)
 *   - a new row's id comes from `INSERT ... RETURNING id`, never from a
 *     "last insert rowid"; upserts are `ON CONFLICT (...) DO UPDATE/NOTHING`,
 *     never `INSERT OR REPLACE/IGNORE`
 *   - no SQLite-only functions (char(), printf(), ifnull(), group_concat(),
 *     strftime(), julianday(), typeof(), iif()), no `LIMIT -1`, no
 *     rowid; `||`, substr(), length(), COALESCE, NULLIF, CAST(x AS BIGINT),
 *     LIKE, MAX/MIN/COUNT/SUM are fine
 *   - a write that reads first runs inside sql_begin()/sql_commit(): one
 *     writer at a time on both back-ends (see sql_begin)
 * Errors: a call that fails returns a DB_* code (or -1) and leaves the
 * message in db_errmsg(db); sql_fail()/db_fail() turn it into
 * "sqlite: WHAT: message" (or "postgres: ...") in a struct buf.
 */
#ifndef KILN_STORE_SQL_H
#define KILN_STORE_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct db;     /* a connection; db_open() / db_close() (store/db.h) */
struct dbstmt; /* a prepared statement of one connection */

/* result codes of db_prepare(), dbs_step() and db_errcode() */
#define DB_OK 0
#define DB_ERROR 1       /* any other failure; db_errmsg() says which */
#define DB_BUSY 5        /* the writer lock could not be had in time */
#define DB_CONSTRAINT 19 /* a UNIQUE, NOT NULL, CHECK or foreign key violation */
#define DB_ROW 100       /* dbs_step(): a row is ready for dbs_col_*() */
#define DB_DONE 101      /* dbs_step(): the statement has finished */

enum db_dialect { DB_SQLITE, DB_POSTGRES };

enum db_dialect db_dialect(const struct db *db);
/* the back-end's name for messages: "sqlite", "postgres" */
const char *db_name(const struct db *db);
/* the last error's message ("" when none) and its DB_* code */
const char *db_errmsg(struct db *db);
int db_errcode(struct db *db);
/* rows changed by the last INSERT/UPDATE/DELETE run to its end */
int db_changes(struct db *db);
/*
 * How many statements failed because the connection was lost (PostgreSQL
 * restarted; always 0 on SQLite). A transaction that failed while this
 * changed was cut by the loss, not refused: rolled back, it can be run
 * again once (its next statement reconnects, waiting for the server).
 */
unsigned db_losses(struct db *db);

/*
 * Prepare one statement: DB_OK and *out, or a DB_* error (message in
 * db_errmsg) and *out NULL. db_prepare_cached() keeps the statement on the
 * connection and hands the same one out again for the same sql text once
 * the previous user has reset it (dbs_reset): for the few statements run
 * for every job and step. dbs_finalize() of a cached statement only resets
 * it; db_close() frees it.
 */
int db_prepare(struct db *db, const char *sql, struct dbstmt **out);
int db_prepare_cached(struct db *db, const char *sql, struct dbstmt **out);
/* run the statement one row further: DB_ROW, DB_DONE or a DB_* error */
int dbs_step(struct dbstmt *st);
/* back to before the first dbs_step, bindings cleared; returns DB_OK */
int dbs_reset(struct dbstmt *st);
/* step an INSERT ... RETURNING id to its end: DB_DONE with the new row's
 * id in *id (0 when no row was inserted, e.g. ON CONFLICT DO NOTHING), or
 * a DB_* error */
int dbs_step_id(struct dbstmt *st, int64_t *id);
/* free a statement (NULL is fine) */
void dbs_finalize(struct dbstmt *st);
/* how many parameters (the highest ?N) the statement has */
int dbs_param_count(struct dbstmt *st);

/* bind parameter ?i (from 1); the value is copied. Text NULL binds NULL. */
void dbs_bind_i64(struct dbstmt *st, int i, int64_t v);
void dbs_bind_text(struct dbstmt *st, int i, const char *s);
void dbs_bind_textn(struct dbstmt *st, int i, const char *s, size_t n);
void dbs_bind_blob(struct dbstmt *st, int i, const void *p, size_t n);
void dbs_bind_null(struct dbstmt *st, int i);

/*
 * Column i (from 0) of the current row. A NULL reads as 0 or a NULL
 * pointer. Pointers stay valid until the next dbs_step/reset/finalize of
 * st. dbs_col_bytes() is the length of the blob (or text) in column i.
 */
int64_t dbs_col_i64(struct dbstmt *st, int i);
int dbs_col_int(struct dbstmt *st, int i);
const char *dbs_col_text(struct dbstmt *st, int i);
const void *dbs_col_blob(struct dbstmt *st, int i);
size_t dbs_col_bytes(struct dbstmt *st, int i);
int dbs_col_null(struct dbstmt *st, int i);

/*
 * Helpers on top, for the store files.
 *
 * sql_prep: prepare `sql` and bind its parameters ?1, ?2, ... from the
 * variadic arguments as `types` says, one letter each:
 *   'i' int64_t
 *   'I' int64_t, bound as NULL when <= 0 (optional times and ids)
 *   't' const char * (NULL binds NULL)
 * Returns the statement (finalize it), or NULL with "sqlite: WHAT: msg" in err.
 */
struct dbstmt *sql_prep(struct db *db, struct buf *err, const char *what, const char *sql,
			const char *types, ...);
/* prepare, bind, step to the end; returns the number of rows changed (>= 0)
 * or -1 with err */
int sql_run(struct db *db, struct buf *err, const char *what, const char *sql, const char *types,
	    ...);
/*
 * Step st (consumed: finalized here) and collect its rows into a malloc'd
 * array of n elements of `size` bytes, each filled by read(st, element).
 * 0, or -1 with "sqlite: WHAT: msg" in err and *out NULL, *n 0. A NULL st
 * (sql_prep failed, err already set) returns -1.
 */
int sql_rows(struct db *db, struct dbstmt *st, struct buf *err, const char *what, size_t size,
	     void (*read)(struct dbstmt *st, void *element), void **out, size_t *n);
/*
 * Step st (consumed: finalized here) to its first row and read column 0 as
 * a number: 1 with *out set, 0 when there is no row (*out untouched), -1
 * with "sqlite: WHAT: msg" in err. A NULL st (sql_prep failed, err already
 * set) returns -1.
 */
int sql_one_i64(struct db *db, struct dbstmt *st, struct buf *err, const char *what, int64_t *out);
/* "<back-end>: WHAT: <the back-end's message>" into err; returns -1 */
int sql_fail(struct db *db, struct buf *err, const char *what);
/* column i as text, "" when NULL, copied into out (size n, truncated) */
void sql_col_text(struct dbstmt *st, int i, char *out, size_t n);
/* column i as a malloc'd string, NULL when NULL */
char *sql_col_strdup(struct dbstmt *st, int i);
/*
 * Transactions. sql_begin takes the store's single writer lock for the
 * transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN plus a
 * transaction-scoped advisory lock), so a read-then-write inside it sees
 * no other writer on either back-end, waiting up to DB_BUSY_TIMEOUT_MS.
 * 0 or -1 with err. sql_rollback after a failure; it never fails.
 */
int sql_begin(struct db *db, struct buf *err);
int sql_commit(struct db *db, struct buf *err);
void sql_rollback(struct db *db);
/*
 * Once-only duties (cron, polling) when
 * several servers share one database: db_duty() is 1 while this
 * connection holds the duty `key` (a small positive number, DB_DUTY_*),
 * taking it when free: a PostgreSQL session advisory lock
 * (pg_try_advisory_lock), held until the connection ends — a server that
 * dies frees its duties and another takes them on its next try. Asking
 * again while holding it is cheap and does not stack. 0 when another
 * connection holds it, -1 on an error (message in db_errmsg). SQLite: one
 * server per file, always 1.
 */
#define DB_DUTY_SCHEDULE 0x6b690001 /* cron triggers */
#define DB_DUTY_POLL 0x6b690002     /* polling repositories */
int db_duty(struct db *db, int64_t key);

/*
 * Savepoints nest inside a caller's transaction, or (outside one) start
 * their own, ended by sql_release of that savepoint: SQLite's behaviour,
 * kept on PostgreSQL. After a failure: sql_rollback_to, then sql_release.
 * 0 or -1 with err.
 */
int sql_savepoint(struct db *db, const char *name, struct buf *err);
int sql_release(struct db *db, const char *name, struct buf *err);
void sql_rollback_to(struct db *db, const char *name);

#endif
