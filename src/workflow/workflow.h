/*
 * workflow: the model of one GitHub Actions workflow file, as loaded and
 * validated from YAML. Everything the engine evaluates at run time
 * (expressions, matrix, env maps, with:) is kept as the positioned YAML node
 * it came from, so errors found later still point at file:line:col.
 *
 * Ownership: a struct workflow owns its YAML tree (root) and every string
 * in it; nodes referenced from the model point into that tree. Free it all
 * with wf_free().
 *
 * Contract shared by src/workflow (loader, owner of this file) and
 * src/engine (consumer). Extend; do not change meanings.
 */
#ifndef KILN_WORKFLOW_H
#define KILN_WORKFLOW_H

#include <stddef.h>

#include "base/diag.h"
#include "yaml/ynode.h"

/* a string taken from the YAML with where it stood */
struct wf_str {
	char *s;       /* owned; NULL when absent */
	int line, col; /* position of the value node (1-based), 0 if synthetic */
};

struct wf_step {
	size_t index;            /* 0-based position in the job */
	struct wf_str id;        /* user id, or NULL: the engine names it __run, __run_2, ... */
	struct wf_str name;      /* may contain ${{ }} */
	struct wf_str if_cond;   /* raw `if:` text (with or without ${{ }}), NULL = success() */
	struct wf_str run;       /* script, NULL for uses: steps */
	struct wf_str uses;      /* action reference, NULL for run: steps */
	struct wf_str shell;     /* NULL = job/workflow default */
	struct wf_str working_directory;
	const struct ynode *env;               /* mapping or expression string, or NULL */
	const struct ynode *with;              /* mapping, or NULL */
	const struct ynode *continue_on_error; /* bool or expression scalar, or NULL */
	const struct ynode *timeout_minutes;   /* number or expression scalar, or NULL */
	const struct ynode *node;              /* the step's mapping */
	/* extension (loader): GitHub's generated id when `id` is absent
	 * (__run, __run_2, __actions_checkout); owned. wf_step_id() picks. */
	char *auto_id;
};

struct wf_strategy {
	const struct ynode *matrix;       /* mapping, or an expression scalar, or NULL */
	const struct ynode *fail_fast;    /* bool/expression scalar, NULL = true */
	const struct ynode *max_parallel; /* number/expression scalar, NULL = unlimited */
};

struct wf_defaults_run {
	struct wf_str shell;
	struct wf_str working_directory;
};

struct wf_job {
	struct wf_str id;
	struct wf_str name;        /* NULL = id; may contain ${{ }} */
	struct wf_str *needs;      /* job ids, in written order */
	size_t nneeds;
	struct wf_str if_cond;     /* NULL = success() */
	const struct ynode *runs_on;     /* string, sequence, mapping or expression */
	const struct ynode *environment; /* string or {name, url}, or NULL */
	const struct ynode *env;
	const struct ynode *outputs;     /* mapping name -> expression string */
	const struct ynode *timeout_minutes;
	const struct ynode *continue_on_error;
	const struct ynode *concurrency;
	const struct ynode *permissions;
	const struct ynode *container;
	const struct ynode *services;
	struct wf_defaults_run defaults;
	struct wf_strategy strategy;
	struct wf_step *steps;
	size_t nsteps;
	struct wf_str uses;              /* reusable workflow call, else NULL */
	const struct ynode *with;        /* inputs for `uses:` jobs */
	const struct ynode *secrets;     /* mapping or scalar "inherit" */
	const struct ynode *node;        /* the job's mapping */
	/* extension (loader): jobs the matrix expands to (1 without a matrix),
	 * or -1 when it depends on an expression and is known only at run time */
	long matrix_jobs;
};

struct wf_trigger {
	struct wf_str event;        /* push, pull_request, schedule, ... */
	const struct ynode *config; /* the event's mapping / sequence, or NULL */
};

/*
 * extension (loader): one `${{ }}` expression located in the workflow, or
 * a bare `if:` condition. Everything points into the owned YAML tree.
 */
struct wf_expr {
	const struct ynode *node; /* the scalar holding it */
	size_t off, len;          /* the expression text: node->str[off, off+len) */
	int line, col;            /* source position of the text's first byte */
	const char *path;         /* key path in GitHub's docs notation, static:
				   * "jobs.<job_id>.steps.run", "jobs.<job_id>.if" */
	int bare_if;              /* an if: condition written without ${{ }} */
};

struct workflow {
	char *file;                 /* path as given to the loader */
	struct wf_str name;         /* NULL = file path relative to the repo */
	struct wf_str run_name;
	struct wf_trigger *on;
	size_t non;
	const struct ynode *env;
	const struct ynode *concurrency;
	const struct ynode *permissions;
	struct wf_defaults_run defaults;
	struct wf_job *jobs;        /* in file order */
	size_t njobs;
	struct ynode *root;         /* owned YAML tree */
	/* extension (loader) */
	struct wf_expr *exprs;      /* every expression, in file order */
	size_t nexprs, alloc_exprs;
};

/*
 * Load and validate a workflow. Every problem found is added to `d`
 * (file:line:col). Returns 0 and sets *out when the workflow is usable
 * (warnings allowed), -1 when it has errors (*out is NULL).
 */
int wf_load(const char *file, const char *data, size_t len, struct workflow **out,
	    struct diags *d);
int wf_load_file(const char *path, struct workflow **out, struct diags *d);
/* wf_load_file reading `path` but naming the workflow `label` (its file and
 * every message: a run's snapshot copy shown as the user's file) */
int wf_load_file_as(const char *path, const char *label, struct workflow **out,
		    struct diags *d);
/*
 * The workflow files of a directory as GitHub finds them in
 * .github/workflows: every *.yml and *.yaml, dot-named ones included,
 * sorted, appended to out as "dir/name". Returns 0 or -errno.
 */
int wf_list_dir(const char *dir, struct strvec *out);
void wf_free(struct workflow *wf);

/* loader options for wf_load_ex() */
enum {
	/* report expression errors at the start of the scalar holding the
	 * expression (GitHub's convention) rather than inside it */
	WF_LOAD_GITHUB_POS = 1 << 0,
};
int wf_load_ex(const char *file, const char *data, size_t len, unsigned flags,
	       struct workflow **out, struct diags *d);

/* the model as JSON in the shape of GitHub's parser output, plus kiln's
 * located expressions (for `kiln debug workflow --json` and conformance) */
struct buf;
void wf_dump_json(const struct workflow *wf, struct buf *out);

/* the id a step has in the steps context: its `id:` or the generated one */
const char *wf_step_id(const struct wf_step *st);

const struct wf_job *wf_find_job(const struct workflow *wf, const char *id);
/* is `name` an event a workflow can be triggered by? if not, *hint is the
 * closest known name (or NULL) */
int wf_event_known(const char *name, const char **hint);
/* is `type` an activity type of `event` (any is, for events without a list)?
 * if not, *hint is the closest one (or NULL) */
int wf_event_type_known(const char *event, const char *type, const char **hint);
const struct wf_trigger *wf_find_trigger(const struct workflow *wf, const char *event);

#endif
