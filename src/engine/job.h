/*
 * job: the contract between the scheduler (plan, ready queue, output) and
 * the executor (workspace, steps, processes, workflow commands).
 *
 * The scheduler decides WHICH job runs WHEN and with WHAT contexts; the
 * executor runs ONE job to completion on the caller's libuv loop and
 * reports what happened through a sink and a done callback.
 *
 * Contract shared by the scheduler side (plan.c, sched.c, output.c,
 * cli/run.c) and the executor side (exec*.c). Extend; do not change
 * meanings.
 */
#ifndef KILN_JOB_H
#define KILN_JOB_H

#include <uv.h>

#include "base/strvec.h"
#include "expr/expr.h"
#include "workflow/workflow.h"

/* results of steps and jobs (GitHub: success, failure, cancelled, skipped) */
enum result { RESULT_SUCCESS, RESULT_FAILURE, RESULT_CANCELLED, RESULT_SKIPPED };
const char *result_name(enum result r);

/* what a log event is */
enum log_kind {
	LOG_OUTPUT,      /* a line a step printed (already masked) */
	LOG_STEP_START,  /* text = step display name */
	LOG_STEP_END,    /* text = step display name; see .result */
	LOG_GROUP,       /* ::group:: title */
	LOG_ENDGROUP,
	LOG_ERROR,       /* ::error:: annotation / executor error; see .file/.line */
	LOG_WARNING,
	LOG_NOTICE,
	LOG_DEBUG,       /* ::debug:: (shown only when asked) */
	LOG_INFO,        /* kiln's own messages about the job */
	LOG_ARTIFACT,    /* an artifact was uploaded: text is "NAME\tSIZE\tFILES\tDIGEST\tDAYS"
			  * (actions/upload-artifact; the run history records it) */
};

struct log_event {
	enum log_kind kind;
	const char *job;        /* display name of the job */
	const char *step;       /* display name of the step, or NULL */
	const char *text;       /* NUL-terminated, no trailing newline */
	size_t len;
	enum result result;     /* for LOG_STEP_END */
	const char *file;       /* annotations: file=, or NULL */
	int line, col;          /* annotations: line=, col=, or 0 */
	const char *title;      /* annotations: title=, or NULL */
	uint64_t elapsed_ns;    /* for LOG_STEP_END */
};

struct log_sink {
	void (*event)(void *arg, const struct log_event *ev);
	void *arg;
};

/*
 * Where the files of a `uses:` action are, as an action resolver finds
 * them (remote actions fetched into a cache, ...). Local `./path` actions
 * and built-in actions never reach a resolver.
 */
struct action_source {
	char *dir;        /* the action's directory: GITHUB_ACTION_PATH (owned) */
	char *repository; /* "owner/repo": GITHUB_ACTION_REPOSITORY (owned) */
	char *ref;        /* the ref as written after '@': GITHUB_ACTION_REF (owned) */
};
void action_source_release(struct action_source *s);

struct action_resolver {
	/*
	 * Find the action `uses` ("owner/repo[/path]@ref"). Returns 1 with *out
	 * filled (the executor runs the action.yml in out->dir as it runs a
	 * local one, and releases *out), 0 when the resolver does not handle
	 * it (the step fails with kiln's message), or -1 with a message in
	 * err (the step fails with it). Called on the job's loop, at job start
	 * for the job's own steps (their `pre` runs then, as on GitHub) and
	 * again when the step runs: cache what was fetched.
	 */
	int (*resolve)(const struct action_resolver *r, const char *uses,
		       struct action_source *out, struct buf *err);
	void *data;
};

struct jobdir_pool;

/* everything the executor needs to run one (matrix-expanded) job */
struct job_spec {
	const struct workflow *wf;
	const struct wf_job *job;
	const char *job_id;        /* the job's key in `jobs:` */
	const char *display_name;  /* "build (18, ubuntu)" */
	/* contexts known before the job starts: github, vars, secrets,
	 * inputs, matrix, strategy, needs, and env (workflow-level env,
	 * already evaluated). The executor adds job, runner, steps and
	 * the job's own env. Borrowed for the job's lifetime. */
	const struct ev *contexts;
	const char *repo_dir;      /* the repository the run is for */
	const char *snapshot_dir;  /* the run's files, copied into each job's workspace;
				      NULL = check out github.sha from repo_dir */
	int snapshot_take;         /* move snapshot_dir to the workspace instead of
				      copying it (the run's only job: runctx.h) */
	struct jobdir_pool *jobdirs; /* finished jobs' directories to reuse (jobdir.h),
					or NULL (borrowed) */
	const char *run_dir;       /* per-run scratch dir (the executor makes
				      <run_dir>/<job-key>/ for workspace, temp, files) */
	const char *job_key;       /* unique, filename-safe key of this job instance */
	const struct strvec *base_env; /* process env + GITHUB_* defaults for the run */
	uint64_t timeout_ms;       /* 0 = none (timeout-minutes already evaluated) */
	int verbose;               /* show ::debug:: lines */
	/* 1: host steps run in a bubblewrap sandbox (engine/isolate.c), 2: and
	 * without network */
	int isolate;
	const struct action_resolver *actions; /* remote actions, or NULL (borrowed) */
	/* the repository and ref of the workflow when it is a remote or `$/`
	 * reusable workflow (its `$/`), NULL = the run's repository (borrowed) */
	const struct action_source *wf_src;
	size_t wf_index;           /* the workflow's place in the run (the recorder's) */
};

struct job_result {
	enum result result;       /* the job's conclusion */
	struct ev *outputs;       /* object: job outputs (evaluated), owned */
	char *summary;            /* concatenated GITHUB_STEP_SUMMARY markdown, owned or NULL */
};

struct job_exec; /* opaque, owned by the executor */

typedef void (*job_done_cb)(struct job_exec *je, const struct job_result *res, void *arg);

/*
 * Start running a job on `loop`. Events go to `sink` as they happen;
 * `done` is called exactly once, after every process of the job has
 * exited, with the result (valid only during the callback). The caller
 * frees the handle with job_exec_free() after `done`.
 */
int job_exec_start(uv_loop_t *loop, const struct job_spec *spec, const struct log_sink *sink,
		   job_done_cb done, void *arg, struct job_exec **out);
/* cancel: SIGINT to running steps, SIGKILL to the process group after
 * grace_ms; `if: cancelled()` / always() steps still run. */
void job_exec_cancel(struct job_exec *je, uint64_t grace_ms);
void job_exec_free(struct job_exec *je);

#endif
