/*
 * unit tests for the agent side of issue 16: runs-on label normalizing and
 * matching (GitHub's self-hosted rule: every label of the job is the
 * agent's; self-hosted and linux implied) and the job wire format (a job
 * spec without its secrets, log events, results) round trips; the lease
 * protocol of store/agents.c on SQLite and, when KILN_TEST_PG_URL names a
 * scratch PostgreSQL database (tests/with-pg), on PostgreSQL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "engine/jobwire.h"
#include "store/agents.h"
#include "store/db.h"

#include <unistd.h>

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

/* ---- the store: leases, log sequence, expiry (both back-ends) ---- */

struct fx {
	char dir[64];
	struct db *db;
};

static const char *pg_url(void)
{
	const char *u = getenv("KILN_TEST_PG_URL");
	return u && *u ? u : NULL;
}

static struct fx *fx_new(int pg)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-agents-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char *where = pg ? xstrdup(pg_url()) : xstrfmt("%s/kiln.db", f->dir);
	struct buf err = BUF_INIT;
	if (pg) {
		if (db_open(where, &f->db, &err) < 0)
			fail_msg("%s", err.buf);
		if (db_exec(f->db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public", &err) < 0)
			fail_msg("%s", err.buf);
		db_close(f->db);
	}
	if (db_open(where, &f->db, &err) < 0)
		fail_msg("%s", err.buf);
	free(where);
	buf_release(&err);
	return f;
}

static int setup_lite(void **state)
{
	*state = fx_new(0);
	return 0;
}

static int setup_pg(void **state)
{
	*state = fx_new(1);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	db_close(f->db);
	char *cmd = xstrfmt("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

static int64_t add_job(struct db *db, const char *name, const char *labels)
{
	struct ajob_new n = { 0, 0, "acme/app", name, labels, "{}", "00" };
	int64_t id = 0;
	struct buf err = BUF_INIT;
	if (ajobs_insert(db, &n, &id, &err))
		fail_msg("%s", err.buf);
	buf_release(&err);
	return id;
}

static void test_lease_protocol(void **state)
{
	struct fx *f = *state;
	struct db *db = f->db;
	struct buf err = BUF_INIT;
	int64_t a1 = 0, a2 = 0, last = 0, stored = 0;
	assert_int_equal(agents_insert(db, "a1", "linux", "h1", &a1, &err), 0);
	assert_int_equal(agents_insert(db, "a2", "gpu", "h2", &a2, &err), 0);
	struct agent_row ar;
	assert_int_equal(agents_by_token(db, "h2", &ar, &err), 0);
	assert_string_equal(ar.labels, "gpu");
	assert_int_equal(agents_by_token(db, "nope", &ar, &err), KILN_ENOENT);
	int64_t gpu = add_job(db, "train", "gpu,self-hosted");
	int64_t any = add_job(db, "build", "self-hosted");
	int64_t t0 = 1000000;
	struct ajob_row j;
	/* a1 has no gpu: it skips the older gpu job and takes the next */
	assert_int_equal(ajobs_lease(db, a1, "linux", t0, 5000, &j, &err), 0);
	assert_int_equal(j.id, any);
	assert_int_equal(j.status, AJOB_LEASED);
	ajob_row_release(&j);
	assert_int_equal(ajobs_lease(db, a1, "linux", t0, 5000, &j, &err), KILN_ENOENT);
	assert_int_equal(ajobs_lease(db, a2, "gpu", t0, 5000, &j, &err), 0);
	assert_int_equal(j.id, gpu);
	ajob_row_release(&j);
	/* log events: in order, resends ignored, gaps refused */
	struct ajob_log ev[] = { { 1, "{\"k\":0,\"t\":\"a\"}" }, { 2, "{\"k\":0,\"t\":\"b\"}" },
				 { 3, "{\"k\":0,\"t\":\"c\"}" }, { 5, "{\"k\":0,\"t\":\"e\"}" } };
	assert_int_equal(ajobs_logs_append(db, any, a1, 1, ev, 2, t0, 5000, &last, &err), 0);
	assert_int_equal(last, 2);
	assert_int_equal(ajobs_logs_append(db, any, a1, 1, ev, 3, t0, 5000, &last, &err), 0);
	assert_int_equal(last, 3);
	assert_int_equal(ajobs_logs_append(db, any, a1, 1, ev + 3, 1, t0, 5000, &last, &err),
			 AJOB_CONFLICT);
	assert_int_equal(last, 3);
	/* another agent, or an old attempt, holds no lease */
	assert_int_equal(ajobs_logs_append(db, any, a2, 1, ev, 1, t0, 5000, &last, &err),
			 KILN_ENOENT);
	int cancel = -1;
	assert_int_equal(ajobs_heartbeat(db, any, a1, 2, t0, 5000, &cancel, &err), KILN_ENOENT);
	assert_int_equal(ajobs_heartbeat(db, any, a1, 1, t0, 5000, &cancel, &err), 0);
	assert_int_equal(cancel, 0);
	struct ajob_log_row *lv;
	size_t n;
	assert_int_equal(ajobs_logs_range(db, any, any, 100, &lv, &n, &err), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(lv[i].seq, (int64_t)i + 1);
		free(lv[i].event);
	}
	free(lv);
	/* complete only with every event stored */
	assert_int_equal(ajobs_complete(db, any, a1, 1, 4, "success", "{}", NULL, t0, &stored,
					&err),
			 AJOB_CONFLICT);
	assert_int_equal(stored, 3);
	assert_int_equal(ajobs_complete(db, any, a1, 1, 3, "success", "{\"v\":\"1\"}", "sum", t0,
					&stored, &err),
			 0);
	assert_int_equal(ajobs_get(db, any, &j, &err), 0);
	assert_int_equal(j.status, AJOB_DONE);
	assert_string_equal(j.result, "success");
	assert_string_equal(j.outputs, "{\"v\":\"1\"}");
	ajob_row_release(&j);
	/* the gpu agent confirmed its lease, then is lost: re-queued once
	 * (attempt 2), then failed */
	assert_int_equal(ajobs_heartbeat(db, gpu, a2, 1, t0, 5000, &cancel, &err), 0);
	int rq, fl;
	assert_int_equal(ajobs_expire(db, t0 + 6000, 2500, 1, &rq, &fl, &err), 0);
	assert_int_equal(rq, 1);
	assert_int_equal(fl, 0);
	assert_int_equal(ajobs_get(db, gpu, &j, &err), 0);
	assert_int_equal(j.status, AJOB_QUEUED);
	assert_int_equal(j.attempt, 2);
	assert_string_equal(j.reason, "agent lost: re-queued, attempt 2");
	ajob_row_release(&j);
	assert_int_equal(ajobs_lease(db, a2, "gpu", t0 + 7000, 5000, &j, &err), 0);
	assert_int_equal(j.attempt, 2);
	ajob_row_release(&j);
	assert_int_equal(ajobs_heartbeat(db, gpu, a2, 2, t0 + 7000, 5000, &cancel, &err), 0);
	assert_int_equal(ajobs_expire(db, t0 + 20000, 2500, 1, &rq, &fl, &err), 0);
	assert_int_equal(rq, 0);
	assert_int_equal(fl, 1);
	assert_int_equal(ajobs_get(db, gpu, &j, &err), 0);
	assert_int_equal(j.status, AJOB_DONE);
	assert_string_equal(j.result, "failure");
	assert_string_equal(j.reason, "agent lost");
	ajob_row_release(&j);
	buf_release(&err);
}

static void test_unconfirmed_lease(void **state)
{
	struct fx *f = *state;
	struct db *db = f->db;
	struct buf err = BUF_INIT;
	int64_t a = 0;
	assert_int_equal(agents_insert(db, "a", "", "h", &a, &err), 0);
	int64_t id = add_job(db, "build", "self-hosted");
	struct ajob_row j;
	assert_int_equal(ajobs_lease(db, a, "", 1000, 10000, &j, &err), 0);
	ajob_row_release(&j);
	/* never confirmed: offered again after ack_ms, same attempt */
	int rq, fl;
	assert_int_equal(ajobs_expire(db, 2000, 5000, 1, &rq, &fl, &err), 0);
	assert_int_equal(ajobs_get(db, id, &j, &err), 0);
	assert_int_equal(j.status, AJOB_LEASED);
	ajob_row_release(&j);
	assert_int_equal(ajobs_expire(db, 7000, 5000, 1, &rq, &fl, &err), 0);
	assert_int_equal(ajobs_get(db, id, &j, &err), 0);
	assert_int_equal(j.status, AJOB_QUEUED);
	assert_int_equal(j.attempt, 1);
	ajob_row_release(&j);
	/* confirmed (source download / heartbeat): it stays until it expires */
	assert_int_equal(ajobs_lease(db, a, "", 8000, 10000, &j, &err), 0);
	ajob_row_release(&j);
	assert_int_equal(ajobs_ack(db, id, a, 1, &err), 0);
	assert_int_equal(ajobs_expire(db, 15000, 5000, 1, &rq, &fl, &err), 0);
	assert_int_equal(ajobs_get(db, id, &j, &err), 0);
	assert_int_equal(j.status, AJOB_LEASED);
	ajob_row_release(&j);
	/* cancel: a leased job keeps running until its agent hears it */
	int cancel = 0;
	assert_int_equal(ajobs_cancel(db, id, &err), 0);
	assert_int_equal(ajobs_heartbeat(db, id, a, 1, 15000, 10000, &cancel, &err), 0);
	assert_int_equal(cancel, 1);
	buf_release(&err);
}

#define LITE(fn) cmocka_unit_test_setup_teardown(fn, setup_lite, teardown)
#define PGT(fn) cmocka_unit_test_setup_teardown(fn, setup_pg, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels_normalize),
		cmocka_unit_test(test_labels_match),
		cmocka_unit_test(test_log_round_trip),
		cmocka_unit_test(test_spec_leaves_secrets_out),
		LITE(test_lease_protocol),
		LITE(test_unconfirmed_lease),
		PGT(test_lease_protocol),
		PGT(test_unconfirmed_lease),
	};
	/* the PostgreSQL ones last: left out without a database to run them on */
	size_t n = pg_url() ? ARRAY_SIZE(tests) : ARRAY_SIZE(tests) - 2;
	if (!pg_url())
		fprintf(stderr, "# PostgreSQL cases left out: KILN_TEST_PG_URL is not set\n");
	return _cmocka_run_group_tests("agents", tests, n, NULL, NULL);
}
