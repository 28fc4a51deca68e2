/*
 * dstore: SQLite statements of the deploy controller. Every write is one
 * statement (atomic by itself); the audit table refuses UPDATE and DELETE.
 */
#include "base/kiln.h"
#include "deploy/app.h"
#include "deploy/dstore.h"

#include <time.h>

#include <stdarg.h>
#include <time.h>

static struct dbstmt *prep(struct db *db, const char *sql)
{
	struct dbstmt *st = NULL;
	if (db_prepare(db, sql, &st) != DB_OK) {
		fprintf(stderr, "kiln: error: %s: %s\n", db_name(db), db_errmsg(db));
		return NULL;
	}
	return st;
}

static int step_done(struct db *db, struct dbstmt *st)
{
	int r = dbs_step(st);
	dbs_finalize(st);
	if (r != DB_DONE && r != DB_ROW) {
		fprintf(stderr, "kiln: error: %s: %s\n", db_name(db), db_errmsg(db));
		return -1;
	}
	return 0;
}

static void bind_text(struct dbstmt *st, int i, const char *s)
{
	if (s)
		dbs_bind_text(st, i, s);
	else
		dbs_bind_null(st, i);
}

static void col_copy(char *dst, size_t cap, struct dbstmt *st, int i)
{
	const char *s = dbs_col_text(st, i);
	snprintf(dst, cap, "%s", s ? s : "");
}

long dstore_release_begin(struct db *db, const char *app, const char *version, const char *strategy,
			  const char *user, const char *config_commit, const char *config_hash)
{
	char now[32];
	now_iso8601(now, sizeof(now));
	struct dbstmt *st = prep(db, "INSERT INTO deploy_releases (app, version, strategy, user, started_at,"
				    " config_commit, config_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id");
	if (!st)
		return -1;
	bind_text(st, 1, app);
	bind_text(st, 2, version);
	bind_text(st, 3, strategy);
	bind_text(st, 4, user ? user : "");
	bind_text(st, 5, now);
	bind_text(st, 6, config_commit ? config_commit : "");
	bind_text(st, 7, config_hash ? config_hash : "");
	int64_t id;
	int rc = dbs_step_id(st, &id);
	if (rc != DB_DONE) {
		fprintf(stderr, "kiln: %s: %s\n", db_name(db), db_errmsg(db));
		dbs_finalize(st);
		return -1;
	}
	dbs_finalize(st);
	return (long)id;
}

int dstore_release_config(struct db *db, long id, struct buf *commit, struct buf *hash)
{
	struct dbstmt *st = prep(db, "SELECT config_commit, config_hash FROM deploy_releases WHERE id = ?1");
	if (!st)
		return -1;
	dbs_bind_i64(st, 1, id);
	int r = -1;
	if (dbs_step(st) == DB_ROW) {
		buf_addstr(commit, dbs_col_text(st, 0) ? dbs_col_text(st, 0) : "");
		buf_addstr(hash, dbs_col_text(st, 1) ? dbs_col_text(st, 1) : "");
		r = 0;
	}
	dbs_finalize(st);
	return r;
}

int dstore_sync_save(struct db *db, const char *app, const struct dsync *s)
{
	struct dbstmt *st = prep(db, "INSERT INTO deploy_sync (app, config_hash, config_commit, outcome, reason, at)"
				    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (app) DO UPDATE SET"
				    " config_hash = ?2, config_commit = ?3, outcome = ?4, reason = ?5, at = ?6");
	if (!st)
		return -1;
	bind_text(st, 1, app);
	bind_text(st, 2, s->hash);
	bind_text(st, 3, s->commit);
	bind_text(st, 4, s->outcome);
	bind_text(st, 5, s->reason);
	dbs_bind_i64(st, 6, (int64_t)time(NULL) * 1000);
	return step_done(db, st);
}

int dstore_sync_get(struct db *db, const char *app, struct dsync *s)
{
	struct dbstmt *st = prep(db, "SELECT config_hash, config_commit, outcome, reason FROM deploy_sync"
				    " WHERE app = ?1");
	if (!st)
		return -1;
	bind_text(st, 1, app);
	int r = -1;
	if (dbs_step(st) == DB_ROW) {
		col_copy(s->hash, sizeof(s->hash), st, 0);
		col_copy(s->commit, sizeof(s->commit), st, 1);
		col_copy(s->outcome, sizeof(s->outcome), st, 2);
		col_copy(s->reason, sizeof(s->reason), st, 3);
		r = 0;
	}
	dbs_finalize(st);
	return r;
}

int dstore_release_finish(struct db *db, long id, const char *outcome, const char *reason, long duration_ms)
{
	char now[32];
	now_iso8601(now, sizeof(now));
	struct dbstmt *st = prep(db, "UPDATE deploy_releases SET outcome = ?, reason = ?, finished_at = ?,"
				    " duration_ms = ?"
				    " WHERE id = ? AND outcome = 'running'");
	if (!st)
		return -1;
	bind_text(st, 1, outcome);
	bind_text(st, 2, reason);
	bind_text(st, 3, now);
	if (duration_ms >= 0)
		dbs_bind_i64(st, 4, duration_ms);
	else
		dbs_bind_null(st, 4);
	dbs_bind_i64(st, 5, id);
	return step_done(db, st);
}

size_t dstore_running_releases(struct db *db, const char *app, long **ids)
{
	size_t n = 0, alloc = 0;
	*ids = NULL;
	struct dbstmt *st = prep(db, "SELECT id FROM deploy_releases WHERE app = ? AND outcome = 'running'");
	if (!st)
		return 0;
	bind_text(st, 1, app);
	while (dbs_step(st) == DB_ROW) {
		ALLOC_GROW(*ids, n + 1, alloc);
		(*ids)[n++] = (long)dbs_col_i64(st, 0);
	}
	dbs_finalize(st);
	return n;
}

int dstore_release_version(struct db *db, long id, struct buf *out)
{
	struct dbstmt *st = prep(db, "SELECT version FROM deploy_releases WHERE id = ?");
	int r = -1;
	if (!st)
		return -1;
	dbs_bind_i64(st, 1, id);
	if (dbs_step(st) == DB_ROW) {
		buf_addstr(out, dbs_col_text(st, 0));
		r = 0;
	}
	dbs_finalize(st);
	return r;
}

int dstore_previous_good(struct db *db, const char *app, const char *not, struct buf *version, long *id)
{
	struct dbstmt *st = prep(db, "SELECT version, id FROM deploy_releases WHERE app = ? AND"
				    " outcome = 'succeeded' AND version != ? ORDER BY id DESC LIMIT 1");
	int r = -1;
	if (!st)
		return -1;
	bind_text(st, 1, app);
	bind_text(st, 2, not ? not : "");
	if (dbs_step(st) == DB_ROW) {
		buf_addstr(version, dbs_col_text(st, 0));
		*id = (long)dbs_col_i64(st, 1);
		r = 0;
	}
	dbs_finalize(st);
	return r;
}

void dstore_audit(struct db *db, const char *app, long release_id, const char *event, const char *fmt, ...)
{
	char now[32];
	struct buf detail = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&detail, fmt, ap);
	va_end(ap);
	/* to the millisecond: the web UI draws a rollout's steps over time */
	struct timespec ts;
	struct tm tm;
	char sec[24];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(now, sizeof(now), "%s.%03dZ", sec, (int)(ts.tv_nsec / 1000000));
	struct dbstmt *st = prep(db, "INSERT INTO deploy_audit (at, app, release_id, event, detail)"
				    " VALUES (?, ?, ?, ?, ?)");
	if (st) {
		bind_text(st, 1, now);
		bind_text(st, 2, app);
		if (release_id > 0)
			dbs_bind_i64(st, 3, release_id);
		else
			dbs_bind_null(st, 3);
		bind_text(st, 4, event);
		bind_text(st, 5, detail.buf);
		step_done(db, st);
	}
	buf_release(&detail);
}

int dstore_slot_save(struct db *db, const char *app, const struct dslot *s)
{
	struct dbstmt *st = prep(db, "INSERT INTO deploy_instances (app, slot, release_id, version,"
				    " port, pid, role) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app, slot)"
				    " DO UPDATE SET release_id = excluded.release_id,"
				    " version = excluded.version, port = excluded.port, pid = excluded.pid,"
				    " role = excluded.role");
	if (!st)
		return -1;
	bind_text(st, 1, app);
	dbs_bind_i64(st, 2, s->slot);
	dbs_bind_i64(st, 3, s->release_id);
	bind_text(st, 4, s->version);
	dbs_bind_i64(st, 5, s->port);
	dbs_bind_i64(st, 6, s->pid);
	bind_text(st, 7, s->role);
	return step_done(db, st);
}

int dstore_slot_clear(struct db *db, const char *app, int slot)
{
	struct dbstmt *st = prep(db, "DELETE FROM deploy_instances WHERE app = ? AND slot = ?");
	if (!st)
		return -1;
	bind_text(st, 1, app);
	dbs_bind_i64(st, 2, slot);
	return step_done(db, st);
}

size_t dstore_slots_load(struct db *db, const char *app, struct dslot **out)
{
	size_t n = 0, alloc = 0;
	*out = NULL;
	struct dbstmt *st = prep(db, "SELECT slot, release_id, version, port, pid, role FROM deploy_instances"
				    " WHERE app = ? ORDER BY slot");
	if (!st)
		return 0;
	bind_text(st, 1, app);
	while (dbs_step(st) == DB_ROW) {
		ALLOC_GROW(*out, n + 1, alloc);
		struct dslot *s = &(*out)[n++];
		memset(s, 0, sizeof(*s));
		s->slot = dbs_col_int(st, 0);
		s->release_id = (long)dbs_col_i64(st, 1);
		col_copy(s->version, sizeof(s->version), st, 2);
		s->port = dbs_col_int(st, 3);
		s->pid = dbs_col_int(st, 4);
		col_copy(s->role, sizeof(s->role), st, 5);
	}
	dbs_finalize(st);
	return n;
}

int dstore_app_set(struct db *db, const char *app, long stable_release, const char *stable_version,
		   int maintenance)
{
	struct dbstmt *st = prep(db, "INSERT INTO deploy_apps (app, stable_release, stable_version,"
				    " maintenance) VALUES (?, ?, ?, ?) ON CONFLICT (app) DO UPDATE SET"
				    " stable_release = excluded.stable_release,"
				    " stable_version = excluded.stable_version,"
				    " maintenance = excluded.maintenance");
	if (!st)
		return -1;
	bind_text(st, 1, app);
	dbs_bind_i64(st, 2, stable_release);
	bind_text(st, 3, stable_version);
	dbs_bind_i64(st, 4, maintenance);
	return step_done(db, st);
}

int dstore_app_get(struct db *db, const char *app, long *stable_release, struct buf *stable_version,
		   int *maintenance)
{
	struct dbstmt *st = prep(db, "SELECT stable_release, stable_version, maintenance FROM deploy_apps"
				    " WHERE app = ?");
	int r = -1;
	if (!st)
		return -1;
	bind_text(st, 1, app);
	if (dbs_step(st) == DB_ROW) {
		*stable_release = (long)dbs_col_i64(st, 0);
		const char *v = dbs_col_text(st, 1);
		buf_addstr(stable_version, v ? v : "");
		*maintenance = dbs_col_int(st, 2);
		r = 0;
	}
	dbs_finalize(st);
	return r;
}

static void col(struct dbstmt *st, int i, char *out, size_t n)
{
	const char *t = dbs_col_text(st, i);
	snprintf(out, n, "%s", t ? t : "");
}

size_t dstore_releases(struct db *db, const char *app, int limit, struct drelease **out)
{
	struct dbstmt *st = prep(db, "SELECT id, app, version, strategy, user, started_at, outcome,"
				    " COALESCE(duration_ms, -1), COALESCE(reason, '') FROM deploy_releases"
				    " WHERE ?1 IS NULL OR app = ?1 ORDER BY id DESC LIMIT ?2");
	size_t n = 0, cap = 0;
	*out = NULL;
	if (!st)
		return 0;
	bind_text(st, 1, app);
	dbs_bind_i64(st, 2, limit);
	while (dbs_step(st) == DB_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		struct drelease *r = &(*out)[n++];
		r->id = (long)dbs_col_i64(st, 0);
		col(st, 1, r->app, sizeof(r->app));
		col(st, 2, r->version, sizeof(r->version));
		col(st, 3, r->strategy, sizeof(r->strategy));
		col(st, 4, r->user, sizeof(r->user));
		col(st, 5, r->started_at, sizeof(r->started_at));
		col(st, 6, r->outcome, sizeof(r->outcome));
		r->duration_ms = (long)dbs_col_i64(st, 7);
		col(st, 8, r->reason, sizeof(r->reason));
	}
	dbs_finalize(st);
	return n;
}

int dstore_print_releases(struct db *db, const char *app, int json, FILE *out)
{
	struct dbstmt *st = prep(db, "SELECT id, version, started_at, user, strategy, outcome,"
				    " COALESCE(duration_ms, -1), COALESCE(reason, ''), config_commit FROM deploy_releases"
				    " WHERE app = ?1 ORDER BY id DESC");
	if (!st)
		return -1;
	bind_text(st, 1, app);
	if (!json)
		fprintf(out, "%-4s %-16s %-20s %-8s %-10s %-10s %-12s %9s  %s\n", "ID", "VERSION", "WHEN", "CONFIG",
			"WHO", "STRATEGY", "OUTCOME", "DURATION", "REASON");
	while (dbs_step(st) == DB_ROW) {
		const char *c[9];
		for (int i = 0; i < 9; i++)
			c[i] = dbs_col_text(st, i) ? dbs_col_text(st, i) : "";
		long dur = (long)dbs_col_i64(st, 6);
		if (json) {
			struct buf b = BUF_INIT;
			buf_addf(&b, "{\"id\":%s,\"version\":", c[0]);
			buf_add_json_str(&b, c[1], strlen(c[1]));
			buf_addf(&b, ",\"when\":\"%s\",\"who\":", c[2]);
			buf_add_json_str(&b, c[3], strlen(c[3]));
			buf_addf(&b, ",\"strategy\":\"%s\",\"outcome\":\"%s\",\"duration_ms\":%ld,\"reason\":",
				 c[4], c[5], dur);
			buf_add_json_str(&b, c[7], strlen(c[7]));
			buf_addf(&b, ",\"config_commit\":\"%s\"", c[8]);
			fprintf(out, "%s}\n", b.buf);
			buf_release(&b);
		} else {
			char sh[20];
			fprintf(out, "%-4s %-16s %-20s %-8.8s %-10s %-10s %-12s %9s  %s\n", c[0],
				deploy_version_short(c[1], sh), c[2],
				*c[8] ? c[8] : "-", *c[3] ? c[3] : "-", c[4], c[5], duration_str((double)dur).s, c[7]);
		}
	}
	dbs_finalize(st);
	return 0;
}

int dstore_print_audit(struct db *db, const char *app, FILE *out)
{
	struct dbstmt *st = prep(db, "SELECT at, COALESCE(release_id, 0), event, detail FROM deploy_audit"
				    " WHERE app = ? ORDER BY id");
	if (!st)
		return -1;
	bind_text(st, 1, app);
	while (dbs_step(st) == DB_ROW)
		fprintf(out, "%s release=%lld %s %s\n", dbs_col_text(st, 0),
			(long long)dbs_col_i64(st, 1), dbs_col_text(st, 2),
			dbs_col_text(st, 3));
	dbs_finalize(st);
	return 0;
}

size_t dstore_audit_list(struct db *db, const char *app, long release_id, struct daudit **out)
{
	size_t n = 0, alloc = 0;
	*out = NULL;
	struct dbstmt *st = prep(db, "SELECT at, event, detail FROM deploy_audit WHERE app = ?1"
				     " AND release_id = ?2 ORDER BY id LIMIT 5000");
	if (!st)
		return 0;
	bind_text(st, 1, app);
	dbs_bind_i64(st, 2, release_id);
	while (dbs_step(st) == DB_ROW) {
		ALLOC_GROW(*out, n + 1, alloc);
		struct daudit *a = &(*out)[n++];
		col_copy(a->at, sizeof(a->at), st, 0);
		col_copy(a->event, sizeof(a->event), st, 1);
		col_copy(a->detail, sizeof(a->detail), st, 2);
	}
	dbs_finalize(st);
	return n;
}
