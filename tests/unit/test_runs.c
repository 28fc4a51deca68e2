/* unit tests for src/store/runs: numbering, jobs/steps, compressed logs */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "store/db.h"
#include "store/recover.h"
#include "store/runs.h"

#include <sys/stat.h>
#include <unistd.h>

struct fx {
	char dir[64];
	struct db *db;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-runs-XXXXXX");
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

static void test_numbers_per_workflow(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	struct run_info ci = { ".github/workflows/ci.yml", "CI", "push", "refs/heads/main", "abc", "/r/a",
			       NULL, 0, 0 };
	struct run_info rel = { ".github/workflows/release.yml", "Release", "push", "refs/tags/v1", NULL,
				"/r/b", NULL, 0, 0 };
	int64_t id;
	int num;
	assert_int_equal(runs_start(f->db, &ci, &id, &num, &err), 0);
	assert_int_equal(num, 1);
	assert_int_equal(runs_finish(f->db, id, "success", NULL, &err), 0);
	assert_int_equal(runs_start(f->db, &ci, &id, &num, &err), 0);
	assert_int_equal(num, 2);
	assert_int_equal(runs_start(f->db, &rel, &id, &num, &err), 0);
	assert_int_equal(num, 1);
	assert_int_equal(runs_finish(f->db, id, "failure", "why", &err), 0);

	struct run_row *v;
	size_t n;
	assert_int_equal(runs_list(f->db, NULL, NULL, 0, &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "Release");
	assert_string_equal(v[0].conclusion, "failure");
	assert_string_equal(v[0].reason, "why");
	assert_string_equal(v[0].repo, "/r/b");
	assert_string_equal(v[2].reason, "");
	assert_true(v[0].finished_ms >= v[0].started_ms);
	assert_string_equal(v[1].status, "in_progress");
	assert_int_equal(v[1].finished_ms, 0);
	free(v);
	assert_int_equal(runs_list(f->db, "CI", NULL, 1, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].number, 2);
	free(v);
	assert_int_equal(runs_list(f->db, NULL, "/r/a", 0, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "CI");
	assert_string_equal(v[1].name, "CI");
	free(v);

	struct run_row r;
	assert_int_equal(runs_find(f->db, "ci#1", &r, &err), 0);
	assert_string_equal(r.conclusion, "success");
	assert_int_equal(runs_find(f->db, "CI#2", &r, &err), 0);
	assert_int_equal(runs_find(f->db, ".github/workflows/release.yml#1", &r, &err), 0);
	assert_string_equal(r.name, "Release");
	assert_int_equal(runs_find(f->db, "3", &r, &err), 0);
	assert_int_equal(r.id, 3);
	assert_int_equal(runs_find(f->db, "ci#9", &r, &err), KILN_ENOENT);
	assert_int_equal(runs_find(f->db, "x#y", &r, &err), -1);
	assert_non_null(strstr(err.buf, "expected a run id"));
	buf_release(&err);
}

static void test_jobs_steps_logs(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT, out = BUF_INIT, big = BUF_INIT;
	struct run_info ci = { "ci.yml", NULL, "workflow_dispatch", NULL, NULL, NULL, NULL, 0, 0 };
	int64_t run, job1, job2, step;
	int num;
	assert_int_equal(runs_start(f->db, &ci, &run, &num, &err), 0);
	assert_int_equal(runs_job_start(f->db, run, "build", &job1, &err), 0);
	assert_int_equal(runs_step_start(f->db, job1, 1, "compile", &step, &err), 0);
	assert_int_equal(runs_step_finish(f->db, step, "success", &err), 0);
	struct runs_log l;
	runs_log_init(&l, f->db, job1);
	for (int i = 0; i < 20000; i++) {
		buf_addf(&big, "line %d of the build\n", i);
		char line[64];
		int k = snprintf(line, sizeof(line), "line %d of the build\n", i);
		assert_int_equal(runs_log_write(&l, line, (size_t)k, &err), 0);
	}
	assert_int_equal(runs_log_flush(&l, &err), 0);
	runs_log_release(&l);
	assert_int_equal(runs_job_finish(f->db, job1, "success", &err), 0);
	assert_int_equal(runs_job_start(f->db, run, "test", &job2, &err), 0);
	assert_int_equal(runs_log_append(f->db, job2, "ok 1\n", 5, &err), 0);
	assert_int_equal(runs_log_append(f->db, job2, "ok 2", 4, &err), 0);
	assert_int_equal(runs_job_finish(f->db, job2, "failure", &err), 0);

	/* several chunks, compressed, restored in order */
	struct dbstmt *st;
	assert_int_equal(db_prepare(f->db, "SELECT COUNT(*), SUM(length(data)), SUM(raw_len) "
						   "FROM logs WHERE job_id = ?1", &st), DB_OK);
	dbs_bind_i64(st, 1, job1);
	assert_int_equal(dbs_step(st), DB_ROW);
	assert_true(dbs_col_int(st, 0) > 1);
	assert_true(dbs_col_i64(st, 1) * 4 < dbs_col_i64(st, 2));
	dbs_finalize(st);

	assert_int_equal(runs_read_logs(f->db, run, "build", &out, &err), 0);
	assert_int_equal(out.len, big.len);
	assert_memory_equal(out.buf, big.buf, big.len);
	buf_reset(&out);
	assert_int_equal(runs_read_logs(f->db, run, "test", &out, &err), 0);
	assert_string_equal(out.buf, "ok 1\nok 2");
	buf_reset(&out);
	assert_int_equal(runs_read_logs(f->db, run, NULL, &out, &err), 0);
	assert_true(str_starts_with(out.buf, "== job build (success)\nline 0 of the build\n"));
	assert_true(str_ends_with(out.buf, "== job test (failure)\nok 1\nok 2\n"));
	assert_int_equal(runs_read_logs(f->db, run, "nope", &out, &err), KILN_ENOENT);

	/* a corrupt chunk is an error, not garbage */
	buf_reset(&out);
	assert_int_equal(db_exec(f->db, "UPDATE logs SET data = x'00112233'", &err), 0);
	assert_int_equal(runs_read_logs(f->db, run, "test", &out, &err), -1);
	assert_non_null(strstr(err.buf, "corrupt"));
	buf_release(&err);
	buf_release(&out);
	buf_release(&big);
}

static int count(struct db *db, const char *sql)
{
	struct dbstmt *st;
	assert_int_equal(db_prepare(db, sql, &st), DB_OK);
	assert_int_equal(dbs_step(st), DB_ROW);
	int n = dbs_col_int(st, 0);
	dbs_finalize(st);
	return n;
}

/* synced lines are readable before the chunk is stored; the chunk
 * replaces them */
static void test_log_tail(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct run_info ci = { "ci.yml", NULL, "push", NULL, NULL, NULL, NULL, 0, 0 };
	int64_t run, job;
	int num;
	assert_int_equal(runs_start(f->db, &ci, &run, &num, &err), 0);
	assert_int_equal(runs_job_start(f->db, run, "build", &job, &err), 0);
	struct runs_log l;
	runs_log_init(&l, f->db, job);
	assert_false(runs_log_dirty(&l));
	assert_int_equal(runs_log_write(&l, "one\n", 4, &err), 0);
	assert_true(runs_log_dirty(&l));
	assert_int_equal(runs_log_sync(&l, &err), 0);
	assert_false(runs_log_dirty(&l));
	assert_int_equal(runs_log_sync(&l, &err), 0); /* nothing new: no row */
	assert_int_equal(runs_log_write(&l, "two\n", 4, &err), 0);
	assert_int_equal(runs_log_sync(&l, &err), 0);
	assert_int_equal(count(f->db, "SELECT COUNT(*) FROM log_tail"), 2);
	assert_int_equal(runs_read_logs(f->db, run, "build", &out, &err), 0);
	assert_string_equal(out.buf, "one\ntwo\n");
	assert_int_equal(runs_log_write(&l, "three\n", 6, &err), 0);
	assert_int_equal(runs_log_flush(&l, &err), 0);
	runs_log_release(&l);
	assert_int_equal(count(f->db, "SELECT COUNT(*) FROM log_tail"), 0);
	assert_int_equal(count(f->db, "SELECT COUNT(*) FROM logs"), 1);
	buf_reset(&out);
	assert_int_equal(runs_read_logs(f->db, run, "build", &out, &err), 0);
	assert_string_equal(out.buf, "one\ntwo\nthree\n");
	buf_release(&err);
	buf_release(&out);
}

/* every line gets the time it was written: lines split over writes
 * count once, synced pieces and chunks (also a line longer than a chunk)
 * keep them, the text and its times are read together */
static void test_log_times(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT, out = BUF_INIT, big = BUF_INIT;
	struct runs_times t = RUNS_TIMES_INIT;
	struct run_info ci = { .workflow = "ci.yml", .event = "push" };
	int64_t run, job, old;
	int num;
	assert_int_equal(runs_start(f->db, &ci, &run, &num, &err), 0);
	assert_int_equal(runs_job_start(f->db, run, "build", &job, &err), 0);
	int64_t t0 = runs_now_ms();
	struct runs_log l;
	runs_log_init(&l, f->db, job);
	assert_int_equal(runs_log_write(&l, "one\ntw", 6, &err), 0);
	assert_int_equal(runs_log_sync(&l, &err), 0);
	usleep(30000);
	assert_int_equal(runs_log_write(&l, "o\n", 2, &err), 0); /* ends line 2 */
	assert_int_equal(runs_log_sync(&l, &err), 0);
	usleep(30000);
	int64_t t1 = runs_now_ms();
	assert_int_equal(runs_log_write(&l, "three\n", 6, &err), 0);
	assert_int_equal(runs_log_sync(&l, &err), 0);
	/* the tail: text and times */
	assert_int_equal(runs_read_job_log(f->db, job, &out, &t, &err), 0);
	assert_string_equal(out.buf, "one\ntwo\nthree\n");
	assert_int_equal(t.nr, 3);
	assert_true(t.at[0] >= t0 && t.at[1] == t.at[0] && t.at[2] >= t1);
	/* a line longer than a chunk, then two short ones: flushed chunks */
	for (int i = 0; i < RUNS_LOG_CHUNK + 10; i++)
		buf_addch(&big, 'x');
	assert_int_equal(runs_log_write(&l, big.buf, big.len, &err), 0);
	assert_int_equal(runs_log_write(&l, big.buf, 100, &err), 0); /* same line */
	assert_int_equal(runs_log_write(&l, "\nfive\nsix", 9, &err), 0);
	assert_int_equal(runs_log_flush(&l, &err), 0);
	runs_log_release(&l);
	assert_int_equal(count(f->db, "SELECT COUNT(*) FROM log_tail"), 0);
	buf_reset(&out);
	assert_int_equal(runs_read_job_log(f->db, job, &out, &t, &err), 0);
	assert_int_equal(out.len, 14 + RUNS_LOG_CHUNK + 110 + 9);
	assert_int_equal(t.nr, 6);
	for (size_t i = 1; i < t.nr; i++)
		assert_true(t.at[i] >= t.at[i - 1]);
	assert_true(t.at[5] <= runs_now_ms());
	/* a log recorded without times (runs_log_append) has none */
	assert_int_equal(runs_job_start(f->db, run, "old", &old, &err), 0);
	assert_int_equal(runs_log_append(f->db, old, "a\nb\n", 4, &err), 0);
	buf_reset(&out);
	assert_int_equal(runs_read_job_log(f->db, old, &out, &t, &err), 0);
	assert_string_equal(out.buf, "a\nb\n");
	assert_int_equal(t.nr, 0);
	runs_times_release(&t);
	buf_release(&err);
	buf_release(&out);
	buf_release(&big);
}

/* a run of a live owner stays open; one of a dead owner (pid reused or
 * gone) is closed as failed with the reason, its open job too */
static void test_recover(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct run_info ci = { "ci.yml", NULL, "push", NULL, NULL, NULL, NULL, 0, 0 };
	int64_t live, dead, reused, job, step;
	int num;
	assert_int_equal(runs_start(f->db, &ci, &live, &num, &err), 0);
	assert_int_equal(runs_start(f->db, &ci, &dead, &num, &err), 0);
	assert_int_equal(runs_start(f->db, &ci, &reused, &num, &err), 0);
	assert_int_equal(runs_job_start(f->db, dead, "build", &job, &err), 0);
	assert_int_equal(runs_step_start(f->db, job, 1, "compile", &step, &err), 0);
	char *sql = xstrfmt("UPDATE runs SET owner_pid = 999999999 WHERE id = %lld;"
			    "UPDATE runs SET owner_start = owner_start + 1 WHERE id = %lld",
			    (long long)dead, (long long)reused);
	assert_int_equal(db_exec(f->db, sql, &err), 0);
	free(sql);
	assert_int_equal(store_recover(f->db, &err), 2);
	assert_int_equal(store_recover(f->db, &err), 0);
	struct run_row r;
	char spec[32];
	snprintf(spec, sizeof(spec), "%lld", (long long)live);
	assert_int_equal(runs_find(f->db, spec, &r, &err), 0);
	assert_string_equal(r.status, "in_progress");
	snprintf(spec, sizeof(spec), "%lld", (long long)dead);
	assert_int_equal(runs_find(f->db, spec, &r, &err), 0);
	assert_string_equal(r.status, "completed");
	assert_string_equal(r.conclusion, "failure");
	assert_non_null(strstr(r.reason, "kiln (pid 999999999) ended without finishing this run"));
	assert_true(r.finished_ms >= r.started_ms);
	assert_int_equal(count(f->db, "SELECT COUNT(*) FROM jobs WHERE status = 'in_progress'"), 0);
	assert_int_equal(count(f->db, "SELECT COUNT(*) FROM steps WHERE conclusion = 'failure'"), 1);
	assert_int_equal(runs_read_logs(f->db, dead, "build", &out, &err), 0);
	assert_true(str_starts_with(out.buf, "kiln: error: kiln (pid 999999999) ended"));
	buf_release(&err);
	buf_release(&out);
}

/* the recovery hint's commands are pasted into a shell: a store path with
 * quotes or $(...) must stay one word, never run what it holds */
static void test_hint_quotes_path(void **state)
{
	struct fx *f = *state;
	char *sub = xstrfmt("%s/it's $(touch PWNED)", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	char *path = xstrfmt("%s/kiln.db", sub);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	struct buf err = BUF_INIT, script = BUF_INIT;
	db_hint_damaged(path, &err);
	/* the first command: move the store aside */
	const char *l = strstr(err.buf, "\nhint:   mkdir ");
	assert_non_null(l);
	l += strlen("\nhint:   ");
	const char *nl = strchr(l, '\n');
	assert_non_null(nl);
	buf_add(&script, l, (size_t)(nl - l));
	buf_addch(&script, '\n');
	char *sh = xstrfmt("%s/hint.sh", f->dir);
	fp = fopen(sh, "w");
	assert_non_null(fp);
	fwrite(script.buf, 1, script.len, fp);
	fclose(fp);
	char *cmd = xstrfmt("cd '%s' && sh ./hint.sh 2>/dev/null", f->dir);
	assert_int_equal(system(cmd), 0);
	char *moved = xstrfmt("%s/damaged/kiln.db", sub);
	char *pwned = xstrfmt("%s/PWNED", f->dir);
	assert_int_equal(access(moved, F_OK), 0);
	assert_int_not_equal(access(pwned, F_OK), 0);
	free(pwned);
	free(moved);
	free(cmd);
	free(sh);
	buf_release(&script);
	buf_release(&err);
	free(path);
	free(sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_numbers_per_workflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jobs_steps_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hint_quotes_path, setup, teardown),
	};
	return cmocka_run_group_tests_name("runs", tests, NULL, NULL);
}
