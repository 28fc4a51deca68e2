/*
 * agent: `kiln agent`, a worker that leases jobs from a `kiln serve` and
 * runs them with the executor of `kiln run` (job_exec_start): see
 * docs/internals/agents.md. One libuv loop runs up to `jobs` jobs at once;
 * HTTP calls go through the thread pool (agent/client.h). Per job: the
 * run's source is downloaded once per blob (content addressed, kept in
 * <data>/cache like cache blobs) and unpacked into <data>/jobs/ID.ATTEMPT,
 * log events are numbered and uploaded in order (resent after a network
 * error; the server ignores what it has), heartbeats renew the lease and
 * carry cancellation, and the result ends the job. A 409 `lease_lost`
 * answer stops the job here: the server gave it to another agent.
 */
#ifndef KILN_AGENT_AGENT_H
#define KILN_AGENT_AGENT_H

#include "base/buf.h"

struct agent_opts {
	const char *server;   /* base URL, no trailing slash */
	const char *token;    /* the agent token (kagt_...) */
	const char *name;     /* RUNNER_NAME */
	const char *data_dir; /* jobs, source blobs */
	unsigned jobs;        /* jobs at once */
	int isolate;          /* 1: --isolate (bubblewrap), 2: and no network */
	unsigned max_jobs;    /* stop after this many jobs (0: never) */
};

/* run until SIGTERM/SIGINT (or max_jobs); an EXIT_* code, err says why */
int agent_main(const struct agent_opts *o, struct buf *err);

/*
 * Registration: exchange the registration token for an agent token
 * (appended to token_out) with this name and labels; 0, or an EXIT_* code
 * with err. Blocking.
 */
int agent_register(const char *server, const char *reg_token, const char *name,
		   const char *labels, struct buf *token_out, struct buf *err);

#endif
