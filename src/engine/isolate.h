/*
 * isolate: host steps in a bubblewrap sandbox (`kiln run --isolate`):
 * the host's file system read-only, a private /tmp, the job's directory
 * (workspace, RUNNER_TEMP, the file-command files) writable, the run's
 * directory (event.json) read-only, its own pid namespace (nothing
 * outlives the step's sandbox), optionally no network.
 */
#ifndef KILN_ISOLATE_H
#define KILN_ISOLATE_H

#include "base/strvec.h"

/* 1 when bwrap is on PATH */
int isolate_available(void);

struct isolate_cfg {
	const char *job_dir;   /* writable */
	const char *run_dir;   /* read-only (also when under /tmp), or NULL */
	const char *tool_dir;  /* RUNNER_TOOL_CACHE: writable when it exists, or NULL */
	int no_network;
};

/* prefix argv with bwrap and its arguments (argv replaced) */
void isolate_wrap(const struct isolate_cfg *cfg, struct strvec *argv);

#endif
