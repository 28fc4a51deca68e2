/*
 * record: keeps a `kiln run` in the run history of the store (src/store/
 * runs.h) so `kiln runs` and `kiln logs` can show it: one run per workflow
 * (numbered per workflow, which is github.run_number), its jobs, steps and
 * masked logs. Recording never fails a run: store errors are reported once
 * and recording stops (the run's row is then closed with the reason, by
 * this kiln or by the next one: src/store/recover.c).
 *
 * Log lines are durable per event-loop turn: once attached to the loop,
 * the recorder stores what the turn's callbacks wrote (one transaction)
 * before the loop waits again, so a kiln killed with SIGKILL loses no
 * line it had received.
 */
#ifndef KILN_RECORD_H
#define KILN_RECORD_H

#include "store/sql.h"
#include <stdio.h>
#include <uv.h>

#include "engine/job.h"
#include "engine/sched.h"

struct recorder;

/*
 * A recorder for runs of the repository whose work tree is repo (may be
 * NULL) on *db, a store connection it takes over (*db is set to NULL;
 * one connection per `kiln run`: each open reads the schema and the WAL),
 * or, when *db is NULL, on the default store opened here. NULL (with a
 * message in err) when it cannot.
 */
struct recorder *recorder_open(struct db **db, const char *repo, struct buf *err);
/* what the runs it records are: kiln serve's repository name and event
 * (NULL, 0 for a local run) and github.run_attempt (1 unless re-run) */
void recorder_origin(struct recorder *r, const char *repo_name, int64_t event_id, int attempt);
/* store buffered log lines at the end of every turn of `loop` (until
 * recorder_finish, which closes the handle: run the loop once more
 * before closing it) */
void recorder_attach(struct recorder *r, uv_loop_t *loop);
/* close, marking unfinished runs with their conclusion so far */
void recorder_close(struct recorder *r);

/* a workflow of this run starts: its run number (1 when not recorded) */
int recorder_workflow(struct recorder *r, size_t wf_index, const char *file, const char *name,
		      const char *event, const char *ref, const char *sha);
/* job instances start and end (a skipped job only ends) */
void recorder_job_start(void *r, size_t wf_index, const char *job);
void recorder_job_end(void *r, size_t wf_index, const char *job, enum result res);
/* a job instance's outputs (before it ends), kept for a later attempt */
void recorder_job_outputs(void *r, const char *job, const struct ev *outputs);
/*
 * Re-running the failed jobs: load the jobs of the earlier attempt's run
 * run_id; recorder_reuse is then the scheduler's hook that reuses the
 * instances that succeeded or were skipped there (sched_opts.reuse).
 * With job (a display name, GitHub's "Re-run this job"): that job runs
 * again (and, by the scheduler, the jobs needing it); every other one
 * keeps its earlier result, failed and cancelled included.
 * 0 or -1 with err (no such run, no such job in it).
 */
int recorder_prior(struct recorder *r, int64_t run_id, const char *job, struct buf *err);
const struct sched_reuse *recorder_reuse(struct recorder *r);
/* a job's step summaries (before it ends) */
void recorder_job_summary(void *r, const char *job, const char *markdown);
/* the store ids of a recorded job instance (by display name); 0, or -1
 * when it is not recorded */
int recorder_job_ids(struct recorder *r, size_t wf_index, const char *job, int64_t *run_id,
		     int64_t *job_id);
/* the run id of workflow wf_index (0 when not recorded) */
int64_t recorder_run_id(struct recorder *r, size_t wf_index);
/* why workflow wf_index's run ends as it does (e.g. cancelled by its
 * concurrency group): kept as the run's reason */
void recorder_workflow_reason(struct recorder *r, size_t wf_index, const char *reason);
/* a started job's status in the history: "waiting" or "in_progress" */
void recorder_job_status(struct recorder *r, const char *job, const char *status);
/* executor events: steps and log lines (already masked) */
void recorder_log(void *r, const struct log_event *ev);
/* every workflow's run ends with its conclusion */
void recorder_finish(struct recorder *r);
/* sched_observer.wf_end: every job of workflow wf_index ended: its run is
 * closed now (a server run's CI is not "running" while the event's deploy
 * workflow waits for its reviewers); recorder_finish closes the others */
void recorder_workflow_end(void *arg, size_t wf_index);

#endif
