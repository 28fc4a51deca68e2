/*
 * child: process groups under libuv, with a time limit and one exit
 * callback; plus small process helpers.
 */
#include "base/kiln.h"
#include "deploy/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_close(uv_handle_t *h)
{
	struct child *c = h->data;
	if (--c->nopen == 0)
		free(c);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct child *c = p->data;
	int st = sig ? 128 + sig : (int)status;
	if (c->exited == 2)
		st = 124;
	c->exited = 1;
	/* reap anything left in the group (a shell's background jobs) */
	kill(-c->pid, SIGKILL);
	if (c->cb)
		c->cb(c->data, st);
	uv_close((uv_handle_t *)&c->proc, on_close);
	uv_close((uv_handle_t *)&c->timer, on_close);
}

static void on_timeout(uv_timer_t *t)
{
	struct child *c = t->data;
	if (!c->exited) {
		c->exited = 2;
		kill(-c->pid, SIGKILL);
	}
}

struct child *child_start(uv_loop_t *loop, const struct child_opts *o, child_cb cb, void *data,
			  struct buf *err)
{
	struct child *c = xcalloc(1, sizeof(*c));
	int devnull = -1;
	int out = o->log_fd;
	if (out < 0)
		out = devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_IGNORE },
		{ .flags = UV_INHERIT_FD, .data.fd = out },
		{ .flags = UV_INHERIT_FD, .data.fd = out },
	};
	uv_process_options_t po = {
		.exit_cb = on_exit_cb,
		.file = o->argv[0],
		.args = o->argv,
		.env = o->env,
		.cwd = o->cwd,
		.flags = UV_PROCESS_DETACHED,
		.stdio_count = 3,
		.stdio = stdio,
	};
	c->proc.data = c;
	c->cb = cb;
	c->data = data;
	int r = uv_spawn(loop, &c->proc, &po);
	if (devnull >= 0)
		close(devnull);
	if (r < 0) {
		buf_addf(err, "cannot start '%s': %s", o->argv[0], uv_strerror(r));
		uv_close((uv_handle_t *)&c->proc, (uv_close_cb)free);
		return NULL;
	}
	c->pid = c->proc.pid;
	c->nopen = 2;
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	if (o->timeout_ms > 0)
		uv_timer_start(&c->timer, on_timeout, (uint64_t)o->timeout_ms, 0);
	return c;
}

void child_disown(struct child *c)
{
	c->cb = NULL;
	c->data = NULL;
}

void child_leave(struct child *c)
{
	child_disown(c);
	if (c->exited || uv_is_closing((uv_handle_t *)&c->proc))
		return; /* its exit already closes (and frees) it */
	uv_close((uv_handle_t *)&c->proc, on_close);
	uv_close((uv_handle_t *)&c->timer, on_close);
}

void child_kill(struct child *c, int sig)
{
	if (!c->exited)
		kill(-c->pid, sig);
}

int pid_alive(int pid)
{
	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return 0;
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

int run_sync(char **argv, char **env, const char *cwd, int timeout_ms)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		setsid();
		if (cwd && chdir(cwd) < 0)
			_exit(127);
		if (env)
			execve(argv[0], argv, env);
		else
			execvp(argv[0], argv);
		_exit(127);
	}
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (w < 0 && errno != EINTR)
			return -1;
		if (now_ns() > deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 124;
		}
		usleep(10000);
	}
}
