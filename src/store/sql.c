/* sql: prepare/bind/run helpers for the server's store files (see sql.h). */
#include "base/kiln.h"
#include "store/sql.h"

#include <stdarg.h>

int sql_fail(sqlite3 *db, struct buf *err, const char *what)
{
	buf_addf(err, "sqlite: %s: %s", what, sqlite3_errmsg(db));
	return -1;
}

int sql_rows(sqlite3 *db, sqlite3_stmt *st, struct buf *err, const char *what, size_t size,
	     void (*read)(sqlite3_stmt *st, void *element), void **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	char *rows = NULL;
	size_t alloc = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(rows, (*n + 1) * size, alloc); /* in bytes: rows is a char * */
		read(st, rows + (*n)++ * size);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(rows);
		*n = 0;
		return sql_fail(db, err, what);
	}
	*out = rows;
	return 0;
}

static void bind_all(sqlite3_stmt *st, const char *types, va_list ap)
{
	for (int i = 0; types[i]; i++) {
		if (types[i] == 'i') {
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		} else if (types[i] == 'I') {
			int64_t v = va_arg(ap, int64_t);
			if (v > 0)
				sqlite3_bind_int64(st, i + 1, v);
			else
				sqlite3_bind_null(st, i + 1);
		} else if (types[i] == 't') {
			const char *s = va_arg(ap, const char *);
			if (s)
				sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i + 1);
		} else {
			fprintf(stderr, "BUG: sql: bad bind type '%c'\n", types[i]);
			abort();
		}
	}
}

sqlite3_stmt *sql_prep(sqlite3 *db, struct buf *err, const char *what, const char *sql,
		       const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sql_fail(db, err, what);
		return NULL;
	}
	va_list ap;
	va_start(ap, types);
	bind_all(st, types, ap);
	va_end(ap);
	return st;
}

int sql_run(sqlite3 *db, struct buf *err, const char *what, const char *sql, const char *types,
	    ...)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(db, err, what);
	va_list ap;
	va_start(ap, types);
	bind_all(st, types, ap);
	va_end(ap);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		sql_fail(db, err, what);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return sqlite3_changes(db);
}

void sql_col_text(sqlite3_stmt *st, int i, char *out, size_t n)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	snprintf(out, n, "%s", s ? (const char *)s : "");
}

char *sql_col_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? xstrdup((const char *)s) : NULL;
}

int sql_begin(sqlite3 *db, struct buf *err)
{
	return sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK
		       ? 0
		       : sql_fail(db, err, "cannot begin a transaction");
}

int sql_commit(sqlite3 *db, struct buf *err)
{
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	sql_fail(db, err, "cannot commit");
	sql_rollback(db);
	return -1;
}

void sql_rollback(sqlite3 *db)
{
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}
