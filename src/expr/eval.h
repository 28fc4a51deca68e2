/* eval: evaluator internals shared by eval.c and funcs.c */
#ifndef KILN_EXPR_EVAL_H
#define KILN_EXPR_EVAL_H

#include "expr/expr-int.h"

struct evst {
	const struct expr_ctx *ctx; /* may be NULL */
	struct buf *err;
	size_t mem;                 /* bytes charged so far (EXPR_MAX_MEMORY) */
	const struct expr *e;
};

struct ev *expr__eval_node(struct evst *st, const struct node *n);
/*
 * A node's value without a reference when it is a literal or a context
 * path (github.event.ref, matrix['os'], x.y[0]): contexts and literals
 * outlive the evaluation. NULL when the node must be evaluated.
 */
const struct ev *expr__borrow(const struct evst *st, const struct node *n);
/* borrowed when possible (*own NULL), else evaluated into *own (the
 * reference to drop); NULL on error */
const struct ev *expr__value(struct evst *st, const struct node *n, struct ev **own);
struct ev *expr__call(struct evst *st, const struct node *n);
/*
 * A `.*` chain over a context path (github.event.commits.*.id) without
 * making its filtered array: expr__filter_base gives the borrowed value
 * under the chain, or NULL when n is not such a chain (evaluate it);
 * expr__each then calls fn on each element the array would hold, in
 * order, until fn returns nonzero (then 1, else 0).
 */
typedef int expr__each_fn(void *arg, const struct ev *item);
const struct ev *expr__filter_base(const struct evst *st, const struct node *n);
int expr__each(const struct node *n, const struct ev *base, expr__each_fn *fn, void *arg);
int expr__equals(const struct ev *l, const struct ev *r);
double expr__to_number(const struct ev *v);
/* account for a new string of `bytes`; -1 (message set) past the limit */
int expr__charge(struct evst *st, size_t bytes);
/* hashFiles(): hex SHA-256 into out, or -1 with a message */
int expr__hash_files(const char *workspace, const struct ev *const *pats, size_t n,
		     struct buf *out, struct buf *err);

#endif
