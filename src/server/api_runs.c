/*
 * api_runs: the server's queue over the API: events (what webhooks,
 * polling and dispatches accepted, and how their runs ended), an event's
 * `kiln run` output, cancelling, and workflow_dispatch
 * (POST /api/v1/repos/REPO/workflows/FILE/dispatches, GitHub's shape).
 * Dispatches and cancels are audited.
 */
#include "base/kiln.h"
#include "git/mirror.h"
#include "server/api.h"
#include "server/dispatch.h"
#include "server/queue.h"
#include "server/srv.h"
#include "store/audit.h"
#include "store/repos.h"
#include "store/runs.h"
#include "store/jobref.h"
#include "store/runview.h"

#include <ctype.h>

static json_t *event_json(const struct event_view *e)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:I}", "id",
			      (json_int_t)e->id, "repo", e->repo, "source", e->source, "kind", e->kind,
			      "action", e->action, "ref", e->ref, "sha", e->sha, "actor", e->actor,
			      "status", e->status, "fork", e->fork, "deleted", e->deleted,
			      "received_at", (json_int_t)e->received_at);
	json_object_set_new(o, "reason", *e->reason ? json_string(e->reason) : json_null());
	json_object_set_new(o, "started_at", e->started_at ? json_integer(e->started_at) : json_null());
	json_object_set_new(o, "finished_at",
			    e->finished_at ? json_integer(e->finished_at) : json_null());
	json_object_set_new(o, "exit_code", e->exit_code >= 0 ? json_integer(e->exit_code) : json_null());
	json_object_set_new(o, "attempt", json_integer(e->attempt));
	json_object_set_new(o, "rerun_of", e->rerun_of ? json_integer(e->rerun_of) : json_null());
	json_object_set_new(o, "reuse_run", e->reuse_run ? json_integer(e->reuse_run) : json_null());
	json_object_set_new(o, "rerun_job", *e->rerun_job ? json_string(e->rerun_job) : json_null());
	return o;
}

static const char *const statuses[] = { "queued", "running", "success", "failure", "cancelled",
					"ignored" };

static void on_list(struct srv *s, struct http_req *q)
{
	const char *repo = http_req_query(q, "repo"), *status = http_req_query(q, "status");
	const char *limit_s = http_req_query(q, "limit"), *before_s = http_req_query(q, "before");
	int64_t limit = limit_s ? api__int(limit_s) : 50, before = before_s ? api__int(before_s) : 0;
	if (limit <= 0 || limit > 500 || (before_s && !before)) {
		http_reply_error(q, 400, "invalid", "limit must be 1 to 500, before a positive id");
		return;
	}
	int known = !status;
	for (size_t i = 0; status && i < ARRAY_SIZE(statuses); i++)
		known |= !strcmp(status, statuses[i]);
	if (!known) {
		http_reply_error(q, 400, "invalid", "unknown status '%s' (queued, running, success, "
				 "failure, cancelled, ignored)", status);
		return;
	}
	struct event_view *v;
	size_t n;
	struct buf err = BUF_INIT;
	if (store_event_list(s->db, repo, status, before, (int)limit, &v, &n, &err)) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		buf_release(&err);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, event_json(&v[i]));
	free(v);
	buf_release(&err);
	http_reply_json(q, 200, json_pack("{s:o}", "events", arr));
}

/* the event named by :id, or answer 404/503 */
static int get_event(struct srv *s, struct http_req *q, struct event_view *e)
{
	int64_t id = api__int(http_req_param(q, "id"));
	struct buf err = BUF_INIT;
	int r = id ? store_event_get(s->db, id, e, &err) : KILN_ENOENT;
	if (r == KILN_ENOENT)
		http_reply_error(q, 404, "not_found", "no event %s", http_req_param(q, "id"));
	else if (r)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	buf_release(&err);
	return r ? -1 : 0;
}

static void on_get(struct srv *s, struct http_req *q)
{
	struct event_view e;
	if (!get_event(s, q, &e))
		http_reply_json(q, 200, event_json(&e));
}

static void on_log(struct srv *s, struct http_req *q)
{
	struct event_view e;
	if (get_event(s, q, &e))
		return;
	struct buf path = BUF_INIT, text = BUF_INIT;
	buf_addf(&path, "%s/events/%lld.log", s->data_dir, (long long)e.id);
	if (buf_read_file(&text, path.buf) < 0)
		http_reply_error(q, 404, "no_log", "event %lld has no log (it did not run)",
				 (long long)e.id);
	else
		http_reply_raw(q, 200, "text/plain; charset=utf-8", text.buf, text.len);
	buf_release(&path);
	buf_release(&text);
}

static void on_cancel(struct srv *s, struct http_req *q)
{
	struct event_view e;
	struct buf err = BUF_INIT;
	if (get_event(s, q, &e))
		return;
	if (!strcmp(e.status, "queued")) {
		int rc = store_event_finish(s->db, e.id, 0, "cancelled", -1, "cancelled", &err);
		if (rc == KILN_ENOENT) { /* taken from the queue meanwhile */
			queue_cancel(s->queue, e.id);
		} else if (rc) {
			http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
			goto out;
		}
	} else if (!strcmp(e.status, "running")) {
		queue_cancel(s->queue, e.id);
	} else {
		http_reply_error(q, 409, "not_cancellable", "event %lld is %s", (long long)e.id, e.status);
		goto out;
	}
	char target[32];
	snprintf(target, sizeof(target), "event %lld", (long long)e.id);
	audit_append(s->db, api__actor(q), "run.cancel", e.repo, target, NULL, &err);
	http_reply_json(q, 202, json_pack("{s:I,s:s}", "id", (json_int_t)e.id, "status",
					  !strcmp(e.status, "queued") ? "cancelled" : "cancelling"));
out:
	buf_release(&err);
}

/* re-run a finished event as the next attempt: all its workflows and
 * jobs, or (reuse_run) that run's workflow with its failed jobs only, or
 * (reuse_run and job) with that one job and its dependents only */
static void rerun(struct srv *s, struct http_req *q, const struct event_view *e, int64_t reuse_run,
		  const char *job)
{
	struct buf err = BUF_INIT;
	if (!strcmp(e->status, "queued") || !strcmp(e->status, "running") ||
	    !strcmp(e->status, "ignored")) {
		http_reply_error(q, 409, "not_rerunnable", "event %lld is %s", (long long)e->id,
				 e->status);
		return;
	}
	int64_t id = 0;
	int attempt = 0;
	if (store_event_rerun_job(s->db, e->id, reuse_run, job, api__actor(q), &id, &attempt,
				  &err)) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		buf_release(&err);
		return;
	}
	char target[32];
	struct buf detail = BUF_INIT;
	snprintf(target, sizeof(target), "event %lld", (long long)e->id);
	buf_addf(&detail, "attempt %d", attempt);
	if (job)
		buf_addf(&detail, ", job %s", job);
	else if (reuse_run)
		buf_addstr(&detail, ", failed jobs");
	audit_append(s->db, api__actor(q), "run.rerun", e->repo, target, detail.buf, &err);
	buf_release(&detail);
	buf_release(&err);
	queue_kick(s->queue);
	json_t *o = json_pack("{s:I,s:i,s:b}", "event", (json_int_t)id, "attempt", attempt,
			      "failed_only", reuse_run > 0 && !job);
	json_object_set_new(o, "job", job ? json_string(job) : json_null());
	http_reply_json(q, 201, o);
}

static void on_rerun(struct srv *s, struct http_req *q)
{
	struct event_view e;
	if (!get_event(s, q, &e))
		rerun(s, q, &e, 0, NULL);
}

/* a workflow file name: letters, digits, '.', '_', '-', ending in .yml/.yaml */
static int valid_file(const char *f)
{
	size_t n = strlen(f);
	if (!n || n > 200 || f[0] == '.' || (!str_ends_with(f, ".yml") && !str_ends_with(f, ".yaml")))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)f[i]) && f[i] != '.' && f[i] != '_' && f[i] != '-')
			return 0;
	return 1;
}

static void on_dispatch(struct srv *s, struct http_req *q)
{
	char name[256];
	if (api__repo(s, q, name, sizeof(name)))
		return;
	const char *file = http_req_param(q, "file");
	if (!valid_file(file)) {
		http_reply_error(q, 400, "invalid", "'%s' is not a workflow file name (NAME.yml in "
				 ".github/workflows)", file);
		return;
	}
	json_t *body = api__body(q);
	if (!body)
		return;
	json_t *ref = json_object_get(body, "ref"), *inputs = json_object_get(body, "inputs");
	struct repo_row repo;
	struct buf err = BUF_INIT, full = BUF_INIT;
	memset(&repo, 0, sizeof(repo));
	if (!json_is_string(ref) || (inputs && !json_is_object(inputs))) {
		http_reply_error(q, 400, "invalid", "expected {\"ref\": \"BRANCH or TAG\", "
				 "\"inputs\": {...}}");
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach(inputs, k, v) {
		if (!json_is_string(v) && !json_is_boolean(v) && !json_is_number(v)) {
			http_reply_error(q, 400, "invalid", "input '%s' must be a string, number or "
					 "boolean", k);
			goto out;
		}
	}
	if (store_repo_get(s->db, name, &repo, &err)) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		goto out;
	}
	char sha[41];
	if (mirror_resolve(repo.mirror, json_string_value(ref), sha, &full)) {
		http_reply_error(q, 422, "unknown_ref", "no branch or tag '%s' in %s (as last fetched)",
				 json_string_value(ref), name);
		goto out;
	}
	/* the workflow at that commit, its trigger and typed inputs: a bad
	 * dispatch is refused now, naming the input, not run and failed */
	const char *code = "invalid_inputs";
	int crc = dispatch_check(repo.mirror, sha, file, inputs, &code, &err);
	if (crc == KILN_ENOENT) {
		http_reply_error(q, 404, "unknown_workflow", "no workflow '.github/workflows/%s' at %s "
				 "(%s)", file, full.buf, sha);
		goto out;
	}
	if (crc) {
		http_reply_error(q, 422, code, "%s", err.buf);
		goto out;
	}
	/* github.event of a workflow_dispatch: inputs are strings there */
	json_t *in = json_object();
	struct buf text_v = BUF_INIT;
	json_object_foreach(inputs, k, v) {
		dispatch_input_text(v, &text_v);
		json_object_set_new(in, k, json_string(text_v.buf));
	}
	buf_release(&text_v);
	const char *actor = api__actor(q) ? api__actor(q) : "";
	json_t *payload = json_pack("{s:o,s:s,s:{s:s,s:s},s:{s:s}}", "inputs", in, "ref", full.buf,
				    "repository", "full_name", name, "clone_url", repo.url, "sender",
				    "login", actor);
	char *wf = xstrfmt(".github/workflows/%s", file);
	json_object_set_new(payload, "workflow", json_string(wf));
	char *text = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	struct event_row row = {
		.repo_id = repo.id, .source = "dispatch", .kind = "workflow_dispatch", .action = "",
		.ref = full.buf, .before = "", .sha = sha, .actor = actor, .payload = text,
	};
	int dup = 0;
	int64_t id = 0;
	int r = store_event_add(s->db, &row, &dup, &id, &err);
	free(text);
	if (r) {
		free(wf);
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		goto out;
	}
	audit_append(s->db, actor, "workflow.dispatch", name, wf, full.buf, &err);
	free(wf);
	queue_kick(s->queue);
	http_reply_json(q, 201, json_pack("{s:I,s:s,s:s}", "event", (json_int_t)id, "ref", full.buf,
					  "sha", sha));
out:
	json_decref(body);
	repo_row_release(&repo);
	buf_release(&err);
	buf_release(&full);
}

/* ---- runs of the history (store/runview) ---- */

static json_t *ms_or_null(int64_t ms)
{
	return ms ? json_integer(ms) : json_null();
}

static json_t *run_json(const struct runview *r)
{
	json_t *o = json_pack("{s:I,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)r->id,
			      "number", r->number, "workflow", r->workflow, "name", r->name, "event",
			      r->event, "ref", r->ref, "sha", r->sha, "status", r->status, "repo",
			      r->repo_name, "actor", r->actor);
	json_object_set_new(o, "conclusion", *r->conclusion ? json_string(r->conclusion) : json_null());
	json_object_set_new(o, "reason", *r->reason ? json_string(r->reason) : json_null());
	json_object_set_new(o, "event_id", r->event_id ? json_integer(r->event_id) : json_null());
	json_object_set_new(o, "attempt", json_integer(r->attempt));
	json_object_set_new(o, "started_at", ms_or_null(r->started_ms));
	json_object_set_new(o, "finished_at", ms_or_null(r->finished_ms));
	return o;
}

static void on_runs(struct srv *s, struct http_req *q)
{
	struct runview_filter f = {
		http_req_query(q, "repo"), http_req_query(q, "workflow"), http_req_query(q, "branch"),
		http_req_query(q, "event"), http_req_query(q, "status"), http_req_query(q, "actor"),
	};
	const char *pp = http_req_query(q, "per_page"), *pg = http_req_query(q, "page");
	int64_t per = pp ? api__int(pp) : 30, page = pg ? api__int(pg) : 1;
	if (per <= 0 || per > 100 || page <= 0 || page > 100000) {
		http_reply_error(q, 400, "invalid", "per_page must be 1 to 100, page a positive number");
		return;
	}
	struct runview *v;
	size_t n;
	int more = 0;
	struct buf err = BUF_INIT;
	if (runview_list(s->db, &f, (int)((page - 1) * per), (int)per, &v, &n, &more, &err)) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	} else {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, run_json(&v[i]));
		free(v);
		http_reply_json(q, 200, json_pack("{s:o,s:b}", "runs", arr, "more", more));
	}
	buf_release(&err);
}

/* the run named by :id, or answer 404/503 */
static int get_run(struct srv *s, struct http_req *q, struct runview *r)
{
	int64_t id = api__int(http_req_param(q, "id"));
	struct buf err = BUF_INIT;
	int rc = id ? runview_get(s->db, id, r, &err) : KILN_ENOENT;
	if (rc == KILN_ENOENT)
		http_reply_error(q, 404, "not_found", "no run %s", http_req_param(q, "id"));
	else if (rc)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	buf_release(&err);
	return rc ? -1 : 0;
}

static void on_run(struct srv *s, struct http_req *q)
{
	struct runview r;
	if (!get_run(s, q, &r))
		http_reply_json(q, 200, run_json(&r));
}

static void on_run_jobs(struct srv *s, struct http_req *q)
{
	struct runview r;
	struct runview_job *jobs = NULL;
	size_t n = 0;
	struct buf err = BUF_INIT;
	if (get_run(s, q, &r))
		return;
	if (runview_jobs(s->db, r.id, &jobs, &n, &err)) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		buf_release(&err);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)jobs[i].id, "name",
				      jobs[i].name, "status", jobs[i].status);
		json_object_set_new(j, "conclusion",
				    *jobs[i].conclusion ? json_string(jobs[i].conclusion) : json_null());
		json_object_set_new(j, "started_at", ms_or_null(jobs[i].started_ms));
		json_object_set_new(j, "finished_at", ms_or_null(jobs[i].finished_ms));
		struct runview_step *steps = NULL;
		size_t ns = 0;
		json_t *sa = json_array();
		if (!runview_steps(s->db, jobs[i].id, &steps, &ns, &err)) {
			for (size_t k = 0; k < ns; k++) {
				json_t *st = json_pack("{s:i,s:s,s:s}", "number", steps[k].number, "name",
						       steps[k].name, "status", steps[k].status);
				json_object_set_new(st, "conclusion", *steps[k].conclusion
					? json_string(steps[k].conclusion) : json_null());
				json_array_append_new(sa, st);
			}
			free(steps);
		}
		json_object_set_new(j, "steps", sa);
		json_object_set_new(j, "logs_url", json_sprintf("/api/v1/runs/%lld/logs?job=%s",
					(long long)r.id, jobs[i].name));
		json_object_set_new(j, "stream_url", json_sprintf("/api/v1/jobs/%lld/logs/stream",
					(long long)jobs[i].id));
		json_array_append_new(arr, j);
	}
	free(jobs);
	buf_release(&err);
	http_reply_json(q, 200, json_pack("{s:o}", "jobs", arr));
}

/* GET /api/v1/runs/:id/logs[?job=NAME][&timestamps=true]: the stored
 * (masked) logs as text, each line after its time when asked */
static void on_run_logs(struct srv *s, struct http_req *q)
{
	struct runview r;
	struct buf out = BUF_INIT, err = BUF_INIT;
	const char *ts = http_req_query(q, "timestamps");
	int stamped = ts && (!strcmp(ts, "true") || !strcmp(ts, "1"));
	if (ts && !stamped && strcmp(ts, "false") && strcmp(ts, "0")) {
		http_reply_error(q, 400, "invalid", "timestamps must be true or false");
		return;
	}
	if (get_run(s, q, &r))
		return;
	int rc = runs_read_logs_stamped(s->db, r.id, http_req_query(q, "job"), stamped, &out, &err);
	if (rc == KILN_ENOENT)
		http_reply_error(q, 404, "not_found", "run %lld has no job '%s'", (long long)r.id,
				 http_req_query(q, "job"));
	else if (rc)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	else
		http_reply_raw(q, 200, "text/plain; charset=utf-8", out.buf, out.len);
	buf_release(&out);
	buf_release(&err);
}

/* GET /api/v1/jobs/:id/summary: the job's step summaries (Markdown, masked) */
static void on_job_summary(struct srv *s, struct http_req *q)
{
	int64_t job = api__int(http_req_param(q, "id")), run = 0;
	struct buf out = BUF_INIT, err = BUF_INIT;
	int rc = job ? jobref_run(s->db, job, &run, &err) : KILN_ENOENT;
	if (!rc && runview_job_summary(s->db, job, &out, &err))
		rc = -1;
	if (rc == KILN_ENOENT)
		http_reply_error(q, 404, "not_found", "no job %s", http_req_param(q, "id"));
	else if (rc)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	else
		http_reply_raw(q, 200, "text/markdown; charset=utf-8", out.buf, out.len);
	buf_release(&out);
	buf_release(&err);
}

/* POST /api/v1/runs/:id/rerun [{"failed_only": true}]: re-runs the event
 * that started the run, or only the run's jobs that did not succeed */
static void on_run_rerun(struct srv *s, struct http_req *q)
{
	struct runview r;
	struct event_view e;
	struct buf err = BUF_INIT;
	int failed_only = 0;
	if (http_req_body(q)->len) {
		json_t *b = api__body(q);
		if (!b)
			return;
		json_t *f = json_object_get(b, "failed_only");
		if (f && !json_is_boolean(f)) {
			json_decref(b);
			http_reply_error(q, 400, "invalid", "failed_only must be true or false");
			return;
		}
		failed_only = json_is_true(f);
		json_decref(b);
	}
	if (get_run(s, q, &r))
		return;
	if (failed_only && (strcmp(r.status, "completed") ||
			    (strcmp(r.conclusion, "failure") && strcmp(r.conclusion, "cancelled")))) {
		http_reply_error(q, 409, "not_rerunnable", "run %lld %s: no failed jobs to re-run",
				 (long long)r.id, *r.conclusion ? r.conclusion : "is still running");
		return;
	}
	if (!r.event_id || store_event_get(s->db, r.event_id, &e, &err)) {
		http_reply_error(q, 409, "not_rerunnable", "run %lld was not started by this server",
				 (long long)r.id);
		buf_release(&err);
		return;
	}
	buf_release(&err);
	rerun(s, q, &e, failed_only ? r.id : 0, NULL);
}

/* POST /api/v1/jobs/:id/rerun (GitHub's "Re-run this job"): the job's run
 * again as the next attempt, with only that job and the jobs needing it
 * run; every other job keeps its result and outputs */
static void on_job_rerun(struct srv *s, struct http_req *q)
{
	int64_t job = api__int(http_req_param(q, "id")), run = 0;
	struct buf err = BUF_INIT;
	struct runview r;
	struct event_view e;
	struct runview_job *jobs = NULL;
	size_t n = 0;
	const char *name = NULL;
	int rc = job ? jobref_run(s->db, job, &run, &err) : KILN_ENOENT;
	if (!rc)
		rc = runview_get(s->db, run, &r, &err);
	if (!rc)
		rc = runview_jobs(s->db, run, &jobs, &n, &err) ? -1 : 0;
	for (size_t i = 0; !rc && i < n && !name; i++)
		if (jobs[i].id == job)
			name = jobs[i].name;
	if (!rc && !name)
		rc = KILN_ENOENT;
	if (rc == KILN_ENOENT) {
		http_reply_error(q, 404, "not_found", "no job %s", http_req_param(q, "id"));
	} else if (rc) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	} else if (strcmp(r.status, "completed")) {
		http_reply_error(q, 409, "not_rerunnable", "run %lld is still running: cancel it or "
				 "wait for it to end", (long long)r.id);
	} else if (!r.event_id || store_event_get(s->db, r.event_id, &e, &err)) {
		http_reply_error(q, 409, "not_rerunnable", "run %lld was not started by this server",
				 (long long)r.id);
	} else {
		rerun(s, q, &e, r.id, name);
	}
	free(jobs);
	buf_release(&err);
}

/* POST /api/v1/runs/:id/cancel: a server run is cancelled through its event */
static void on_run_cancel(struct srv *s, struct http_req *q)
{
	struct runview r;
	struct buf err = BUF_INIT;
	if (get_run(s, q, &r))
		return;
	if (!r.event_id) {
		http_reply_error(q, 409, "not_cancellable", "run %lld was not started by this server",
				 (long long)r.id);
		return;
	}
	if (strcmp(r.status, "in_progress") || queue_cancel(s->queue, r.event_id)) {
		http_reply_error(q, 409, "not_cancellable", "run %lld is %s", (long long)r.id,
				 *r.conclusion ? r.conclusion : r.status);
		return;
	}
	char target[48];
	snprintf(target, sizeof(target), "run %lld", (long long)r.id);
	audit_append(s->db, api__actor(q), "run.cancel", r.repo_name, target, NULL, &err);
	buf_release(&err);
	http_reply_json(q, 202, json_pack("{s:I,s:s}", "id", (json_int_t)r.id, "status", "cancelling"));
}

void api_runs_register(struct srv *s)
{
	http_route(s, "GET", "/api/v1/runs", ROLE_VIEWER, on_runs);
	http_route(s, "GET", "/api/v1/runs/:id", ROLE_VIEWER, on_run);
	http_route(s, "GET", "/api/v1/runs/:id/jobs", ROLE_VIEWER, on_run_jobs);
	http_route(s, "GET", "/api/v1/runs/:id/logs", ROLE_VIEWER, on_run_logs);
	http_route(s, "POST", "/api/v1/runs/:id/cancel", ROLE_DEVELOPER, on_run_cancel);
	http_route(s, "POST", "/api/v1/runs/:id/rerun", ROLE_DEVELOPER, on_run_rerun);
	http_route(s, "POST", "/api/v1/jobs/:id/rerun", ROLE_DEVELOPER, on_job_rerun);
	http_route(s, "GET", "/api/v1/jobs/:id/summary", ROLE_VIEWER, on_job_summary);
	http_route(s, "POST", "/api/v1/events/:id/rerun", ROLE_DEVELOPER, on_rerun);
	http_route(s, "GET", "/api/v1/events", ROLE_VIEWER, on_list);
	http_route(s, "GET", "/api/v1/events/:id", ROLE_VIEWER, on_get);
	http_route(s, "GET", "/api/v1/events/:id/log", ROLE_VIEWER, on_log);
	http_route(s, "POST", "/api/v1/events/:id/cancel", ROLE_DEVELOPER, on_cancel);
	API_ROUTE_REPO(s, "POST", "/workflows/:file/dispatches", ROLE_DEVELOPER, on_dispatch);
}
