/*
 * hookrecv: the deploy controller's webhook receiver: a small HTTP/1.1
 * listener on the loop that accepts one signed push delivery per
 * connection (GitHub, Gitea/Forgejo, GitLab), checks its signature with
 * the server's code (src/server/hook.c, constant-time) and reports the
 * pushed ref. Requests are size- and time-bounded.
 */
#ifndef KILN_DEPLOY_HOOKRECV_H
#define KILN_DEPLOY_HOOKRECV_H

#include <uv.h>

#include "base/kiln.h"

/* a verified push of ref ("refs/heads/main") */
typedef void (*hookrecv_fn)(void *arg, const char *ref);

struct hookrecv;

/* listen on addr ("127.0.0.1:8470"); the secret is borrowed (outlives h) */
int hookrecv_start(uv_loop_t *loop, const char *addr, const char *secret, size_t secret_len, hookrecv_fn fn,
		   void *arg, struct hookrecv **out, struct buf *err);
/* the port bound (for ":0") */
int hookrecv_port(const struct hookrecv *h);
/* stop listening, drop open connections; freed once the loop closed them */
void hookrecv_close(struct hookrecv *h);

#endif
