/*
 * db: the SQLite store's connection and schema migrations. Every module
 * that keeps state (run history, secrets, cache index, releases) adds its
 * numbered migrations to the single list in migrations.c; they run in order
 * under PRAGMA user_version, each in a transaction.
 */
#ifndef KILN_DB_H
#define KILN_DB_H

#include <sqlite3.h>

#include "base/buf.h"

/* how long a connection waits for another writer before SQLITE_BUSY */
#define DB_BUSY_TIMEOUT_MS 30000

/* open (creating) the database at path with WAL and a busy timeout, then
 * migrate it; returns 0, or with a message in err naming the file:
 * KILN_ENOENT when there was no store (none, or an empty one) and none
 * could be made (full disk, no permission), -1 for a store that exists but
 * cannot be read (damaged: the message says how to recover) */
int db_open(const char *path, sqlite3 **out, struct buf *err);
void db_close(sqlite3 *db);
/* run SQL with no results; returns 0 or -1 with a message in err */
int db_exec(sqlite3 *db, const char *sql, struct buf *err);
/* "sqlite: WHAT: message" into err, with how to recover when the file is
 * damaged (SQLITE_CORRUPT, SQLITE_NOTADB); returns -1 */
int db_fail(sqlite3 *db, struct buf *err, const char *what);
/* the recovery hint for the damaged store file at path */
void db_hint_damaged(const char *path, struct buf *err);
/* latest schema version this binary knows */
int db_schema_version(void);

#endif
