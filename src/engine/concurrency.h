/*
 * concurrency: the scheduler's `concurrency:` hook (sched_conc) on the
 * store's groups (store/concurrency.h), so a group holds across every run
 * of the store — the runs `kiln serve` starts for a repository, and local
 * `kiln run`s of one work tree — and within one run (job-level groups).
 *
 * A workflow-level group is asked once per workflow run (its jobs wait
 * for it together); a job-level group once per job instance and released
 * when it ends. While the run holds groups, a 1 s timer looks whether a
 * newer request with cancel-in-progress asked it to cancel; it then
 * cancels the job, or every job of the workflow, with GitHub's reason
 * ("Canceling since a higher priority waiting request for 'G' exists"),
 * which also becomes the workflow run's reason. A workflow-level group is
 * released when the workflow's last job ends (another workflow of the same
 * `kiln run` may still be running).
 * Needs the run history (the rows name recorded runs): without a recorder
 * there is no hook and `concurrency:` is not enforced.
 */
#ifndef KILN_ENGINE_CONCURRENCY_H
#define KILN_ENGINE_CONCURRENCY_H

#include <uv.h>

#include "base/buf.h"
#include "engine/sched.h"

struct recorder;
struct conc_hook;

/* scope: the server's repository name, or the work tree of a local run;
 * NULL (with err) when the store cannot be opened */
struct conc_hook *conc_hook_new(uv_loop_t *loop, struct recorder *rec, const char *scope,
				struct buf *err);
const struct sched_conc *conc_hook_sched(struct conc_hook *h);
/* the scheduler to cancel jobs of (after sched_new) */
void conc_hook_attach(struct conc_hook *h, struct sched *s);
/* release every group; closes the timer (run the loop once after) */
void conc_hook_free(struct conc_hook *h);

#endif
