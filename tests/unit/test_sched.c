/* unit tests for src/engine/sched.c: the ready queue on a real libuv loop,
 * with a test executor (timers instead of processes) so that ordering,
 * limits and cancellation are observed exactly. Real processes are covered
 * by tests/e2e/t300*-run-*.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "engine/sched.h"

/* ---- the test executor: a job is a timer ---- */

struct fake_exec {
	uv_timer_t timer;
	job_done_cb done;
	void *arg;
	enum result result;
	char *name;
	struct strvec *log;
};

struct fake_world {
	struct strvec log; /* "start NAME" / "end NAME" in order */
};

/* test-only state: job_exec_start has no user argument to carry it */
static struct fake_world *world;

static void fake_fire(uv_timer_t *t)
{
	struct fake_exec *fe = t->data;
	struct job_result res = { .result = fe->result };
	struct ev *outs = ev_object();
	ev_object_set(outs, "who", ev_cstr(fe->name));
	res.outputs = outs;
	strvec_pushf(fe->log, "end %s %s", fe->name, result_name(fe->result));
	fe->done((struct job_exec *)fe, &res, fe->arg);
	ev_unref(outs);
}

static int fake_start(uv_loop_t *loop, const struct job_spec *spec, const struct log_sink *sink,
		      job_done_cb done, void *arg, struct job_exec **out)
{
	(void)sink;
	struct fake_exec *fe = xcalloc(1, sizeof(*fe));
	fe->done = done;
	fe->arg = arg;
	fe->name = xstrdup(spec->display_name);
	fe->log = &world->log;
	const char *id = spec->job_id;
	fe->result = str_starts_with(id, "fail") ? RESULT_FAILURE : RESULT_SUCCESS;
	/* a matrix instance "n: 1" of a fail* job fails, the others succeed */
	const struct ev *m = ev_object_get(spec->contexts, "matrix");
	const struct ev *n = m ? ev_object_get(m, "n") : NULL;
	if (n && str_starts_with(id, "fail"))
		fe->result = ev_get_number(n) == 1 ? RESULT_FAILURE : RESULT_SUCCESS;
	uint64_t ms = str_starts_with(id, "slow") || (n && ev_get_number(n) != 1) ? 40 : 10;
	if (str_starts_with(id, "instant"))
		ms = 0;
	strvec_pushf(&world->log, "start %s", spec->display_name);
	uv_timer_init(loop, &fe->timer);
	fe->timer.data = fe;
	uv_timer_start(&fe->timer, fake_fire, ms, 0);
	*out = (struct job_exec *)fe;
	return 0;
}

static void fake_cancel(struct job_exec *je, uint64_t grace_ms)
{
	struct fake_exec *fe = (struct fake_exec *)je;
	(void)grace_ms;
	fe->result = RESULT_CANCELLED;
	uv_timer_start(&fe->timer, fake_fire, 0, 0);
}

static void fake_closed(uv_handle_t *h)
{
	struct fake_exec *fe = h->data;
	free(fe->name);
	free(fe);
}

static void fake_free(struct job_exec *je)
{
	struct fake_exec *fe = (struct fake_exec *)je;
	uv_close((uv_handle_t *)&fe->timer, fake_closed);
}

static const struct sched_exec_ops fake_ops = { fake_start, fake_cancel, fake_free, NULL, NULL };

/* ---- running a workflow text through plan + sched ---- */

static void on_done(void *arg)
{
	*(int *)arg = 1;
}

static void cancel_cb(uv_timer_t *t)
{
	sched_cancel(t->data, 0);
	uv_close((uv_handle_t *)t, NULL);
}

/* run the workflow (with a deployment gate, and cancelled after cancel_ms
 * when > 0); then call check(s) before the scheduler is freed */
static void run_yaml_gate(const char *yaml, unsigned parallel, const struct sched_gate *gate,
			  uint64_t cancel_ms, void (*check)(struct sched *s))
{
	struct fake_world w = { STRVEC_INIT };
	world = &w;
	struct diags d = DIAGS_INIT;
	struct workflow *wf = NULL;
	if (wf_load("ci.yml", yaml, strlen(yaml), &wf, &d) < 0) {
		diags_print(&d, stderr);
		fail_msg("workflow does not load");
	}
	struct plan p = PLAN_INIT;
	assert_int_equal(plan_add_workflow(&p, wf, 0, &d), 0);
	assert_int_equal(plan_finish(&p, &d), 0);
	struct runctx rc;
	memset(&rc, 0, sizeof(rc));
	rc.repo_dir = (char *)"/nonexistent";
	rc.run_dir = (char *)"/nonexistent/run";
	rc.repository = (char *)"o/r";
	rc.ref = (char *)"refs/heads/main";
	rc.event_name = (char *)"push";
	struct ev *ctx = ev_object();
	struct ev *gh = ev_object();
	ev_object_set(gh, "event_name", ev_cstr("push"));
	ev_object_set(ctx, "github", gh);
	ev_object_set(ctx, "vars", ev_object());
	uv_loop_t loop;
	uv_loop_init(&loop);
	FILE *null = fopen("/dev/null", "w");
	struct output *out = output_new(null, OUTPUT_TEXT, 0, 0);
	int done = 0;
	struct sched_opts so = { .parallel = parallel, .grace_ms = 10, .ops = &fake_ops,
				 .done = on_done, .done_arg = &done, .gate = gate };
	struct sched *s = sched_new(&loop, &p, &rc, &ctx, out, &so);
	sched_start(s);
	uv_timer_t canceller;
	if (cancel_ms) {
		uv_timer_init(&loop, &canceller);
		canceller.data = s;
		uv_timer_start(&canceller, cancel_cb, cancel_ms, 0);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_true(done);
	assert_true(sched_finished(s));
	check(s);
	sched_free(s);
	output_free(out);
	fclose(null);
	/* every handle was closed */
	assert_int_equal(uv_loop_close(&loop), 0);
	ev_unref(ctx);
	plan_release(&p);
	wf_free(wf);
	diags_release(&d);
	strvec_clear(&w.log);
	world = NULL;
}

static void run_yaml(const char *yaml, unsigned parallel, void (*check)(struct sched *s))
{
	run_yaml_gate(yaml, parallel, NULL, 0, check);
}

static long log_index(const char *line)
{
	return strvec_find(&world->log, line);
}

/* ---- tests ---- */

static void check_parallel(struct sched *s)
{
	assert_int_equal(sched_peak(s), 3);
	assert_int_equal(sched_result(s), RESULT_SUCCESS);
	for (int i = 1; i <= 8; i++) {
		char name[16];
		snprintf(name, sizeof(name), "j%d", i);
		assert_int_equal(sched_result_of(s, name), RESULT_SUCCESS);
	}
}

static void test_parallel_limit(void **state)
{
	(void)state;
	struct buf y = BUF_INIT;
	buf_addstr(&y, "on: push\njobs:\n");
	for (int i = 1; i <= 8; i++)
		buf_addf(&y, "  j%d:\n    runs-on: x\n    steps:\n      - run: true\n", i);
	run_yaml(y.buf, 3, check_parallel);
	buf_release(&y);
}

static void check_needs(struct sched *s)
{
	assert_int_equal(sched_result(s), RESULT_FAILURE);
	assert_int_equal(sched_result_of(s, "build"), RESULT_SUCCESS);
	assert_int_equal(sched_result_of(s, "fail"), RESULT_FAILURE);
	assert_int_equal(sched_result_of(s, "after"), RESULT_SKIPPED);
	assert_int_equal(sched_result_of(s, "later"), RESULT_SKIPPED);
	assert_int_equal(sched_result_of(s, "cleanup"), RESULT_SUCCESS);
	assert_int_equal(sched_result_of(s, "onfail"), RESULT_SUCCESS);
	/* fail starts only after build ended */
	assert_true(log_index("end build success") < log_index("start fail"));
	assert_true(log_index("end fail failure") < log_index("start cleanup"));
	assert_int_equal(log_index("start after"), -1);
}

static void test_needs_failure_skips(void **state)
{
	(void)state;
	run_yaml("on: push\njobs:\n"
		 "  build:\n    runs-on: x\n    steps:\n      - run: true\n"
		 "  fail:\n    needs: build\n    runs-on: x\n    steps:\n      - run: true\n"
		 "  after:\n    needs: fail\n    runs-on: x\n    steps:\n      - run: true\n"
		 "  later:\n    needs: after\n    runs-on: x\n    steps:\n      - run: true\n"
		 "  cleanup:\n    needs: fail\n    if: always()\n    runs-on: x\n    steps:\n      - run: true\n"
		 "  onfail:\n    needs: [build, fail]\n    if: failure()\n    runs-on: x\n    steps:\n      - run: true\n",
		 4, check_needs);
}

static void check_fail_fast(struct sched *s)
{
	assert_int_equal(sched_result_of(s, "fail (1)"), RESULT_FAILURE);
	assert_int_equal(sched_result_of(s, "fail (2)"), RESULT_CANCELLED);
	/* queued behind -p 2: never started */
	assert_int_equal(sched_result_of(s, "fail (3)"), RESULT_CANCELLED);
	assert_int_equal(log_index("start fail (3)"), -1);
}

static void test_fail_fast(void **state)
{
	(void)state;
	run_yaml("on: push\njobs:\n"
		 "  fail:\n    runs-on: x\n    strategy:\n      matrix:\n        n: [1, 2, 3]\n"
		 "    steps:\n      - run: true\n",
		 2, check_fail_fast);
}

static void check_no_fail_fast(struct sched *s)
{
	assert_int_equal(sched_result_of(s, "fail (1)"), RESULT_FAILURE);
	assert_int_equal(sched_result_of(s, "fail (2)"), RESULT_SUCCESS);
	assert_int_equal(sched_result_of(s, "fail (3)"), RESULT_SUCCESS);
}

static void test_no_fail_fast(void **state)
{
	(void)state;
	run_yaml("on: push\njobs:\n"
		 "  fail:\n    runs-on: x\n    strategy:\n      fail-fast: false\n      matrix:\n        n: [1, 2, 3]\n"
		 "    steps:\n      - run: true\n",
		 2, check_no_fail_fast);
}

static void check_max_parallel(struct sched *s)
{
	/* slow (a..d) limited to 1 at once, but `other` still runs beside it */
	assert_int_equal(sched_peak(s), 2);
	assert_int_equal(sched_result(s), RESULT_SUCCESS);
	assert_true(log_index("end slow (a) success") < log_index("start slow (b)"));
}

static void test_max_parallel(void **state)
{
	(void)state;
	run_yaml("on: push\njobs:\n"
		 "  slow:\n    runs-on: x\n    strategy:\n      max-parallel: 1\n      matrix:\n        v: [a, b, c, d]\n"
		 "    steps:\n      - run: true\n"
		 "  other:\n    runs-on: x\n    steps:\n      - run: true\n",
		 8, check_max_parallel);
}

static void check_many(struct sched *s)
{
	assert_int_equal(sched_result(s), RESULT_SUCCESS);
	assert_int_equal(sched_result_of(s, "instant"), -1); /* no such job */
	assert_true(sched_peak(s) <= 2);
	assert_int_equal(world->log.nr, 2 * 2000);
}

static void test_two_thousand_jobs(void **state)
{
	(void)state;
	/* layered: 20 layers of 100, each job needs one of the layer before */
	struct buf y = BUF_INIT;
	buf_addstr(&y, "on: push\njobs:\n");
	for (int l = 0; l < 20; l++)
		for (int i = 0; i < 100; i++) {
			buf_addf(&y, "  instant_%d_%d:\n    runs-on: x\n", l, i);
			if (l)
				buf_addf(&y, "    needs: instant_%d_%d\n", l - 1, (i * 7) % 100);
			buf_addstr(&y, "    steps:\n      - run: true\n");
		}
	run_yaml(y.buf, 2, check_many);
	buf_release(&y);
}

static void check_outputs(struct sched *s)
{
	/* `use` evaluated its name from needs.make.outputs.who */
	assert_int_equal(sched_result_of(s, "use-make"), RESULT_SUCCESS);
	assert_int_equal(sched_result_of(s, "m (x)"), RESULT_SUCCESS);
	assert_int_equal(sched_result_of(s, "m (y)"), RESULT_SUCCESS);
}

static void test_outputs_and_dynamic_matrix(void **state)
{
	(void)state;
	run_yaml("on: push\njobs:\n"
		 "  make:\n    runs-on: x\n    steps:\n      - run: true\n"
		 "  use:\n    name: use-${{ needs.make.outputs.who }}\n    needs: make\n    runs-on: x\n"
		 "    steps:\n      - run: true\n"
		 "  m:\n    needs: make\n    runs-on: x\n    strategy:\n"
		 "      matrix: ${{ fromJSON('{\"k\":[\"x\",\"y\"]}') }}\n    steps:\n      - run: true\n",
		 2, check_outputs);
}

/* ---- deployment gate ---- */

struct gate_state {
	int asks;
	int always_wait;
};

static enum sched_gate_verdict gate_ask(void *arg, size_t wf, const char *job, const char *env,
					struct buf *reason, uint64_t *retry)
{
	struct gate_state *g = arg;
	(void)wf;
	strvec_pushf(&world->log, "ask %s %s", job, env);
	if (!strcmp(env, "forbidden")) {
		buf_addstr(reason, "nope");
		return SCHED_GATE_REJECT;
	}
	if (g->always_wait || ++g->asks <= 2) {
		buf_addf(reason, "waiting for approval to deploy to '%s'", env);
		*retry = 5;
		return SCHED_GATE_WAIT;
	}
	return SCHED_GATE_PROCEED;
}

static void gate_end(void *arg, size_t wf, const char *job, enum result r)
{
	(void)arg;
	(void)wf;
	strvec_pushf(&world->log, "gate-end %s %s", job, result_name(r));
}

static const char gate_yaml[] =
	"on: push\n"
	"jobs:\n"
	"  build: {runs-on: ubuntu-latest, steps: [{run: x}]}\n"
	"  deploy:\n"
	"    needs: build\n"
	"    environment: ${{ format('{0}uction', 'prod') }}\n"
	"    runs-on: ubuntu-latest\n"
	"    steps: [{run: x}]\n"
	"  sneaky:\n"
	"    environment: {name: forbidden, url: 'https://x'}\n"
	"    runs-on: ubuntu-latest\n"
	"    steps: [{run: x}]\n";

static void check_gate(struct sched *s)
{
	long a1 = log_index("ask deploy production");
	assert_true(a1 > log_index("end build success"));
	/* asked three times: wait, wait, proceed; started only then */
	size_t asks = 0;
	for (size_t i = 0; i < world->log.nr; i++)
		asks += !strcmp(world->log.v[i], "ask deploy production");
	assert_int_equal(asks, 3);
	assert_true(log_index("start deploy") > a1);
	assert_int_equal(sched_result_of(s, "deploy"), RESULT_SUCCESS);
	assert_true(log_index("gate-end deploy success") > log_index("end deploy success"));
	/* rejected: never started, failed, told */
	assert_true(log_index("ask sneaky forbidden") >= 0);
	assert_int_equal(log_index("start sneaky"), -1);
	assert_int_equal(sched_result_of(s, "sneaky"), RESULT_FAILURE);
	assert_true(log_index("gate-end sneaky failure") >= 0);
	/* a job without environment is never asked */
	assert_int_equal(log_index("ask build production"), -1);
}

static void test_gate(void **state)
{
	(void)state;
	struct gate_state g = { 0, 0 };
	struct sched_gate gate = { gate_ask, gate_end, &g };
	run_yaml_gate(gate_yaml, 4, &gate, 0, check_gate);
}

static void check_gate_cancel(struct sched *s)
{
	assert_int_equal(log_index("start deploy"), -1);
	assert_int_equal(sched_result_of(s, "deploy"), RESULT_CANCELLED);
	assert_true(log_index("gate-end deploy cancelled") >= 0);
	assert_int_equal(sched_result(s), RESULT_FAILURE); /* sneaky was rejected */
}

static void test_gate_cancel_while_waiting(void **state)
{
	(void)state;
	struct gate_state g = { 0, 1 };
	struct sched_gate gate = { gate_ask, gate_end, &g };
	run_yaml_gate(gate_yaml, 4, &gate, 60, check_gate_cancel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parallel_limit),
		cmocka_unit_test(test_needs_failure_skips),
		cmocka_unit_test(test_fail_fast),
		cmocka_unit_test(test_no_fail_fast),
		cmocka_unit_test(test_max_parallel),
		cmocka_unit_test(test_two_thousand_jobs),
		cmocka_unit_test(test_outputs_and_dynamic_matrix),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_gate_cancel_while_waiting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
