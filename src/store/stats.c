/* stats: aggregate counts for /metrics (see stats.h). */
#include "base/kiln.h"
#include "store/stats.h"

static int fail(struct db *db, struct buf *err, const char *what)
{
	buf_addf(err, "%s: %s: %s", db_name(db), what, db_errmsg(db));
	return -1;
}

static int counts(struct db *db, const char *sql, struct stat_count **out, size_t *n,
		  struct buf *err)
{
	struct dbstmt *st = NULL;
	size_t alloc = 0;
	*out = NULL;
	*n = 0;
	if (db_prepare(db, sql, &st) != DB_OK)
		return fail(db, err, "cannot count");
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW) {
		ALLOC_GROW(*out, *n + 1, alloc);
		const char *l = dbs_col_text(st, 0);
		snprintf((*out)[*n].label, sizeof((*out)[*n].label), "%s", l ? (const char *)l : "");
		(*out)[(*n)++].n = dbs_col_i64(st, 1);
	}
	dbs_finalize(st);
	if (rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return fail(db, err, "cannot count");
	}
	return 0;
}

int stats_events_by_status(struct db *db, struct stat_count **out, size_t *n, struct buf *err)
{
	return counts(db, "SELECT status, count(*) FROM events GROUP BY status ORDER BY status", out,
		      n, err);
}

int stats_by_conclusion(struct db *db, const char *what, struct stat_count **out, size_t *n,
			struct buf *err)
{
	if (!strcmp(what, "runs"))
		return counts(db, "SELECT conclusion, count(*) FROM runs WHERE conclusion IS NOT NULL"
				  " GROUP BY conclusion ORDER BY conclusion", out, n, err);
	return counts(db, "SELECT conclusion, count(*) FROM jobs WHERE conclusion IS NOT NULL"
			  " GROUP BY conclusion ORDER BY conclusion", out, n, err);
}

int stats_job_durations(struct db *db, const int64_t *bounds_ms, size_t nb, int64_t *counts_out,
			int64_t *count, int64_t *sum_ms, struct buf *err)
{
	struct dbstmt *st = NULL;
	memset(counts_out, 0, nb * sizeof(*counts_out));
	*count = *sum_ms = 0;
	if (db_prepare(db, "SELECT finished_at - started_at FROM jobs WHERE"
				   " finished_at IS NOT NULL AND started_at IS NOT NULL", &st) != DB_OK)
		return fail(db, err, "cannot read job durations");
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW) {
		int64_t d = dbs_col_i64(st, 0);
		if (d < 0)
			d = 0;
		for (size_t i = 0; i < nb; i++)
			if (d <= bounds_ms[i])
				counts_out[i]++;
		(*count)++;
		*sum_ms += d;
	}
	dbs_finalize(st);
	return rc == DB_DONE ? 0 : fail(db, err, "cannot read job durations");
}
