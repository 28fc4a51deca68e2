/* concurrency: `concurrency:` groups shared through the store (see concurrency.h). */
#include "base/kiln.h"
#include "store/concurrency.h"
#include "store/runs.h"
#include "store/sql.h"

static const char *const names[] = { "pending", "running", "cancel", "cancelled", "done" };

static enum conc_state parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i]))
			return (enum conc_state)i;
	return CONC_DONE;
}

/* rows that hold a group: running (or asked to cancel) with a live run */
#define HOLDS(c) \
	" " c ".state IN ('running', 'cancel') AND EXISTS (SELECT 1 FROM runs r" \
	" WHERE r.id = " c ".run_id AND r.status = 'in_progress')"

/* promote row id when no other row holds its group (the workflow-level
 * row of the same run does not count for that run's jobs) */
static int promote(struct db *db, int64_t id, struct buf *err)
{
	return sql_run(db, err, "cannot take concurrency group",
		       "UPDATE concurrency SET state = 'running', updated_at = ?2 WHERE id = ?1"
		       " AND state = 'pending' AND NOT EXISTS (SELECT 1 FROM concurrency c"
		       " WHERE c.scope = concurrency.scope AND c.grp = concurrency.grp AND c.id <> ?1"
		       " AND NOT (c.run_id = concurrency.run_id AND c.job = '' AND concurrency.job <> '')"
		       " AND" HOLDS("c") ")", "ii", id, runs_now_ms()) < 0 ? -1 : 0;
}

static int read_state(struct db *db, int64_t id, enum conc_state *state, struct buf *reason,
		      struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot read concurrency group",
				    "SELECT state, reason FROM concurrency WHERE id = ?1", "i", id);
	if (!st)
		return -1;
	int rc = dbs_step(st);
	if (rc == DB_ROW) {
		*state = parse(dbs_col_text(st, 0));
		if (reason) {
			buf_reset(reason);
			buf_addstr(reason, dbs_col_text(st, 1));
		}
	} else {
		*state = CONC_DONE;
	}
	dbs_finalize(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : sql_fail(db, err, "cannot read concurrency group");
}

int conc_enter(struct db *db, const char *scope, const char *grp, int64_t run_id, const char *job,
	       int cancel_in_progress, int64_t *id, enum conc_state *state, struct buf *err)
{
	int64_t now = runs_now_ms();
	char *why = xstrfmt("Canceling since a higher priority waiting request for '%s' exists", grp);
	if (sql_begin(db, err)) {
		free(why);
		return -1;
	}
	struct dbstmt *st = sql_prep(db, err, "cannot enter concurrency group",
				    "INSERT INTO concurrency (scope, grp, run_id, job, state, created_at,"
				    " updated_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5) RETURNING id",
				    "ttiti", scope, grp, run_id, job, now);
	int rc = st && dbs_step_id(st, id) == DB_DONE && *id ? 0 : -1;
	if (st && rc)
		sql_fail(db, err, "cannot enter concurrency group");
	dbs_finalize(st);
	/* at most one pending per group: the older one is replaced */
	if (!rc && sql_run(db, err, "cannot enter concurrency group",
			   "UPDATE concurrency SET state = 'cancelled', reason = ?4, updated_at = ?5"
			   " WHERE scope = ?1 AND grp = ?2 AND state = 'pending' AND id <> ?3",
			   "ttiti", scope, grp, *id, why, now) < 0)
		rc = -1;
	if (!rc && cancel_in_progress &&
	    sql_run(db, err, "cannot enter concurrency group",
		    "UPDATE concurrency SET state = 'cancel', reason = ?4, updated_at = ?5"
		    " WHERE scope = ?1 AND grp = ?2 AND state = 'running' AND id <> ?3"
		    " AND NOT (run_id = ?6 AND job = '' AND ?7 <> '')",
		    "ttitiit", scope, grp, *id, why, now, run_id, job) < 0)
		rc = -1;
	if (!rc)
		rc = promote(db, *id, err);
	if (!rc)
		rc = read_state(db, *id, state, NULL, err);
	if (!rc)
		rc = sql_commit(db, err);
	if (rc)
		sql_rollback(db);
	free(why);
	return rc;
}

int conc_poll(struct db *db, int64_t id, enum conc_state *state, struct buf *reason,
	      struct buf *err)
{
	if (read_state(db, id, state, reason, err))
		return -1;
	if (*state != CONC_PENDING)
		return 0;
	if (sql_begin(db, err))
		return -1;
	if (promote(db, id, err) || read_state(db, id, state, reason, err) || sql_commit(db, err)) {
		sql_rollback(db);
		return -1;
	}
	return 0;
}

int conc_leave(struct db *db, int64_t id, struct buf *err)
{
	return sql_run(db, err, "cannot leave concurrency group",
		       "UPDATE concurrency SET state = 'done', updated_at = ?2 WHERE id = ?1"
		       " AND state IN ('pending', 'running', 'cancel')", "ii", id, runs_now_ms()) < 0
		       ? -1 : 0;
}
