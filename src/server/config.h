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
 *   gitops:                  # the server runs a GitOps controller (kiln deployd
 *     repo: URL              # --config-repo URL) as its child: docs/internals/gitops.md
 *     branch: main
 *     path: apps
 *     env: production
 *     interval: 3m
 *     webhook_secret_file: FILE   # POST /hooks/config/{github,gitea,gitlab}
 *     author: kiln <kiln@localhost>
 *     state: DIR             # the controller's state (default KILN_DEPLOY_STATE, else data)
 *
 * Unknown keys and wrong types are errors at file:line:col.
 */
#ifndef KILN_SERVER_CONFIG_H
#define KILN_SERVER_CONFIG_H

#include "base/diag.h"

/* the `gitops:` section: what the supervised `kiln deployd` is started with */
struct serve_gitops {
	char *repo;          /* --config-repo; NULL = no controller */
	char *branch, *path, *env, *interval, *author; /* NULL = deployd's defaults */
	char *secret_file;   /* the config repository's webhook secret; NULL = no webhook */
	char *state;         /* the controller's state directory; NULL = the default */
};
#define SERVE_GITOPS_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

struct serve_config {
	char *listen, *data; /* NULL when not set */
	int jobs, max_body_kb, request_timeout; /* -1 when not set */
	const char *isolate; /* "off", "on", "no-network" (static); NULL when not set */
	struct serve_gitops gitops;
};
#define SERVE_CONFIG_INIT { NULL, NULL, -1, -1, -1, NULL, SERVE_GITOPS_INIT }

/* 0, or -1 with diagnostics in d (the file cannot be read, bad YAML, keys) */
int serve_config_load(const char *path, struct serve_config *c, struct diags *d);
void serve_config_release(struct serve_config *c);

#endif
