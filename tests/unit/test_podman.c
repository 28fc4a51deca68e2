/* unit tests for src/engine/podman: options words, Go durations, kiln's
 * configuration files */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "base/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
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

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* short names resolve as Docker's (docker.io) unless the system's
 * registries.conf chooses its search registries */
static void test_registries_conf(void **state)
{
	(void)state;
	char dir[] = "/tmp/kiln-test-podman.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *bin = xstrfmt("%s/bin", dir), *prog = xstrfmt("%s/podman", bin);
	char *sys = xstrfmt("%s/registries.conf", dir);
	assert_int_equal(mkdir(bin, 0700), 0);
	put(prog, "#!/bin/sh\n", 0700);
	setenv("KILN_HOME", dir, 1);
	setenv("CONTAINERS_REGISTRIES_CONF", sys, 1);
	put(sys, "# system\n[[registry]]\nlocation = \"mirror.example\"\n", 0600);

	struct podman pm = PODMAN_INIT;
	struct buf err = BUF_INIT, text = BUF_INIT, why = BUF_INIT;
	assert_int_equal(podman_init(&pm, bin, &err), 0);
	assert_non_null(pm.registries);
	assert_int_equal(fs_read_input(pm.registries, FS_INPUT_MAX, &text, &why), 0);
	assert_non_null(strstr(text.buf, "\nunqualified-search-registries = [\"docker.io\"]\n"
					 "# system\n[[registry]]\nlocation = \"mirror.example\"\n"));
	struct strvec env = STRVEC_INIT;
	strvec_push(&env, "CONTAINERS_CONF=/elsewhere");
	podman_setenv(&pm, &env);
	assert_string_equal(strvec_getenv(&env, "CONTAINERS_CONF"), pm.conf);
	assert_string_equal(strvec_getenv(&env, "CONTAINERS_REGISTRIES_CONF"), pm.registries);
	strvec_clear(&env);
	podman_release(&pm);

	/* the system chose: its file as it is */
	put(sys, "  unqualified-search-registries = [\"quay.io\"]\n", 0600);
	assert_int_equal(podman_init(&pm, bin, &err), 0);
	assert_null(pm.registries);
	podman_setenv(&pm, &env);
	assert_null(strvec_getenv(&env, "CONTAINERS_REGISTRIES_CONF"));
	strvec_clear(&env);
	podman_release(&pm);
	/* v1 format: the key cannot join it */
	put(sys, "[registries.search]\nregistries = [\"quay.io\"]\n", 0600);
	assert_int_equal(podman_init(&pm, bin, &err), 0);
	assert_null(pm.registries);
	podman_release(&pm);
	/* no system file: podman's defaults and docker.io */
	unlink(sys);
	assert_int_equal(podman_init(&pm, bin, &err), 0);
	assert_non_null(pm.registries);
	podman_release(&pm);

	unsetenv("CONTAINERS_REGISTRIES_CONF");
	unsetenv("KILN_HOME");
	char *rm = xstrfmt("rm -rf '%s'", dir);
	assert_int_equal(system(rm), 0);
	free(rm);
	free(bin);
	free(prog);
	free(sys);
	buf_release(&err);
	buf_release(&text);
	buf_release(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_words),
		cmocka_unit_test(test_split_words_unterminated),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_nodemount),
		cmocka_unit_test(test_registries_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
