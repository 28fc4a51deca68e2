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
struct ev *expr__call(struct evst *st, const struct node *n);
int expr__equals(const struct ev *l, const struct ev *r);
double expr__to_number(const struct ev *v);
/* account for a new string of `bytes`; -1 (message set) past the limit */
int expr__charge(struct evst *st, size_t bytes);
/* hashFiles(): hex SHA-256 into out, or -1 with a message */
int expr__hash_files(const char *workspace, const struct ev *const *pats, size_t n,
		     struct buf *out, struct buf *err);

#endif
