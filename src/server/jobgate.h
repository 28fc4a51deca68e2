/*
 * jobgate: the deployment gate of a run that `kiln serve` started (`kiln
 * run --server-repo NAME`): the scheduler's sched_gate hook (engine/sched.h)
 * answered by env_gate (server/env.h) on the run's own store connection.
 * A waiting job shows "waiting" in the run history and asks again every
 * second (an approval made through the server's API is seen at the next
 * ask) or at its wait timer; its end finishes the deployment (DORA's
 * record). Also loads the repository's and environments' secrets for the
 * run.
 */
#ifndef KILN_SERVER_JOBGATE_H
#define KILN_SERVER_JOBGATE_H

#include <stdint.h>

#include "base/buf.h"
#include "engine/sched.h"

struct recorder;
struct secret_map;
struct ev;

struct jobgate_cfg {
	const char *repo;     /* the server's repository name */
	const char *actor;    /* who triggered the run */
	const char *ref, *sha;
	const char *repo_dir; /* the work tree (the commit's time for lead time) */
	struct recorder *rec; /* the run history: run and job ids, "waiting" */
};

struct jobgate;
/* 0 or -1 with err (store) */
int jobgate_new(const struct jobgate_cfg *cfg, struct jobgate **out, struct buf *err);
const struct sched_gate *jobgate_hook(struct jobgate *g);
void jobgate_free(struct jobgate *g);

/*
 * The secrets of a run of repository `repo`: the repository's own into
 * repo_level, and an object environment name -> secrets (the repository's
 * with the environment's over them, then `over` on top) into *env_objects
 * (NULL when none). 0 or -1 with err.
 */
int jobgate_secrets(const char *repo, struct secret_map *repo_level,
		    const struct secret_map *over, struct ev **env_objects, struct buf *err);

#endif
