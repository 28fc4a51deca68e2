/* unit tests for src/base: buf, strvec, diag, did_you_mean */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"

static void test_buf_grow_and_fmt(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	assert_string_equal(b.buf, "");
	for (int i = 0; i < 1000; i++)
		buf_addf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.buf));
	assert_true(str_starts_with(b.buf, "0,1,2,"));
	assert_true(str_ends_with(b.buf, "998,999,"));
	size_t len;
	char *s = buf_detach(&b, &len);
	assert_int_equal(len, strlen(s));
	assert_string_equal(b.buf, "");
	free(s);
	buf_release(&b);
}

static void test_buf_json(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	buf_add_json_str(&b, "a\"b\\c\n\x01", 7);
	assert_string_equal(b.buf, "\"a\\\"b\\\\c\\n\\u0001\"");
	buf_release(&b);
}

/* invalid UTF-8 becomes U+FFFD, one per maximal invalid subpart; valid
 * sequences (2, 3 and 4 bytes) are copied (issue 9: expr --jsonl) */
static void test_buf_json_utf8(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	const char in[] = "a\xff\xfe" "b\xe2\x82" "c\xc3\xa9\xf0\x9f\x98\x80\xed\xa0\x80\xc0\xaf\xe2";
	buf_add_json_str(&b, in, sizeof(in) - 1);
	assert_string_equal(b.buf, "\"a\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xc3\xa9\xf0\x9f\x98\x80"
				   "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	buf_release(&b);
}

static void test_strvec_env(void **state)
{
	(void)state;
	struct strvec env = STRVEC_INIT;
	strvec_setenv(&env, "A", "1");
	strvec_setenv(&env, "AB", "2");
	strvec_setenv(&env, "A", "3");
	assert_int_equal(env.nr, 2);
	assert_string_equal(strvec_getenv(&env, "A"), "3");
	assert_string_equal(strvec_getenv(&env, "AB"), "2");
	assert_null(strvec_getenv(&env, "B"));
	assert_null(env.v[2]);
	strvec_clear(&env);
}

static void test_diag_sorted(void **state)
{
	(void)state;
	struct diags d = DIAGS_INIT;
	diag_err(&d, "f.yml", 5, 2, "second");
	diag_add(&d, DIAG_WARNING, "f.yml", 1, 9, "first");
	diags_sort(&d);
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.v[0].msg, "first");
	assert_int_equal(d.v[1].line, 5);
	diags_release(&d);
}

static void test_did_you_mean(void **state)
{
	(void)state;
	const char *c[] = { "runs-on", "steps", "needs", "strategy" };
	assert_string_equal(did_you_mean("run-on", c, 4), "runs-on");
	assert_string_equal(did_you_mean("stpes", c, 4), "steps");
	assert_null(did_you_mean("completely-else", c, 4));
	assert_int_equal(str_distance("kitten", "sitting"), 3);
}

static void test_duration_str(void **state)
{
	(void)state;
	static const struct {
		double ms;
		const char *want;
	} cases[] = {
		{ 0, "0ms" },	      { 0.001, "0.01ms" },  { 0.17, "0.17ms" },  { 0.5, "0.5ms" },
		{ 1, "1ms" },	      { 2.5, "2.5ms" },     { 9.96, "10ms" },    { 250, "250ms" },
		{ 999.4, "999ms" },   { 999.6, "1s" },      { 1000, "1s" },      { 1500, "1.5s" },
		{ 5000, "5s" },	      { 2345, "2.35s" },    { 12340, "12.3s" },  { 59990, "60s" },
		{ 60000, "1m" },      { 90000, "1m30s" },   { 120000, "2m" },    { 3600000, "1h" },
		{ 3605000, "1h0m5s" }, { 3720000, "1h2m" }, { 86400000, "24h" }, { -1, "-" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *got = duration_str(cases[i].ms).s;
		if (strcmp(got, cases[i].want)) {
			print_error("duration_str(%g) = '%s', want '%s'\n", cases[i].ms, got, cases[i].want);
			fail();
		}
	}
}

static void test_url_redact(void **state)
{
	(void)state;
	const char *cases[][2] = {
		{ "https://x-access-token:s3cr3t@example.com/o/r", "https://***@example.com/o/r" },
		{ "https://u:p@ss@host/a@b", "https://***@host/a@b" },
		{ "https://host/o/r", "https://host/o/r" },
		{ "git://127.0.0.1:9418/o", "git://127.0.0.1:9418/o" },
		{ "/srv/mirror/o/r", "/srv/mirror/o/r" },
		{ "http://tok@h", "http://***@h" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = url_redact(cases[i][0]);
		assert_string_equal(got, cases[i][1]);
		free(got);
	}
}

static void test_days_from_civil(void **state)
{
	(void)state;
	assert_int_equal(days_from_civil(1970, 1, 1), 0);
	assert_int_equal(days_from_civil(1969, 12, 31), -1);
	assert_int_equal(days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(days_from_civil(2024, 2, 29), 19782);
	assert_int_equal(days_from_civil(1600, 1, 1), -135140);
	assert_int_equal(days_from_civil(9999, 12, 31), 2932896);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grow_and_fmt),
		cmocka_unit_test(test_buf_json),
		cmocka_unit_test(test_buf_json_utf8),
		cmocka_unit_test(test_strvec_env),
		cmocka_unit_test(test_diag_sorted),
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_duration_str),
		cmocka_unit_test(test_url_redact),
		cmocka_unit_test(test_days_from_civil),
	};
	return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
