/*
 * value: YAML nodes to expression values (YAML 1.2 core schema, `${{ }}`
 * evaluated), and GitHub's loose `==` used by matrix filters.
 */
#include "base/kiln.h"
#include "engine/plan.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <strings.h>

#define VALUE_MAX_DEPTH 128

/* YAML 1.2 core schema number, or 0 when `s` is not one */
static int core_number(const char *s, double *out)
{
	const char *p = s;
	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF") || !strcmp(p, "+.inf") ||
	    !strcmp(p, "+.Inf") || !strcmp(p, "+.INF")) {
		*out = INFINITY;
		return 1;
	}
	if (!strcmp(p, "-.inf") || !strcmp(p, "-.Inf") || !strcmp(p, "-.INF")) {
		*out = -INFINITY;
		return 1;
	}
	if (!strcmp(p, ".nan") || !strcmp(p, ".NaN") || !strcmp(p, ".NAN")) {
		*out = NAN;
		return 1;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o') && p[2]) {
		int base = p[1] == 'x' ? 16 : 8;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(p + 2, &end, base);
		if (*end || errno)
			return 0;
		*out = (double)v;
		return 1;
	}
	/* [-+]? ( \.[0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
	if (*p == '-' || *p == '+')
		p++;
	int digits = 0;
	while (isdigit((unsigned char)*p)) {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		int frac = 0;
		while (isdigit((unsigned char)*p)) {
			p++;
			frac++;
		}
		if (!digits && !frac)
			return 0;
		digits += frac;
	}
	if (!digits)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p)
		return 0;
	*out = strtod(s, NULL);
	return 1;
}

int plan_has_expr(const char *s, size_t len)
{
	long end;
	return expr_find(s, len, 0, &end) >= 0;
}

static struct ev *scalar_value(const struct ynode *n, const struct expr_ctx *ctx, struct buf *err)
{
	if (plan_has_expr(n->str, n->len))
		return expr_interpolate(n->str, n->len, ctx, err);
	int plain = (n->style == YSTYLE_PLAIN || n->style == YSTYLE_ANY) &&
		    (!n->tag || strcmp(n->tag, "!!str"));
	if (!plain)
		return ev_string(n->str, n->len);
	if (ynode_is_null(n))
		return ev_null();
	if (!strcmp(n->str, "true") || !strcmp(n->str, "True") || !strcmp(n->str, "TRUE"))
		return ev_bool(1);
	if (!strcmp(n->str, "false") || !strcmp(n->str, "False") || !strcmp(n->str, "FALSE"))
		return ev_bool(0);
	double d;
	if (core_number(n->str, &d))
		return ev_number(d);
	return ev_string(n->str, n->len);
}

/* ---- mapping keys: expressions and `${{ insert }}` ---- */

/* is the key exactly `${{ insert }}`? */
static int is_insert(const struct ynode *k)
{
	if (k->kind != YNODE_SCALAR || !k->str)
		return 0;
	const char *t = k->str;
	size_t tl = k->len;
	while (tl && isspace((unsigned char)*t)) {
		t++;
		tl--;
	}
	while (tl && isspace((unsigned char)t[tl - 1]))
		tl--;
	long end;
	if (expr_find(t, tl, 0, &end) != 0 || end != (long)tl)
		return 0;
	const char *e = t + 3;
	size_t el = tl - 5;
	while (el && isspace((unsigned char)*e)) {
		e++;
		el--;
	}
	while (el && isspace((unsigned char)e[el - 1]))
		el--;
	return el == 6 && !memcmp(e, "insert", 6);
}

struct walk {
	plan_eval_fn eval;
	plan_pair_fn cb;
	void *arg;
	struct buf *err;
	const struct ynode **at;
	struct strvec evaluated; /* keys that came from expressions or inserts */
	const struct ynode *top; /* the mapping walked (for the literal keys) */
};

/* an evaluated key must not repeat another key (GitHub: "'x' is already defined") */
static int dup_key(struct walk *w, const char *key)
{
	for (size_t i = 0; i < w->evaluated.nr; i++)
		if (!strcasecmp(w->evaluated.v[i], key))
			return 1;
	for (size_t i = 0; i < ynode_map_size(w->top); i++) {
		const struct ynode *k = ynode_map_key(w->top, i);
		if (k->kind == YNODE_SCALAR && k->str && !plan_has_expr(k->str, k->len) &&
		    !strcasecmp(k->str, key))
			return 1;
	}
	return 0;
}

static int evaluated_pair(struct walk *w, const struct ynode *at, const char *key,
			  const struct ynode *vnode, const struct ev *value)
{
	if (dup_key(w, key)) {
		buf_addf(w->err, "'%s' is already defined", key);
		*w->at = at;
		return -1;
	}
	strvec_push(&w->evaluated, key);
	if (w->cb(w->arg, key, vnode, value, w->err) < 0) {
		*w->at = vnode ? vnode : at;
		return -1;
	}
	return 0;
}

static int walk_map(struct walk *w, const struct ynode *map, int depth)
{
	if (depth > VALUE_MAX_DEPTH) {
		buf_addstr(w->err, "'${{ insert }}' nested too deeply");
		*w->at = map;
		return -1;
	}
	for (size_t i = 0; i < ynode_map_size(map); i++) {
		const struct ynode *k = ynode_map_key(map, i), *v = ynode_map_val(map, i);
		if (k->kind != YNODE_SCALAR || !k->str || !plan_has_expr(k->str, k->len)) {
			const char *key = k->kind == YNODE_SCALAR && k->str ? k->str : "";
			if (depth ? evaluated_pair(w, k, key, v, NULL) < 0
				  : w->cb(w->arg, key, v, NULL, w->err) < 0) {
				if (!*w->at)
					*w->at = v;
				return -1;
			}
			continue;
		}
		if (!is_insert(k)) {
			struct ev *kv = w->eval(w->arg, k, w->err);
			if (!kv) {
				*w->at = k;
				return -1;
			}
			if (ev_kind(kv) == EV_ARRAY || ev_kind(kv) == EV_OBJECT) {
				buf_addf(w->err, "a mapping key must be a string, not %s",
					 ev_kind(kv) == EV_ARRAY ? "an array" : "an object");
				ev_unref(kv);
				*w->at = k;
				return -1;
			}
			struct buf key = BUF_INIT;
			ev_to_string(kv, &key);
			ev_unref(kv);
			int r = evaluated_pair(w, k, key.buf, v, NULL);
			buf_release(&key);
			if (r < 0)
				return -1;
			continue;
		}
		/* ${{ insert }}: a literal mapping, or an expression giving an object */
		if (v->kind == YNODE_MAP) {
			if (walk_map(w, v, depth + 1) < 0)
				return -1;
			continue;
		}
		struct ev *ins = v->kind == YNODE_SCALAR ? w->eval(w->arg, v, w->err) : NULL;
		if (!ins) {
			if (!w->err->len)
				buf_addstr(w->err, "the value of '${{ insert }}' must be a mapping");
			*w->at = v;
			return -1;
		}
		if (ev_kind(ins) != EV_OBJECT) {
			buf_addf(w->err, "the value of '${{ insert }}' must be a mapping, not %s",
				 ev_kind(ins) == EV_NULL ? "null" : ev_kind(ins) == EV_ARRAY ? "an array"
				 : ev_kind(ins) == EV_STRING ? "a string" : "a scalar");
			ev_unref(ins);
			*w->at = v;
			return -1;
		}
		for (size_t j = 0; j < ev_len(ins); j++)
			if (evaluated_pair(w, v, ev_object_key_at(ins, j), NULL,
					   ev_object_val_at(ins, j)) < 0) {
				ev_unref(ins);
				*w->at = v;
				return -1;
			}
		ev_unref(ins);
	}
	return 0;
}

int plan_map_walk(const struct ynode *map, plan_eval_fn eval, plan_pair_fn cb, void *arg,
		  struct buf *err, const struct ynode **at)
{
	const struct ynode *dummy = NULL;
	struct walk w = { eval, cb, arg, err, at ? at : &dummy, STRVEC_INIT, map };
	*w.at = NULL;
	int r = map && map->kind == YNODE_MAP ? walk_map(&w, map, 0) : 0;
	strvec_clear(&w.evaluated);
	return r;
}

int plan_map_has_exprs(const struct ynode *map)
{
	for (size_t i = 0; map && map->kind == YNODE_MAP && i < ynode_map_size(map); i++) {
		const struct ynode *k = ynode_map_key(map, i);
		if (k->kind == YNODE_SCALAR && k->str && plan_has_expr(k->str, k->len))
			return 1;
	}
	return 0;
}

/* node_value's mapping: keys and inserts through plan_map_walk */
struct value_walk {
	const struct expr_ctx *ctx;
	struct ev *obj;
	int *line, *col, depth;
};

static struct ev *node_value(const struct ynode *n, const struct expr_ctx *ctx, struct buf *err,
			     int *line, int *col, int depth);

static struct ev *value_eval(void *arg, const struct ynode *n, struct buf *err)
{
	struct value_walk *vw = arg;
	return node_value(n, vw->ctx, err, NULL, NULL, vw->depth + 1);
}

static int value_pair(void *arg, const char *key, const struct ynode *vnode,
		      const struct ev *value, struct buf *err)
{
	struct value_walk *vw = arg;
	struct ev *item = vnode ? node_value(vnode, vw->ctx, err, vw->line, vw->col, vw->depth + 1)
				: ev_ref(value);
	if (!item)
		return -1;
	ev_object_set(vw->obj, key, item);
	return 0;
}

static struct ev *node_value(const struct ynode *n, const struct expr_ctx *ctx, struct buf *err,
			     int *line, int *col, int depth)
{
	if (!n)
		return ev_null();
	if (depth > VALUE_MAX_DEPTH) {
		buf_addstr(err, "value nested too deeply");
		goto bad;
	}
	struct ev *v = NULL;
	switch (n->kind) {
	case YNODE_SCALAR:
		v = scalar_value(n, ctx, err);
		if (!v)
			goto bad;
		return v;
	case YNODE_SEQ:
		v = ev_array();
		for (size_t i = 0; i < n->nr; i++) {
			const struct ynode *in = n->items[i];
			struct ev *item = node_value(in, ctx, err, line, col, depth + 1);
			if (!item) {
				ev_unref(v);
				return NULL;
			}
			/* an item that is an expression giving a sequence is spliced in
			 * (GitHub's unraveler; act's evalmatrix-merge-array) */
			if (in->kind == YNODE_SCALAR && ev_kind(item) == EV_ARRAY &&
			    plan_has_expr(in->str, in->len)) {
				for (size_t j = 0; j < ev_len(item); j++)
					ev_array_push(v, ev_ref(ev_array_at(item, j)));
				ev_unref(item);
				continue;
			}
			ev_array_push(v, item);
		}
		return v;
	case YNODE_MAP: {
		struct value_walk vw = { ctx, ev_object(), line, col, depth };
		const struct ynode *at = NULL;
		if (plan_map_walk(n, value_eval, value_pair, &vw, err, &at) < 0) {
			ev_unref(vw.obj);
			if (at && line && !*line) {
				*line = at->line;
				if (col)
					*col = at->col;
			}
			return NULL;
		}
		return vw.obj;
	}
	}
bad:
	if (line && !*line) {
		*line = n->line;
		if (col)
			*col = n->col;
	}
	return NULL;
}

struct ev *plan_value(const struct ynode *n, const struct expr_ctx *ctx, struct buf *err,
		      int *line, int *col)
{
	if (line)
		*line = 0;
	if (col)
		*col = 0;
	return node_value(n, ctx, err, line, col, 0);
}

/* GitHub's string -> number conversion (empty / blank is 0) */
static double str_number(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return 0;
	char *end;
	double d;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		errno = 0;
		unsigned long long v = strtoull(s + 2, &end, s[1] == 'x' ? 16 : 8);
		d = errno ? NAN : (double)v;
	} else {
		/* no hex floats, no "inf"/"nan" words: only decimal notation */
		for (const char *p = s; *p && !isspace((unsigned char)*p); p++)
			if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p))
				return NAN;
		d = strtod(s, &end);
	}
	while (isspace((unsigned char)*end))
		end++;
	return *end ? NAN : d;
}

static double to_number(const struct ev *v)
{
	switch (ev_kind(v)) {
	case EV_NULL: return 0;
	case EV_BOOL: return ev_get_bool(v) ? 1 : 0;
	case EV_NUMBER: return ev_get_number(v);
	case EV_STRING: return str_number(ev_get_str(v, NULL));
	case EV_ARRAY:
	case EV_OBJECT: return NAN;
	}
	return NAN;
}

int plan_value_equal(const struct ev *a, const struct ev *b)
{
	enum ev_kind ka = ev_kind(a), kb = ev_kind(b);
	if (ka == kb) {
		switch (ka) {
		case EV_NULL: return 1;
		case EV_BOOL: return ev_get_bool(a) == ev_get_bool(b);
		case EV_NUMBER: return ev_get_number(a) == ev_get_number(b);
		case EV_STRING: {
			size_t la, lb;
			const char *sa = ev_get_str(a, &la), *sb = ev_get_str(b, &lb);
			return la == lb && !strncasecmp(sa, sb, la);
		}
		case EV_ARRAY:
		case EV_OBJECT: return a == b;
		}
	}
	return to_number(a) == to_number(b);
}
