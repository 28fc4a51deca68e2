/*
 * unit tests for the store interface (src/store/sql.h, db.h): the same
 * tests on SQLite and, when KILN_TEST_PG_URL names a scratch PostgreSQL
 * database (tests/lib-pg.sh starts one), on PostgreSQL. Each test starts
 * from an empty store: a new file, or the database's public schema
 * dropped and made again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/sql.h"

#include <sqlite3.h>
#include <unistd.h>

struct fx {
	char dir[64];
	char *where; /* the SQLite file or the PostgreSQL URL */
	struct db *db;
};

static const char *pg_url(void)
{
	const char *u = getenv("KILN_TEST_PG_URL");
	return u && *u ? u : NULL;
}

static void must_exec(struct db *db, const char *sql)
{
	struct buf err = BUF_INIT;
	if (db_exec(db, sql, &err) < 0)
		fail_msg("%s: %s", sql, err.buf);
	buf_release(&err);
}

static struct fx *fx_new(int pg)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->where = pg ? xstrdup(pg_url()) : xstrfmt("%s/kiln.db", f->dir);
	struct buf err = BUF_INIT;
	if (pg) {
		/* an empty database: drop what the previous test made */
		if (db_open(f->where, &f->db, &err) < 0)
			fail_msg("%s", err.buf);
		must_exec(f->db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
		db_close(f->db);
	}
	if (db_open(f->where, &f->db, &err) < 0)
		fail_msg("%s", err.buf);
	buf_release(&err);
	return f;
}

static int setup_lite(void **state)
{
	*state = fx_new(0);
	return 0;
}

static int setup_pg(void **state)
{
	*state = fx_new(1);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	db_close(f->db);
	char *cmd = xstrfmt("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->where);
	free(f);
	return 0;
}

static void scratch(struct db *db)
{
	must_exec(db, "CREATE TABLE scratch (id INTEGER PRIMARY KEY, n BIGINT, s TEXT UNIQUE,"
		      " b BLOB, flag INTEGER NOT NULL DEFAULT 0)");
}

static void test_types(void **state)
{
	struct fx *f = *state;
	scratch(f->db);
	struct dbstmt *st;
	assert_int_equal(db_prepare(f->db, "INSERT INTO scratch (n, s, b) VALUES (?1, ?2, ?3)"
				    " RETURNING id", &st), DB_OK);
	assert_int_equal(dbs_param_count(st), 3);
	static const unsigned char blob[] = { 0, 1, 2, 0xff, 0, '\'', '\\', 'x' };
	dbs_bind_i64(st, 1, INT64_C(1) << 40);
	dbs_bind_textn(st, 2, "héllo, world", 6); /* "héllo" is 6 bytes */
	dbs_bind_blob(st, 3, blob, sizeof(blob));
	int64_t id1, id2;
	assert_int_equal(dbs_step_id(st, &id1), DB_DONE);
	assert_true(id1 > 0);
	dbs_reset(st);
	/* reset clears the bindings: all three bind NULL now */
	assert_int_equal(dbs_step_id(st, &id2), DB_DONE);
	assert_true(id2 > id1);
	dbs_finalize(st);

	assert_int_equal(db_prepare(f->db, "SELECT n, s, b, flag, id FROM scratch ORDER BY id", &st),
			 DB_OK);
	assert_int_equal(dbs_step(st), DB_ROW);
	assert_true(dbs_col_i64(st, 0) == INT64_C(1) << 40);
	assert_string_equal(dbs_col_text(st, 1), "héllo");
	assert_int_equal(dbs_col_bytes(st, 2), sizeof(blob));
	assert_memory_equal(dbs_col_blob(st, 2), blob, sizeof(blob));
	assert_int_equal(dbs_col_int(st, 3), 0);
	assert_false(dbs_col_null(st, 1));
	assert_int_equal(dbs_col_i64(st, 4), id1);
	assert_int_equal(dbs_step(st), DB_ROW);
	assert_true(dbs_col_null(st, 0));
	assert_int_equal(dbs_col_i64(st, 0), 0);
	assert_null(dbs_col_text(st, 1));
	assert_true(dbs_col_null(st, 2));
	assert_int_equal(dbs_step(st), DB_DONE);
	dbs_finalize(st);

	/* numbers read as text, and ?N used twice is one parameter */
	struct buf err = BUF_INIT;
	st = sql_prep(f->db, &err, "count", "SELECT COUNT(*) FROM scratch WHERE n = ?1 OR ?1 IS NULL",
		      "i", INT64_C(1) << 40);
	assert_non_null(st);
	assert_int_equal(dbs_step(st), DB_ROW);
	assert_string_equal(dbs_col_text(st, 0), "1");
	dbs_finalize(st);
	buf_release(&err);
}

static void test_changes_and_errors(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	scratch(f->db);
	assert_int_equal(sql_run(f->db, &err, "add", "INSERT INTO scratch (s) VALUES (?1), (?2)", "tt",
				 "a", "b"),
			 2);
	assert_int_equal(sql_run(f->db, &err, "set", "UPDATE scratch SET flag = 1 WHERE s <> ?1", "t",
				 "zzz"),
			 2);
	/* a UNIQUE violation is DB_CONSTRAINT on both back-ends */
	struct dbstmt *st = sql_prep(f->db, &err, "dup", "INSERT INTO scratch (s) VALUES (?1)", "t", "a");
	assert_non_null(st);
	assert_int_equal(dbs_step(st), DB_CONSTRAINT);
	assert_int_equal(db_errcode(f->db), DB_CONSTRAINT);
	dbs_finalize(st);
	/* ON CONFLICT ... DO UPDATE with excluded, DO NOTHING */
	assert_int_equal(sql_run(f->db, &err, "upsert",
				 "INSERT INTO scratch (s, n) VALUES (?1, ?2) ON CONFLICT (s)"
				 " DO UPDATE SET n = excluded.n",
				 "ti", "a", (int64_t)7),
			 1);
	assert_int_equal(sql_run(f->db, &err, "ignore",
				 "INSERT INTO scratch (s, n) VALUES (?1, 8) ON CONFLICT DO NOTHING", "t", "a"),
			 0);
	int64_t id = -1;
	st = sql_prep(f->db, &err, "ignore", "INSERT INTO scratch (s) VALUES (?1) ON CONFLICT DO NOTHING"
		      " RETURNING id", "t", "b");
	assert_int_equal(dbs_step_id(st, &id), DB_DONE);
	assert_int_equal(id, 0);
	dbs_finalize(st);
	st = sql_prep(f->db, &err, "read", "SELECT n FROM scratch WHERE s = ?1", "t", "a");
	assert_int_equal(dbs_step(st), DB_ROW);
	assert_int_equal(dbs_col_i64(st, 0), 7);
	dbs_finalize(st);
	/* a bad statement fails at prepare or at the first step, with a message */
	buf_reset(&err);
	assert_int_equal(sql_run(f->db, &err, "bad", "SELECT nope FROM scratch", ""), -1);
	assert_non_null(strstr(err.buf, "bad: "));
	assert_non_null(strstr(err.buf, "nope"));
	buf_release(&err);
}

static int64_t count(struct db *db)
{
	struct dbstmt *st;
	assert_int_equal(db_prepare(db, "SELECT COUNT(*) FROM scratch", &st), DB_OK);
	assert_int_equal(dbs_step(st), DB_ROW);
	int64_t n = dbs_col_i64(st, 0);
	dbs_finalize(st);
	return n;
}

static void test_transactions(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	scratch(f->db);
	assert_int_equal(sql_begin(f->db, &err), 0);
	assert_int_equal(sql_run(f->db, &err, "add", "INSERT INTO scratch (s) VALUES ('x')", ""), 1);
	sql_rollback(f->db);
	assert_int_equal(count(f->db), 0);
	assert_int_equal(sql_begin(f->db, &err), 0);
	assert_int_equal(sql_run(f->db, &err, "add", "INSERT INTO scratch (s) VALUES ('x')", ""), 1);
	assert_int_equal(sql_commit(f->db, &err), 0);
	assert_int_equal(count(f->db), 1);
	/* a savepoint outside a transaction starts one; its release commits */
	assert_int_equal(sql_savepoint(f->db, "sp", &err), 0);
	assert_int_equal(sql_run(f->db, &err, "add", "INSERT INTO scratch (s) VALUES ('y')", ""), 1);
	assert_int_equal(sql_release(f->db, "sp", &err), 0);
	assert_int_equal(count(f->db), 2);
	/* rolled back to, then released: nothing stays, and no transaction is left open */
	assert_int_equal(sql_savepoint(f->db, "sp", &err), 0);
	assert_int_equal(sql_run(f->db, &err, "add", "INSERT INTO scratch (s) VALUES ('z')", ""), 1);
	sql_rollback_to(f->db, "sp");
	assert_int_equal(sql_release(f->db, "sp", &err), 0);
	assert_int_equal(count(f->db), 2);
	assert_int_equal(sql_begin(f->db, &err), 0);
	/* nested in a transaction: the savepoint's release does not commit */
	assert_int_equal(sql_savepoint(f->db, "inner", &err), 0);
	assert_int_equal(sql_run(f->db, &err, "add", "INSERT INTO scratch (s) VALUES ('w')", ""), 1);
	assert_int_equal(sql_release(f->db, "inner", &err), 0);
	sql_rollback(f->db);
	assert_int_equal(count(f->db), 2);
	/* a failed statement inside a savepoint, rolled back to: the transaction goes on */
	assert_int_equal(sql_begin(f->db, &err), 0);
	assert_int_equal(sql_savepoint(f->db, "sp", &err), 0);
	assert_int_equal(sql_run(f->db, &err, "dup", "INSERT INTO scratch (s) VALUES ('x')", ""), -1);
	sql_rollback_to(f->db, "sp");
	assert_int_equal(sql_release(f->db, "sp", &err), 0);
	assert_int_equal(sql_run(f->db, &err, "add", "INSERT INTO scratch (s) VALUES ('v')", ""), 1);
	assert_int_equal(sql_commit(f->db, &err), 0);
	assert_int_equal(count(f->db), 3);
	buf_release(&err);
}

static void test_cached(void **state)
{
	struct fx *f = *state;
	scratch(f->db);
	const char *sql = "INSERT INTO scratch (n) VALUES (?1)";
	struct dbstmt *a, *b, *c;
	assert_int_equal(db_prepare_cached(f->db, sql, &a), DB_OK);
	/* in use (not reset): a second user gets another statement */
	assert_int_equal(db_prepare_cached(f->db, sql, &b), DB_OK);
	assert_ptr_not_equal(a, b);
	dbs_bind_i64(a, 1, 1);
	assert_int_equal(dbs_step(a), DB_DONE);
	dbs_reset(a);
	dbs_reset(b);
	assert_int_equal(db_prepare_cached(f->db, sql, &c), DB_OK);
	assert_true(c == a || c == b);
	dbs_bind_i64(c, 1, 2);
	assert_int_equal(dbs_step(c), DB_DONE);
	dbs_finalize(c); /* only resets a cached statement; db_close frees it */
	assert_int_equal(count(f->db), 2);
}

static int64_t version_row(struct db *db)
{
	struct dbstmt *st;
	assert_int_equal(db_prepare(db, "SELECT version FROM schema_version", &st), DB_OK);
	assert_int_equal(dbs_step(st), DB_ROW);
	int64_t v = dbs_col_i64(st, 0);
	assert_int_equal(dbs_step(st), DB_DONE);
	dbs_finalize(st);
	return v;
}

static void test_schema_version(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	assert_int_equal(db_store_version(f->db), db_schema_version());
	assert_int_equal(version_row(f->db), db_schema_version());
	/* reopening changes nothing */
	db_close(f->db);
	assert_int_equal(db_open(f->where, &f->db, &err), 0);
	assert_int_equal(version_row(f->db), db_schema_version());
	/* a store newer than this kiln is refused, and left as it is */
	char *sql = xstrfmt("UPDATE schema_version SET version = %d", db_schema_version() + 1);
	must_exec(f->db, sql);
	free(sql);
	db_close(f->db);
	assert_int_equal(db_open(f->where, &f->db, &err), -1);
	assert_null(f->db);
	assert_non_null(strstr(err.buf, "is newer than this kiln knows"));
	buf_release(&err);
}

/*
 * A SQLite store made by a kiln from before the schema_version table: the
 * migrations of that time applied, the version in PRAGMA user_version, a
 * run recorded. Opening it migrates forward and keeps the run.
 */
static void legacy_store(const char *path, int version)
{
	sqlite3 *h;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	for (int i = 0; i < version; i++)
		if (sqlite3_exec(h, db_migrations[i], NULL, NULL, NULL) != SQLITE_OK)
			fail_msg("migration %d: %s", i + 1, sqlite3_errmsg(h));
	char *sql = xstrfmt("PRAGMA user_version = %d;"
			    " INSERT INTO runs (workflow, name, number, event, status, started_at)"
			    " VALUES ('ci.yml', 'CI', 1, 'push', 'completed', 1000)",
			    version);
	if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s", sqlite3_errmsg(h));
	free(sql);
	sqlite3_close(h);
}

static void test_legacy_user_version(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	db_close(f->db);
	f->db = NULL;
	/* 4: the first schema with runs; and the last one before the table */
	int versions[] = { 4, db_schema_version() };
	for (size_t k = 0; k < ARRAY_SIZE(versions); k++) {
		unlink(f->where);
		legacy_store(f->where, versions[k]);
		assert_int_equal(db_open(f->where, &f->db, &err), 0);
		assert_int_equal(version_row(f->db), db_schema_version());
		assert_int_equal(db_store_version(f->db), db_schema_version());
		struct dbstmt *st;
		assert_int_equal(db_prepare(f->db, "SELECT name FROM runs", &st), DB_OK);
		assert_int_equal(dbs_step(st), DB_ROW);
		assert_string_equal(dbs_col_text(st, 0), "CI");
		dbs_finalize(st);
		db_close(f->db);
		f->db = NULL;
		/* user_version kept in step: an older kiln still sees the version */
		sqlite3 *h;
		assert_int_equal(sqlite3_open(f->where, &h), SQLITE_OK);
		sqlite3_stmt *q;
		assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(q, 0), db_schema_version());
		sqlite3_finalize(q);
		sqlite3_close(h);
	}
	/* newer than this kiln in user_version alone: refused */
	unlink(f->where);
	legacy_store(f->where, 4);
	sqlite3 *h;
	assert_int_equal(sqlite3_open(f->where, &h), SQLITE_OK);
	char *sql = xstrfmt("PRAGMA user_version = %d", db_schema_version() + 1);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	sqlite3_close(h);
	assert_int_equal(db_open(f->where, &f->db, &err), -1);
	assert_non_null(strstr(err.buf, "is newer than this kiln knows"));
	buf_release(&err);
}

#define LITE(fn) cmocka_unit_test_setup_teardown(fn, setup_lite, teardown)
#define PG(fn) cmocka_unit_test_setup_teardown(fn, setup_pg, teardown)

int main(void)
{
	/* the PostgreSQL ones last: left out without a database to run them on */
	const struct CMUnitTest tests[] = {
		LITE(test_types),
		LITE(test_changes_and_errors),
		LITE(test_transactions),
		LITE(test_cached),
		LITE(test_schema_version),
		LITE(test_legacy_user_version),
		PG(test_types),
		PG(test_changes_and_errors),
		PG(test_transactions),
		PG(test_cached),
		PG(test_schema_version),
	};
	size_t n = pg_url() ? ARRAY_SIZE(tests) : 6;
	if (!pg_url())
		fprintf(stderr, "# PostgreSQL cases left out: KILN_TEST_PG_URL is not set\n");
	return _cmocka_run_group_tests("store", tests, n, NULL, NULL);
}
