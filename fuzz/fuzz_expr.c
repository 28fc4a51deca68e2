/*
 * fuzz_expr: libFuzzer target for the expression language. The first line
 * of the input is an expression (parsed with GitHub's standard contexts and
 * with the contexts of the rest of the input, when that is a JSON object),
 * the rest is also used as a template and an if: condition, and the whole
 * input as JSON text. hashFiles() is disabled (no workspace).
 */
#include "base/kiln.h"
#include "expr/expr.h"

static const char ctx_json[] =
	"{\"github\":{\"ref\":\"refs/tags/v1\",\"event\":{\"commits\":[{\"id\":\"a\",\"n\":1},"
	"{\"id\":\"B\",\"n\":[2,3]}]}},\"env\":{\"A\":\"1\",\"J\":\"{\\\"x\\\":[1,{}]}\"},"
	"\"matrix\":{\"os\":\"linux\",\"n\":[1,2]},\"needs\":{\"a\":{\"result\":\"success\"}},"
	"\"inputs\":{\"arr\":[1,\"1\",true,null,[],{}],\"nested\":[[1],{\"x\":2}]}}";

static void eval_with(const char *src, size_t len, const struct ev *ctx, const char *const *names)
{
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct expr_parse_opts o = { names, 0, 0, 0 };
	struct expr *e = expr_parse_opts(src, len, names ? &o : NULL, &err, NULL);
	if (e) {
		struct expr_ctx c = { ctx, EXPR_STATUS_FAILURE, NULL, 0, 0 };
		(void)expr_uses_status(e);
		(void)expr_contexts_used(e);
		struct ev *v = expr_eval(e, &c, &err);
		if (v) {
			ev_to_json(v, &out, 1);
			ev_to_string(v, &out);
			(void)ev_truthy(v);
		}
		ev_unref(v);
		expr_free(e);
	}
	buf_release(&err);
	buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nl = memchr(s, '\n', size);
	size_t elen = nl ? (size_t)(nl - s) : size;
	struct buf err = BUF_INIT;
	struct ev *ctx = ev_from_json(ctx_json, sizeof(ctx_json) - 1, &err);

	eval_with(s, elen, ctx, NULL);

	if (nl) {
		/* the rest as contexts: its keys become the named values */
		struct ev *own = ev_from_json(nl + 1, size - elen - 1, &err);
		if (own && ev_kind(own) == EV_OBJECT) {
			size_t n = ev_len(own);
			const char **names = xcalloc(n + 1, sizeof(*names));
			for (size_t i = 0; i < n; i++)
				names[i] = ev_object_key_at(own, i);
			eval_with(s, elen, own, names);
			free(names);
		}
		ev_unref(own);
	}

	/* the whole input as a template and as an if: condition */
	char *text = xstrndup(s, size);
	struct expr_ctx c = { ctx, EXPR_STATUS_SUCCESS, NULL, 0, 0 };
	struct ev *v = expr_interpolate(s, size, &c, &err);
	ev_unref(v);
	(void)expr_eval_if(text, &c, &err);
	long end;
	for (long at = expr_find(s, size, 0, &end); at >= 0 && end >= 0;
	     at = expr_find(s, size, (size_t)end, &end))
		;
	free(text);

	/* JSON round trip: print, re-parse, print again: the same text */
	struct ev *j = ev_from_json(s, size, &err);
	if (j) {
		struct buf a = BUF_INIT, b = BUF_INIT;
		ev_to_json(j, &a, 0);
		struct ev *k = ev_from_json(a.buf, a.len, &err);
		if (!k)
			abort();
		ev_to_json(k, &b, 0);
		if (a.len != b.len || memcmp(a.buf, b.buf, a.len))
			abort();
		ev_unref(k);
		buf_release(&a);
		buf_release(&b);
	}
	ev_unref(j);
	ev_unref(ctx);
	buf_release(&err);
	return 0;
}
