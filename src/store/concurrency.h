/*
 * concurrency: GitHub Actions' `concurrency:` groups in the store (table
 * concurrency, migration 19), so runs of separate kiln processes — every
 * run of `kiln serve`, and local runs of one work tree — share them. A
 * group is (scope, name): the scope is the server's repository name, or
 * the work tree of a local run. Each holder is a row: a workflow run
 * (job "") or a job instance (its display name) of a recorded run.
 *
 *   pending    waiting for the group
 *   running    holds it
 *   cancel     holds it, asked to cancel (a newer one with
 *              cancel-in-progress came); its owner cancels it
 *   cancelled  a pending one replaced by a newer pending one (at most one
 *              pending per group, as on GitHub)
 *   done       released
 *
 * A row only counts while its run is in_progress: the runs of a dead kiln
 * are closed by store_recover (store/recover.h), which frees their groups.
 * A workflow-level row of a run never blocks that run's own jobs.
 */
#ifndef KILN_STORE_CONCURRENCY_H
#define KILN_STORE_CONCURRENCY_H

#include "store/sql.h"
#include <stdint.h>

#include "base/buf.h"

enum conc_state { CONC_PENDING, CONC_RUNNING, CONC_CANCEL, CONC_CANCELLED, CONC_DONE };

/*
 * Ask for group `grp` of `scope` for run_id (job "" for the workflow run,
 * else the job's display name): the row is added pending, an older pending
 * row of the group is cancelled, with cancel_in_progress the running ones
 * are asked to cancel, and the row is promoted to running when nothing
 * holds the group. *id and *state set. 0 or -1 with err.
 */
int conc_enter(struct db *db, const char *scope, const char *grp, int64_t run_id, const char *job,
	       int cancel_in_progress, int64_t *id, enum conc_state *state, struct buf *err);
/* the row's state now (a pending row is promoted when the group is free);
 * the reason of a cancel/cancelled row into reason. 0 or -1 */
int conc_poll(struct db *db, int64_t id, enum conc_state *state, struct buf *reason,
	      struct buf *err);
/* release (done); 0 or -1 */
int conc_leave(struct db *db, int64_t id, struct buf *err);

#endif
