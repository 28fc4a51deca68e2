/*
 * pgsql: the SQL text the PostgreSQL back-end (pg.c) sends, made from the
 * portable SQL kiln writes (docs/internals/store.md). Pure functions on
 * strings, unit-tested without a server (tests/unit/test_store.c).
 */
#ifndef KILN_STORE_PGSQL_H
#define KILN_STORE_PGSQL_H

#include "base/buf.h"

/*
 * A statement for PostgreSQL: ?N becomes $N and a bare ? the next number
 * (string literals, quoted identifiers and comments kept as they are);
 * the column name `user`, reserved in PostgreSQL, is quoted. Returns the
 * number of parameters (the highest N), or -1 with a message in err.
 */
int pgsql_rewrite(const char *sql, struct buf *out, struct buf *err);

/*
 * A migration written for SQLite, for PostgreSQL: INTEGER → BIGINT,
 * INTEGER PRIMARY KEY [AUTOINCREMENT] → an identity column, BLOB → BYTEA,
 * `user` quoted, and SQLite's append-only triggers
 *   CREATE TRIGGER t BEFORE UPDATE|DELETE ON tbl BEGIN SELECT RAISE(ABORT, 'msg'); END;
 * as a PL/pgSQL function and trigger. 0, or -1 with a message in err
 * for a trigger of another shape.
 */
int pgsql_translate_ddl(const char *sql, struct buf *out, struct buf *err);

#endif
