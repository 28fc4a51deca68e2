/*
 * unit tests for src/workflow/cron: parsing (valid and invalid), the
 * day-of-month / day-of-week OR rule, next-times tables, and cron_next
 * checked against a brute-force minute scan and libc's calendar.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "workflow/cron.h"

#include <time.h>

static int64_t T(const char *iso)
{
	int64_t t;
	if (cron_parse_time(iso, &t) < 0)
		fail_msg("bad time in test: %s", iso);
	return t;
}

struct next_case {
	const char *expr;
	const char *after;
	const char *want[4]; /* the next times, NULL-terminated */
};

static const struct next_case nexts[] = {
	{ "* * * * *", "2026-11-23T10:41:30Z", { "2026-11-23T10:42:00Z", "2026-11-23T10:43:00Z" } },
	{ "*/15 * * * *", "2026-11-23T10:41:00Z",
	  { "2026-11-23T10:45:00Z", "2026-11-23T11:00:00Z", "2026-11-23T11:15:00Z" } },
	/* GitHub docs example: every day at 5:30 and 17:30 UTC */
	{ "30 5,17 * * *", "2026-11-23T06:00:00Z",
	  { "2026-11-23T17:30:00Z", "2026-11-24T05:30:00Z", "2026-11-24T17:30:00Z" } },
	/* GitHub docs: 15 4,5 * * * = 04:15 and 05:15 */
	{ "15 4,5 * * *", "2026-11-23T04:15:00Z", { "2026-11-23T05:15:00Z", "2026-11-24T04:15:00Z" } },
	/* GitHub docs: 2-59/3 * * * * = every 3 minutes from minute 2 */
	{ "2-59/3 * * * *", "2026-11-23T10:57:00Z",
	  { "2026-11-23T10:59:00Z", "2026-11-23T11:02:00Z", "2026-11-23T11:05:00Z" } },
	{ "5/20 * * * *", "2026-11-23T10:30:00Z", { "2026-11-23T10:45:00Z", "2026-11-23T11:05:00Z" } },
	/* weekdays by name, 9-17 */
	{ "0 9-17/4 * * MON-FRI", "2026-11-20T14:00:00Z",
	  { "2026-11-20T17:00:00Z", "2026-11-23T09:00:00Z", "2026-11-23T13:00:00Z" } },
	/* Sunday as 0 and 7 */
	{ "0 0 * * 7", "2026-11-20T00:00:00Z", { "2026-11-22T00:00:00Z", "2026-11-29T00:00:00Z" } },
	{ "0 0 * * sun", "2026-11-20T00:00:00Z", { "2026-11-22T00:00:00Z" } },
	{ "0 0 * * 5-7", "2026-11-20T00:00:00Z",
	  { "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z", "2026-11-27T00:00:00Z" } },
	/* both day fields restricted: the 13th OR any Friday */
	{ "0 0 13 * FRI", "2026-01-01T00:00:00Z",
	  { "2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z",
	    "2026-01-16T00:00:00Z" } },
	/* day-of-week starts with '*' (Sundays and Fridays): AND with days 1-7 */
	{ "0 0 1-7 * */5", "2026-01-01T00:00:00Z",
	  { "2026-01-02T00:00:00Z", "2026-01-04T00:00:00Z", "2026-02-01T00:00:00Z",
	    "2026-02-06T00:00:00Z" } },
	/* months by name, leap day */
	{ "0 12 29 FEB *", "2026-01-01T00:00:00Z", { "2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z" } },
	{ "0 0 31 * *", "2026-01-31T00:00:00Z", { "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z" } },
	{ "59 23 31 DEC *", "2026-12-31T23:59:00Z", { "2027-12-31T23:59:00Z" } },
	{ "0 0 1 jan,Jul *", "2026-02-01T00:00:00Z", { "2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z" } },
};

static void test_next_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(nexts); i++) {
		struct cron c;
		struct buf err = BUF_INIT;
		if (cron_parse(nexts[i].expr, &c, &err) < 0)
			fail_msg("'%s' did not parse: %s", nexts[i].expr, err.buf);
		int64_t t = T(nexts[i].after);
		for (size_t j = 0; j < 4 && nexts[i].want[j]; j++) {
			t = cron_next(&c, t);
			char got[32];
			cron_format_time(t, got, sizeof(got));
			if (strcmp(got, nexts[i].want[j]))
				fail_msg("'%s' after %s, time %zu: got %s, want %s", nexts[i].expr,
					 nexts[i].after, j + 1, got, nexts[i].want[j]);
			assert_true(cron_matches(&c, t));
		}
		buf_release(&err);
	}
}

static void test_invalid(void **state)
{
	(void)state;
	static const struct { const char *expr, *msg; } bad[] = {
		{ "", "expected 5 fields" },
		{ "* * * *", "got 4" },
		{ "* * * * * *", "got 6" },
		{ "@daily", "got 1" },
		{ "60 * * * *", "minute '60' is out of range 0-59" },
		{ "* 24 * * *", "hour '24' is out of range 0-23" },
		{ "* * 0 * *", "day-of-month '0' is out of range 1-31" },
		{ "* * 32 * *", "day-of-month '32' is out of range" },
		{ "* * * 13 *", "month '13' is out of range 1-12" },
		{ "* * * * 8", "day-of-week '8' is out of range 0-7" },
		{ "* * * FOO *", "month 'FOO' is not a number" },
		{ "* * * * MONDAY", "day-of-week 'MONDAY'" },
		{ "JAN * * * *", "minute 'JAN' is not a number" },
		{ "*/0 * * * *", "minute '*/0' has a bad step" },
		{ "*/ * * * *", "has a bad step" },
		{ "10-5 * * * *", "minute '10-5' is a backwards range" },
		{ "1,,2 * * * *", "empty list item" },
		{ "5- * * * *", "bad range end" },
		{ "*5 * * * *", "is not a valid value" },
		{ "1-2-3 * * * *", "is not a valid value" },
		{ "99999999999 * * * *", "minute" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct cron c;
		struct buf err = BUF_INIT;
		assert_int_equal(cron_parse(bad[i].expr, &c, &err), KILN_EINVAL);
		if (!strstr(err.buf, bad[i].msg) || !strstr(err.buf, "invalid cron expression"))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].expr, err.buf, bad[i].msg);
		buf_release(&err);
	}
}

static void test_never(void **state)
{
	(void)state;
	struct cron c;
	assert_int_equal(cron_parse("0 0 30 2 *", &c, NULL), 0);
	assert_int_equal(cron_next(&c, T("2026-01-01T00:00Z")), -1);
	assert_int_equal(cron_parse("0 0 31 4,6,9,11 *", &c, NULL), 0);
	assert_int_equal(cron_next(&c, T("2026-01-01T00:00Z")), -1);
}

/* a small deterministic generator (no global state) */
static unsigned next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static void test_next_vs_brute_force(void **state)
{
	(void)state;
	static const char *const exprs[] = {
		"*/7 */5 * * *", "13 2,14 1,15 * *", "0 0 * * 1", "0 0 10 * 3", "45 23 * 2 *",
		"0-10/3 4 * * SAT", "*/11 * 2-9 * 1-5", "1 1 1 1 *", "0 */6 */3 * *",
	};
	unsigned seed = 42;
	for (size_t i = 0; i < ARRAY_SIZE(exprs); i++) {
		struct cron c;
		assert_int_equal(cron_parse(exprs[i], &c, NULL), 0);
		for (int k = 0; k < 5; k++) {
			int64_t start = T("2026-01-01T00:00Z") + (int64_t)next_rand(&seed) * 997;
			int64_t fast = cron_next(&c, start);
			int64_t slow = (start / 60 + 1) * 60;
			while (!cron_matches(&c, slow) && slow < start + 400LL * 86400)
				slow += 60;
			if (fast != slow)
				fail_msg("'%s' after %lld: cron_next %lld, brute force %lld", exprs[i],
					 (long long)start, (long long)fast, (long long)slow);
		}
	}
}

static void test_calendar_vs_libc(void **state)
{
	(void)state;
	/* every day from 1969 to 2110 formats like gmtime_r does */
	for (int64_t t = -86400LL * 400; t < 86400LL * 51500; t += 86400 + 3661) {
		char ours[32], theirs[32];
		cron_format_time(t, ours, sizeof(ours));
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		strftime(theirs, sizeof(theirs), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (strcmp(ours, theirs))
			fail_msg("t=%lld: ours %s, libc %s", (long long)t, ours, theirs);
		int64_t back;
		assert_int_equal(cron_parse_time(ours, &back), 0);
		assert_int_equal(back, t);
	}
	int64_t x;
	assert_int_equal(cron_parse_time("2026-13-01T00:00Z", &x), KILN_EINVAL);
	assert_int_equal(cron_parse_time("2026-01-01", &x), KILN_EINVAL);
	assert_int_equal(cron_parse_time("2026-01-01T00:00Zjunk", &x), KILN_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_table),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_never),
		cmocka_unit_test(test_next_vs_brute_force),
		cmocka_unit_test(test_calendar_vs_libc),
	};
	return cmocka_run_group_tests_name("workflow/cron", tests, NULL, NULL);
}
