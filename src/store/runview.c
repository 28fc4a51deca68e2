/*
 * runview: the web UI's read-only queries of the run history (see
 * runview.h). A server run names its event and repository (runs.event_id,
 * runs.repo_name: migration 17); the actor is its event's.
 */
#include "base/kiln.h"
#include "store/runview.h"
#include "store/sql.h"

#define COLS                                                                              \
	"r.id, r.number, r.workflow, r.name, r.event, r.ref, r.sha, r.status,"            \
	" COALESCE(r.conclusion, ''), COALESCE(r.reason, ''), r.repo_name,"                 \
	" COALESCE(e.actor, ''), COALESCE(r.event_id, 0), r.started_at,"                    \
	" COALESCE(r.finished_at, 0), r.attempt"
#define FROM " FROM runs r LEFT JOIN events e ON e.id = r.event_id"

static void read_run(struct dbstmt *st, struct runview *v)
{
	memset(v, 0, sizeof(*v));
	v->id = dbs_col_i64(st, 0);
	v->number = dbs_col_int(st, 1);
	sql_col_text(st, 2, v->workflow, sizeof(v->workflow));
	sql_col_text(st, 3, v->name, sizeof(v->name));
	sql_col_text(st, 4, v->event, sizeof(v->event));
	sql_col_text(st, 5, v->ref, sizeof(v->ref));
	sql_col_text(st, 6, v->sha, sizeof(v->sha));
	sql_col_text(st, 7, v->status, sizeof(v->status));
	sql_col_text(st, 8, v->conclusion, sizeof(v->conclusion));
	sql_col_text(st, 9, v->reason, sizeof(v->reason));
	sql_col_text(st, 10, v->repo_name, sizeof(v->repo_name));
	sql_col_text(st, 11, v->actor, sizeof(v->actor));
	v->event_id = dbs_col_i64(st, 12);
	v->started_ms = dbs_col_i64(st, 13);
	v->finished_ms = dbs_col_i64(st, 14);
	v->attempt = dbs_col_int(st, 15);
}

static const char *opt(const char *s) { return s && *s ? s : NULL; }

/* collect every row of st (finalized here) */
static int collect(struct db *db, struct dbstmt *st, size_t max, struct runview **out, size_t *n,
		   int *more, struct buf *err)
{
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	if (more)
		*more = 0;
	while ((rc = dbs_step(st)) == DB_ROW) {
		if (*n == max) {
			if (more)
				*more = 1;
			break;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		read_run(st, &(*out)[(*n)++]);
	}
	if (rc != DB_ROW && rc != DB_DONE) {
		sql_fail(db, err, "cannot list runs");
		dbs_finalize(st);
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	dbs_finalize(st);
	return 0;
}

int runview_list(struct db *db, const struct runview_filter *f,
		 int offset, int limit, struct runview **out, size_t *n, int *more,
		 struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot list runs",
		"SELECT " COLS FROM " WHERE (?1 IS NULL OR r.repo_name = ?1)"
		" AND (?2 IS NULL OR r.workflow = ?2 OR r.name = ?2"
		"      OR r.workflow LIKE '%/' || ?2 OR r.workflow LIKE '%/' || ?2 || '.yml'"
		"      OR r.workflow LIKE '%/' || ?2 || '.yaml')"
		" AND (?3 IS NULL OR r.ref = ?3 OR r.ref = 'refs/heads/' || ?3 OR r.ref = 'refs/tags/' || ?3)"
		" AND (?4 IS NULL OR r.event = ?4)"
		" AND (?5 IS NULL OR COALESCE(r.conclusion, r.status) = ?5)"
		" AND (?6 IS NULL OR e.actor = ?6)"
		" ORDER BY r.id DESC LIMIT ?7 OFFSET ?8",
		"ttttttii", opt(f->repo), opt(f->workflow), opt(f->branch),
		opt(f->event), opt(f->status), opt(f->actor), (int64_t)limit + 1, (int64_t)offset);
	if (!st)
		return -1;
	return collect(db, st, (size_t)limit, out, n, more, err);
}

int runview_get(struct db *db, int64_t id, struct runview *out,
		struct buf *err)
{
	struct runview *v;
	size_t n;
	struct dbstmt *st = sql_prep(db, err, "cannot read run",
				    "SELECT " COLS FROM " WHERE r.id = ?1", "i", id);
	if (!st || collect(db, st, 1, &v, &n, NULL, err))
		return -1;
	if (!n) {
		free(v);
		return KILN_ENOENT;
	}
	*out = v[0];
	free(v);
	return 0;
}

int runview_branches(struct db *db, const char *repo, struct runview **out,
		     size_t *n, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot list branches",
		"SELECT " COLS FROM " WHERE r.repo_name = ?1 AND r.ref LIKE 'refs/heads/%' AND r.id IN"
		" (SELECT MAX(id) FROM runs WHERE repo_name = ?1 GROUP BY ref)"
		" ORDER BY r.id DESC LIMIT 50", "t", repo);
	if (!st)
		return -1;
	return collect(db, st, 50, out, n, NULL, err);
}

static void read_job(struct dbstmt *st, struct runview_job *j)
{
	memset(j, 0, sizeof(*j));
	j->id = dbs_col_i64(st, 0);
	sql_col_text(st, 1, j->name, sizeof(j->name));
	sql_col_text(st, 2, j->status, sizeof(j->status));
	sql_col_text(st, 3, j->conclusion, sizeof(j->conclusion));
	j->started_ms = dbs_col_i64(st, 4);
	j->finished_ms = dbs_col_i64(st, 5);
}

int runview_jobs(struct db *db, int64_t run_id, struct runview_job **out, size_t *n,
		 struct buf *err)
{
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	struct dbstmt *st = sql_prep(db, err, "cannot list jobs",
				    "SELECT id, name, status, COALESCE(conclusion, ''),"
				    " COALESCE(started_at, 0), COALESCE(finished_at, 0)"
				    " FROM jobs WHERE run_id = ?1 ORDER BY id", "i", run_id);
	if (!st)
		return -1;
	while ((rc = dbs_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		read_job(st, &(*out)[(*n)++]);
	}
	dbs_finalize(st);
	if (rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return sql_fail(db, err, "cannot list jobs");
	}
	return 0;
}

int runview_job(struct db *db, int64_t run_id, int64_t job_id, struct runview_job *out,
		struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot read job",
				    "SELECT id, name, status, COALESCE(conclusion, ''),"
				    " COALESCE(started_at, 0), COALESCE(finished_at, 0)"
				    " FROM jobs WHERE run_id = ?1 AND id = ?2", "ii", run_id, job_id);
	if (!st)
		return -1;
	int rc = dbs_step(st);
	if (rc == DB_ROW)
		read_job(st, out);
	dbs_finalize(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? KILN_ENOENT : sql_fail(db, err, "cannot read job");
}

int runview_job_summary(struct db *db, int64_t job_id, struct buf *out, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot read job summary",
				    "SELECT summary FROM jobs WHERE id = ?1", "i", job_id);
	if (!st)
		return -1;
	int rc = dbs_step(st);
	if (rc == DB_ROW && dbs_col_text(st, 0))
		buf_addstr(out, dbs_col_text(st, 0));
	dbs_finalize(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : sql_fail(db, err, "cannot read job summary");
}

int runview_steps(struct db *db, int64_t job_id, struct runview_step **out, size_t *n,
		  struct buf *err)
{
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	struct dbstmt *st = sql_prep(db, err, "cannot list steps",
				    "SELECT number, name, status, COALESCE(conclusion, ''),"
				    " COALESCE(started_at, 0), COALESCE(finished_at, 0)"
				    " FROM steps WHERE job_id = ?1 ORDER BY number", "i", job_id);
	if (!st)
		return -1;
	while ((rc = dbs_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		struct runview_step *s = &(*out)[(*n)++];
		memset(s, 0, sizeof(*s));
		s->number = dbs_col_int(st, 0);
		sql_col_text(st, 1, s->name, sizeof(s->name));
		sql_col_text(st, 2, s->status, sizeof(s->status));
		sql_col_text(st, 3, s->conclusion, sizeof(s->conclusion));
		s->started_ms = dbs_col_i64(st, 4);
		s->finished_ms = dbs_col_i64(st, 5);
	}
	dbs_finalize(st);
	if (rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return sql_fail(db, err, "cannot list steps");
	}
	return 0;
}
