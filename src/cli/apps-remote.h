/* apps-remote: `kiln status` and `kiln sync` against a server (apps-remote.c). */
#ifndef KILN_CLI_APPS_REMOTE_H
#define KILN_CLI_APPS_REMOTE_H

#include "cli/remote.h"

/* every app (app NULL) or one: the table / the app's lines, or the JSON */
int apps_remote_status(const struct remote *rm, const char *app, int json);
/*
 * A manual sync of app (the server's deployer role); prints its answer.
 * With wait_ms > 0 it then polls GET /api/v1/apps/APP (every 0.5 s,
 * printing each change of state) until the sync's end: 0 when it
 * succeeded and the app is Synced and Healthy, 1 when it failed or the app
 * is Degraded, or when wait_ms passed first; 2 and 3 as remote_call.
 */
int apps_remote_sync(const struct remote *rm, const char *app, int64_t wait_ms);

#endif
