/*
 * api_env: environments (rules, secrets, variables), repository secrets and
 * variables, approvals, deployments, DORA and notification webhooks under
 * /api/v1 (see api.h for the roles). No answer ever carries a secret value.
 */
#include "base/kiln.h"
#include "server/api.h"
#include "server/dora.h"
#include "server/env.h"
#include "server/notify.h"
#include "server/srv.h"
#include "store/audit.h"
#include "store/runs.h"

#include <sodium.h>

/* the repository of the route, or return after the 404 */
#define REPO_OR_RETURN(s, q, name)                              \
	char name[512];                                         \
	if (api__repo((s), (q), name, sizeof(name)) < 0)         \
		return

/* ---- environments ---- */

static void on_envs(struct srv *s, struct http_req *q)
{
	REPO_OR_RETURN(s, q, repo);
	struct env_row *v;
	size_t n;
	struct buf err = BUF_INIT;
	if (envs_list(s->db, repo, &v, &n, &err) < 0) {
		api__fail(q, -1, &err);
		buf_release(&err);
		return;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		if (*v[i].name) { /* "" holds the repository's own secrets and variables */
			json_t *o = env_to_json(s->db, &v[i], &err);
			if (o)
				json_array_append_new(a, o);
		}
		env_row_release(&v[i]);
	}
	free(v);
	http_reply_json(q, 200, a);
	buf_release(&err);
}

static void reply_env(struct srv *s, struct http_req *q, const char *repo, const char *name,
		      int status)
{
	struct env_row e = ENV_ROW_INIT;
	struct buf err = BUF_INIT;
	int r = envs_get(s->db, repo, name, &e, &err);
	json_t *o = r ? NULL : env_to_json(s->db, &e, &err);
	if (r == KILN_ENOENT)
		http_reply_error(q, 404, "not_found", "repository '%s' has no environment '%s'", repo,
				 name);
	else if (!o)
		api__fail(q, -1, &err);
	else
		http_reply_json(q, status, o);
	env_row_release(&e);
	buf_release(&err);
}

static void on_env_get(struct srv *s, struct http_req *q)
{
	REPO_OR_RETURN(s, q, repo);
	reply_env(s, q, repo, http_req_param(q, "env"), 200);
}

static void on_env_put(struct srv *s, struct http_req *q)
{
	REPO_OR_RETURN(s, q, repo);
	json_t *b = api__body(q);
	if (!b)
		return;
	struct buf err = BUF_INIT;
	const char *name = http_req_param(q, "env");
	int r = env_put_json(s->db, api__actor(q), repo, name, b, &err);
	if (r)
		api__fail(q, r, &err);
	else
		reply_env(s, q, repo, name, 200);
	buf_release(&err);
	json_decref(b);
}

static void on_env_delete(struct srv *s, struct http_req *q)
{
	REPO_OR_RETURN(s, q, repo);
	const char *name = http_req_param(q, "env");
	struct buf err = BUF_INIT;
	int r = envs_delete(s->db, repo, name, &err);
	if (r == KILN_ENOENT)
		buf_addf(&err, "repository '%s' has no environment '%s'", repo, name);
	if (!r)
		r = audit_append(s->db, api__actor(q), "env.delete", repo, name, NULL, &err);
	if (r)
		api__fail(q, r, &err);
	else
		http_reply_json(q, 200, json_pack("{s:s,s:b}", "environment", name, "deleted", 1));
	buf_release(&err);
}

/* ---- secrets and variables (environment, or the repository's with no :env) ---- */

static void on_secret_put(struct srv *s, struct http_req *q)
{
	REPO_OR_RETURN(s, q, repo);
	json_t *b = api__body(q);
	if (!b)
		return;
	json_t *v = json_object_get(b, "value");
	const char *env = http_req_param(q, "env"), *name = http_req_param(q, "name");
	struct buf err = BUF_INIT;
	if (!json_is_string(v)) {
		http_reply_error(q, 400, "invalid", "expected {\"value\": STRING}");
	} else {
		int r = env_secret_set(s->db, s->secrets, api__actor(q), repo, env ? env : "", name,
				       json_string_value(v), json_string_length(v), &err);
		if (r)
			api__fail(q, r, &err);
		else /* never the value, not even its length */
			http_reply_json(q, 200, json_pack("{s:s,s:s?,s:s}", "repo", repo, "environment",
							  env, "secret", name));
	}
	/* jansson's copy of the value */
	if (json_is_string(v))
		sodium_memzero((char *)json_string_value(v), json_string_length(v));
	buf_release(&err);
	json_decref(b);
}

static void on_secret_delete(struct srv *s, struct http_req *q)
{
	REPO_OR_RETURN(s, q, repo);
	const char *env = http_req_param(q, "env"), *name = http_req_param(q, "name");
	struct buf err = BUF_INIT;
	int r = env_secret_remove(s->db, api__actor(q), repo, env ? env : "", name, &err);
	if (r)
		api__fail(q, r, &err);
	else
		http_reply_json(q, 200, json_pack("{s:s,s:b}", "secret", name, "deleted", 1));
	buf_release(&err);
}

/* GET .../secrets: names and update times of the repository's own secrets */
static void on_repo_secrets(struct srv *s, struct http_req *q)
{
	REPO_OR_RETURN(s, q, repo);
	struct env_row e = ENV_ROW_INIT;
	struct buf err = BUF_INIT;
	int r = envs_get(s->db, repo, "", &e, &err);
	json_t *o = r == 0 ? env_to_json(s->db, &e, &err) : NULL;
	if (r == KILN_ENOENT) {
		http_reply_json(q, 200, json_pack("{s:[],s:{}}", "secrets", "variables"));
	} else if (!o) {
		api__fail(q, -1, &err);
	} else {
		http_reply_json(q, 200,
				json_pack("{s:O,s:O}", "secrets", json_object_get(o, "secrets"),
					  "variables", json_object_get(o, "variables")));
		json_decref(o);
	}
	env_row_release(&e);
	buf_release(&err);
}

static void on_var_put(struct srv *s, struct http_req *q)
{
	REPO_OR_RETURN(s, q, repo);
	json_t *b = api__body(q);
	if (!b)
		return;
	const char *value = json_string_value(json_object_get(b, "value"));
	const char *env = http_req_param(q, "env"), *name = http_req_param(q, "name");
	struct buf err = BUF_INIT;
	if (!value) {
		http_reply_error(q, 400, "invalid", "expected {\"value\": STRING}");
	} else {
		int r = env_var_set(s->db, api__actor(q), repo, env ? env : "", name, value, &err);
		if (r)
			api__fail(q, r, &err);
		else
			http_reply_json(q, 200, json_pack("{s:s,s:s?,s:s,s:s}", "repo", repo,
							  "environment", env, "variable", name, "value",
							  value));
	}
	buf_release(&err);
	json_decref(b);
}

static void on_var_delete(struct srv *s, struct http_req *q)
{
	REPO_OR_RETURN(s, q, repo);
	const char *env = http_req_param(q, "env"), *name = http_req_param(q, "name");
	struct buf err = BUF_INIT;
	int r = env_var_remove(s->db, api__actor(q), repo, env ? env : "", name, &err);
	if (r)
		api__fail(q, r, &err);
	else
		http_reply_json(q, 200, json_pack("{s:s,s:b}", "variable", name, "deleted", 1));
	buf_release(&err);
}

/* ---- approvals ---- */

/* POST /api/v1/runs/:id/approve|reject {"comment"?, "environment"?} */
static void review(struct srv *s, struct http_req *q, int approve)
{
	int64_t run = api__int(http_req_param(q, "id"));
	const struct buf *raw = http_req_body(q);
	json_t *b = raw->len ? api__body(q) : json_object();
	if (!b)
		return;
	const char *comment = json_string_value(json_object_get(b, "comment"));
	const char *env = json_string_value(json_object_get(b, "environment"));
	struct buf err = BUF_INIT;
	int decided = 0;
	int r = run ? env_review(s->db, http_req_who(q), run, env, approve, comment, runs_now_ms(),
				 &s->env_events, &decided, &err)
		    : (buf_addstr(&err, "bad run id"), ENV_REVIEW_NOTHING);
	if (r == ENV_REVIEW_DONE)
		http_reply_json(q, 200, json_pack("{s:I,s:s,s:i}", "run", (json_int_t)run, "decision",
						  approve ? "approved" : "rejected", "deployments",
						  decided));
	else if (r == ENV_REVIEW_FORBIDDEN)
		http_reply_error(q, 403, "not_a_reviewer", "%s", err.buf);
	else if (r == ENV_REVIEW_NOTHING)
		http_reply_error(q, 409, "nothing_to_review", "%s", err.buf);
	else
		api__fail(q, r, &err);
	buf_release(&err);
	json_decref(b);
}

static void on_approve(struct srv *s, struct http_req *q) { review(s, q, 1); }
static void on_reject(struct srv *s, struct http_req *q) { review(s, q, 0); }

/* GET /api/v1/deployments?repo=&environment=&state=&run=&limit= */
static void on_deployments(struct srv *s, struct http_req *q)
{
	int64_t limit = api__int(http_req_query(q, "limit"));
	struct deploy_filter f = { http_req_query(q, "repo"), http_req_query(q, "environment"),
				   http_req_query(q, "state"), api__int(http_req_query(q, "run")), 0,
				   (int)(limit && limit < 1000 ? limit : 100) };
	struct deploy_row *v;
	size_t n;
	struct buf err = BUF_INIT;
	if (deploys_list(s->db, &f, &v, &n, &err) < 0) {
		api__fail(q, -1, &err);
	} else {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, deploy_to_json(&v[i]));
		free(v);
		http_reply_json(q, 200, a);
	}
	buf_release(&err);
}

/* GET /api/v1/dora?repo=&environment=&days= */
static void on_dora(struct srv *s, struct http_req *q)
{
	const char *d = http_req_query(q, "days");
	int64_t days = d ? api__int(d) : 30;
	struct dora_report *v;
	size_t n;
	struct buf err = BUF_INIT;
	int r = days > 0 && days <= 3650
			? dora_query(s->db, http_req_query(q, "repo"), http_req_query(q, "environment"),
				     (int)days, runs_now_ms(), &v, &n, &err)
			: (buf_addstr(&err, "'days' must be 1 to 3650"), KILN_EINVAL);
	if (r) {
		api__fail(q, r, &err);
	} else {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, dora_to_json(&v[i]));
		free(v);
		http_reply_json(q, 200, a);
	}
	buf_release(&err);
}

/* ---- notification webhooks ---- */

static void on_hooks(struct srv *s, struct http_req *q)
{
	REPO_OR_RETURN(s, q, repo);
	struct buf err = BUF_INIT;
	json_t *a = notify_hooks_json(s->db, repo, &err);
	if (a)
		http_reply_json(q, 200, a);
	else
		api__fail(q, -1, &err);
	buf_release(&err);
}

/* POST .../notifications {"kind": "slack"|"json", "url", "environment"?, "events"?: [..]} */
static void on_hook_add(struct srv *s, struct http_req *q)
{
	REPO_OR_RETURN(s, q, repo);
	json_t *b = api__body(q);
	if (!b)
		return;
	const char *kind = json_string_value(json_object_get(b, "kind"));
	const char *url = json_string_value(json_object_get(b, "url"));
	const char *env = json_string_value(json_object_get(b, "environment"));
	json_t *events = json_object_get(b, "events");
	struct buf ev = BUF_INIT, err = BUF_INIT;
	size_t i;
	json_t *e;
	int bad = !kind || !url || (events && !json_is_array(events));
	json_array_foreach(events, i, e)
	{
		if (!json_is_string(e) || strchr(json_string_value(e), ','))
			bad = 1;
		else
			buf_addf(&ev, "%s%s", ev.len ? "," : "", json_string_value(e));
	}
	int64_t id;
	if (bad) {
		http_reply_error(q, 400, "invalid",
				 "expected {\"kind\": \"slack\"|\"json\", \"url\": URL, \"environment\"?: "
				 "NAME, \"events\"?: [NAME...]}");
	} else {
		int r = notify_hook_add(s->db, s->secrets, api__actor(q), repo, env, kind, ev.buf, url,
					&id, &err);
		if (r)
			api__fail(q, r, &err);
		else
			http_reply_json(q, 201, json_pack("{s:I,s:s}", "id", (json_int_t)id, "repo", repo));
	}
	buf_release(&ev);
	buf_release(&err);
	json_decref(b);
}

static void on_hook_delete(struct srv *s, struct http_req *q)
{
	REPO_OR_RETURN(s, q, repo);
	struct buf err = BUF_INIT;
	int r = notify_hook_remove(s->db, api__actor(q), repo, api__int(http_req_param(q, "id")), &err);
	if (r)
		api__fail(q, r, &err);
	else
		http_reply_json(q, 200, json_pack("{s:b}", "deleted", 1));
	buf_release(&err);
}

void api_env_register(struct srv *s)
{
	API_ROUTE_REPO(s, "GET", "/environments", ROLE_VIEWER, on_envs);
	API_ROUTE_REPO(s, "GET", "/environments/:env", ROLE_VIEWER, on_env_get);
	API_ROUTE_REPO(s, "PUT", "/environments/:env", ROLE_ADMIN, on_env_put);
	API_ROUTE_REPO(s, "DELETE", "/environments/:env", ROLE_ADMIN, on_env_delete);
	API_ROUTE_REPO(s, "PUT", "/environments/:env/secrets/:name", ROLE_ADMIN, on_secret_put);
	API_ROUTE_REPO(s, "DELETE", "/environments/:env/secrets/:name", ROLE_ADMIN, on_secret_delete);
	API_ROUTE_REPO(s, "PUT", "/environments/:env/variables/:name", ROLE_ADMIN, on_var_put);
	API_ROUTE_REPO(s, "DELETE", "/environments/:env/variables/:name", ROLE_ADMIN, on_var_delete);
	API_ROUTE_REPO(s, "GET", "/secrets", ROLE_VIEWER, on_repo_secrets);
	API_ROUTE_REPO(s, "PUT", "/secrets/:name", ROLE_ADMIN, on_secret_put);
	API_ROUTE_REPO(s, "DELETE", "/secrets/:name", ROLE_ADMIN, on_secret_delete);
	API_ROUTE_REPO(s, "PUT", "/variables/:name", ROLE_ADMIN, on_var_put);
	API_ROUTE_REPO(s, "DELETE", "/variables/:name", ROLE_ADMIN, on_var_delete);
	API_ROUTE_REPO(s, "GET", "/notifications", ROLE_ADMIN, on_hooks);
	API_ROUTE_REPO(s, "POST", "/notifications", ROLE_ADMIN, on_hook_add);
	API_ROUTE_REPO(s, "DELETE", "/notifications/:id", ROLE_ADMIN, on_hook_delete);
	http_route(s, "POST", "/api/v1/runs/:id/approve", ROLE_DEPLOYER, on_approve);
	http_route(s, "POST", "/api/v1/runs/:id/reject", ROLE_DEPLOYER, on_reject);
	http_route(s, "GET", "/api/v1/deployments", ROLE_VIEWER, on_deployments);
	http_route(s, "GET", "/api/v1/dora", ROLE_VIEWER, on_dora);
}
