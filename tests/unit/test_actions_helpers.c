/*
 * unit tests for src/actions helpers and the built-in registry: setup-*
 * version specs, workspace-confined paths, multi-line inputs, and which
 * `uses:` references find which action.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "actions/actions.h"
#include "engine/builtin.h"

struct vcase {
	const char *spec, *have;
	int match;
};

static const struct vcase versions[] = {
	{ "20", "20.11.1", 1 },
	{ "20", "2.0.0", 0 },
	{ "20", "200.1.0", 0 },
	{ "20.x", "20.11.1", 1 },
	{ "20.11", "20.11.1", 1 },
	{ "20.12", "20.11.1", 0 },
	{ "v20.11.1", "20.11.1", 1 },
	{ "18", "20.11.1", 0 },
	{ ">=18", "20.11.1", 1 },
	{ ">=21", "20.11.1", 0 },
	{ ">18 <21", "20.11.1", 1 },
	{ ">18 <20", "20.11.1", 0 },
	{ "^20.1", "20.11.1", 1 },
	{ "^19", "20.11.1", 0 },
	{ "~3.11", "3.11.7", 1 },
	{ "~3.10", "3.11.7", 0 },
	{ "3.9 || 3.11", "3.11.7", 1 },
	{ "3.9 || 3.10", "3.11.7", 0 },
	{ "1.21", "1.21.5", 1 },
	{ "1.2", "1.21.5", 0 },
	{ "17", "17.0.9", 1 },
	{ "latest", "1.0", 1 },
	{ "lts/*", "20.11.1", 1 },
	{ "*", "20.11.1", 1 },
	{ "<=20.11.1", "20.11.1", 1 },
	{ "<20.11.1", "20.11.1", 0 },
};

static void test_versions(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
		int got = act_version_matches(versions[i].spec, versions[i].have) != 0;
		if (got != versions[i].match)
			fail_msg("spec '%s' vs '%s': got %d", versions[i].spec, versions[i].have, got);
	}
}

static void test_paths(void **state)
{
	(void)state;
	struct buf out = BUF_INIT, err = BUF_INIT;
	assert_int_equal(act_path("/ws", "", 1, &out, &err), 0);
	assert_string_equal(out.buf, "/ws");
	assert_int_equal(act_path("/ws", "./a//b/", 1, &out, &err), 0);
	assert_string_equal(out.buf, "/ws/a/b");
	assert_int_equal(act_path("/ws", "a/../b", 1, &out, &err), 0);
	assert_string_equal(out.buf, "/ws/b");
	assert_int_equal(act_path("/ws", "../x", 1, &out, &err), KILN_EINVAL);
	assert_non_null(strstr(err.buf, "leaves the workspace"));
	buf_reset(&err);
	assert_int_equal(act_path("/ws", "/etc", 1, &out, &err), KILN_EINVAL);
	assert_int_equal(act_path("/ws", "/etc", 0, &out, &err), 0);
	assert_string_equal(out.buf, "/etc");
	assert_int_equal(act_path("/ws/sub", "../x", 0, &out, &err), 0);
	assert_string_equal(out.buf, "/ws/x");
	buf_release(&out);
	buf_release(&err);
}

static void test_registry(void **state)
{
	(void)state;
	const struct builtin_action *a = builtin_find("actions/cache@v4");
	const struct builtin_action *s = builtin_find("actions/cache/save@v4");
	const struct builtin_action *r = builtin_find("actions/cache/restore@v4");
	assert_non_null(a);
	assert_non_null(s);
	assert_non_null(r);
	assert_string_equal(a->prefix, "actions/cache");
	assert_string_equal(s->prefix, "actions/cache/save");
	assert_string_equal(r->prefix, "actions/cache/restore");
	assert_non_null(builtin_find("Actions/Checkout@v4"));
	assert_non_null(builtin_find("dorny/paths-filter@de90cc6fb38fc0963ad72b210f1f284cd68cea36"));
	assert_null(builtin_find("actions/checkoutx@v4"));
	assert_null(builtin_find("actions/cache/other@v4"));
	assert_null(builtin_find("someone/some-action@v1"));
	static const char *const all[] = { "actions/upload-artifact@v4", "actions/download-artifact@v4",
					   "actions/setup-node@v4", "actions/setup-python@v5",
					   "actions/setup-go@v5", "actions/setup-java@v4" };
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		assert_non_null(builtin_find(all[i]));
}

static void test_input_lines(void **state)
{
	(void)state;
	struct ev *with = ev_object();
	ev_object_set(with, "path", ev_cstr("  a  \n\n\tb/c\r\n  \n!d"));
	ev_object_set(with, "flag", ev_cstr("TRUE"));
	ev_object_set(with, "bad", ev_cstr("yes"));
	struct builtin_call c = { .with = with };
	struct strvec v = STRVEC_INIT;
	act_input_lines(&c, "path", &v);
	assert_int_equal(v.nr, 3);
	assert_string_equal(v.v[0], "a");
	assert_string_equal(v.v[1], "b/c");
	assert_string_equal(v.v[2], "!d");
	assert_string_equal(act_input(&c, "absent"), "");
	int b = 0;
	struct buf err = BUF_INIT;
	assert_int_equal(act_input_bool(&c, "flag", 0, &b, &err), 0);
	assert_true(b);
	assert_int_equal(act_input_bool(&c, "absent", 1, &b, &err), 0);
	assert_true(b);
	assert_int_equal(act_input_bool(&c, "bad", 0, &b, &err), KILN_EINVAL);
	assert_non_null(strstr(err.buf, "Core Schema"));
	strvec_clear(&v);
	buf_release(&err);
	ev_unref(with);
}

static void date_is(int64_t ms, const char *fmt, const char *tz, const char *want)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	assert_int_equal(act_meta_date(ms, fmt, tz, &out, &err), 0);
	assert_string_equal(out.buf, want);
	buf_release(&out);
	buf_release(&err);
}

/* docker/metadata-action's {{date}}: moment.js formats, tzdata zones */
static void test_meta_date(void **state)
{
	(void)state;
	const int64_t t = 1578616200123LL; /* 2020-01-10T00:30:00.123Z, a Friday */
	/* the action's README: schedule patterns */
	date_is(t, "YYYYMMDD", NULL, "20200110");
	date_is(t, "YYYYMMDD-hhmmss", "Asia/Tokyo", "20200110-093000");
	date_is(t, "YYYY-MM-DD HH:mm:ss.SSS", "UTC", "2020-01-10 00:30:00.123");
	date_is(t, "dddd Do MMMM YY, h A [week] Q", NULL, "Friday 10th January 20, 12 AM week 1");
	date_is(t, "ddd D MMM DDDD", NULL, "Fri 10 Jan 010");
	date_is(t, NULL, NULL, "2020-01-10T00:30:00Z");
	date_is(t, "X x", NULL, "1578616200 1578616200123");
	/* daylight saving time from the zone's transitions */
	const int64_t summer = 1625140800000LL; /* 2021-07-01T12:00:00Z */
	date_is(summer, "HH:mm Z", "Europe/Paris", "14:00 +02:00");
	date_is(t, "HH:mm ZZ", "Europe/Paris", "01:30 +0100");
	date_is(t, "YYYY-MM-DD HH:mm", "America/New_York", "2020-01-09 19:30");

	int64_t ms;
	assert_int_equal(act_meta_parse_iso("2020-01-10T09:30:00.123+09:00", &ms), 0);
	assert_true(ms == t);
	assert_int_equal(act_meta_parse_iso("2020-01-10T00:30:00Z", &ms), 0);
	assert_true(ms == t - 123);
	assert_int_equal(act_meta_parse_iso("2020-01-09T19:30:00.12345-05:00", &ms), 0);
	assert_true(ms == t);
	assert_int_equal(act_meta_parse_iso("2020-13-10T00:30:00Z", &ms), -1);
	assert_int_equal(act_meta_parse_iso("2020-01-10 00:30:00Z", &ms), -1);
	assert_int_equal(act_meta_parse_iso("2020-01-10T00:30:00Zjunk", &ms), -1);

	struct buf out = BUF_INIT, err = BUF_INIT;
	assert_int_equal(act_meta_date(t, "YYYY", "Mars/Olympus", &out, &err), -1);
	assert_non_null(strstr(err.buf, "unknown time zone 'Mars/Olympus'"));
	buf_reset(&err);
	assert_int_equal(act_meta_date(t, "YYYY", "../../etc/passwd", &out, &err), -1);
	assert_non_null(strstr(err.buf, "unknown time zone"));
	buf_release(&out);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_input_lines),
		cmocka_unit_test(test_meta_date),
	};
	return cmocka_run_group_tests_name("actions", tests, NULL, NULL);
}
