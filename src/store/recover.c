/*
 * recover: close the runs of dead kiln processes (see recover.h). Cheap
 * when there is nothing to do: one indexed query (runs_open) and one
 * directory listing of $TMPDIR.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "store/db.h"
#include "store/owner.h"
#include "store/audit.h"
#include "store/recover.h"
#include "store/repos.h"
#include "store/runs.h"

#include <dirent.h>

struct dead_run {
	int64_t id;
	struct owner o;
	int have_owner;
};

static void col_text(char *dst, size_t n, struct dbstmt *st, int col)
{
	const char *s = dbs_col_text(st, col);
	snprintf(dst, n, "%s", s ? (const char *)s : "");
}

/* the in_progress runs whose owner is gone */
static int find_dead(struct db *db, struct dead_run **out, size_t *n, struct buf *err)
{
	struct dbstmt *st;
	size_t alloc = 0;
	*out = NULL;
	*n = 0;
	if (db_prepare(db,
			       "SELECT id, owner_host, owner_boot, owner_pid, owner_start FROM runs "
			       "WHERE status = 'in_progress'", &st) != DB_OK) {
		buf_addf(err, "%s: cannot list unfinished runs: %s", db_name(db), db_errmsg(db));
		return -1;
	}
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW) {
		struct dead_run d;
		memset(&d, 0, sizeof(d));
		d.id = dbs_col_i64(st, 0);
		d.have_owner = !dbs_col_null(st, 3);
		col_text(d.o.host, sizeof(d.o.host), st, 1);
		col_text(d.o.boot, sizeof(d.o.boot), st, 2);
		d.o.pid = dbs_col_i64(st, 3);
		d.o.start = dbs_col_i64(st, 4);
		/* a run recorded before owners were (schema 4) cannot be alive
		 * across the upgrade of its kiln binary: treat it as dead */
		if (d.have_owner && owner_check(&d.o) != OWNER_DEAD)
			continue;
		ALLOC_GROW(*out, *n + 1, alloc);
		(*out)[(*n)++] = d;
	}
	dbs_finalize(st);
	if (rc != DB_DONE) {
		buf_addf(err, "%s: cannot list unfinished runs: %s", db_name(db), db_errmsg(db));
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

static void read_run_id(struct dbstmt *st, void *p)
{
	*(int64_t *)p = dbs_col_i64(st, 0);
}

/* 1 when this run was closed here (0: someone else did it first) */
static int close_run(struct db *db, const struct dead_run *d, const char *reason, struct buf *err)
{
	/* its end: the last thing it recorded (not now: kiln may have died
	 * long ago); the largest of several values is MAX() in SQLite and
	 * GREATEST() in PostgreSQL, the one spelling that differs */
#define END_AT(F)                                                                                  \
	"UPDATE runs SET status = 'completed', conclusion = 'failure', reason = ?2,"               \
	" finished_at = " F "(started_at, COALESCE((SELECT MAX(" F "(COALESCE(j.finished_at, 0),"  \
	" COALESCE(j.started_at, 0))) FROM jobs j WHERE j.run_id = ?1), 0),"                      \
	" COALESCE((SELECT MAX(" F "(COALESCE(s.finished_at, 0), COALESCE(s.started_at, 0)))"     \
	" FROM steps s JOIN jobs j ON s.job_id = j.id WHERE j.run_id = ?1), 0))"                  \
	" WHERE id = ?1 AND status = 'in_progress'"
	const char *const sql[] = {
		db_dialect(db) == DB_POSTGRES ? END_AT("GREATEST") : END_AT("MAX"),
		/* the reason at the end of each unfinished job's log (?3: the
		 * line, bound as bytes; ?2 is bound too, unused) */
		"INSERT INTO log_tail (job_id, seq, data) SELECT j.id,"
		" COALESCE((SELECT MAX(seq) FROM log_tail t WHERE t.job_id = j.id), 0) + 1,"
		" ?3 FROM jobs j WHERE j.run_id = ?1 AND j.status = 'in_progress'",
		"UPDATE steps SET status = 'completed', conclusion = 'failure' WHERE status = 'in_progress'"
		" AND job_id IN (SELECT id FROM jobs WHERE run_id = ?1)",
		"UPDATE jobs SET status = 'completed', conclusion = 'failure' WHERE run_id = ?1"
		" AND status = 'in_progress'",
	};
	int closed = 0;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		struct dbstmt *st;
		if (db_prepare(db, sql[i], &st) != DB_OK) {
			buf_addf(err, "%s: cannot close run %lld: %s", db_name(db), (long long)d->id,
				 db_errmsg(db));
			return -1;
		}
		dbs_bind_i64(st, 1, d->id);
		if (dbs_param_count(st) >= 2)
			dbs_bind_text(st, 2, reason);
		if (dbs_param_count(st) >= 3) {
			char *line = xstrfmt("kiln: error: %s\n", reason);
			dbs_bind_blob(st, 3, line, strlen(line));
			free(line);
		}
		int rc = dbs_step(st);
		dbs_finalize(st);
		if (rc != DB_DONE) {
			buf_addf(err, "%s: cannot close run %lld: %s", db_name(db), (long long)d->id,
				 db_errmsg(db));
			return -1;
		}
		if (i == 0 && !(closed = db_changes(db)))
			return 0;
	}
	return closed;
}

int store_recover(struct db *db, struct buf *err)
{
	struct dead_run *v;
	size_t n;
	if (find_dead(db, &v, &n, err) < 0)
		return -1;
	if (!n)
		return 0;
	struct owner me;
	owner_self(&me);
	/* first the processes, so nothing writes into a closed run's
	 * workspace (a previous boot's processes are gone already) */
	for (size_t i = 0; i < n; i++) {
		if (!v[i].have_owner || strcmp(v[i].o.boot, me.boot))
			continue;
		owner_kill_leftovers(&v[i].o);
	}
	int total = 0;
	if (sql_begin(db, err) < 0) {
		free(v);
		return -1;
	}
	for (size_t i = 0; i < n && total >= 0; i++) {
		struct buf reason = BUF_INIT;
		if (v[i].have_owner)
			buf_addf(&reason,
				 "kiln (pid %lld) ended without finishing this run: it was killed, crashed, "
				 "or could not write the run history",
				 (long long)v[i].o.pid);
		else
			buf_addstr(&reason, "the kiln that ran this was stopped before it finished");
		int c = close_run(db, &v[i], reason.buf, err);
		buf_release(&reason);
		total = c < 0 ? -1 : total + c;
	}
	if (total < 0 || sql_commit(db, err) < 0) {
		sql_rollback(db);
		total = -1;
	}
	free(v);
	return total;
}

int store_sweep_run_dirs(void)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	DIR *d = opendir(tmp);
	if (!d)
		return 0;
	struct strvec dead = STRVEC_INIT;
	struct dirent *de;
	while ((de = readdir(d)))
		if (str_starts_with(de->d_name, "kiln-run-") && owner_tag_dead(de->d_name + 9))
			strvec_pushf(&dead, "%s/%s", tmp, de->d_name);
	closedir(d);
	for (size_t i = 0; i < dead.nr; i++)
		rmtree(dead.v[i]);
	int n = (int)dead.nr;
	strvec_clear(&dead);
	return n;
}

int store_recover_event(struct db *db, int64_t event_id, const char *reason, int64_t **runs,
			struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot list the event's runs",
				     "SELECT id FROM runs WHERE event_id = ?1 AND status = 'in_progress'",
				     "i", event_id);
	int64_t *ids = NULL;
	size_t n = 0;
	if (sql_rows(db, st, err, "cannot list the event's runs", sizeof(*ids), read_run_id,
		     (void **)&ids, &n))
		return -1;
	int total = 0;
	for (size_t i = 0; i < n && total >= 0; i++) {
		struct dead_run d = { .id = ids[i] };
		int c = close_run(db, &d, reason, err);
		if (c > 0)
			ids[total] = ids[i];
		total = c < 0 ? -1 : total + c;
	}
	if (runs && total >= 0)
		*runs = ids;
	else
		free(ids);
	return total;
}

int store_event_has_runs(struct db *db, int64_t event_id, struct buf *err)
{
	const char *what = "cannot list the event's runs";
	int64_t one;
	return sql_one_i64(db, sql_prep(db, err, what, "SELECT 1 FROM runs WHERE event_id = ?1 LIMIT 1",
					"i", event_id),
			   err, what, &one);
}

/* queue a lost event's next attempt: one per workflow run closed (its
 * unfinished jobs), the whole event when it had recorded none */
static int queue_retries(struct db *db, const struct event_view *e, const int64_t *runs,
			 int nruns, struct lost_retry *out, struct buf *err)
{
	for (int i = 0; i < (nruns ? nruns : 1); i++) {
		int64_t id = 0;
		int attempt = 0;
		if (store_event_rerun_job(db, e->id, nruns ? runs[i] : 0, NULL, "kiln", &id,
					  &attempt, err))
			return -1;
		char target[32], detail[64];
		snprintf(target, sizeof(target), "event %lld", (long long)e->id);
		snprintf(detail, sizeof(detail), "attempt %d, server lost", attempt);
		if (audit_append(db, "kiln", "run.rerun", e->repo, target, detail, err))
			return -1;
		ALLOC_GROW(out->ids, out->n + 1, out->alloc);
		ALLOC_GROW(out->attempts, out->n + 1, out->alloc_attempts);
		out->ids[out->n] = id;
		out->attempts[out->n++] = attempt;
	}
	return 0;
}

int store_event_fail_lost(struct db *db, const struct lost_event *l, const char *reason,
			  int retry_max, struct lost_retry *out, struct buf *err)
{
	memset(out, 0, sizeof(*out));
	if (sql_begin(db, err) < 0)
		return -1;
	int64_t *runs = NULL;
	/* still running on the replica found lost: else another replica ended
	 * it first (or it came back and finished it) */
	int n = sql_run(db, err, "cannot recover the queue",
			"UPDATE events SET status = 'failure', reason = ?2, finished_at = ?3"
			" WHERE id = ?1 AND status = 'running' AND coalesce(replica, 0) = ?4",
			"itii", l->id, reason, runs_now_ms(), l->replica);
	if (n <= 0)
		goto out;
	int closed = store_recover_event(db, l->id, reason, &runs, err);
	if (closed < 0)
		goto fail;
	out->closed = closed;
	if (retry_max > 0) {
		/* none left open but some recorded: its runs had all ended (the
		 * replica died before the event did), nothing to run again */
		int done = closed ? 0 : store_event_has_runs(db, l->id, err);
		struct event_view e;
		if (done < 0)
			goto fail;
		if (!done) {
			int r = store_event_get(db, l->id, &e, err);
			if (r < 0 || (r == 0 && e.attempt <= retry_max &&
				      queue_retries(db, &e, runs, closed, out, err)))
				goto fail;
		}
	}
	free(runs);
	if (sql_commit(db, err) < 0) {
		lost_retry_release(out);
		return -1;
	}
	return 0;
out:
	free(runs);
	sql_rollback(db);
	return n < 0 ? -1 : KILN_ENOENT;
fail:
	free(runs);
	lost_retry_release(out);
	sql_rollback(db);
	return -1;
}

void lost_retry_release(struct lost_retry *r)
{
	free(r->ids);
	free(r->attempts);
	memset(r, 0, sizeof(*r));
}
