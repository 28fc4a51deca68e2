/*
 * exec: the executor's internals, shared by exec*.c. The public API is
 * engine/job.h (job_exec_start / job_exec_cancel / job_exec_free).
 *
 * A job is a stack of frames: the job's own steps at the bottom, one frame
 * per running composite action above it. Each frame walks its steps in
 * order; a step is a `run:` process, a composite action (a new frame), or a
 * built-in action; when a step completes the frame moves on, when a frame
 * completes its composite step in the parent frame completes.
 */
#ifndef KILN_EXEC_H
#define KILN_EXEC_H

#include <sys/types.h>
#include <uv.h>

#include "engine/builtin.h"
#include "engine/composite.h"
#include "engine/job.h"
#include "engine/mask.h"
#include "engine/proc.h"
#include "engine/workspace.h"

/* composite actions nested deeper than this fail (GitHub's limit is 10) */
#define EXEC_MAX_DEPTH 10

struct job_exec;
struct frame;

/* a built-in action's hook run at the end of the job */
struct exec_post {
	builtin_post_fn fn;
	void *data;
	char *name; /* "Post <step name>" (owned) */
};

/* one step while it runs */
struct step_run {
	struct job_exec *je;
	struct frame *fr;
	const struct wf_step *st;
	char *id;               /* steps.<id> key: user id or generated __run... */
	char *name;             /* display name (evaluated) */
	struct ev *env;         /* env context of the step (object of strings) */
	int continue_on_error;
	uint64_t timeout_ms;
	uint64_t start_ns;
	struct ev *outputs;     /* object being filled */
	int cmd_failed;         /* a workflow/file command failed the step */
	int cancelled;          /* killed by cancel */
	int timed_out;
	struct exec_cmd *cmd;   /* the process of a run: step, or NULL */
	char *script;           /* temp script path (removed at the end) */
	struct builtin_call *bcall; /* built-in action, or NULL */
	struct ev *with;        /* evaluated with: of a built-in action */
	struct strvec *benv;    /* process env given to a built-in action */
};

/* the steps of the job, or of one composite action */
struct frame {
	struct frame *parent;
	struct step_run *caller;   /* the composite step running this frame */
	const struct wf_step *steps;
	size_t nsteps, next;
	struct ev *steps_ctx;      /* steps context of this frame */
	struct ev *inputs;         /* inputs context (composite), or NULL */
	struct ev *env;            /* env every step of the frame starts from */
	struct composite *action;  /* owned definition (composite), or NULL */
	int failed;                /* a step of this frame concluded failure */
	int cancelled;             /* a step of this frame was cancelled */
	int timed_out;             /* the composite step's timeout-minutes expired */
	uv_timer_t *timer;         /* that timeout, or NULL (freed on close) */
	int depth;
	unsigned nrun;             /* generated ids handed out */
};

struct job_exec {
	uv_loop_t *loop;
	struct job_spec spec;      /* shallow copy; pointees borrowed */
	struct log_sink sink;
	job_done_cb done;
	void *arg;

	char *dir, *workspace, *temp, *tool_cache;
	char *f_output, *f_env, *f_path, *f_summary, *f_state;
	char *tracking;            /* RUNNER_TRACKING_ID=... marker for the sweep */
	struct strvec base_env;    /* environment every step starts from */
	struct masker *mask;
	struct ev *runner_ctx;
	struct ev *global_env;     /* workflow + job env + $GITHUB_ENV (strings) */
	struct strvec path_add;    /* $GITHUB_PATH entries, newest last */
	struct ev *state;          /* $GITHUB_STATE / save-state */
	struct buf summary;

	struct frame *top;         /* innermost frame */
	struct step_run *cur;      /* step running now, or NULL */
	int cancelled, timed_out, finished, debug;
	unsigned steps_run;        /* steps whose if: let them run so far */
	int setup_failed;          /* the job could not start: fails at once */
	int advancing, again;      /* advance() trampoline */
	uint64_t grace_ms;
	uv_timer_t job_timer;      /* job timeout */
	uv_timer_t kick;           /* deferred progress (start, built-ins) */
	int open_timers;
	pid_t *pgids;              /* process groups of the job's steps */
	size_t npgids, apgids;

	struct exec_post *posts;   /* built-in actions' job-end hooks */
	size_t nposts, aposts;

	/* workflow command state */
	char *stop_token;          /* commands suspended until ::TOKEN:: */
	int echo;                  /* ::echo::on */
	struct job_result result;
};

/* exec.c */
void exec__step_complete(struct step_run *sr, enum result outcome);
void exec__kick(struct job_exec *je);

/* exec_ctx.c: contexts and evaluation */
struct ev *exec__contexts(struct job_exec *je, struct frame *fr, const struct ev *env);
enum expr_status exec__status(struct job_exec *je, struct frame *fr);
/* ${{ }} template -> string (owned); NULL with err on an error */
char *exec__eval_str(struct job_exec *je, struct frame *fr, const struct ev *env,
		     const char *tmpl, struct buf *err);
/* evaluate a scalar node / template keeping its type; NULL on error */
struct ev *exec__eval_value(struct job_exec *je, struct frame *fr, const struct ev *env,
			    const char *tmpl, struct buf *err);
/* add the entries of an env: mapping (or expression) to obj (copy-on-write:
 * returns the new object, consumes obj) */
struct ev *exec__eval_env(struct job_exec *je, struct frame *fr, const struct ev *env,
			  const struct ynode *node, struct ev *obj, struct buf *err);
/* a copy of object o with key set to v (consumes o and v) */
struct ev *exec__obj_with(struct ev *o, const char *key, struct ev *v);

/* exec_log.c: events to the sink, always masked */
void exec__log(struct job_exec *je, enum log_kind kind, const char *step, const char *text,
	       size_t len);
void exec__logf(struct job_exec *je, enum log_kind kind, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void exec__annotate(struct job_exec *je, enum log_kind kind, const char *step, const char *text,
		    size_t len, const char *file, int line, int col, const char *title);
/* one output line of the running step: workflow commands or output */
void exec__step_line(struct step_run *sr, const char *line, size_t len);

/* exec_run.c: run: steps and file commands */
int exec__run_step(struct step_run *sr, struct buf *err);
/* create/truncate the per-step command files */
int exec__files_reset(struct job_exec *je, struct buf *err);
/* read the command files after a step; returns -1 when one was invalid */
int exec__files_process(struct step_run *sr);
/* the environment of a step's process */
void exec__proc_env(struct step_run *sr, struct strvec *out);

#endif
