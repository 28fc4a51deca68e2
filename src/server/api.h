/*
 * api: the JSON handlers of `kiln serve` for users, tokens, groups, the
 * audit log (api_access.c) and environments, secrets, variables,
 * approvals, deployments, DORA and notification webhooks (api_env.c), each
 * registered with its minimum role (docs/api.md has the matrix). serve.c
 * calls api_register once the router exists.
 *
 * Repository names may be OWNER/NAME: every /api/v1/repos/REPO/... route
 * is registered for one and for two path segments.
 */
#ifndef KILN_SERVER_API_H
#define KILN_SERVER_API_H

#include <jansson.h>

#include "server/auth.h"
#include "server/http.h"

struct srv;

void api_register(struct srv *s);
void api_access_register(struct srv *s);
void api_env_register(struct srv *s);
/* api_runs.c (the `serve` side): events, their logs, cancel, workflow_dispatch */
void api_runs_register(struct srv *s);
/* api_artifacts.c: a run's artifacts and annotations; artifact retention */
void api_artifacts_register(struct srv *s);
/* api_apps.c: the GitOps apps of the deploy controller, manual sync */
void api_apps_register(struct srv *s);
/* the controller's apps list (`kiln status --json`, plus "controller":
 * server/controller.h) for q (deferred); done gets q (NULL once the client
 * left) and the list (borrowed) or NULL with err */
typedef void api_apps_cb(struct srv *s, struct http_req *q, json_t *list, const char *err, void *arg);
void api_apps_list(struct srv *s, struct http_req *q, api_apps_cb *done, void *arg);
/* the app named app in such a list (borrowed), or NULL */
json_t *api_apps_find(json_t *list, const char *app);
/* a manual sync of app by actor, audited (app.sync) once it reached the
 * controller; done gets the HTTP status (202 started or already synced,
 * 400 not an app name (never sent), 404 unknown app, 409 refused, 503 no
 * controller) and its message */
typedef void api_sync_cb(struct srv *s, struct http_req *q, int status, const char *msg, void *arg);
void api_apps_sync(struct srv *s, struct http_req *q, const char *app, const char *actor,
		   api_sync_cb *done, void *arg);

/* a login (auth_login: Argon2id, rate-limited) on the thread pool with
 * its own store connection, for POST /api/v1/login and the UI's sign-in.
 * The request is deferred (http_defer); done runs on the loop with q, or
 * NULL when the client went away, and the result (valid during the call;
 * r is an auth_login_result or -1 with err); done frees its arg. */
struct api_login {
	int r;
	struct principal p;   /* AUTH_LOGIN_OK */
	struct buf tok, err;  /* the session token (AUTH_LOGIN_OK); the error */
	int64_t retry;        /* AUTH_LOGIN_THROTTLED: ms */
};
typedef void api_login_cb(struct http_req *q, const struct api_login *res, void *arg);
void api_login_start(struct srv *s, struct http_req *q, const char *user, const char *pw,
		     api_login_cb *done, void *arg);

/* ---- helpers shared by the handler files (api.c) ---- */

/* the request body as a JSON object; NULL after answering 400 */
json_t *api__body(struct http_req *q);
/* the repository of a /repos/:repo or /repos/:owner/:repo route into out;
 * 0, or -1 after answering 404 (unknown repository) */
int api__repo(struct srv *s, struct http_req *q, char *out, size_t n);
/* register /api/v1/repos/REPO + rest (a string literal) for a one- and a
 * two-segment repository name */
#define API_ROUTE_REPO(s, method, rest, role, fn)                              \
	do {                                                                   \
		http_route((s), (method), "/api/v1/repos/:repo" rest, (role), (fn)); \
		http_route((s), (method), "/api/v1/repos/:owner/:repo" rest, (role), (fn)); \
	} while (0)
/* answer an error from a KILN_* code: EINVAL 400 invalid, ENOENT 404
 * not_found, else 500 internal (message from err) */
void api__fail(struct http_req *q, int code, const struct buf *err);
/* the caller's name (for the audit log) */
const char *api__actor(struct http_req *q);
/* a positive integer path parameter or query value; 0 when absent/bad */
int64_t api__int(const char *s);

#endif
