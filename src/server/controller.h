/*
 * controller: kiln serve's side of the deploy controller. With a
 * `gitops:` configuration the server supervises `kiln deployd
 * --config-repo ...` as its child (started with the server, restarted with
 * a back-off when it dies, stopped with it), the way Argo CD runs its
 * application controller beside its API server. Every page and API call
 * about apps asks the controller over its unix socket (deployd_request) on
 * the thread pool; the answer comes back on the loop. Without `gitops:`
 * the same requests go to a controller started by hand
 * (KILN_DEPLOY_STATE), as the deployments pages always did.
 */
#ifndef KILN_SERVER_CONTROLLER_H
#define KILN_SERVER_CONTROLLER_H

#include <jansson.h>

#include "base/buf.h"
#include "server/http.h"

struct srv;
struct serve_gitops;
struct controller;

/*
 * Start supervising `kiln deployd` with g (g->repo set) in state_dir;
 * the configuration is copied. 0, or -1 with err (the webhook secret file
 * cannot be read).
 */
int controller_new(struct srv *s, const struct serve_gitops *g, const char *state_dir,
		   struct controller **out, struct buf *err);
/* SIGTERM the child (SIGKILL after 30 s); done(arg) once it exited (at
 * once when none runs). No restart after this. */
void controller_stop(struct controller *c, void (*done)(void *), void *arg);
/* free after the loop ended (c may be NULL) */
void controller_free(struct controller *c);

/* {"supervised","state":"running|restarting|stopped","pid","restarts",
 * "last_exit"}; {"supervised":false} for NULL */
json_t *controller_json(const struct controller *c);
/* the config repository's branch (its pushes trigger a fetch) */
const char *controller_branch(const struct controller *c);
/*
 * The webhook secret of the config repository in *secret (NULL when none
 * is set): 0, or -1 with err when its file changed since it was read and
 * cannot be read now (unreadable, empty). The file is checked (stat) at
 * every call and read again when it changed: a rotated secret needs no
 * restart.
 */
int controller_hook_secret(struct controller *c, const struct buf **secret, struct buf *err);

/*
 * One request to the controller of the server (the supervised one, or
 * the one at KILN_DEPLOY_STATE / the data directory): req (stolen) is
 * sent on the thread pool and the answer handed to cb on the loop with
 * the request q (deferred: NULL when its client went away), the exit code
 * the controller chose (3 when it is unreachable) and its message. arg is
 * cb's.
 */
typedef void controller_cb(struct srv *s, struct http_req *q, int code, const char *msg, void *arg);
void controller_ask(struct srv *s, struct http_req *q, json_t *req, controller_cb *cb, void *arg);

#endif
