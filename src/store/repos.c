/* repos: the server's repositories, their seen refs and events (see repos.h). */
#include "base/kiln.h"
#include "store/repos.h"
#include "store/runs.h"

static int fail(struct db *db, struct buf *err, const char *what)
{
	buf_addf(err, "%s: %s: %s", db_name(db), what, db_errmsg(db));
	return -1;
}

static char *col_str(struct dbstmt *st, int i)
{
	const char *s = dbs_col_text(st, i);
	return xstrdup(s ? (const char *)s : "");
}

void repo_row_release(struct repo_row *r)
{
	free(r->name);
	free(r->url);
	free(r->mirror);
	free(r->default_branch);
	buf_release(&r->secret_box);
	free(r->status_forge);
	free(r->status_api);
	free(r->status_project);
	buf_release(&r->status_token_box);
	free(r->isolate);
	memset(r, 0, sizeof(*r));
}

#define REPO_COLS "id, name, url, mirror, default_branch, secret_box, poll_ms, polled_at, created_at," \
	" status_forge, status_api, status_project, status_token_box, isolate"

static void read_row(struct dbstmt *st, struct repo_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = dbs_col_i64(st, 0);
	r->name = col_str(st, 1);
	r->url = col_str(st, 2);
	r->mirror = col_str(st, 3);
	r->default_branch = col_str(st, 4);
	buf_init(&r->secret_box, 0);
	buf_add(&r->secret_box, dbs_col_blob(st, 5), (size_t)dbs_col_bytes(st, 5));
	r->poll_ms = dbs_col_i64(st, 6);
	r->polled_at = dbs_col_i64(st, 7);
	r->created_at = dbs_col_i64(st, 8);
	r->status_forge = col_str(st, 9);
	r->status_api = col_str(st, 10);
	r->status_project = col_str(st, 11);
	buf_init(&r->status_token_box, 0);
	buf_add(&r->status_token_box, dbs_col_blob(st, 12), (size_t)dbs_col_bytes(st, 12));
	r->isolate = col_str(st, 13);
}

int store_repo_add(struct db *db, struct repo_row *r, struct buf *err)
{
	struct dbstmt *st = NULL;
	int ret = -1;
	r->created_at = runs_now_ms();
	if (db_prepare(db, "INSERT INTO repos (name, url, mirror, default_branch, secret_box,"
				   " poll_ms, polled_at, created_at, isolate) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8)"
				   " RETURNING id", &st) != DB_OK)
		return fail(db, err, "cannot add repository");
	dbs_bind_text(st, 1, r->name);
	dbs_bind_text(st, 2, r->url);
	dbs_bind_text(st, 3, r->mirror);
	dbs_bind_text(st, 4, r->default_branch ? r->default_branch : "");
	dbs_bind_blob(st, 5, r->secret_box.buf, r->secret_box.len);
	dbs_bind_i64(st, 6, r->poll_ms);
	dbs_bind_i64(st, 7, r->created_at);
	dbs_bind_text(st, 8, r->isolate ? r->isolate : "");
	int rc = dbs_step_id(st, &r->id);
	if (rc == DB_DONE) {
		ret = 0;
	} else if (rc == DB_CONSTRAINT) {
		buf_addf(err, "repository '%s' exists already", r->name);
		ret = KILN_EINVAL;
	} else {
		fail(db, err, "cannot add repository");
	}
	dbs_finalize(st);
	return ret;
}

static int get_one(struct db *db, const char *sql, const char *name, int64_t id,
		   struct repo_row *out, struct buf *err)
{
	struct dbstmt *st = NULL;
	if (db_prepare(db, sql, &st) != DB_OK)
		return fail(db, err, "cannot read repository");
	if (name)
		dbs_bind_text(st, 1, name);
	else
		dbs_bind_i64(st, 1, id);
	int rc = dbs_step(st), ret;
	if (rc == DB_ROW) {
		read_row(st, out);
		ret = 0;
	} else if (rc == DB_DONE) {
		ret = KILN_ENOENT;
	} else {
		ret = fail(db, err, "cannot read repository");
	}
	dbs_finalize(st);
	return ret;
}

int store_repo_get(struct db *db, const char *name, struct repo_row *out, struct buf *err)
{
	return get_one(db, "SELECT " REPO_COLS " FROM repos WHERE name = ?1", name, 0, out, err);
}

int store_repo_get_id(struct db *db, int64_t id, struct repo_row *out, struct buf *err)
{
	return get_one(db, "SELECT " REPO_COLS " FROM repos WHERE id = ?1", NULL, id, out, err);
}

int store_repo_list(struct db *db, struct repo_row **out, size_t *n, struct buf *err)
{
	struct dbstmt *st = NULL;
	*out = NULL;
	*n = 0;
	if (db_prepare(db, "SELECT " REPO_COLS " FROM repos ORDER BY name", &st) !=
	    DB_OK)
		return fail(db, err, "cannot list repositories");
	size_t alloc = 0;
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW) {
		ALLOC_GROW(*out, *n + 1, alloc);
		read_row(st, &(*out)[(*n)++]);
	}
	dbs_finalize(st);
	if (rc != DB_DONE) {
		store_repo_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return fail(db, err, "cannot list repositories");
	}
	return 0;
}

void store_repo_list_free(struct repo_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		repo_row_release(&rows[i]);
	free(rows);
}

static int exec1(struct db *db, const char *sql, const char *what, int64_t id, const char *text,
		 int64_t num, struct buf *err)
{
	struct dbstmt *st = NULL;
	if (db_prepare(db, sql, &st) != DB_OK)
		return fail(db, err, what);
	dbs_bind_i64(st, 1, id);
	if (text)
		dbs_bind_text(st, 2, text);
	else
		dbs_bind_i64(st, 2, num);
	int rc = dbs_step(st);
	dbs_finalize(st);
	if (rc != DB_DONE)
		return fail(db, err, what);
	return db_changes(db) ? 0 : KILN_ENOENT;
}

int store_repo_remove(struct db *db, const char *name, struct buf *err)
{
	struct dbstmt *st = NULL;
	if (db_prepare(db, "DELETE FROM repos WHERE name = ?1", &st) != DB_OK)
		return fail(db, err, "cannot remove repository");
	dbs_bind_text(st, 1, name);
	int rc = dbs_step(st);
	dbs_finalize(st);
	if (rc != DB_DONE)
		return fail(db, err, "cannot remove repository");
	return db_changes(db) ? 0 : KILN_ENOENT;
}

int store_repo_set_polled(struct db *db, int64_t id, int64_t at_ms, struct buf *err)
{
	int r = exec1(db, "UPDATE repos SET polled_at = ?2 WHERE id = ?1",
		      "cannot update repository", id, NULL, at_ms, err);
	return r == KILN_ENOENT ? 0 : r;
}

/* sql with ?1 = source, ?2 = delivery and, when at >= 0, ?3 = at */
static int config_delivery_exec(struct db *db, const char *sql, const char *source, const char *delivery,
				int64_t at, struct buf *err)
{
	struct dbstmt *st = NULL;
	if (db_prepare(db, sql, &st) != DB_OK)
		return fail(db, err, "cannot record the config webhook delivery");
	dbs_bind_text(st, 1, source);
	dbs_bind_text(st, 2, delivery);
	if (at >= 0)
		dbs_bind_i64(st, 3, at);
	int rc = dbs_step(st);
	dbs_finalize(st);
	if (rc != DB_DONE)
		return fail(db, err, "cannot record the config webhook delivery");
	return 0;
}

int store_config_delivery_add(struct db *db, const char *source, const char *delivery, struct buf *err)
{
	int64_t now = runs_now_ms();
	struct dbstmt *st = NULL;
	if (db_prepare(db, "DELETE FROM config_deliveries WHERE received_at < ?1", &st) != DB_OK)
		return fail(db, err, "cannot record the config webhook delivery");
	dbs_bind_i64(st, 1, now - 30 * 86400000LL);
	int rc = dbs_step(st);
	dbs_finalize(st);
	if (rc != DB_DONE)
		return fail(db, err, "cannot record the config webhook delivery");
	if (config_delivery_exec(db, "INSERT INTO config_deliveries (source, delivery, received_at)"
				     " VALUES (?1, ?2, ?3) ON CONFLICT (source, delivery) DO NOTHING",
				 source, delivery, now, err) < 0)
		return -1;
	return db_changes(db) ? 0 : 1;
}

int store_config_delivery_forget(struct db *db, const char *source, const char *delivery, struct buf *err)
{
	return config_delivery_exec(db, "DELETE FROM config_deliveries WHERE source = ?1 AND delivery = ?2",
				    source, delivery, -1, err);
}

/* insert inside the caller's transaction; 1 = duplicate delivery */
static int insert_event(struct db *db, const struct event_row *ev, int64_t *id, struct buf *err)
{
	struct dbstmt *st = NULL;
	if (ev->delivery && *ev->delivery) {
		const char *what = "cannot store event";
		int r = sql_one_i64(db, sql_prep(db, err, what,
						 "SELECT id FROM events WHERE source = ?1 AND delivery = ?2",
						 "tt", ev->source, ev->delivery),
				    err, what, id);
		if (r)
			return r;
	}
	if (db_prepare(db, "INSERT INTO events (repo_id, source, delivery, kind, action, ref,"
				   " before_sha, sha, actor, fork, deleted, payload, status, received_at)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
				   " RETURNING id", &st) != DB_OK)
		return fail(db, err, "cannot store event");
	dbs_bind_i64(st, 1, ev->repo_id);
	dbs_bind_text(st, 2, ev->source);
	if (ev->delivery && *ev->delivery)
		dbs_bind_text(st, 3, ev->delivery);
	else
		dbs_bind_null(st, 3);
	dbs_bind_text(st, 4, ev->kind);
	dbs_bind_text(st, 5, ev->action ? ev->action : "");
	dbs_bind_text(st, 6, ev->ref ? ev->ref : "");
	dbs_bind_text(st, 7, ev->before ? ev->before : "");
	dbs_bind_text(st, 8, ev->sha ? ev->sha : "");
	dbs_bind_text(st, 9, ev->actor ? ev->actor : "");
	dbs_bind_i64(st, 10, ev->fork);
	dbs_bind_i64(st, 11, ev->deleted);
	dbs_bind_text(st, 12, ev->payload ? ev->payload : "{}");
	/* deletions and pings are recorded but start nothing */
	dbs_bind_text(st, 13, ev->deleted || !strcmp(ev->kind, "ping") ? "ignored" : "queued");
	dbs_bind_i64(st, 14, runs_now_ms());
	int rc = dbs_step_id(st, id);
	dbs_finalize(st);
	if (rc != DB_DONE)
		return fail(db, err, "cannot store event");
	return 0;
}

int store_event_add(struct db *db, const struct event_row *ev, int *duplicate, int64_t *id,
		    struct buf *err)
{
	*duplicate = 0;
	if (sql_begin(db, err) < 0)
		return -1;
	int r = insert_event(db, ev, id, err);
	if (r < 0) {
		sql_rollback(db);
		return -1;
	}
	*duplicate = r == 1;
	if (sql_commit(db, err) < 0)
		return -1;
	return 0;
}

int store_repo_refs(struct db *db, int64_t repo_id, struct strvec *out, struct buf *err)
{
	struct dbstmt *st = NULL;
	if (db_prepare(db, "SELECT ref, sha FROM repo_refs WHERE repo_id = ?1 ORDER BY ref", &st) != DB_OK)
		return fail(db, err, "cannot read refs");
	dbs_bind_i64(st, 1, repo_id);
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW)
		strvec_pushf(out, "%s=%s", dbs_col_text(st, 0), dbs_col_text(st, 1));
	dbs_finalize(st);
	return rc == DB_DONE ? 0 : fail(db, err, "cannot read refs");
}

int store_repo_refs_commit(struct db *db, int64_t repo_id, const struct strvec *refs,
			   const struct event_row *evs, size_t n, struct buf *err)
{
	if (sql_begin(db, err) < 0)
		return -1;
	struct dbstmt *st = NULL;
	int64_t id;
	for (size_t i = 0; i < n; i++)
		if (insert_event(db, &evs[i], &id, err) < 0)
			goto fail;
	if (db_prepare(db, "DELETE FROM repo_refs WHERE repo_id = ?1", &st) !=
	    DB_OK) {
		fail(db, err, "cannot store refs");
		goto fail;
	}
	dbs_bind_i64(st, 1, repo_id);
	if (dbs_step(st) != DB_DONE) {
		fail(db, err, "cannot store refs");
		goto fail;
	}
	dbs_finalize(st);
	st = NULL;
	if (db_prepare(db, "INSERT INTO repo_refs (repo_id, ref, sha) VALUES (?1, ?2, ?3)", &st) != DB_OK) {
		fail(db, err, "cannot store refs");
		goto fail;
	}
	for (size_t i = 0; i < refs->nr; i++) {
		const char *eq = strchr(refs->v[i], '=');
		if (!eq)
			continue;
		dbs_bind_i64(st, 1, repo_id);
		dbs_bind_textn(st, 2, refs->v[i], (size_t)(eq - refs->v[i]));
		dbs_bind_text(st, 3, eq + 1);
		if (dbs_step(st) != DB_DONE) {
			fail(db, err, "cannot store refs");
			goto fail;
		}
		dbs_reset(st);
	}
	dbs_finalize(st);
	return sql_commit(db, err);
fail:
	dbs_finalize(st);
	sql_rollback(db);
	return -1;
}

void event_row_release(struct event_row *ev)
{
	const char **f[] = { &ev->source, &ev->delivery, &ev->kind, &ev->action, &ev->ref,
			     &ev->before, &ev->sha, &ev->actor, &ev->payload, &ev->rerun_job };
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		free((char *)*f[i]);
	memset(ev, 0, sizeof(*ev));
}

int store_event_claim(struct db *db, int64_t replica, struct event_row *out, struct buf *err)
{
	struct dbstmt *st = NULL;
	memset(out, 0, sizeof(*out));
	if (db_prepare(db, "UPDATE events SET status = 'running', started_at = ?1, replica = ?2"
				   " WHERE id = (SELECT min(id) FROM events WHERE status = 'queued')"
				   /* checked again on the row: two servers on one
				    * database never both take it */
				   " AND status = 'queued'"
				   " RETURNING id, repo_id, source, delivery, kind, action, ref, before_sha,"
				   " sha, actor, fork, deleted, payload, attempt, coalesce(reuse_run, 0), rerun_job",
		       &st) != DB_OK)
		return fail(db, err, "cannot take an event from the queue");
	dbs_bind_i64(st, 1, runs_now_ms());
	if (replica > 0)
		dbs_bind_i64(st, 2, replica);
	else
		dbs_bind_null(st, 2);
	int rc = dbs_step(st), ret = 0;
	if (rc == DB_ROW) {
		out->id = dbs_col_i64(st, 0);
		out->repo_id = dbs_col_i64(st, 1);
		const char **f[] = { &out->source, &out->delivery, &out->kind, &out->action,
				     &out->ref, &out->before, &out->sha, &out->actor };
		for (int i = 0; i < (int)ARRAY_SIZE(f); i++)
			*f[i] = col_str(st, 2 + i);
		out->fork = dbs_col_int(st, 10);
		out->deleted = dbs_col_int(st, 11);
		out->payload = col_str(st, 12);
		out->attempt = dbs_col_int(st, 13);
		out->reuse_run = dbs_col_i64(st, 14);
		out->rerun_job = dbs_col_null(st, 15) ? NULL : col_str(st, 15);
		rc = dbs_step(st);
	} else if (rc == DB_DONE) {
		ret = KILN_ENOENT;
	}
	if (rc != DB_DONE)
		ret = fail(db, err, "cannot take an event from the queue");
	dbs_finalize(st);
	if (ret == -1)
		event_row_release(out);
	return ret;
}

int store_event_finish(struct db *db, int64_t id, int64_t replica, const char *status,
		       int exit_code, const char *reason, struct buf *err)
{
	struct dbstmt *st = NULL;
	/* fenced: a replica ends only an event it still runs (another one
	 * may have taken it for lost, failed it and queued its next attempt);
	 * replica 0 ends a queued event (cancelled before it started) */
	if (db_prepare(db, "UPDATE events SET status = ?2, exit_code = ?3, reason = ?4,"
				   " finished_at = ?5 WHERE id = ?1 AND (CASE WHEN ?6 = 0 THEN"
				   " status = 'queued' ELSE status = 'running' AND replica = ?6 END)",
		       &st) != DB_OK)
		return fail(db, err, "cannot record the end of a run");
	dbs_bind_i64(st, 1, id);
	dbs_bind_text(st, 2, status);
	if (exit_code >= 0)
		dbs_bind_i64(st, 3, exit_code);
	else
		dbs_bind_null(st, 3);
	dbs_bind_text(st, 4, reason ? reason : "");
	dbs_bind_i64(st, 5, runs_now_ms());
	dbs_bind_i64(st, 6, replica);
	int rc = dbs_step(st);
	dbs_finalize(st);
	if (rc != DB_DONE)
		return fail(db, err, "cannot record the end of a run");
	return db_changes(db) ? 0 : KILN_ENOENT;
}

int store_replica_add(struct db *db, const char *host, const char *data_dir, int64_t pid,
		      int64_t now_ms, int64_t *id, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot add the server replica",
				     "INSERT INTO replicas (host, data_dir, pid, started_at, seen_at)"
				     " VALUES (?1, ?2, ?3, ?4, ?4) RETURNING id",
				     "ttii", host, data_dir, pid, now_ms);
	if (!st)
		return -1;
	int rc = dbs_step_id(st, id);
	dbs_finalize(st);
	return rc == DB_DONE && *id > 0 ? 0 : fail(db, err, "cannot add the server replica");
}

int store_replica_beat(struct db *db, int64_t id, int64_t now_ms, struct buf *err)
{
	int n = sql_run(db, err, "cannot renew the server replica",
			"UPDATE replicas SET seen_at = ?2 WHERE id = ?1", "ii", id, now_ms);
	return n < 0 ? -1 : n ? 0 : KILN_ENOENT;
}

static void read_id(struct dbstmt *st, void *p)
{
	*(int64_t *)p = dbs_col_i64(st, 0);
}

static void read_lost(struct dbstmt *st, void *p)
{
	struct lost_event *l = p;
	l->id = dbs_col_i64(st, 0);
	l->replica = dbs_col_i64(st, 1);
}

int store_event_lost(struct db *db, const struct replica_self *me, int64_t now_ms,
		     int64_t ttl_ms, struct lost_event **out, size_t *n, struct buf *err)
{
	/*
	 * Lost: its replica stopped renewing (seen_at older than the ttl), or
	 * was this server's data directory on this host before (it restarted),
	 * or (at start) no replica is named: claimed by a kiln before replicas.
	 */
	struct dbstmt *st = sql_prep(
		db, err, "cannot recover the queue",
		"SELECT id, coalesce(replica, 0) FROM events"
		" WHERE status = 'running' AND ((replica IS NULL AND ?5 = 1) OR replica IN"
		" (SELECT id FROM replicas WHERE id <> ?2 AND (seen_at < ?1 - ?6"
		" OR (host = ?3 AND data_dir = ?4)))) ORDER BY id",
		"iittii", now_ms, me->id, me->host, me->data_dir, (int64_t)me->starting, ttl_ms);
	if (sql_rows(db, st, err, "cannot recover the queue", sizeof(**out), read_lost,
		     (void **)out, n))
		return -1;
	/* replicas long gone that no event names any more */
	if (sql_run(db, err, "cannot forget old replicas",
		    "DELETE FROM replicas WHERE id <> ?1 AND seen_at < ?2 AND NOT EXISTS"
		    " (SELECT 1 FROM events e WHERE e.replica = replicas.id AND e.status = 'running')",
		    "ii", me->id, now_ms - 10 * ttl_ms) < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int store_events_owned(struct db *db, int64_t replica, int64_t **ids, size_t *n, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot list the replica's events",
				     "SELECT id FROM events WHERE replica = ?1 AND status = 'running'",
				     "i", replica);
	return sql_rows(db, st, err, "cannot list the replica's events", sizeof(**ids), read_id,
			(void **)ids, n);
}

int store_event_requeue(struct db *db, int64_t id, int64_t replica, struct buf *err)
{
	int n = sql_run(db, err, "cannot requeue an event",
			"UPDATE events SET status = 'queued', started_at = NULL WHERE id = ?1"
			" AND status = 'running' AND replica = ?2", "ii", id, replica);
	return n < 0 ? -1 : 0;
}

#define EVENT_INFO_COLS "e.id, r.name, e.source, e.kind, e.action, e.ref, e.sha, e.actor," \
	" e.status, e.reason, e.received_at, e.started_at, e.finished_at, e.exit_code, e.fork, e.deleted," \
	" e.attempt, coalesce(e.rerun_of, 0), coalesce(e.reuse_run, 0), e.rerun_job"

static void text_to(char *dst, size_t n, struct dbstmt *st, int i)
{
	const char *t = dbs_col_text(st, i);
	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static void read_info(struct dbstmt *st, struct event_view *e)
{
	memset(e, 0, sizeof(*e));
	e->id = dbs_col_i64(st, 0);
	text_to(e->repo, sizeof(e->repo), st, 1);
	text_to(e->source, sizeof(e->source), st, 2);
	text_to(e->kind, sizeof(e->kind), st, 3);
	text_to(e->action, sizeof(e->action), st, 4);
	text_to(e->ref, sizeof(e->ref), st, 5);
	text_to(e->sha, sizeof(e->sha), st, 6);
	text_to(e->actor, sizeof(e->actor), st, 7);
	text_to(e->status, sizeof(e->status), st, 8);
	text_to(e->reason, sizeof(e->reason), st, 9);
	e->received_at = dbs_col_i64(st, 10);
	e->started_at = dbs_col_i64(st, 11);
	e->finished_at = dbs_col_i64(st, 12);
	e->exit_code = dbs_col_null(st, 13) ? -1 : dbs_col_int(st, 13);
	e->fork = dbs_col_int(st, 14);
	e->deleted = dbs_col_int(st, 15);
	e->attempt = dbs_col_int(st, 16);
	e->rerun_of = dbs_col_i64(st, 17);
	e->reuse_run = dbs_col_i64(st, 18);
	text_to(e->rerun_job, sizeof(e->rerun_job), st, 19);
}

int store_event_list(struct db *db, const char *repo, const char *status, int64_t before_id,
		     int limit, struct event_view **out, size_t *n, struct buf *err)
{
	struct dbstmt *st = NULL;
	size_t alloc = 0;
	*out = NULL;
	*n = 0;
	if (db_prepare(db, "SELECT " EVENT_INFO_COLS " FROM events e JOIN repos r ON r.id = e.repo_id"
				   " WHERE (?1 IS NULL OR r.name = ?1) AND (?2 IS NULL OR e.status = ?2)"
				   " AND (?3 = 0 OR e.id < ?3) ORDER BY e.id DESC LIMIT ?4", &st) != DB_OK)
		return fail(db, err, "cannot list events");
	if (repo)
		dbs_bind_text(st, 1, repo);
	if (status)
		dbs_bind_text(st, 2, status);
	dbs_bind_i64(st, 3, before_id);
	dbs_bind_i64(st, 4, limit);
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW) {
		ALLOC_GROW(*out, *n + 1, alloc);
		read_info(st, &(*out)[(*n)++]);
	}
	dbs_finalize(st);
	if (rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return fail(db, err, "cannot list events");
	}
	return 0;
}

int store_event_get(struct db *db, int64_t id, struct event_view *out, struct buf *err)
{
	struct dbstmt *st = NULL;
	if (db_prepare(db, "SELECT " EVENT_INFO_COLS " FROM events e JOIN repos r ON r.id = e.repo_id"
				   " WHERE e.id = ?1", &st) != DB_OK)
		return fail(db, err, "cannot read event");
	dbs_bind_i64(st, 1, id);
	int rc = dbs_step(st), ret = KILN_ENOENT;
	if (rc == DB_ROW)
		read_info(st, out), ret = 0;
	else if (rc != DB_DONE)
		ret = fail(db, err, "cannot read event");
	dbs_finalize(st);
	return ret;
}

int store_repo_set_status(struct db *db, const char *name, const char *forge, const char *api,
			  const char *project, const struct buf *token_box, struct buf *err)
{
	struct dbstmt *st = NULL;
	if (db_prepare(db, "UPDATE repos SET status_forge = ?2, status_api = ?3,"
				   " status_project = ?4, status_token_box = ?5 WHERE name = ?1", &st) != DB_OK)
		return fail(db, err, "cannot set commit statuses");
	dbs_bind_text(st, 1, name);
	dbs_bind_text(st, 2, forge);
	dbs_bind_text(st, 3, api);
	dbs_bind_text(st, 4, project);
	if (token_box && token_box->len)
		dbs_bind_blob(st, 5, token_box->buf, token_box->len);
	else
		dbs_bind_null(st, 5);
	int rc = dbs_step(st);
	dbs_finalize(st);
	if (rc != DB_DONE)
		return fail(db, err, "cannot set commit statuses");
	return db_changes(db) ? 0 : KILN_ENOENT;
}

int store_event_rerun_job(struct db *db, int64_t id, int64_t reuse_run, const char *job,
			  const char *actor, int64_t *new_id, int *attempt, struct buf *err)
{
	struct dbstmt *st = NULL;
	/* the next attempt counts every re-run of the same original event */
	if (db_prepare(db, "INSERT INTO events (repo_id, source, delivery, kind, action, ref,"
				   " before_sha, sha, actor, fork, deleted, payload, status, received_at,"
				   " attempt, rerun_of, reuse_run, rerun_job)"
				   " SELECT repo_id, 'rerun', NULL, kind, action, ref, before_sha, sha, ?2,"
				   " fork, deleted, payload, 'queued', ?3,"
				   " (SELECT max(attempt) FROM events o WHERE o.id = coalesce(e.rerun_of, e.id)"
				   "  OR o.rerun_of = coalesce(e.rerun_of, e.id)) + 1,"
				   " coalesce(rerun_of, id), ?4, ?5 FROM events e WHERE id = ?1"
				   " RETURNING id, attempt", &st) != DB_OK)
		return fail(db, err, "cannot queue a re-run");
	dbs_bind_i64(st, 1, id);
	dbs_bind_text(st, 2, actor ? actor : "");
	dbs_bind_i64(st, 3, runs_now_ms());
	if (reuse_run > 0)
		dbs_bind_i64(st, 4, reuse_run);
	else
		dbs_bind_null(st, 4);
	if (job)
		dbs_bind_text(st, 5, job);
	else
		dbs_bind_null(st, 5);
	int rc = dbs_step(st), ret = KILN_ENOENT;
	if (rc == DB_ROW) {
		*new_id = dbs_col_i64(st, 0);
		*attempt = dbs_col_int(st, 1);
		rc = dbs_step(st);
		ret = 0;
	}
	if (rc != DB_DONE)
		ret = fail(db, err, "cannot queue a re-run");
	dbs_finalize(st);
	return ret;
}

int store_repo_set_isolate(struct db *db, const char *name, const char *mode, struct buf *err)
{
	struct dbstmt *st = NULL;
	if (db_prepare(db, "UPDATE repos SET isolate = ?2 WHERE name = ?1", &st) !=
	    DB_OK)
		return fail(db, err, "cannot update repository");
	dbs_bind_text(st, 1, name);
	dbs_bind_text(st, 2, mode);
	int rc = dbs_step(st);
	dbs_finalize(st);
	if (rc != DB_DONE)
		return fail(db, err, "cannot update repository");
	return db_changes(db) ? 0 : KILN_ENOENT;
}
