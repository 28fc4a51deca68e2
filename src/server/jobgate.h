/*
 * jobgate: the deployment gate of a run that `kiln serve` started (`kiln
 * run --server-repo NAME`): the scheduler's sched_gate hook (engine/sched.h)
 * answered by env_gate (server/env.h) on the run's own store connection.
 * A waiting job shows "waiting" in the run history and asks again when
 * kiln serve wakes its run (SIGURG on a review or a deployment's end,
 * sched_wake), at its wait timer, or every 10 s as a safety net; its end
 * finishes the deployment (DORA's
 * record). Also loads the repository's and environments' secrets for the
 * run.
 */
#ifndef KILN_SERVER_JOBGATE_H
#define KILN_SERVER_JOBGATE_H

#include <stdint.h>

#include "base/buf.h"
#include "engine/sched.h"

#include <uv.h>

struct recorder;
struct secret_map;
struct ev;

struct jobgate_cfg {
	const char *repo;     /* the server's repository name */
	const char *actor;    /* who triggered the run */
	const char *ref, *sha;
	const char *repo_dir; /* the work tree (the commit's time for lead time) */
	struct recorder *rec; /* the run history: run and job ids, "waiting" */
	/* notifications (server/notify.h): sent on this loop, masked with
	 * the run's secrets (may be NULL: none) */
	uv_loop_t *loop;
	const struct ev *secrets;     /* the run's secrets object */
	const struct ev *env_secrets; /* environment -> secrets object */
};

struct jobgate;
/* 0 or -1 with err (store) */
int jobgate_new(const struct jobgate_cfg *cfg, struct jobgate **out, struct buf *err);
const struct sched_gate *jobgate_hook(struct jobgate *g);
/* workflow `name` (run wf_index) ended: run.success / run.failure
 * notifications (a cancelled run sends none) */
void jobgate_run_end(struct jobgate *g, size_t wf_index, const char *name, enum result r);
/* run the loop until every notification is delivered or given up, then
 * close the sender (bounded by the sender's attempts and back-off) */
void jobgate_flush(struct jobgate *g, uv_loop_t *loop);
void jobgate_free(struct jobgate *g);

/*
 * The secrets of a run of repository `repo`: the repository's own into
 * repo_level, and an object environment name -> secrets (the repository's
 * with the environment's over them, then `over` on top) into *env_objects
 * (NULL when none). 0 or -1 with err.
 */
int jobgate_secrets(const char *repo, struct secret_map *repo_level,
		    const struct secret_map *over, struct ev **env_objects, struct buf *err);

/*
 * The `vars` of a run of repository `repo`: *repo_vars gets the
 * repository's variables with `over` (the run's own, --var) on top, and
 * *env_vars an object environment name -> that plus the environment's
 * variables (NULL when none). 0 or -1 with err.
 */
int jobgate_vars(const char *repo, const struct ev *over, struct ev **repo_vars,
		 struct ev **env_vars, struct buf *err);

#endif
