/*
 * agentexec: the executor of a server run (`kiln run --server-repo NAME
 * --agents MODE`) that hands jobs to `kiln agent` workers instead of running
 * them here (docs/internals/agents.md). The scheduler is unchanged: it
 * calls its start (sched_exec_ops.start_with) like job_exec_start;
 * a job for an agent becomes a queued row of agent_jobs (store/agents.h:
 * its spec without secrets, the secrets sealed, the run's source as a
 * tar+zstd blob), and agentexec replays the log events agents upload into the
 * run's sink and ends the job with the agent's result, outputs and summary.
 * Other jobs run here with job_exec_start.
 */
#ifndef KILN_SERVER_AGENTEXEC_H
#define KILN_SERVER_AGENTEXEC_H

#include "base/buf.h"
#include "engine/sched.h"

enum agents_mode {
	AGENTS_OFF = 0,
	AGENTS_SELF_HOSTED, /* jobs whose runs-on has the label self-hosted */
	AGENTS_ALL,         /* every job */
};
/* "off", "self-hosted", "all": 0 and *out, or KILN_EINVAL */
int agents_mode_parse(const char *s, enum agents_mode *out);
const char *agents_mode_name(enum agents_mode m);

struct agentexec;
struct recorder;
struct agentexec_cfg {
	const char *repo;         /* the server's repository name */
	enum agents_mode mode;
	const char *repo_dir;     /* the work tree (workflow files are relative to it) */
	const char *snapshot_dir; /* the run's files, sent to agents */
	struct recorder *rec;     /* the run's history: a job row names its run and job, or NULL */
};
/* open the store and the secret key; 0 or -1 with err */
int agentexec_new(const struct agentexec_cfg *cfg, struct agentexec **out, struct buf *err);
const struct sched_exec_ops *agentexec_ops(struct agentexec *r);
/* after the scheduler is freed; run the loop once more after it (its
 * timer closes) */
void agentexec_free(struct agentexec *r);

#endif
