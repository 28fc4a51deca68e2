/*
 * probe: one asynchronous health check of an instance on 127.0.0.1:port
 * (http: GET path, compare the status; tcp: connect; exec: command exits 0),
 * bounded by the probe's timeout. The callback runs exactly once.
 */
#ifndef KILN_DEPLOY_PROBE_H
#define KILN_DEPLOY_PROBE_H

#include <uv.h>

#include "deploy/app.h"

/* ok: 1 healthy, 0 not; detail: HAProxy's check status code and a short
 * reason ("L7OK 200", "L7STS 503", "L4CON connection refused", "L4TOUT
 * timed out", "L4OK", "PROCOK", "PROCERR exit 1") */
typedef void (*probe_cb)(void *data, int ok, const char *detail);

/* start a probe; `env` is used by exec probes (PORT and KILN_RELEASE set) */
void probe_start(uv_loop_t *loop, const struct probe_spec *spec, int port, char **env, const char *cwd,
		 probe_cb cb, void *data);

/*
 * GET http://127.0.0.1:<port><path> and read the whole answer (HTTP/1.0,
 * until the server closes; at most PROBE_FETCH_MAX bytes), bounded by
 * timeout_ms. The callback runs exactly once: status is the HTTP status
 * (0 on failure, with the reason in err), body/len the payload after the
 * headers (valid only during the callback).
 */
#define PROBE_FETCH_MAX (4u << 20)
typedef void (*fetch_cb)(void *data, int status, const char *body, size_t len, const char *err);
void probe_fetch(uv_loop_t *loop, int port, const char *path, int timeout_ms, fetch_cb cb, void *data);

#endif
