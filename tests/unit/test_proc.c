/* unit tests for src/engine/proc: real child processes on a libuv loop */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "engine/proc.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct run {
	struct exec_cmd cmd;
	struct buf out;   /* "1:line\n" / "2:line\n" */
	int done;
	uint64_t done_at;
};

static void on_line(struct exec_cmd *cmd, int fd, const char *line, size_t len)
{
	struct run *r = cmd->data;
	buf_addf(&r->out, "%d:", fd);
	buf_add(&r->out, line, len);
	buf_addch(&r->out, '\n');
}

static void on_done(struct exec_cmd *cmd)
{
	struct run *r = cmd->data;
	r->done++;
	r->done_at = now_ns();
}

static void setup(struct run *r, const char *script)
{
	memset(r, 0, sizeof(*r));
	exec_cmd_init(&r->cmd);
	buf_init(&r->out, 0);
	strvec_push(&r->cmd.args, "/bin/sh");
	strvec_push(&r->cmd.args, "-c");
	strvec_push(&r->cmd.args, script);
	r->cmd.on_line = on_line;
	r->cmd.on_done = on_done;
	r->cmd.data = r;
}

static int run_loop(struct run *r)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	int ret = exec_cmd_start(&loop, &r->cmd);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(r->done, 1);
	return ret;
}

static void teardown(struct run *r)
{
	exec_cmd_release(&r->cmd);
	buf_release(&r->out);
}

/* is the process gone (or a zombie nobody reaped yet)? */
static int process_gone(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	struct buf b = BUF_INIT;
	int gone = buf_read_file(&b, path) < 0;
	if (!gone) {
		char *p = strrchr(b.buf, ')');
		gone = p && p[1] == ' ' && p[2] == 'Z';
	}
	buf_release(&b);
	return gone;
}

static pid_t read_pid(const char *file)
{
	struct buf b = BUF_INIT;
	pid_t pid = 0;
	if (buf_read_file(&b, file) == 0)
		pid = (pid_t)strtol(b.buf, NULL, 10);
	buf_release(&b);
	return pid;
}

static void test_lines_and_exit_code(void **state)
{
	(void)state;
	struct run r;
	setup(&r, "echo one; echo two >&2; printf 'cr\\r\\n'; printf 'no newline'; exit 3");
	assert_int_equal(run_loop(&r), 0);
	assert_int_equal(r.cmd.exit_status, 3);
	assert_int_equal(r.cmd.term_signal, 0);
	assert_non_null(strstr(r.out.buf, "1:one\n"));
	assert_non_null(strstr(r.out.buf, "2:two\n"));
	assert_non_null(strstr(r.out.buf, "1:cr\n"));
	assert_non_null(strstr(r.out.buf, "1:no newline\n"));
	teardown(&r);
}

static void test_env_cwd_and_stdin(void **state)
{
	(void)state;
	struct run r;
	setup(&r, "echo \"$FOO\"; pwd; cat; echo end");
	strvec_push(&r.cmd.env, "FOO=bar baz");
	strvec_push(&r.cmd.env, "PATH=/usr/bin:/bin");
	r.cmd.cwd = "/tmp";
	assert_int_equal(run_loop(&r), 0);
	assert_int_equal(r.cmd.exit_status, 0);
	/* cat got /dev/null, not the test's stdin */
	assert_string_equal(r.out.buf, "1:bar baz\n1:/tmp\n1:end\n");
	teardown(&r);
}

static void test_stdin_from_in_fd(void **state)
{
	(void)state;
	struct run r;
	/* a secret handed through a memfd: stdin, never argv */
	int fd = memfd_create("test", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\nsecond\n", 14), 14);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	setup(&r, "cat; echo end");
	r.cmd.in_fd = fd;
	assert_int_equal(run_loop(&r), 0);
	close(fd);
	assert_string_equal(r.out.buf, "1:s3cret\n1:second\n1:end\n");
	teardown(&r);
}

static void test_long_line_is_split(void **state)
{
	(void)state;
	struct run r;
	setup(&r, "head -c 150000 /dev/zero | tr '\\0' x; echo; echo after");
	assert_int_equal(run_loop(&r), 0);
	/* 150000 = 64K + 64K + rest */
	size_t lines = 0;
	for (size_t i = 0; i < r.out.len; i++)
		lines += r.out.buf[i] == '\n';
	assert_int_equal(lines, 4);
	assert_true(str_ends_with(r.out.buf, "1:after\n"));
	teardown(&r);
}

static void test_missing_program(void **state)
{
	(void)state;
	struct run r;
	setup(&r, "");
	strvec_clear(&r.cmd.args);
	strvec_push(&r.cmd.args, "/nonexistent/kiln-no-such-program");
	int ret = run_loop(&r);
	assert_int_equal(ret, UV_ENOENT);
	assert_int_equal(r.cmd.exit_status, 127);
	teardown(&r);
}

static void test_timeout_kills_the_group(void **state)
{
	(void)state;
	char pidfile[] = "/tmp/kiln-proc-test-XXXXXX";
	int fd = mkstemp(pidfile);
	assert_true(fd >= 0);
	close(fd);
	struct run r;
	struct buf script = BUF_INIT;
	/* the background sleep ignores SIGINT (non-interactive shell):
	 * only the group SIGKILL gets it */
	buf_addf(&script, "sleep 30 & echo $! >%s; echo started; sleep 30", pidfile);
	setup(&r, script.buf);
	r.cmd.timeout_ms = 200;
	r.cmd.grace_ms = 300;
	uint64_t t0 = now_ns();
	run_loop(&r);
	assert_true(r.cmd.timed_out);
	assert_true(r.cmd.term_signal != 0 || r.cmd.exit_status != 0);
	assert_true(now_ns() - t0 < 20ull * 1000000000); /* far below the sleeps */
	assert_non_null(strstr(r.out.buf, "1:started\n"));
	pid_t gc = read_pid(pidfile);
	assert_true(gc > 0);
	for (int i = 0; i < 200 && !process_gone(gc); i++)
		usleep(10000);
	assert_true(process_gone(gc));
	unlink(pidfile);
	buf_release(&script);
	teardown(&r);
}

static void test_kill_sends_sigint_first(void **state)
{
	(void)state;
	struct run r;
	setup(&r, "trap 'echo got INT; exit 7' INT; echo ready; while :; do sleep 0.05; done");
	uv_loop_t loop;
	uv_loop_init(&loop);
	assert_int_equal(exec_cmd_start(&loop, &r.cmd), 0);
	/* run until the trap is installed */
	while (!strstr(r.out.buf, "ready"))
		uv_run(&loop, UV_RUN_ONCE);
	exec_cmd_kill(&r.cmd, SIGINT, 5000);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(r.done, 1);
	assert_true(r.cmd.killed);
	assert_int_equal(r.cmd.exit_status, 7);
	assert_non_null(strstr(r.out.buf, "1:got INT\n"));
	teardown(&r);
}

static void test_background_process_does_not_hold_the_step(void **state)
{
	(void)state;
	proc_become_subreaper();
	struct run r;
	setup(&r, "sleep 30 & echo bg=$!; echo done");
	uint64_t t0 = now_ns();
	run_loop(&r);
	assert_int_equal(r.cmd.exit_status, 0);
	assert_true(now_ns() - t0 < 20ull * 1000000000);
	assert_non_null(strstr(r.out.buf, "1:done\n"));
	const char *p = strstr(r.out.buf, "bg=");
	assert_non_null(p);
	pid_t bg = (pid_t)strtol(p + 3, NULL, 10);
	assert_false(process_gone(bg));
	/* the job-end sweep finds it through its process group */
	pid_t pg = r.cmd.pid;
	assert_true(proc_sweep(&pg, 1, NULL) >= 1);
	assert_true(process_gone(bg));
	assert_int_equal(kill(bg, 0), -1); /* reaped, not a zombie */
	teardown(&r);
}

static void test_sweep_finds_escaped_orphans_by_marker(void **state)
{
	(void)state;
	proc_become_subreaper();
	struct run r;
	/* setsid: leaves the step's session and group; its parent exits so
	 * it is re-parented to us (subreaper) */
	setup(&r, "setsid sleep 30 </dev/null >/dev/null 2>&1 & echo pid=$!");
	strvec_push(&r.cmd.env, "KILN_TEST_MARK=xyz");
	strvec_push(&r.cmd.env, "PATH=/usr/bin:/bin");
	run_loop(&r);
	const char *p = strstr(r.out.buf, "pid=");
	assert_non_null(p);
	pid_t esc = (pid_t)strtol(p + 4, NULL, 10);
	/* bounded waits of 5 s: a loaded machine (the whole suite on two
	 * cores) may take long to run setsid or to end a killed process */
	for (int i = 0; i < 500 && getpgid(esc) != esc; i++)
		usleep(10000); /* until setsid ran */
	assert_false(process_gone(esc));
	assert_int_equal(proc_sweep(NULL, 0, "KILN_TEST_MARK=other"), 0);
	assert_false(process_gone(esc));
	assert_true(proc_sweep(NULL, 0, "KILN_TEST_MARK=xyz") >= 1);
	for (int i = 0; i < 500 && !process_gone(esc); i++)
		usleep(10000);
	assert_true(process_gone(esc));
	waitpid(esc, NULL, WNOHANG); /* reaped by the sweep unless it was slower */
	assert_int_equal(kill(esc, 0), -1);
	teardown(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_exit_code),
		cmocka_unit_test(test_env_cwd_and_stdin),
		cmocka_unit_test(test_stdin_from_in_fd),
		cmocka_unit_test(test_long_line_is_split),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_timeout_kills_the_group),
		cmocka_unit_test(test_kill_sends_sigint_first),
		cmocka_unit_test(test_background_process_does_not_hold_the_step),
		cmocka_unit_test(test_sweep_finds_escaped_orphans_by_marker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
