/*
 * funcs: the expression functions (GitHub docs "Expressions > Functions",
 * semantics of @actions/expressions funcs/ sources): contains, startsWith,
 * endsWith, format, join, toJSON, fromJSON, case, hashFiles and the status
 * functions success(), failure(), cancelled(), always().
 */
#include "base/kiln.h"
#include "expr/eval.h"

static int primitive(const struct ev *v)
{
	return v->kind <= EV_STRING;
}

/* the string form of a primitive, without copying strings */
struct sview {
	const char *s;
	size_t len;
	int ascii;
	struct buf tmp;
};

static void sview_init(struct sview *sv, const struct ev *v)
{
	buf_init(&sv->tmp, 0);
	if (v->kind == EV_STRING) {
		sv->s = v->u.str.s, sv->len = v->u.str.len, sv->ascii = v->ascii;
		return;
	}
	ev_to_string(v, &sv->tmp);
	sv->s = sv->tmp.buf, sv->len = sv->tmp.len, sv->ascii = 1;
}

enum match_mode { M_CONTAINS, M_STARTS, M_ENDS };

static int ascii_match(const char *h, size_t hl, const char *n, size_t nl, enum match_mode m)
{
	if (nl > hl)
		return 0;
	if (m == M_STARTS)
		return expr__ascii_ieq(h, n, nl);
	if (m == M_ENDS)
		return expr__ascii_ieq(h + hl - nl, n, nl);
	if (!nl)
		return 1;
	int c0 = n[0] | 32; /* a letter's both cases; other bytes compare whole below */
	for (size_t i = 0; i + nl <= hl; i++)
		if ((h[i] | 32) == c0 && expr__ascii_ieq(h + i, n, nl))
			return 1;
	return 0;
}

/* contains folds to lower case, startsWith/endsWith to upper (as GitHub) */
static int ci_match(const struct sview *h, const struct sview *n, enum match_mode m)
{
	if (h->ascii && n->ascii)
		return ascii_match(h->s, h->len, n->s, n->len, m);
	struct buf a = BUF_INIT, b = BUF_INIT;
	expr__fold(&a, h->s, h->len, m != M_CONTAINS);
	expr__fold(&b, n->s, n->len, m != M_CONTAINS);
	int r;
	if (b.len > a.len)
		r = 0;
	else if (m == M_STARTS)
		r = !memcmp(a.buf, b.buf, b.len);
	else if (m == M_ENDS)
		r = !memcmp(a.buf + a.len - b.len, b.buf, b.len);
	else
		r = !b.len || memmem(a.buf, a.len, b.buf, b.len) != NULL;
	buf_release(&a);
	buf_release(&b);
	return r;
}

/* the elements of an array argument: an array value, or the lazy filter
 * `filter` over `base` (expr__each), never made into an array */
struct items {
	const struct ev *arr;
	const struct node *filter;
	const struct ev *base;
};

static int items_each(const struct items *it, expr__each_fn *fn, void *arg)
{
	if (!it->arr)
		return expr__each(it->filter, it->base, fn, arg);
	for (size_t i = 0; i < it->arr->u.arr.nr; i++)
		if (fn(arg, it->arr->u.arr.v[i]))
			return 1;
	return 0;
}

static int equals_needle(void *needle, const struct ev *v)
{
	return expr__equals(needle, v);
}

/* contains(array, x): an element equal to x */
static struct ev *contains_items(const struct items *it, const struct ev *needle)
{
	return ev_bool(items_each(it, equals_needle, (void *)needle) == 1);
}

static struct ev *fn_match(const struct ev *const *a, enum match_mode m)
{
	if (m == M_CONTAINS && a[0]->kind == EV_ARRAY) {
		struct items it = { a[0], NULL, NULL };
		return contains_items(&it, a[1]);
	}
	if (!primitive(a[0]) || !primitive(a[1]))
		return ev_bool(0);
	struct sview h, n;
	sview_init(&h, a[0]);
	sview_init(&n, a[1]);
	int r = ci_match(&h, &n, m);
	buf_release(&h.tmp);
	buf_release(&n.tmp);
	return ev_bool(r);
}

/*
 * .NET composite format with only indexes, as format() reads it: appends
 * the result to `out` when `a` is given (the nargs values after the format
 * string), only checks the string when `a` is NULL. Returns NULL or why
 * the string is refused ("is invalid", "references more arguments ...").
 */
static const char *format_scan(const char *s, size_t len, const struct ev *const *a, size_t nargs,
			       struct buf *out)
{
	size_t i = 0;
	while (i < len) {
		const char *lb = memchr(s + i, '{', len - i);
		const char *rb = memchr(s + i, '}', len - i);
		if (lb && (!rb || rb > lb)) {
			size_t l = (size_t)(lb - s);
			if (l + 1 < len && s[l + 1] == '{') {
				buf_add(out, s + i, l - i + 1);
				i = l + 2;
				continue;
			}
			if (rb && (size_t)(rb - s) > l + 1 && s[l + 1] >= '0' && s[l + 1] <= '9') {
				size_t idx = 0, k = l + 1;
				for (; k < len && s[k] >= '0' && s[k] <= '9'; k++)
					idx = idx > 100000 ? idx : idx * 10 + (size_t)(s[k] - '0');
				if (idx + 1 > nargs)
					return "references more arguments than were supplied";
				buf_add(out, s + i, l - i);
				if (a)
					ev_to_string(a[idx], out);
				i = (size_t)(rb - s) + 1;
				if (out->len > EXPR_MAX_MEMORY)
					return NULL;
				continue;
			}
			return "is invalid";
		} else if (rb) {
			size_t r = (size_t)(rb - s);
			if (r + 1 < len && s[r + 1] == '}') {
				buf_add(out, s + i, r - i + 1);
				i = r + 2;
				continue;
			}
			return "is invalid";
		} else {
			buf_add(out, s + i, len - i);
			break;
		}
	}
	return NULL;
}

/* format('{0} {{x}}', a) */
static struct ev *fn_format(struct evst *st, const struct ev *const *a, size_t n)
{
	struct sview fs;
	struct buf out;
	sview_init(&fs, a[0]);
	ev__strbuf_init(&out, fs.len + 16 * (n - 1));
	const char *why = format_scan(fs.s, fs.len, a + 1, n - 1, &out);
	struct ev *r = NULL;
	if (why)
		buf_addf(st->err, "The following format string %s: %.*s", why, (int)fs.len, fs.s);
	else if (expr__charge(st, ev__strbuf_len(&out)) == 0)
		r = ev__strbuf_finish(&out);
	buf_release(&fs.tmp);
	buf_release(&out);
	return r;
}

/* the first format() call with a constant format string it refuses */
static const struct node *bad_format(const struct node *n, struct buf *err)
{
	if (!n)
		return NULL;
	if (n->kind == N_CALL && n->op == FN_FORMAT && n->nkids && n->kids[0]->kind == N_LIT &&
	    ev_kind(n->kids[0]->lit) == EV_STRING) {
		size_t len;
		const char *s = ev_get_str(n->kids[0]->lit, &len);
		struct buf out = BUF_INIT;
		const char *why = format_scan(s, len, NULL, n->nkids - 1, &out);
		buf_release(&out);
		if (why) {
			buf_addf(err, "The following format string %s: %.*s", why, (int)len, s);
			return n->kids[0];
		}
	}
	for (size_t i = 0; i < n->nkids; i++) {
		const struct node *b = bad_format(n->kids[i], err);
		if (b)
			return b;
	}
	return NULL;
}

int expr_check_constants(const struct expr *e, struct buf *err, size_t *err_off)
{
	const struct node *b = bad_format(e->root, err);
	if (b && err_off)
		*err_off = b->pos;
	return b ? -1 : 0;
}

static struct ev *join_finish(struct evst *st, struct buf *out)
{
	struct ev *r = expr__charge(st, ev__strbuf_len(out)) ? NULL : ev__strbuf_finish(out);
	buf_release(out);
	return r;
}

struct joiner {
	struct buf out;
	struct sview sep;
	size_t n; /* items joined so far */
};

static int join_one(void *arg, const struct ev *v)
{
	struct joiner *j = arg;
	if (ev__strbuf_len(&j->out) > EXPR_MAX_MEMORY)
		return 1;
	if (j->n++)
		buf_add(&j->out, j->sep.s, j->sep.len);
	ev_to_string(v, &j->out);
	return 0;
}

/* join(array, sep): sep NULL or not a primitive means ',' */
static struct ev *join_items(struct evst *st, const struct items *it, const struct ev *sep)
{
	struct joiner j = { .n = 0 };
	ev__strbuf_init(&j.out, 64);
	j.sep = (struct sview){ ",", 1, 1, BUF_INIT };
	if (sep && primitive(sep))
		sview_init(&j.sep, sep);
	items_each(it, join_one, &j);
	buf_release(&j.sep.tmp);
	return join_finish(st, &j.out);
}

static struct ev *fn_join(struct evst *st, const struct ev *const *a, size_t n)
{
	if (a[0]->kind == EV_ARRAY) {
		struct items it = { a[0], NULL, NULL };
		return join_items(st, &it, n > 1 ? a[1] : NULL);
	}
	struct buf out;
	ev__strbuf_init(&out, 64);
	if (primitive(a[0]))
		ev_to_string(a[0], &out);
	return join_finish(st, &out);
}

static struct ev *fn_tojson(struct evst *st, const struct ev *const *a)
{
	struct buf out;
	ev__strbuf_init(&out, 128);
	ev_to_json(a[0], &out, EV_JSON_PRETTY);
	struct ev *r = expr__charge(st, ev__strbuf_len(&out)) ? NULL : ev__strbuf_finish(&out);
	buf_release(&out);
	return r;
}

static struct ev *fn_fromjson(struct evst *st, const struct ev *const *a)
{
	struct sview in;
	struct buf why = BUF_INIT;
	sview_init(&in, a[0]);
	size_t b = 0, e = in.len, k;
	while (b < e && expr__is_js_space(in.s, e, b, &k))
		b += k;
	struct ev *r = NULL;
	if (b == e) {
		buf_addstr(st->err, "Error parsing fromJson: empty input");
	} else if (expr__charge(st, in.len) == 0) {
		r = ev_from_json(in.s, in.len, &why);
		if (!r)
			buf_addf(st->err, "Error parsing JSON when evaluating fromJson: %s", why.buf);
	}
	buf_release(&in.tmp);
	buf_release(&why);
	return r;
}

static struct ev *fn_case(struct evst *st, const struct ev *const *a, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		if (a[i]->kind != EV_BOOL) {
			buf_addstr(st->err, "case predicate must evaluate to a boolean value");
			return NULL;
		}
		if (a[i]->u.b)
			return ev_ref(a[i + 1]);
	}
	return ev_ref(a[n - 1]);
}

static struct ev *fn_hashfiles(struct evst *st, const struct ev *const *a, size_t n)
{
	const char *ws = st->ctx ? st->ctx->workspace : NULL;
	if (!ws) {
		buf_addstr(st->err, "hashFiles() is not available here (no workspace)");
		return NULL;
	}
	struct buf out = BUF_INIT;
	if (expr__hash_files(ws, a, n, &out, st->err) < 0) {
		buf_release(&out);
		return NULL;
	}
	return ev__string_take(&out);
}

/* status over the named needed jobs (needs.<name>.result): failure when
 * any failed, cancelled when any was cancelled, else success */
static enum expr_status named_status(struct evst *st, const struct ev *const *a, size_t n)
{
	const struct ev *needs = st->ctx && st->ctx->contexts ?
		ev_object_get(st->ctx->contexts, "needs") : NULL;
	enum expr_status s = EXPR_STATUS_SUCCESS;
	for (size_t i = 0; i < n; i++) {
		struct buf name = BUF_INIT;
		ev_to_string(a[i], &name);
		const struct ev *job = needs ? ev_object_get(needs, name.buf) : NULL;
		const struct ev *res = job ? ev_object_get(job, "result") : NULL;
		const char *r = res && ev_kind(res) == EV_STRING ? ev_get_str(res, NULL) : "";
		buf_release(&name);
		if (!strcmp(r, "failure"))
			return EXPR_STATUS_FAILURE;
		if (!strcmp(r, "cancelled"))
			s = EXPR_STATUS_CANCELLED;
	}
	return s;
}

static struct ev *fn_status(struct evst *st, int id, const struct ev *const *a, size_t n)
{
	enum expr_status s = n ? named_status(st, a, n) :
		st->ctx ? st->ctx->status : EXPR_STATUS_SUCCESS;
	switch (id) {
	case FN_SUCCESS: return ev_bool(s == EXPR_STATUS_SUCCESS);
	case FN_FAILURE: return ev_bool(s == EXPR_STATUS_FAILURE);
	case FN_CANCELLED: return ev_bool(s == EXPR_STATUS_CANCELLED);
	default: return ev_bool(1);
	}
}

static struct ev *dispatch(struct evst *st, int id, const struct ev *const *a, size_t n)
{
	switch (id) {
	case FN_CONTAINS: return fn_match(a, M_CONTAINS);
	case FN_STARTSWITH: return fn_match(a, M_STARTS);
	case FN_ENDSWITH: return fn_match(a, M_ENDS);
	case FN_FORMAT: return fn_format(st, a, n);
	case FN_JOIN: return fn_join(st, a, n);
	case FN_TOJSON: return fn_tojson(st, a);
	case FN_FROMJSON: return fn_fromjson(st, a);
	case FN_CASE: return fn_case(st, a, n);
	case FN_HASHFILES: return fn_hashfiles(st, a, n);
	default: return fn_status(st, id, a, n);
	}
}

/* contains() / join() whose array is a `.*` chain over a context path:
 * the other argument is evaluated, the chain only visited */
static struct ev *call_over_filter(struct evst *st, const struct node *n, const struct ev *base)
{
	struct items it = { NULL, n->kids[0], base };
	struct ev *own = NULL;
	const struct ev *b = n->nkids > 1 ? expr__value(st, n->kids[1], &own) : NULL;
	if (n->nkids > 1 && !b)
		return NULL;
	struct ev *r = n->op == FN_CONTAINS ? contains_items(&it, b) : join_items(st, &it, b);
	ev_unref(own);
	return r;
}

/* arguments are borrowed when they are context paths or literals: only
 * the values evaluated here are referenced and dropped */
struct ev *expr__call(struct evst *st, const struct node *n)
{
	if (n->op == FN_CONTAINS || n->op == FN_JOIN) {
		const struct ev *base = expr__filter_base(st, n->kids[0]);
		if (base)
			return call_over_filter(st, n, base);
	}
	const struct ev *small[8];
	struct ev *own_small[8];
	const struct ev **a = n->nkids <= 8 ? small : xmalloc(n->nkids * sizeof(*a));
	struct ev **own = n->nkids <= 8 ? own_small : xmalloc(n->nkids * sizeof(*own));
	size_t got = 0;
	struct ev *r = NULL;
	for (; got < n->nkids; got++) {
		a[got] = expr__value(st, n->kids[got], &own[got]);
		if (!a[got])
			goto out;
	}
	r = dispatch(st, n->op, a, n->nkids);
out:
	for (size_t i = 0; i < got; i++)
		ev_unref(own[i]);
	if (a != small) {
		free(a);
		free(own);
	}
	return r;
}
