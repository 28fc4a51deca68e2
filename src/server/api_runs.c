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
#include "server/queue.h"
#include "server/srv.h"
#include "store/audit.h"
#include "store/repos.h"

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
		if (store_event_finish(s->db, e.id, "cancelled", -1, "cancelled", &err)) {
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
	/* github.event of a workflow_dispatch: inputs are strings there */
	json_t *in = json_object();
	json_object_foreach(inputs, k, v) {
		if (json_is_string(v))
			json_object_set(in, k, v);
		else if (json_is_boolean(v))
			json_object_set_new(in, k, json_string(json_is_true(v) ? "true" : "false"));
		else {
			char num[64];
			snprintf(num, sizeof(num), "%g", json_number_value(v));
			json_object_set_new(in, k, json_string(num));
		}
	}
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

void api_runs_register(struct srv *s)
{
	http_route(s, "GET", "/api/v1/events", ROLE_VIEWER, on_list);
	http_route(s, "GET", "/api/v1/events/:id", ROLE_VIEWER, on_get);
	http_route(s, "GET", "/api/v1/events/:id/log", ROLE_VIEWER, on_log);
	http_route(s, "POST", "/api/v1/events/:id/cancel", ROLE_DEVELOPER, on_cancel);
	API_ROUTE_REPO(s, "POST", "/workflows/:file/dispatches", ROLE_DEVELOPER, on_dispatch);
}
