/*
 * unit tests for src/server/dora: the four keys against a hand-computed
 * scenario recorded through the deployment gate in a real store (see
 * docs/internals/dora.md for the formulas).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "server/dora.h"
#include "server/env.h"
#include "store/db.h"

#include <unistd.h>

#define M ((int64_t)60 * 1000)
#define H (60 * M)
#define D (24 * H)
#define NOW ((int64_t)1790000000000)
#define B (NOW - 10 * D) /* the scenario starts 10 days before now */

struct fx {
	char dir[64];
	struct db *db;
	int64_t run;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-dora-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char *path = xstrfmt("%s/kiln.db", f->dir);
	struct buf err = BUF_INIT;
	assert_int_equal(db_open(path, &f->db, &err), 0);
	free(path);
	buf_release(&err);
	*state = f;
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

/* one deployment of a commit made at `commit`, started 5 minutes before `end` */
static int64_t deploy(struct fx *f, const char *env, int64_t commit, int64_t end, const char *result,
		      const char *reason)
{
	struct env_decision d;
	struct buf err = BUF_INIT;
	f->run++;
	struct env_job j = { "shop", env, f->run, f->run, "deploy", "refs/heads/main", "c0ffee",
			     "alice", commit };
	assert_int_equal(env_gate(f->db, &j, end - 5 * M, NULL, &d, &err), 0);
	assert_int_equal(d.verdict, ENV_PROCEED);
	if (result)
		assert_int_equal(env_deployment_finish(f->db, d.deployment_id, result, reason, end, NULL,
						       &err),
				 0);
	buf_release(&err);
	return d.deployment_id;
}

static void scenario(struct fx *f)
{
	deploy(f, "production", B - 2 * H, B, "success", NULL);                 /* lead 2h */
	deploy(f, "production", B + D - H, B + D, "success", NULL);             /* lead 1h */
	int64_t d3 = deploy(f, "production", B + 2 * D - 3 * H, B + 2 * D, NULL, NULL);
	/* its kiln/deploy step rolled the release back */
	struct buf err = BUF_INIT, reason = BUF_INIT;
	int rb = 0;
	assert_int_equal(env_link_release(f->db, d3, "web",
					  "release 7 (v3) rolled-back after 2.10s: error rate 12% > 5%; "
					  "traffic back on v2 in 3.00ms",
					  &rb, &reason, &err),
			 0);
	assert_true(rb);
	assert_string_equal(reason.buf, "error rate 12% > 5%; traffic back on v2 in 3.00ms");
	assert_int_equal(env_deployment_finish(f->db, d3, "failure", reason.buf, B + 2 * D, NULL, &err), 0);
	deploy(f, "production", B + 2 * D, B + 2 * D + 30 * M, "failure", "exit 1"); /* still broken */
	deploy(f, "production", B + 2 * D + 40 * M, B + 2 * D + H, "success", NULL); /* lead 20m, recovered in 1h */
	deploy(f, "production", B + 5 * D - 5 * H, B + 5 * D, "success", NULL);      /* lead 5h */
	deploy(f, "production", B + 4 * D, B + 6 * D, "success", NULL);              /* lead 2d */
	deploy(f, "production", B + 8 * D - H, B + 8 * D, "failure", "smoke test"); /* failure */
	deploy(f, "production", B + 8 * D - 30 * M, B + 8 * D + 30 * M, "success", NULL); /* lead 1h, recovered in 30m */
	deploy(f, "production", B, B + 9 * D, "cancelled", NULL);                   /* not counted */
	deploy(f, "staging", B, B + H, "success", NULL);
	buf_release(&reason);
	buf_release(&err);
}

static void test_scenario(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	/* a success 40 days ago: outside the 30-day window */
	deploy(f, "production", NOW - 40 * D - H, NOW - 40 * D, "success", NULL);
	scenario(f);

	struct dora_report *v;
	size_t n;
	assert_int_equal(dora_query(f->db, "shop", "production", 30, NOW, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	struct dora_report *r = &v[0];
	assert_string_equal(r->repo, "shop");
	assert_string_equal(r->environment, "production");
	/* 6 successes in 30 days: 0.2/day, at least weekly: high */
	assert_int_equal(r->successes, 6);
	assert_int_equal(r->failures, 3);
	assert_true(r->per_day > 0.1999 && r->per_day < 0.2001);
	assert_int_equal(r->frequency_band, DORA_HIGH);
	/* leads 20m 1h 1h 2h 5h 2d: median (1h + 2h) / 2, p90 = 6th of 6 */
	assert_int_equal(r->lead_n, 6);
	assert_int_equal(r->lead_median_ms, 90 * M);
	assert_int_equal(r->lead_p90_ms, 2 * D);
	assert_int_equal(r->lead_band, DORA_ELITE);
	/* 3 failures of 9 */
	assert_true(r->failure_rate > 0.3333 && r->failure_rate < 0.3334);
	assert_int_equal(r->failure_band, DORA_LOW);
	/* streaks recovered in 1h and 30m */
	assert_int_equal(r->recovery_n, 2);
	assert_int_equal(r->unrecovered, 0);
	assert_int_equal(r->recovery_median_ms, 45 * M);
	assert_int_equal(r->recovery_band, DORA_ELITE);

	json_t *j = dora_to_json(r);
	char *s = json_dumps(j, JSON_COMPACT);
	assert_non_null(strstr(s, "\"lead_time\":{\"changes\":6,\"median_ms\":5400000,\"p90_ms\":172800000,\"band\":\"elite\"}"));
	assert_non_null(strstr(s, "\"recovery_time\":{\"recoveries\":2,\"unrecovered\":0,\"median_ms\":2700000,\"band\":\"elite\"}"));
	free(s);
	json_decref(j);
	free(v);

	/* every environment: production and staging */
	assert_int_equal(dora_query(f->db, NULL, NULL, 30, NOW, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[1].environment, "staging");
	assert_int_equal(v[1].successes, 1);
	assert_int_equal(v[1].lead_n, 1);
	assert_int_equal(v[1].lead_median_ms, H);
	assert_int_equal(v[1].recovery_n, 0);
	assert_int_equal(v[1].recovery_band, DORA_NONE);
	free(v);

	/* a 7-day window (from B + 3d) sees d6, d7, d8 (failure) and d9 */
	assert_int_equal(dora_query(f->db, "shop", "production", 7, NOW, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].successes, 3);
	assert_int_equal(v[0].failures, 1);
	assert_int_equal(v[0].recovery_median_ms, 30 * M);
	free(v);

	/* the link to the release is recorded */
	struct deploy_row row;
	assert_int_equal(deploys_get(f->db, 4, &row, &err), 0);
	assert_string_equal(row.release_app, "web");
	assert_int_equal(row.release_id, 7);
	assert_string_equal(row.state, "failure");

	assert_int_equal(dora_query(f->db, NULL, NULL, 0, NOW, &v, &n, &err), KILN_EINVAL);
	buf_release(&err);
}

static void test_unrecovered_and_bands(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	deploy(f, "production", NOW - 3 * D, NOW - 2 * D, "success", NULL);
	deploy(f, "production", NOW - D - H, NOW - D, "failure", NULL);
	struct dora_report *v;
	size_t n;
	assert_int_equal(dora_query(f->db, "shop", NULL, 30, NOW, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].unrecovered, 1);
	assert_int_equal(v[0].recovery_n, 0);
	assert_int_equal(v[0].recovery_band, DORA_NONE);
	assert_int_equal(v[0].lead_median_ms, D);   /* exactly one day: high, not elite */
	assert_int_equal(v[0].lead_band, DORA_HIGH);
	assert_int_equal(v[0].frequency_band, DORA_MEDIUM); /* once in 30 days: monthly */
	free(v);

	/* the band edges with dora_compute directly */
	struct deploy_row rows[20];
	memset(rows, 0, sizeof(rows));
	for (int i = 0; i < 20; i++) {
		rows[i].id = i + 1;
		snprintf(rows[i].state, sizeof(rows[i].state), "%s", i == 7 ? "failure" : "success");
		rows[i].finished_ms = NOW - D + i * M;
		rows[i].commit_ms = rows[i].finished_ms - 30 * M;
	}
	struct dora_report r;
	dora_compute(rows, 20, NOW - D, NOW, &r);
	/* 1 of 20 = 5 %: elite; 19 a day: elite */
	assert_int_equal(r.failures, 1);
	assert_int_equal(r.failure_band, DORA_ELITE);
	assert_int_equal(r.frequency_band, DORA_ELITE);
	assert_int_equal(r.recovery_median_ms, M);
	char s[32];
	dora_fmt_duration(90 * M, s, sizeof(s));
	assert_string_equal(s, "1h 30m");
	dora_fmt_duration(2 * D + 3 * H, s, sizeof(s));
	assert_string_equal(s, "2d 03h");
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scenario, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unrecovered_and_bands, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
