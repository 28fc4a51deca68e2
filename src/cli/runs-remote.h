/* runs-remote: `kiln runs` and `kiln logs` against a server (runs-remote.c). */
#ifndef KILN_CLI_RUNS_REMOTE_H
#define KILN_CLI_RUNS_REMOTE_H

#include "cli/remote.h"

struct runs_remote_opts {
	const char *repo, *workflow, *branch, *status; /* filters, NULL: any */
	int limit;
	int json;
};

/* the runs table's columns, local and remote (runs.c): the widest cell up to a cap */
#define COL_WORKFLOW_MAX 32
#define COL_REF_MAX 24
#define COL_EVENT_MAX 19
#define COL_REPO_MAX 24
/* s in a column of `width` and two spaces: padded, or cut at a character
 * boundary with an ellipsis when longer (`last`: no padding) */
void runs_put_cell(struct buf *out, const char *s, size_t width, int last);
/* cur widened to s's width, at most max */
size_t runs_col_width(size_t cur, const char *s, size_t max);

int runs_remote(struct remote *rm, const struct runs_remote_opts *o);
/* one run and its jobs (ids, status, what a waiting job waits for) */
int run_view_remote(struct remote *rm, const char *run, int json);
/* print a run's (or one job's) stored log; follow: until the run completes */
int logs_remote(struct remote *rm, const char *run, const char *job, int follow, int stamped);

#endif
