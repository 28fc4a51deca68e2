/*
 * db: opening the store and its schema migrations. The store is SQLite (a
 * file, the default) or PostgreSQL (a postgres:// or postgresql:// URL);
 * either is a `struct db` used through sql.h. Every module that keeps
 * state adds its numbered migrations to the single list in migrations.c;
 * they run in order, each pending batch in one transaction, and the
 * version lives in the schema_version table (SQLite stores made before it
 * existed kept it in PRAGMA user_version, which is read once and kept in
 * step).
 */
#ifndef KILN_DB_H
#define KILN_DB_H

#include "base/buf.h"
#include "store/sql.h"

/* how long a connection waits for another writer before DB_BUSY */
#define DB_BUSY_TIMEOUT_MS 30000

/* is `where` a PostgreSQL URL (postgres://, postgresql://) rather than a file? */
int db_is_url(const char *where);
/*
 * Open (creating) the store at `where` (a file path or a PostgreSQL URL),
 * then migrate it; returns 0, or with a message in err naming the store:
 * KILN_ENOENT when there was no store (none, or an empty one) and none
 * could be made (full disk, no permission), -1 for a store that exists but
 * cannot be read (damaged: the message says how to recover; or a database
 * server that cannot be reached)
 */
int db_open(const char *where, struct db **out, struct buf *err);
/* open an existing SQLite store file read-only, without migrating it
 * (another kiln's store, e.g. the deploy controller's); 0 or -1 */
int db_open_readonly(const char *path, struct db **out);
/* close (NULL is fine); frees the statements kept by db_prepare_cached */
void db_close(struct db *db);
/* run SQL with no parameters and no results; 0 or -1 with a message in
 * err (err may be NULL) */
int db_exec(struct db *db, const char *sql, struct buf *err);
/* "sqlite: WHAT: message" into err, with how to recover when the file is
 * damaged (SQLITE_CORRUPT, SQLITE_NOTADB); returns -1 */
int db_fail(struct db *db, struct buf *err, const char *what);
/* the recovery hint for the damaged store file at path */
void db_hint_damaged(const char *path, struct buf *err);
/* latest schema version this binary knows */
int db_schema_version(void);
/* the schema version of an open store, -1 when it cannot be read */
int db_store_version(struct db *db);

#endif
