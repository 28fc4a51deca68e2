/*
 * migrations: the numbered schema of the SQLite store. Append only: never
 * edit a migration that has shipped; add a new one. Index i is schema
 * version i + 1.
 */
#include "store/migrations.h"

const char *const db_migrations[] = {
	/* 1: bookkeeping */
	"CREATE TABLE IF NOT EXISTS kiln_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
	/* 2: deploy: releases, the append-only audit log, instances, app state */
	"CREATE TABLE deploy_releases (id INTEGER PRIMARY KEY, app TEXT NOT NULL, version TEXT NOT NULL,"
	" strategy TEXT NOT NULL, user TEXT NOT NULL DEFAULT '', started_at TEXT NOT NULL,"
	" finished_at TEXT, duration_ms INTEGER, outcome TEXT NOT NULL DEFAULT 'running', reason TEXT);"
	"CREATE INDEX deploy_releases_app ON deploy_releases(app, id);"
	"CREATE TABLE deploy_audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, app TEXT NOT NULL,"
	" release_id INTEGER, event TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');"
	"CREATE TRIGGER deploy_audit_no_update BEFORE UPDATE ON deploy_audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER deploy_audit_no_delete BEFORE DELETE ON deploy_audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TABLE deploy_instances (app TEXT NOT NULL, slot INTEGER NOT NULL, release_id INTEGER,"
	" version TEXT, port INTEGER, pid INTEGER, role TEXT NOT NULL, PRIMARY KEY (app, slot));"
	"CREATE TABLE deploy_apps (app TEXT PRIMARY KEY, stable_release INTEGER, stable_version TEXT,"
	" maintenance INTEGER NOT NULL DEFAULT 0);",
};

const int db_nmigrations = (int)(sizeof(db_migrations) / sizeof(db_migrations[0]));
