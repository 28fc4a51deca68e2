/* unit tests for src/ui: HTML escaping and html_addf, templates, cookies,
 * CSRF tokens, form bodies, the sign-in redirect check */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "ui/assets.h"
#include "ui/html.h"
#include "ui/logview.h"
#include "ui/markdown.h"
#include "ui/session.h"

static void test_escape(void **state)
{
	struct buf b = BUF_INIT;
	html_esc(&b, "<script>alert('x')</script> & \"q\"");
	assert_string_equal(b.buf, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
	buf_reset(&b);
	html_addf(&b, "<a href=\"/runs?branch=%U\" title=\"%s\">%s</a>%S %d %D %%", "feat/<x>&y",
		  "a\"b", "<b>", "<i>ok</i>", -3, (int64_t)1 << 40);
	assert_string_equal(b.buf, "<a href=\"/runs?branch=feat%2F%3Cx%3E%26y\" title=\"a&quot;b\">"
				   "&lt;b&gt;</a><i>ok</i> -3 1099511627776 %");
	buf_reset(&b);
	html_addf(&b, "%s|%S", NULL, NULL);
	assert_string_equal(b.buf, "|");
	buf_release(&b);
}

static void test_template(void **state)
{
	struct buf b = BUF_INIT;
	const struct tmpl_var v[] = { { "t", "<x>" }, { "raw", "<em>y</em>" }, { "nil", NULL } };
	tmpl_render(&b, "a{{t}}b{{{raw}}}c{{nil}}d", v, 3);
	assert_string_equal(b.buf, "a&lt;x&gt;b<em>y</em>cd");
	buf_release(&b);
	/* the layout is embedded and names what ui_page gives */
	assert_non_null(ui_asset_find("layout.html"));
	assert_non_null(ui_asset_find("kiln.css"));
	assert_null(ui_asset_find("nope.css"));
	assert_int_equal(strlen(ui_asset_find("kiln.js")->hash), 12);
}

static void test_cookies(void **state)
{
	char v[80];
	assert_int_equal(ui_cookie_get("a=1; kiln_session=kiln_abc;b=2", "kiln_session", v, sizeof(v)), 1);
	assert_string_equal(v, "kiln_abc");
	assert_int_equal(ui_cookie_get("xkiln_session=1", "kiln_session", v, sizeof(v)), 0);
	assert_int_equal(ui_cookie_get("kiln_session=", "kiln_session", v, sizeof(v)), 0);
	assert_int_equal(ui_cookie_get("k=0123456789", "k", v, 5), 0); /* too long: not cut */
	assert_int_equal(ui_cookie_get(NULL, "k", v, sizeof(v)), 0);
	struct buf b = BUF_INIT;
	ui_cookie_set(&b, "kiln_session", "t", 60, 1);
	assert_string_equal(b.buf, "kiln_session=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure");
	buf_release(&b);
}

static void test_csrf(void **state)
{
	char a[UI_CSRF_LEN + 1], b[UI_CSRF_LEN + 1];
	ui_csrf_token("kiln_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", a);
	ui_csrf_token("kiln_0123456789abcdefghijklmnopqrstuvwxyzABCDEFH", b);
	assert_int_equal(strlen(a), UI_CSRF_LEN);
	assert_string_not_equal(a, b);
	assert_int_equal(ui_csrf_check("kiln_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", a), 1);
	assert_int_equal(ui_csrf_check("kiln_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", b), 0);
	assert_int_equal(ui_csrf_check("kiln_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", NULL), 0);
	assert_int_equal(ui_csrf_check("kiln_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", ""), 0);
	/* no secret (no session): nothing matches, not even the filler */
	ui_csrf_token("", a);
	assert_int_equal(ui_csrf_check("", a), 0);
	char r1[65], r2[65];
	ui_random_hex(r1);
	ui_random_hex(r2);
	assert_int_equal(strlen(r1), 64);
	assert_string_not_equal(r1, r2);
}

static void test_form(void **state)
{
	struct strvec f = STRVEC_INIT;
	const char *body = "csrf=ab&next=%2Fruns%3Fx%3D1&user=a+b&empty=&flag";
	assert_int_equal(ui_form_parse(body, strlen(body), &f), 0);
	assert_string_equal(strvec_getenv(&f, "next"), "/runs?x=1");
	assert_string_equal(strvec_getenv(&f, "user"), "a b");
	assert_string_equal(strvec_getenv(&f, "empty"), "");
	assert_string_equal(strvec_getenv(&f, "flag"), "");
	strvec_clear(&f);
	assert_int_equal(ui_form_parse("a=%4", 4, &f), KILN_EINVAL);
	strvec_clear(&f);
	assert_int_equal(ui_form_parse("a=%zz", 5, &f), KILN_EINVAL);
	strvec_clear(&f);
	assert_int_equal(ui_form_parse("a=%00", 5, &f), KILN_EINVAL);
	strvec_clear(&f);
	assert_int_equal(ui_form_parse("", 0, &f), 0);
	strvec_clear(&f);
}

static void test_next(void **state)
{
	assert_int_equal(ui_next_ok("/runs/3"), 1);
	assert_int_equal(ui_next_ok("//evil.example"), 0);
	assert_int_equal(ui_next_ok("/\\evil.example"), 0);
	assert_int_equal(ui_next_ok("https://evil.example"), 0);
	assert_int_equal(ui_next_ok("/a\nb"), 0);
	assert_int_equal(ui_next_ok(NULL), 0);
}

static void test_ansi(void **state)
{
	struct buf b = BUF_INIT;
	const char *s = "\033[1;31mbold red\033[0m <x> \033[2Kplain\033[42mbg";
	logview_ansi(s, strlen(s), &b);
	assert_string_equal(b.buf, "<span class=\"a31 a-b\">bold red</span> &lt;x&gt; plain"
				   "<span class=\"a42\">bg</span>");
	buf_reset(&b);
	/* a cut sequence at the end is dropped, not printed */
	logview_ansi("a\033[3", 5, &b);
	assert_string_equal(b.buf, "a");
	buf_release(&b);
}

static void test_logview(void **state)
{
	const char *log = "> Run build\n== Setup ==\nin group\n##[endgroup]\nafter\n"
			  "error: src/x.c:2: boom <b>\n< Run build: failure\n";
	struct logview_opts o = { .from = 1, .count = 100, .href = "?line=" };
	struct logview_info info = LOGVIEW_INFO_INIT;
	struct buf b = BUF_INIT;
	logview_render(log, strlen(log), &o, &b, &info);
	assert_int_equal(info.lines, 6); /* the endgroup marker is not a line */
	assert_int_equal(info.from, 1);
	assert_int_equal(info.to, 6);
	assert_non_null(strstr(b.buf, "<details class=\"step\" open><summary>Run build</summary>"));
	/* the group closes before "after" */
	const char *g = strstr(b.buf, "<details class=\"group\"><summary>Setup</summary>");
	const char *in = strstr(b.buf, "in group"), *after = strstr(b.buf, "after");
	const char *close = in ? strstr(in, "</details>") : NULL;
	assert_non_null(g);
	assert_true(close && after && close < after);
	assert_non_null(strstr(b.buf, "class=\"l ann ann-error\" id=\"L5\""));
	assert_non_null(strstr(b.buf, "src/x.c:2: boom &lt;b&gt;"));
	assert_int_equal(info.annotations.nr, 1);
	assert_string_equal(info.annotations.v[0], "error\t5\tsrc/x.c:2: boom <b>");
	logview_info_release(&info);
	/* a window: lines 3-4 only, annotations still found */
	struct logview_info w = LOGVIEW_INFO_INIT;
	struct logview_opts o2 = { .from = 3, .count = 2, .href = "?line=" };
	buf_reset(&b);
	logview_render(log, strlen(log), &o2, &b, &w);
	assert_int_equal(w.from, 3);
	assert_int_equal(w.to, 4);
	assert_null(strstr(b.buf, "id=\"L2\""));
	assert_null(strstr(b.buf, "id=\"L5\""));
	assert_int_equal(w.annotations.nr, 1);
	logview_info_release(&w);
	buf_release(&b);
}

static void test_markdown(void **state)
{
	struct buf b = BUF_INIT;
	const char *md = "# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>x()</script>\n\n"
			 "[l](javascript:alert(1)) <b onclick=y()>b</b> ~~s~~\n";
	markdown_html(md, strlen(md), &b);
	assert_non_null(strstr(b.buf, "<table>"));
	assert_non_null(strstr(b.buf, "<del>s</del>"));
	assert_null(strstr(b.buf, "<script"));
	assert_null(strstr(b.buf, "onclick"));
	assert_null(strstr(b.buf, "javascript:"));
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),   cmocka_unit_test(test_template),
		cmocka_unit_test(test_cookies),  cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_form),     cmocka_unit_test(test_next),
		cmocka_unit_test(test_ansi),     cmocka_unit_test(test_logview),
		cmocka_unit_test(test_markdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
