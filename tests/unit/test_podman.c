/* unit tests for src/engine/podman: options words and Go durations */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "engine/nodemount.h"
#include "engine/podman.h"

static void words(const char *s, const char *joined)
{
	struct strvec w = STRVEC_INIT;
	struct buf err = BUF_INIT, b = BUF_INIT;
	assert_int_equal(podman_split_words(s, &w, &err), 0);
	for (size_t i = 0; i < w.nr; i++)
		buf_addf(&b, "%s<%s>", i ? " " : "", w.v[i]);
	assert_string_equal(b.buf, joined);
	strvec_clear(&w);
	buf_release(&err);
	buf_release(&b);
}

static void test_split_words(void **state)
{
	(void)state;
	words("", "");
	words("  --health-cmd pg_isready\n  --health-interval 10s ",
	      "<--health-cmd> <pg_isready> <--health-interval> <10s>");
	words("--health-cmd \"redis-cli ping\"", "<--health-cmd> <redis-cli ping>");
	words("--health-cmd='test -f /x' -e A=\"b c\"d", "<--health-cmd=test -f /x> <-e> <A=b cd>");
	words("a\\ b 'x\\y' \"q\\\"r\" ''", "<a b> <x\\y> <q\"r> <>");
	/* nothing is expanded */
	words("$HOME `id` $(id) *", "<$HOME> <`id`> <$(id)> <*>");
}

static void test_split_words_unterminated(void **state)
{
	(void)state;
	struct strvec w = STRVEC_INIT;
	struct buf err = BUF_INIT;
	assert_int_equal(podman_split_words("--health-cmd \"pg_isready", &w, &err), -1);
	assert_string_equal(err.buf, "unterminated double quote in options");
	strvec_clear(&w);
	buf_release(&err);
}

static void test_durations(void **state)
{
	(void)state;
	uint64_t ms = 7;
	assert_int_equal(podman_duration_ms("10s", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(podman_duration_ms("1m30s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(podman_duration_ms("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(podman_duration_ms("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(podman_duration_ms("2h", &ms), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(podman_duration_ms("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(podman_duration_ms("", &ms), -1);
	assert_int_equal(podman_duration_ms("10", &ms), -1);
	assert_int_equal(podman_duration_ms("10x", &ms), -1);
	assert_int_equal(podman_duration_ms("-1s", &ms), -1);
	assert_int_equal(podman_duration_ms("s", &ms), -1);
}

/* the host's node as job container mounts: the binary, and for a
 * dynamic one its interpreter and libc under /__e/node20/lib */
static void test_nodemount(void **state)
{
	(void)state;
	struct nodemount nm = NODEMOUNT_INIT;
	struct buf err = BUF_INIT;
	assert_int_equal(nodemount_plan("/nonexistent", &nm, &err), 1);
	assert_int_equal(nm.volumes.nr, 0);
	int r = nodemount_plan(getenv("PATH"), &nm, &err);
	if (r == 1) {
		skip();
		return;
	}
	assert_int_equal(r, 0);
	assert_string_equal(nm.argv.v[nm.argv.nr - 1], "/__e/node20/bin/node");
	int bin = 0, libc = 0;
	for (size_t i = 0; i < nm.volumes.nr; i++) {
		const char *v = nm.volumes.v[i];
		assert_non_null(strstr(v, ":/__e/node20/"));
		assert_string_equal(v + strlen(v) - 3, ":ro");
		bin |= strstr(v, ":/__e/node20/bin/node:ro") != NULL;
		libc |= strstr(v, ":/__e/node20/lib/libc.so.6:ro") != NULL;
	}
	assert_true(bin);
	if (nm.argv.nr > 1) { /* dynamic: interpreter --library-path dir node */
		assert_int_equal(nm.argv.nr, 4);
		assert_string_equal(nm.argv.v[1], "--library-path");
		assert_true(libc);
	}
	nodemount_release(&nm);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_words),
		cmocka_unit_test(test_split_words_unterminated),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_nodemount),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
