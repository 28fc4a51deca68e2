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
