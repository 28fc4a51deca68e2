/*
 * jobwire: one job, its log events and its result as JSON, for an executor
 * in another process or on another machine (kiln agent: docs/internals/
 * agents.md). The scheduler side encodes what job_exec_start needs (the
 * workflow file and job key to load from the run's source, the contexts
 * with the `secrets` context left out, the GITHUB_* environment, limits);
 * the agent decodes it, adds the secrets it was given with its lease and
 * runs job_exec_start. Log events and the result travel back the same way.
 */
#ifndef KILN_JOBWIRE_H
#define KILN_JOBWIRE_H

#include "base/buf.h"
#include "base/strvec.h"
#include "engine/job.h"

/* a decoded job */
struct jobwire {
	char *workflow;       /* the workflow file, relative to the source root */
	char *job;            /* its key in `jobs:` */
	char *name;           /* display name */
	char *key;            /* filename-safe key of the instance */
	struct ev *contexts;  /* without `secrets` */
	struct strvec env;    /* GITHUB_*, RUNNER_*, CI of the run */
	uint64_t timeout_ms;
	int verbose;
};

/* spec as JSON into out, its workflow file given relative to the source;
 * contexts.secrets is not written */
void jobwire_encode(const struct job_spec *spec, const char *workflow_rel, struct buf *out);
/* 0 or -1 with err */
int jobwire_decode(const char *json, struct jobwire *out, struct buf *err);
void jobwire_release(struct jobwire *w);

/* a log event as JSON (the job's name is not sent: the receiver knows it) */
void jobwire_log_encode(const struct log_event *ev, struct buf *out);
/* decode into ev, whose strings point into *hold (release it with
 * jobwire_log_free after using ev, also after a failure); 0 or -1 */
int jobwire_log_decode(const char *json, const char *job, struct log_event *ev, void **hold);
void jobwire_log_free(void *hold);

/* "success", ...; -1 for an unknown name */
int jobwire_result_parse(const char *name);

#endif
