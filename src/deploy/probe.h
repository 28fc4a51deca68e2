/*
 * probe: one asynchronous health check of an instance on 127.0.0.1:port
 * (http: GET path, compare the status; tcp: connect; exec: command exits 0),
 * bounded by the probe's timeout. The callback runs exactly once.
 */
#ifndef KILN_DEPLOY_PROBE_H
#define KILN_DEPLOY_PROBE_H

#include <uv.h>

#include "deploy/app.h"

/* ok: 1 healthy, 0 not; detail: a short reason for logs */
typedef void (*probe_cb)(void *data, int ok, const char *detail);

/* start a probe; `env` is used by exec probes (PORT and KILN_RELEASE set) */
void probe_start(uv_loop_t *loop, const struct probe_spec *spec, int port, char **env, const char *cwd,
		 probe_cb cb, void *data);

#endif
