/* artifacts: the run history's record of uploaded artifacts (see artifacts.h). */
#include "base/kiln.h"
#include "store/artifacts.h"
#include "store/runs.h"
#include "store/sql.h"

int artifacts_record(struct db *db, int64_t job_id, const char *name, int64_t size, int64_t files,
		     const char *digest, int64_t expires_ms, struct buf *err)
{
	int n = sql_run(db, err, "cannot record artifact",
			"INSERT INTO artifacts (run_id, job_id, name, size, files, digest, created_at,"
			" expires_at) SELECT run_id, ?1, ?2, ?3, ?4, ?5, ?6, ?7 FROM jobs WHERE id = ?1"
			" ON CONFLICT (run_id, name) DO UPDATE SET job_id = excluded.job_id,"
			" size = excluded.size, files = excluded.files, digest = excluded.digest,"
			" created_at = excluded.created_at, expires_at = excluded.expires_at, expired = 0",
			"itiitii", job_id, name, size, files, digest, runs_now_ms(), expires_ms);
	return n < 0 ? -1 : 0;
}

#define COLS "a.id, a.run_id, COALESCE(a.job_id, 0), a.name, COALESCE(j.name, ''), a.size," \
	     " a.files, a.digest, a.created_at, a.expires_at, a.expired"
#define FROM " FROM artifacts a LEFT JOIN jobs j ON j.id = a.job_id"

static void read_row(struct dbstmt *st, void *el)
{
	struct artifact_row *a = el;
	a->id = dbs_col_i64(st, 0);
	a->run_id = dbs_col_i64(st, 1);
	a->job_id = dbs_col_i64(st, 2);
	sql_col_text(st, 3, a->name, sizeof(a->name));
	sql_col_text(st, 4, a->job, sizeof(a->job));
	a->size = dbs_col_i64(st, 5);
	a->files = dbs_col_i64(st, 6);
	sql_col_text(st, 7, a->digest, sizeof(a->digest));
	a->created_ms = dbs_col_i64(st, 8);
	a->expires_ms = dbs_col_i64(st, 9);
	a->expired = dbs_col_int(st, 10) != 0;
}

int artifacts_list(struct db *db, int64_t run_id, struct artifact_row **out, size_t *n,
		   struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot list artifacts",
				    "SELECT " COLS FROM " WHERE a.run_id = ?1 ORDER BY a.name", "i",
				    run_id);
	return sql_rows(db, st, err, "cannot list artifacts", sizeof(**out), read_row, (void **)out, n);
}

int artifacts_get(struct db *db, int64_t run_id, const char *name, struct artifact_row *out,
		  struct buf *err)
{
	struct artifact_row *v;
	size_t n;
	struct dbstmt *st = sql_prep(db, err, "cannot read artifact",
				    "SELECT " COLS FROM " WHERE a.run_id = ?1 AND a.name = ?2", "it",
				    run_id, name);
	if (sql_rows(db, st, err, "cannot read artifact", sizeof(*v), read_row, (void **)&v, &n))
		return -1;
	if (n)
		*out = v[0];
	free(v);
	return n ? 0 : KILN_ENOENT;
}

static void read_digest(struct dbstmt *st, void *el)
{
	sql_col_text(st, 0, el, 65);
}

int artifacts_expire(struct db *db, int64_t now_ms, struct strvec *gone, struct buf *err)
{
	char(*v)[65] = NULL;
	size_t n = 0;
	if (sql_begin(db, err))
		return -1;
	/* the digests that lose their last unexpired artifact now */
	struct dbstmt *st = sql_prep(db, err, "cannot expire artifacts",
				    "SELECT DISTINCT digest FROM artifacts WHERE expired = 0 AND expires_at <= ?1"
				    " AND digest NOT IN (SELECT digest FROM artifacts WHERE expired = 0"
				    " AND expires_at > ?1)", "i", now_ms);
	if (sql_rows(db, st, err, "cannot expire artifacts", sizeof(*v), read_digest, (void **)&v, &n) ||
	    sql_run(db, err, "cannot expire artifacts",
		    "UPDATE artifacts SET expired = 1 WHERE expired = 0 AND expires_at <= ?1", "i",
		    now_ms) < 0 ||
	    sql_commit(db, err)) {
		sql_rollback(db);
		free(v);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		strvec_push(gone, v[i]);
	free(v);
	return 0;
}
