/* db: opening the store (SQLite file or PostgreSQL URL) and migrating it. */
#include "base/kiln.h"
#include "base/util.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/sqlimpl.h"

#include <unistd.h>

int db_schema_version(void)
{
	return db_nmigrations;
}

int db_is_url(const char *where)
{
	return str_starts_with(where, "postgres://") || str_starts_with(where, "postgresql://");
}

int db_exec(struct db *db, const char *sql, struct buf *err)
{
	if (db->ops->exec(db, sql) == DB_OK)
		return 0;
	if (err) {
		buf_addf(err, "%s: %s", db->ops->name, db_errmsg(db));
		if (db->ops->damaged(db))
			db_hint_damaged(db->ops->where(db), err);
	}
	return -1;
}

int db_store_version(struct db *db)
{
	int t = db->ops->has_table(db, "schema_version");
	if (t <= 0)
		return t < 0 ? -1 : db->ops->legacy_version(db);
	struct dbstmt *st;
	int v = -1;
	if (db_prepare(db, "SELECT MAX(version) FROM schema_version", &st) != DB_OK)
		return -1;
	if (dbs_step(st) == DB_ROW)
		v = dbs_col_int(st, 0);
	dbs_finalize(st);
	return v;
}

static int too_new(int v, struct buf *err)
{
	buf_addf(err, "database schema version %d is newer than this kiln knows (%d)", v, db_nmigrations);
	return -1;
}

static int cannot_read_version(struct db *db, struct buf *err)
{
	buf_addf(err, "%s: cannot read schema version: %s", db->ops->name, db_errmsg(db));
	return -1;
}

/* the version, in schema_version and (SQLite) user_version */
static int write_version(struct db *db, struct buf *err)
{
	struct buf sql = BUF_INIT;
	buf_addf(&sql,
		 "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);"
		 " DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (%d);",
		 db_nmigrations);
	int r = db_exec(db, sql.buf, err);
	buf_release(&sql);
	if (!r && db->ops->set_legacy_version(db, db_nmigrations) != DB_OK)
		r = db_fail(db, err, "cannot record schema version");
	return r;
}

/*
 * Bring the schema to db_nmigrations. Any number of kiln processes (and
 * server replicas) may open a fresh store at once: the version read before
 * the lock is only a fast path; the migrations run under the writer lock
 * (sql_begin) after reading the version again, so exactly one opener
 * applies each migration and the others see the result. All pending
 * migrations and the new version commit together. A SQLite store from
 * before the schema_version table (version in PRAGMA user_version) takes
 * the locked path once to get the table.
 */
static int migrate(struct db *db, struct buf *err)
{
	int v = db_store_version(db);
	if (v < 0)
		return cannot_read_version(db, err);
	if (v > db_nmigrations)
		return too_new(v, err);
	if (v == db_nmigrations && db->ops->has_table(db, "schema_version") == 1)
		return 0;
	if (sql_begin(db, err) < 0)
		return -1;
	v = db_store_version(db);
	int r = 0;
	if (v < 0)
		r = cannot_read_version(db, err);
	else if (v > db_nmigrations)
		r = too_new(v, err);
	for (; !r && v < db_nmigrations; v++) {
		char *sql = db->ops->migration(db, v);
		if (db_exec(db, sql, err) < 0) {
			buf_addf(err, " (in migration %d)", v + 1);
			r = -1;
		}
		free(sql);
	}
	if (!r)
		r = write_version(db, err);
	if (!r)
		r = db_exec(db, "COMMIT", err);
	if (r < 0)
		sql_rollback(db);
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
	 * refuses every statement on a truncated file, PRAGMA too. The
	 * schema_version table is left out of the copy (it may survive where
	 * the tables it vouches for did not): the next open migrates forward
	 * from user_version, which kiln keeps in step with it. The indexes
	 * and triggers of tables the dump lost (a truncated file) are left
	 * out too: they would fail the copy of everything else.
	 */
	buf_addf(err,
		 "\nhint: the store '%s' is damaged; move it aside and kiln starts a new one:"
		 "\nhint:   mkdir %s && mv %s* %.*s/'"
		 "\nhint: then copy what can still be read into the new store:"
		 "\nhint:   (sqlite3 %s .dump | sed -e '/schema_version/d' -e 's/^ROLLBACK; -- due to errors$/COMMIT;/'"
		 " | awk '/^CREATE TABLE /{t[$3==\"IF\"?$6:$3]=1} /^CREATE (INDEX|TRIGGER) / &&"
		 " match($0,/ ON [a-z_]+/) && !(substr($0,RSTART+4,RLENGTH-4) in t){next} 1';"
		 " echo \"PRAGMA user_version = $(od -An -tu4 --endian=big -j60 -N4 %s | tr -d ' ');\")"
		 " | sqlite3 %s",
		 path, q_aside.buf, q_path.buf, (int)q_aside.len - 1, q_aside.buf, q_copy.buf,
		 q_copy.buf, q_path.buf);
	buf_release(&q_copy);
	buf_release(&q_path);
	buf_release(&q_aside);
	buf_release(&dir);
}

int db_fail(struct db *db, struct buf *err, const char *what)
{
	sql_fail(db, err, what);
	if (db->ops->damaged(db))
		db_hint_damaged(db->ops->where(db), err);
	return -1;
}

static int open_backend(const char *where, struct db **out, struct buf *err)
{
	if (db_is_url(where))
		return db_pg_open(where, out, err);
	return db_sqlite_open(where, out, err);
}

int db_open(const char *where, struct db **out, struct buf *err)
{
	struct db *db = NULL;
	struct buf why = BUF_INIT;
	*out = NULL;
	int url = db_is_url(where);
	char *shown = url ? url_redact(where) : xstrdup(where);
	int r = open_backend(where, &db, &why);
	if (!r)
		r = migrate(db, &why);
	if (r < 0) {
		/* name the store: the message alone ("file is not a database")
		 * does not say which */
		const char *msg = why.buf;
		if (str_starts_with(msg, "sqlite: "))
			msg += 8;
		buf_addf(err, "cannot open the store '%s': %s", shown, msg);
		if (!db)
			r = !url && access(where, F_OK) != 0 ? KILN_ENOENT : -1;
		else if (db->ops->damaged(db))
			db_hint_damaged(where, err);
		else if (db_store_version(db) == 0)
			r = KILN_ENOENT; /* a new store that could not be made */
		db_close(db);
		db = NULL;
	}
	buf_release(&why);
	free(shown);
	*out = db;
	return r;
}

void db_close(struct db *db)
{
	if (db)
		db->ops->close(db);
}
