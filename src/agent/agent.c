/* agent: lease jobs from kiln serve and run them here (see agent.h). */
#include "base/kiln.h"
#include "base/fs.h"
#include "agent/agent.h"
#include "agent/client.h"
#include "actions/actions.h"
#include "cas/cas.h"
#include "deploy/webhook.h"
#include "engine/actprep.h"
#include "engine/actref.h"
#include "engine/jobwire.h"
#include "engine/runctx.h"
#include "workflow/workflow.h"

#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

extern char **environ;

/* a lease request waits this long on the server for a job */
#define LEASE_WAIT_MS 10000
#define LEASE_TIMEOUT_MS (LEASE_WAIT_MS + 15000)
#define CALL_TIMEOUT_MS 30000
#define DOWNLOAD_TIMEOUT_MS (10 * 60 * 1000)
/* one log upload */
#define UPLOAD_MAX_EVENTS 500
#define UPLOAD_MAX_BYTES (256 * 1024)
/* after a failed call */
#define RETRY_MS 1000
/* cancelled steps get this long before SIGKILL (as kiln run) */
#define GRACE_MS 5000

struct agent;

struct lentry {
	int64_t seq;
	char *json;
	char *blob; /* an artifact's blob digest to upload before this event, or NULL */
};

/* an artifact blob going up (on the thread pool, in chunks) */
struct artup {
	uv_work_t work;
	char *url, *path;
	const char *token;
	int attempt;
	long status; /* 200, 409 (lease lost), or other / -1: retry */
	char err[256];
	int busy;
	void *job; /* the struct ajob it belongs to */
};

enum jstate { J_DOWNLOAD, J_PREPARE, J_RUN, J_FLUSH, J_COMPLETE, J_CLEANUP, J_GONE };

struct ajob {
	struct agent *ag;
	int64_t id, lease_ms;
	int attempt;
	char *name, *spec_json, *secrets_json, *source;
	char *dir, *src, *run;
	enum jstate state;
	/* the executor's inputs */
	struct jobwire w;
	struct workflow *wf;
	struct ev *contexts;
	struct strvec env;
	struct actref_cache *cache;
	struct actprep_run ar;
	struct action_resolver resolver;
	struct job_spec spec;
	struct log_sink sink;
	struct job_exec *je;
	/* log events not yet acknowledged, in seq order */
	struct lentry *q;
	size_t qn, qalloc;
	int64_t next_seq;
	struct acall up, hb, ctl;
	struct artup art;
	uv_timer_t hb_timer, retry;
	int retry_up, retry_ctl; /* what the retry timer is for */
	int stale, cancel_asked, killed, exec_done;
	enum result result;
	char *outputs, *summary;
	uv_work_t work;
	int work_busy, work_rc;
	struct buf werr;
	FILE *dl;
	char *dl_tmp, *dl_path;
	/* download-artifact: the run's artifacts brought from the server
	 * before the job starts (blob digests still to fetch) */
	const struct wf_job *wjob;
	struct strvec fetch;
	size_t fetched;
	int handles; /* timers still open */
	struct ajob *next;
};

struct agent {
	const struct agent_opts *o;
	uv_loop_t *loop;
	struct cas cas;
	struct acall lease;
	uv_timer_t lease_retry;
	uv_signal_t sigterm, sigint;
	struct ajob *jobs;
	unsigned running, taken;
	int stopping, fatal;
	struct buf ferr;
};

static void step(struct ajob *j);
static void poll_lease(struct agent *ag);
static void go_stale(struct ajob *j, const char *why);
static void retry_later(struct ajob *j);

static char *url_of(const struct agent *ag, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *url_of(const struct agent *ag, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	buf_addstr(&b, ag->o->server);
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

/* the "code" of an error answer ("" when none) */
static const char *error_code(const struct buf *resp, char *out, size_t n)
{
	json_t *o = json_loadb(resp->buf ? resp->buf : "", resp->len, 0, NULL);
	const char *c = json_string_value(json_object_get(json_object_get(o, "error"), "code"));
	snprintf(out, n, "%s", c ? c : "");
	json_decref(o);
	return out;
}

static int job_busy(const struct ajob *j)
{
	return j->up.busy || j->hb.busy || j->ctl.busy || j->work_busy || j->art.busy;
}

/* ---- log events ---- */

static void queue_event(struct ajob *j, const char *json, const char *blob)
{
	ALLOC_GROW(j->q, j->qn + 1, j->qalloc);
	j->q[j->qn].seq = ++j->next_seq;
	j->q[j->qn].json = xstrdup(json);
	j->q[j->qn].blob = blob ? xstrdup(blob) : NULL;
	j->qn++;
}

/* the blob digest of an artifact event ("NAME\tSIZE\tFILES\tDIGEST\tDAYS") */
static char *artifact_digest(const struct log_event *ev)
{
	const char *p = ev->text, *end = ev->text + ev->len;
	for (int i = 0; i < 3 && p; i++) {
		p = memchr(p, '\t', (size_t)(end - p));
		if (p)
			p++;
	}
	if (!p || end - p < 64 || strspn(p, "0123456789abcdef") < 64)
		return NULL;
	return xstrndup(p, 64);
}

/* drop the events the server has (seq <= last) */
static void queue_ack(struct ajob *j, int64_t last)
{
	size_t k = 0;
	while (k < j->qn && j->q[k].seq <= last && !j->q[k].blob) {
		free(j->q[k].json);
		k++;
	}
	memmove(j->q, j->q + k, (j->qn - k) * sizeof(*j->q));
	j->qn -= k;
}

static void on_event(void *arg, const struct log_event *ev)
{
	struct ajob *j = arg;
	struct buf b = BUF_INIT;
	jobwire_log_encode(ev, &b);
	/* an artifact's blob goes to the server before the event naming it */
	char *blob = ev->kind == LOG_ARTIFACT ? artifact_digest(ev) : NULL;
	queue_event(j, b.buf, blob);
	free(blob);
	buf_release(&b);
	step(j);
}

#define ART_CHUNK (384 * 1024) /* 512 KiB in base64: under the server's body limit */

/* the blob at path to url in chunks, resumed at the size the server
 * has: the last answer's HTTP status (200) or -1, with err (thread-safe:
 * on the thread pool for artifacts, on the loop for caches) */
static long upload_chunks(const char *url, const char *token, int attempt, const char *path,
			  char *err, size_t errlen)
{
	FILE *f = fopen(path, "rbe");
	long status = -1;
	if (!f) {
		snprintf(err, errlen, "cannot read '%s'", path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f), off = 0;
	unsigned char *chunk = xmalloc(ART_CHUNK);
	size_t b64n = sodium_base64_encoded_len(ART_CHUNK, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(b64n);
	for (int tries = 0; tries < 1000;) {
		fseek(f, off, SEEK_SET);
		size_t n = fread(chunk, 1, ART_CHUNK, f);
		int final = off + (long)n >= size;
		sodium_bin2base64(b64, b64n, chunk, n, sodium_base64_VARIANT_ORIGINAL);
		char *body = xstrfmt("{\"attempt\":%d,\"offset\":%ld,\"final\":%s,\"data\":\"%s\"}",
				     attempt, off, final ? "true" : "false", b64);
		struct webhook_req r = { "POST", url, token, body, NULL, CALL_TIMEOUT_MS, NULL, NULL };
		struct buf resp = BUF_INIT;
		long st = webhook_fetch(&r, &resp, err, errlen);
		free(body);
		json_t *o = json_loadb(resp.buf ? resp.buf : "", resp.len, 0, NULL);
		json_t *sz = json_object_get(o, "size");
		const char *code = json_string_value(
			json_object_get(json_object_get(o, "error"), "code"));
		if (st == 409 && code && !strcmp(code, "offset") && json_is_integer(sz)) {
			off = (long)json_integer_value(sz); /* resume where the server is */
			tries++;
		} else if (st == 200 && !final) {
			off += (long)n;
		} else {
			status = st;
			if (st != 200 && st > 0)
				snprintf(err, errlen, "HTTP %ld%s%s", st, code ? ": " : "",
					 code ? code : "");
			json_decref(o);
			buf_release(&resp);
			break;
		}
		json_decref(o);
		buf_release(&resp);
	}
	free(chunk);
	free(b64);
	fclose(f);
	return status;
}

/* thread pool: an artifact's blob */
static void art_work(uv_work_t *w)
{
	struct artup *a = w->data;
	a->status = upload_chunks(a->url, a->token, a->attempt, a->path, a->err, sizeof(a->err));
}

static void art_done(uv_work_t *w, int status)
{
	struct artup *a = w->data;
	struct ajob *j = a->job;
	a->busy = 0;
	if (!status && a->status == 200 && j->qn && j->q[0].blob) {
		free(j->q[0].blob);
		j->q[0].blob = NULL;
	} else if (a->status == 409 || a->status == 401) {
		go_stale(j, "the lease was lost");
	} else {
		fprintf(stderr, "kiln agent: job %lld: artifact upload: %s (retrying)\n",
			(long long)j->id, a->err[0] ? a->err : "failed");
		j->retry_up = 1;
		retry_later(j);
	}
	free(a->url);
	free(a->path);
	a->url = a->path = NULL;
	step(j);
}

static void upload_blob(struct ajob *j)
{
	struct artup *a = &j->art;
	a->url = url_of(j->ag, "/api/v1/agent/jobs/%lld/artifacts/%s", (long long)j->id,
			j->q[0].blob);
	a->path = xstrfmt("%s/artifacts/%s.tzst", j->ag->o->data_dir, j->q[0].blob);
	a->token = j->ag->o->token;
	a->attempt = j->attempt;
	a->err[0] = '\0';
	a->job = j;
	a->work.data = a;
	a->busy = 1;
	if (uv_queue_work(j->ag->loop, &a->work, art_work, art_done)) {
		a->busy = 0;
		retry_later(j);
	}
}

/* an agent-side message in the job's log */
static void job_say(struct ajob *j, enum log_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void job_say(struct ajob *j, enum log_kind kind, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	struct log_event ev = { .kind = kind, .job = j->name, .text = b.buf, .len = b.len };
	on_event(j, &ev);
	buf_release(&b);
}

/* ---- the job's calls ---- */

static void go_stale(struct ajob *j, const char *why)
{
	if (!j->stale)
		fprintf(stderr, "kiln agent: job %lld (%s): %s: stopping it\n", (long long)j->id,
			j->name, why);
	j->stale = 1;
}

static void retry_cb(uv_timer_t *t)
{
	struct ajob *j = t->data;
	j->retry_up = j->retry_ctl = 0;
	step(j);
}

static void retry_later(struct ajob *j)
{
	if (!uv_is_active((uv_handle_t *)&j->retry))
		uv_timer_start(&j->retry, retry_cb, RETRY_MS, 0);
}

static void up_done(struct acall *c)
{
	struct ajob *j = c->arg;
	char code[64];
	json_t *o = json_loadb(c->resp.buf ? c->resp.buf : "", c->resp.len, 0, NULL);
	json_t *last = json_object_get(o, "last");
	if (c->status == 200 && json_is_integer(last)) {
		queue_ack(j, json_integer_value(last));
	} else if (c->status == 409 && !strcmp(error_code(&c->resp, code, sizeof(code)),
					       "seq_gap") && json_is_integer(last)) {
		queue_ack(j, json_integer_value(last));
	} else if (c->status == 409 || c->status == 401) {
		go_stale(j, c->status == 401 ? "the agent token was refused" : "the lease was lost");
	} else {
		fprintf(stderr, "kiln agent: job %lld: log upload: %s (retrying)\n", (long long)j->id,
			c->status < 0 ? c->err : "server error");
		j->retry_up = 1;
		retry_later(j);
	}
	json_decref(o);
	acall_reset(c);
	step(j);
}

static void upload(struct ajob *j)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "{\"attempt\":%d,\"events\":[", j->attempt);
	for (size_t i = 0; i < j->qn && i < UPLOAD_MAX_EVENTS && !j->q[i].blob; i++) {
		if (i && b.len > UPLOAD_MAX_BYTES)
			break;
		buf_addf(&b, "%s{\"seq\":%lld,\"event\":%s}", i ? "," : "", (long long)j->q[i].seq,
			 j->q[i].json);
	}
	buf_addstr(&b, "]}");
	j->up.token = j->ag->o->token;
	if (acall_start(j->ag->loop, &j->up, "POST", url_of(j->ag, "/api/v1/agent/jobs/%lld/logs",
							    (long long)j->id),
			buf_detach(&b, NULL), CALL_TIMEOUT_MS, up_done, j))
		retry_later(j);
}

static void hb_done(struct acall *c)
{
	struct ajob *j = c->arg;
	json_t *o = json_loadb(c->resp.buf ? c->resp.buf : "", c->resp.len, 0, NULL);
	if (c->status == 200 && json_is_true(json_object_get(o, "cancel")) && !j->cancel_asked) {
		j->cancel_asked = 1;
		fprintf(stderr, "kiln agent: job %lld (%s): cancelled by the server\n",
			(long long)j->id, j->name);
		if (j->je && !j->exec_done)
			job_exec_cancel(j->je, GRACE_MS);
	} else if (c->status == 409 || c->status == 401) {
		go_stale(j, c->status == 401 ? "the agent token was refused" : "the lease was lost");
	}
	json_decref(o);
	acall_reset(c);
	step(j);
}

static void hb_cb(uv_timer_t *t)
{
	struct ajob *j = t->data;
	if (j->hb.busy || j->state >= J_CLEANUP || j->stale)
		return;
	j->hb.token = j->ag->o->token;
	char *body = xstrfmt("{\"attempt\":%d}", j->attempt);
	acall_start(j->ag->loop, &j->hb, "POST",
		    url_of(j->ag, "/api/v1/agent/jobs/%lld/heartbeat", (long long)j->id), body,
		    CALL_TIMEOUT_MS, hb_done, j);
}

static void ctl_complete_done(struct acall *c)
{
	struct ajob *j = c->arg;
	char code[64];
	if (c->status == 200) {
		fprintf(stderr, "kiln agent: job %lld (%s): %s\n", (long long)j->id, j->name,
			result_name(j->result));
		j->state = J_CLEANUP;
	} else if (c->status == 409 && !strcmp(error_code(&c->resp, code, sizeof(code)), "seq_gap")) {
		j->state = J_FLUSH; /* the server misses log events: send them first */
		if (!j->qn) {
			fprintf(stderr, "kiln agent: job %lld: the server misses log events this "
				"agent no longer has\n", (long long)j->id);
			j->state = J_CLEANUP;
		}
	} else if (c->status == 409 || c->status == 401) {
		go_stale(j, "the lease was lost");
	} else {
		fprintf(stderr, "kiln agent: job %lld: completing: %s (retrying)\n", (long long)j->id,
			c->status < 0 ? c->err : "server error");
		j->state = J_FLUSH;
		j->retry_ctl = 1;
		retry_later(j);
	}
	acall_reset(c);
	step(j);
}

static void complete(struct ajob *j)
{
	json_t *o = json_pack("{s:i, s:I, s:s}", "attempt", j->attempt, "last_seq",
			      (json_int_t)j->next_seq, "result", result_name(j->result));
	json_t *outs = j->outputs ? json_loads(j->outputs, 0, NULL) : NULL;
	json_object_set_new(o, "outputs", outs ? outs : json_object());
	if (j->summary)
		json_object_set_new(o, "summary", json_string(j->summary));
	char *body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	j->state = J_COMPLETE;
	j->ctl.token = j->ag->o->token;
	if (acall_start(j->ag->loop, &j->ctl, "POST",
			url_of(j->ag, "/api/v1/agent/jobs/%lld/complete", (long long)j->id), body,
			CALL_TIMEOUT_MS, ctl_complete_done, j)) {
		j->state = J_FLUSH;
		retry_later(j);
	}
}

/* ---- running the job ---- */

static void exec_done(struct job_exec *je, const struct job_result *res, void *arg)
{
	struct ajob *j = arg;
	(void)je;
	j->exec_done = 1;
	j->result = j->cancel_asked && res->result != RESULT_SUCCESS ? RESULT_CANCELLED
								      : res->result;
	struct buf b = BUF_INIT;
	if (res->outputs) {
		ev_to_json(res->outputs, &b, 0);
		j->outputs = buf_detach(&b, NULL);
	}
	j->summary = res->summary ? xstrdup(res->summary) : NULL;
	if (j->state == J_RUN)
		j->state = J_FLUSH;
	step(j);
}

/* the job could not start here: it fails with why */
static void fail_job(struct ajob *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_job(struct ajob *j, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	job_say(j, LOG_ERROR, "%s", b.buf);
	fprintf(stderr, "kiln agent: job %lld (%s): %s\n", (long long)j->id, j->name, b.buf);
	buf_release(&b);
	j->exec_done = 1;
	j->result = RESULT_FAILURE;
	j->state = J_FLUSH;
	step(j);
}

static const struct wf_job *find_job(const struct workflow *wf, const char *id)
{
	for (size_t i = 0; i < wf->njobs; i++)
		if (wf->jobs[i].id.s && !strcmp(wf->jobs[i].id.s, id))
			return &wf->jobs[i];
	return NULL;
}

static const char *ctx_str(const struct ev *c, const char *a, const char *b)
{
	const struct ev *o = ev_object_get(c, a);
	const struct ev *v = o && ev_kind(o) == EV_OBJECT ? ev_object_get(o, b) : NULL;
	return v && ev_kind(v) == EV_STRING ? ev_get_str(v, NULL) : "";
}

/* a download into j->dl_tmp, then renamed: the file closed, the call
 * reset; 0 when the answer is in dest, else -1 (*st, err: why) */
static int dl_finish(struct ajob *j, struct acall *c, const char *dest, long *st, char err[256])
{
	int ok = j->dl && fflush(j->dl) == 0;
	if (j->dl)
		ok = fclose(j->dl) == 0 && ok;
	j->dl = NULL;
	*st = c->status;
	snprintf(err, 256, "%s", c->err);
	acall_reset(c);
	if (*st == 200 && ok && rename(j->dl_tmp, dest) == 0)
		return 0;
	unlink(j->dl_tmp);
	return -1;
}

/* GET url (taken over) into j->dl_tmp (<cas>/blobs/.agent-ID.ATTEMPT.what.tmp)
 * on the control call; 0 or -1 */
static int dl_start(struct ajob *j, const char *what, char *url, acall_cb cb)
{
	struct agent *ag = j->ag;
	free(j->dl_tmp);
	j->dl_tmp = xstrfmt("%s/blobs/.agent-%lld.%d.%s.tmp", ag->cas.dir, (long long)j->id,
			    j->attempt, what);
	j->dl = fopen(j->dl_tmp, "wbe");
	if (!j->dl) {
		free(url);
		return -1;
	}
	j->ctl.token = ag->o->token;
	j->ctl.out = j->dl;
	if (acall_start(ag->loop, &j->ctl, "GET", url, NULL, DOWNLOAD_TIMEOUT_MS, cb, j)) {
		fclose(j->dl);
		j->dl = NULL;
		unlink(j->dl_tmp);
		return -1;
	}
	return 0;
}

/* the run was cancelled before the job started: it ends cancelled */
static int cancelled_before_start(struct ajob *j)
{
	if (!j->cancel_asked)
		return 0;
	j->exec_done = 1;
	j->result = RESULT_CANCELLED;
	j->state = J_FLUSH;
	step(j);
	return 1;
}

static void start_job(struct ajob *j);

/* a step of the job uses actions/download-artifact */
static int uses_download_artifact(const struct wf_job *job)
{
	static const char pre[] = "actions/download-artifact";
	for (size_t i = 0; i < job->nsteps; i++) {
		const char *u = job->steps[i].uses.s;
		if (u && !strncasecmp(u, pre, sizeof(pre) - 1) &&
		    (u[sizeof(pre) - 1] == '@' || !u[sizeof(pre) - 1]))
			return 1;
	}
	return 0;
}

static char *blob_path(const struct agent *ag, const char *digest)
{
	return xstrfmt("%s/blobs/%s.tzst", ag->cas.dir, digest);
}

static void fetch_next(struct ajob *j);

/*
 * A call of the job's staging (artifact list, artifact blobs) ended with
 * HTTP status st: 1 when the job is stale, or the server says the lease is
 * lost (409, or 401: the job's token is no longer valid), and the job goes
 * on to its clean-up (step); 0 when the caller goes on with the result.
 */
static int staging_stale(struct ajob *j, long st)
{
	if (!j->stale && st != 409 && st != 401)
		return 0;
	go_stale(j, "the lease was lost");
	step(j);
	return 1;
}

static void fetch_done(struct acall *c)
{
	struct ajob *j = c->arg;
	const char *digest = j->fetch.v[j->fetched];
	char *path = blob_path(j->ag, digest), err[256];
	long st;
	int r = dl_finish(j, c, path, &st, err);
	free(path);
	if (staging_stale(j, st)) {
		/* the job cleans up */
	} else if (r < 0) {
		fail_job(j, "cannot download artifact %s from the server: %s", digest,
			 st < 0 ? err : "server error");
	} else {
		j->fetched++;
		fetch_next(j);
	}
}

/* the next missing blob into the agent's cas, then the job */
static void fetch_next(struct ajob *j)
{
	if (j->fetched == j->fetch.nr) {
		start_job(j);
		return;
	}
	const char *digest = j->fetch.v[j->fetched];
	if (dl_start(j, "art",
		     url_of(j->ag, "/api/v1/agent/jobs/%lld/artifacts/%s?attempt=%d",
			    (long long)j->id, digest, j->attempt),
		     fetch_done) < 0)
		fail_job(j, "cannot download artifact %s from the server", digest);
}

/* upload-artifact's name rules (the server's list is checked as input) */
static int artifact_name_ok(const char *n)
{
	return *n && strcmp(n, ".") && strcmp(n, "..") && !strpbrk(n, "\":<>|*?\r\n\\/") &&
	       strlen(n) < 256;
}

/* the run's artifact list: a record per artifact in <run>/artifacts, as
 * upload-artifact writes them in kiln run; the blobs this agent lacks
 * are fetched next; 0 or -1 with err */
static int write_records(struct ajob *j, const struct buf *resp, struct buf *err)
{
	json_t *o = json_loadb(resp->buf ? resp->buf : "", resp->len, 0, NULL);
	json_t *arr = json_object_get(o, "artifacts");
	int r = 0;
	if (!json_is_array(arr)) {
		buf_addstr(err, "malformed artifact list");
		r = -1;
	}
	struct buf path = BUF_INIT, text = BUF_INIT;
	buf_addf(&path, "%s/artifacts", j->run);
	if (!r && mkdir_p(path.buf, 0700) < 0) {
		buf_addf(err, "cannot create '%s'", path.buf);
		r = -1;
	}
	size_t dirlen = path.len;
	for (size_t i = 0; !r && i < json_array_size(arr); i++) {
		json_t *a = json_array_get(arr, i);
		const char *name = json_string_value(json_object_get(a, "name"));
		const char *digest = json_string_value(json_object_get(a, "digest"));
		json_int_t size = json_integer_value(json_object_get(a, "size"));
		json_int_t files = json_integer_value(json_object_get(a, "files"));
		if (!name || !digest || !artifact_name_ok(name) || strlen(digest) != 64 ||
		    strspn(digest, "0123456789abcdef") != 64) {
			buf_addstr(err, "malformed artifact list");
			r = -1;
			break;
		}
		buf_setlen(&path, dirlen);
		buf_addf(&path, "/%s", name);
		buf_reset(&text);
		buf_addf(&text, "blob %s\nfiles %lld\nsize %lld\nid %zu\n", digest, (long long)files,
			 (long long)size, i + 1);
		if (write_file_atomic(path.buf, text.buf, text.len, 0644) < 0) {
			buf_addf(err, "cannot write '%s'", path.buf);
			r = -1;
			break;
		}
		char *bp = blob_path(j->ag, digest);
		if (access(bp, R_OK) != 0)
			strvec_push(&j->fetch, digest);
		free(bp);
	}
	json_decref(o);
	buf_release(&path);
	buf_release(&text);
	return r;
}

static void list_done(struct acall *c)
{
	struct ajob *j = c->arg;
	long st = c->status;
	struct buf err = BUF_INIT;
	if (st < 0)
		buf_addstr(&err, c->err);
	int r = st == 200 && !j->stale ? write_records(j, &c->resp, &err) : -1;
	acall_reset(c);
	if (staging_stale(j, st)) {
		/* the job cleans up */
	} else if (r < 0) {
		fail_job(j, "cannot list the run's artifacts on the server: %s",
			 err.len ? err.buf : "server error");
	} else {
		struct buf dir = BUF_INIT;
		buf_addf(&dir, "%s/blobs", j->ag->cas.dir);
		mkdir_p(dir.buf, 0700);
		buf_release(&dir);
		fetch_next(j);
	}
	buf_release(&err);
}

/* download-artifact on an agent: the artifacts other jobs of the run
 * uploaded (on any agent or the server) come from the server first */
static void stage_artifacts(struct ajob *j)
{
	struct agent *ag = j->ag;
	j->ctl.token = ag->o->token;
	j->ctl.out = NULL;
	if (acall_start(ag->loop, &j->ctl, "GET",
			url_of(ag, "/api/v1/agent/jobs/%lld/artifacts?attempt=%d", (long long)j->id,
			       j->attempt),
			NULL, CALL_TIMEOUT_MS, list_done, j))
		fail_job(j, "cannot list the run's artifacts on the server");
}

static void launch(struct ajob *j)
{
	struct buf err = BUF_INIT;
	if (cancelled_before_start(j))
		return;
	if (jobwire_decode(j->spec_json, &j->w, &err)) {
		fail_job(j, "%s", err.buf);
		buf_release(&err);
		return;
	}
	struct diags d = DIAGS_INIT;
	char *path = xstrfmt("%s/%s", j->src, j->w.workflow);
	int lr = wf_load_file_as(path, j->w.workflow, &j->wf, &d);
	free(path);
	diags_release(&d);
	const struct wf_job *job = lr == 0 && j->wf ? find_job(j->wf, j->w.job) : NULL;
	if (!job) {
		fail_job(j, "job '%s' of %s is not in the run's files", j->w.job, j->w.workflow);
		return;
	}
	buf_release(&err);
	j->wjob = job;
	if (uses_download_artifact(job)) {
		stage_artifacts(j);
		return;
	}
	start_job(j);
}

/* the executor on the job (after the run's artifacts came, if needed) */
static void start_job(struct ajob *j)
{
	struct agent *ag = j->ag;
	struct buf err = BUF_INIT;
	const struct wf_job *job = j->wjob;
	if (cancelled_before_start(j))
		return;
	struct ev *sec = ev_from_json(j->secrets_json, strlen(j->secrets_json), &err);
	if (!sec || ev_kind(sec) != EV_OBJECT) {
		ev_unref(sec);
		fail_job(j, "the job's secrets are malformed");
		buf_release(&err);
		return;
	}
	j->contexts = ev_ref(j->w.contexts);
	ev_object_set(j->contexts, "secrets", sec);
	/* github.event for GITHUB_EVENT_PATH */
	const struct ev *gh = ev_object_get(j->contexts, "github");
	const struct ev *event = gh && ev_kind(gh) == EV_OBJECT ? ev_object_get(gh, "event") : NULL;
	struct buf ej = BUF_INIT;
	if (event)
		ev_to_json(event, &ej, 0);
	else
		buf_addstr(&ej, "{}");
	char *evpath = xstrfmt("%s/event.json", j->dir);
	write_file_atomic(evpath, ej.buf, ej.len, 0600);
	buf_release(&ej);
	for (char **e = environ; *e; e++)
		strvec_push(&j->env, *e);
	for (size_t i = 0; i < j->w.env.nr; i++) {
		const char *eq = strchr(j->w.env.v[i], '=');
		char *k = xstrndup(j->w.env.v[i], (size_t)(eq - j->w.env.v[i]));
		strvec_setenv(&j->env, k, eq + 1);
		free(k);
	}
	strvec_setenv(&j->env, "GITHUB_EVENT_PATH", evpath);
	strvec_setenv(&j->env, "RUNNER_NAME", ag->o->name);
	free(evpath);
	if (!strvec_getenv(&j->env, "RUNNER_TOOL_CACHE")) {
		char *tc = xstrfmt("%s/tool-cache", ag->o->data_dir);
		strvec_setenv(&j->env, "RUNNER_TOOL_CACHE", tc);
		free(tc);
	}
	/* remote actions as kiln run fetches them */
	const char *tok = ctx_str(j->contexts, "secrets", "GITHUB_TOKEN");
	struct actref_opts ao = { getenv("KILN_GITHUB_URL"), *tok ? tok : getenv("GITHUB_TOKEN"),
				  NULL, 0, 0 };
	if (actref_cache_new(&ao, &j->cache, &err) < 0) {
		fail_job(j, "cannot open the actions cache: %s", err.buf);
		buf_release(&err);
		return;
	}
	j->ar.cache = j->cache;
	j->ar.repo_dir = j->src;
	j->ar.repository = ctx_str(j->contexts, "github", "repository");
	j->ar.sha = ctx_str(j->contexts, "github", "sha");
	j->ar.files = j->src;
	actprep_resolver(&j->ar, &j->resolver);
	struct job_spec *s = &j->spec;
	s->wf = j->wf;
	s->job = job;
	s->job_id = j->w.job;
	s->display_name = j->w.name;
	s->contexts = j->contexts;
	s->repo_dir = j->src;
	s->snapshot_dir = j->src;
	s->run_dir = j->run;
	s->job_key = j->w.key;
	s->base_env = &j->env;
	s->timeout_ms = j->w.timeout_ms;
	s->verbose = j->w.verbose;
	s->isolate = ag->o->isolate;
	s->actions = &j->resolver;
	j->sink.event = on_event;
	j->sink.arg = j;
	j->state = J_RUN;
	int r = job_exec_start(ag->loop, s, &j->sink, exec_done, j, &j->je);
	if (r < 0) {
		j->je = NULL;
		fail_job(j, "cannot start the job: %s", kiln_strerror(r));
	}
	buf_release(&err);
}

/* thread pool: the run's files into <dir>/src */
static void unpack_work(uv_work_t *w)
{
	struct ajob *j = w->data;
	j->work_rc = mkdir_p(j->src, 0700) < 0 || mkdir_p(j->run, 0700) < 0
			     ? (buf_addf(&j->werr, "cannot create '%s'", j->dir), -1)
			     : cas_unpack(&j->ag->cas, j->source, j->src, NULL, &j->werr);
}

static void unpack_done(uv_work_t *w, int status)
{
	struct ajob *j = w->data;
	j->work_busy = 0;
	if (j->stale) {
		step(j);
		return;
	}
	if (status || j->work_rc) {
		fail_job(j, "cannot unpack the run's files: %s", j->werr.len ? j->werr.buf : "");
		return;
	}
	launch(j);
}

static void prepare(struct ajob *j)
{
	j->state = J_PREPARE;
	j->work.data = j;
	j->work_busy = 1;
	if (uv_queue_work(j->ag->loop, &j->work, unpack_work, unpack_done)) {
		j->work_busy = 0;
		fail_job(j, "cannot unpack the run's files");
	}
}

static void dl_done(struct acall *c)
{
	struct ajob *j = c->arg;
	char err[256];
	long st;
	if (dl_finish(j, c, j->dl_path, &st, err) == 0) {
		if (!j->stale)
			prepare(j);
		else
			step(j);
		return;
	}
	if (st == 409 || st == 401) {
		go_stale(j, "the lease was lost");
		step(j);
		return;
	}
	fail_job(j, "cannot download the run's files: %s", st < 0 ? err : "server error");
}

static void download(struct ajob *j)
{
	struct agent *ag = j->ag;
	j->state = J_DOWNLOAD;
	j->dl_path = blob_path(ag, j->source);
	if (access(j->dl_path, R_OK) == 0) {
		prepare(j); /* another job of the run brought it */
		return;
	}
	struct buf dir = BUF_INIT;
	buf_addf(&dir, "%s/blobs", ag->cas.dir);
	mkdir_p(dir.buf, 0700);
	buf_release(&dir);
	if (dl_start(j, "src",
		     url_of(ag, "/api/v1/agent/jobs/%lld/source?attempt=%d", (long long)j->id,
			    j->attempt),
		     dl_done) < 0)
		fail_job(j, "cannot download the run's files");
}

/* ---- the end of a job ---- */

static void job_free(struct ajob *j)
{
	for (size_t i = 0; i < j->qn; i++) {
		free(j->q[i].json);
		free(j->q[i].blob);
	}
	free(j->q);
	if (j->je)
		job_exec_free(j->je);
	actref_cache_free(j->cache);
	wf_free(j->wf);
	ev_unref(j->contexts);
	jobwire_release(&j->w);
	strvec_clear(&j->env);
	if (j->secrets_json) {
		sodium_memzero(j->secrets_json, strlen(j->secrets_json));
		free(j->secrets_json);
	}
	free(j->name);
	free(j->spec_json);
	free(j->source);
	free(j->dir);
	free(j->src);
	free(j->run);
	free(j->outputs);
	strvec_clear(&j->fetch);
	free(j->summary);
	free(j->dl_tmp);
	free(j->dl_path);
	buf_release(&j->werr);
	free(j);
}

static void handle_closed(uv_handle_t *h)
{
	struct ajob *j = h->data;
	if (--j->handles)
		return;
	struct agent *ag = j->ag;
	for (struct ajob **p = &ag->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	job_free(j);
	ag->running--;
	if (ag->stopping && !ag->jobs)
		uv_stop(ag->loop);
	else
		poll_lease(ag);
}

static void rm_work(uv_work_t *w)
{
	struct ajob *j = w->data;
	runctx_rmtree(j->dir);
}

static void rm_done(uv_work_t *w, int status)
{
	struct ajob *j = w->data;
	(void)status;
	j->work_busy = 0;
	j->handles = 2;
	uv_close((uv_handle_t *)&j->hb_timer, handle_closed);
	uv_close((uv_handle_t *)&j->retry, handle_closed);
}

/* what to do next, after anything happened to the job */
static void step(struct ajob *j)
{
	if (j->state == J_GONE)
		return;
	if (j->stale && j->state != J_CLEANUP) {
		if (j->je && !j->exec_done) {
			if (!j->killed)
				job_exec_cancel(j->je, 0);
			j->killed = 1;
			return; /* exec_done comes back here */
		}
		j->state = J_CLEANUP;
	}
	if (j->state == J_CLEANUP) {
		if (job_busy(j))
			return; /* its callback comes back here */
		j->state = J_GONE;
		uv_timer_stop(&j->hb_timer);
		uv_timer_stop(&j->retry);
		j->work.data = j;
		j->work_busy = 1;
		if (uv_queue_work(j->ag->loop, &j->work, rm_work, rm_done))
			rm_done(&j->work, 0);
		return;
	}
	/* logs go up while the job runs and before it completes */
	if (j->qn && j->q[0].blob && !j->up.busy && !j->art.busy && !j->retry_up)
		upload_blob(j);
	else if (j->qn && !j->q[0].blob && !j->up.busy && !j->retry_up)
		upload(j);
	if (j->state == J_FLUSH && !j->qn && !j->up.busy && !j->ctl.busy && !j->retry_ctl)
		complete(j);
}

static struct ajob *job_new(struct agent *ag, json_t *o)
{
	json_int_t id = 0, attempt = 0, log_seq = 0, lease_ms = 0;
	const char *name, *spec, *source, *secrets;
	if (json_unpack(o, "{s:I, s:I, s:s, s:s, s:s, s:s, s:I, s?I}", "id", &id, "attempt",
			&attempt, "name", &name, "spec", &spec, "source", &source, "secrets",
			&secrets, "log_seq", &log_seq, "lease_ms", &lease_ms) ||
	    id <= 0 || strspn(source, "0123456789abcdef") != strlen(source) || strlen(source) != 64)
		return NULL;
	struct ajob *j = xcalloc(1, sizeof(*j));
	j->ag = ag;
	j->id = id;
	j->attempt = (int)attempt;
	j->lease_ms = lease_ms > 0 ? lease_ms : 30000;
	j->next_seq = log_seq; /* a re-queued job's log goes on after attempt 1's */
	j->name = xstrdup(name);
	j->spec_json = xstrdup(spec);
	j->secrets_json = xstrdup(secrets);
	j->source = xstrdup(source);
	j->dir = xstrfmt("%s/jobs/%lld.%d", ag->o->data_dir, (long long)id, (int)attempt);
	j->src = xstrfmt("%s/src", j->dir);
	j->run = xstrfmt("%s/run", j->dir);
	buf_init(&j->werr, 0);
	uv_timer_init(ag->loop, &j->hb_timer);
	uv_timer_init(ag->loop, &j->retry);
	j->hb_timer.data = j->retry.data = j;
	/* the first heartbeat at once: it confirms the lease reached us */
	uint64_t every = (uint64_t)j->lease_ms / 4;
	uv_timer_start(&j->hb_timer, hb_cb, 0, every);
	return j;
}

/* ---- leasing ---- */

static void lease_retry_cb(uv_timer_t *t)
{
	poll_lease(t->data);
}

static void lease_done(struct acall *c)
{
	struct agent *ag = c->arg;
	json_t *o = json_loadb(c->resp.buf ? c->resp.buf : "", c->resp.len, 0, NULL);
	json_t *job = json_object_get(o, "job");
	struct ajob *same = NULL;
	if (c->status == 200 && json_is_object(job)) {
		/* the same job and attempt leased to us again: its first lease
		 * was re-offered unconfirmed (our first heartbeat could not get
		 * through in time, e.g. a database restart); the copy running
		 * here holds the new lease too (same agent, same attempt), so it
		 * is not started twice */
		json_int_t id = json_integer_value(json_object_get(job, "id"));
		json_int_t attempt = json_integer_value(json_object_get(job, "attempt"));
		for (same = ag->jobs; same; same = same->next)
			if (same->id == id && same->attempt == attempt)
				break;
		if (same)
			fprintf(stderr, "kiln agent: job %lld, attempt %d: leased again while it runs "
					"here: kept running once\n", (long long)id, (int)attempt);
	}
	if (same) {
		json_t *secrets = json_object_get(job, "secrets");
		if (json_is_string(secrets))
			sodium_memzero((char *)json_string_value(secrets), json_string_length(secrets));
	} else if (c->status == 200 && json_is_object(job)) {
		struct ajob *j = job_new(ag, job);
		if (!j) {
			fprintf(stderr, "kiln agent: the server sent a malformed job\n");
		} else {
			json_t *secrets = json_object_get(job, "secrets");
			if (json_is_string(secrets)) /* wiped: secrets live in the job only */
				sodium_memzero((char *)json_string_value(secrets),
					       json_string_length(secrets));
			j->next = ag->jobs;
			ag->jobs = j;
			ag->running++;
			ag->taken++;
			fprintf(stderr, "kiln agent: job %lld (%s), attempt %d\n", (long long)j->id,
				j->name, j->attempt);
			download(j);
		}
	} else if (c->status == 401) {
		ag->fatal = 1;
		buf_addstr(&ag->ferr, "the server refused the agent token (unknown or revoked)");
		ag->stopping = 1;
	} else if (c->status != 200) {
		fprintf(stderr, "kiln agent: %s: %s (retrying)\n", ag->o->server,
			c->status < 0 ? c->err : "server error");
		uv_timer_start(&ag->lease_retry, lease_retry_cb, RETRY_MS, 0);
	}
	if (c->resp.len)
		sodium_memzero(c->resp.buf, c->resp.len);
	json_decref(o);
	acall_reset(c);
	if (ag->stopping && !ag->jobs)
		uv_stop(ag->loop);
	else if (!uv_is_active((uv_handle_t *)&ag->lease_retry))
		poll_lease(ag);
}

static void poll_lease(struct agent *ag)
{
	if (ag->stopping || ag->lease.busy || ag->running >= ag->o->jobs ||
	    (ag->o->max_jobs && ag->taken >= ag->o->max_jobs)) {
		if (ag->o->max_jobs && ag->taken >= ag->o->max_jobs && !ag->jobs)
			uv_stop(ag->loop);
		return;
	}
	ag->lease.token = ag->o->token;
	char *body = xstrfmt("{\"wait_ms\":%d}", LEASE_WAIT_MS);
	if (acall_start(ag->loop, &ag->lease, "POST", url_of(ag, "/api/v1/agent/lease"), body,
			LEASE_TIMEOUT_MS, lease_done, ag))
		uv_timer_start(&ag->lease_retry, lease_retry_cb, RETRY_MS, 0);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct agent *ag = s->data;
	if (ag->stopping)
		return;
	ag->stopping = 1;
	fprintf(stderr, "kiln agent: %s: cancelling %u job%s, then stopping\n",
		signum == SIGTERM ? "SIGTERM" : "SIGINT", ag->running, ag->running == 1 ? "" : "s");
	for (struct ajob *j = ag->jobs; j; j = j->next) {
		j->cancel_asked = 1;
		if (j->je && !j->exec_done)
			job_exec_cancel(j->je, GRACE_MS);
	}
	if (!ag->jobs)
		uv_stop(ag->loop);
}

/*
 * actions/cache on this agent keeps its caches on the server
 * (actions/cache.c's remote back-end): the calls of the job whose run
 * directory is the step's, made synchronously on the loop (as the local
 * back-end packs on it), each lease-checked by the server.
 */
static struct agent *cache_agent;

static size_t file_data(const char *data, size_t len, void *arg)
{
	return fwrite(data, 1, len, arg);
}

static long cache_call(void *ctx, const char *method, const char *what, const char *body,
		       struct buf *resp, FILE *out, char *err, size_t errlen)
{
	struct ajob *j = ctx;
	char *url = url_of(j->ag, "/api/v1/agent/jobs/%lld/%s%sattempt=%d", (long long)j->id,
			   what, strchr(what, '?') ? "&" : "?", j->attempt);
	struct webhook_req r = { method, url, j->ag->o->token, body, out ? "*/*" : NULL,
				 out ? DOWNLOAD_TIMEOUT_MS : CALL_TIMEOUT_MS,
				 out ? file_data : NULL, out };
	long st = webhook_fetch(&r, resp, err, errlen);
	free(url);
	return st;
}

static long cache_upload(void *ctx, const char *digest, const char *path, char *err,
			 size_t errlen)
{
	struct ajob *j = ctx;
	char *url = url_of(j->ag, "/api/v1/agent/jobs/%lld/caches/%s", (long long)j->id, digest);
	long st = upload_chunks(url, j->ag->o->token, j->attempt, path, err, errlen);
	free(url);
	return st;
}

static int cache_remote_of(const char *run_dir, struct cache_remote *out)
{
	for (struct ajob *j = cache_agent ? cache_agent->jobs : NULL; j; j = j->next)
		if (j->run && !strcmp(j->run, run_dir)) {
			out->call = cache_call;
			out->upload = cache_upload;
			out->ctx = j;
			return 0;
		}
	return -1;
}

int agent_main(const struct agent_opts *o, struct buf *err)
{
	char e[256];
	if (webhook_init(e, sizeof(e)) < 0) {
		buf_addstr(err, e);
		return EXIT_INTERNAL;
	}
	/* the long-poll, each job's upload, heartbeat and download at once */
	if (!getenv("UV_THREADPOOL_SIZE")) {
		char n[16];
		snprintf(n, sizeof(n), "%u", 4 + 3 * o->jobs > 128 ? 128 : 4 + 3 * o->jobs);
		setenv("UV_THREADPOOL_SIZE", n, 1);
	}
	struct agent ag;
	memset(&ag, 0, sizeof(ag));
	ag.o = o;
	buf_init(&ag.ferr, 0);
	if (mkdir_p(o->data_dir, 0700) < 0) {
		buf_addf(err, "cannot create '%s'", o->data_dir);
		return EXIT_INTERNAL;
	}
	if (cas_open(&ag.cas, o->data_dir, err))
		return EXIT_INTERNAL;
	cache_agent = &ag;
	act_cache_remote = cache_remote_of;
	/* the executor's own data (actions, caches, artifacts) lives here
	 * too, not in a KILN_HOME the agent inherited */
	setenv("KILN_HOME", o->data_dir, 1);
	struct buf jobs = BUF_INIT;
	buf_addf(&jobs, "%s/jobs", o->data_dir);
	runctx_rmtree(jobs.buf); /* what a killed agent left */
	mkdir_p(jobs.buf, 0700);
	buf_release(&jobs);
	uv_loop_t loop;
	uv_loop_init(&loop);
	ag.loop = &loop;
	signal(SIGPIPE, SIG_IGN);
	uv_timer_init(&loop, &ag.lease_retry);
	ag.lease_retry.data = &ag;
	uv_signal_init(&loop, &ag.sigterm);
	uv_signal_init(&loop, &ag.sigint);
	ag.sigterm.data = ag.sigint.data = &ag;
	uv_signal_start(&ag.sigterm, on_signal, SIGTERM);
	uv_signal_start(&ag.sigint, on_signal, SIGINT);
	fprintf(stderr, "kiln agent: %s: up to %u job%s at once, data in %s\n", o->server, o->jobs,
		o->jobs == 1 ? "" : "s", o->data_dir);
	poll_lease(&ag);
	uv_run(&loop, UV_RUN_DEFAULT);
	/* a long-poll still on the thread pool is abandoned: its job (if
	 * any) is re-queued when its lease expires */
	int ret = ag.fatal ? EXIT_USAGE : EXIT_OK;
	if (ag.fatal)
		buf_add(err, ag.ferr.buf, ag.ferr.len);
	buf_release(&ag.ferr);
	cas_close(&ag.cas);
	act_cache_remote = NULL;
	cache_agent = NULL;
	if (ag.lease.busy) {
		/* libuv joins its pool's threads at exit: do not wait for the
		 * long-poll (up to LEASE_WAIT_MS) to come back */
		if (ret)
			fprintf(stderr, "kiln agent: error: %s\n", err->buf);
		fflush(NULL);
		_exit(ret);
	}
	return ret;
}

int agent_register(const char *server, const char *reg_token, const char *name,
		   const char *labels, struct buf *token_out, struct buf *err)
{
	char e[256];
	if (webhook_init(e, sizeof(e)) < 0) {
		buf_addstr(err, e);
		return EXIT_INTERNAL;
	}
	json_t *lab = json_array();
	for (const char *p = labels ? labels : ""; *p;) {
		size_t n = strcspn(p, ",");
		if (n)
			json_array_append_new(lab, json_stringn(p, n));
		p += n;
		if (*p)
			p++;
	}
	json_t *o = json_pack("{s:s, s:o}", "name", name, "labels", lab);
	char *body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	char *url = xstrfmt("%s/api/v1/agent/register", server);
	struct webhook_req r = { "POST", url, reg_token, body, NULL, CALL_TIMEOUT_MS, NULL, NULL };
	struct buf resp = BUF_INIT;
	long st = webhook_fetch(&r, &resp, e, sizeof(e));
	free(url);
	free(body);
	int ret = EXIT_OK;
	json_t *a = json_loadb(resp.buf ? resp.buf : "", resp.len, 0, NULL);
	const char *tok = json_string_value(json_object_get(a, "token"));
	if (st == 201 && tok) {
		buf_addstr(token_out, tok);
	} else if (st < 0) {
		buf_addf(err, "cannot register at %s: %s", server, e);
		ret = EXIT_INTERNAL;
	} else {
		const char *m = json_string_value(
			json_object_get(json_object_get(a, "error"), "message"));
		buf_addf(err, "registration refused (HTTP %ld): %s", st, m ? m : "no reason given");
		ret = st == 401 ? EXIT_USAGE : EXIT_INTERNAL;
	}
	if (resp.len)
		sodium_memzero(resp.buf, resp.len);
	json_decref(a);
	buf_release(&resp);
	return ret;
}
