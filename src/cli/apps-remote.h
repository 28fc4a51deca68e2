/* apps-remote: `kiln status` and `kiln sync` against a server (apps-remote.c). */
#ifndef KILN_CLI_APPS_REMOTE_H
#define KILN_CLI_APPS_REMOTE_H

#include "cli/remote.h"

/* every app (app NULL) or one: the table / the app's lines, or the JSON */
int apps_remote_status(const struct remote *rm, const char *app, int json);
/* a manual sync of app (the server's deployer role); prints its answer */
int apps_remote_sync(const struct remote *rm, const char *app);

#endif
