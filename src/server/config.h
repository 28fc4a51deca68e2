/*
 * config: `kiln serve --config FILE`, a YAML mapping of the server's
 * settings; the command line wins over it:
 *
 *   listen: 127.0.0.1:8420
 *   data: /var/lib/kiln
 *   jobs: 4
 *   limits:
 *     max_body_kb: 1024
 *     request_timeout: 10    # seconds
 *   isolate: off             # on | no-network: repositories' runs in the
 *                            # bubblewrap sandbox unless their own setting
 *                            # (kiln repo set NAME --no-isolate) says otherwise
 *
 * Unknown keys and wrong types are errors at file:line:col.
 */
#ifndef KILN_SERVER_CONFIG_H
#define KILN_SERVER_CONFIG_H

#include "base/diag.h"

struct serve_config {
	char *listen, *data; /* NULL when not set */
	int jobs, max_body_kb, request_timeout; /* -1 when not set */
	const char *isolate; /* "off", "on", "no-network" (static); NULL when not set */
};
#define SERVE_CONFIG_INIT { NULL, NULL, -1, -1, -1, NULL }

/* 0, or -1 with diagnostics in d (the file cannot be read, bad YAML, keys) */
int serve_config_load(const char *path, struct serve_config *c, struct diags *d);
void serve_config_release(struct serve_config *c);

#endif
