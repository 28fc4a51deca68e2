/*
 * plan: what a run will do, before anything runs. The `needs` DAG over the
 * jobs of one or more workflows (stages for `kiln run -l`), the selection
 * of `-j JOB` (that job plus everything it needs, transitively), and matrix
 * expansion exactly as GitHub's MatrixBuilder does it (cross product in key
 * order, exclude, include, display names).
 *
 * The graph is built once per run; the scheduler walks it with counters
 * (no rescans). Matrices are expanded by the scheduler when a job becomes
 * ready, because a matrix may be an expression over `needs`.
 */
#ifndef KILN_PLAN_H
#define KILN_PLAN_H

#include <stddef.h>

#include "base/buf.h"
#include "base/diag.h"
#include "expr/expr.h"
#include "workflow/workflow.h"

/* GitHub: "A matrix will generate a maximum of 256 jobs per workflow run" */
#define PLAN_MATRIX_MAX 256

/* one job of a workflow (before matrix expansion) */
struct plan_job {
	const struct workflow *wf;
	const struct wf_job *job;
	size_t wf_index;   /* index of the workflow in the run (for contexts) */
	size_t *needs;     /* indices into plan.jobs of the jobs this one needs */
	size_t nneeds;
	size_t *deps;      /* indices of the jobs that need this one */
	size_t ndeps, deps_alloc;
	int stage;         /* 0 for jobs without needs, else 1 + max stage of needs */
	int selected;      /* part of the run (-j), 1 by default */
	char *cannot;      /* why kiln cannot run this job (plan_check_support), or NULL */
	int cannot_line, cannot_col; /* where in wf->file that reason points */
};

struct plan {
	struct plan_job *jobs; /* every job of every workflow, in file order */
	size_t nr, alloc;
	size_t *order;         /* topological order (by stage, then file order) */
	int nstages;
	/* id lookup: open addressing over (workflow, lower-cased id) */
	size_t *slots;
	size_t nslots;
};

#define PLAN_INIT { NULL, 0, 0, NULL, 0, NULL, 0 }

/* add every job of `wf`; `needs` naming an unknown job is an error in `d` */
int plan_add_workflow(struct plan *p, const struct workflow *wf, size_t wf_index,
		      struct diags *d);
/* order the graph and compute stages; a `needs` cycle is an error in `d` */
int plan_finish(struct plan *p, struct diags *d);
/* index of job `id` in workflow `wf`, or -1 (case-insensitive, as GitHub) */
long plan_find(const struct plan *p, const struct workflow *wf, const char *id);
/*
 * Keep only job `id` (in every workflow that has it) and what it needs,
 * transitively. Returns 0, or -1 with "unknown job 'x' (did you mean 'y'?)"
 * in err.
 */
int plan_select(struct plan *p, const char *id, struct buf *err);
void plan_release(struct plan *p);

/*
 * Mark the jobs kiln cannot run yet (src/engine/support.c): job and service
 * containers, Docker actions (`docker://` and local `./x` with
 * `runs.using: docker`, read under repo_dir when not NULL), static runs-on
 * labels of another operating system. Sets plan_job.cannot; the job stays
 * in the plan, listed with its reason, and fails only if it would start.
 * Reusable workflow calls are judged by src/engine/reuse.c, remote
 * `owner/repo@ref` actions are not judged here.
 */
void plan_check_support(struct plan *p, const char *repo_dir);
/*
 * An evaluated runs-on value (label, labels, {group, labels}) naming
 * another operating system's runner (windows*, macos*): 1 and the reason
 * in why, else 0. For runs-on that is known only per matrix instance.
 */
int plan_runs_on_foreign(const struct ev *v, struct buf *why);

/* one combination of a matrix */
struct matrix_combo {
	struct ev *matrix; /* object, owned */
	char *suffix;      /* "18, ubuntu-latest" for the display name, or NULL */
};

struct matrix_list {
	struct matrix_combo *v;
	size_t nr, alloc;
};

#define MATRIX_LIST_INIT { NULL, 0, 0 }

/*
 * Expand an evaluated `strategy.matrix` value (an object whose keys are
 * vectors plus optional `include` / `exclude`), GitHub's way:
 *   1. cross product of the vectors, first key varying slowest;
 *   2. drop combinations that an exclude entry matches (every leaf of the
 *      entry equal, with the expression `==` rules);
 *   3. an include entry's keys that name a vector are its filter, the rest
 *      its extra values: the extras are added to every combination the
 *      filter matches (later entries overwrite earlier extras, never the
 *      vector values); an entry that matched nothing becomes a combination
 *      of its own, appended at the end.
 * The display suffix lists the scalar leaves of the combination's vector
 * values (before extras), in order. `matrix` NULL or null gives one empty
 * combination. Returns 0, or -1 with a message in err (not an object,
 * a vector not an array, more than PLAN_MATRIX_MAX combinations, ...).
 */
int matrix_expand(const struct ev *matrix, struct matrix_list *out, struct buf *err);
void matrix_list_release(struct matrix_list *l);

/*
 * A job instance's display name, GitHub's way: `base` alone, or
 * "base (suffix)", cut to 100 characters ("..." at the end).
 */
char *plan_display_name(const char *base, const char *suffix);

/*
 * Convert a YAML node to a value with the YAML 1.2 core schema (plain
 * true/false/null/numbers typed, quoted scalars strings), evaluating any
 * `${{ }}` in scalars with `ctx` (a scalar that is one expression keeps the
 * expression's type). NULL node gives null. On an evaluation error returns
 * NULL with "file:line:col: message"-ready text in err and the node's
 * position in *line / *col (when not NULL).
 */
struct ev *plan_value(const struct ynode *n, const struct expr_ctx *ctx, struct buf *err,
		      int *line, int *col);

/*
 * The pairs of mapping `map` as GitHub's evaluator sees them: a key with
 * `${{ }}` is evaluated (`eval` on the key node, a scalar) and converted to
 * a string; `${{ insert }}` merges in its value, a mapping node (walked the
 * same way) or an expression `eval` turns into an object. `cb` gets each
 * pair in order: the key and either the value node (evaluate it as usual)
 * or, for pairs of an inserted object, the value itself. A key that comes
 * from an expression or an insert and repeats another (ignoring case) is an
 * error ("'x' is already defined", as GitHub). Returns 0, or -1 with the
 * message in err and the node it is about in *at (when at is not NULL).
 * `eval` and `cb` return NULL / -1 with a message in err.
 */
typedef struct ev *(*plan_eval_fn)(void *arg, const struct ynode *n, struct buf *err);
typedef int (*plan_pair_fn)(void *arg, const char *key, const struct ynode *vnode,
			    const struct ev *value, struct buf *err);
int plan_map_walk(const struct ynode *map, plan_eval_fn eval, plan_pair_fn cb, void *arg,
		  struct buf *err, const struct ynode **at);
/* does the mapping have a key with `${{ }}` (an expression or insert)? */
int plan_map_has_exprs(const struct ynode *map);

/* does s contain `${{`? */
int plan_has_expr(const char *s, size_t len);

/* GitHub's `==` on two values (case-insensitive strings, numeric coercion) */
int plan_value_equal(const struct ev *a, const struct ev *b);

#endif
