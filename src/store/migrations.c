/*
 * migrations: the numbered schema of the SQLite store. Append only: never
 * edit a migration that has shipped; add a new one. Index i is schema
 * version i + 1.
 */
#include "store/migrations.h"

const char *const db_migrations[] = {
	/* 1: bookkeeping */
	"CREATE TABLE IF NOT EXISTS kiln_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
};

const int db_nmigrations = (int)(sizeof(db_migrations) / sizeof(db_migrations[0]));
