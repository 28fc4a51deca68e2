/* unit tests for src/expr: values, JSON, numbers, parse/eval API, templates, if: */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "expr/expr.h"

/* evaluate src over contexts given as JSON; the result as compact JSON or "error: ..." */
static char *run(const char *ctx_json, const char *src)
{
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct ev *ctx = ev_from_json(ctx_json, strlen(ctx_json), &err);
	assert_non_null(ctx);
	struct expr_ctx c = { ctx, EXPR_STATUS_SUCCESS, NULL, 0, 0 };
	struct expr *e = expr_parse(src, strlen(src), &err, NULL);
	struct ev *v = e ? expr_eval(e, &c, &err) : NULL;
	if (v)
		ev_to_json(v, &out, 0);
	else
		buf_addf(&out, "error: %s", err.buf);
	ev_unref(v);
	expr_free(e);
	ev_unref(ctx);
	buf_release(&err);
	return buf_detach(&out, NULL);
}

#define EXPECT(ctx, src, want)                          \
	do {                                            \
		char *got_ = run(ctx, src);             \
		assert_string_equal(got_, want);        \
		free(got_);                             \
	} while (0)

static void test_values_refcount_and_case(void **state)
{
	(void)state;
	struct ev *o = ev_object();
	ev_object_set(o, "Foo", ev_cstr("bar"));
	ev_object_set(o, "FOO", ev_number(2)); /* replaces, keeps the first spelling */
	for (int i = 0; i < 40; i++) {       /* big enough for the hash index */
		char k[16];
		snprintf(k, sizeof(k), "Key%d", i);
		ev_object_set(o, k, ev_number(i));
	}
	assert_int_equal(ev_len(o), 41);
	assert_string_equal(ev_object_key_at(o, 0), "Foo");
	assert_true(ev_get_number(ev_object_get(o, "foo")) == 2);
	assert_true(ev_get_number(ev_object_get(o, "KEY39")) == 39);
	assert_null(ev_object_get(o, "key40"));
	struct ev *r = ev_ref(o);
	ev_unref(o);
	assert_int_equal(ev_len(r), 41); /* still alive through the second reference */
	ev_unref(r);
	ev_unref(ev_null()); /* static values are never freed */
	assert_int_equal(ev_kind(ev_null()), EV_NULL);
}

static void test_json_roundtrip(void **state)
{
	(void)state;
	const char *src = "{\"a\":[1,2.5,-0,1e21,\"x\\n\\u00e9\\ud83d\\ude00\"],\"b\":{},\"c\":[],\"A\":3,\"a\":7}";
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct ev *v = ev_from_json(src, strlen(src), &err);
	assert_non_null(v);
	ev_to_json(v, &out, 0);
	/* exact repeat replaces in place; a case variant of a key is dropped */
	assert_string_equal(out.buf, "{\"a\":7,\"b\":{},\"c\":[]}");
	ev_unref(v);
	buf_reset(&out);
	const char *arr = "[1,2.5,-0,1e21,\"\\u00e9\\ud83d\\ude00\"]";
	v = ev_from_json(arr, strlen(arr), &err);
	assert_non_null(v);
	ev_to_json(v, &out, 1);
	assert_string_equal(out.buf, "[\n  1,\n  2.5,\n  0,\n  1e+21,\n  \"é😀\"\n]");
	ev_unref(v);
	assert_null(ev_from_json("[1,", 3, &err));
	assert_true(err.len > 0);
	buf_release(&err);
	buf_release(&out);
}

static void test_numbers_format_like_js(void **state)
{
	(void)state;
	EXPECT("{}", "format('{0}', 0.1)", "\"0.1\"");
	EXPECT("{}", "format('{0}', 1e21)", "\"1e+21\"");
	EXPECT("{}", "format('{0}', -0)", "\"0\"");
	EXPECT("{}", "format('{0}', 1.0000000000000002)", "\"1\""); /* 15 decimals */
	EXPECT("{}", "format('{0}', 0.0000152587890625)", "\"0.000015258789063\""); /* tie rounds up */
	EXPECT("{}", "format('{0}', 123456789012345680000)", "\"123456789012345680000\"");
	EXPECT("{}", "format('{0}', 1e-7)", "\"1e-7\"");
	EXPECT("{}", "0x10 == '16'", "true");
	EXPECT("{}", "'0b101' == 5", "true");
	EXPECT("{}", "' 0o17 ' == 15", "true");
	EXPECT("{}", "'1_000' == 1000", "false");
	EXPECT("{}", "'' == 0 && null == 0 && !(NaN == NaN)", "true");
	EXPECT("{}", "-Infinity < 0", "true");
}

static void test_operators(void **state)
{
	(void)state;
	const char *ctx = "{\"github\":{\"ref\":\"refs/tags/v1\",\"event\":{\"commits\":[{\"id\":\"a\"},{\"id\":\"b\"}]}},"
			  "\"env\":{\"Name\":\"X\"}}";
	EXPECT(ctx, "github.REF", "\"refs/tags/v1\"");
	EXPECT(ctx, "env.name || 'dflt'", "\"X\"");
	EXPECT(ctx, "env.missing || 'dflt'", "\"dflt\"");
	EXPECT(ctx, "env.missing && 'x'", "null");
	EXPECT(ctx, "github.event.commits.*.id", "[\"a\",\"b\"]");
	EXPECT(ctx, "github.event.commits[1].id", "\"b\"");
	EXPECT(ctx, "github['event']['commits'][0]['id']", "\"a\"");
	EXPECT(ctx, "github.event.commits == github.event.commits", "true");
	EXPECT(ctx, "fromJSON('[]') == fromJSON('[]')", "false");
	EXPECT(ctx, "'ABC' == 'abc' && 'a' < 'B'", "true");
	EXPECT(ctx, "contains(github.event.commits.*.id, 'B')", "true");
	EXPECT(ctx, "startsWith(github.ref, 'REFS/') && endsWith(github.ref, 'V1')", "true");
	EXPECT(ctx, "case(false, 1, true, 2, 3)", "2");
	EXPECT(ctx, "format('{{{0}}}', 'x')", "\"{x}\"");
	EXPECT(ctx, "format('{0', 1)", "error: The following format string is invalid: {0");
	EXPECT(ctx, "toJSON(fromJSON('{\"a\":[true,null]}'))",
	       "\"{\\n  \\\"a\\\": [\\n    true,\\n    null\\n  ]\\n}\"");
	EXPECT(ctx, "fromJSON('')", "error: Error parsing fromJson: empty input");
}

static void test_parse_errors_and_limits(void **state)
{
	(void)state;
	struct buf err = BUF_INIT;
	size_t off = 99;
	assert_null(expr_parse("a == (b", strlen("a == (b"), &err, &off));
	assert_null(expr_parse("github.x &&& 1", strlen("github.x &&& 1"), &err, &off));
	buf_reset(&err);
	assert_null(expr_parse("1 == nope.x", strlen("1 == nope.x"), &err, &off));
	assert_int_equal(off, 5);
	assert_true(str_starts_with(err.buf, "Unrecognized named-value: 'nope'"));
	buf_reset(&err);
	/* 10000 nested parentheses: an error, not a stack overflow */
	struct buf deep = BUF_INIT;
	for (int i = 0; i < 10000; i++)
		buf_addch(&deep, '(');
	buf_addch(&deep, '1');
	for (int i = 0; i < 10000; i++)
		buf_addch(&deep, ')');
	assert_null(expr_parse(deep.buf, deep.len, &err, NULL));
	assert_true(str_starts_with(err.buf, "Exceeded max expression"));
	buf_release(&deep);
	/* a long == chain is not nested by GitHub's count, and still evaluates */
	struct buf chain = BUF_INIT;
	buf_addstr(&chain, "true");
	for (int i = 0; i < 3000; i++)
		buf_addstr(&chain, "==true");
	buf_reset(&err);
	struct expr *e = expr_parse(chain.buf, chain.len, &err, NULL);
	assert_non_null(e);
	struct ev *v = expr_eval(e, NULL, &err);
	assert_true(ev_get_bool(v));
	ev_unref(v);
	expr_free(e);
	buf_release(&chain);
	buf_release(&err);
}

static void test_uses_status_and_contexts(void **state)
{
	(void)state;
	struct buf err = BUF_INIT;
	const char *s = "always() && matrix.os == 'x' || needs.a.result";
	struct expr *e = expr_parse(s, strlen(s), &err, NULL);
	assert_non_null(e);
	assert_true(expr_uses_status(e));
	assert_int_equal(expr_contexts_used(e), EXPR_CTX_MATRIX | EXPR_CTX_NEEDS);
	expr_free(e);
	e = expr_parse("github.ref", strlen("github.ref"), &err, NULL);
	assert_false(expr_uses_status(e));
	expr_free(e);
	struct expr_parse_opts o = { NULL, EXPR_CTX_GITHUB, EXPR_FN_STATUS, 0 };
	assert_null(expr_parse_opts("matrix.os", strlen("matrix.os"), &o, &err, NULL));
	assert_true(str_starts_with(err.buf, "Unrecognized named-value: 'matrix'"));
	buf_reset(&err);
	assert_null(expr_parse_opts("hashFiles('x')", strlen("hashFiles('x')"), &o, &err, NULL));
	assert_true(str_starts_with(err.buf, "Unrecognized function: 'hashFiles'"));
	buf_release(&err);
}

static void test_if_and_interpolate(void **state)
{
	(void)state;
	struct buf err = BUF_INIT;
	const char *j = "{\"matrix\":{\"os\":\"linux\",\"n\":3},\"steps\":{\"s\":{\"outputs\":{\"v\":\"\"}}}}";
	struct ev *ctxv = ev_from_json(j, strlen(j), &err);
	struct expr_ctx c = { ctxv, EXPR_STATUS_SUCCESS, NULL, 0, 0 };
	assert_int_equal(expr_eval_if("matrix.os == 'LINUX'", &c, &err), 1);
	assert_int_equal(expr_eval_if("${{ matrix.os == 'mac' }}", &c, &err), 0);
	assert_int_equal(expr_eval_if("", &c, &err), 1);
	assert_int_equal(expr_eval_if("steps.s.outputs.v", &c, &err), 0);
	c.status = EXPR_STATUS_FAILURE;
	assert_int_equal(expr_eval_if("matrix.os == 'linux'", &c, &err), 0);
	assert_int_equal(expr_eval_if("failure()", &c, &err), 1);
	assert_int_equal(expr_eval_if("success() || matrix.n == 3", &c, &err), 1);
	assert_int_equal(expr_eval_if("cancelled()", &c, &err), 0);
	c.status = EXPR_STATUS_CANCELLED;
	assert_int_equal(expr_eval_if("always()", &c, &err), 1);
	assert_int_equal(expr_eval_if("1 ==", &c, &err), -1);
	c.status = EXPR_STATUS_SUCCESS;

	struct ev *v = expr_interpolate("os-${{ matrix.os }}-${{ matrix.n }}", strlen("os-${{ matrix.os }}-${{ matrix.n }}"), &c, &err);
	assert_non_null(v);
	assert_string_equal(ev_get_str(v, NULL), "os-linux-3");
	ev_unref(v);
	v = expr_interpolate("${{ matrix.n }}", strlen("${{ matrix.n }}"), &c, &err);
	assert_int_equal(ev_kind(v), EV_NUMBER);
	ev_unref(v);
	v = expr_interpolate("no expressions", strlen("no expressions"), &c, &err);
	assert_string_equal(ev_get_str(v, NULL), "no expressions");
	ev_unref(v);
	v = expr_interpolate("x ${{ '}}' }} y", strlen("x ${{ '}}' }} y"), &c, &err);
	assert_string_equal(ev_get_str(v, NULL), "x }} y");
	ev_unref(v);
	buf_reset(&err);
	assert_null(expr_interpolate("a ${{ 1", strlen("a ${{ 1"), &c, &err));
	assert_true(err.len > 0);
	ev_unref(ctxv);
	buf_release(&err);
}

static void test_availability(void **state)
{
	(void)state;
	const struct expr_avail *a = expr_avail_lookup("jobs.<job_id>.if");
	assert_non_null(a);
	assert_int_equal(a->ctx, EXPR_CTX_GITHUB | EXPR_CTX_NEEDS | EXPR_CTX_VARS | EXPR_CTX_INPUTS);
	assert_int_equal(a->funcs, EXPR_FN_STATUS);
	a = expr_avail_lookup("jobs.<job_id>.steps.with.args"); /* inherits steps.with */
	assert_non_null(a);
	assert_string_equal(a->path, "jobs.<job_id>.steps.with");
	assert_true(a->ctx & EXPR_CTX_SECRETS);
	assert_int_equal(a->funcs, EXPR_FN_HASHFILES);
	a = expr_avail_lookup("jobs.<job_id>.services.<service_id>.env.<env_id>");
	assert_string_equal(a->path, "jobs.<job_id>.services.<service_id>.env");
	assert_false(expr_avail_lookup("jobs.<job_id>.steps.if")->ctx & EXPR_CTX_SECRETS);
	assert_false(expr_avail_lookup("jobs.<job_id>.strategy")->ctx & EXPR_CTX_MATRIX);
	assert_null(expr_avail_lookup("permissions"));
	assert_null(expr_avail_lookup("name"));

	struct buf err = BUF_INIT, names = BUF_INIT;
	struct expr_parse_opts o;
	expr_avail_opts(expr_avail_lookup("jobs.<job_id>.runs-on"), &o);
	struct expr *e = expr_parse_opts("matrix.os", strlen("matrix.os"), &o, &err, NULL);
	assert_non_null(e);
	expr_free(e);
	assert_null(expr_parse_opts("steps.x.outputs.y", strlen("steps.x.outputs.y"), &o, &err, NULL));
	assert_null(expr_parse_opts("success()", strlen("success()"), &o, &err, NULL));
	expr_avail_opts(expr_avail_lookup("jobs.<job_id>.if"), &o);
	e = expr_parse_opts("failure() && needs.a.result == 'x'", strlen("failure() && needs.a.result == 'x'"), &o, &err, NULL);
	assert_non_null(e);
	expr_free(e);
	assert_null(expr_parse_opts("hashFiles('x')", strlen("hashFiles('x')"), &o, &err, NULL));
	expr_avail_names(EXPR_CTX_GITHUB | EXPR_CTX_NEEDS, &names);
	assert_string_equal(names.buf, "github, needs");
	buf_release(&names);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_refcount_and_case),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_numbers_format_like_js),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_parse_errors_and_limits),
		cmocka_unit_test(test_uses_status_and_contexts),
		cmocka_unit_test(test_if_and_interpolate),
		cmocka_unit_test(test_availability),
	};
	return cmocka_run_group_tests_name("expr", tests, NULL, NULL);
}
