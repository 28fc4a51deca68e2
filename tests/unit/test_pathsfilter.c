/*
 * unit tests for src/git/pathsfilter (dorny/paths-filter logic) and the
 * picomatch dialect of src/git/glob it uses: globs, braces, filter YAML
 * (lists, negations, anchors, change statuses, every), outputs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "git/glob.h"
#include "git/pathsfilter.h"

static const struct { const char *pat, *s; int match; } pm[] = {
	{ "**/*.js", "a.js", 1 },
	{ "**/*.js", "x/y/a.js", 1 },
	{ "**/*.js", "x/y/a.ts", 0 },
	{ "src/**", "src/a", 1 },
	{ "src/**", "src/a/b/c", 1 },
	{ "src/**", "srcx/a", 0 },
	{ "src/**/test/*.c", "src/test/a.c", 1 },
	{ "src/**/test/*.c", "src/x/y/test/a.c", 1 },
	{ "*.md", "README.md", 1 },
	{ "*.md", "docs/a.md", 0 },
	{ ".github/**", ".github/workflows/ci.yml", 1 },
	{ "**", ".env", 1 },
	{ "*", ".env", 1 }, /* dot: true */
	{ "?.txt", "a.txt", 1 },
	{ "?.txt", "ab.txt", 0 },
	{ "a?b", "a/b", 0 },
	{ "[!a]b", "cb", 1 },
	{ "[!a]b", "ab", 0 },
	{ "[^a]b", "ab", 0 },
	{ "[a-c]x", "bx", 1 },
	{ "a+b", "a+b", 1 },
	{ "a+b", "aab", 0 },
	{ "file\\*", "file*", 1 },
	{ "file\\*", "files", 0 },
	{ "a[b", "a[b", 1 }, /* unclosed bracket: literal */
	{ "a**b", "axxb", 1 },
	{ "a**b", "ax/xb", 0 },
};

static void test_picomatch(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(pm); i++) {
		struct glob g;
		assert_int_equal(glob_compile_syntax(&g, pm[i].pat, GLOB_PICOMATCH, NULL), 0);
		if (glob_match(&g, pm[i].s) != pm[i].match)
			fail_msg("picomatch '%s' on '%s': want %d", pm[i].pat, pm[i].s, pm[i].match);
		glob_release(&g);
	}
}

static void expect_expansion(const char *pat, const char *want)
{
	struct strvec out = STRVEC_INIT;
	glob_expand_braces(pat, &out, 100);
	struct buf got = BUF_INIT;
	for (size_t i = 0; i < out.nr; i++)
		buf_addf(&got, "%s%s", i ? " " : "", out.v[i]);
	if (strcmp(got.buf, want))
		fail_msg("braces '%s': got '%s', want '%s'", pat, got.buf, want);
	buf_release(&got);
	strvec_clear(&out);
}

static void test_braces(void **state)
{
	(void)state;
	expect_expansion("a/{b,c{1..3}}", "a/b a/c1 a/c2 a/c3");
	expect_expansion("{api,web}/**", "api/** web/**");
	expect_expansion("x{1..3}y", "x1y x2y x3y");
	expect_expansion("{z..x}", "z y x");
	expect_expansion("{a}", "{a}");
	expect_expansion("plain", "plain");
	expect_expansion("\\{a,b}", "\\{a,b}");
	expect_expansion("{a,b}{1,2}", "a1 a2 b1 b2");
	/* the cap holds */
	struct strvec out = STRVEC_INIT;
	glob_expand_braces("{1..1000}", &out, 10);
	assert_int_equal(out.nr, 10);
	strvec_clear(&out);
}

static const char filters_yaml[] =
	"shared: &shared\n"
	"  - 'common/**'\n"
	"api:\n"
	"  - *shared\n"
	"  - 'services/api/**'\n"
	"  - '!**/*.md'\n"
	"web: 'services/web/**'\n"
	"docs:\n"
	"  - added|modified: 'docs/**'\n"
	"notweb: '!services/web/**'\n"
	"gone:\n"
	"  - deleted: ['**', '!keep/**']\n"
	"db: 'services/{db,cache}/**'\n";

static void add(struct pf_files *f, const char *path, enum pf_status st)
{
	ALLOC_GROW(f->v, f->nr + 1, f->alloc);
	f->v[f->nr].path = xstrdup(path);
	f->v[f->nr++].status = st;
}

static void outputs_equal(const struct strvec *out, const char *const *want)
{
	size_t i = 0;
	for (; want[i]; i++) {
		if (i >= out->nr)
			fail_msg("missing output %zu: want '%s'", i, want[i]);
		if (strcmp(out->v[i], want[i]))
			fail_msg("output %zu: got '%s', want '%s'", i, out->v[i], want[i]);
	}
	if (i != out->nr)
		fail_msg("extra output '%s'", out->v[i]);
}

static void test_filters(void **state)
{
	(void)state;
	struct paths_filter pf = PATHS_FILTER_INIT;
	struct buf err = BUF_INIT;
	if (pf_parse(&pf, filters_yaml, strlen(filters_yaml), 0, &err) < 0)
		fail_msg("parse: %s", err.buf);
	assert_int_equal(pf.nr, 7);
	struct pf_files files = PF_FILES_INIT;
	add(&files, "services/api/main.go", PF_MODIFIED);
	add(&files, "services/api/README.md", PF_MODIFIED);
	add(&files, "docs/new.md", PF_ADDED);
	add(&files, "docs/old.md", PF_DELETED);
	add(&files, "keep/x", PF_DELETED);
	add(&files, "services/cache/c.go", PF_ADDED);
	struct strvec out = STRVEC_INIT;
	assert_int_equal(pf_outputs(&pf, &files, "json", &out, &err), 0);
	static const char *const want[] = {
		"shared=false", "shared_count=0", "shared_files=[]",
		"api=true", "api_count=1", "api_files=[\"services/api/main.go\"]",
		"web=false", "web_count=0", "web_files=[]",
		"docs=true", "docs_count=1", "docs_files=[\"docs/new.md\"]",
		"notweb=true", "notweb_count=6",
		"notweb_files=[\"services/api/main.go\",\"services/api/README.md\",\"docs/new.md\","
		"\"docs/old.md\",\"keep/x\",\"services/cache/c.go\"]",
		"gone=true", "gone_count=1", "gone_files=[\"docs/old.md\"]",
		"db=true", "db_count=1", "db_files=[\"services/cache/c.go\"]",
		"all_changed=false", "any_changed=true",
		"changes=[\"api\",\"docs\",\"notweb\",\"gone\",\"db\"]",
		NULL,
	};
	outputs_equal(&out, want);
	strvec_clear(&out);

	/* shared alone via the anchor target */
	struct pf_files f2 = PF_FILES_INIT;
	add(&f2, "common/util.c", PF_MODIFIED);
	assert_true(pf_filter_matches(&pf, 0, &f2.v[0]));
	assert_true(pf_filter_matches(&pf, 1, &f2.v[0])); /* api includes *shared */
	assert_false(pf_filter_matches(&pf, 2, &f2.v[0]));
	pf_files_release(&f2);

	/* nothing changed: any false, all true (the action's rule) */
	struct pf_files none = PF_FILES_INIT;
	assert_int_equal(pf_outputs(&pf, &none, "none", &out, &err), 0);
	assert_int_equal(strvec_find(&out, "all_changed=true") >= 0, 1);
	assert_int_equal(strvec_find(&out, "any_changed=false") >= 0, 1);
	assert_int_equal(strvec_find(&out, "changes=[]") >= 0, 1);
	assert_int_equal(strvec_find(&out, "api_files=") < 0, 1);
	strvec_clear(&out);

	assert_int_equal(pf_outputs(&pf, &files, "yaml", &out, &err), KILN_EINVAL);
	assert_non_null(strstr(err.buf, "'list-files' is set to invalid value 'yaml'"));
	pf_files_release(&files);
	pf_release(&pf);
	buf_release(&err);
}

static void test_list_formats(void **state)
{
	(void)state;
	struct paths_filter pf = PATHS_FILTER_INIT;
	const char *y = "all: '**'\n";
	assert_int_equal(pf_parse(&pf, y, strlen(y), 0, NULL), 0);
	struct pf_files files = PF_FILES_INIT;
	add(&files, "a b.txt", PF_ADDED);
	add(&files, "it's,\"q\".c", PF_ADDED);
	add(&files, "plain/x.c", PF_ADDED);
	static const struct { const char *fmt, *want; } cases[] = {
		{ "csv", "all_files=a b.txt,\"it's,\"\"q\"\".c\",plain/x.c" },
		{ "shell", "all_files='a b.txt' 'it'\"'\"'s,\"q\".c' plain/x.c" },
		{ "escape", "all_files=a\\ b.txt it\\'s,\\\"q\\\".c plain/x.c" },
		{ "json", "all_files=[\"a b.txt\",\"it's,\\\"q\\\".c\",\"plain/x.c\"]" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strvec out = STRVEC_INIT;
		assert_int_equal(pf_outputs(&pf, &files, cases[i].fmt, &out, NULL), 0);
		if (strcmp(out.v[2], cases[i].want))
			fail_msg("%s: got '%s', want '%s'", cases[i].fmt, out.v[2], cases[i].want);
		strvec_clear(&out);
	}
	pf_files_release(&files);
	pf_release(&pf);
}

static void test_every_and_errors(void **state)
{
	(void)state;
	struct paths_filter pf = PATHS_FILTER_INIT;
	const char *y = "ts:\n  - '**/*.ts'\n  - '!**/*.spec.ts'\n";
	assert_int_equal(pf_parse(&pf, y, strlen(y), 1, NULL), 0);
	struct pf_files files = PF_FILES_INIT;
	add(&files, "src/a.ts", PF_MODIFIED);
	add(&files, "src/a.spec.ts", PF_MODIFIED);
	assert_true(pf_filter_matches(&pf, 0, &files.v[0]));
	assert_false(pf_filter_matches(&pf, 0, &files.v[1]));
	pf_release(&pf);
	pf_files_release(&files);

	static const struct { const char *yaml, *msg; } bad[] = {
		{ "- a\n- b\n", "root element is not an object" },
		{ "x:\n  - '!a'\n", "at least one positive pattern" },
		{ "x:\n  - addded: 'a/**'\n", "unknown change status in 'addded'" },
		{ "x: [a, b\n", "invalid filter YAML" },
		{ "x:\n  - added: {a: b}\n", "expected a pattern or a list" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct buf err = BUF_INIT;
		assert_int_equal(pf_parse(&pf, bad[i].yaml, strlen(bad[i].yaml), 0, &err), KILN_EINVAL);
		if (!strstr(err.buf, bad[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i, err.buf, bad[i].msg);
		assert_int_equal(pf.nr, 0);
		buf_release(&err);
	}
}

static void test_from_changes(void **state)
{
	(void)state;
	struct change v[] = {
		{ CHANGE_RENAMED, "new.c", "old.c" },
		{ CHANGE_MODIFIED, "m.c", NULL },
		{ CHANGE_DELETED, "d.c", NULL },
		{ CHANGE_TYPECHANGE, "t", NULL },
	};
	struct changes ch = { v, ARRAY_SIZE(v), ARRAY_SIZE(v) };
	struct pf_files f = PF_FILES_INIT;
	pf_files_from_changes(&ch, &f);
	assert_int_equal(f.nr, 5);
	assert_string_equal(f.v[0].path, "new.c");
	assert_string_equal(pf_status_name(f.v[0].status), "added");
	assert_string_equal(f.v[1].path, "old.c");
	assert_string_equal(pf_status_name(f.v[1].status), "deleted");
	assert_string_equal(pf_status_name(f.v[2].status), "modified");
	assert_string_equal(pf_status_name(f.v[4].status), "modified");
	pf_files_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_picomatch),
		cmocka_unit_test(test_braces),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_list_formats),
		cmocka_unit_test(test_every_and_errors),
		cmocka_unit_test(test_from_changes),
	};
	return cmocka_run_group_tests_name("git/pathsfilter", tests, NULL, NULL);
}
