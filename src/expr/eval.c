/*
 * eval: evaluate an AST over contexts, with GitHub's coercion rules
 * (docs: "Expressions > Operators"; reference: @actions/expressions
 * result.ts): loose ==, case-insensitive strings, && and || returning an
 * operand, `*` filters, and the functions (funcs.c).
 */
#include "base/kiln.h"
#include "expr/eval.h"

#include <math.h>

int expr__charge(struct evst *st, size_t bytes)
{
	st->mem += 26 + 2 * bytes; /* what .NET counts for a string of that length */
	if (st->mem <= EXPR_MAX_MEMORY)
		return 0;
	if (!st->err->len)
		buf_addf(st->err, "The maximum allowed memory size was exceeded while evaluating "
			 "the following expression: %.*s", (int)st->e->len, st->e->src);
	return -1;
}

static int primitive(const struct ev *v)
{
	return v->kind <= EV_STRING;
}

double expr__to_number(const struct ev *v)
{
	switch (v->kind) {
	case EV_NULL: return 0;
	case EV_BOOL: return v->u.b;
	case EV_NUMBER: return v->u.n;
	case EV_STRING: return expr__str_to_num(v->u.str.s, v->u.str.len);
	default: return NAN;
	}
}

/*
 * GitHub's coerceTypes: null and booleans become numbers, then a number
 * meeting a string makes the string a number. Returns 1 when both sides
 * end up numbers (in *a, *b), 2 when both keep one common kind, 0 when
 * the kinds still differ.
 */
static int coerce(const struct ev *l, const struct ev *r, double *a, double *b)
{
	if (l->kind == r->kind)
		return 2;
	int ln = l->kind == EV_NULL || l->kind == EV_BOOL || l->kind == EV_NUMBER;
	int rn = r->kind == EV_NULL || r->kind == EV_BOOL || r->kind == EV_NUMBER;
	if ((ln || l->kind == EV_STRING) && (rn || r->kind == EV_STRING)) {
		*a = expr__to_number(l);
		*b = expr__to_number(r);
		return 1;
	}
	return 0;
}

int expr__equals(const struct ev *l, const struct ev *r)
{
	double a, b;
	switch (coerce(l, r, &a, &b)) {
	case 1:
		return a == b; /* NaN is never equal */
	case 0:
		return 0;
	}
	switch (l->kind) {
	case EV_NULL: return 1;
	case EV_BOOL: return l->u.b == r->u.b;
	case EV_NUMBER: return l->u.n == r->u.n;
	case EV_STRING:
		if (l->ascii && r->ascii)
			return l->u.str.len == r->u.str.len &&
			       expr__ascii_ieq(l->u.str.s, r->u.str.s, l->u.str.len);
		return expr__str_eq_ci(l->u.str.s, l->u.str.len, r->u.str.s, r->u.str.len);
	default: return l == r; /* arrays and objects: the same value */
	}
}

/* l > r (sign 1) or l < r (sign -1) */
static int order(const struct ev *l, const struct ev *r, int sign)
{
	double a, b;
	int c = coerce(l, r, &a, &b);
	if (c == 0)
		return 0;
	if (c == 1 || l->kind == EV_NUMBER) {
		if (c == 2)
			a = l->u.n, b = r->u.n;
		return sign > 0 ? a > b : a < b;
	}
	if (l->kind == EV_STRING) {
		int k = expr__str_cmp_ci(l->u.str.s, l->u.str.len, r->u.str.s, r->u.str.len);
		return sign > 0 ? k > 0 : k < 0;
	}
	if (l->kind == EV_BOOL)
		return sign > 0 ? l->u.b && !r->u.b : !l->u.b && r->u.b;
	return 0;
}

static int compare(int op, const struct ev *l, const struct ev *r)
{
	switch (op) {
	case OP_EQ: return expr__equals(l, r);
	case OP_NE: return !expr__equals(l, r);
	case OP_GT: return order(l, r, 1);
	case OP_GE: return expr__equals(l, r) || order(l, r, 1);
	case OP_LT: return order(l, r, -1);
	default: return expr__equals(l, r) || order(l, r, -1);
	}
}

/* GitHub's idxHelper: a primitive index gives a key string; any index
 * whose number is finite and >= 0 gives an array position (floored) */
struct idx {
	int star, has_str, has_int, ascii;
	const char *str;
	size_t len;
	uint32_t hash; /* expr__key_hash of str */
	size_t pos;
	struct buf tmp;
};

static void idx_init(struct idx *x, const struct ev *v)
{
	memset(x, 0, sizeof(*x));
	buf_init(&x->tmp, 0);
	if (!v) {
		x->star = 1;
		return;
	}
	if (v->kind == EV_STRING) {
		x->has_str = 1, x->str = v->u.str.s, x->len = v->u.str.len, x->ascii = v->ascii;
	} else if (primitive(v)) {
		ev_to_string(v, &x->tmp);
		x->has_str = 1, x->str = x->tmp.buf, x->len = x->tmp.len, x->ascii = 1;
	}
	if (x->has_str)
		x->hash = expr__key_hash(x->str, x->len);
	double f = expr__to_number(v);
	if (!isnan(f) && isfinite(f) && f >= 0) {
		f = floor(f);
		x->has_int = 1;
		x->pos = f > (double)SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)f;
	}
}

/* a property name after `.`: a key, never an array position
 * (Number('name') is NaN; `Infinity` / `NaN` are no positions either) */
static void idx_init_key(struct idx *x, const struct node *k)
{
	memset(x, 0, sizeof(*x));
	buf_init(&x->tmp, 0);
	x->has_str = 1, x->str = k->key, x->len = k->klen, x->ascii = 1, x->hash = k->hash;
}

static size_t container_len(const struct ev *v)
{
	return v->kind == EV_ARRAY ? v->u.arr.nr : v->kind == EV_OBJECT ? v->u.obj.nr : 0;
}

static void push_all(struct ev *fa, const struct ev *from)
{
	if (from->kind == EV_ARRAY) {
		for (size_t i = 0; i < from->u.arr.nr; i++)
			ev_array_push(fa, ev_ref(from->u.arr.v[i]));
	} else {
		for (size_t i = 0; i < from->u.obj.nr; i++)
			ev_array_push(fa, ev_ref(from->u.obj.kv[i].val));
	}
}

/* indexing a filtered array: index each element, flatten one level */
static struct ev *access_filtered(const struct ev *obj, const struct idx *x)
{
	size_t cap = 0; /* what the result can hold at most: one allocation */
	for (size_t i = 0; i < obj->u.arr.nr; i++)
		cap += x->star ? container_len(obj->u.arr.v[i]) : 1;
	struct ev *fa = ev__array_sized(cap, 1);
	for (size_t i = 0; i < obj->u.arr.nr; i++) {
		const struct ev *it = obj->u.arr.v[i];
		if (it->kind != EV_ARRAY && it->kind != EV_OBJECT)
			continue;
		if (x->star) {
			push_all(fa, it);
		} else if (it->kind == EV_OBJECT && x->has_str) {
			const struct ev *v = ev__object_getkey(it, x->str, x->len, x->ascii, x->hash);
			if (v)
				ev_array_push(fa, ev_ref(v));
		} else if (it->kind == EV_ARRAY && x->has_int && x->pos < it->u.arr.nr) {
			ev_array_push(fa, ev_ref(it->u.arr.v[x->pos]));
		}
	}
	return fa;
}

static struct ev *access(const struct ev *obj, const struct idx *x)
{
	if (obj->kind == EV_ARRAY && obj->filtered)
		return access_filtered(obj, x);
	if (obj->kind == EV_ARRAY || obj->kind == EV_OBJECT) {
		if (x->star) {
			struct ev *fa = ev__array_sized(container_len(obj), 1);
			push_all(fa, obj);
			return fa;
		}
		const struct ev *v = NULL;
		if (obj->kind == EV_ARRAY && x->has_int && x->pos < obj->u.arr.nr)
			v = obj->u.arr.v[x->pos];
		else if (obj->kind == EV_OBJECT && x->has_str)
			v = ev__object_getkey(obj, x->str, x->len, x->ascii, x->hash);
		return v ? ev_ref(v) : ev_null();
	}
	return x->star ? ev__filtered() : ev_null();
}

/* a.b / a['b'] / a[0] with a literal index on an ordinary array or object:
 * no index value to build (the common case in workflows). NULL when the
 * general path must run. */
static const struct ev *index_literal(const struct ev *obj, const struct node *k)
{
	if (obj->kind == EV_OBJECT) {
		if (k->lit->kind != EV_STRING)
			return NULL;
		const struct ev *v = ev__object_getk(obj, k->lit, k->hash);
		return v ? v : ev_null();
	}
	if (obj->kind == EV_ARRAY) {
		double f = expr__to_number(k->lit);
		if (obj->filtered || isnan(f))
			return NULL;
		if (f >= 0 && isfinite(f) && floor(f) < (double)obj->u.arr.nr)
			return obj->u.arr.v[(size_t)floor(f)];
		return ev_null();
	}
	return obj->kind == EV_NULL || obj->kind == EV_BOOL || obj->kind == EV_NUMBER ||
			       obj->kind == EV_STRING
		       ? ev_null()
		       : NULL;
}

/* obj.name: NULL when obj is a filtered array (the general path) */
static const struct ev *index_key(const struct ev *obj, const struct node *k)
{
	if (obj->kind == EV_OBJECT) {
		const struct ev *v = ev__object_getkey(obj, k->key, k->klen, 1, k->hash);
		return v ? v : ev_null();
	}
	if (obj->kind == EV_ARRAY && obj->filtered)
		return NULL;
	return ev_null(); /* a name is never an array position */
}

static const struct ev *ctx_value(const struct evst *st, const struct node *n)
{
	const struct ev *c = st->ctx && st->ctx->contexts ? st->ctx->contexts : NULL;
	const struct ev *v = c && c->kind == EV_OBJECT
				     ? ev__object_getkey(c, n->key, n->klen, 1, n->hash)
				     : NULL;
	return v ? v : ev_null();
}

const struct ev *expr__borrow(const struct evst *st, const struct node *n)
{
	switch (n->kind) {
	case N_LIT:
		return n->lit;
	case N_CTX:
		return ctx_value(st, n);
	case N_INDEX: {
		const struct node *k = n->kids[1], *base = n->kids[0];
		if (!k || (k->kind != N_KEY && k->kind != N_LIT) ||
		    (base->kind != N_CTX && base->kind != N_INDEX && base->kind != N_LIT))
			return NULL;
		const struct ev *obj = expr__borrow(st, base);
		if (!obj)
			return NULL;
		return k->kind == N_KEY ? index_key(obj, k) : index_literal(obj, k);
	}
	default:
		return NULL;
	}
}

/*
 * Lazy filters: contains() and join() over a `.*` chain on a context path
 * (labels.*.name) visit the elements the filtered array would hold, in
 * its order, without making it (nor the arrays of the stages below).
 */
static int is_filter(const struct node *n)
{
	return n->kind == N_INDEX && (!n->kids[1] || is_filter(n->kids[0]));
}

const struct ev *expr__filter_base(const struct evst *st, const struct node *n)
{
	if (!is_filter(n))
		return NULL;
	for (;;) {
		const struct node *k = n->kids[1];
		if (k && k->kind != N_KEY && k->kind != N_LIT)
			return NULL; /* an index expression: evaluated in order */
		if (!k && !is_filter(n->kids[0]))
			break;
		n = n->kids[0];
	}
	const struct ev *v = expr__borrow(st, n->kids[0]);
	return v && !(v->kind == EV_ARRAY && v->filtered) ? v : NULL;
}

static int each_child(const struct ev *v, expr__each_fn *fn, void *arg)
{
	if (v->kind == EV_ARRAY) {
		for (size_t i = 0; i < v->u.arr.nr; i++)
			if (fn(arg, v->u.arr.v[i]))
				return 1;
	} else if (v->kind == EV_OBJECT) {
		for (size_t i = 0; i < v->u.obj.nr; i++)
			if (fn(arg, v->u.obj.kv[i].val))
				return 1;
	}
	return 0;
}

/* a stage of the chain: each element of the stage below, indexed as
 * access_filtered() indexes it */
struct stage {
	const struct idx *x;
	expr__each_fn *fn;
	void *arg;
};

static int each_indexed(void *arg, const struct ev *it)
{
	const struct stage *s = arg;
	const struct idx *x = s->x;
	const struct ev *v = NULL;
	if (x->star)
		return each_child(it, s->fn, s->arg);
	if (it->kind == EV_OBJECT && x->has_str)
		v = ev__object_getkey(it, x->str, x->len, x->ascii, x->hash);
	else if (it->kind == EV_ARRAY && x->has_int && x->pos < it->u.arr.nr)
		v = it->u.arr.v[x->pos];
	return v ? s->fn(s->arg, v) : 0;
}

int expr__each(const struct node *n, const struct ev *base, expr__each_fn *fn, void *arg)
{
	const struct node *k = n->kids[1];
	if (!k && !is_filter(n->kids[0]))
		return each_child(base, fn, arg); /* the lowest `.*` */
	struct idx x;
	if (!k)
		idx_init(&x, NULL);
	else if (k->kind == N_KEY)
		idx_init_key(&x, k);
	else
		idx_init(&x, k->lit);
	struct stage s = { &x, fn, arg };
	int r = expr__each(n->kids[0], base, each_indexed, &s);
	buf_release(&x.tmp);
	return r;
}

static struct ev *eval_index(struct evst *st, const struct node *n)
{
	const struct node *k = n->kids[1];
	struct ev *iv = NULL, *obj;
	struct idx x;
	if (k && (k->kind == N_KEY || k->kind == N_LIT)) {
		obj = expr__eval_node(st, n->kids[0]);
		if (!obj)
			return NULL;
		const struct ev *v = k->kind == N_KEY ? index_key(obj, k) : index_literal(obj, k);
		if (v) {
			struct ev *r = ev_ref(v); /* before obj may go */
			ev_unref(obj);
			return r;
		}
		if (k->kind == N_KEY) {
			idx_init_key(&x, k);
		} else {
			iv = ev_ref(k->lit);
			idx_init(&x, iv);
		}
	} else {
		if (k) {
			iv = expr__eval_node(st, k); /* the index first, as GitHub does */
			if (!iv)
				return NULL;
		}
		obj = expr__eval_node(st, n->kids[0]);
		if (!obj) {
			ev_unref(iv);
			return NULL;
		}
		idx_init(&x, iv);
	}
	struct ev *r = access(obj, &x);
	buf_release(&x.tmp);
	ev_unref(iv);
	ev_unref(obj);
	return r;
}

const struct ev *expr__value(struct evst *st, const struct node *n, struct ev **own)
{
	const struct ev *b = expr__borrow(st, n);
	*own = b ? NULL : expr__eval_node(st, n);
	return b ? b : *own;
}

static struct ev *eval_cmp(struct evst *st, const struct node *n)
{
	struct ev *lo, *ro;
	const struct ev *l = expr__value(st, n->kids[0], &lo);
	if (!l)
		return NULL;
	const struct ev *r = expr__value(st, n->kids[1], &ro);
	if (!r) {
		ev_unref(lo);
		return NULL;
	}
	int b = compare(n->op, l, r);
	ev_unref(lo);
	ev_unref(ro);
	return ev_bool(b);
}

/* && and || return the operand that decided */
static struct ev *eval_logical(struct evst *st, const struct node *n)
{
	const struct ev *v = NULL;
	struct ev *own = NULL;
	for (size_t i = 0; i < n->nkids; i++) {
		ev_unref(own);
		v = expr__value(st, n->kids[i], &own);
		if (!v)
			return NULL;
		if (ev_truthy(v) == (n->kind == N_OR))
			break;
	}
	return own ? own : ev_ref(v);
}

struct ev *expr__eval_node(struct evst *st, const struct node *n)
{
	switch (n->kind) {
	case N_LIT:
	case N_CTX:
		return ev_ref(expr__borrow(st, n));
	case N_INDEX: {
		const struct ev *b = expr__borrow(st, n);
		return b ? ev_ref(b) : eval_index(st, n);
	}
	case N_NOT: {
		struct ev *own;
		const struct ev *v = expr__value(st, n->kids[0], &own);
		if (!v)
			return NULL;
		int t = ev_truthy(v);
		ev_unref(own);
		return ev_bool(!t);
	}
	case N_CMP:
		return eval_cmp(st, n);
	case N_AND:
	case N_OR:
		return eval_logical(st, n);
	case N_CALL:
		return expr__call(st, n);
	case N_KEY:
		return ev_string(n->key, n->klen);
	}
	return ev_null();
}

static int check_allowed(const struct expr *e, const struct expr_ctx *ctx, struct buf *err)
{
	if (!ctx)
		return 0;
	if (ctx->allowed && (e->ctx_used & ~ctx->allowed)) {
		buf_addf(err, "Unrecognized named-value used in expression: %.*s", (int)e->len, e->src);
		return -1;
	}
	if (ctx->allowed_funcs && (e->fn_used & ~ctx->allowed_funcs)) {
		buf_addf(err, "Unrecognized function used in expression: %.*s", (int)e->len, e->src);
		return -1;
	}
	return 0;
}

struct ev *expr_eval(const struct expr *e, const struct expr_ctx *ctx, struct buf *err)
{
	if (check_allowed(e, ctx, err) < 0)
		return NULL;
	if (!e->root)
		return ev_null();
	struct evst st = { ctx, err, 0, e };
	struct ev *v = expr__eval_node(&st, e->root);
	if (v && v->kind == EV_STRING && v->refs == EV_IMMORTAL)
		v = ev_string(v->u.str.s, v->u.str.len); /* a literal: the expression's */
	if (v && v->filtered && v->refs == 1) {
		v->filtered = 0; /* ours alone: an ordinary array to everyone outside */
	} else if (v && v->filtered) {
		/* a filter result is an ordinary array to everyone outside */
		struct ev *a = ev__array_sized(v->u.arr.nr, 0);
		push_all(a, v);
		ev_unref(v);
		v = a;
	}
	return v;
}
