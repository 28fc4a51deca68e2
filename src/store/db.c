/* db: SQLite connection setup and migrations under PRAGMA user_version. */
#include "base/kiln.h"
#include "store/db.h"
#include "store/migrations.h"

#include <unistd.h>

int db_schema_version(void)
{
	return db_nmigrations;
}

/* is the last error of `db` one a damaged file gives? */
static int damaged(sqlite3 *db)
{
	int c = sqlite3_errcode(db);
	return c == SQLITE_CORRUPT || c == SQLITE_NOTADB;
}

int db_exec(sqlite3 *db, const char *sql, struct buf *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		buf_addf(err, "sqlite: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		if (damaged(db))
			db_hint_damaged(sqlite3_db_filename(db, "main"), err);
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

/* s as one shell word in single quotes (a ' inside becomes '\'') */
static void add_sq(struct buf *out, const char *s, const char *suffix)
{
	buf_addch(out, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			buf_addstr(out, "'\\''");
		else
			buf_addch(out, *p);
	}
	buf_addstr(out, suffix);
	buf_addch(out, '\'');
}

void db_hint_damaged(const char *path, struct buf *err)
{
	struct buf dir = BUF_INIT, q_aside = BUF_INIT, q_path = BUF_INIT, q_copy = BUF_INIT;
	const char *slash = strrchr(path, '/');
	if (slash)
		buf_add(&dir, path, (size_t)(slash - path));
	else
		buf_addstr(&dir, ".");
	const char *base = slash ? slash + 1 : path;
	/* the commands are pasted into a shell: every path one quoted word */
	add_sq(&q_aside, dir.buf, "/damaged");
	add_sq(&q_path, path, "");
	struct buf copy = BUF_INIT;
	buf_addf(&copy, "%s/damaged/%s", dir.buf, base);
	add_sq(&q_copy, copy.buf, "");
	buf_release(&copy);
	/*
	 * .dump, not .recover: Debian's sqlite3 (3.40) has no sqlite_dbpage
	 * and its .recover fails on any file. .dump skips what it cannot
	 * read, but then ends in ROLLBACK (made a COMMIT here) and it leaves
	 * out user_version, which tells kiln the schema is there. user_version
	 * is read from the header bytes (offset 60, big-endian): sqlite3
	 * refuses every statement on a truncated file, PRAGMA too.
	 */
	buf_addf(err,
		 "\nhint: the store '%s' is damaged; move it aside and kiln starts a new one:"
		 "\nhint:   mkdir %s && mv %s* %.*s/'"
		 "\nhint: then copy what can still be read into the new store:"
		 "\nhint:   (sqlite3 %s .dump | sed 's/^ROLLBACK; -- due to errors$/COMMIT;/';"
		 " echo \"PRAGMA user_version = $(od -An -tu4 --endian=big -j60 -N4 %s | tr -d ' ');\")"
		 " | sqlite3 %s",
		 path, q_aside.buf, q_path.buf, (int)q_aside.len - 1, q_aside.buf, q_copy.buf,
		 q_copy.buf, q_path.buf);
	buf_release(&q_copy);
	buf_release(&q_path);
	buf_release(&q_aside);
	buf_release(&dir);
}

int db_fail(sqlite3 *db, struct buf *err, const char *what)
{
	buf_addf(err, "sqlite: %s: %s", what, sqlite3_errmsg(db));
	if (damaged(db))
		db_hint_damaged(sqlite3_db_filename(db, "main"), err);
	return -1;
}

/*
 * Put the store in WAL mode. Switching needs an exclusive lock and SQLite
 * does not wait through the busy handler for it: when kiln processes open
 * a fresh store at once, retry (bounded by the busy timeout); a store in
 * WAL mode already needs no lock.
 */
static int set_wal(sqlite3 *db, struct buf *err)
{
	for (int waited = 0;; waited += 10) {
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
			sqlite3_finalize(st);
			if (rc == SQLITE_ROW || rc == SQLITE_DONE)
				return 0;
		}
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		if (waited >= DB_BUSY_TIMEOUT_MS)
			break;
		sqlite3_sleep(10);
	}
	buf_addf(err, "sqlite: %s", sqlite3_errmsg(db));
	return -1;
}

int db_open(const char *path, sqlite3 **out, struct buf *err)
{
	sqlite3 *db = NULL;
	struct buf why = BUF_INIT;
	*out = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		buf_addf(err, "cannot open the store '%s': %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return access(path, F_OK) == 0 ? -1 : KILN_ENOENT;
	}
	/* concurrent kiln processes wait for the writer lock, not fail */
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	if (set_wal(db, &why) < 0 ||
	    db_exec(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;", &why) < 0 ||
	    migrate(db, &why) < 0) {
		/* name the file: the message alone ("file is not a database")
		 * does not say which */
		buf_addf(err, "cannot open the store '%s': %s", path,
			 str_starts_with(why.buf, "sqlite: ") ? why.buf + 8 : why.buf);
		int r = -1;
		if (damaged(db))
			db_hint_damaged(path, err);
		else if (user_version(db) == 0)
			r = KILN_ENOENT; /* a new store that could not be made */
		buf_release(&why);
		sqlite3_close(db);
		return r;
	}
	buf_release(&why);
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
