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
