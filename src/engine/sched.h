/*
 * sched: runs a plan's jobs on a libuv loop. A job becomes ready when every
 * job it needs has finished; then its `if:` is evaluated (GitHub's status
 * rules over its ancestors), its matrix expanded (it may be an expression
 * over `needs`) and its instances queued. Instances start while fewer than
 * `parallel` run and fewer than the job's `max-parallel`. A failing matrix
 * instance cancels its siblings (`fail-fast`). Job outputs and results flow
 * to `needs.<id>` of the jobs that need it.
 *
 * Work per job is constant (counters and a ready list; no graph rescans).
 */
#ifndef KILN_SCHED_H
#define KILN_SCHED_H

#include <stdint.h>
#include <uv.h>

#include "engine/job.h"
#include "engine/output.h"
#include "engine/plan.h"
#include "engine/reuse.h"
#include "engine/runctx.h"

/* the executor, as the scheduler calls it (tests substitute their own) */
struct sched_exec_ops {
	int (*start)(uv_loop_t *loop, const struct job_spec *spec, const struct log_sink *sink,
		     job_done_cb done, void *arg, struct job_exec **out);
	void (*cancel)(struct job_exec *je, uint64_t grace_ms);
	void (*free)(struct job_exec *je);
	/* an executor with state (server/remote.c: jobs leased to agents):
	 * when set, called instead of start with `data` */
	int (*start_with)(void *data, uv_loop_t *loop, const struct job_spec *spec,
			  const struct log_sink *sink, job_done_cb done, void *arg,
			  struct job_exec **out);
	void *data;
};

/* who else hears about jobs (the run history); every callback optional */
struct sched_observer {
	void (*job_start)(void *arg, size_t wf_index, const char *name);
	void (*job_end)(void *arg, size_t wf_index, const char *name, enum result r);
	void (*log)(void *arg, const struct log_event *ev); /* executor events */
	void *arg;
	/* a job ended with step summaries ($GITHUB_STEP_SUMMARY Markdown) */
	void (*job_summary)(void *arg, const char *name, const char *markdown);
	/* a job instance ended with outputs (an object; before job_end) */
	void (*job_outputs)(void *arg, const char *name, const struct ev *outputs);
	/* every job of workflow wf_index has ended (after their job_end; not
	 * told by the nested schedulers of reusable-workflow calls) */
	void (*wf_end)(void *arg, size_t wf_index);
};

/*
 * Re-running the failed jobs of an earlier attempt (kiln serve's
 * `rerun --failed`): before an instance starts, when none of the jobs it
 * needs ran in this attempt, `find` is asked whether the earlier attempt's
 * instance of the same display name succeeded (or was skipped); then it
 * is not run again: it ends with that result and those outputs (*outputs
 * a new reference or NULL). Returns 1 to reuse, 0 to run. (Re-running one
 * job, `find` also reuses failures; a reused failure cancels no matrix
 * sibling.)
 */
struct sched_reuse {
	int (*find)(void *arg, const char *job, enum result *res, struct ev **outputs);
	void *arg;
};

/*
 * Deployment environments (kiln serve: src/server/jobgate.c). Asked before
 * an instance of a job with `environment:` starts, with the evaluated
 * name: proceed; wait (the instance shows `reason` and is asked again
 * after *retry_ms; cancelling the run ends it); or reject (it fails with
 * `reason`). `end` hears how every asked instance ended.
 */
enum sched_gate_verdict { SCHED_GATE_PROCEED, SCHED_GATE_WAIT, SCHED_GATE_REJECT,
			  SCHED_GATE_CANCEL /* concurrency: ends cancelled */ };
struct sched_gate {
	enum sched_gate_verdict (*ask)(void *arg, size_t wf_index, const char *job,
				       const char *environment, struct buf *reason,
				       uint64_t *retry_ms);
	void (*end)(void *arg, size_t wf_index, const char *job, enum result r);
	void *arg;
};

/*
 * `concurrency:` groups (engine/concurrency.c). Asked before an instance
 * starts (before the deployment gate) when its workflow or its job has
 * `concurrency:`, with the evaluated groups (NULL when that level has
 * none): proceed; wait (the instance shows `reason`, asked again after
 * *retry_ms); or cancel (it ends cancelled, `reason` logged). `end` hears
 * that an asked instance ended. The workflow-level group is evaluated
 * with github, inputs and vars; the job's with its full contexts (needs,
 * strategy, matrix), as GitHub does.
 */
struct sched_conc_group {
	const char *group;
	int cancel_in_progress;
};
struct sched_conc {
	enum sched_gate_verdict (*ask)(void *arg, size_t wf_index, const char *job,
				       const struct sched_conc_group *wf,
				       const struct sched_conc_group *job_group, struct buf *reason,
				       uint64_t *retry_ms);
	void (*end)(void *arg, size_t wf_index, const char *job);
	/* every job of workflow wf_index has finished (its group is free) */
	void (*wf_end)(void *arg, size_t wf_index);
	void *arg;
};

struct sched_opts {
	unsigned parallel;     /* jobs at once, >= 1 */
	uint64_t grace_ms;     /* cancel: SIGINT, then SIGKILL after this */
	int verbose;           /* pass ::debug:: lines */
	int isolate;           /* host steps in a bubblewrap sandbox: job_spec.isolate */
	const struct sched_exec_ops *ops; /* NULL = job_exec_start & co */
	const struct sched_observer *observer; /* or NULL */
	void (*done)(void *arg);          /* called once when every job has finished */
	void *done_arg;
	/* extension (reusable workflows): the run's calls, or NULL (a `uses:`
	 * job without a call fails); a nested scheduler's display-name prefix
	 * ("call" gives "call / build") and job-key prefix, or NULL */
	const struct reuse_set *calls;
	const char *prefix;
	const char *key_prefix;
	/* the repository of the workflow a nested scheduler runs when it is a
	 * remote or `$/` reusable workflow (job_spec.wf_src), else NULL */
	const struct action_source *wf_src;
	/* deployment environments, or NULL (kiln run: none) */
	const struct sched_gate *gate;
	/* concurrency groups, or NULL (none: `concurrency:` is ignored) */
	const struct sched_conc *conc;
	/* a nested scheduler whose caller holds a workflow-level group: it
	 * does not release that group when the callee's jobs end (wf_end) */
	int conc_wf_outer;
	/* the earlier attempt's successful jobs, or NULL (every job runs) */
	const struct sched_reuse *reuse;
};

struct sched;

/*
 * A scheduler for the selected jobs of `p`. `wf_contexts[i]` are the
 * starting contexts of workflow i (runctx_workflow_contexts), borrowed for
 * the scheduler's lifetime, as are p, rc and out.
 */
struct sched *sched_new(uv_loop_t *loop, const struct plan *p, struct runctx *rc,
			struct ev *const *wf_contexts, struct output *out,
			const struct sched_opts *opts);
/* queue the jobs without needs and start what may start */
void sched_start(struct sched *s);
/* cancel the run (Ctrl-C): force = 0 lets jobs finish their cancelled()/
 * always() steps (SIGKILL after the grace period), force = 1 kills now */
void sched_cancel(struct sched *s, int force);
/* cancel the started instances of workflow wf_index — every one, or the
 * one named `job` — logging `reason` as their error (concurrency's
 * cancel-in-progress); the instances that start later are the hook's to
 * cancel */
void sched_cancel_jobs(struct sched *s, size_t wf_index, const char *job, const char *reason);
/* ask every instance waiting at a gate (deployment or concurrency) again
 * now (kiln serve: a review or a deployment's end) */
void sched_wake(struct sched *s);
/* 1 when every job has finished */
int sched_finished(const struct sched *s);
/* the run's result: failure if any job failed, cancelled if the run or
 * one of its workflows was cancelled */
enum result sched_result(const struct sched *s);
/* conclusion of workflow `wf_index` of the plan (GitHub's workflow run
 * conclusion): failure when a job of it failed, cancelled when one was
 * cancelled, else success (skipped jobs do not count) */
enum result sched_workflow_result(const struct sched *s, size_t wf_index);
/* result of the job instance with this display name; -1 if none ran */
int sched_result_of(const struct sched *s, const char *display_name);
/* most job instances that ran at the same time */
unsigned sched_peak(const struct sched *s);
void sched_free(struct sched *s);

#endif
