/*
 * unit tests for src/engine/actref: parsing `owner/repo[/path]@ref` and
 * `$/path`, and the cache on a real bare repository in a temp dir (a
 * plain-path mirror: libgit2's local transport, no network).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "engine/actref.h"
#include "engine/runctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void parses(const char *uses, const char *repo, const char *path, const char *ref)
{
	struct actref ar;
	struct buf err = BUF_INIT;
	assert_int_equal(actref_parse(uses, &ar, &err), 0);
	assert_string_equal(ar.repo, repo);
	assert_string_equal(ar.path, path);
	assert_string_equal(ar.ref, ref);
	actref_release(&ar);
	buf_release(&err);
}

static void refuses(const char *uses, const char *why)
{
	struct actref ar;
	struct buf err = BUF_INIT;
	assert_int_equal(actref_parse(uses, &ar, &err), -1);
	assert_non_null(strstr(err.buf, why));
	assert_null(ar.repo);
	buf_release(&err);
}

static void test_parse(void **state)
{
	(void)state;
	parses("actions/checkout@v4", "actions/checkout", "", "v4");
	parses("github/codeql-action/init@v3", "github/codeql-action", "init", "v3");
	parses("o/r/a/b/@main", "o/r", "a/b", "main");
	parses("o/r.js/x@feature/with-slash", "o/r.js", "x", "feature/with-slash");
	parses("o/r@8f4b7f84864484a7bf31766abe9204da3cbe65b3", "o/r", "",
	       "8f4b7f84864484a7bf31766abe9204da3cbe65b3");
	refuses("o/r", "not an action reference");
	refuses("o@v1", "not an action reference");
	refuses("o/r@", "not an action reference");
	refuses("o/r/../../etc@v1", "bad path");
	refuses("o/../x@v1", "bad owner or repository name");
	refuses("o w/r@v1", "bad owner or repository name");
}

static void test_self(void **state)
{
	(void)state;
	const char *p = NULL;
	assert_true(actref_is_self("$/.github/actions/x", &p));
	assert_string_equal(p, ".github/actions/x");
	assert_false(actref_is_self("./x", NULL));
	assert_false(actref_is_self("$x/y", NULL));
}

static char tmp[64];

static int sh(const char *cmd)
{
	char *c = xstrfmt("cd '%s' && { %s; } >/dev/null 2>&1", tmp, cmd);
	int r = system(c);
	free(c);
	return r;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "%s", "/tmp/kiln-actref.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	return sh("export GIT_CONFIG_NOSYSTEM=1 HOME=$PWD; mkdir -p w srv/acme && cd w && "
		  "git init -q && echo 'runs: {using: composite, steps: []}' >action.yml && "
		  "mkdir sub && echo x >sub/f && git add -A && "
		  "git -c user.name=a -c user.email=b commit -qm one && "
		  "git -c user.name=a -c user.email=b tag -a -m v1 v1 && "
		  "git clone -q --bare . ../srv/acme/tool.git");
}

static int teardown(void **state)
{
	(void)state;
	runctx_rmtree(tmp);
	return 0;
}

static void test_cache(void **state)
{
	(void)state;
	char *srv = xstrfmt("%s/srv", tmp), *cache = xstrfmt("%s/cache", tmp);
	struct actref_opts o = { srv, NULL, cache, 0, 0 };
	struct actref_cache *c;
	struct buf err = BUF_INIT;
	const struct actref_src *s, *again;
	assert_int_equal(actref_cache_new(&o, &c, &err), 0);
	/* a mirror keeping repo.git; the annotated tag is peeled to its commit */
	int r = actref_get(c, "acme/tool", "v1", 1, &s, &err);
	if (r)
		print_message("%s\n", err.buf);
	assert_int_equal(r, 0);
	assert_string_equal(s->repo, "acme/tool");
	assert_int_equal(strlen(s->sha), 40);
	char *dir = NULL;
	assert_int_equal(actref_dir(c, s, "sub", &dir, &err), 0);
	char *f = xstrfmt("%s/f", dir);
	assert_int_equal(access(f, R_OK), 0);
	free(f);
	free(dir);
	assert_int_equal(actref_dir(c, s, "nope", &dir, &err), KILN_ENOENT);
	assert_int_equal(actref_dir(c, s, "../x", &dir, &err), KILN_EINVAL);
	/* the same reference again (names are case-insensitive, as on GitHub)
	 * is the same answer, from memory */
	assert_int_equal(actref_get(c, "ACME/Tool", "v1", 0, &again, &err), 0);
	assert_ptr_equal(s, again);
	buf_reset(&err);
	assert_int_equal(actref_get(c, "acme/tool", "nope", 1, &again, &err), KILN_ENOENT);
	assert_non_null(strstr(err.buf, "has no tag or branch 'nope'"));
	actref_cache_free(c);

	/* a new process: offline, served by the cache on disk */
	o.offline = 1;
	assert_int_equal(actref_cache_new(&o, &c, &err), 0);
	assert_int_equal(actref_get(c, "acme/tool", "v1", 1, &s, &err), 0);
	buf_reset(&err);
	assert_int_equal(actref_get(c, "acme/other", "v1", 1, &s, &err), KILN_ENOENT);
	assert_string_equal(err.buf, "action 'acme/other@v1' is not in the cache (--offline)");
	actref_cache_free(c);
	buf_release(&err);
	free(srv);
	free(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_self),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
	};
	return cmocka_run_group_tests_name("actref", tests, NULL, NULL);
}
