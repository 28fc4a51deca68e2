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
			struct ev *item = node_value(n->items[i], ctx, err, line, col, depth + 1);
			if (!item) {
				ev_unref(v);
				return NULL;
			}
			ev_array_push(v, item);
		}
		return v;
	case YNODE_MAP:
		v = ev_object();
		for (size_t i = 0; i < ynode_map_size(n); i++) {
			const struct ynode *k = ynode_map_key(n, i);
			struct ev *item = node_value(ynode_map_val(n, i), ctx, err, line, col,
						     depth + 1);
			if (!item) {
				ev_unref(v);
				return NULL;
			}
			ev_object_set(v, k->str ? k->str : "", item);
		}
		return v;
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
