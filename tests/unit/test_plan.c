/* unit tests for src/engine/plan.c, matrix.c, value.c: matrix expansion
 * (GitHub's documented examples), display names, the needs DAG */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "engine/plan.h"
#include "yaml/ynode.h"

static struct ev *json(const char *s)
{
	struct buf err = BUF_INIT;
	struct ev *v = ev_from_json(s, strlen(s), &err);
	if (!v)
		fail_msg("bad test JSON: %s", err.buf);
	buf_release(&err);
	return v;
}

/* expand `m` and render each combination as "json|suffix" lines */
static char *expand(const char *m, int *rc, char **errmsg)
{
	struct ev *v = json(m);
	struct matrix_list l = MATRIX_LIST_INIT;
	struct buf err = BUF_INIT, out = BUF_INIT;
	*rc = matrix_expand(v, &l, &err);
	for (size_t i = 0; i < l.nr; i++) {
		ev_to_json(l.v[i].matrix, &out, 0);
		buf_addf(&out, "|%s\n", l.v[i].suffix ? l.v[i].suffix : "");
	}
	*errmsg = buf_detach(&err, NULL);
	matrix_list_release(&l);
	ev_unref(v);
	return buf_detach(&out, NULL);
}

static void check(const char *m, const char *want)
{
	int rc;
	char *err;
	char *got = expand(m, &rc, &err);
	if (rc)
		fail_msg("matrix_expand failed: %s", err);
	assert_string_equal(got, want);
	free(got);
	free(err);
}

static void check_err(const char *m, const char *want)
{
	int rc;
	char *err;
	char *got = expand(m, &rc, &err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, want));
	assert_string_equal(got, "");
	free(got);
	free(err);
}

static void test_cross_product_order(void **state)
{
	(void)state;
	/* docs: version [10,12,14] x os [ubuntu, windows], first key slowest */
	check("{\"version\":[10,12],\"os\":[\"ubuntu-latest\",\"windows-latest\"]}",
	      "{\"version\":10,\"os\":\"ubuntu-latest\"}|10, ubuntu-latest\n"
	      "{\"version\":10,\"os\":\"windows-latest\"}|10, windows-latest\n"
	      "{\"version\":12,\"os\":\"ubuntu-latest\"}|12, ubuntu-latest\n"
	      "{\"version\":12,\"os\":\"windows-latest\"}|12, windows-latest\n");
}

static void test_include_docs_example(void **state)
{
	(void)state;
	/* the fruit/animal example of GitHub's docs: six combinations */
	check("{\"fruit\":[\"apple\",\"pear\"],\"animal\":[\"cat\",\"dog\"],\"include\":["
	      "{\"color\":\"green\"},{\"color\":\"pink\",\"animal\":\"cat\"},"
	      "{\"fruit\":\"apple\",\"shape\":\"circle\"},{\"fruit\":\"banana\"},"
	      "{\"fruit\":\"banana\",\"animal\":\"cat\"}]}",
	      "{\"fruit\":\"apple\",\"animal\":\"cat\",\"color\":\"pink\",\"shape\":\"circle\"}|apple, cat\n"
	      "{\"fruit\":\"apple\",\"animal\":\"dog\",\"color\":\"green\",\"shape\":\"circle\"}|apple, dog\n"
	      "{\"fruit\":\"pear\",\"animal\":\"cat\",\"color\":\"pink\"}|pear, cat\n"
	      "{\"fruit\":\"pear\",\"animal\":\"dog\",\"color\":\"green\"}|pear, dog\n"
	      "{\"fruit\":\"banana\"}|banana\n"
	      "{\"fruit\":\"banana\",\"animal\":\"cat\"}|banana, cat\n");
}

static void test_include_adds_new_combination(void **state)
{
	(void)state;
	/* docs: os x version plus {os: windows-latest, version: 17} */
	check("{\"os\":[\"windows-latest\",\"ubuntu-latest\"],\"version\":[12,14],"
	      "\"include\":[{\"os\":\"windows-latest\",\"version\":17}]}",
	      "{\"os\":\"windows-latest\",\"version\":12}|windows-latest, 12\n"
	      "{\"os\":\"windows-latest\",\"version\":14}|windows-latest, 14\n"
	      "{\"os\":\"ubuntu-latest\",\"version\":12}|ubuntu-latest, 12\n"
	      "{\"os\":\"ubuntu-latest\",\"version\":14}|ubuntu-latest, 14\n"
	      "{\"os\":\"windows-latest\",\"version\":17}|windows-latest, 17\n");
}

static void test_include_only(void **state)
{
	(void)state;
	check("{\"include\":[{\"site\":\"production\",\"datacenter\":\"site-a\"},"
	      "{\"site\":\"staging\",\"datacenter\":\"site-b\"}]}",
	      "{\"site\":\"production\",\"datacenter\":\"site-a\"}|production, site-a\n"
	      "{\"site\":\"staging\",\"datacenter\":\"site-b\"}|staging, site-b\n");
}

static void test_exclude_partial(void **state)
{
	(void)state;
	/* a partial exclude drops every combination it matches */
	check("{\"os\":[\"macos\",\"windows\"],\"version\":[12,14,16],\"env\":[\"staging\",\"production\"],"
	      "\"exclude\":[{\"os\":\"macos\",\"version\":12,\"env\":\"production\"},{\"os\":\"windows\",\"version\":16}]}",
	      "{\"os\":\"macos\",\"version\":12,\"env\":\"staging\"}|macos, 12, staging\n"
	      "{\"os\":\"macos\",\"version\":14,\"env\":\"staging\"}|macos, 14, staging\n"
	      "{\"os\":\"macos\",\"version\":14,\"env\":\"production\"}|macos, 14, production\n"
	      "{\"os\":\"macos\",\"version\":16,\"env\":\"staging\"}|macos, 16, staging\n"
	      "{\"os\":\"macos\",\"version\":16,\"env\":\"production\"}|macos, 16, production\n"
	      "{\"os\":\"windows\",\"version\":12,\"env\":\"staging\"}|windows, 12, staging\n"
	      "{\"os\":\"windows\",\"version\":12,\"env\":\"production\"}|windows, 12, production\n"
	      "{\"os\":\"windows\",\"version\":14,\"env\":\"staging\"}|windows, 14, staging\n"
	      "{\"os\":\"windows\",\"version\":14,\"env\":\"production\"}|windows, 14, production\n");
}

static void test_filters_use_expression_equality(void **state)
{
	(void)state;
	/* "12" == 12 and case-insensitive strings, as matrix.x == 'lit' */
	check("{\"v\":[12,14],\"os\":[\"Linux\"],\"exclude\":[{\"v\":\"12\",\"os\":\"linux\"}]}",
	      "{\"v\":14,\"os\":\"Linux\"}|14, Linux\n");
}

static void test_object_values_in_name(void **state)
{
	(void)state;
	/* names list scalar leaves; nested objects matched leaf by leaf */
	check("{\"cfg\":[{\"os\":\"ubuntu\",\"cc\":\"gcc\"},{\"os\":\"ubuntu\",\"cc\":\"clang\"}],"
	      "\"opt\":[true],\"exclude\":[{\"cfg\":{\"cc\":\"clang\"}}]}",
	      "{\"cfg\":{\"os\":\"ubuntu\",\"cc\":\"gcc\"},\"opt\":true}|ubuntu, gcc, true\n");
}

static void test_include_extra_not_in_name(void **state)
{
	(void)state;
	check("{\"node\":[18,20],\"include\":[{\"node\":20,\"experimental\":true}]}",
	      "{\"node\":18}|18\n"
	      "{\"node\":20,\"experimental\":true}|20\n");
}

static void test_matrix_errors(void **state)
{
	(void)state;
	check_err("{\"os\":[]}", "does not contain any values");
	check_err("{\"os\":\"linux\"}", "must be a sequence");
	check_err("{\"os\":[1],\"exclude\":[{\"arch\":\"x\"}]}", "does not match any key");
	check_err("{\"os\":[1],\"include\":[{}]}", "does not contain any values");
	check_err("[1,2]", "must be a mapping");
	check_err("{\"os\":[1],\"exclude\":[{\"os\":1}]}", "no combinations");
	/* 16 x 17 = 272 > 256 */
	struct buf b = BUF_INIT;
	buf_addstr(&b, "{\"a\":[");
	for (int i = 0; i < 16; i++)
		buf_addf(&b, "%s%d", i ? "," : "", i);
	buf_addstr(&b, "],\"b\":[");
	for (int i = 0; i < 17; i++)
		buf_addf(&b, "%s%d", i ? "," : "", i);
	buf_addstr(&b, "]}");
	check_err(b.buf, "more than 256");
	/* exactly 256 is fine */
	buf_reset(&b);
	buf_addstr(&b, "{\"a\":[");
	for (int i = 0; i < 256; i++)
		buf_addf(&b, "%s%d", i ? "," : "", i);
	buf_addstr(&b, "]}");
	int rc;
	char *err;
	char *got = expand(b.buf, &rc, &err);
	assert_int_equal(rc, 0);
	free(got);
	free(err);
	buf_release(&b);
}

static void test_no_matrix_is_one_job(void **state)
{
	(void)state;
	struct matrix_list l = MATRIX_LIST_INIT;
	struct buf err = BUF_INIT;
	assert_int_equal(matrix_expand(NULL, &l, &err), 0);
	assert_int_equal(l.nr, 1);
	assert_null(l.v[0].suffix);
	assert_int_equal(ev_len(l.v[0].matrix), 0);
	matrix_list_release(&l);
	buf_release(&err);
}

static void test_display_name(void **state)
{
	(void)state;
	char *n = plan_display_name("build", "18, ubuntu-latest");
	assert_string_equal(n, "build (18, ubuntu-latest)");
	free(n);
	n = plan_display_name("build", NULL);
	assert_string_equal(n, "build");
	free(n);
	char longs[200];
	memset(longs, 'x', 150);
	longs[150] = '\0';
	n = plan_display_name("job", longs);
	assert_int_equal(strlen(n), 100);
	assert_true(str_ends_with(n, "..."));
	free(n);
}

/* plan_value of a YAML document over contexts `ctx` (JSON): the value as
 * compact JSON, or "error L:C: message" */
static char *yaml_value(const char *yaml, const char *ctxjson)
{
	struct ynode *root = NULL;
	struct diags d = DIAGS_INIT;
	if (yaml_load("t.yml", yaml, strlen(yaml), &root, &d) < 0 || !root)
		fail_msg("bad test YAML");
	struct ev *c = json(ctxjson);
	struct expr_ctx ctx = { .contexts = c };
	struct buf err = BUF_INIT, out = BUF_INIT;
	int line = 0, col = 0;
	struct ev *v = plan_value(root, &ctx, &err, &line, &col);
	if (v)
		ev_to_json(v, &out, 0);
	else
		buf_addf(&out, "error %d:%d: %s", line, col, err.buf);
	ev_unref(v);
	ev_unref(c);
	buf_release(&err);
	ynode_free(root);
	diags_release(&d);
	return buf_detach(&out, NULL);
}

static void check_yaml(const char *yaml, const char *want)
{
	char *got = yaml_value(yaml, "{\"needs\": {\"p\": {\"outputs\": {\"k\": \"flavour\", "
				     "\"m\": \"{\\\"x\\\": 1, \\\"y\\\": \\\"2\\\"}\"}}}}");
	assert_string_equal(got, want);
	free(got);
}

static void test_mapping_keys_and_insert(void **state)
{
	(void)state;
	/* a key expression keeps its place; its value is evaluated as usual */
	check_yaml("a: 1\n${{ needs.p.outputs.k }}: [1, 2]\nz-${{ 'two' }}: x\n",
		   "{\"a\":1,\"flavour\":[1,2],\"z-two\":\"x\"}");
	/* insert: a literal mapping (nested inserts too) and an expression */
	check_yaml("a: 1\n${{ insert }}:\n  b: 2\n  ${{ insert }}: {c: 3}\nd: 4\n",
		   "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}");
	check_yaml("${{ insert }}: ${{ fromJSON(needs.p.outputs.m) }}\nw: 0\n",
		   "{\"x\":1,\"y\":\"2\",\"w\":0}");
	/* an item giving an array is spliced into its sequence */
	check_yaml("- 1\n- ${{ fromJSON('[2, 3]') }}\n- [4]\n", "[1,2,3,[4]]");
	/* errors: where, and GitHub's words */
	check_yaml("${{ insert }}: ${{ 'x' }}\n",
		   "error 1:16: the value of '${{ insert }}' must be a mapping, not a string");
	check_yaml("A: 1\n${{ 'a' }}: 2\n", "error 2:1: 'a' is already defined");
	check_yaml("${{ insert }}: {k: 1}\nK: 2\n", "error 1:17: 'k' is already defined");
	check_yaml("${{ fromJSON('[1]') }}: 2\n",
		   "error 1:1: a mapping key must be a string, not an array");
}

static void test_value_equality(void **state)
{
	(void)state;
	struct ev *a = ev_number(1), *b = ev_cstr("1"), *c = ev_bool(1), *d = ev_cstr("ABC"),
		  *e = ev_cstr("abc"), *f = ev_null(), *g = ev_cstr("");
	assert_true(plan_value_equal(a, b));
	assert_true(plan_value_equal(a, c));
	assert_true(plan_value_equal(d, e));
	assert_true(plan_value_equal(f, g)); /* null == '' (both 0) */
	assert_false(plan_value_equal(b, d));
	ev_unref(a); ev_unref(b); ev_unref(c); ev_unref(d); ev_unref(e); ev_unref(f); ev_unref(g);
}

/* ---- the needs DAG, on a hand-built workflow model ---- */

struct fake_wf {
	struct workflow wf;
	struct wf_job jobs[8];
	struct wf_str needs[8][4];
};

static void add_job(struct fake_wf *f, const char *id, const char *n1, const char *n2)
{
	struct wf_job *j = &f->jobs[f->wf.njobs];
	memset(j, 0, sizeof(*j));
	j->id.s = (char *)id;
	j->id.line = (int)f->wf.njobs + 1;
	j->id.col = 3;
	j->needs = f->needs[f->wf.njobs];
	if (n1)
		j->needs[j->nneeds++].s = (char *)n1;
	if (n2)
		j->needs[j->nneeds++].s = (char *)n2;
	f->wf.njobs++;
}

static void fake_init(struct fake_wf *f)
{
	memset(f, 0, sizeof(*f));
	f->wf.file = (char *)"ci.yml";
	f->wf.jobs = f->jobs;
}

static void test_dag_stages_and_order(void **state)
{
	(void)state;
	struct fake_wf f;
	fake_init(&f);
	add_job(&f, "deploy", "test", "build");
	add_job(&f, "build", NULL, NULL);
	add_job(&f, "test", "build", NULL);
	add_job(&f, "lint", NULL, NULL);
	struct plan p = PLAN_INIT;
	struct diags d = DIAGS_INIT;
	assert_int_equal(plan_add_workflow(&p, &f.wf, 0, &d), 0);
	assert_int_equal(plan_finish(&p, &d), 0);
	assert_int_equal(p.nstages, 3);
	assert_int_equal(p.jobs[0].stage, 2);
	assert_int_equal(p.jobs[1].stage, 0);
	assert_int_equal(p.jobs[2].stage, 1);
	/* order: stage, then file order */
	assert_string_equal(p.jobs[p.order[0]].job->id.s, "build");
	assert_string_equal(p.jobs[p.order[1]].job->id.s, "lint");
	assert_string_equal(p.jobs[p.order[2]].job->id.s, "test");
	assert_string_equal(p.jobs[p.order[3]].job->id.s, "deploy");
	assert_int_equal(plan_find(&p, &f.wf, "BUILD"), 1);
	assert_int_equal(p.jobs[1].ndeps, 2);
	plan_release(&p);
	diags_release(&d);
}

static void test_select_and_did_you_mean(void **state)
{
	(void)state;
	struct fake_wf f;
	fake_init(&f);
	add_job(&f, "build", NULL, NULL);
	add_job(&f, "test", "build", NULL);
	add_job(&f, "deploy", "test", NULL);
	add_job(&f, "lint", NULL, NULL);
	struct plan p = PLAN_INIT;
	struct diags d = DIAGS_INIT;
	plan_add_workflow(&p, &f.wf, 0, &d);
	plan_finish(&p, &d);
	struct buf err = BUF_INIT;
	assert_int_equal(plan_select(&p, "test", &err), 0);
	assert_int_equal(p.jobs[0].selected, 1);
	assert_int_equal(p.jobs[1].selected, 1);
	assert_int_equal(p.jobs[2].selected, 0);
	assert_int_equal(p.jobs[3].selected, 0);
	assert_int_equal(plan_select(&p, "deplyo", &err), -1);
	assert_string_equal(err.buf, "unknown job 'deplyo' (did you mean 'deploy'?)");
	buf_release(&err);
	plan_release(&p);
	diags_release(&d);
}

static void test_cycle_and_unknown_need(void **state)
{
	(void)state;
	struct fake_wf f;
	fake_init(&f);
	add_job(&f, "a", "c", NULL);
	add_job(&f, "b", "a", NULL);
	add_job(&f, "c", "b", NULL);
	add_job(&f, "d", "nope", NULL);
	struct plan p = PLAN_INIT;
	struct diags d = DIAGS_INIT;
	assert_int_equal(plan_add_workflow(&p, &f.wf, 0, &d), -1);
	assert_int_equal(plan_finish(&p, &d), -1);
	assert_int_equal(d.errors, 2);
	assert_non_null(strstr(d.v[0].msg, "unknown job 'nope'"));
	assert_non_null(strstr(d.v[1].msg, "needs cycle: "));
	assert_non_null(strstr(d.v[1].msg, "a -> "));
	plan_release(&p);
	diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cross_product_order),
		cmocka_unit_test(test_include_docs_example),
		cmocka_unit_test(test_include_adds_new_combination),
		cmocka_unit_test(test_include_only),
		cmocka_unit_test(test_exclude_partial),
		cmocka_unit_test(test_filters_use_expression_equality),
		cmocka_unit_test(test_object_values_in_name),
		cmocka_unit_test(test_include_extra_not_in_name),
		cmocka_unit_test(test_matrix_errors),
		cmocka_unit_test(test_no_matrix_is_one_job),
		cmocka_unit_test(test_display_name),
		cmocka_unit_test(test_value_equality),
		cmocka_unit_test(test_mapping_keys_and_insert),
		cmocka_unit_test(test_dag_stages_and_order),
		cmocka_unit_test(test_select_and_did_you_mean),
		cmocka_unit_test(test_cycle_and_unknown_need),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
