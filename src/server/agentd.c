/* agentd: the agent API and leases on the server (see agentd.h). */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/job.h"
#include "secret/secret.h"
#include "server/agentd.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/srv.h"
#include "store/agents.h"
#include "store/artifacts.h"
#include "store/blobs.h"
#include "store/caches.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/runs.h"

#include <sodium.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

/* how often waiting long-polls look for a job */
#define TICK_MS 100
/* the sweep: expired leases, reasons of waiting jobs */
#define SWEEP_MS 1000
/* longest long-poll */
#define MAX_WAIT_MS 30000
/* an agent seen this recently counts as connected for "no agent with labels" */
#define LIVE_MS 60000
/* queued jobs whose reason the sweep keeps current */
#define SWEEP_JOBS 500
#define MAX_STREAM (4 << 20)

/* one waiting long-poll */
struct waiter {
	struct agentd *a;
	struct http_stream *st;
	int64_t agent_id;
	char labels[1024];
	int64_t deadline;
	struct waiter *next;
};

struct agentd {
	struct srv *s;
	uv_timer_t tick, sweep;
	struct waiter *waiting;
	int stopped;
};

static struct agentd *agentd_of(struct srv *s)
{
	return s->agentd;
}

/* ---- tokens ---- */

int agentd_regtoken_create(struct db *db, const char *actor, int64_t ttl_ms, struct buf *token_out,
			   int64_t *id, struct buf *err)
{
	struct buf tok = BUF_INIT;
	char hash[65];
	auth_random_token(AGENT_REG_PREFIX, &tok);
	auth_token_hash(tok.buf, hash);
	int64_t exp = ttl_ms > 0 ? runs_now_ms() + ttl_ms : 0;
	int r = agents_regtoken_insert(db, hash, actor ? actor : "kiln", exp, id, err);
	if (r == 0) {
		char detail[64];
		snprintf(detail, sizeof(detail), "registration token %lld", (long long)*id);
		audit_append(db, actor ? actor : "kiln", "agent.regtoken.create", "", detail, "", err);
		buf_add(token_out, tok.buf, tok.len);
	}
	sodium_memzero(tok.buf, tok.len);
	buf_release(&tok);
	return r;
}

/* the agent calling: 0 with *out, or -1 after answering 401/503 */
static int agent_auth(struct srv *s, struct http_req *q, struct agent_row *out)
{
	const char *h = http_req_header(q, "authorization");
	if (!h || strncasecmp(h, "bearer ", 7)) {
		http_reply_error(q, 401, "unauthorized", "an agent token is required");
		return -1;
	}
	h += 7;
	while (*h == ' ')
		h++;
	if (!str_starts_with(h, AGENT_TOKEN_PREFIX)) {
		http_reply_error(q, 401, "unauthorized", "not an agent token");
		return -1;
	}
	char hash[65];
	struct buf err = BUF_INIT;
	auth_token_hash(h, hash);
	int r = agents_by_token(s->db, hash, out, &err);
	if (r == KILN_ENOENT)
		http_reply_error(q, 401, "unauthorized", "unknown or revoked agent token");
	else if (r)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	else
		agents_touch(s->db, out->id, runs_now_ms(), &err);
	buf_release(&err);
	return r ? -1 : 0;
}

/* ---- registration ---- */

/* POST /api/v1/agent/register, Bearer kreg_...: {"name", "labels": [..]} */
static void on_register(struct srv *s, struct http_req *q)
{
	const char *h = http_req_header(q, "authorization");
	if (!h || strncasecmp(h, "bearer ", 7)) {
		http_reply_error(q, 401, "unauthorized", "a registration token is required");
		return;
	}
	h += 7;
	while (*h == ' ')
		h++;
	char hash[65];
	struct buf err = BUF_INIT;
	auth_token_hash(h, hash);
	int r = str_starts_with(h, AGENT_REG_PREFIX) ?
			agents_regtoken_check(s->db, hash, runs_now_ms(), &err) : KILN_ENOENT;
	if (r) {
		if (r == KILN_ENOENT)
			http_reply_error(q, 401, "unauthorized",
					 "unknown, revoked or expired registration token");
		else
			http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		buf_release(&err);
		return;
	}
	json_t *body = api__body(q);
	if (!body) {
		buf_release(&err);
		return;
	}
	const char *name = json_string_value(json_object_get(body, "name"));
	json_t *lab = json_object_get(body, "labels");
	struct strvec in = STRVEC_INIT;
	size_t i;
	json_t *v;
	int bad = !name || !*name || strlen(name) > 100 || (lab && !json_is_array(lab));
	json_array_foreach(lab, i, v)
	{
		if (!json_is_string(v))
			bad = 1;
		else
			strvec_push(&in, json_string_value(v));
	}
	struct buf labels = BUF_INIT;
	if (bad) {
		http_reply_error(q, 400, "invalid",
				 "expected {\"name\": \"...\" (1-100 characters), \"labels\": [\"...\"]}");
	} else if (agents_labels_normalize(&in, &labels, &err) < 0) {
		http_reply_error(q, 400, "invalid", "%s", err.buf);
	} else {
		struct buf tok = BUF_INIT;
		int64_t id;
		auth_random_token(AGENT_TOKEN_PREFIX, &tok);
		auth_token_hash(tok.buf, hash);
		if (agents_insert(s->db, name, labels.buf ? labels.buf : "", hash, &id, &err)) {
			http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		} else {
			char target[160];
			snprintf(target, sizeof(target), "agent %lld (%s)", (long long)id, name);
			audit_append(s->db, "kiln", "agent.register", "", target,
				     labels.buf ? labels.buf : "", &err);
			http_reply_json(q, 201, json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id,
							  "name", name, "labels",
							  labels.buf ? labels.buf : "", "token",
							  tok.buf));
		}
		sodium_memzero(tok.buf, tok.len);
		buf_release(&tok);
	}
	buf_release(&labels);
	strvec_clear(&in);
	json_decref(body);
	buf_release(&err);
}

/* POST /api/v1/agent/registration-tokens (admin): {"expires_hours": N} */
static void on_regtoken(struct srv *s, struct http_req *q)
{
	json_t *body = http_req_body(q)->len ? api__body(q) : json_object();
	if (!body)
		return;
	json_t *e = json_object_get(body, "expires_hours");
	int64_t hours = e ? (int64_t)json_integer_value(e) : 24;
	int bad = e && !json_is_integer(e);
	json_decref(body);
	if (bad || hours < 0 || hours > 24 * 365) {
		http_reply_error(q, 400, "invalid", "expires_hours: 0 (never) to 8760");
		return;
	}
	struct buf tok = BUF_INIT, err = BUF_INIT;
	int64_t id;
	if (agentd_regtoken_create(s->db, api__actor(q), hours * 3600 * 1000, &tok, &id, &err))
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	else
		http_reply_json(q, 201, json_pack("{s:I, s:s}", "id", (json_int_t)id, "token", tok.buf));
	sodium_memzero(tok.buf, tok.len);
	buf_release(&tok);
	buf_release(&err);
}

static json_t *agent_json(const struct agent_row *a)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:I, s:b}", "id", (json_int_t)a->id, "name", a->name,
			 "labels", a->labels, "created_ms", (json_int_t)a->created_ms, "seen_ms",
			 (json_int_t)a->seen_ms, "revoked", a->revoked_ms > 0);
}

/* GET /api/v1/agents */
static void on_agents(struct srv *s, struct http_req *q)
{
	struct agent_row *v;
	size_t n;
	struct buf err = BUF_INIT;
	if (agents_list(s->db, &v, &n, &err)) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		buf_release(&err);
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, agent_json(&v[i]));
	free(v);
	http_reply_json(q, 200, json_pack("{s:o}", "agents", a));
}

/* DELETE /api/v1/agents/:id (admin): revoke its token */
static void on_agent_revoke(struct srv *s, struct http_req *q)
{
	int64_t id = api__int(http_req_param(q, "id"));
	struct buf err = BUF_INIT;
	int r = id ? agents_revoke(s->db, id, runs_now_ms(), &err) : KILN_ENOENT;
	if (r == 0) {
		char target[64];
		snprintf(target, sizeof(target), "agent %lld", (long long)id);
		audit_append(s->db, api__actor(q), "agent.revoke", "", target, "", &err);
		http_reply_json(q, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
	} else {
		api__fail(q, r, &err);
	}
	buf_release(&err);
}

static json_t *job_json(const struct ajob_row *j)
{
	static const char *const st[] = { "queued", "leased", "done" };
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:s, s:I}", "id",
			 (json_int_t)j->id, "repo", j->repo, "name", j->name ? j->name : "",
			 "labels", j->labels ? j->labels : "", "status", st[j->status], "attempt",
			 j->attempt, "agent", (json_int_t)j->lease_owner, "log_seq",
			 (json_int_t)j->log_seq, "reason", j->reason ? j->reason : "", "created_ms",
			 (json_int_t)j->created_ms);
}

/* GET /api/v1/agent/jobs: jobs not done (queued ones say why they wait) */
static void on_jobs(struct srv *s, struct http_req *q)
{
	struct ajob_row *v;
	size_t n;
	struct buf err = BUF_INIT;
	if (ajobs_list_open(s->db, 1000, &v, &n, &err)) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		buf_release(&err);
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(a, job_json(&v[i]));
		ajob_row_release(&v[i]);
	}
	free(v);
	http_reply_json(q, 200, json_pack("{s:o}", "jobs", a));
}

/* ---- leases ---- */

/* the lease answer: the job, its secrets (opened for this agent only) */
static json_t *lease_json(struct srv *s, const struct ajob_row *j, struct buf *err)
{
	struct buf sec = BUF_INIT;
	if (j->secrets_box && *j->secrets_box) {
		size_t cap = strlen(j->secrets_box), len = 0;
		unsigned char *bin = xmalloc(cap + 1);
		char *ctx = xstrfmt("agent-job:%lld", (long long)j->id);
		int r = sodium_base642bin(bin, cap, j->secrets_box, cap, NULL, &len, NULL,
					  sodium_base64_VARIANT_ORIGINAL);
		if (r || secret_unseal(s->secrets, ctx, bin, len, &sec, err)) {
			if (r)
				buf_addstr(err, "the job's sealed secrets are damaged");
			free(bin);
			free(ctx);
			buf_release(&sec);
			return NULL;
		}
		free(bin);
		free(ctx);
	}
	json_t *o = json_pack("{s:I, s:i, s:s, s:s, s:s, s:s, s:I, s:I}", "id", (json_int_t)j->id,
			      "attempt", j->attempt, "name", j->name, "spec", j->spec, "source",
			      j->source, "secrets", sec.len ? sec.buf : "{}", "log_seq",
			      (json_int_t)j->log_seq, "lease_ms",
			      (json_int_t)s->opts.agent_lease_ms);
	if (sec.len)
		sodium_memzero(sec.buf, sec.len);
	buf_release(&sec);
	return o;
}

/* try to lease for w: 1 answered (a job or an error), 0 nothing yet */
static int try_lease(struct srv *s, int64_t agent_id, const char *labels, json_t **answer)
{
	struct ajob_row j;
	struct buf err = BUF_INIT;
	int64_t now = runs_now_ms();
	int r = ajobs_lease(s->db, agent_id, labels, now, (int64_t)s->opts.agent_lease_ms, &j, &err);
	if (r == KILN_ENOENT) {
		buf_release(&err);
		return 0;
	}
	if (r) {
		fprintf(stderr, "kiln serve: agents: %s\n", err.buf);
		buf_release(&err);
		return 0; /* the store is busy: the next tick tries again */
	}
	json_t *job = lease_json(s, &j, &err);
	if (!job) {
		/* the job cannot be given out: it ends as failed, saying why */
		int64_t stored;
		fprintf(stderr, "kiln serve: agent job %lld: %s\n", (long long)j.id, err.buf);
		struct buf e2 = BUF_INIT;
		ajobs_complete(s->db, j.id, agent_id, j.attempt, j.log_seq, "failure", NULL, NULL,
			       now, &stored, &e2);
		buf_release(&e2);
		ajob_row_release(&j);
		buf_release(&err);
		return 0;
	}
	fprintf(stderr, "kiln serve: agent job %lld (%s) leased by agent %lld, attempt %d\n",
		(long long)j.id, j.name, (long long)agent_id, j.attempt);
	ajob_row_release(&j);
	buf_release(&err);
	*answer = json_pack("{s:o}", "job", job);
	return 1;
}

static void waiter_unlink(struct waiter *w)
{
	for (struct waiter **p = &w->a->waiting; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			return;
		}
}

static void waiter_answer(struct waiter *w, json_t *answer)
{
	char *s = json_dumps(answer, JSON_COMPACT);
	json_decref(answer);
	http_stream_write(w->st, s, strlen(s));
	sodium_memzero(s, strlen(s)); /* may hold the job's secrets */
	free(s);
	http_stream_end(w->st);
	waiter_unlink(w);
	free(w);
}

static void waiter_closed(void *arg)
{
	struct waiter *w = arg;
	waiter_unlink(w);
	free(w);
}

static void tick_cb(uv_timer_t *t)
{
	struct agentd *a = t->data;
	int64_t now = runs_now_ms();
	struct waiter *w = a->waiting;
	while (w) {
		struct waiter *next = w->next;
		json_t *answer = NULL;
		if (try_lease(a->s, w->agent_id, w->labels, &answer))
			waiter_answer(w, answer);
		else if (now >= w->deadline)
			waiter_answer(w, json_pack("{s:n}", "job"));
		w = next;
	}
	if (!a->waiting)
		uv_timer_stop(&a->tick);
}

/* POST /api/v1/agent/lease {"wait_ms": N}: a job, or {"job": null} after
 * the wait */
static void on_lease(struct srv *s, struct http_req *q)
{
	struct agentd *a = agentd_of(s);
	struct agent_row ag;
	if (agent_auth(s, q, &ag))
		return;
	json_t *body = http_req_body(q)->len ? api__body(q) : json_object();
	if (!body)
		return;
	json_int_t wait = json_integer_value(json_object_get(body, "wait_ms"));
	json_decref(body);
	if (wait < 0)
		wait = 0;
	if (wait > MAX_WAIT_MS)
		wait = MAX_WAIT_MS;
	json_t *answer = NULL;
	if (try_lease(s, ag.id, ag.labels, &answer)) {
		http_reply_json(q, 200, answer);
		return;
	}
	if (!wait || a->stopped) {
		http_reply_json(q, 200, json_pack("{s:n}", "job"));
		return;
	}
	struct waiter *w = xcalloc(1, sizeof(*w));
	w->a = a;
	w->agent_id = ag.id;
	snprintf(w->labels, sizeof(w->labels), "%s", ag.labels);
	w->deadline = runs_now_ms() + wait;
	w->st = http_stream_start(q, 200, "application/json", MAX_STREAM, waiter_closed, w);
	w->next = a->waiting;
	a->waiting = w;
	if (!uv_is_active((uv_handle_t *)&a->tick))
		uv_timer_start(&a->tick, tick_cb, TICK_MS, TICK_MS);
}

/* the job id of the path and the attempt of the body: 0, or -1 answered */
static int job_call(struct srv *s, struct http_req *q, struct agent_row *ag, int64_t *id,
		    json_t **body, int *attempt)
{
	if (agent_auth(s, q, ag))
		return -1;
	*id = api__int(http_req_param(q, "id"));
	*body = api__body(q);
	if (!*body)
		return -1;
	json_t *at = json_object_get(*body, "attempt");
	if (!*id || !json_is_integer(at)) {
		http_reply_error(q, 400, "invalid", "a job id and {\"attempt\": N} are required");
		json_decref(*body);
		return -1;
	}
	*attempt = (int)json_integer_value(at);
	return 0;
}

static void lease_lost(struct http_req *q, int64_t id)
{
	http_reply_error(q, 409, "lease_lost",
			 "job %lld is no longer leased to this agent: stop it", (long long)id);
}

/* POST /api/v1/agent/jobs/:id/heartbeat {"attempt"} -> {"cancel": bool} */
static void on_heartbeat(struct srv *s, struct http_req *q)
{
	struct agent_row ag;
	int64_t id;
	json_t *body;
	int attempt, cancel = 0;
	if (job_call(s, q, &ag, &id, &body, &attempt))
		return;
	json_decref(body);
	struct buf err = BUF_INIT;
	int r = ajobs_heartbeat(s->db, id, ag.id, attempt, runs_now_ms(),
				(int64_t)s->opts.agent_lease_ms, &cancel, &err);
	if (r == KILN_ENOENT)
		lease_lost(q, id);
	else if (r)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	else
		http_reply_json(q, 200, json_pack("{s:b}", "cancel", cancel));
	buf_release(&err);
}

/*
 * An artifact event ("NAME\tSIZE\tFILES\tDIGEST\tDAYS", engine/job.h) is
 * recorded by the run only for a blob the job's run uploaded whole
 * (blob_uploads): another digest becomes an error line in the job's log.
 * 0 (ev kept or rewritten), -1 with err.
 */
static int check_artifact(struct srv *s, int64_t job, int64_t *run, json_t *ev, struct buf *err)
{
	const char *t = json_string_value(json_object_get(ev, "t"));
	if (json_integer_value(json_object_get(ev, "k")) != LOG_ARTIFACT || !t)
		return 0;
	/* the digest: the fourth field from the left, the second from the right */
	const char *end = strrchr(t, '\t'), *p = end;
	while (p && p > t && p[-1] != '\t')
		p--;
	char digest[65] = "";
	if (p && end && end - p == 64)
		memcpy(digest, p, 64);
	if (!*run && ajobs_run_id(s->db, job, run, err) < 0)
		return -1;
	int ok = *digest ? blobs_uploaded(s->db, digest, *run, err) : 0;
	if (ok < 0)
		return -1;
	if (ok)
		return 0;
	size_t name = (size_t)strcspn(t, "\t");
	char *msg = xstrfmt("artifact %.*s: blob %s was not uploaded by this run: not recorded",
			    (int)name, t, *digest ? digest : "(none)");
	json_object_set_new(ev, "k", json_integer(LOG_ERROR));
	json_object_set_new(ev, "t", json_string(msg));
	free(msg);
	return 0;
}

/* POST /api/v1/agent/jobs/:id/logs {"attempt", "events": [{"seq", "event"}]} */
static void on_logs(struct srv *s, struct http_req *q)
{
	struct agent_row ag;
	int64_t id;
	json_t *body;
	int attempt;
	if (job_call(s, q, &ag, &id, &body, &attempt))
		return;
	json_t *evs = json_object_get(body, "events");
	size_t n = json_array_size(evs);
	struct ajob_log *v = xcalloc(n ? n : 1, sizeof(*v));
	char **texts = xcalloc(n ? n : 1, sizeof(*texts));
	int bad = !json_is_array(evs);
	int64_t prev = 0, run = 0;
	struct buf err = BUF_INIT;
	for (size_t i = 0; i < n && !bad; i++) {
		json_t *e = json_array_get(evs, i);
		json_t *seq = json_object_get(e, "seq"), *ev = json_object_get(e, "event");
		if (!json_is_integer(seq) || json_integer_value(seq) <= prev || !json_is_object(ev) ||
		    !json_is_integer(json_object_get(ev, "k")) ||
		    !json_is_string(json_object_get(ev, "t"))) {
			bad = 1;
			break;
		}
		prev = v[i].seq = json_integer_value(seq);
		if (check_artifact(s, id, &run, ev, &err) < 0) {
			bad = -1;
			break;
		}
		v[i].event = texts[i] = json_dumps(ev, JSON_COMPACT);
	}
	int64_t last = 0;
	int r = bad < 0 ? -1 : bad ? KILN_EINVAL :
		      ajobs_logs_append(s->db, id, ag.id, attempt, v, n, runs_now_ms(),
					(int64_t)s->opts.agent_lease_ms, &last, &err);
	if (r == KILN_EINVAL)
		http_reply_error(q, 400, "invalid",
				 "events: [{\"seq\": N (increasing, > 0), \"event\": {\"k\", \"t\"}}]");
	else if (r == KILN_ENOENT)
		lease_lost(q, id);
	else if (r == AJOB_CONFLICT)
		http_reply_json(q, 409, json_pack("{s:{s:s, s:s}, s:I}", "error", "code", "seq_gap",
						  "message", "resend from last + 1", "last",
						  (json_int_t)last));
	else if (r)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	else
		http_reply_json(q, 200, json_pack("{s:I}", "last", (json_int_t)last));
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(v);
	json_decref(body);
	buf_release(&err);
}

/* POST /api/v1/agent/jobs/:id/complete {"attempt", "last_seq", "result",
 * "outputs": {..}, "summary"} */
static void on_complete(struct srv *s, struct http_req *q)
{
	struct agent_row ag;
	int64_t id;
	json_t *body;
	int attempt;
	if (job_call(s, q, &ag, &id, &body, &attempt))
		return;
	const char *result = json_string_value(json_object_get(body, "result"));
	json_t *ls = json_object_get(body, "last_seq"), *outs = json_object_get(body, "outputs");
	json_t *sum = json_object_get(body, "summary");
	if (!result || (strcmp(result, "success") && strcmp(result, "failure") &&
			strcmp(result, "cancelled")) ||
	    !json_is_integer(ls) || (outs && !json_is_object(outs)) || (sum && !json_is_string(sum) &&
									!json_is_null(sum))) {
		http_reply_error(q, 400, "invalid",
				 "expected {\"attempt\", \"last_seq\", \"result\": success|failure|"
				 "cancelled, \"outputs\": {...}, \"summary\": \"...\"}");
		json_decref(body);
		return;
	}
	char *o = outs ? json_dumps(outs, JSON_COMPACT) : NULL;
	struct buf err = BUF_INIT;
	int64_t stored = 0;
	int r = ajobs_complete(s->db, id, ag.id, attempt, json_integer_value(ls), result, o,
			       json_string_value(sum), runs_now_ms(), &stored, &err);
	if (r == KILN_ENOENT)
		lease_lost(q, id);
	else if (r == AJOB_CONFLICT)
		http_reply_json(q, 409, json_pack("{s:{s:s, s:s}, s:I}", "error", "code", "seq_gap",
						  "message", "log events are missing: resend them",
						  "last", (json_int_t)stored));
	else if (r)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	else
		http_reply_json(q, 200, json_pack("{s:b}", "ok", 1));
	free(o);
	json_decref(body);
	buf_release(&err);
}

/* the job :id, leased to the calling agent at ?attempt=N (ack: confirm
 * the lease too); 0 with *j to release, or -1 answered */
static int leased_job(struct srv *s, struct http_req *q, int ack, struct ajob_row *j)
{
	struct agent_row ag;
	if (agent_auth(s, q, &ag))
		return -1;
	int64_t id = api__int(http_req_param(q, "id"));
	int64_t attempt = api__int(http_req_query(q, "attempt"));
	struct buf err = BUF_INIT;
	int r = id ? ajobs_get(s->db, id, j, &err) : KILN_ENOENT;
	if (r) {
		if (r == KILN_ENOENT)
			lease_lost(q, id);
		else
			http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		buf_release(&err);
		return -1;
	}
	if (j->status != AJOB_LEASED || j->lease_owner != ag.id || j->attempt != attempt ||
	    (ack && ajobs_ack(s->db, id, ag.id, (int)attempt, &err))) {
		lease_lost(q, id);
		ajob_row_release(j);
		buf_release(&err);
		return -1;
	}
	buf_release(&err);
	return 0;
}

/* GET /api/v1/agent/jobs/:id/source?attempt=N: the run's files (tar+zstd) */
static void on_source(struct srv *s, struct http_req *q)
{
	struct ajob_row j;
	if (leased_job(s, q, 1, &j))
		return;
	/* streamed through a file as an artifact: a run's files may be large,
	 * and held in memory once per agent asking at the same time */
	struct buf err = BUF_INIT;
	int rc = j.source ? srv_artifact_reply(s, q, j.source, &err) : KILN_ENOENT;
	if (rc == KILN_ENOENT)
		http_reply_error(q, 410, "gone", "the job's source is no longer on the server");
	else if (rc)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	ajob_row_release(&j);
	buf_release(&err);
}

static int artifact_live(const struct artifact_row *a)
{
	return !a->expired && a->expires_ms > runs_now_ms();
}

/*
 * GET /api/v1/agent/jobs/:id/artifacts?attempt=N: the artifacts the job's
 * own run uploaded so far (download-artifact on the agent), never another
 * run's: {"artifacts": [{"name", "digest", "size", "files"}]}
 */
static void on_artifacts(struct srv *s, struct http_req *q)
{
	struct ajob_row j;
	if (leased_job(s, q, 0, &j))
		return;
	struct artifact_row *v = NULL;
	size_t n = 0;
	struct buf err = BUF_INIT;
	if (j.run_id && artifacts_list(s->db, j.run_id, &v, &n, &err)) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	} else {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			if (artifact_live(&v[i]))
				json_array_append_new(
					arr, json_pack("{s:s,s:s,s:I,s:I}", "name", v[i].name, "digest",
						       v[i].digest, "size", (json_int_t)v[i].size,
						       "files", (json_int_t)v[i].files));
		http_reply_json(q, 200, json_pack("{s:o}", "artifacts", arr));
	}
	free(v);
	ajob_row_release(&j);
	buf_release(&err);
}

/*
 * GET /api/v1/agent/jobs/:id/artifacts/:digest?attempt=N: the blob of one
 * of those artifacts; 404 for a digest no live artifact of the job's run
 * names (another run's artifact is not served)
 */
static void on_artifact_get(struct srv *s, struct http_req *q)
{
	struct ajob_row j;
	if (leased_job(s, q, 0, &j))
		return;
	const char *digest = http_req_param(q, "digest");
	struct artifact_row *v = NULL;
	size_t n = 0;
	struct buf err = BUF_INIT;
	if (j.run_id && artifacts_list(s->db, j.run_id, &v, &n, &err)) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		goto out;
	}
	size_t i = 0;
	while (i < n && !(artifact_live(&v[i]) && !strcmp(v[i].digest, digest)))
		i++;
	if (i == n) {
		http_reply_error(q, 404, "not_found", "the run of job %lld has no artifact %s",
				 (long long)j.id, digest);
		goto out;
	}
	if (srv_artifact_reply(s, q, digest, &err) < 0)
		http_reply_error(q, 500, "internal", "cannot read artifact %s: %s", digest,
				 err.len ? err.buf : "its blob is gone");
out:
	free(v);
	ajob_row_release(&j);
	buf_release(&err);
}

/* a blob digest: 64 lower-case hex digits */
static int is_digest(const char *d)
{
	return d && strlen(d) == 64 && strspn(d, "0123456789abcdef") == 64;
}

/*
 * POST /api/v1/agent/jobs/:id/artifacts/:digest {"attempt", "offset",
 * "data": base64, "final": bool}: an artifact blob an agent's
 * upload-artifact made, in chunks appended in order to the store's blobs
 * (store/blobs.c: the chunks of one upload may reach different replicas);
 * the final one checks the digest and keeps the blob, where the run
 * history serves it from through any replica.
 */
static void upload_blob(struct srv *s, struct http_req *q, const char *kind)
{
	struct agent_row ag;
	int64_t id;
	json_t *body;
	int attempt;
	if (job_call(s, q, &ag, &id, &body, &attempt))
		return;
	const char *digest = http_req_param(q, "digest");
	json_t *off = json_object_get(body, "offset");
	const char *data = json_string_value(json_object_get(body, "data"));
	int final = json_is_true(json_object_get(body, "final"));
	struct buf err = BUF_INIT;
	int cancel;
	if (!is_digest(digest) || !json_is_integer(off) || !data) {
		http_reply_error(q, 400, "invalid", "expected a blob digest and {\"attempt\", "
				 "\"offset\", \"data\": base64, \"final\"}");
		goto out;
	}
	int r = ajobs_heartbeat(s->db, id, ag.id, attempt, runs_now_ms(),
				(int64_t)s->opts.agent_lease_ms, &cancel, &err);
	if (r) {
		if (r == KILN_ENOENT)
			lease_lost(q, id);
		else
			http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		goto out;
	}
	size_t dl = strlen(data), len = 0;
	unsigned char *bin = xmalloc(dl + 1);
	if (sodium_base642bin(bin, dl, data, dl, NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL)) {
		free(bin);
		http_reply_error(q, 400, "invalid", "data is not base64");
		goto out;
	}
	/* in the store, not this replica's data directory: the next chunk
	 * may reach another replica, and any replica serves the artifact.
	 * Each run sends the whole blob from 0 (blob_uploads keeps how far),
	 * even one the store has: bytes stored already are compared, the
	 * others appended; only a run that sent it all may name it (a digest
	 * is not a capability: on_logs, caches) */
	buf_reset(&err);
	int64_t run = 0, mine = 0, have = 0, o = json_integer_value(off);
	int64_t end = o + (int64_t)len;
	int sealed = 0, same = 1;
	if (ajobs_run_id(s->db, id, &run, &err) < 0 ||
	    blobs_upload_size(s->db, digest, run, &mine, &err) ||
	    blobs_part_size(s->db, digest, &have, &err)) {
		free(bin);
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		goto out;
	}
	if (o != mine || o > have) {
		free(bin);
		http_reply_json(q, 409, json_pack("{s:{s:s, s:s}, s:I}", "error", "code", "offset",
						  "message", "send from the stored size", "size",
						  (json_int_t)(mine < have ? mine : have)));
		goto out;
	}
	if (o < have && len)
		same = blobs_range_eq(s->db, digest, o, bin, (size_t)((end < have ? end : have) - o),
				      &err);
	if (same < 0 ||
	    (same && end > have &&
	     blobs_add_chunk(s->db, digest, have, bin + (have - o), (size_t)(end - have), &err)) ||
	    (same && blobs_upload_note(s->db, digest, run, id, end, &err)) ||
	    (same && final && (sealed = blobs_seal(s->db, digest, kind, &err)) < 0) ||
	    (same && final && !sealed && (sealed = !blobs_uploaded(s->db, digest, run, &err)) &&
	     err.len)) {
		free(bin);
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		goto out;
	}
	free(bin);
	if (!same || sealed) {
		/* sent again from 0 */
		blobs_upload_note(s->db, digest, run, id, 0, &err);
		http_reply_error(q, 400, "digest_mismatch", "the blob's digest is not %s", digest);
	} else {
		http_reply_json(q, 200, json_pack("{s:I}", "size", (json_int_t)end));
	}
out:
	json_decref(body);
	buf_release(&err);
}

static void on_artifact(struct srv *s, struct http_req *q)
{
	upload_blob(s, q, BLOB_ARTIFACT);
}

/*
 * Caches of agent jobs (actions/cache on an agent, actions/cache.c's
 * remote back-end), scoped to the repository of the job the agent holds:
 * POST .../caches/:digest uploads the blob in chunks as an artifact's,
 * POST .../cache-entries registers a key, POST .../cache-lookup finds one,
 * GET .../caches/:digest downloads the blob of one of the repository's
 * entries. The last three take ?attempt=N.
 */
static void on_cache_upload(struct srv *s, struct http_req *q)
{
	upload_blob(s, q, BLOB_CACHE);
}

static int valid_key(const char *k)
{
	return k && *k && strlen(k) < 512 && !strchr(k, ',');
}

/* {"key", "restore_keys": [...], "version"} -> {"key", "digest", "size",
 * "exact"}, 404 not_found */
static void on_cache_lookup(struct srv *s, struct http_req *q)
{
	struct ajob_row j;
	if (leased_job(s, q, 0, &j))
		return;
	json_t *body = api__body(q), *rk;
	struct strvec keys = STRVEC_INIT;
	struct buf err = BUF_INIT;
	if (!body)
		goto out;
	const char *key = json_string_value(json_object_get(body, "key"));
	const char *version = json_string_value(json_object_get(body, "version"));
	size_t i;
	json_array_foreach(json_object_get(body, "restore_keys"), i, rk)
		if (json_string_value(rk) && *json_string_value(rk))
			strvec_push(&keys, json_string_value(rk));
	if (!valid_key(key) || !version || !is_digest(version)) {
		http_reply_error(q, 400, "invalid",
				 "expected {\"key\", \"restore_keys\": [...], \"version\"}");
		goto out;
	}
	struct cache_row c;
	int exact = 0;
	int r = caches_find(s->db, j.repo, key, &keys, version, &c, &exact, &err);
	if (r == KILN_ENOENT)
		http_reply_error(q, 404, "not_found", "no cache of %s matches the keys", j.repo);
	else if (r)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	else
		http_reply_json(q, 200, json_pack("{s:s,s:s,s:I,s:b}", "key", c.key, "digest",
						  c.digest, "size", (json_int_t)c.size, "exact",
						  exact));
out:
	json_decref(body);
	strvec_clear(&keys);
	ajob_row_release(&j);
	buf_release(&err);
}

/* {"key", "version", "digest"}: 201, 409 exists (first writer wins) */
static void on_cache_register(struct srv *s, struct http_req *q)
{
	struct ajob_row j;
	if (leased_job(s, q, 0, &j))
		return;
	json_t *body = api__body(q);
	struct buf err = BUF_INIT;
	if (!body)
		goto out;
	const char *key = json_string_value(json_object_get(body, "key"));
	const char *version = json_string_value(json_object_get(body, "version"));
	const char *digest = json_string_value(json_object_get(body, "digest"));
	int64_t size = 0;
	if (!valid_key(key) || !is_digest(version) || !is_digest(digest)) {
		http_reply_error(q, 400, "invalid", "expected {\"key\", \"version\", \"digest\"}");
		goto out;
	}
	int have = caches_blob_ok(s->db, j.repo, digest, &size, &err);
	/* and sent whole by this job's run (blob_uploads) */
	if (have > 0)
		have = blobs_uploaded(s->db, digest, j.run_id, &err);
	if (have < 0) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		goto out;
	}
	if (!have) {
		http_reply_error(q, 400, "invalid", "blob %s is not a cache uploaded for %s",
				 digest, j.repo);
		goto out;
	}
	int r = caches_add(s->db, j.repo, key, version, digest, size, &err);
	if (r < 0)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	else if (r)
		http_reply_error(q, 409, "exists", "a cache with key %s exists", key);
	else
		http_reply_json(q, 201, json_pack("{s:s,s:I}", "key", key, "size", (json_int_t)size));
out:
	json_decref(body);
	ajob_row_release(&j);
	buf_release(&err);
}

static void on_cache_get(struct srv *s, struct http_req *q)
{
	struct ajob_row j;
	if (leased_job(s, q, 0, &j))
		return;
	const char *digest = http_req_param(q, "digest");
	struct buf err = BUF_INIT;
	int r = is_digest(digest) ? caches_has_digest(s->db, j.repo, digest, &err) : 0;
	if (r < 0)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	else if (!r)
		http_reply_error(q, 404, "not_found", "%s has no cache %s", j.repo,
				 is_digest(digest) ? digest : "(invalid digest)");
	else if (srv_artifact_reply(s, q, digest, &err) < 0)
		http_reply_error(q, 500, "internal", "cannot read cache %s: %s", digest,
				 err.len ? err.buf : "its blob is gone");
	ajob_row_release(&j);
	buf_release(&err);
}

/* ---- the sweep ---- */

/* queued jobs no connected agent can take say so */
static void sweep_reasons(struct srv *s)
{
	struct buf err = BUF_INIT;
	struct strvec live = STRVEC_INIT;
	struct ajob_row *v = NULL;
	size_t n = 0;
	if (agents_live_labels(s->db, runs_now_ms() - LIVE_MS, &live, &err) ||
	    ajobs_list_open(s->db, SWEEP_JOBS, &v, &n, &err)) {
		strvec_clear(&live);
		buf_release(&err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct ajob_row *j = &v[i];
		int ok = 0;
		for (size_t k = 0; k < live.nr && !ok; k++)
			ok = agents_labels_match(j->labels, live.v[k]);
		int no_agent = str_starts_with(j->reason, "no agent");
		if (j->status == AJOB_QUEUED && !ok && !no_agent) {
			char *why = xstrfmt("no agent with labels [%s]", j->labels);
			ajobs_set_reason(s->db, j->id, why, &err);
			free(why);
		} else if (j->status == AJOB_QUEUED && ok && no_agent) {
			ajobs_set_reason(s->db, j->id, "", &err);
		}
		ajob_row_release(j);
	}
	free(v);
	strvec_clear(&live);
	buf_release(&err);
}

static void sweep_cb(uv_timer_t *t)
{
	struct agentd *a = t->data;
	struct buf err = BUF_INIT;
	int requeued = 0, failed = 0;
	if (ajobs_expire(a->s->db, runs_now_ms(), (int64_t)a->s->opts.agent_lease_ms / 2,
			 a->s->opts.agent_retry, &requeued, &failed, &err))
		fprintf(stderr, "kiln serve: agents: %s\n", err.buf);
	else if (requeued || failed)
		fprintf(stderr, "kiln serve: agents: %d lease%s expired: %d re-queued, %d failed "
			"(agent lost)\n", requeued + failed, requeued + failed == 1 ? "" : "s",
			requeued, failed);
	int64_t orphans = 0;
	buf_reset(&err);
	if (ajobs_close_orphans(a->s->db, "server lost: the run waiting for this job ended",
				runs_now_ms(), &orphans, &err))
		fprintf(stderr, "kiln serve: agents: %s\n", err.buf);
	else if (orphans)
		fprintf(stderr, "kiln serve: agents: %lld job%s closed: their run ended\n",
			(long long)orphans, orphans == 1 ? "" : "s");
	buf_release(&err);
	sweep_reasons(a->s);
}

int agentd_new(struct srv *s, struct agentd **out, struct buf *err)
{
	int64_t n = 0;
	/* the runs waiting for these jobs died with the previous server (one
	 * server per SQLite store; on PostgreSQL other replicas' runs live on:
	 * the sweep closes the jobs of runs that ended) */
	if (db_dialect(s->db) != DB_POSTGRES &&
	    ajobs_close_all(s->db, "server restarted", runs_now_ms(), &n, err))
		return -1;
	if (n)
		fprintf(stderr, "kiln serve: %lld agent job%s closed: server restarted\n",
			(long long)n, n == 1 ? "" : "s");
	struct agentd *a = xcalloc(1, sizeof(*a));
	a->s = s;
	uv_timer_init(s->loop, &a->tick);
	uv_timer_init(s->loop, &a->sweep);
	a->tick.data = a->sweep.data = a;
	uv_timer_start(&a->sweep, sweep_cb, SWEEP_MS, SWEEP_MS);
	uv_unref((uv_handle_t *)&a->sweep);
	http_route(s, "POST", "/api/v1/agent/register", ROLE_NONE, on_register);
	http_route(s, "POST", "/api/v1/agent/lease", ROLE_NONE, on_lease);
	http_route(s, "POST", "/api/v1/agent/jobs/:id/heartbeat", ROLE_NONE, on_heartbeat);
	http_route(s, "POST", "/api/v1/agent/jobs/:id/logs", ROLE_NONE, on_logs);
	http_route(s, "POST", "/api/v1/agent/jobs/:id/complete", ROLE_NONE, on_complete);
	http_route(s, "GET", "/api/v1/agent/jobs/:id/source", ROLE_NONE, on_source);
	http_route(s, "POST", "/api/v1/agent/jobs/:id/artifacts/:digest", ROLE_NONE, on_artifact);
	http_route(s, "GET", "/api/v1/agent/jobs/:id/artifacts", ROLE_NONE, on_artifacts);
	http_route(s, "GET", "/api/v1/agent/jobs/:id/artifacts/:digest", ROLE_NONE,
		   on_artifact_get);
	http_route(s, "POST", "/api/v1/agent/jobs/:id/caches/:digest", ROLE_NONE, on_cache_upload);
	http_route(s, "GET", "/api/v1/agent/jobs/:id/caches/:digest", ROLE_NONE, on_cache_get);
	http_route(s, "POST", "/api/v1/agent/jobs/:id/cache-lookup", ROLE_NONE, on_cache_lookup);
	http_route(s, "POST", "/api/v1/agent/jobs/:id/cache-entries", ROLE_NONE,
		   on_cache_register);
	http_route(s, "GET", "/api/v1/agent/jobs", ROLE_VIEWER, on_jobs);
	http_route(s, "POST", "/api/v1/agent/registration-tokens", ROLE_ADMIN, on_regtoken);
	http_route(s, "GET", "/api/v1/agents", ROLE_VIEWER, on_agents);
	http_route(s, "DELETE", "/api/v1/agents/:id", ROLE_ADMIN, on_agent_revoke);
	*out = a;
	return 0;
}

void agentd_stop(struct agentd *a)
{
	if (!a)
		return;
	a->stopped = 1;
	uv_timer_stop(&a->tick);
	uv_timer_stop(&a->sweep);
	while (a->waiting)
		waiter_answer(a->waiting, json_pack("{s:n}", "job"));
}

static void closed_free(uv_handle_t *h)
{
	struct agentd *a = h->data;
	if (h == (uv_handle_t *)&a->sweep)
		free(a);
}

void agentd_free(struct agentd *a)
{
	if (!a)
		return;
	uv_close((uv_handle_t *)&a->tick, NULL);
	uv_close((uv_handle_t *)&a->sweep, closed_free);
}
