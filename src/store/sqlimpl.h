/*
 * sqlimpl: what a database back-end (src/store/sqlite.c, src/store/pg.c)
 * implements behind the interface of sql.h. Only back-end files and
 * sql.c / db.c include this header.
 */
#ifndef KILN_STORE_SQLIMPL_H
#define KILN_STORE_SQLIMPL_H

#include "store/sql.h"

/* the kinds of value dbs_bind_*() hands a back-end */
enum db_bind { DB_BIND_NULL, DB_BIND_I64, DB_BIND_TEXT, DB_BIND_BLOB };

struct db_ops {
	const char *name; /* message prefix: "sqlite", "postgres" */
	enum db_dialect dialect;
	void (*close)(struct db *db);
	/* run SQL (one or more statements, no parameters): DB_OK or a code */
	int (*exec)(struct db *db, const char *sql);
	/* is a transaction open? */
	int (*in_tx)(struct db *db);
	/* start a transaction holding the store's writer lock */
	int (*begin)(struct db *db);
	int (*prepare)(struct db *db, const char *sql, int cached, struct dbstmt **out);
	int (*step)(struct dbstmt *st);
	void (*reset)(struct dbstmt *st);
	void (*finalize)(struct dbstmt *st);
	int (*param_count)(struct dbstmt *st);
	void (*bind)(struct dbstmt *st, int i, enum db_bind kind, int64_t v, const void *p,
		     size_t n);
	int (*col_null)(struct dbstmt *st, int i);
	int64_t (*col_i64)(struct dbstmt *st, int i);
	const char *(*col_text)(struct dbstmt *st, int i);
	const void *(*col_blob)(struct dbstmt *st, int i, size_t *n);
	int (*changes)(struct db *db);
	const char *(*errmsg)(struct db *db);
	int (*errcode)(struct db *db);
	/* is the last error one of a damaged store file? (SQLite) */
	int (*damaged)(struct db *db);
	/* the file behind the connection, or the server's address without credentials */
	const char *(*where)(struct db *db);
	/* does table `name` exist? -1 when that cannot be read */
	int (*has_table)(struct db *db, const char *name);
	/* the schema version of a store from before the schema_version table
	 * (SQLite's PRAGMA user_version), 0 when none; -1 when unreadable */
	int (*legacy_version)(struct db *db);
	/* record version v where legacy_version reads it too (SQLite); DB_OK */
	int (*set_legacy_version)(struct db *db, int v);
	/* migration i's SQL in this back-end's dialect (malloc'd) */
	char *(*migration)(struct db *db, int i);
};

/* back-ends embed these first in their own connection and statement */
struct db {
	const struct db_ops *ops;
	char *tx_savepoint; /* the savepoint that began the transaction (sql_savepoint) */
	unsigned losses;    /* failures on a lost connection so far (db_losses) */
};
struct dbstmt {
	struct db *db;
};

/* the back-ends' constructors, called by db_open() (db.c) */
int db_sqlite_open(const char *path, struct db **out, struct buf *err);
int db_pg_open(const char *url, struct db **out, struct buf *err);
/* libpq is loaded on first use (libpq.c): NULL, or why it cannot be */
const char *db_pg_libpq_error(void);

#endif
