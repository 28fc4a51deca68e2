/*
 * gitops: the deploy controller's desired state from a config repository
 * (Argo CD / Flux style). Options of `kiln deployd --config-repo`, and the
 * per-app sync and health vocabulary shared with the CLI and the API.
 */
#ifndef KILN_DEPLOY_GITOPS_H
#define KILN_DEPLOY_GITOPS_H

#include "base/kiln.h"

struct gitops_opts {
	const char *url;          /* the config repository (path, file://, http(s)://) */
	const char *branch;       /* "main" */
	const char *path;         /* directory of the app files ("" = root) */
	const char *env;          /* NAME/<env>.yaml before NAME/values.yaml; NULL = none */
	int interval_ms;          /* poll period (3m, Argo CD's default) */
	const char *webhook;      /* ADDR:PORT of the push webhook listener, or NULL */
	const char *secret_file;  /* the webhook secret (required with webhook) */
	const char *author;       /* "Name <email>" of revert commits (kiln rollback) */
};

/* Argo CD's words */
enum sync_status { SYNC_SYNCED, SYNC_OUT_OF_SYNC, SYNC_UNKNOWN };
enum health_status { HEALTH_HEALTHY, HEALTH_PROGRESSING, HEALTH_DEGRADED, HEALTH_MISSING };
const char *sync_status_name(enum sync_status s);
const char *health_status_name(enum health_status h);

/*
 * The app a config file names: "web.yml" and "web/values.yaml" are app
 * `web`; with env, "web/<env>.yaml" too. Writes the name into out (owned
 * by the caller) and returns its priority (2 env file, 1 otherwise), or 0
 * when the file declares no app.
 */
int gitops_app_of(const char *rel, const char *env, char **out);

#endif
