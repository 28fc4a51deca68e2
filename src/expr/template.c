/*
 * template: `${{ }}` inside larger strings (run:, env:, with:, names) and
 * `if:` conditions (GitHub docs "Expressions" and "jobs.<id>.if": the
 * ${{ }} may be omitted; success() && is implied unless the condition
 * calls a status function).
 */
#include "base/kiln.h"
#include "expr/expr-int.h"

static struct expr *parse_for(const char *s, size_t len, const struct expr_ctx *ctx,
			      struct buf *err)
{
	struct expr_parse_opts o = { NULL, ctx ? ctx->allowed : 0, ctx ? ctx->allowed_funcs : 0, 0 };
	return expr_parse_opts(s, len, &o, err, NULL);
}

static struct ev *eval_text(const char *s, size_t len, const struct expr_ctx *ctx,
			    struct buf *err, int *uses_status)
{
	struct expr *e = parse_for(s, len, ctx, err);
	if (!e)
		return NULL;
	if (uses_status)
		*uses_status = e->uses_status;
	struct ev *v = expr_eval(e, ctx, err);
	expr_free(e);
	return v;
}

static const char unclosed[] =
	"the expression is not closed: an unescaped ${{ was found without its closing }}";

struct ev *expr_interpolate(const char *tmpl, size_t len, const struct expr_ctx *ctx,
			    struct buf *err)
{
	long end;
	long at = expr_find(tmpl, len, 0, &end);
	if (at < 0)
		return ev_string(tmpl, len);
	if (end < 0) {
		buf_addstr(err, unclosed);
		return NULL;
	}
	if (at == 0 && (size_t)end == len) /* exactly one expression: keep its type */
		return eval_text(tmpl + 3, len - 5, ctx, err, NULL);
	struct buf out;
	ev__strbuf_init(&out, len);
	size_t from = 0;
	while (at >= 0) {
		if (end < 0) {
			buf_addstr(err, unclosed);
			goto fail;
		}
		buf_add(&out, tmpl + from, (size_t)at - from);
		struct ev *v = eval_text(tmpl + at + 3, (size_t)(end - at - 5), ctx, err, NULL);
		if (!v)
			goto fail;
		ev_to_string(v, &out);
		ev_unref(v);
		from = (size_t)end;
		at = expr_find(tmpl, len, from, &end);
	}
	buf_add(&out, tmpl + from, len - from);
	return ev__strbuf_finish(&out);
fail:
	buf_release(&out);
	return NULL;
}

static int blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

int expr_eval_if(const char *cond, const struct expr_ctx *ctx, struct buf *err)
{
	size_t len = strlen(cond);
	while (len && (cond[len - 1] == ' ' || cond[len - 1] == '\t' || cond[len - 1] == '\n' ||
		       cond[len - 1] == '\r'))
		len--;
	while (len && (*cond == ' ' || *cond == '\t' || *cond == '\n' || *cond == '\r'))
		cond++, len--;
	enum expr_status st = ctx ? ctx->status : EXPR_STATUS_SUCCESS;
	if (blank(cond, len)) /* no condition: success() */
		return st == EXPR_STATUS_SUCCESS;
	long end;
	long at = expr_find(cond, len, 0, &end);
	struct ev *v;
	int uses_status = 0;
	if (at == 0 && (size_t)end == len) {
		struct expr *e = parse_for(cond + 3, len - 5, ctx, err);
		if (!e)
			return -1;
		uses_status = e->uses_status;
		v = uses_status || st == EXPR_STATUS_SUCCESS ? expr_eval(e, ctx, err) : ev_bool(0);
		expr_free(e);
	} else if (at >= 0) {
		/* a template (text around ${{ }}): its string is the value */
		if (st != EXPR_STATUS_SUCCESS)
			return 0;
		v = expr_interpolate(cond, len, ctx, err);
	} else {
		struct expr *e = parse_for(cond, len, ctx, err);
		if (!e)
			return -1;
		uses_status = e->uses_status;
		v = uses_status || st == EXPR_STATUS_SUCCESS ? expr_eval(e, ctx, err) : ev_bool(0);
		expr_free(e);
	}
	if (!v)
		return -1;
	int t = ev_truthy(v);
	ev_unref(v);
	return t;
}
