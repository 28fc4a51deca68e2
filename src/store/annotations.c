/* annotations: a run's annotations in the history (see annotations.h). */
#include "base/kiln.h"
#include "store/annotations.h"
#include "store/runs.h"
#include "store/sql.h"

int annotations_add(struct db *db, int64_t job_id, const char *level, const char *step,
		    const char *file, int line, int col, const char *title, const char *message,
		    struct buf *err)
{
	int n = sql_run(db, err, "cannot record annotation",
			"INSERT INTO annotations (run_id, job_id, level, step, file, line, col, title,"
			" message, created_at) SELECT run_id, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9"
			" FROM jobs WHERE id = ?1"
			" AND (SELECT COUNT(*) FROM annotations WHERE job_id = ?1) < ?10",
			"itttiittii", job_id, level, step ? step : "", file ? file : "", (int64_t)line,
			(int64_t)col, title ? title : "", message, runs_now_ms(),
			(int64_t)ANNOTATIONS_PER_JOB);
	return n < 0 ? -1 : 0;
}

static void read_row(struct dbstmt *st, void *el)
{
	struct annotation_row *a = el;
	a->id = dbs_col_i64(st, 0);
	a->job_id = dbs_col_i64(st, 1);
	sql_col_text(st, 2, a->job, sizeof(a->job));
	sql_col_text(st, 3, a->level, sizeof(a->level));
	sql_col_text(st, 4, a->step, sizeof(a->step));
	sql_col_text(st, 5, a->file, sizeof(a->file));
	a->line = dbs_col_int(st, 6);
	a->col = dbs_col_int(st, 7);
	sql_col_text(st, 8, a->title, sizeof(a->title));
	sql_col_text(st, 9, a->message, sizeof(a->message));
	a->created_ms = dbs_col_i64(st, 10);
}

int annotations_list(struct db *db, int64_t run_id, int64_t job_id, struct annotation_row **out,
		     size_t *n, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot list annotations",
				    "SELECT a.id, a.job_id, j.name, a.level, a.step, a.file, a.line, a.col,"
				    " a.title, a.message, a.created_at FROM annotations a"
				    " JOIN jobs j ON j.id = a.job_id WHERE a.run_id = ?1"
				    " AND (?2 = 0 OR a.job_id = ?2) ORDER BY a.id", "ii", run_id, job_id);
	return sql_rows(db, st, err, "cannot list annotations", sizeof(**out), read_row,
			(void **)out, n);
}
