/* db: SQLite connection setup and migrations under PRAGMA user_version. */
#include "base/kiln.h"
#include "store/db.h"
#include "store/migrations.h"

int db_schema_version(void)
{
	return db_nmigrations;
}

int db_exec(sqlite3 *db, const char *sql, struct buf *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		buf_addf(err, "sqlite: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int too_new(int v, struct buf *err)
{
	buf_addf(err, "database schema version %d is newer than this kiln knows (%d)", v, db_nmigrations);
	return -1;
}

/*
 * Bring the schema to db_nmigrations. Any number of kiln processes may
 * open a fresh store at once: the version read before the lock is only a
 * fast path; the migrations run under BEGIN IMMEDIATE (the writer lock,
 * waited for through the busy timeout) after reading user_version again,
 * so exactly one opener applies each migration and the others see the
 * result. All pending migrations and the new version commit together.
 */
static int migrate(sqlite3 *db, struct buf *err)
{
	int v = user_version(db);
	if (v < 0)
		return buf_addf(err, "sqlite: cannot read schema version: %s", sqlite3_errmsg(db)), -1;
	if (v == db_nmigrations)
		return 0;
	if (v > db_nmigrations)
		return too_new(v, err);
	if (db_exec(db, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	v = user_version(db);
	int r = 0;
	if (v < 0) {
		buf_addf(err, "sqlite: cannot read schema version: %s", sqlite3_errmsg(db));
		r = -1;
	} else if (v > db_nmigrations)
		r = too_new(v, err);
	for (; !r && v < db_nmigrations; v++)
		if (db_exec(db, db_migrations[v], err) < 0) {
			buf_addf(err, " (in migration %d)", v + 1);
			r = -1;
		}
	if (!r) {
		struct buf sql = BUF_INIT;
		buf_addf(&sql, "PRAGMA user_version = %d; COMMIT;", db_nmigrations);
		r = db_exec(db, sql.buf, err);
		buf_release(&sql);
	}
	if (r < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int db_open(const char *path, sqlite3 **out, struct buf *err)
{
	sqlite3 *db = NULL;
	*out = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		buf_addf(err, "sqlite: cannot open '%s': %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	/* concurrent kiln processes wait for the writer lock, not fail */
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	if (db_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
		    err) < 0 ||
	    migrate(db, err) < 0) {
		sqlite3_close(db);
		return -1;
	}
	/*
	 * Every `kiln run` opens and closes the store: keep the WAL file
	 * between connections (no new file + directory fsync each time) and
	 * leave checkpoints to SQLite's autocheckpoint instead of one (with
	 * its fsyncs) on every close. Committed data is in the WAL either way.
	 */
	int persist = 1;
	sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	*out = db;
	return 0;
}

void db_close(sqlite3 *db)
{
	if (!db)
		return;
	/* statements kept prepared on the connection (src/store/runs.c) */
	sqlite3_stmt *st;
	while ((st = sqlite3_next_stmt(db, NULL)))
		sqlite3_finalize(st);
	sqlite3_close(db);
}
