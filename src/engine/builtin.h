/*
 * builtin: the registry of native built-in actions (`uses: actions/checkout@v4`
 * and friends, written in C and run inside kiln). An action is found by the
 * prefix of its `uses:` reference and runs asynchronously on the job's
 * loop: start() begins the work, the action calls c->complete() exactly
 * once (possibly from inside start) with its outcome and outputs.
 *
 * To add an action: write src/actions/<name>.c with a start function and
 * add one line to the table in engine/builtin.c.
 */
#ifndef KILN_BUILTIN_H
#define KILN_BUILTIN_H

#include <uv.h>

#include "base/strvec.h"
#include "engine/job.h"
#include "expr/expr.h"

struct builtin_call;
struct builtin_post;

/*
 * A hook run at the end of the job, after its last step (GitHub's post
 * steps: actions/cache saves there on a miss). Hooks run synchronously in
 * reverse order of registration, each exactly once, also when the job
 * failed or was cancelled (p->job_ok is 0 then), so they free `data`.
 */
typedef void (*builtin_post_fn)(void *data, const struct builtin_post *p);

struct builtin_post {
	int job_ok; /* every step so far succeeded (post-if: success()) */
	const char *name; /* "Post <step name>" */
	/* report a line (masked by the executor) */
	void (*log)(const struct builtin_post *p, enum log_kind kind, const char *text);
	void *exec_data;
};

struct builtin_action {
	const char *prefix;   /* "actions/checkout": matches "actions/checkout@<ref>" */
	/* begin; 0, or a negative KILN_E* code with a message in err (the
	 * step then fails at once and complete must not be called) */
	int (*start)(struct builtin_call *c, struct buf *err);
	/* stop early (job cancelled or step timed out); complete() still
	 * follows; may be NULL for actions that finish at once */
	void (*cancel)(struct builtin_call *c);
};

struct builtin_call {
	/* given to the action (borrowed, valid until complete) */
	const struct builtin_action *action;
	uv_loop_t *loop;
	const char *uses;          /* the reference as written */
	const struct ev *with;     /* object: evaluated with: inputs (strings) */
	const struct strvec *env;  /* the step's process environment */
	const char *workspace;     /* GITHUB_WORKSPACE */
	const char *temp;          /* RUNNER_TEMP */
	const char *repo_dir;      /* the repository the run is for */
	const char *run_dir;       /* per-run scratch directory (shared by the run's jobs) */
	const char *job_key;       /* unique, filename-safe key of the job instance */
	const struct ev *contexts; /* the job's contexts (github, matrix, ...), borrowed */
	/* no step ran before this one: the workspace still holds exactly the
	 * tree of the repository's HEAD as the executor checked it out */
	int workspace_pristine;
	/* prepend a directory to PATH for the following steps ($GITHUB_PATH) */
	void (*add_path)(struct builtin_call *c, const char *dir);
	/* set an environment variable for the following steps ($GITHUB_ENV) */
	void (*set_env)(struct builtin_call *c, const char *name, const char *value);
	/* mask `value` in every later output of the job (::add-mask::) */
	void (*add_mask)(struct builtin_call *c, const char *value);
	/* run fn(data) at the end of the job (see builtin_post_fn) */
	void (*at_job_end)(struct builtin_call *c, builtin_post_fn fn, void *data);
	/* report a line (masked by the executor) */
	void (*log)(struct builtin_call *c, enum log_kind kind, const char *text);
	/* finish: outcome RESULT_SUCCESS or RESULT_FAILURE; outputs is an
	 * object of strings or NULL (consumed) */
	void (*complete)(struct builtin_call *c, enum result outcome, struct ev *outputs);
	void *action_data;         /* the action's own state */
	void *exec_data;           /* the executor's */
};

/* the action registered for a `uses:` reference, or NULL */
const struct builtin_action *builtin_find(const char *uses);

#endif
