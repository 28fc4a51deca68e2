/*
 * unit tests for the agent side of issue 16: runs-on label normalizing and
 * matching (GitHub's self-hosted rule: every label of the job is the
 * agent's; self-hosted and linux implied) and the job wire format (a job
 * spec without its secrets, log events, results) round trips.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "engine/jobwire.h"
#include "store/agents.h"

static char *norm(const char *a, const char *b)
{
	struct strvec in = STRVEC_INIT;
	struct buf out = BUF_INIT, err = BUF_INIT;
	strvec_push(&in, a);
	if (b)
		strvec_push(&in, b);
	int r = agents_labels_normalize(&in, &out, &err);
	strvec_clear(&in);
	buf_release(&err);
	if (r) {
		buf_release(&out);
		return NULL;
	}
	return out.buf ? buf_detach(&out, NULL) : xstrdup("");
}

static void test_labels_normalize(void **state)
{
	(void)state;
	char *s = norm(" Linux, x64 ,GPU", "gpu,linux");
	assert_string_equal(s, "gpu,linux,x64");
	free(s);
	s = norm("", NULL);
	assert_string_equal(s, "");
	free(s);
	assert_null(norm("bad label", NULL));
	assert_null(norm("a;b", NULL));
	char long_label[80];
	memset(long_label, 'a', sizeof(long_label) - 1);
	long_label[sizeof(long_label) - 1] = '\0';
	assert_null(norm(long_label, NULL));
}

static void test_labels_match(void **state)
{
	(void)state;
	assert_true(agents_labels_match("self-hosted", ""));
	assert_true(agents_labels_match("linux,self-hosted", ""));
	assert_true(agents_labels_match("", "x64"));
	assert_true(agents_labels_match("gpu,self-hosted", "gpu,linux"));
	assert_false(agents_labels_match("gpu,self-hosted", "linux,x64"));
	assert_false(agents_labels_match("gpu,x64", "gpu"));
	assert_true(agents_labels_match("gpu,x64", "arm,gpu,x64"));
	/* a label is a whole label, not a prefix */
	assert_false(agents_labels_match("gp", "gpu"));
	assert_false(agents_labels_match("gpu", "gp,u"));
}

static void test_log_round_trip(void **state)
{
	(void)state;
	struct log_event ev = { .kind = LOG_STEP_END, .job = "j", .step = "build", .text = "done",
				.len = 4, .result = RESULT_FAILURE, .file = "a.c", .line = 3,
				.col = 7, .title = "t", .elapsed_ns = 1500 };
	struct buf b = BUF_INIT;
	jobwire_log_encode(&ev, &b);
	struct log_event out;
	void *hold;
	assert_int_equal(jobwire_log_decode(b.buf, "job name", &out, &hold), 0);
	assert_int_equal(out.kind, LOG_STEP_END);
	assert_string_equal(out.job, "job name");
	assert_string_equal(out.step, "build");
	assert_string_equal(out.text, "done");
	assert_int_equal(out.len, 4);
	assert_int_equal(out.result, RESULT_FAILURE);
	assert_string_equal(out.file, "a.c");
	assert_int_equal(out.line, 3);
	assert_int_equal(out.col, 7);
	assert_int_equal(out.elapsed_ns, 1500);
	jobwire_log_free(hold);
	buf_release(&b);
	/* every kind travels, the newest (artifacts) too; nothing else does */
	struct log_event art = { .kind = LOG_ARTIFACT, .text = "n\t1\t1\td\t90", .len = 10 };
	jobwire_log_encode(&art, &b);
	assert_int_equal(jobwire_log_decode(b.buf, "j", &out, &hold), 0);
	assert_int_equal(out.kind, LOG_ARTIFACT);
	jobwire_log_free(hold);
	buf_release(&b);
	assert_int_equal(jobwire_log_decode("{\"k\":99,\"t\":\"x\"}", "j", &out, &hold), -1);
	jobwire_log_free(hold);
	assert_int_equal(jobwire_log_decode("not json", "j", &out, &hold), -1);
	jobwire_log_free(hold);
}

static void test_spec_leaves_secrets_out(void **state)
{
	(void)state;
	struct ev *ctx = ev_object(), *sec = ev_object(), *m = ev_object();
	ev_object_set(sec, "TOKEN", ev_cstr("hunter2"));
	ev_object_set(ctx, "secrets", sec);
	ev_object_set(m, "n", ev_cstr("7"));
	ev_object_set(ctx, "matrix", m);
	struct strvec env = STRVEC_INIT;
	strvec_push(&env, "PATH=/usr/bin");
	strvec_push(&env, "GITHUB_SHA=abc");
	strvec_push(&env, "GITHUB_EVENT_PATH=/server/event.json");
	struct job_spec spec = { .job_id = "build", .display_name = "build (7)", .contexts = ctx,
				 .job_key = "build-7", .base_env = &env, .timeout_ms = 60000 };
	struct buf b = BUF_INIT, err = BUF_INIT;
	jobwire_encode(&spec, ".github/workflows/ci.yml", &b);
	assert_null(strstr(b.buf, "hunter2"));
	struct jobwire w;
	assert_int_equal(jobwire_decode(b.buf, &w, &err), 0);
	assert_string_equal(w.workflow, ".github/workflows/ci.yml");
	assert_string_equal(w.job, "build");
	assert_string_equal(w.name, "build (7)");
	assert_string_equal(w.key, "build-7");
	assert_int_equal(w.timeout_ms, 60000);
	assert_null(ev_object_get(w.contexts, "secrets"));
	const struct ev *mm = ev_object_get(w.contexts, "matrix");
	assert_non_null(mm);
	assert_string_equal(ev_get_str(ev_object_get(mm, "n"), NULL), "7");
	/* the server's own environment and paths stay behind */
	assert_int_equal(w.env.nr, 1);
	assert_string_equal(w.env.v[0], "GITHUB_SHA=abc");
	jobwire_release(&w);
	assert_int_equal(jobwire_decode("{\"workflow\":1}", &w, &err), -1);
	buf_release(&b);
	buf_release(&err);
	strvec_clear(&env);
	ev_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels_normalize),
		cmocka_unit_test(test_labels_match),
		cmocka_unit_test(test_log_round_trip),
		cmocka_unit_test(test_spec_leaves_secrets_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
