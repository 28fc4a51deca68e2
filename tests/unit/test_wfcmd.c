/* unit tests for src/engine/wfcmd: workflow command parsing and escaping */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "engine/wfcmd.h"

static int parse(const char *s, struct wfcmd *c)
{
	return wfcmd_parse(s, strlen(s), c);
}

static void test_plain_lines_are_not_commands(void **state)
{
	(void)state;
	struct wfcmd c = WFCMD_INIT;
	assert_int_equal(parse("hello", &c), 0);
	assert_int_equal(parse(":: x", &c), 0);
	assert_int_equal(parse("::warning", &c), 0);    /* no closing :: */
	assert_int_equal(parse("::::data", &c), 0);     /* empty name */
	assert_int_equal(parse("echo ::error::x", &c), 0);
	assert_null(c.name);
}

static void test_simple_command(void **state)
{
	(void)state;
	struct wfcmd c = WFCMD_INIT;
	assert_int_equal(parse("::group::My title", &c), 1);
	assert_string_equal(c.name, "group");
	assert_string_equal(c.data, "My title");
	assert_int_equal(c.nprops, 0);
	wfcmd_release(&c);
	assert_int_equal(parse("  ::endgroup::", &c), 1); /* leading space trimmed */
	assert_string_equal(c.name, "endgroup");
	assert_string_equal(c.data, "");
	wfcmd_release(&c);
}

static void test_properties(void **state)
{
	(void)state;
	struct wfcmd c = WFCMD_INIT;
	assert_int_equal(parse("::error file=app.js,line=10,col=15,title=A%2C B%3A C::Oops", &c), 1);
	assert_string_equal(c.name, "error");
	assert_int_equal(c.nprops, 4);
	assert_string_equal(wfcmd_prop(&c, "file"), "app.js");
	assert_string_equal(wfcmd_prop(&c, "LINE"), "10");
	assert_string_equal(wfcmd_prop(&c, "col"), "15");
	assert_string_equal(wfcmd_prop(&c, "title"), "A, B: C");
	assert_null(wfcmd_prop(&c, "endLine"));
	assert_string_equal(c.data, "Oops");
	wfcmd_release(&c);
}

static void test_property_edge_cases(void **state)
{
	(void)state;
	struct wfcmd c = WFCMD_INIT;
	/* empty entries, missing values and empty keys are dropped; the
	 * value keeps later '=' */
	assert_int_equal(parse("::set-output  name=a=b,,x=,=y ::v", &c), 1);
	assert_int_equal(c.nprops, 1);
	assert_string_equal(wfcmd_prop(&c, "name"), "a=b");
	assert_string_equal(c.data, "v");
	wfcmd_release(&c);
}

static void test_data_escapes(void **state)
{
	(void)state;
	struct wfcmd c = WFCMD_INIT;
	assert_int_equal(parse("::notice::100%25 done%0Aline2%0D%3A%2C%250A", &c), 1);
	/* %3A and %2C are not data escapes */
	assert_string_equal(c.data, "100% done\nline2\r%3A%2C%0A");
	assert_int_equal(c.data_len, strlen(c.data));
	wfcmd_release(&c);
}

static void test_data_may_contain_colons(void **state)
{
	(void)state;
	struct wfcmd c = WFCMD_INIT;
	assert_int_equal(parse("::debug::a::b::c", &c), 1);
	assert_string_equal(c.name, "debug");
	assert_string_equal(c.data, "a::b::c");
	wfcmd_release(&c);
}

static void test_escape_roundtrip(void **state)
{
	(void)state;
	const char *raw = "50% a,b:c\r\nend";
	struct buf e = BUF_INIT, u = BUF_INIT;
	wfcmd_escape_prop(raw, strlen(raw), &e);
	assert_string_equal(e.buf, "50%25 a%2Cb%3Ac%0D%0Aend");
	wfcmd_unescape_prop(e.buf, e.len, &u);
	assert_string_equal(u.buf, raw);
	buf_reset(&e);
	buf_reset(&u);
	wfcmd_escape_data(raw, strlen(raw), &e);
	assert_string_equal(e.buf, "50%25 a,b:c%0D%0Aend");
	wfcmd_unescape_data(e.buf, e.len, &u);
	assert_string_equal(u.buf, raw);
	buf_release(&e);
	buf_release(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_lines_are_not_commands),
		cmocka_unit_test(test_simple_command),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_property_edge_cases),
		cmocka_unit_test(test_data_escapes),
		cmocka_unit_test(test_data_may_contain_colons),
		cmocka_unit_test(test_escape_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
