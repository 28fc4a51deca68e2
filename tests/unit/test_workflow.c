/* unit tests for src/workflow's loader: model, ids, needs, matrix, expressions */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "workflow/wf-int.h"

/* load `text`; on failure print the diagnostics (cmocka shows them) */
static struct workflow *load(const char *text, struct diags *d)
{
	struct workflow *wf = NULL;
	if (wf_load("t.yml", text, strlen(text), &wf, d) < 0)
		diags_print(d, stderr);
	return wf;
}

/* the first diagnostic of a failing load, as "line:col: msg" */
static void first_error(const char *text, struct buf *out)
{
	struct diags d = DIAGS_INIT;
	struct workflow *wf = NULL;
	assert_int_equal(wf_load("t.yml", text, strlen(text), &wf, &d), -1);
	assert_null(wf);
	assert_true(d.nr > 0);
	diags_sort(&d);
	buf_addf(out, "%d:%d: %s", d.v[0].line, d.v[0].col, d.v[0].msg);
	diags_release(&d);
}

static void test_model(void **state)
{
	(void)state;
	struct diags d = DIAGS_INIT;
	struct workflow *wf = load("name: CI\n"
				   "on:\n  push:\n    branches: [main]\n  workflow_dispatch:\n"
				   "env:\n  A: 1\n"
				   "defaults:\n  run:\n    shell: bash\n"
				   "jobs:\n"
				   "  build:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
				   "    steps:\n      - uses: actions/checkout@v4\n"
				   "      - id: t\n        run: make test\n        shell: sh\n"
				   "  deploy:\n    needs: [build]\n    if: github.ref == 'x'\n"
				   "    runs-on: [self-hosted]\n    environment: prod\n"
				   "    steps:\n      - run: ./deploy\n",
				   &d);
	assert_non_null(wf);
	assert_int_equal(d.errors, 0);
	assert_string_equal(wf->name.s, "CI");
	assert_int_equal(wf->non, 2);
	assert_non_null(wf_find_trigger(wf, "push"));
	assert_non_null(wf_find_trigger(wf, "push")->config);
	assert_null(wf_find_trigger(wf, "workflow_dispatch")->config);
	assert_null(wf_find_trigger(wf, "pull_request"));
	assert_string_equal(wf->defaults.shell.s, "bash");
	assert_non_null(wf->env);
	assert_int_equal(wf->njobs, 2);

	const struct wf_job *b = wf_find_job(wf, "build");
	assert_non_null(b);
	assert_int_equal(b->nsteps, 2);
	assert_string_equal(b->steps[0].uses.s, "actions/checkout@v4");
	assert_null(b->steps[0].run.s);
	assert_string_equal(wf_step_id(&b->steps[0]), "__actions_checkout");
	assert_string_equal(wf_step_id(&b->steps[1]), "t");
	assert_string_equal(b->steps[1].shell.s, "sh");
	assert_int_equal(b->steps[1].run.line, 18);
	assert_int_equal(b->steps[1].run.col, 14);
	assert_non_null(b->timeout_minutes);
	assert_int_equal(b->matrix_jobs, 1);

	const struct wf_job *dep = wf_find_job(wf, "deploy");
	assert_int_equal(dep->nneeds, 1);
	assert_string_equal(dep->needs[0].s, "build");
	assert_string_equal(dep->if_cond.s, "github.ref == 'x'");
	assert_int_equal(dep->runs_on->kind, YNODE_SEQ);
	assert_int_equal(dep->environment->kind, YNODE_SCALAR);
	assert_null(wf_find_job(wf, "nope"));
	wf_free(wf);
	diags_release(&d);
}

static void test_generated_step_ids(void **state)
{
	(void)state;
	struct diags d = DIAGS_INIT;
	struct workflow *wf = load("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
				   "      - uses: actions/checkout@v2\n"
				   "      - uses: Actions/Capitalized@v2\n"
				   "      - uses: docker://alpine:latest\n"
				   "      - uses: ./local\n"
				   "      - uses: octo-org/action-name/sub/dir@main\n"
				   "      - run: one\n"
				   "      - uses: actions/checkout@v3\n"
				   "      - run: two\n"
				   "      - id: __RUN_3x\n        run: three\n",
				   &d);
	/* a user id starting with __ is refused */
	assert_null(wf);
	assert_int_equal(d.errors, 1);
	diags_release(&d);

	wf = load("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
		  "      - uses: actions/checkout@v2\n"
		  "      - uses: Actions/Capitalized@v2\n"
		  "      - uses: docker://alpine:latest\n"
		  "      - uses: ./local\n"
		  "      - uses: octo-org/action-name/sub/dir@main\n"
		  "      - run: one\n"
		  "      - uses: actions/checkout@v3\n"
		  "      - run: two\n"
		  "      - id: RUN_3\n        run: three\n"
		  "      - run: four\n",
		  &d);
	assert_non_null(wf);
	const char *want[] = { "__actions_checkout", "__Actions_Capitalized", "__alpine_latest",
			       "__self", "__octo-org_action-name", "__run", "__actions_checkout_2",
			       "__run_2", "RUN_3", "__run_3" };
	const struct wf_job *j = &wf->jobs[0];
	assert_int_equal(j->nsteps, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(wf_step_id(&j->steps[i]), want[i]);
	wf_free(wf);
	diags_release(&d);
}

static void test_ids(void **state)
{
	(void)state;
	assert_null(wf__id_problem("build"));
	assert_null(wf__id_problem("_private-1"));
	assert_non_null(wf__id_problem(""));
	assert_non_null(wf__id_problem("1job"));
	assert_non_null(wf__id_problem("-job"));
	assert_non_null(wf__id_problem("my.job"));
	assert_non_null(wf__id_problem("__reserved"));
	char long_id[101];
	memset(long_id, 'a', 100);
	long_id[100] = '\0';
	assert_non_null(wf__id_problem(long_id));
	long_id[99] = '\0';
	assert_null(wf__id_problem(long_id));
}

static void test_scalar_types(void **state)
{
	(void)state;
	struct { const char *text; enum wf__stype t; } cases[] = {
		{ "", WT_NULL },	  { "~", WT_NULL },	 { "Null", WT_NULL },
		{ "true", WT_BOOL },	  { "FALSE", WT_BOOL },	 { "yes", WT_STRING },
		{ "on", WT_STRING },	  { "0x1F", WT_NUMBER }, { "0o17", WT_NUMBER },
		{ "-12", WT_NUMBER },	  { ".5", WT_NUMBER },	 { "1e3", WT_NUMBER },
		{ "-.inf", WT_NUMBER },	  { ".nan", WT_NUMBER }, { "12_345", WT_STRING },
		{ "1.2.3", WT_STRING },	  { "0x", WT_STRING },	 { "+", WT_STRING },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ynode n = { .kind = YNODE_SCALAR, .style = YSTYLE_PLAIN,
				   .str = (char *)cases[i].text, .len = strlen(cases[i].text) };
		if (wf__scalar_type(&n) != cases[i].t)
			fail_msg("'%s': got %d, want %d", cases[i].text, wf__scalar_type(&n),
				 cases[i].t);
	}
	struct ynode q = { .kind = YNODE_SCALAR, .style = YSTYLE_DOUBLE, .str = "true", .len = 4 };
	assert_int_equal(wf__scalar_type(&q), WT_STRING);
	double v;
	struct ynode h = { .kind = YNODE_SCALAR, .style = YSTYLE_PLAIN, .str = "0o10", .len = 4 };
	assert_int_equal(wf__scalar_number(&h, &v), 0);
	assert_true(v == 8);
}

static void test_if_normalisation(void **state)
{
	(void)state;
	struct { const char *in, *out; } cases[] = {
		{ NULL, "success()" },
		{ "  ", "success()" },
		{ "github.ref == 'x'", "success() && (github.ref == 'x')" },
		{ "${{ github.a }}", "success() && (github.a)" },
		{ "${{ always() }}", "always()" },
		{ "failure() || x", "failure() || x" },
		{ "${{ true || 'success()' }}", "success() && (true || 'success()')" },
		{ "Cancelled ( )", "Cancelled ( )" },
		{ "steps.success.outputs.x", "success() && (steps.success.outputs.x)" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = wf__if_expr(cases[i].in);
		assert_string_equal(got, cases[i].out);
		free(got);
	}
}

static void test_template_expr(void **state)
{
	(void)state;
	struct { const char *in, *out; } cases[] = {
		{ "${{ a }}", "a" },
		{ "  ${{ a.b }}  ", "a.b" },
		{ "echo ${{ a }}", "format('echo {0}', a)" },
		{ "${{ a }}-${{ b }}", "format('{0}-{1}', a, b)" },
		{ "it's {x} ${{ a }}", "format('it''s {{x}} {0}', a)" },
		{ "${{ '${{ x }}' }}", "'${{ x }}'" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = wf__template_expr(cases[i].in);
		assert_string_equal(got, cases[i].out);
		free(got);
	}
}

static void test_expressions_located(void **state)
{
	(void)state;
	struct diags d = DIAGS_INIT;
	struct workflow *wf = load("on: push\njobs:\n  a:\n    if: github.x\n    runs-on: x\n"
				   "    steps:\n      - run: |\n          one\n"
				   "            two ${{ github.b }} ${{ vars.c }}\n"
				   "      - run: 'q ''${{ env.d }}'''\n",
				   &d);
	assert_non_null(wf);
	assert_int_equal(wf->nexprs, 4);
	/* sorted by position */
	assert_int_equal(wf->exprs[0].line, 4);
	assert_int_equal(wf->exprs[0].col, 9);
	assert_true(wf->exprs[0].bare_if);
	assert_string_equal(wf->exprs[0].path, "jobs.<job_id>.if");
	assert_int_equal(wf->exprs[1].line, 9);
	assert_int_equal(wf->exprs[1].col, 20);
	assert_int_equal(wf->exprs[2].col, 36);
	assert_string_equal(wf->exprs[2].path, "jobs.<job_id>.steps.run");
	assert_int_equal(wf->exprs[3].line, 10);
	assert_int_equal(wf->exprs[3].col, 22);
	assert_memory_equal(wf->exprs[3].node->str + wf->exprs[3].off, " env.d ", 7);
	wf_free(wf);
	diags_release(&d);
}

static void test_matrix_count(void **state)
{
	(void)state;
	struct diags d = DIAGS_INIT;
	struct workflow *wf = load(
		"on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n"
		"        os: [l, m, w]\n        v: [1, 2]\n"
		"        exclude: [{os: w, v: 1}, {os: m}]\n"
		"        include: [{os: l, extra: y}, {os: z}, {v: 2, big: true}, {v: 3}]\n"
		"    steps: [run: x]\n",
		&d);
	assert_non_null(wf);
	/* 6 - 1 - 2 = 3 combos; {os: z} and {v: 3} add one each */
	assert_int_equal(wf->jobs[0].matrix_jobs, 5);
	wf_free(wf);
	diags_release(&d);
}

static void test_errors(void **state)
{
	(void)state;
	struct { const char *text, *want; } cases[] = {
		{ "on: push\njobs:\n  a:\n    runs-on: x\n    needs: bb\n  bbb:\n    runs-on: x\n",
		  "5:12: job 'a' needs unknown job 'bb' (did you mean 'bbb'?)" },
		{ "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: x\n        uses: y/z@v\n",
		  "6:9: a step cannot have both 'run' and 'uses'" },
		{ "on: push\njobs:\n  a:\n    runs-on: x\n    stesp: []\n",
		  "5:5: unknown key 'stesp' in job 'a' (did you mean 'steps'?)" },
		{ "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: ${{ x\n",
		  "6:14: '${{' is not closed by '}}'" },
		{ "on: push\njobs:\n  a:\n    runs-on: x\n    needs: a\n  b:\n    runs-on: x\n",
		  "5:12: job 'a' needs itself" },
		{ "[1, 2]\n", "1:1: a workflow must be a mapping, not a sequence" },
		{ "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: a\n        id: s\n"
		  "      - run: b\n        id: S\n",
		  "9:13: duplicate step id 'S' in job 'a' (first used at line 7)" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf got = BUF_INIT;
		first_error(cases[i].text, &got);
		assert_string_equal(got.buf, cases[i].want);
		buf_release(&got);
	}
}

static void test_never_crash_on_prefixes(void **state)
{
	(void)state;
	/* every prefix of a workflow loads or fails cleanly (ASan checks memory) */
	const char *text = "name: x\non: {push: {branches: [main]}}\njobs:\n  a:\n"
			   "    runs-on: ${{ matrix.os }}\n    strategy:\n      matrix:\n"
			   "        os: [l]\n        include: [{os: m}]\n    steps:\n"
			   "      - if: a && b\n        run: echo ${{ x }} '${{ y'\n";
	for (size_t n = 0; n <= strlen(text); n++) {
		struct diags d = DIAGS_INIT;
		struct workflow *wf = NULL;
		int r = wf_load("p.yml", text, n, &wf, &d);
		assert_true(r == 0 || r == -1);
		assert_true((r == 0) == (wf != NULL));
		wf_free(wf);
		diags_release(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_generated_step_ids),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_scalar_types),
		cmocka_unit_test(test_if_normalisation),
		cmocka_unit_test(test_template_expr),
		cmocka_unit_test(test_expressions_located),
		cmocka_unit_test(test_matrix_count),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_never_crash_on_prefixes),
	};
	return cmocka_run_group_tests_name("workflow", tests, NULL, NULL);
}
