/* unit tests for src/engine/envfile: GITHUB_OUTPUT/ENV/STATE/PATH files */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "engine/envfile.h"

/* collects pairs as "name=value|" */
static void collect(void *arg, const char *name, const char *value, size_t vlen)
{
	struct buf *b = arg;
	buf_addf(b, "%s=", name);
	buf_add(b, value, vlen);
	buf_addch(b, '|');
}

static int run(const char *text, struct buf *out, struct buf *err)
{
	return envfile_parse(text, strlen(text), collect, out, err);
}

static void test_simple_pairs(void **state)
{
	(void)state;
	struct buf out = BUF_INIT, err = BUF_INIT;
	assert_int_equal(run("a=1\n\nb=x=y\nc=\nd<e=2\n", &out, &err), 0);
	assert_string_equal(out.buf, "a=1|b=x=y|c=|d<e=2|");
	buf_release(&out);
	buf_release(&err);
}

static void test_heredoc(void **state)
{
	(void)state;
	struct buf out = BUF_INIT, err = BUF_INIT;
	assert_int_equal(run("m<<EOF\nline 1\nline 2\nEOF\nn=1\ne<<X\nX\nlast<<Z\nv\nZ", &out, &err), 0);
	assert_string_equal(out.buf, "m=line 1\nline 2|n=1|e=|last=v|");
	buf_release(&out);
	buf_release(&err);
}

static void test_heredoc_keeps_equals_and_blank_lines(void **state)
{
	(void)state;
	struct buf out = BUF_INIT, err = BUF_INIT;
	assert_int_equal(run("json<<ghadelim_1\n{\"a\": \"b=c\"}\n\n EOF\nghadelim_1\n", &out, &err), 0);
	assert_string_equal(out.buf, "json={\"a\": \"b=c\"}\n\n EOF|");
	buf_release(&out);
	buf_release(&err);
}

static void test_errors(void **state)
{
	(void)state;
	struct buf out = BUF_INIT, err = BUF_INIT;
	assert_int_equal(run("a=1\nm<<EOF\nvalue\nEOF2\n", &out, &err), -1);
	assert_string_equal(err.buf, "Invalid value. Matching delimiter not found 'EOF'");
	assert_string_equal(out.buf, "a=1|"); /* pairs before the error were delivered */
	buf_reset(&err);
	/* delimiter glued to the value's last line is not found */
	assert_int_equal(run("m<<EOF\nvalueEOF\n", &out, &err), -1);
	assert_string_equal(err.buf, "Invalid value. Matching delimiter not found 'EOF'");
	buf_reset(&err);
	assert_int_equal(run("=v\n", &out, &err), -1);
	assert_string_equal(err.buf, "Invalid format '=v'. Name must not be empty");
	buf_reset(&err);
	assert_int_equal(run("<<EOF\nx\nEOF\n", &out, &err), -1);
	assert_string_equal(err.buf,
			    "Invalid format '<<EOF'. Name must not be empty and delimiter must not be empty");
	buf_reset(&err);
	assert_int_equal(run("name<<\n", &out, &err), -1);
	assert_true(str_starts_with(err.buf, "Invalid format 'name<<'"));
	buf_reset(&err);
	assert_int_equal(run("just text\n", &out, &err), -1);
	assert_string_equal(err.buf, "Invalid format 'just text'");
	buf_release(&out);
	buf_release(&err);
}

static void add_line(void *arg, const char *line, size_t len)
{
	struct buf *b = arg;
	buf_add(b, line, len);
	buf_addch(b, ':');
}

static void test_path(void **state)
{
	(void)state;
	struct buf out = BUF_INIT;
	const char *t = "/opt/a/bin\n\n/opt/b bin\n/last";
	envfile_parse_path(t, strlen(t), add_line, &out);
	assert_string_equal(out.buf, "/opt/a/bin:/opt/b bin:/last:");
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_pairs),
		cmocka_unit_test(test_heredoc),
		cmocka_unit_test(test_heredoc_keeps_equals_and_blank_lines),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
