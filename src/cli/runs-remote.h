/* runs-remote: `kiln runs` and `kiln logs` against a server (runs-remote.c). */
#ifndef KILN_CLI_RUNS_REMOTE_H
#define KILN_CLI_RUNS_REMOTE_H

#include "cli/remote.h"

struct runs_remote_opts {
	const char *repo, *workflow, *branch, *status; /* filters, NULL: any */
	int limit;
	int json;
};

int runs_remote(struct remote *rm, const struct runs_remote_opts *o);
/* one run and its jobs (ids, status, what a waiting job waits for) */
int run_view_remote(struct remote *rm, const char *run, int json);
/* print a run's (or one job's) stored log; follow: until the run completes */
int logs_remote(struct remote *rm, const char *run, const char *job, int follow, int stamped);

#endif
