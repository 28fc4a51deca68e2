/*
 * json: JSON text <-> values. The parser follows JSON.parse (RFC 8259
 * grammar; a repeated key keeps its first position and last value; keys
 * that differ only in case keep the first, as the reference Dictionary
 * does). The printer follows JSON.stringify, pretty with two-space indent
 * for toJSON, compact otherwise; non-finite numbers print as null.
 */
#include "base/kiln.h"
#include "expr/expr-int.h"

#include <math.h>

struct jp {
	const char *s;
	size_t len, i;
	int depth;
	struct buf *err;
	size_t *errpos; /* NULL: the offset goes into the message */
};

static struct ev *jp_fail(struct jp *p, const char *what)
{
	if (p->errpos && p->err && !p->err->len) {
		*p->errpos = p->i < p->len ? p->i : p->len;
		buf_addstr(p->err, what);
	} else if (p->err && !p->err->len) {
		if (p->i >= p->len)
			buf_addf(p->err, "%s at end of input", what);
		else
			buf_addf(p->err, "%s at offset %zu", what, p->i);
	}
	return NULL;
}

static void jp_ws(struct jp *p)
{
	while (p->i < p->len) {
		char c = p->s[p->i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->i++;
	}
}

static struct ev *jp_value(struct jp *p);

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	for (int k = 0; k < 4; k++) {
		char c = s[k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* a string literal at p->i (the opening quote); its bytes into out */
static int jp_string(struct jp *p, struct buf *out)
{
	p->i++;
	for (;;) {
		if (p->i >= p->len)
			return jp_fail(p, "unterminated string"), -1;
		unsigned char c = (unsigned char)p->s[p->i];
		if (c == '"') {
			p->i++;
			return 0;
		}
		if (c < 0x20)
			return jp_fail(p, "control character in string"), -1;
		if (c != '\\') {
			size_t j = p->i + 1;
			while (j < p->len && p->s[j] != '"' && p->s[j] != '\\' &&
			       (unsigned char)p->s[j] >= 0x20)
				j++;
			buf_add(out, p->s + p->i, j - p->i);
			p->i = j;
			continue;
		}
		if (p->i + 1 >= p->len)
			return jp_fail(p, "unterminated string"), -1;
		char e = p->s[p->i + 1];
		p->i += 2;
		switch (e) {
		case '"': buf_addch(out, '"'); break;
		case '\\': buf_addch(out, '\\'); break;
		case '/': buf_addch(out, '/'); break;
		case 'b': buf_addch(out, '\b'); break;
		case 'f': buf_addch(out, '\f'); break;
		case 'n': buf_addch(out, '\n'); break;
		case 'r': buf_addch(out, '\r'); break;
		case 't': buf_addch(out, '\t'); break;
		case 'u': {
			unsigned u, lo;
			if (p->i + 4 > p->len || hex4(p->s + p->i, &u) < 0)
				return jp_fail(p, "bad \\u escape"), -1;
			p->i += 4;
			if (u >= 0xd800 && u <= 0xdbff && p->i + 6 <= p->len && p->s[p->i] == '\\' &&
			    p->s[p->i + 1] == 'u' && !hex4(p->s + p->i + 2, &lo) && lo >= 0xdc00 &&
			    lo <= 0xdfff) {
				p->i += 6;
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			} else if (u >= 0xd800 && u <= 0xdfff) {
				u = 0xfffd; /* a lone surrogate has no UTF-8 form */
			}
			expr__utf8_put(out, u);
			break;
		}
		default:
			p->i--;
			return jp_fail(p, "bad escape"), -1;
		}
	}
}

/* a string literal at p->i as a value: straight from the input when it
 * has no escapes (the common case), else through jp_string */
static struct ev *jp_string_value(struct jp *p)
{
	size_t j = p->i + 1;
	while (j < p->len && p->s[j] != '"' && p->s[j] != '\\' && (unsigned char)p->s[j] >= 0x20)
		j++;
	if (j < p->len && p->s[j] == '"') {
		struct ev *v = ev_string(p->s + p->i + 1, j - p->i - 1);
		p->i = j + 1;
		return v;
	}
	struct buf b = BUF_INIT;
	if (jp_string(p, &b) < 0) {
		buf_release(&b);
		return NULL;
	}
	return ev__string_take(&b);
}

static struct ev *jp_number(struct jp *p)
{
	size_t b = p->i;
	const char *s = p->s;
	if (p->i < p->len && s[p->i] == '-')
		p->i++;
	if (p->i < p->len && s[p->i] == '0') {
		p->i++;
	} else if (p->i < p->len && s[p->i] >= '1' && s[p->i] <= '9') {
		while (p->i < p->len && s[p->i] >= '0' && s[p->i] <= '9')
			p->i++;
	} else {
		return jp_fail(p, "unexpected character");
	}
	int whole = 1; /* no fraction, no exponent */
	if (p->i < p->len && s[p->i] == '.') {
		whole = 0;
		p->i++;
		size_t d = p->i;
		while (p->i < p->len && s[p->i] >= '0' && s[p->i] <= '9')
			p->i++;
		if (d == p->i)
			return jp_fail(p, "bad number");
	}
	if (p->i < p->len && (s[p->i] == 'e' || s[p->i] == 'E')) {
		whole = 0;
		p->i++;
		if (p->i < p->len && (s[p->i] == '+' || s[p->i] == '-'))
			p->i++;
		size_t d = p->i;
		while (p->i < p->len && s[p->i] >= '0' && s[p->i] <= '9')
			p->i++;
		if (d == p->i)
			return jp_fail(p, "bad number");
	}
	size_t n = p->i - b;
	if (n <= 15 && whole) {
		/* an integer of at most 15 characters: exact in a double */
		int neg = s[b] == '-';
		int64_t v = 0;
		for (size_t k = b + (size_t)neg; k < p->i; k++)
			v = v * 10 + (s[k] - '0');
		if (!v && neg)
			return ev_number(-0.0);
		return ev_number(neg ? (double)-v : (double)v);
	}
	char stack[64];
	char *tmp = n < sizeof(stack) ? stack : xmalloc(n + 1);
	memcpy(tmp, s + b, n);
	tmp[n] = '\0';
	double d = strtod(tmp, NULL);
	if (tmp != stack)
		free(tmp);
	return ev_number(d);
}

/* skip c when it comes next */
static int jp_eat(struct jp *p, char c)
{
	if (p->i < p->len && p->s[p->i] == c) {
		p->i++;
		return 1;
	}
	return 0;
}

/*
 * Containers collect their first JP_STACK elements on the stack and are
 * then made with room for exactly that many (one allocation for the value
 * and its elements); a longer one grows as before.
 */
#define JP_STACK 16

static struct ev *array_of(struct ev **el, size_t n, size_t cap)
{
	struct ev *a = ev__array_sized(cap, 0);
	for (size_t i = 0; i < n; i++)
		ev_array_push(a, el[i]);
	return a;
}

static struct ev *jp_array(struct jp *p)
{
	struct ev *el[JP_STACK], *a = NULL;
	size_t n = 0;
	p->i++;
	jp_ws(p);
	if (jp_eat(p, ']'))
		return ev__array_sized(0, 0);
	for (;;) {
		struct ev *v = jp_value(p);
		if (!v)
			goto fail;
		if (!a && n == JP_STACK)
			a = array_of(el, n, 2 * n);
		if (a)
			ev_array_push(a, v);
		else
			el[n++] = v;
		jp_ws(p);
		if (jp_eat(p, ','))
			continue;
		if (jp_eat(p, ']'))
			return a ? a : array_of(el, n, n);
		jp_fail(p, "expected ',' or ']'");
		goto fail;
	}
fail:
	if (!a)
		a = array_of(el, n, n);
	ev_unref(a);
	return NULL;
}

/* JSON.parse: an exact repeat of a key replaces the value in place */
static struct ev *object_of(struct ev_kv *kv, size_t n, size_t cap)
{
	struct ev *o = ev__object_sized(cap);
	for (size_t i = 0; i < n; i++)
		ev__object_json_puth(o, kv[i].key, kv[i].val, kv[i].hash);
	return o;
}

static struct ev *jp_object(struct jp *p)
{
	struct ev_kv kv[JP_STACK];
	struct ev *o = NULL;
	size_t n = 0;
	p->i++;
	jp_ws(p);
	if (jp_eat(p, '}'))
		return ev__object_sized(0);
	for (;;) {
		jp_ws(p);
		if (p->i >= p->len || p->s[p->i] != '"') {
			jp_fail(p, "expected a string key");
			goto fail;
		}
		struct ev *k = jp_string_value(p);
		if (!k)
			goto fail;
		jp_ws(p);
		if (p->i >= p->len || p->s[p->i] != ':') {
			ev_unref(k);
			jp_fail(p, "expected ':'");
			goto fail;
		}
		p->i++;
		struct ev *v = jp_value(p);
		if (!v) {
			ev_unref(k);
			goto fail;
		}
		if (!o && n == JP_STACK)
			o = object_of(kv, n, 2 * n);
		if (o) {
			ev__object_json_put(o, k, v);
		} else {
			kv[n].key = k;
			kv[n].hash = expr__key_hash(k->u.str.s, k->u.str.len);
			kv[n++].val = v;
		}
		jp_ws(p);
		if (jp_eat(p, ','))
			continue;
		if (jp_eat(p, '}'))
			return o ? o : object_of(kv, n, n);
		jp_fail(p, "expected ',' or '}'");
		goto fail;
	}
fail:
	if (!o)
		o = object_of(kv, n, n);
	ev_unref(o);
	return NULL;
}

static struct ev *jp_value(struct jp *p)
{
	jp_ws(p);
	if (p->i >= p->len)
		return jp_fail(p, "unexpected end of input");
	char c = p->s[p->i];
	const char *rest = p->s + p->i;
	size_t left = p->len - p->i;
	switch (c) {
	case '{':
	case '[': {
		if (++p->depth > EXPR_MAX_JSON_DEPTH)
			return jp_fail(p, "nesting too deep");
		struct ev *v = c == '{' ? jp_object(p) : jp_array(p);
		p->depth--;
		return v;
	}
	case '"':
		return jp_string_value(p);
	case 't':
		if (left >= 4 && !memcmp(rest, "true", 4)) {
			p->i += 4;
			return ev_bool(1);
		}
		break;
	case 'f':
		if (left >= 5 && !memcmp(rest, "false", 5)) {
			p->i += 5;
			return ev_bool(0);
		}
		break;
	case 'n':
		if (left >= 4 && !memcmp(rest, "null", 4)) {
			p->i += 4;
			return ev_null();
		}
		break;
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return jp_number(p);
	}
	return jp_fail(p, "unexpected character");
}

struct ev *ev_from_json(const char *s, size_t len, struct buf *err)
{
	return ev_from_json_at(s, len, NULL, err);
}

struct ev *ev_from_json_at(const char *s, size_t len, size_t *errpos, struct buf *err)
{
	struct jp p = { s, len, 0, 0, err, errpos };
	struct ev *v = jp_value(&p);
	if (!v)
		return NULL;
	jp_ws(&p);
	if (p.i != len) {
		ev_unref(v);
		return jp_fail(&p, "unexpected data after the value");
	}
	return v;
}

/* ---- printing (JSON.stringify) ---- */

/*
 * The printer writes through a raw cursor: each value first makes room for
 * what it writes itself (a container: its brackets; an element: the comma,
 * the indentation and the key at its longest, 6 bytes a byte escaped), so
 * the small pieces are stored without a call or a check each. Strings and
 * numbers that need more than a plain copy go through the buf functions.
 */
static const char spaces[] = "                                                                ";

/* room for n more bytes (and the NUL) after out->len */
static inline char *room(struct buf *out, size_t n)
{
	if (out->alloc - out->len <= n)
		buf_grow(out, n);
	return out->buf + out->len;
}

/* a newline and 2 * level spaces at w (room made) */
static inline char *put_indent(char *w, int level)
{
	size_t n = 2 * (size_t)level;
	*w++ = '\n';
	if (n <= sizeof(spaces) - 1) {
		memcpy(w, spaces, n);
		return w + n;
	}
	memset(w, ' ', n);
	return w + n;
}

/* a whole number 0 <= d < 2^32 (-0 too: "0"), as expr__num_js writes it */
static inline char *put_uint(char *w, uint32_t u)
{
	char t[10];
	size_t i = sizeof(t);
	do {
		t[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	memcpy(w, t + i, sizeof(t) - i);
	return w + sizeof(t) - i;
}

static void to_json(const struct ev *v, struct buf *out, int flags, int level)
{
	int pretty = flags & EV_JSON_PRETTY;
	char *w;
	switch (v->kind) {
	case EV_NULL:
		w = room(out, 4);
		memcpy(w, "null", 4);
		out->len += 4;
		break;
	case EV_BOOL:
		w = room(out, 5);
		memcpy(w, v->u.b ? "true" : "false", 5);
		out->len += v->u.b ? 4 : 5;
		break;
	case EV_NUMBER: {
		double d = v->u.n;
		if (d >= 0 && d < 4294967296.0 && (double)(uint32_t)d == d) {
			w = room(out, 10);
			out->len = (size_t)(put_uint(w, (uint32_t)d) - out->buf);
		} else if (isfinite(d)) {
			expr__num_js(out, d);
		} else if (!(flags & EV_JSON_NONFINITE)) {
			w = room(out, 4);
			memcpy(w, "null", 4);
			out->len += 4;
		} else {
			buf_addstr(out, isnan(v->u.n) ? "NaN" : v->u.n > 0 ? "Infinity" : "-Infinity");
		}
		break;
	}
	case EV_STRING:
		buf_add_json_str(out, v->u.str.s, v->u.str.len);
		break;
	case EV_ARRAY:
	case EV_OBJECT: {
		int arr = v->kind == EV_ARRAY;
		size_t nr = arr ? v->u.arr.nr : v->u.obj.nr;
		if (!nr) {
			w = room(out, 2);
			memcpy(w, arr ? "[]" : "{}", 2);
			out->len += 2;
			break;
		}
		size_t ind = pretty ? 1 + 2 * (size_t)(level + 1) : 0;
		for (size_t i = 0; i < nr; i++) {
			const struct ev *k = arr ? NULL : v->u.obj.kv[i].key;
			/* the comma or bracket, the indentation, the key and ": " */
			w = room(out, 1 + ind + (k ? 6 * k->u.str.len + 4 : 0));
			*w++ = i ? ',' : arr ? '[' : '{';
			if (pretty)
				w = put_indent(w, level + 1);
			out->len = (size_t)(w - out->buf);
			if (arr) {
				to_json(v->u.arr.v[i], out, flags, level + 1);
				continue;
			}
			buf_add_json_str(out, k->u.str.s, k->u.str.len);
			w = out->buf + out->len; /* room made above */
			*w++ = ':';
			if (pretty)
				*w++ = ' ';
			out->len = (size_t)(w - out->buf);
			to_json(v->u.obj.kv[i].val, out, flags, level + 1);
		}
		w = room(out, ind + 1);
		if (pretty)
			w = put_indent(w, level);
		*w++ = arr ? ']' : '}';
		out->len = (size_t)(w - out->buf);
		break;
	}
	}
}

void ev_to_json(const struct ev *v, struct buf *out, int flags)
{
	to_json(v, out, flags, 0);
	room(out, 0);
	out->buf[out->len] = '\0';
}
