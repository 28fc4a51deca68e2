/* envs: environments, their rules, variables, secrets and deployments (envs.h). */
#include "base/kiln.h"
#include "store/envs.h"
#include "store/sql.h"

#include <time.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int changed_one(int changed)
{
	return changed < 0 ? -1 : changed == 0 ? KILN_ENOENT : 0;
}

void env_row_release(struct env_row *e)
{
	strvec_clear(&e->reviewers);
	strvec_clear(&e->patterns);
}

/* every text column of a query into out, one per row */
static int texts(struct db *db, struct dbstmt *st, int ncols, struct strvec *out, const char *what,
		 struct buf *err)
{
	if (!st)
		return -1;
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW)
		for (int i = 0; i < ncols; i++) {
			const char *s = dbs_col_text(st, i);
			strvec_push(out, s ? (const char *)s : "");
		}
	dbs_finalize(st);
	return rc == DB_DONE ? 0 : sql_fail(db, err, what);
}

#define ENV_COLS                                                                               \
	"id, repo, name, wait_timer_ms, prevent_self_review, approval_timeout_ms, custom_branches," \
	" created_at"

static void read_env(struct dbstmt *st, struct env_row *e)
{
	e->id = dbs_col_i64(st, 0);
	sql_col_text(st, 1, e->repo, sizeof(e->repo));
	sql_col_text(st, 2, e->name, sizeof(e->name));
	e->wait_timer_ms = dbs_col_i64(st, 3);
	e->prevent_self_review = dbs_col_int(st, 4);
	e->approval_timeout_ms = dbs_col_i64(st, 5);
	e->custom_branches = dbs_col_int(st, 6);
	e->created_ms = dbs_col_i64(st, 7);
}

static int read_rules(struct db *db, struct env_row *e, struct buf *err)
{
	strvec_clear(&e->reviewers);
	strvec_clear(&e->patterns);
	if (texts(db,
		  sql_prep(db, err, "cannot read reviewers",
			   "SELECT reviewer FROM env_reviewers WHERE env_id = ?1 ORDER BY seq", "i", e->id),
		  1, &e->reviewers, "cannot read reviewers", err) < 0 ||
	    texts(db,
		  sql_prep(db, err, "cannot read deployment patterns",
			   "SELECT pattern FROM env_patterns WHERE env_id = ?1 ORDER BY seq", "i", e->id),
		  1, &e->patterns, "cannot read deployment patterns", err) < 0)
		return -1;
	return 0;
}

int envs_ensure(struct db *db, const char *repo, const char *name, int64_t *id, struct buf *err)
{
	if (sql_run(db, err, "cannot create environment",
		    "INSERT INTO environments (repo, name, approval_timeout_ms, created_at)"
		    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (repo, name) DO NOTHING",
		    "ttii", repo, name, ENV_APPROVAL_TIMEOUT_MS, now_ms()) < 0)
		return -1;
	const char *what = "cannot read environment";
	int r = sql_one_i64(db, sql_prep(db, err, what,
					 "SELECT id FROM environments WHERE repo = ?1 AND name = ?2",
					 "tt", repo, name),
			    err, what, id);
	return r > 0 ? 0 : r < 0 ? -1 : sql_fail(db, err, what);
}

int envs_get(struct db *db, const char *repo, const char *name, struct env_row *out, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot read environment",
				    "SELECT " ENV_COLS " FROM environments WHERE repo = ?1 AND name = ?2",
				    "tt", repo, name);
	if (!st)
		return -1;
	int rc = dbs_step(st);
	if (rc == DB_ROW)
		read_env(st, out);
	dbs_finalize(st);
	if (rc == DB_DONE)
		return KILN_ENOENT;
	if (rc != DB_ROW)
		return sql_fail(db, err, "cannot read environment");
	return read_rules(db, out, err);
}

int envs_put_rules(struct db *db, const struct env_row *e, struct buf *err)
{
	int r = sql_run(db, err, "cannot update environment",
			"UPDATE environments SET wait_timer_ms = ?2, prevent_self_review = ?3,"
			" approval_timeout_ms = ?4, custom_branches = ?5 WHERE id = ?1",
			"iiiii", e->id, e->wait_timer_ms, (int64_t)e->prevent_self_review,
			e->approval_timeout_ms, (int64_t)e->custom_branches);
	if ((r = changed_one(r)))
		return r;
	if (sql_run(db, err, "cannot update reviewers", "DELETE FROM env_reviewers WHERE env_id = ?1",
		    "i", e->id) < 0 ||
	    sql_run(db, err, "cannot update patterns", "DELETE FROM env_patterns WHERE env_id = ?1", "i",
		    e->id) < 0)
		return -1;
	for (size_t i = 0; i < e->reviewers.nr; i++)
		if (sql_run(db, err, "cannot add reviewer",
			    "INSERT INTO env_reviewers (env_id, seq, reviewer) VALUES (?1, ?2, ?3)", "iit",
			    e->id, (int64_t)i, e->reviewers.v[i]) < 0)
			return -1;
	for (size_t i = 0; i < e->patterns.nr; i++)
		if (sql_run(db, err, "cannot add pattern",
			    "INSERT INTO env_patterns (env_id, seq, pattern) VALUES (?1, ?2, ?3)", "iit",
			    e->id, (int64_t)i, e->patterns.v[i]) < 0)
			return -1;
	return 0;
}

int envs_list(struct db *db, const char *repo, struct env_row **out, size_t *n, struct buf *err)
{
	*out = NULL;
	*n = 0;
	struct dbstmt *st = sql_prep(db, err, "cannot list environments",
				    "SELECT " ENV_COLS " FROM environments WHERE ?1 IS NULL OR repo = ?1"
				    " ORDER BY repo, name",
				    "t", repo);
	if (!st)
		return -1;
	size_t alloc = 0;
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW) {
		ALLOC_GROW(*out, *n + 1, alloc);
		struct env_row *e = &(*out)[(*n)++];
		*e = (struct env_row)ENV_ROW_INIT;
		read_env(st, e);
	}
	dbs_finalize(st);
	int r = rc == DB_DONE ? 0 : sql_fail(db, err, "cannot list environments");
	for (size_t i = 0; !r && i < *n; i++)
		r = read_rules(db, &(*out)[i], err);
	if (r) {
		for (size_t i = 0; i < *n; i++)
			env_row_release(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r;
}

int envs_delete(struct db *db, const char *repo, const char *name, struct buf *err)
{
	return changed_one(sql_run(db, err, "cannot delete environment",
				   "DELETE FROM environments WHERE repo = ?1 AND name = ?2", "tt", repo,
				   name));
}

/* ---- variables and secrets ---- */

int envs_var_set(struct db *db, int64_t env_id, const char *name, const char *value, struct buf *err)
{
	return sql_run(db, err, "cannot set variable",
		       "INSERT INTO env_variables (env_id, name, value, updated_at) VALUES (?1, ?2, ?3, ?4)"
		       " ON CONFLICT (env_id, name) DO UPDATE SET value = excluded.value,"
		       " updated_at = excluded.updated_at",
		       "itti", env_id, name, value, now_ms()) < 0
		       ? -1
		       : 0;
}

int envs_var_remove(struct db *db, int64_t env_id, const char *name, struct buf *err)
{
	return changed_one(sql_run(db, err, "cannot remove variable",
				   "DELETE FROM env_variables WHERE env_id = ?1 AND name = ?2", "it",
				   env_id, name));
}

int envs_var_list(struct db *db, int64_t env_id, struct strvec *out, struct buf *err)
{
	return texts(db,
		     sql_prep(db, err, "cannot list variables",
			      "SELECT name, value FROM env_variables WHERE env_id = ?1 ORDER BY name", "i",
			      env_id),
		     2, out, "cannot list variables", err);
}

int envs_secret_put(struct db *db, int64_t env_id, const char *name, const void *box, size_t len,
		    struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot store secret",
				    "INSERT INTO env_secrets (env_id, name, box, updated_at)"
				    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (env_id, name) DO UPDATE SET"
				    " box = excluded.box, updated_at = excluded.updated_at",
				    "itti", env_id, name, NULL, now_ms());
	if (!st)
		return -1;
	dbs_bind_blob(st, 3, box, len);
	int rc = dbs_step(st);
	dbs_finalize(st);
	return rc == DB_DONE ? 0 : sql_fail(db, err, "cannot store secret");
}

int envs_secret_remove(struct db *db, int64_t env_id, const char *name, struct buf *err)
{
	return changed_one(sql_run(db, err, "cannot remove secret",
				   "DELETE FROM env_secrets WHERE env_id = ?1 AND name = ?2", "it", env_id,
				   name));
}

int envs_secret_names(struct db *db, int64_t env_id, struct strvec *out, struct buf *err)
{
	return texts(db,
		     sql_prep(db, err, "cannot list secrets",
			      "SELECT name || '\t' || CAST(updated_at AS TEXT) FROM env_secrets"
			      " WHERE env_id = ?1"
			      " ORDER BY name",
			      "i", env_id),
		     1, out, "cannot list secrets", err);
}

int envs_secret_get(struct db *db, int64_t env_id, const char *name, struct buf *box, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot read secret",
				    "SELECT box FROM env_secrets WHERE env_id = ?1 AND name = ?2", "it",
				    env_id, name);
	if (!st)
		return -1;
	int rc = dbs_step(st), r = 0;
	if (rc == DB_ROW)
		buf_add(box, dbs_col_blob(st, 0), (size_t)dbs_col_bytes(st, 0));
	else
		r = rc == DB_DONE ? KILN_ENOENT : sql_fail(db, err, "cannot read secret");
	dbs_finalize(st);
	return r;
}

/* ---- deployments ---- */

#define DEPLOY_COLS                                                                          \
	"id, repo, environment, run_id, job_id, job, ref, sha, actor, commit_at, state, reason," \
	" approved_by, release_app, release_id, created_at, started_at, finished_at"

static void read_deploy(struct dbstmt *st, void *p)
{
	struct deploy_row *d = p;
	memset(d, 0, sizeof(*d));
	d->id = dbs_col_i64(st, 0);
	sql_col_text(st, 1, d->repo, sizeof(d->repo));
	sql_col_text(st, 2, d->environment, sizeof(d->environment));
	d->run_id = dbs_col_i64(st, 3);
	d->job_id = dbs_col_i64(st, 4);
	sql_col_text(st, 5, d->job, sizeof(d->job));
	sql_col_text(st, 6, d->ref, sizeof(d->ref));
	sql_col_text(st, 7, d->sha, sizeof(d->sha));
	sql_col_text(st, 8, d->actor, sizeof(d->actor));
	d->commit_ms = dbs_col_i64(st, 9);
	sql_col_text(st, 10, d->state, sizeof(d->state));
	sql_col_text(st, 11, d->reason, sizeof(d->reason));
	sql_col_text(st, 12, d->approved_by, sizeof(d->approved_by));
	sql_col_text(st, 13, d->release_app, sizeof(d->release_app));
	d->release_id = dbs_col_i64(st, 14);
	d->created_ms = dbs_col_i64(st, 15);
	d->started_ms = dbs_col_i64(st, 16);
	d->finished_ms = dbs_col_i64(st, 17);
}

static int one_deploy(struct db *db, struct dbstmt *st, struct deploy_row *out, struct buf *err)
{
	if (!st)
		return -1;
	int rc = dbs_step(st), r = 0;
	if (rc == DB_ROW)
		read_deploy(st, out);
	else
		r = rc == DB_DONE ? KILN_ENOENT : sql_fail(db, err, "cannot read deployment");
	dbs_finalize(st);
	return r;
}

int deploys_ensure(struct db *db, const struct deploy_new *d, int64_t now, struct deploy_row *out,
		   int *created, struct buf *err)
{
	int c = sql_run(db, err, "cannot record deployment",
			"INSERT INTO deployments (repo, environment, run_id, job_id, job, ref, sha, actor,"
			" commit_at, state, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
			" 'waiting', ?10) ON CONFLICT (run_id, job_id) DO NOTHING",
			"ttiittttii", d->repo, d->environment, d->run_id, d->job_id, d->job, d->ref,
			d->sha, d->actor, d->commit_ms, now);
	if (c < 0)
		return -1;
	if (created)
		*created = c > 0;
	return one_deploy(db,
			  sql_prep(db, err, "cannot read deployment",
				   "SELECT " DEPLOY_COLS " FROM deployments WHERE run_id = ?1 AND job_id = ?2",
				   "ii", d->run_id, d->job_id),
			  out, err);
}

int deploys_get(struct db *db, int64_t id, struct deploy_row *out, struct buf *err)
{
	return one_deploy(db,
			  sql_prep(db, err, "cannot read deployment",
				   "SELECT " DEPLOY_COLS " FROM deployments WHERE id = ?1", "i", id),
			  out, err);
}

int deploys_set_state(struct db *db, int64_t id, const char *from, const char *state,
		      const char *reason, const char *approved_by, int64_t now, struct buf *err)
{
	/* `from` is matched as a comma-separated list: ",waiting,queued," */
	char *list = xstrfmt(",%s,", from);
	int c = sql_run(db, err, "cannot update deployment",
			"UPDATE deployments SET state = ?2, reason = COALESCE(?3, reason),"
			" approved_by = COALESCE(?4, approved_by),"
			" started_at = CASE WHEN ?2 = 'in_progress' THEN ?5 ELSE started_at END,"
			" finished_at = CASE WHEN ?2 IN ('success', 'failure', 'cancelled', 'rejected',"
			" 'timed_out', 'error') THEN ?5 ELSE finished_at END"
			" WHERE id = ?1 AND ?6 LIKE '%,' || state || ',%'",
			"itttit", id, state, reason, approved_by, now, list);
	free(list);
	return changed_one(c);
}

int deploys_set_release(struct db *db, int64_t id, const char *app, int64_t release_id,
			struct buf *err)
{
	return changed_one(sql_run(db, err, "cannot link deployment to release",
				   "UPDATE deployments SET release_app = ?2, release_id = ?3 WHERE id = ?1",
				   "iti", id, app, release_id));
}

int deploys_blocking(struct db *db, const char *repo, const char *environment, int64_t except,
		     struct deploy_row *out, struct buf *err)
{
	return one_deploy(db,
			  sql_prep(db, err, "cannot read deployments",
				   "SELECT " DEPLOY_COLS " FROM deployments WHERE repo = ?1"
				   " AND environment = ?2 AND id <> ?3 AND (state = 'in_progress'"
				   " OR (state = 'queued' AND id < ?3)) ORDER BY id LIMIT 1",
				   "tti", repo, environment, except),
			  out, err);
}

int deploys_list(struct db *db, const struct deploy_filter *f, struct deploy_row **out, size_t *n,
		 struct buf *err)
{
	struct dbstmt *st = sql_prep(
		db, err, "cannot list deployments",
		"SELECT " DEPLOY_COLS " FROM deployments WHERE (?1 IS NULL OR repo = ?1)"
		" AND (?2 IS NULL OR environment = ?2) AND (?3 IS NULL OR state = ?3)"
		" AND (?4 <= 0 OR run_id = ?4) AND (?5 <= 0 OR created_at >= ?5)"
		" ORDER BY id DESC LIMIT ?6",
		"tttiii", f->repo, f->environment, f->state, f->run_id, f->since_ms,
		(int64_t)(f->limit > 0 ? f->limit : INT64_MAX)); /* no LIMIT -1 (PostgreSQL) */
	return sql_rows(db, st, err, "cannot list deployments", sizeof(**out), read_deploy,
			(void **)out, n);
}

int deploys_add_review(struct db *db, int64_t deployment_id, const char *user, const char *decision,
		       const char *comment, int64_t now, struct buf *err)
{
	return sql_run(db, err, "cannot record review",
		       "INSERT INTO deployment_reviews (deployment_id, reviewer, decision, comment, at)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)",
		       "itttI", deployment_id, user, decision, comment ? comment : "", now) < 0
		       ? -1
		       : 0;
}

int deploys_counts(struct db *db, struct strvec *out, struct buf *err)
{
	return texts(db,
		     sql_prep(db, err, "cannot count deployments",
			      "SELECT repo || '\t' || environment || '\t' || state || '\t' ||"
			      " CAST(COUNT(*) AS TEXT) FROM deployments GROUP BY repo, environment, state"
			      " ORDER BY repo, environment, state",
			      ""),
		     1, out, "cannot count deployments", err);
}
