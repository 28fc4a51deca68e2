/*
 * expr: GitHub Actions `${{ }}` expressions: values, parser, evaluator.
 *
 * Values are immutable and reference-counted. Ownership (jq's rule):
 * functions that take a `struct ev *` CONSUME that reference unless the
 * parameter is `const`; functions returning one give the caller a new
 * reference. Objects have case-insensitive keys, as GitHub's contexts.
 *
 * Contract shared by src/expr (owner) and its users (workflow lint,
 * engine). Extend; do not change meanings.
 */
#ifndef KILN_EXPR_H
#define KILN_EXPR_H

#include <stddef.h>

#include "base/buf.h"

enum ev_kind { EV_NULL, EV_BOOL, EV_NUMBER, EV_STRING, EV_ARRAY, EV_OBJECT };

struct ev; /* opaque value */

struct ev *ev_null(void);
struct ev *ev_bool(int b);
struct ev *ev_number(double d);
struct ev *ev_string(const char *s, size_t len);
struct ev *ev_cstr(const char *s);
struct ev *ev_array(void);
struct ev *ev_object(void);
struct ev *ev_ref(const struct ev *v);  /* new reference to v */
void ev_unref(struct ev *v);            /* NULL is fine */

enum ev_kind ev_kind(const struct ev *v);
int ev_get_bool(const struct ev *v);
double ev_get_number(const struct ev *v);
const char *ev_get_str(const struct ev *v, size_t *len);
size_t ev_len(const struct ev *v);                        /* array/object size */
const struct ev *ev_array_at(const struct ev *a, size_t i);
const struct ev *ev_object_get(const struct ev *o, const char *key); /* case-insensitive; NULL if absent */
const char *ev_object_key_at(const struct ev *o, size_t i);
const struct ev *ev_object_val_at(const struct ev *o, size_t i);
/* mutation, only for values still being built (refcount 1) */
void ev_array_push(struct ev *a, struct ev *v);                /* consumes v */
void ev_object_set(struct ev *o, const char *key, struct ev *v); /* consumes v; replaces */

/* GitHub's truthiness and string conversion (as used by if: and ${{ }}) */
int ev_truthy(const struct ev *v);
void ev_to_string(const struct ev *v, struct buf *out);
/*
 * JSON: toJSON's pretty format with EV_JSON_PRETTY, compact otherwise.
 * Non-finite numbers print as null (JSON.stringify) unless
 * EV_JSON_NONFINITE asks for GitHub's number strings NaN, Infinity and
 * -Infinity (not JSON; `kiln expr` shows values that way).
 */
#define EV_JSON_PRETTY 1
#define EV_JSON_NONFINITE 2
void ev_to_json(const struct ev *v, struct buf *out, int flags);
/* parse JSON text; NULL and a message in err on failure */
struct ev *ev_from_json(const char *s, size_t len, struct buf *err);
/* the same, with the byte offset of an error in *errpos instead of in the
 * message (callers that report file:line:col) */
struct ev *ev_from_json_at(const char *s, size_t len, size_t *errpos, struct buf *err);

/* status for success() failure() cancelled(), aggregated by the caller: at
 * job level over the job's needs, at step level over the job so far */
enum expr_status { EXPR_STATUS_SUCCESS, EXPR_STATUS_FAILURE, EXPR_STATUS_CANCELLED };

struct expr_ctx {
	const struct ev *contexts;  /* object: github, env, matrix, steps, needs, ... */
	enum expr_status status;    /* aggregated status for the status functions */
	const char *workspace;      /* for hashFiles(); NULL disables it */
	unsigned allowed;           /* bit mask of EXPR_CTX_* allowed here; 0 = all */
	unsigned allowed_funcs;     /* bit mask of EXPR_FN_* allowed here; 0 = all */
};

/* context names as bits, for availability checks */
enum {
	EXPR_CTX_GITHUB = 1 << 0, EXPR_CTX_ENV = 1 << 1, EXPR_CTX_VARS = 1 << 2,
	EXPR_CTX_JOB = 1 << 3, EXPR_CTX_JOBS = 1 << 4, EXPR_CTX_STEPS = 1 << 5,
	EXPR_CTX_RUNNER = 1 << 6, EXPR_CTX_SECRETS = 1 << 7, EXPR_CTX_STRATEGY = 1 << 8,
	EXPR_CTX_MATRIX = 1 << 9, EXPR_CTX_NEEDS = 1 << 10, EXPR_CTX_INPUTS = 1 << 11,
};
enum { EXPR_FN_STATUS = 1 << 0, EXPR_FN_HASHFILES = 1 << 1 };

/*
 * Context availability (GitHub docs, "Contexts > Context availability"):
 * what an expression may use at a workflow key, the key written in the
 * docs' notation ("jobs.<job_id>.steps.run", "jobs.<job_id>.if",
 * "on.workflow_call.inputs.<inputs_id>.default", "run-name", ...). A key
 * not listed inherits from its nearest listed ancestor; NULL when no
 * ancestor is listed (expressions are not allowed there).
 */
struct expr_avail {
	const char *path;
	unsigned ctx;   /* EXPR_CTX_* bits */
	unsigned funcs; /* EXPR_FN_* bits (the special functions) */
};
const struct expr_avail *expr_avail_lookup(const char *path);
/* for a key that stands for a whole subtree ("jobs.<job_id>.container",
 * which includes container.env and container.credentials): the union of
 * the key's entry and every listed key below it. -1 when not listed. */
int expr_avail_under(const char *path, struct expr_avail *out);
/* parse options enforcing an availability entry (for expr_parse_opts) */
struct expr_parse_opts;
void expr_avail_opts(const struct expr_avail *a, struct expr_parse_opts *o);
/* "github, needs, vars" for a mask of EXPR_CTX_* bits, appended to out */
void expr_avail_names(unsigned ctx, struct buf *out);

struct expr; /* parsed expression (AST) */

/*
 * Parse one expression (the text between ${{ and }}, or a bare if:
 * condition). On error returns NULL, writes a message to err and the
 * 0-based byte offset of the problem to *err_off (when not NULL).
 */
struct expr *expr_parse(const char *src, size_t len, struct buf *err, size_t *err_off);
void expr_free(struct expr *e);

/* what a parse accepts (kiln extension of the contract) */
struct expr_parse_opts {
	const char *const *names; /* NULL-terminated named values (matched without
				   * case); NULL = GitHub's standard contexts */
	unsigned allowed;         /* with names NULL: EXPR_CTX_* allowed; 0 = all */
	unsigned allowed_funcs;   /* EXPR_FN_* allowed; 0 = all */
	int no_extensions;        /* hashFiles() and the status functions are unknown */
};
/*
 * Parse with options; a named value or function outside them is a parse
 * error worded as GitHub words it ("Unrecognized named-value: 'matrix'.
 * Located at position 1 within expression: matrix.os"). expr_parse() is
 * expr_parse_opts() with o NULL: the standard contexts, every function.
 */
struct expr *expr_parse_opts(const char *src, size_t len, const struct expr_parse_opts *o,
			     struct buf *err, size_t *err_off);
/*
 * What evaluation would refuse whatever the contexts: a format() whose
 * constant format string is malformed or names more arguments than given
 * (for lint). 0, or -1 with the message (worded as at run time) and the
 * byte offset of the format string.
 */
int expr_check_constants(const struct expr *e, struct buf *err, size_t *err_off);
/* does the expression call success()/failure()/cancelled()/always()? */
int expr_uses_status(const struct expr *e);
/* bit mask of EXPR_CTX_* the expression reads (for lint) */
unsigned expr_contexts_used(const struct expr *e);

/* evaluate; NULL and a message in err on a runtime error */
struct ev *expr_eval(const struct expr *e, const struct expr_ctx *ctx, struct buf *err);

/* parse+evaluate text that may contain ${{ }} (run:, env:, with:, names):
 * the result is a string; a template that is exactly one ${{ }} keeps the
 * value's type (as GitHub does for with:/env: values). */
struct ev *expr_interpolate(const char *tmpl, size_t len, const struct expr_ctx *ctx,
			    struct buf *err);
/* evaluate an `if:` condition with GitHub's rules (optional ${{ }}, implicit
 * success() &&); returns 1/0, or -1 with a message in err */
int expr_eval_if(const char *cond, const struct expr_ctx *ctx, struct buf *err);

/* find the next `${{` at or after `from`; returns its offset, or -1.
 * *end receives the offset just past the matching `}}`, or -1 when the
 * expression is not closed. Quotes inside the expression are honoured. */
long expr_find(const char *s, size_t len, size_t from, long *end);

#endif
