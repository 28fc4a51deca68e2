/*
 * sqlite: the SQLite back-end of the store interface (sql.h), the embedded
 * default: one file in the data directory, WAL mode, a busy timeout so
 * concurrent kiln processes wait for the writer lock instead of failing.
 */
#include "base/kiln.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/sqlimpl.h"

#include <sqlite3.h>

struct lite_stmt {
	struct dbstmt base;
	sqlite3_stmt *h;
	int cached;              /* kept on the connection (db_prepare_cached) */
	int in_use;              /* a cached statement handed out, not yet reset */
	struct lite_stmt *next;  /* the connection's cached statements */
};

struct lite {
	struct db base;
	sqlite3 *h;
	struct lite_stmt *cache;
	int wal_frames; /* frames in the WAL after this connection's last commit */
};

/*
 * A connection closing with more frames than CLOSE_CKPT_FRAMES in the WAL
 * checkpoints it and truncates it (lite_close); AUTO_CKPT_FRAMES is
 * SQLite's own autocheckpoint threshold, which wal_commit keeps.
 */
enum { CLOSE_CKPT_FRAMES = 128, AUTO_CKPT_FRAMES = 1000 };

#define LITE(db) ((struct lite *)(db))
#define STMT(st) ((struct lite_stmt *)(st))

static int code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return DB_OK;
	case SQLITE_ROW:
		return DB_ROW;
	case SQLITE_DONE:
		return DB_DONE;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return DB_BUSY;
	case SQLITE_CONSTRAINT:
		return DB_CONSTRAINT;
	default:
		return DB_ERROR;
	}
}

static void lite_close(struct db *db)
{
	struct lite *l = LITE(db);
	while (l->cache) {
		struct lite_stmt *s = l->cache;
		l->cache = s->next;
		sqlite3_finalize(s->h);
		free(s);
	}
	/*
	 * Each process's first connection rebuilds the WAL index by reading
	 * and checksumming every frame of the WAL: with the WAL left to grow
	 * to 1,000 frames (4 MB) between autocheckpoints, a one-step `kiln
	 * run` (~22 frames of its own) read 2 MB on average, ~9 % of its CPU.
	 * Truncated, because the index does not outlive the process: the
	 * next one would take every frame for not yet copied and append after
	 * them. Every ~6th one-step run pays this checkpoint's fsyncs. No busy
	 * wait: with another connection reading, the checkpoint copies what
	 * it can and the WAL stays as it is (harmless).
	 */
	if (l->wal_frames >= CLOSE_CKPT_FRAMES) {
		sqlite3_busy_timeout(l->h, 0);
		sqlite3_wal_checkpoint_v2(l->h, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	}
	sqlite3_close(l->h);
	free(l->base.tx_savepoint);
	free(l);
}

static int lite_exec(struct db *db, const char *sql)
{
	return code(sqlite3_exec(LITE(db)->h, sql, NULL, NULL, NULL));
}

static int lite_in_tx(struct db *db)
{
	return !sqlite3_get_autocommit(LITE(db)->h);
}

static int lite_begin(struct db *db)
{
	return lite_exec(db, "BEGIN IMMEDIATE");
}

static int lite_prepare(struct db *db, const char *sql, int cached, struct dbstmt **out)
{
	struct lite *l = LITE(db);
	if (cached)
		for (struct lite_stmt *s = l->cache; s; s = s->next)
			if (!s->in_use && !strcmp(sqlite3_sql(s->h), sql)) {
				s->in_use = 1;
				*out = &s->base;
				return DB_OK;
			}
	sqlite3_stmt *h = NULL;
	int rc = sqlite3_prepare_v3(l->h, sql, -1, cached ? SQLITE_PREPARE_PERSISTENT : 0, &h, NULL);
	if (rc != SQLITE_OK)
		return code(rc);
	struct lite_stmt *s = xcalloc(1, sizeof(*s));
	s->base.db = db;
	s->h = h;
	if (cached) {
		s->cached = s->in_use = 1;
		s->next = l->cache;
		l->cache = s;
	}
	*out = &s->base;
	return DB_OK;
}

static int lite_step(struct dbstmt *st)
{
	return code(sqlite3_step(STMT(st)->h));
}

static void lite_reset(struct dbstmt *st)
{
	sqlite3_reset(STMT(st)->h);
	sqlite3_clear_bindings(STMT(st)->h);
	STMT(st)->in_use = 0;
}

static void lite_finalize(struct dbstmt *st)
{
	if (STMT(st)->cached) {
		lite_reset(st);
		return;
	}
	sqlite3_finalize(STMT(st)->h);
	free(st);
}

static int lite_param_count(struct dbstmt *st)
{
	return sqlite3_bind_parameter_count(STMT(st)->h);
}

static void lite_bind(struct dbstmt *st, int i, enum db_bind kind, int64_t v, const void *p,
		      size_t n)
{
	sqlite3_stmt *h = STMT(st)->h;
	switch (kind) {
	case DB_BIND_NULL:
		sqlite3_bind_null(h, i);
		break;
	case DB_BIND_I64:
		sqlite3_bind_int64(h, i, v);
		break;
	case DB_BIND_TEXT:
		sqlite3_bind_text64(h, i, p, n, SQLITE_TRANSIENT, SQLITE_UTF8);
		break;
	case DB_BIND_BLOB:
		sqlite3_bind_blob64(h, i, p, n, SQLITE_TRANSIENT);
		break;
	}
}

static int lite_col_null(struct dbstmt *st, int i)
{
	return sqlite3_column_type(STMT(st)->h, i) == SQLITE_NULL;
}

static int64_t lite_col_i64(struct dbstmt *st, int i)
{
	return sqlite3_column_int64(STMT(st)->h, i);
}

static const char *lite_col_text(struct dbstmt *st, int i)
{
	return (const char *)sqlite3_column_text(STMT(st)->h, i);
}

static const void *lite_col_blob(struct dbstmt *st, int i, size_t *n)
{
	const void *p = sqlite3_column_blob(STMT(st)->h, i);
	*n = (size_t)sqlite3_column_bytes(STMT(st)->h, i);
	return p;
}

static int lite_changes(struct db *db)
{
	return sqlite3_changes(LITE(db)->h);
}

static const char *lite_errmsg(struct db *db)
{
	return sqlite3_errmsg(LITE(db)->h);
}

static int lite_errcode(struct db *db)
{
	return code(sqlite3_errcode(LITE(db)->h));
}

static int lite_damaged(struct db *db)
{
	int c = sqlite3_errcode(LITE(db)->h);
	return c == SQLITE_CORRUPT || c == SQLITE_NOTADB;
}

static const char *lite_where(struct db *db)
{
	const char *f = sqlite3_db_filename(LITE(db)->h, "main");
	return f ? f : "";
}

static int lite_has_table(struct db *db, const char *name)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(LITE(db)->h,
			       "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int lite_legacy_version(struct db *db)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(LITE(db)->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* kept in step with schema_version so an older kiln, which reads only
 * user_version, refuses a store newer than it knows */
static int lite_set_legacy_version(struct db *db, int v)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	return lite_exec(db, sql);
}

static char *lite_migration(struct db *db, int i)
{
	(void)db;
	return xstrdup(db_migrations[i]);
}

static const struct db_ops lite_ops = {
	.name = "sqlite",
	.dialect = DB_SQLITE,
	.close = lite_close,
	.exec = lite_exec,
	.in_tx = lite_in_tx,
	.begin = lite_begin,
	.prepare = lite_prepare,
	.step = lite_step,
	.reset = lite_reset,
	.finalize = lite_finalize,
	.param_count = lite_param_count,
	.bind = lite_bind,
	.col_null = lite_col_null,
	.col_i64 = lite_col_i64,
	.col_text = lite_col_text,
	.col_blob = lite_col_blob,
	.changes = lite_changes,
	.errmsg = lite_errmsg,
	.errcode = lite_errcode,
	.damaged = lite_damaged,
	.where = lite_where,
	.has_table = lite_has_table,
	.legacy_version = lite_legacy_version,
	.set_legacy_version = lite_set_legacy_version,
	.migration = lite_migration,
};

/*
 * Put the store in WAL mode. Switching needs an exclusive lock and SQLite
 * does not wait through the busy handler for it: when kiln processes open
 * a fresh store at once, retry (bounded by the busy timeout); a store in
 * WAL mode already needs no lock.
 */
static int set_wal(sqlite3 *db)
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
	return -1;
}

int db_open_readonly(const char *path, struct db **out)
{
	sqlite3 *h = NULL;
	*out = NULL;
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return -1;
	}
	sqlite3_busy_timeout(h, 2000);
	struct lite *l = xcalloc(1, sizeof(*l));
	l->base.ops = &lite_ops;
	l->h = h;
	*out = &l->base;
	return 0;
}

/*
 * The WAL hook (it replaces SQLite's autocheckpoint, itself a WAL hook):
 * remember the WAL's size for lite_close, checkpoint where autocheckpoint
 * would have.
 */
static int wal_commit(void *arg, sqlite3 *h, const char *name, int frames)
{
	struct lite *l = arg;
	l->wal_frames = frames;
	if (frames >= AUTO_CKPT_FRAMES) {
		sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		l->wal_frames = 0;
	}
	return SQLITE_OK;
}

/*
 * Open (creating) the file with WAL and a busy timeout. 0 and *out (also on
 * a failure after the file opened: *out is then set and -1 returned, so
 * db_open can tell a damaged file from a new one), or -1 with err.
 */
int db_sqlite_open(const char *path, struct db **out, struct buf *err)
{
	sqlite3 *h = NULL;
	*out = NULL;
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		buf_addf(err, "%s", h ? sqlite3_errmsg(h) : "out of memory");
		sqlite3_close(h);
		return -1;
	}
	struct lite *l = xcalloc(1, sizeof(*l));
	l->base.ops = &lite_ops;
	l->h = h;
	*out = &l->base;
	/* concurrent kiln processes wait for the writer lock, not fail */
	sqlite3_busy_timeout(h, DB_BUSY_TIMEOUT_MS);
	if (set_wal(h) < 0 ||
	    sqlite3_exec(h, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;", NULL, NULL,
			 NULL) != SQLITE_OK) {
		buf_addf(err, "sqlite: %s", sqlite3_errmsg(h));
		return -1;
	}
	/*
	 * Every `kiln run` opens and closes the store: keep the WAL file
	 * between connections (no new file + directory fsync each time) and
	 * leave checkpoints to SQLite's autocheckpoint instead of one (with
	 * its fsyncs) on every close. Committed data is in the WAL either way.
	 */
	int persist = 1;
	sqlite3_file_control(h, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	sqlite3_db_config(h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	sqlite3_wal_hook(h, wal_commit, l);
	return 0;
}
