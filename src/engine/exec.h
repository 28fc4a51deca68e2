/*
 * exec: the executor's internals, shared by exec*.c. The public API is
 * engine/job.h (job_exec_start / job_exec_cancel / job_exec_free).
 *
 * A job is a stack of frames: the job's own steps at the bottom, one frame
 * per running composite action above it. Each frame walks its steps in
 * order; a step is a `run:` process, a composite action (a new frame), a
 * JavaScript action (a node process) or a built-in action; when a step
 * completes the frame moves on, when a frame completes its composite step
 * in the parent frame completes.
 *
 * Around the main steps, as on GitHub: the `pre` stages of the job's
 * remote JavaScript actions run first (PHASE_PRE), and the post steps
 * registered while the job ran (JavaScript `post`, built-ins' hooks) run
 * last, newest first (PHASE_POST). See exec_action.c.
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
/* a `run:` step's script: <temp>/.kiln-step<ext>, emptied after the step */
#define EXEC_SCRIPT_BASE ".kiln-step"

struct job_exec;
struct frame;
struct podman;

/* which stage of an action a step runs */
enum stage { STAGE_MAIN, STAGE_PRE, STAGE_POST };

/* one use of a JavaScript action in the job: what its stages share */
struct action_run {
	struct action_source src;  /* dir; repository/ref NULL for a local action (owned) */
	struct composite *def;     /* its action.yml: def->js has the scripts (owned) */
	char *step_id;             /* the step's id: GITHUB_ACTION */
	char *name;                /* the step's display name (set when it runs) */
	struct ev *inputs;         /* evaluated inputs (object of strings) */
	struct ev *env;            /* env: of the step and its composite callers */
	struct ev *state;          /* $GITHUB_STATE / save-state: STATE_* of later stages */
	size_t *path, npath;       /* at_start: step indexes from the job's steps down
				      through fetched composites to the action's step */
	int at_start;              /* its pre stage runs at job start (PHASE_PRE) */
	int post_registered;       /* its post is on the job's post stack */
	int image_built;           /* Docker action: its Dockerfile was built by this job */
	char *ctr_dir;             /* its copy in the job directory for the job container */
};

/* a step run at the end of the job: a JavaScript post or a built-in's hook */
struct exec_post {
	struct action_run *ar;     /* JavaScript post (borrowed from the job), or NULL */
	builtin_post_fn fn;        /* a built-in's hook when ar is NULL */
	void *data;
	char *name;                /* "Post <step name>" (owned) */
	char *group;               /* shown inside this step (composite), or NULL (owned) */
	size_t group_step;         /* that job step's index + 1, or 0 */
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
	struct action_run *ar;  /* JavaScript action (borrowed from the job), or NULL */
	enum stage stage;       /* STAGE_PRE / STAGE_POST: outside the frames' steps */
	int no_isolate;         /* a podman client: never in the --isolate sandbox */
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
	struct action_source src;  /* where the composite came from (owned; empty for the job) */
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
	struct buf summary;

	struct frame *top;         /* innermost frame */
	struct step_run *cur;      /* step running now, or NULL */
	int cancelled, timed_out, finished, debug;
	unsigned steps_run;        /* steps whose if: let them run so far */
	const char *start_untold;  /* a run: step whose LOG_STEP_START waits for
				    * its process to be spawned (exec.md), or NULL */
	int setup_failed;          /* the job could not start: fails at once */
	int advancing, again;      /* advance() trampoline */
	uint64_t grace_ms;
	uv_timer_t job_timer;      /* job timeout */
	uv_timer_t kick;           /* deferred progress (start, built-ins) */
	int open_timers;
	pid_t *pgids;              /* process groups of the job's steps */
	size_t npgids, apgids;

	enum { PHASE_PRE, PHASE_MAIN, PHASE_POST } phase;
	struct action_run **actions; /* JavaScript actions used so far (owned) */
	size_t nactions, aactions;
	size_t next_pre;           /* PHASE_PRE: next entry of actions to look at */
	struct exec_post *posts;   /* post steps: a stack, newest last */
	size_t nposts, aposts;
	char *group;               /* the step a running pre/post stage is shown in */
	size_t group_step;         /* its job step's index + 1 */
	uint64_t group_start_ns;
	enum result group_result;

	/* workflow command state */
	char *stop_token;          /* commands suspended until ::TOKEN:: */
	int echo;                  /* ::echo::on */
	struct svc_set *svc;       /* services: containers (services.c), or NULL */
	struct podman *pm;         /* podman for Docker steps (exec_docker.c), or NULL */
	int svc_waiting;           /* steps wait until the services are ready */
	struct job_result result;
};

/* exec.c */
void exec__step_complete(struct step_run *sr, enum result outcome);
void exec__kick(struct job_exec *je);
/* frames outside the trampoline (pre stages of fetched composites) */
struct frame *exec__frame_new(struct frame *parent, const struct wf_step *steps, size_t n);
void exec__frame_free(struct frame *f);
/* the steps.<id> key of st in frame fr: its id, or GitHub's generated one */
char *exec__step_id(struct frame *fr, const struct wf_step *st);
/* a step_run for `st` (NULL for a post step) in frame fr */
struct step_run *exec__step_new(struct job_exec *je, struct frame *fr, const struct wf_step *st);
void exec__step_free(struct step_run *sr);
/* LOG_STEP_END for step `name` */
void exec__step_end_event(struct job_exec *je, const char *name, enum result r, uint64_t start_ns);
/* the evaluated with: of step sr (object of strings); NULL with err */
struct ev *exec__eval_with(struct step_run *sr, struct buf *err);
/* display name of step st: its name: evaluated, or GitHub's "Run ..." */
char *exec__step_display_name(struct job_exec *je, struct frame *fr, const struct wf_step *st,
			      const struct ev *env);
/* the env a step of fr starts from: the job's, then the composite callers' */
struct ev *exec__frame_env(struct job_exec *je, struct frame *fr);
/* `$/path` of a step in frame fr as the resolver takes it (see exec.c) */
const char *exec__self_uses(struct job_exec *je, struct frame *fr, const char *uses,
			    struct buf *tmp);
/* evaluated inputs of action a for the step's with: (defaults applied,
 * unexpected inputs warned); consumes nothing */
struct ev *exec__action_inputs(struct step_run *sr, const struct composite *a,
			       const struct ev *with);
/* the env: of the composite steps that called fr, outermost first, with
 * `step_env` on top: what a post step adds to the job's env */
struct ev *exec__env_overlay(struct frame *fr, const struct ev *step_env);

/* exec_action.c: JavaScript actions, pre and post stages */
/* run the JavaScript action a (consumed, as is src) for step sr */
void exec__start_js(struct step_run *sr, struct composite *a, struct action_source *src,
		    struct ev *with, struct ev *step_env);
/* PHASE_PRE at job start: resolve the job's remote actions, find pre stages */
void exec__pre_prepare(struct job_exec *je);
/* start the next pre (PHASE_PRE) or post (PHASE_POST) stage: 1 when one
 * was started or skipped (call again via the trampoline), 0 when none is left */
int exec__pre_next(struct job_exec *je);
int exec__post_next(struct job_exec *je);
/* a pre/post stage step finished */
void exec__stage_complete(struct step_run *sr, enum result outcome);
/* register a built-in's hook as a post step of step sr */
void exec__post_builtin(struct step_run *sr, builtin_post_fn fn, void *data);
/* ::save-state:: / $GITHUB_STATE of the running step */
void exec__save_state(struct step_run *sr, const char *name, const char *value, size_t len);
/* free the job's actions and the post steps that did not run */
void exec__actions_release(struct job_exec *je);

/* exec_docker.c: `uses: docker://IMAGE`; with and step_env consumed;
 * the step completes through exec__step_complete */
void exec__start_docker(struct step_run *sr, const char *image, struct ev *with,
			struct ev *step_env);
/* a stage of the Docker action sr->ar: its image and runs.args, with
 * `entry` as the entrypoint (pre-/post-entrypoint; NULL: runs.entrypoint),
 * INPUT_* and STATE_*; completes the step */
void exec__docker_stage(struct step_run *sr, const char *entry);

/* exec_ctx.c: contexts and evaluation */
struct ev *exec__contexts(struct job_exec *je, struct frame *fr, const struct ev *env);
enum expr_status exec__status(struct job_exec *je, struct frame *fr);
/* ${{ }} template -> string (owned); NULL with err on an error */
char *exec__eval_str(struct job_exec *je, struct frame *fr, const struct ev *env,
		     const char *tmpl, struct buf *err);
/* a whole YAML node as a value, every `${{ }}` in it evaluated (plan_value);
 * NULL with err and the position of the failing node */
struct ev *exec__eval_node(struct job_exec *je, struct frame *fr, const struct ev *env,
			   const struct ynode *n, struct buf *err, int *line, int *col);
/* evaluate a scalar node / template keeping its type; NULL on error */
struct ev *exec__eval_value(struct job_exec *je, struct frame *fr, const struct ev *env,
			    const char *tmpl, struct buf *err);
/* add the entries of an env: mapping (or expression) to obj (copy-on-write:
 * returns the new object, consumes obj); keys may be expressions and
 * `${{ insert }}`; an error's message starts with file:line:col */
struct ev *exec__eval_env(struct job_exec *je, struct frame *fr, const struct ev *env,
			  const struct ynode *node, struct ev *obj, struct buf *err);
/* the same, but an error's message has no position: *where is the node it
 * is about (a pair's key or value, or the env itself) */
struct ev *exec__eval_env_at(struct job_exec *je, struct frame *fr, const struct ev *env,
			     const struct ynode *node, struct ev *obj, struct buf *err,
			     const struct ynode **where);
/* a copy of object o with key set to v (consumes o and v) */
/* prefix err with "file:line:col: " of node `at` (the frame's action file,
 * else the workflow's); nothing when at is NULL */
void exec__err_at(const struct job_exec *je, const struct frame *fr, const struct ynode *at,
		  struct buf *err);
struct ev *exec__obj_with(struct ev *o, const char *key, struct ev *v);

/* exec_log.c: events to the sink, always masked */
void exec__log(struct job_exec *je, enum log_kind kind, const char *step, const char *text,
	       size_t len);
void exec__logf(struct job_exec *je, enum log_kind kind, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* tell the sink the start of the step in je->start_untold (if any) */
void exec__tell_start(struct job_exec *je);
void exec__annotate(struct job_exec *je, enum log_kind kind, const char *step, const char *text,
		    size_t len, const char *file, int line, int col, const char *title);
/* one output line of the running step: workflow commands or output */
void exec__step_line(struct step_run *sr, const char *line, size_t len);

/* exec_run.c: run: steps and file commands */
int exec__run_step(struct step_run *sr, struct buf *err);
/* start argv (consumed) as the step's process in cwd with env (consumed);
 * 0, or -1 with err (nothing started) */
int exec__spawn(struct step_run *sr, struct strvec *argv, struct strvec *env, const char *cwd,
		struct buf *err);
/* `prog` looked up in a PATH value; owned result or NULL */
char *exec__which(const char *prog, const char *path);
/* create/truncate the per-step command files */
int exec__files_reset(struct job_exec *je, struct buf *err);
/* read the command files after a step; returns -1 when one was invalid */
int exec__files_process(struct step_run *sr);
/* the environment of a step's process */
void exec__proc_env(struct step_run *sr, struct strvec *out);

#endif
