/* agents: agents, their tokens and the jobs leased to them (agents.h). */
#include "base/kiln.h"
#include "store/agents.h"
#include "store/runs.h"
#include "store/sql.h"

#include <ctype.h>

/* 0 when st produced a row (read by fn), KILN_ENOENT when none, -1 on error */
static int one_row(struct db *db, struct dbstmt *st, struct buf *err, const char *what,
		   void (*fn)(struct dbstmt *, void *), void *out)
{
	if (!st)
		return -1;
	int rc = dbs_step(st), r = 0;
	if (rc == DB_ROW)
		fn(st, out);
	else if (rc == DB_DONE)
		r = KILN_ENOENT;
	else
		r = sql_fail(db, err, what);
	dbs_finalize(st);
	return r;
}

/* ---- registration tokens ---- */

int agents_regtoken_insert(struct db *db, const char *hash_hex, const char *created_by,
			   int64_t expires_ms, int64_t *id, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot add a registration token",
				    "INSERT INTO agent_reg_tokens (token_hash, created_by, created_at,"
				    " expires_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
				    "ttiI", hash_hex, created_by, runs_now_ms(), expires_ms);
	if (!st)
		return -1;
	int rc = dbs_step(st);
	if (rc == DB_ROW)
		*id = dbs_col_i64(st, 0);
	dbs_finalize(st);
	return rc == DB_ROW ? 0 : sql_fail(db, err, "cannot add a registration token");
}

static void read_id(struct dbstmt *st, void *p)
{
	*(int64_t *)p = dbs_col_i64(st, 0);
}

int agents_regtoken_check(struct db *db, const char *hash_hex, int64_t now_ms, struct buf *err)
{
	int64_t id;
	return one_row(db,
		       sql_prep(db, err, "cannot read registration tokens",
				"SELECT id FROM agent_reg_tokens WHERE token_hash = ?1 AND revoked_at"
				" IS NULL AND (expires_at IS NULL OR expires_at > ?2)",
				"ti", hash_hex, now_ms),
		       err, "cannot read registration tokens", read_id, &id);
}

int agents_regtoken_revoke(struct db *db, int64_t id, struct buf *err)
{
	int n = sql_run(db, err, "cannot revoke a registration token",
			"UPDATE agent_reg_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS"
			" NULL",
			"ii", id, runs_now_ms());
	return n < 0 ? -1 : n ? 0 : KILN_ENOENT;
}

/* ---- agents ---- */

#define AGENT_COLS "id, name, labels, created_at, seen_at, revoked_at"

static void read_agent(struct dbstmt *st, void *p)
{
	struct agent_row *a = p;
	memset(a, 0, sizeof(*a));
	a->id = dbs_col_i64(st, 0);
	sql_col_text(st, 1, a->name, sizeof(a->name));
	sql_col_text(st, 2, a->labels, sizeof(a->labels));
	a->created_ms = dbs_col_i64(st, 3);
	a->seen_ms = dbs_col_i64(st, 4);
	a->revoked_ms = dbs_col_i64(st, 5);
}

int agents_insert(struct db *db, const char *name, const char *labels, const char *hash_hex,
		  int64_t *id, struct buf *err)
{
	int64_t now = runs_now_ms();
	struct dbstmt *st = sql_prep(db, err, "cannot add an agent",
				    "INSERT INTO agents (name, labels, token_hash, created_at, seen_at)"
				    " VALUES (?1, ?2, ?3, ?4, ?4) RETURNING id",
				    "ttti", name, labels, hash_hex, now);
	if (!st)
		return -1;
	int rc = dbs_step(st);
	if (rc == DB_ROW)
		*id = dbs_col_i64(st, 0);
	dbs_finalize(st);
	return rc == DB_ROW ? 0 : sql_fail(db, err, "cannot add an agent");
}

int agents_by_token(struct db *db, const char *hash_hex, struct agent_row *out, struct buf *err)
{
	return one_row(db,
		       sql_prep(db, err, "cannot read agents",
				"SELECT " AGENT_COLS " FROM agents WHERE token_hash = ?1 AND"
				" revoked_at IS NULL",
				"t", hash_hex),
		       err, "cannot read agents", read_agent, out);
}

int agents_touch(struct db *db, int64_t id, int64_t now_ms, struct buf *err)
{
	return sql_run(db, err, "cannot update an agent",
		       "UPDATE agents SET seen_at = ?2 WHERE id = ?1 AND (seen_at IS NULL OR"
		       " seen_at < ?3)",
		       "iii", id, now_ms, now_ms - 1000) < 0 ? -1 : 0;
}

int agents_revoke(struct db *db, int64_t id, int64_t now_ms, struct buf *err)
{
	int n = sql_run(db, err, "cannot revoke an agent",
			"UPDATE agents SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
			"ii", id, now_ms);
	return n < 0 ? -1 : n ? 0 : KILN_ENOENT;
}

int agents_list(struct db *db, struct agent_row **out, size_t *n, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot list agents",
				    "SELECT " AGENT_COLS " FROM agents ORDER BY id DESC", "");
	return sql_rows(db, st, err, "cannot list agents", sizeof(**out), read_agent,
			(void **)out, n);
}

static void read_labels(struct dbstmt *st, void *p)
{
	*(char **)p = sql_col_strdup(st, 0);
}

int agents_live_labels(struct db *db, int64_t since_ms, struct strvec *out, struct buf *err)
{
	char **v = NULL;
	size_t n = 0;
	struct dbstmt *st = sql_prep(db, err, "cannot read agents",
				    "SELECT DISTINCT labels FROM agents WHERE revoked_at IS NULL AND"
				    " seen_at >= ?1",
				    "i", since_ms);
	if (sql_rows(db, st, err, "cannot read agents", sizeof(*v), read_labels, (void **)&v, &n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		strvec_push(out, v[i] ? v[i] : "");
		free(v[i]);
	}
	free(v);
	return 0;
}

/* ---- labels ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int agents_labels_normalize(const struct strvec *in, struct buf *out, struct buf *err)
{
	struct strvec all = STRVEC_INIT;
	int r = 0;
	for (size_t i = 0; i < in->nr && !r; i++) {
		const char *p = in->v[i];
		while (*p && !r) {
			size_t n = strcspn(p, ",");
			while (n && isspace((unsigned char)*p)) {
				p++;
				n--;
			}
			size_t m = n;
			while (m && isspace((unsigned char)p[m - 1]))
				m--;
			if (m > 64) {
				buf_addf(err, "label '%.*s' is longer than 64 characters", (int)m, p);
				r = KILN_EINVAL;
				break;
			}
			char *l = xstrndup(p, m);
			for (char *c = l; *c; c++) {
				*c = (char)tolower((unsigned char)*c);
				if (!isalnum((unsigned char)*c) && !strchr("._-", *c)) {
					buf_addf(err, "label '%s': only letters, digits, '.', '_' and"
						 " '-' are allowed", l);
					r = KILN_EINVAL;
					break;
				}
			}
			if (*l && !r)
				strvec_push(&all, l);
			free(l);
			p += n;
			if (*p == ',')
				p++;
		}
	}
	if (!r) {
		if (all.nr)
			qsort(all.v, all.nr, sizeof(*all.v), cmp_str);
		for (size_t i = 0; i < all.nr; i++)
			if (!i || strcmp(all.v[i], all.v[i - 1]))
				buf_addf(out, "%s%s", out->len ? "," : "", all.v[i]);
	}
	strvec_clear(&all);
	return r;
}

/* label (len n) in the normalized list */
static int has_label(const char *list, const char *label, size_t n)
{
	for (const char *p = list; *p;) {
		size_t m = strcspn(p, ",");
		if (m == n && !strncmp(p, label, n))
			return 1;
		p += m;
		if (*p)
			p++;
	}
	return 0;
}

int agents_labels_match(const char *job_labels, const char *agent_labels)
{
	for (const char *p = job_labels; *p;) {
		size_t m = strcspn(p, ",");
		int implied = (m == 11 && !strncmp(p, "self-hosted", 11)) ||
			      (m == 5 && !strncmp(p, "linux", 5));
		if (m && !implied && !has_label(agent_labels, p, m))
			return 0;
		p += m;
		if (*p)
			p++;
	}
	return 1;
}

/* ---- jobs ---- */

static const char *const status_names[] = { "queued", "leased", "done" };

#define AJOB_COLS                                                                          \
	"id, run_id, job_id, repo, name, labels, spec, secrets_box, source, status, reason," \
	" attempt, lease_owner, lease_expires_at, cancel, log_seq, result, outputs, summary,"   \
	" created_at, leased_at, finished_at"

static void read_ajob(struct dbstmt *st, void *p)
{
	struct ajob_row *j = p;
	memset(j, 0, sizeof(*j));
	j->id = dbs_col_i64(st, 0);
	j->run_id = dbs_col_i64(st, 1);
	j->job_id = dbs_col_i64(st, 2);
	sql_col_text(st, 3, j->repo, sizeof(j->repo));
	j->name = sql_col_strdup(st, 4);
	j->labels = sql_col_strdup(st, 5);
	j->spec = sql_col_strdup(st, 6);
	j->secrets_box = sql_col_strdup(st, 7);
	j->source = sql_col_strdup(st, 8);
	const char *s = dbs_col_text(st, 9);
	j->status = AJOB_QUEUED;
	for (size_t i = 0; s && i < ARRAY_SIZE(status_names); i++)
		if (!strcmp(s, status_names[i]))
			j->status = (enum ajob_status)i;
	j->reason = sql_col_strdup(st, 10);
	if (!j->reason)
		j->reason = xstrdup("");
	j->attempt = dbs_col_int(st, 11);
	j->lease_owner = dbs_col_i64(st, 12);
	j->lease_expires_ms = dbs_col_i64(st, 13);
	j->cancel = dbs_col_int(st, 14);
	j->log_seq = dbs_col_i64(st, 15);
	sql_col_text(st, 16, j->result, sizeof(j->result));
	j->outputs = sql_col_strdup(st, 17);
	j->summary = sql_col_strdup(st, 18);
	j->created_ms = dbs_col_i64(st, 19);
	j->leased_ms = dbs_col_i64(st, 20);
	j->finished_ms = dbs_col_i64(st, 21);
}

void ajob_row_release(struct ajob_row *r)
{
	free(r->name);
	free(r->labels);
	free(r->spec);
	free(r->secrets_box);
	free(r->source);
	free(r->reason);
	free(r->outputs);
	free(r->summary);
	memset(r, 0, sizeof(*r));
}

int ajobs_insert(struct db *db, const struct ajob_new *j, int64_t *id, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot queue an agent job",
				    "INSERT INTO agent_jobs (run_id, job_id, repo, name, labels, spec,"
				    " source, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
				    " RETURNING id",
				    "iittttti", j->run_id, j->job_id, j->repo, j->name,
				    j->labels, j->spec, j->source, runs_now_ms());
	if (!st)
		return -1;
	int rc = dbs_step(st);
	if (rc == DB_ROW)
		*id = dbs_col_i64(st, 0);
	dbs_finalize(st);
	return rc == DB_ROW ? 0 : sql_fail(db, err, "cannot queue an agent job");
}

int ajobs_set_secrets(struct db *db, int64_t id, const char *box_b64, struct buf *err)
{
	return sql_run(db, err, "cannot store an agent job's secrets",
		       "UPDATE agent_jobs SET secrets_box = ?2 WHERE id = ?1", "it", id,
		       box_b64) < 0 ? -1 : 0;
}

int ajobs_get(struct db *db, int64_t id, struct ajob_row *out, struct buf *err)
{
	return one_row(db,
		       sql_prep(db, err, "cannot read agent jobs",
				"SELECT " AJOB_COLS " FROM agent_jobs WHERE id = ?1", "i", id),
		       err, "cannot read agent jobs", read_ajob, out);
}

struct cand {
	int64_t id;
	char *labels;
};

static void read_cand(struct dbstmt *st, void *p)
{
	struct cand *c = p;
	c->id = dbs_col_i64(st, 0);
	c->labels = sql_col_strdup(st, 1);
}

/* candidates scanned per lease: the oldest queued jobs */
#define LEASE_SCAN 64

int ajobs_lease(struct db *db, int64_t agent_id, const char *agent_labels, int64_t now_ms,
		int64_t lease_ms, struct ajob_row *out, struct buf *err)
{
	if (sql_begin(db, err))
		return -1;
	/* PostgreSQL: the candidates are row-locked, rows another replica's
	 * lease holds are skipped (SKIP LOCKED); SQLite has no row locks and
	 * needs none: BEGIN IMMEDIATE already excludes every other writer */
	struct cand *c = NULL;
	size_t n = 0;
	const char *pick = db_dialect(db) == DB_POSTGRES
				   ? "SELECT id, labels FROM agent_jobs WHERE status = 'queued'"
				     " AND cancel = 0 ORDER BY id LIMIT ?1 FOR UPDATE SKIP LOCKED"
				   : "SELECT id, labels FROM agent_jobs WHERE status = 'queued'"
				     " AND cancel = 0 ORDER BY id LIMIT ?1";
	struct dbstmt *st = sql_prep(db, err, "cannot lease a job", pick, "i", (int64_t)LEASE_SCAN);
	if (sql_rows(db, st, err, "cannot lease a job", sizeof(*c), read_cand, (void **)&c, &n)) {
		sql_rollback(db);
		return -1;
	}
	int64_t id = 0;
	for (size_t i = 0; i < n; i++) {
		if (!id && agents_labels_match(c[i].labels ? c[i].labels : "", agent_labels))
			id = c[i].id;
		free(c[i].labels);
	}
	free(c);
	if (!id) {
		sql_rollback(db);
		return KILN_ENOENT;
	}
	int r = sql_run(db, err, "cannot lease a job",
			"UPDATE agent_jobs SET status = 'leased', lease_owner = ?2,"
			" lease_expires_at = ?3, leased_at = ?4, reason = '', lease_acked = 0"
			" WHERE id = ?1 AND"
			" status = 'queued'",
			"iiii", id, agent_id, now_ms + lease_ms, now_ms);
	/* out is filled only when the read succeeds (a connection lost
	 * between the two statements fails the read: nothing to release) */
	int got = r == 1 && ajobs_get(db, id, out, err) == 0;
	if (r < 0 || (r == 1 && !got) || sql_commit(db, err)) {
		if (got)
			ajob_row_release(out);
		sql_rollback(db);
		return -1;
	}
	return r == 1 ? 0 : KILN_ENOENT;
}

int ajobs_heartbeat(struct db *db, int64_t id, int64_t agent_id, int attempt, int64_t now_ms,
		    int64_t lease_ms, int *cancel, struct buf *err)
{
	int r = sql_run(db, err, "cannot renew a lease",
			"UPDATE agent_jobs SET lease_expires_at = ?4, lease_acked = 1 WHERE id = ?1"
			" AND lease_owner = ?2 AND attempt = ?3 AND status = 'leased'",
			"iiii", id, agent_id, (int64_t)attempt, now_ms + lease_ms);
	if (r <= 0)
		return r < 0 ? -1 : KILN_ENOENT;
	struct ajob_row j;
	if (ajobs_get(db, id, &j, err))
		return -1;
	*cancel = j.cancel;
	ajob_row_release(&j);
	return 0;
}

/* inside a transaction: the stored log_seq of a lease held by agent */
static int held_seq(struct db *db, int64_t id, int64_t agent_id, int attempt, int64_t *seq,
		    struct buf *err)
{
	return one_row(db,
		       sql_prep(db, err, "cannot read agent jobs",
				"SELECT log_seq FROM agent_jobs WHERE id = ?1 AND lease_owner = ?2"
				" AND attempt = ?3 AND status = 'leased'",
				"iii", id, agent_id, (int64_t)attempt),
		       err, "cannot read agent jobs", read_id, seq);
}

int ajobs_logs_append(struct db *db, int64_t id, int64_t agent_id, int attempt,
		      const struct ajob_log *v, size_t n, int64_t now_ms, int64_t lease_ms,
		      int64_t *last, struct buf *err)
{
	if (sql_begin(db, err))
		return -1;
	int r = held_seq(db, id, agent_id, attempt, last, err);
	if (r) {
		sql_rollback(db);
		return r;
	}
	int64_t seq = *last;
	for (size_t i = 0; i < n && r == 0; i++) {
		if (v[i].seq <= seq)
			continue; /* sent before: the answer was lost */
		if (v[i].seq != seq + 1) {
			r = AJOB_CONFLICT;
			break;
		}
		if (sql_run(db, err, "cannot store log events",
			    "INSERT INTO agent_logs (ajob_id, seq, event) VALUES (?1, ?2, ?3)", "iit",
			    id, v[i].seq, v[i].event) < 0)
			r = -1;
		else
			seq = v[i].seq;
	}
	if (r == 0 && sql_run(db, err, "cannot store log events",
			      "UPDATE agent_jobs SET log_seq = ?2, lease_expires_at = ?3,"
			      " lease_acked = 1 WHERE id = ?1",
			      "iii", id, seq, now_ms + lease_ms) < 0)
		r = -1;
	if (r != 0) {
		sql_rollback(db);
		return r;
	}
	if (sql_commit(db, err))
		return -1;
	*last = seq;
	return 0;
}

int ajobs_complete(struct db *db, int64_t id, int64_t agent_id, int attempt, int64_t last_seq,
		   const char *result, const char *outputs, const char *summary, int64_t now_ms,
		   int64_t *stored, struct buf *err)
{
	if (sql_begin(db, err))
		return -1;
	int r = held_seq(db, id, agent_id, attempt, stored, err);
	if (!r && *stored != last_seq)
		r = AJOB_CONFLICT;
	if (!r && sql_run(db, err, "cannot complete an agent job",
			  "UPDATE agent_jobs SET status = 'done', result = ?2, outputs = ?3,"
			  " summary = ?4, finished_at = ?5, lease_expires_at = NULL WHERE id = ?1",
			  "itttI", id, result, outputs, summary, now_ms) < 0)
		r = -1;
	if (r) {
		sql_rollback(db);
		return r;
	}
	return sql_commit(db, err);
}

int ajobs_expire(struct db *db, int64_t now_ms, int64_t ack_ms, int retries, int *requeued,
		 int *failed, struct buf *err)
{
	*requeued = *failed = 0;
	if (sql_begin(db, err))
		return -1;
	/* the lease answer never reached its agent (it went away while its
	 * long-poll was open): the job is offered again, same attempt */
	int u = sql_run(db, err, "cannot expire leases",
			"UPDATE agent_jobs SET status = 'queued', lease_owner = NULL,"
			" lease_expires_at = NULL WHERE status = 'leased' AND lease_acked = 0"
			" AND leased_at < ?1 AND cancel = 0",
			"i", now_ms - ack_ms);
	int a = u < 0 ? -1 : sql_run(db, err, "cannot expire leases",
			"UPDATE agent_jobs SET status = 'queued', attempt = attempt + 1,"
			" lease_owner = NULL, lease_expires_at = NULL,"
			" reason = 'agent lost: re-queued, attempt ' || (attempt + 1)"
			" WHERE status = 'leased' AND lease_expires_at < ?1 AND attempt <= ?2"
			" AND cancel = 0",
			"ii", now_ms, (int64_t)retries);
	int b = a < 0 ? -1 :
		sql_run(db, err, "cannot expire leases",
			"UPDATE agent_jobs SET status = 'done', result = CASE WHEN cancel = 1 THEN"
			" 'cancelled' ELSE 'failure' END, reason = 'agent lost', finished_at = ?1,"
			" lease_expires_at = NULL WHERE status = 'leased' AND lease_expires_at < ?1",
			"i", now_ms);
	if (b < 0) {
		sql_rollback(db);
		return -1;
	}
	if (sql_commit(db, err))
		return -1;
	*requeued = a;
	*failed = b;
	return 0;
}

int ajobs_ack(struct db *db, int64_t id, int64_t agent_id, int attempt, struct buf *err)
{
	int r = sql_run(db, err, "cannot confirm a lease",
			"UPDATE agent_jobs SET lease_acked = 1 WHERE id = ?1 AND lease_owner = ?2"
			" AND attempt = ?3 AND status = 'leased'",
			"iii", id, agent_id, (int64_t)attempt);
	return r < 0 ? -1 : r ? 0 : KILN_ENOENT;
}

int ajobs_cancel(struct db *db, int64_t id, struct buf *err)
{
	if (sql_run(db, err, "cannot cancel an agent job",
		    "UPDATE agent_jobs SET cancel = 1, status = CASE WHEN status = 'queued' THEN"
		    " 'done' ELSE status END, result = CASE WHEN status = 'queued' THEN 'cancelled'"
		    " ELSE result END, finished_at = CASE WHEN status = 'queued' THEN ?2 ELSE"
		    " finished_at END WHERE id = ?1 AND status <> 'done'",
		    "ii", id, runs_now_ms()) < 0)
		return -1;
	return 0;
}

int ajobs_close_all(struct db *db, const char *reason, int64_t now_ms, int64_t *n,
		    struct buf *err)
{
	int r = sql_run(db, err, "cannot close agent jobs",
			"UPDATE agent_jobs SET status = 'done', result = 'cancelled', reason = ?1,"
			" finished_at = ?2, lease_expires_at = NULL WHERE status <> 'done'",
			"ti", reason, now_ms);
	if (r < 0)
		return -1;
	*n = r;
	return 0;
}

int ajobs_close_orphans(struct db *db, const char *reason, int64_t now_ms, int64_t *n,
			struct buf *err)
{
	int r = sql_run(db, err, "cannot close agent jobs",
			"UPDATE agent_jobs SET status = 'done', result = 'cancelled', reason = ?1,"
			" finished_at = ?2, lease_expires_at = NULL WHERE status <> 'done'"
			" AND run_id > 0 AND EXISTS (SELECT 1 FROM runs r JOIN events e"
			" ON e.id = r.event_id WHERE r.id = agent_jobs.run_id"
			" AND e.status <> 'running')",
			"ti", reason, now_ms);
	if (r < 0)
		return -1;
	*n = r;
	return 0;
}

int ajobs_list_open(struct db *db, size_t max, struct ajob_row **out, size_t *n, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot list agent jobs",
				    "SELECT " AJOB_COLS " FROM agent_jobs WHERE status <> 'done'"
				    " ORDER BY id LIMIT ?1",
				    "i", (int64_t)max);
	return sql_rows(db, st, err, "cannot list agent jobs", sizeof(**out), read_ajob,
			(void **)out, n);
}

int ajobs_set_reason(struct db *db, int64_t id, const char *reason, struct buf *err)
{
	return sql_run(db, err, "cannot update an agent job",
		       "UPDATE agent_jobs SET reason = ?2 WHERE id = ?1 AND status = 'queued'", "it",
		       id, reason) < 0 ? -1 : 0;
}

static void read_log(struct dbstmt *st, void *p)
{
	struct ajob_log_row *l = p;
	l->ajob_id = dbs_col_i64(st, 0);
	l->seq = dbs_col_i64(st, 1);
	l->event = sql_col_strdup(st, 2);
}

int ajobs_logs_range(struct db *db, int64_t lo, int64_t hi, size_t max,
		     struct ajob_log_row **out, size_t *n, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot read log events",
				     "SELECT ajob_id, seq, event FROM agent_logs WHERE ajob_id >= ?1"
				     " AND ajob_id <= ?2 ORDER BY ajob_id, seq LIMIT ?3",
				     "iii", lo, hi, (int64_t)max);
	return sql_rows(db, st, err, "cannot read log events", sizeof(**out), read_log,
			(void **)out, n);
}

int ajobs_logs_trim(struct db *db, int64_t id, int64_t upto, struct buf *err)
{
	return sql_run(db, err, "cannot drop log events",
		       "DELETE FROM agent_logs WHERE ajob_id = ?1 AND seq <= ?2", "ii", id,
		       upto) < 0 ? -1 : 0;
}

static void read_state(struct dbstmt *st, void *p)
{
	struct ajob_state *a = p;
	static const char *const names[] = { "queued", "leased", "done" };
	memset(a, 0, sizeof(*a));
	a->id = dbs_col_i64(st, 0);
	const char *s = dbs_col_text(st, 1);
	for (size_t i = 0; s && i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i]))
			a->status = (enum ajob_status)i;
	a->attempt = dbs_col_int(st, 2);
	a->lease_owner = dbs_col_i64(st, 3);
	a->log_seq = dbs_col_i64(st, 4);
	a->reason = sql_col_strdup(st, 5);
	if (!a->reason)
		a->reason = xstrdup("");
}

int ajobs_states(struct db *db, int64_t lo, int64_t hi, struct ajob_state **out, size_t *n,
		 struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot read agent jobs",
				     "SELECT id, status, attempt, lease_owner, log_seq, reason FROM"
				     " agent_jobs WHERE id >= ?1 AND id <= ?2 AND (status <> 'queued'"
				     " OR reason <> '' OR attempt > 1) ORDER BY id",
				     "ii", lo, hi);
	return sql_rows(db, st, err, "cannot read agent jobs", sizeof(**out), read_state,
			(void **)out, n);
}

int ajobs_logs_drop(struct db *db, int64_t id, struct buf *err)
{
	return sql_run(db, err, "cannot drop log events", "DELETE FROM agent_logs WHERE ajob_id = ?1",
		       "i", id) < 0 ? -1 : 0;
}

int ajobs_run_id(struct db *db, int64_t id, int64_t *run_id, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot read an agent job",
				     "SELECT coalesce(run_id, 0) FROM agent_jobs WHERE id = ?1", "i", id);
	if (!st)
		return -1;
	int rc = dbs_step(st);
	*run_id = rc == DB_ROW ? dbs_col_i64(st, 0) : 0;
	dbs_finalize(st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? KILN_ENOENT : sql_fail(db, err, "cannot read an agent job");
}
