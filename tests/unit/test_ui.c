/* unit tests for src/ui: HTML escaping and html_addf, templates, cookies,
 * CSRF tokens, form bodies, the sign-in redirect check, log annotations,
 * the rollout graph */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "ui/assets.h"
#include "ui/html.h"
#include "ui/logview.h"
#include "ui/markdown.h"
#include "ui/rollout_graph.h"
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
	assert_int_equal(ui_form_parse("csrf=x\0y", 8, &f), KILN_EINVAL); /* not "x" */
	strvec_clear(&f);
	assert_int_equal(ui_form_parse("a\0b=1", 5, &f), KILN_EINVAL);
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

/* a stored annotation finds its own log line, in order, past look-alikes */
static void test_find_annotation(void **state)
{
	const char *log = "> step\nerror: a.c:1: boom\nwarning: x\nerror: a.c:1: boom\nerror: b\n";
	struct logview_opts o = { 1, 0, "", NULL, 0, NULL, 0 };
	struct logview_info info = LOGVIEW_INFO_INIT;
	struct buf html = BUF_INIT;
	size_t cursor = 0;
	logview_render(log, strlen(log), &o, &html, &info);
	assert_int_equal(html.len, 0); /* an empty window: only the scan */
	/* the first stored one is the second look-alike line (the first was
	 * plain output): the caller's order decides */
	cursor = 1;
	assert_int_equal(logview_find_annotation(&info, &cursor, "error", "a.c", 1, "boom"), 4);
	assert_int_equal(logview_find_annotation(&info, &cursor, "error", "", 0, "b\nmore"), 5);
	assert_int_equal(logview_find_annotation(&info, &cursor, "error", "", 0, "b"), 0);
	cursor = 0;
	assert_int_equal(logview_find_annotation(&info, &cursor, "warning", NULL, 0, "x"), 3);
	assert_int_equal(logview_find_annotation(&info, &cursor, "notice", NULL, 0, "x"), 0);
	/* rendered with the stored ones as marks: only they are annotations */
	struct logview_mark marks[] = { { 4, "T <1>" }, { 5, "" } };
	struct logview_opts m = { 1, 100, "?line=", NULL, 0, marks, 2 };
	struct logview_info info2 = LOGVIEW_INFO_INIT;
	buf_reset(&html);
	logview_render(log, strlen(log), &m, &html, &info2);
	assert_non_null(strstr(html.buf, "<div class=\"l\" id=\"L2\">"));
	assert_non_null(strstr(html.buf, "<div class=\"l\" id=\"L3\">"));
	assert_non_null(strstr(html.buf, "<div class=\"l ann ann-error\" id=\"L4\">"));
	assert_non_null(strstr(html.buf, "<strong>error:</strong> <em class=\"ann-title\">T &lt;1&gt;</em> "
					 "<span>a.c:1: boom</span>"));
	assert_non_null(strstr(html.buf, "<div class=\"l ann ann-error\" id=\"L5\">"));
	assert_null(strstr(html.buf, "<em class=\"ann-title\"></em>"));
	logview_info_release(&info2);
	logview_info_release(&info);
	buf_release(&html);
	(void)state;
}

static void test_rollout_time(void **state)
{
	assert_int_equal(rollout_parse_time("2026-12-06T06:10:55.123Z"), 1796537455123LL);
	assert_int_equal(rollout_parse_time("2026-12-06T06:10:55Z"), 1796537455000LL);
	assert_int_equal(rollout_parse_time("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(rollout_parse_time("yesterday"), 0);
	(void)state;
}

static struct drelease release(long id, const char *strategy, const char *outcome)
{
	struct drelease r;
	memset(&r, 0, sizeof(r));
	r.id = id;
	snprintf(r.app, sizeof(r.app), "web");
	snprintf(r.version, sizeof(r.version), "v2");
	snprintf(r.strategy, sizeof(r.strategy), "%s", strategy);
	snprintf(r.outcome, sizeof(r.outcome), "%s", outcome);
	return r;
}

/* a canary whose analysis fails: steps, the traffic over time, the
 * analysis marks by shape, the rollback point, the stopped step */
static void test_rollout_canary_rollback(void **state)
{
	struct daudit ev[] = {
		{ "2026-12-06T06:00:00.000Z", "deploy-start", "v2 by ann with canary (stable: v1)" },
		{ "2026-12-06T06:00:00.000Z", "plan", "canary: setWeight 25, analysis 2, setWeight 50" },
		{ "2026-12-06T06:00:01.000Z", "step", "step 1/3: setWeight 25" },
		{ "2026-12-06T06:00:01.000Z", "set-weight", "canary 25%, stable 75% (1ms)" },
		{ "2026-12-06T06:00:01.000Z", "step", "step 2/3: analysis 2" },
		{ "2026-12-06T06:00:03.000Z", "analysis", "round 1 (ok 1, failed 0, inconclusive 0): ok at canary weight 25%: error rate 0.0%" },
		{ "2026-12-06T06:00:05.000Z", "analysis", "round 4 (ok 1, failed 0, inconclusive 3): inconclusive: 3 request(s) < minimum 20" },
		{ "2026-12-06T06:00:07.000Z", "analysis", "round 5 (ok 1, failed 1, inconclusive 3): failed at canary weight 25%: <b>5xx</b>" },
		{ "2026-12-06T06:00:07.000Z", "incident", "analysis failed; traffic back on v1 in 1ms" },
		{ "2026-12-06T06:00:10.000Z", "rolled-back", "v2 in 10s: analysis failed" },
	};
	struct drelease r = release(7, "canary", "rolled-back");
	struct buf b = BUF_INIT;
	rollout_graph(&r, ev, ARRAY_SIZE(ev), 0, &b);
	assert_non_null(strstr(b.buf, "<div class=\"rg\" data-release=\"7\" data-state=\"rolled-back\" "
				      "data-share=\"0\" data-step=\"2\">"));
	assert_non_null(strstr(b.buf, "<li class=\"rg-done\"><span class=\"rg-n\">1</span> setWeight 25"));
	assert_non_null(strstr(b.buf, "<li class=\"rg-stopped\"><span class=\"rg-n\">2</span> analysis 2"));
	assert_non_null(strstr(b.buf, "<li class=\"rg-pending\"><span class=\"rg-n\">3</span> setWeight 50"));
	/* 10 s over 680 px: 25% from x=132 (1 s), back to 0 at x=540 (7 s) */
	assert_non_null(strstr(b.buf, "<path class=\"rg-new\" d=\"M64 168 L64 168 L64 168 L132 168 L132 133 "
				      "L540 133 L540 168 L744 168 L744 168Z\"/>"));
	assert_non_null(strstr(b.buf, "<circle class=\"rg-ok\" cx=\"268\""));
	assert_non_null(strstr(b.buf, "<circle class=\"rg-inc\" cx=\"404\""));
	assert_non_null(strstr(b.buf, "<path class=\"rg-fail\" d=\"M535 195"));
	assert_non_null(strstr(b.buf, "<g class=\"rg-rollback\"><title>rollback: analysis failed;"));
	assert_non_null(strstr(b.buf, "&lt;b&gt;5xx&lt;/b&gt;"));
	assert_null(strstr(b.buf, "<b>5xx"));
	/* the totals of the last row (rounds 2 and 3 were not audited) */
	assert_non_null(strstr(b.buf, "analysis: 1 ok, 1 failed, 3 inconclusive"));
	/* steps 1 and 2 start together: their labels side by side */
	assert_non_null(strstr(b.buf, "text-anchor=\"middle\">1</text>"));
	assert_non_null(strstr(b.buf, "<text x=\"144\" y=\"20\" text-anchor=\"middle\">2</text>"));
	buf_release(&b);
	(void)state;
}

/* rolling batches: the share of new instances; a running release ends
 * its time axis at now; blue-green: the switch */
static void test_rollout_rolling_bluegreen(void **state)
{
	struct daudit roll[] = {
		{ "2026-12-06T06:00:00Z", "deploy-start", "v2 by - with rolling (stable: v1)" },
		{ "2026-12-06T06:00:00Z", "plan", "rolling: 3 instances, maxSurge 1, maxUnavailable 0" },
		{ "2026-12-06T06:00:02Z", "rolling", "new 1 of 3, old 3: started instance 1" },
		{ "2026-12-06T06:00:04Z", "rolling", "new 1 of 3, old 2: draining s0 (v1)" },
	};
	struct drelease r = release(8, "rolling", "running");
	struct buf b = BUF_INIT;
	rollout_graph(&r, roll, ARRAY_SIZE(roll), rollout_parse_time("2026-12-06T06:00:08Z"), &b);
	assert_non_null(strstr(b.buf, "data-state=\"running\" data-share=\"33\" data-step=\"0\""));
	assert_null(strstr(b.buf, "rg-steps"));
	assert_non_null(strstr(b.buf, "L234 168 L234 133 L404 133 L404 122 L744 122"));
	assert_non_null(strstr(b.buf, "8s (now)</text>"));
	buf_reset(&b);
	struct daudit bg[] = {
		{ "2026-12-06T06:00:00Z", "plan", "blueGreen: 2 instances, autoPromote off" },
		{ "2026-12-06T06:00:05Z", "promote", "requested in phase waiting for promote" },
		{ "2026-12-06T06:00:05Z", "switch", "100% to v2 in 2ms" },
		{ "2026-12-06T06:00:06Z", "succeeded", "v2 in 6s: switch took 2ms" },
	};
	r = release(9, "blueGreen", "succeeded");
	rollout_graph(&r, bg, ARRAY_SIZE(bg), 0, &b);
	assert_non_null(strstr(b.buf, "data-state=\"succeeded\" data-share=\"100\""));
	assert_non_null(strstr(b.buf, "with blueGreen"));
	assert_non_null(strstr(b.buf, "<g class=\"rg-promote\">"));
	assert_non_null(strstr(b.buf, "L630 168 L630 28 L744 28"));
	buf_release(&b);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),   cmocka_unit_test(test_template),
		cmocka_unit_test(test_cookies),  cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_form),     cmocka_unit_test(test_next),
		cmocka_unit_test(test_ansi),     cmocka_unit_test(test_logview),
		cmocka_unit_test(test_markdown), cmocka_unit_test(test_find_annotation),
		cmocka_unit_test(test_rollout_time), cmocka_unit_test(test_rollout_canary_rollback),
		cmocka_unit_test(test_rollout_rolling_bluegreen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
