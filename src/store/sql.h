/*
 * sql: the few helpers the server's store files (users.c, audit.c, envs.c,
 * deployments.c) share to prepare, bind and run one statement. Keeping
 * every query behind functions in src/store lets another back-end implement
 * the same functions later (issue 16).
 */
#ifndef KILN_STORE_SQL_H
#define KILN_STORE_SQL_H

#include <sqlite3.h>
#include <stdint.h>

#include "base/buf.h"

/*
 * Prepare `sql` and bind its parameters ?1, ?2, ... from the variadic
 * arguments as `types` says, one letter each:
 *   'i' int64_t
 *   'I' int64_t, bound as NULL when <= 0 (optional times and ids)
 *   't' const char * (NULL binds NULL)
 * Returns the statement (finalize it), or NULL with "sqlite: WHAT: msg" in err.
 */
sqlite3_stmt *sql_prep(sqlite3 *db, struct buf *err, const char *what, const char *sql,
		       const char *types, ...);
/* prepare, bind, step to the end; returns the number of rows changed (>= 0)
 * or -1 with err */
int sql_run(sqlite3 *db, struct buf *err, const char *what, const char *sql, const char *types,
	    ...);
/*
 * Step st (consumed: finalized here) and collect its rows into a malloc'd
 * array of n elements of `size` bytes, each filled by read(st, element).
 * 0, or -1 with "sqlite: WHAT: msg" in err and *out NULL, *n 0. A NULL st
 * (sql_prep failed, err already set) returns -1.
 */
int sql_rows(sqlite3 *db, sqlite3_stmt *st, struct buf *err, const char *what, size_t size,
	     void (*read)(sqlite3_stmt *st, void *element), void **out, size_t *n);
/* "sqlite: WHAT: <sqlite's message>" into err; returns -1 */
int sql_fail(sqlite3 *db, struct buf *err, const char *what);
/* column i as text, "" when NULL, copied into out (size n, truncated) */
void sql_col_text(sqlite3_stmt *st, int i, char *out, size_t n);
/* column i as a malloc'd string, NULL when NULL */
char *sql_col_strdup(sqlite3_stmt *st, int i);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK; 0 or -1 with err */
int sql_begin(sqlite3 *db, struct buf *err);
int sql_commit(sqlite3 *db, struct buf *err);
void sql_rollback(sqlite3 *db);

#endif
