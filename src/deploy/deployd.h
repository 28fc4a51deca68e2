/*
 * deployd: the public face of the deploy controller: run it (kiln deployd)
 * and talk to it from the CLI over its unix socket, one JSON request line
 * in, JSON lines out (progress events, then {"done":true,"exit":N,...}).
 */
#ifndef KILN_DEPLOY_DEPLOYD_H
#define KILN_DEPLOY_DEPLOYD_H

#include "base/kiln.h"

#include "deploy/gitops.h"

struct deployd_opts {
	const char *state_dir; /* sqlite, haproxy config/socket/pid, instance logs */
	const char *apps_dir;  /* .kiln/apps */
	const struct gitops_opts *git; /* the apps come from a config repository; NULL = apps_dir */
};

/* run the controller until shut down; returns an exit code */
int deployd_run(const struct deployd_opts *o);

/* the controller socket of a state dir (caller frees) */
char *deployd_socket_path(const char *state_dir);

/*
 * Send one request (a JSON object) and stream the answer: progress
 * messages go to `progress` (may be NULL), the final message to *final.
 * Returns the exit code the controller chose, or 3 when it is unreachable
 * (message in *final).
 */
int deployd_request(const char *state_dir, const char *json, FILE *progress, struct buf *final);

#endif
