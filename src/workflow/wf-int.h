/*
 * wf-int: what the workflow loader's files share and nobody else sees: the
 * loader state, the key tables that drive validation, scalar typing, and
 * the per-part parsers (jobs, steps, matrix, graph, expressions).
 */
#ifndef KILN_WF_INT_H
#define KILN_WF_INT_H

#include "base/kiln.h"
#include "expr/expr.h"
#include "workflow/workflow.h"

/* case-insensitive id -> index map (idmap.c); keys are borrowed */
struct wf__idmap {
	const char **keys;
	long *vals;
	size_t nr, cap;
};
void wf__idmap_init(struct wf__idmap *m, size_t n);
void wf__idmap_release(struct wf__idmap *m);
/* index of id, or -1 */
long wf__idmap_get(const struct wf__idmap *m, const char *id);
/* add id -> val; returns the existing value (and adds nothing) when id is
 * there already, else -1 */
long wf__idmap_put(struct wf__idmap *m, const char *id, long val);

/* where the last position lookup inside a scalar ended, so the next one
 * in the same scalar continues from there (linear, not quadratic) */
struct wf__cursor {
	const struct ynode *node; /* scalar being walked, or NULL */
	size_t i, r, end;         /* decoded offset, source offset, source end */
	size_t at, line, col;     /* last offset_pos(): source offset, 0-based line, 1-based col */
	int have_at;
};

/* loader state for one wf_load() */
struct wf__ld {
	const char *file;      /* name used in diagnostics */
	const char *data;      /* the raw YAML text (for positions inside scalars) */
	size_t len;
	size_t *lines;         /* byte offset where each line starts (0-based index) */
	size_t nlines;
	struct diags *d;
	struct workflow *wf;
	unsigned flags;        /* WF_LOAD_* */
	size_t errors_before;  /* d->errors when the load started */
	struct wf__idmap jobs; /* job id -> index in wf->jobs */
	struct wf__cursor cur; /* see wf__scalar_pos */
};

/* the YAML core-schema type of a scalar, as GitHub's reader resolves it */
enum wf__stype { WT_NULL, WT_BOOL, WT_NUMBER, WT_STRING };

/* what a key accepts (bit set) */
enum {
	K_STR = 1 << 0,  /* any scalar, read as a string */
	K_BOOL = 1 << 1, /* true/false */
	K_NUM = 1 << 2,  /* a number */
	K_SEQ = 1 << 3,
	K_MAP = 1 << 4,
	K_NULL = 1 << 5, /* empty value */
	K_EXPR = 1 << 6, /* a scalar that is exactly one ${{ }} stands for any of the above */
	K_ANY = K_STR | K_BOOL | K_NUM | K_SEQ | K_MAP | K_NULL,
};

/* one allowed key of a mapping */
struct wf__key {
	const char *name;
	unsigned kinds;       /* K_* */
};

enum wf__stype wf__scalar_type(const struct ynode *n);
/* parse a scalar as a number (YAML core schema); 0 on success */
int wf__scalar_number(const struct ynode *n, double *out);
/*
 * A literal number `key` that must be above `min` (at least `min` when
 * `inclusive`): what the scheduler checks at run time, reported at load
 * time when no expression is involved, so that kiln lint reports it too.
 */
void wf__check_min(struct wf__ld *ld, const struct ynode *n, const char *key, double min,
		   int inclusive);
/* scalar is exactly one `${{ ... }}` (surrounding blanks allowed) */
int wf__is_whole_expr(const struct ynode *n);
/* scalar contains `${{` anywhere */
int wf__has_expr(const struct ynode *n);
/* is this mapping key exactly `${{ insert }}` (GitHub's directive)? */
int wf__is_insert(const struct ynode *k);
/* "a mapping", "a sequence", "a string", "a number", "a boolean", "empty" */
const char *wf__kind_desc(const struct ynode *n);

/*
 * Check a mapping's keys against a table: every key a non-empty string,
 * no duplicates, no unknown key (with a did-you-mean or "belongs in"
 * hint); every known value of an accepted kind. `what` names the mapping
 * in messages ("job 'build'"). Returns the number of errors added.
 */
int wf__check_keys(struct wf__ld *ld, const struct ynode *map, const struct wf__key *keys,
		   size_t nkeys, const char *what);
/* the same for a mapping whose definition has contexts (container,
 * strategy, runs-on, environment, concurrency): expression keys and
 * `${{ insert }}` are allowed there, as in GitHub's reader */
int wf__check_keys_ctx(struct wf__ld *ld, const struct ynode *map, const struct wf__key *keys,
		       size_t nkeys, const char *what);
/* check one value against accepted kinds; `key` names it in messages */
int wf__check_kind(struct wf__ld *ld, const struct ynode *v, unsigned kinds, const char *key);
/* env/with/outputs: a mapping of names to scalar values */
void wf__check_string_map(struct wf__ld *ld, const struct ynode *m, const char *what);
/* value of `key` in a mapping, NULL when absent (first occurrence) */
const struct ynode *wf__get(const struct ynode *map, const char *key);

/* record the scalar's text (or NULL when null/absent) with its position */
void wf__str_set(struct wf_str *dst, const struct ynode *n);

/* GitHub's identifier rule: [A-Za-z_][A-Za-z0-9_-]*, < 100 chars, not `__…` */
const char *wf__id_problem(const char *id);

/* parts */
void wf__check_permissions(struct wf__ld *ld, const struct ynode *p);
void wf__check_concurrency(struct wf__ld *ld, const struct ynode *c);
/* `path` names defaults.run for expressions; `exprs` 0: none allowed there */
void wf__parse_defaults(struct wf__ld *ld, struct wf_defaults_run *dr, const struct ynode *defs,
			const char *path, int exprs);
void wf__parse_on(struct wf__ld *ld, const struct ynode *on);
void wf__parse_jobs(struct wf__ld *ld, const struct ynode *jobs);
/*
 * GitHub: "No steps defined in `steps` and no workflow called in `uses`",
 * checked like GitHub once the workflow parsed without other errors.
 */
void wf__check_steps_present(struct wf__ld *ld);
void wf__parse_steps(struct wf__ld *ld, struct wf_job *job, const struct ynode *steps);
void wf__check_matrix(struct wf__ld *ld, struct wf_job *job, const struct ynode *strategy);
void wf__check_graph(struct wf__ld *ld, const struct ynode *jobs);

/*
 * Expressions. wf__scan_exprs finds every `${{ }}` in the scalars under
 * `n` (recursing into mappings and sequences), records it in the model
 * and checks it. `path` is the workflow key path in GitHub's docs notation
 * (`jobs.<job_id>.steps.run`); `allowed` is 0 when expressions are not
 * allowed there at all. wf__scan_if does the same for an `if:` value,
 * which is an expression even without `${{ }}`.
 */
void wf__scan_exprs(struct wf__ld *ld, const struct ynode *n, const char *path, int allowed);
void wf__scan_if(struct wf__ld *ld, const struct ynode *n, const char *path);
/* the single place where one located expression is checked */
void wf__check_expr(struct wf__ld *ld, const struct wf_expr *x);
/* source position of byte `off` of a scalar's decoded text */
void wf__scalar_pos(struct wf__ld *ld, const struct ynode *n, size_t off, int *line,
		    int *col);
/* GitHub's if: normalisation: the expression text with `success() && (…)`
 * added unless it calls a status function; caller frees */
char *wf__if_expr(const char *cond);
/* a string with ${{ }} as one expression: `x` alone, else format('..{0}..', x) */
char *wf__template_expr(const char *s);

/* report an error at a node */
int wf__err(struct wf__ld *ld, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
