/*
 * unit tests for src/git/glob: every example of GitHub's "Filter pattern
 * cheat sheet" (workflow syntax docs), plus the non-matches the
 * descriptions imply, pattern lists with '!' and invalid patterns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "git/glob.h"

struct one_case {
	const char *pattern;
	const char *subject;
	int match;
};

static const struct one_case single[] = {
	/* special characters (bullet list) */
	{ "Octo*", "Octocat", 1 },
	{ "Octo*", "Octo", 1 },
	{ "Octo*", "Octo/cat", 0 },
	{ "Octo**", "Octo/c/at", 1 },
	{ "[CB]at", "Cat", 1 },
	{ "[CB]at", "Bat", 1 },
	{ "[CB]at", "Rat", 0 },
	{ "[1-2]00", "100", 1 },
	{ "[1-2]00", "200", 1 },
	{ "[1-2]00", "300", 0 },
	{ "[0-9a-z]", "7", 1 },
	{ "[0-9a-z]", "q", 1 },
	{ "[0-9a-z]", "Q", 0 },
	{ "a!b", "a!b", 1 }, /* '!' only special at the start */

	/* patterns to match branches and tags */
	{ "feature/*", "feature/my-branch", 1 },
	{ "feature/*", "feature/your-branch", 1 },
	{ "feature/*", "feature/beta-a/my-branch", 0 },
	{ "feature/*", "feature", 0 },
	{ "feature/**", "feature/beta-a/my-branch", 1 },
	{ "feature/**", "feature/your-branch", 1 },
	{ "feature/**", "feature/mona/the/octocat", 1 },
	{ "main", "main", 1 },
	{ "main", "main2", 0 },
	{ "main", "xmain", 0 },
	{ "releases/mona-the-octocat", "releases/mona-the-octocat", 1 },
	{ "*", "main", 1 },
	{ "*", "releases", 1 },
	{ "*", "releases/v1", 0 },
	{ "**", "all/the/branches", 1 },
	{ "**", "every/tag", 1 },
	{ "**", "main", 1 },
	{ "*feature", "mona-feature", 1 },
	{ "*feature", "feature", 1 },
	{ "*feature", "ver-10-feature", 1 },
	{ "*feature", "feature-x", 0 },
	{ "v2*", "v2", 1 },
	{ "v2*", "v2.0", 1 },
	{ "v2*", "v2.9", 1 },
	{ "v2*", "v3.0", 0 },
	{ "v[12].[0-9]+.[0-9]+", "v1.10.1", 1 },
	{ "v[12].[0-9]+.[0-9]+", "v2.0.0", 1 },
	{ "v[12].[0-9]+.[0-9]+", "v3.0.0", 0 },
	{ "v[12].[0-9]+.[0-9]+", "v1..0", 0 },
	{ "v[12].[0-9]+.[0-9]+", "v1.2.3-rc1", 0 },
	{ "release/v[0-9].[0-9]", "release/v1.2", 1 },

	/* patterns to match file paths */
	{ "*", "README.md", 1 },
	{ "*", "server.rb", 1 },
	{ "*", "docs/README.md", 0 },
	{ "*.jsx?", "page.js", 1 },
	{ "*.jsx?", "page.jsx", 1 },
	{ "*.jsx?", "page.jsxx", 0 },
	{ "*.jsx?", "src/page.js", 0 },
	{ "**", "all/the/files.md", 1 },
	{ "*.js", "app.js", 1 },
	{ "*.js", "index.js", 1 },
	{ "*.js", "js/index.js", 0 },
	{ "**.js", "index.js", 1 },
	{ "**.js", "js/index.js", 1 },
	{ "**.js", "src/js/app.js", 1 },
	{ "**.js", "src/js/app.ts", 0 },
	{ "docs/*", "docs/README.md", 1 },
	{ "docs/*", "docs/file.txt", 1 },
	{ "docs/*", "docs/mona/octocat.txt", 0 },
	{ "docs/**", "docs/README.md", 1 },
	{ "docs/**", "docs/mona/octocat.txt", 1 },
	{ "docs/**", "src/docs/x", 0 },
	{ "docs/**/*.md", "docs/README.md", 1 },
	{ "docs/**/*.md", "docs/mona/hello-world.md", 1 },
	{ "docs/**/*.md", "docs/a/markdown/file.md", 1 },
	{ "docs/**/*.md", "docs/a/markdown/file.txt", 0 },
	{ "docs/**/*.md", "README.md", 0 },
	{ "**/docs/**", "docs/hello.md", 1 },
	{ "**/docs/**", "dir/docs/my-file.txt", 1 },
	{ "**/docs/**", "space/docs/plan/space.doc", 1 },
	{ "**/docs/**", "space/mydocs/plan.doc", 0 },
	{ "**/README.md", "README.md", 1 },
	{ "**/README.md", "js/README.md", 1 },
	{ "**/README.md", "js/NOTREADME.md", 0 },
	{ "**/*src/**", "a/src/app.js", 1 },
	{ "**/*src/**", "my-src/code/js/app.js", 1 },
	{ "**/*src/**", "source/app.js", 0 },
	{ "**/*-post.md", "my-post.md", 1 },
	{ "**/*-post.md", "path/their-post.md", 1 },
	{ "**/*-post.md", "path/post.md", 0 },
	{ "**/migrate-*.sql", "migrate-10909.sql", 1 },
	{ "**/migrate-*.sql", "db/migrate-v1.0.sql", 1 },
	{ "**/migrate-*.sql", "db/sept/migrate-v1.sql", 1 },
	{ "**/migrate-*.sql", "db/sept/migrate-v1.sql.bak", 0 },

	/* escapes, quantifiers, pathological backtracking */
	{ "a\\*b", "a*b", 1 },
	{ "a\\*b", "axb", 0 },
	{ "c\\+\\+", "c++", 1 },
	{ "+x", "+x", 1 },
	{ "ab+c", "abbbc", 1 },
	{ "ab+c", "ac", 0 },
	{ "ab?c", "ac", 1 },
	{ "ab?c", "abbc", 0 },
	{ "*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
	{ "**a**a**a**a**a**b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 1 },
	{ "", "", 1 },
	{ "", "x", 0 },
};

static void test_cheat_sheet_single(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(single); i++) {
		struct glob g;
		struct buf err = BUF_INIT;
		if (glob_compile(&g, single[i].pattern, &err) < 0)
			fail_msg("pattern '%s' did not compile: %s", single[i].pattern, err.buf);
		int got = glob_match(&g, single[i].subject);
		if (got != single[i].match)
			fail_msg("pattern '%s' on '%s': got %d, want %d", single[i].pattern,
				 single[i].subject, got, single[i].match);
		glob_release(&g);
		buf_release(&err);
	}
}

struct list_case {
	const char *patterns[4]; /* NULL-terminated */
	const char *subject;
	int included;
	long decider;
};

static const struct list_case lists[] = {
	/* '*.md', '!README.md' */
	{ { "*.md", "!README.md" }, "hello.md", 1, 0 },
	{ { "*.md", "!README.md" }, "README.md", 0, 1 },
	{ { "*.md", "!README.md" }, "docs/hello.md", 0, -1 },
	/* '*.md', '!README.md', 'README*': patterns are checked sequentially */
	{ { "*.md", "!README.md", "README*" }, "hello.md", 1, 0 },
	{ { "*.md", "!README.md", "README*" }, "README.md", 1, 2 },
	{ { "*.md", "!README.md", "README*" }, "README.doc", 1, 2 },
	{ { "*.md", "!README.md", "README*" }, "docs/hello.md", 0, -1 },
	/* branches: releases and everything under it, minus the alpha ones */
	{ { "releases/**", "!releases/**-alpha" }, "releases/10", 1, 0 },
	{ { "releases/**", "!releases/**-alpha" }, "releases/beta/3-alpha", 0, 1 },
	{ { "main", "mona/octocat", "releases/**" }, "mona/octocat", 1, 1 },
	{ { "main", "mona/octocat", "releases/**" }, "mona/hubot", 0, -1 },
};

static void test_cheat_sheet_lists(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		struct glob_list l = GLOB_LIST_INIT;
		for (size_t j = 0; j < 4 && lists[i].patterns[j]; j++)
			assert_int_equal(glob_list_add(&l, lists[i].patterns[j], NULL), 0);
		long which = -2;
		int got = glob_list_match(&l, lists[i].subject, &which);
		if (got != lists[i].included || which != lists[i].decider)
			fail_msg("list case %zu on '%s': got %d (decider %ld), want %d (%ld)", i,
				 lists[i].subject, got, which, lists[i].included, lists[i].decider);
		glob_list_release(&l);
	}
}

static void test_invalid_patterns(void **state)
{
	(void)state;
	static const struct { const char *pattern, *msg; } bad[] = {
		{ "v[", "missing ']'" },
		{ "v[0-9", "missing ']'" },
		{ "[]x", "empty brackets" },
		{ "[a-9]", "ranges can only include" },
		{ "[z-a]", "ranges can only include" },
		{ "[!-~]", "ranges can only include" },
		{ "[-a]", "invalid range" },
		{ "abc\\", "missing character after" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct glob g;
		struct buf err = BUF_INIT;
		assert_int_equal(glob_compile(&g, bad[i].pattern, &err), KILN_EINVAL);
		if (!strstr(err.buf, bad[i].msg) || !strstr(err.buf, bad[i].pattern))
			fail_msg("pattern '%s': message '%s' lacks '%s'", bad[i].pattern, err.buf,
				 bad[i].msg);
		assert_null(g.toks);
		buf_release(&err);
	}
	struct glob_list l = GLOB_LIST_INIT;
	assert_int_equal(glob_list_add(&l, "ok/*", NULL), 0);
	assert_int_equal(glob_list_add(&l, "bad[", NULL), KILN_EINVAL);
	assert_int_equal(l.nr, 1);
	glob_list_release(&l);
}

static void test_negate_flag(void **state)
{
	(void)state;
	struct glob g;
	assert_int_equal(glob_compile(&g, "!docs/**", NULL), 0);
	assert_true(g.negate);
	assert_string_equal(g.src, "!docs/**");
	/* glob_match ignores the '!' */
	assert_true(glob_match(&g, "docs/a/b"));
	glob_release(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cheat_sheet_single),
		cmocka_unit_test(test_cheat_sheet_lists),
		cmocka_unit_test(test_invalid_patterns),
		cmocka_unit_test(test_negate_flag),
	};
	return cmocka_run_group_tests_name("git/glob", tests, NULL, NULL);
}
