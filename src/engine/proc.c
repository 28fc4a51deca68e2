/*
 * proc: child processes on libuv (see proc.h). A command owns three
 * handles (process, two pipes) plus a timer; on_done runs after the last
 * close callback so the owner may free the struct there.
 *
 * When the child exits, output still in the pipes is drained at once
 * (non-blocking) and the pipes are closed: a background process that keeps
 * stdout open must not hold the step (it is killed at the end of the job,
 * as GitHub's runner does with its orphan-process cleanup).
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* how long a sweep waits for what it killed to exit and be reaped */
#define PROC_SWEEP_MAX_MS 1000

/* bytes drained synchronously per stream after the child exited */
#define DRAIN_MAX (1u << 20)

void exec_cmd_init(struct exec_cmd *cmd)
{
	/* all but the read buffer (16 KB, written before it is read): a
	 * struct assignment from EXEC_CMD_INIT zeroed and copied it per step */
	memset(cmd, 0, offsetof(struct exec_cmd, rbuf));
	cmd->args = (struct strvec)STRVEC_INIT;
	cmd->env = (struct strvec)STRVEC_INIT;
	cmd->grace_ms = 2000;
	cmd->line[0] = (struct buf)BUF_INIT;
	cmd->line[1] = (struct buf)BUF_INIT;
}

void exec_cmd_release(struct exec_cmd *cmd)
{
	strvec_clear(&cmd->args);
	strvec_clear(&cmd->env);
	buf_release(&cmd->line[0]);
	buf_release(&cmd->line[1]);
}

static void emit(struct exec_cmd *cmd, int idx, const char *s, size_t len)
{
	if (len && s[len - 1] == '\r')
		len--;
	if (cmd->on_line)
		cmd->on_line(cmd, idx + 1, s, len);
}

/* split incoming bytes into lines; partial lines wait in cmd->line[idx] */
static void feed(struct exec_cmd *cmd, int idx, const char *p, size_t n)
{
	struct buf *lb = &cmd->line[idx];
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		if (!lb->len && nl && take <= EXEC_LINE_MAX) {
			emit(cmd, idx, p, take); /* common case: no copy */
		} else {
			size_t room = EXEC_LINE_MAX - lb->len;
			size_t part = take < room ? take : room;
			buf_add(lb, p, part);
			if (lb->len >= EXEC_LINE_MAX || nl) {
				emit(cmd, idx, lb->buf, lb->len);
				buf_reset(lb);
			}
			if (part < take) { /* line too long: continue it */
				p += part;
				n -= part;
				continue;
			}
		}
		p += take + (nl ? 1 : 0);
		n -= take + (nl ? 1 : 0);
	}
}

static void flush_partial(struct exec_cmd *cmd, int idx)
{
	if (cmd->line[idx].len) {
		emit(cmd, idx, cmd->line[idx].buf, cmd->line[idx].len);
		buf_reset(&cmd->line[idx]);
	}
}

static void on_close(uv_handle_t *h)
{
	struct exec_cmd *cmd = h->data;
	if (h == (uv_handle_t *)&cmd->exitpoll && cmd->pidfd >= 0) {
		close(cmd->pidfd);
		cmd->pidfd = -1;
	}
	if (--cmd->open_handles == 0)
		cmd->on_done(cmd);
}

static void close_handle(struct exec_cmd *cmd, uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, on_close);
	(void)cmd;
}

static void finish_if_done(struct exec_cmd *cmd)
{
	if (!cmd->exited || !cmd->eof[0] || !cmd->eof[1])
		return;
	close_handle(cmd, (uv_handle_t *)&cmd->timer);
	if (cmd->fast)
		close_handle(cmd, (uv_handle_t *)&cmd->exitpoll);
	else
		close_handle(cmd, (uv_handle_t *)&cmd->proc);
}

static void end_stream(struct exec_cmd *cmd, int idx)
{
	if (cmd->eof[idx])
		return;
	cmd->eof[idx] = 1;
	flush_partial(cmd, idx);
	uv_read_stop((uv_stream_t *)&cmd->pipes[idx]);
	close_handle(cmd, (uv_handle_t *)&cmd->pipes[idx]);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct exec_cmd *cmd = h->data;
	(void)hint;
	/* libuv reads right after alloc: one buffer serves both pipes */
	b->base = cmd->rbuf;
	b->len = sizeof(cmd->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct exec_cmd *cmd = s->data;
	int idx = s == (uv_stream_t *)&cmd->pipes[0] ? 0 : 1;
	if (nread > 0) {
		feed(cmd, idx, b->base, (size_t)nread);
	} else if (nread < 0) {
		end_stream(cmd, idx);
		finish_if_done(cmd);
	}
}

/* read what the child left in a pipe, without waiting */
static void drain(struct exec_cmd *cmd, int idx)
{
	if (cmd->eof[idx])
		return;
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)&cmd->pipes[idx], &fd) == 0) {
		char tmp[8192];
		size_t total = 0;
		while (total < DRAIN_MAX) {
			ssize_t n = read(fd, tmp, sizeof(tmp));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			feed(cmd, idx, tmp, (size_t)n);
			total += (size_t)n;
		}
	}
	end_stream(cmd, idx);
}

static void handle_exit(struct exec_cmd *cmd, int64_t status, int sig)
{
	cmd->exited = 1;
	cmd->exit_status = sig ? -1 : status;
	cmd->term_signal = sig;
	uv_timer_stop(&cmd->timer);
	/* a timed-out or cancelled step leaves nothing behind in its group */
	if (cmd->timed_out || cmd->killed)
		kill(-cmd->pid, SIGKILL);
	drain(cmd, 0);
	drain(cmd, 1);
	finish_if_done(cmd);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	handle_exit(p->data, status, sig);
}

/* the pidfd of a vfork'ed child became readable: it exited */
static void on_pidfd(uv_poll_t *h, int status, int events)
{
	struct exec_cmd *cmd = h->data;
	int ws;
	(void)status;
	(void)events;
	pid_t r;
	do
		r = waitpid(cmd->pid, &ws, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return; /* not yet */
	uv_poll_stop(h);
	if (r < 0) /* reaped elsewhere: nothing more to learn */
		handle_exit(cmd, 127, 0);
	else if (WIFSIGNALED(ws))
		handle_exit(cmd, 0, WTERMSIG(ws));
	else
		handle_exit(cmd, WEXITSTATUS(ws), 0);
}

static void on_escalate(uv_timer_t *t)
{
	struct exec_cmd *cmd = t->data;
	if (!cmd->exited)
		kill(-cmd->pid, SIGKILL);
}

static void schedule_kill(struct exec_cmd *cmd, uint64_t grace_ms)
{
	if (cmd->escalated)
		return;
	cmd->escalated = 1;
	if (!grace_ms) {
		kill(-cmd->pid, SIGKILL);
		return;
	}
	uv_timer_stop(&cmd->timer);
	uv_timer_start(&cmd->timer, on_escalate, grace_ms, 0);
}

static void on_timeout(uv_timer_t *t)
{
	struct exec_cmd *cmd = t->data;
	if (cmd->exited)
		return;
	cmd->timed_out = 1;
	kill(-cmd->pid, SIGINT);
	schedule_kill(cmd, cmd->grace_ms);
}

void exec_cmd_kill(struct exec_cmd *cmd, int sig, uint64_t grace_ms)
{
	if (cmd->exited || cmd->pid <= 0)
		return;
	cmd->killed = 1;
	kill(-cmd->pid, sig);
	schedule_kill(cmd, grace_ms);
}

char *proc_path_search(const char *prog, const char *path)
{
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		char *cand = n ? xstrfmt("%.*s/%s", (int)n, p, prog) : xstrfmt("./%s", prog);
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (!colon)
			break;
		p = colon + 1;
	}
	return NULL;
}

/* program path: as given when it holds a '/', else looked up in the
 * PATH of the child's environment (execvp would use kiln's) */
static char *resolve(const struct exec_cmd *cmd)
{
	const char *prog = cmd->args.v[0];
	if (strchr(prog, '/'))
		return xstrdup(prog);
	return proc_path_search(prog, cmd->env.nr ? strvec_getenv(&cmd->env, "PATH") : getenv("PATH"));
}

/*
 * What the child of spawn_fast needs, all prepared before vfork: between
 * vfork and exec the child shares kiln's memory and only makes system
 * calls (as glibc's posix_spawn does).
 */
struct spawn_args {
	const char *prog, *cwd;
	char *const *argv, *const *envp;
	int out, err;  /* write ends of the output pipes */
	int in;        /* stdin (exec_cmd.in_fd), 0 = /dev/null */
	pid_t parent;  /* kiln */
	/* set by the child when it cannot exec: volatile, as the compiler
	 * cannot see that the vfork child writes the parent's memory */
	volatile int err_no;
};

static void spawn_child(struct spawn_args *a) __attribute__((noreturn));
static void spawn_child(struct spawn_args *a)
{
	struct sigaction dfl;
	sigset_t none;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL); /* glibc-reserved ones fail: fine */
	int fd;
	if (setsid() < 0)
		goto fail;
#ifdef __linux__
	/*
	 * The step dies with kiln, even by SIGKILL: the kernel signals the
	 * child when the thread that forked it (the event loop's) ends. If
	 * kiln died before this point, getppid() already changed.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		goto fail;
	if (getppid() != a->parent)
		_exit(127);
#endif
	fd = a->in > 0 ? a->in : open("/dev/null", O_RDONLY);
	if (fd < 0 || (fd != 0 && (dup2(fd, 0) < 0 || (fd != a->in && close(fd) < 0))))
		goto fail;
	if (dup2(a->out, 1) < 0 || dup2(a->err, 2) < 0)
		goto fail;
	if (a->cwd && chdir(a->cwd) < 0)
		goto fail;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(a->prog, a->argv, a->envp);
fail:
	a->err_no = errno ? errno : EINVAL;
	_exit(127);
}

/* vfork in a frame of its own: nothing of the caller's is live across it */
static pid_t __attribute__((noinline)) spawn_vfork(struct spawn_args *a)
{
	pid_t pid = vfork();
	if (pid == 0)
		spawn_child(a);
	return pid;
}

/*
 * Spawn with vfork (no page tables copied, unlike libuv's fork(): ~1-2 ms
 * less per step for a process of kiln's size), the child in its own
 * session with PR_SET_PDEATHSIG, and watch the exit through a pidfd.
 * Returns 1 when this path is unavailable (no pidfd), else 0 or a negative
 * errno.
 */
static int spawn_fast(uv_loop_t *loop, struct exec_cmd *cmd, int pidfd_ok)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };
	if (!pidfd_ok)
		return 1;
	char *prog = resolve(cmd);
	if (!prog)
		return -ENOENT;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		int e = -errno;
		if (out[0] >= 0) {
			close(out[0]);
			close(out[1]);
		}
		free(prog);
		return e;
	}
	struct spawn_args a = {
		.prog = prog, .cwd = cmd->cwd, .argv = cmd->args.v, .in = cmd->in_fd,
		.envp = cmd->env.nr ? cmd->env.v : environ,
		.out = out[1], .err = err[1], .parent = getpid(),
	};
	/* no signal handler may run in the child before it reset them */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pid_t pid = spawn_vfork(&a);
	int r = pid < 0 ? errno : a.err_no;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(prog);
	close(out[1]);
	close(err[1]);
	if (pid > 0 && r)
		waitpid(pid, NULL, 0); /* exec failed: reap it */
	if (r != 0) {
		close(out[0]);
		close(err[0]);
		return -r;
	}
	cmd->pid = pid;
	cmd->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (cmd->pidfd < 0) { /* not after a good probe; never lose the child */
		int e = -errno;
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(out[0]);
		close(err[0]);
		cmd->pid = 0;
		return e;
	}
	uv_pipe_open(&cmd->pipes[0], out[0]);
	uv_pipe_open(&cmd->pipes[1], err[0]);
	uv_poll_init(loop, &cmd->exitpoll, cmd->pidfd);
	cmd->exitpoll.data = cmd;
	uv_poll_start(&cmd->exitpoll, UV_READABLE, on_pidfd);
	return 0;
}

/* is pidfd_open available (Linux >= 5.3)? Asked once per process (three
 * system calls per step otherwise); the kernel does not change under it */
static int have_pidfd(void)
{
	static volatile int known = -1;
	if (known >= 0)
		return known;
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (fd >= 0)
		close(fd);
	known = fd >= 0;
	return known;
}

static int spawn_libuv(uv_loop_t *loop, struct exec_cmd *cmd)
{
	uv_process_options_t o;
	uv_stdio_container_t stdio[3];

	memset(&o, 0, sizeof(o));
	cmd->proc.data = cmd;
	stdio[0].flags = UV_IGNORE; /* libuv opens /dev/null for it */
	if (cmd->in_fd > 0) {
		stdio[0].flags = UV_INHERIT_FD;
		stdio[0].data.fd = cmd->in_fd;
	}
	for (int i = 0; i < 2; i++) {
		stdio[i + 1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		stdio[i + 1].data.stream = (uv_stream_t *)&cmd->pipes[i];
	}
	o.file = cmd->args.v[0];
	o.args = cmd->args.v;
	o.env = cmd->env.nr ? cmd->env.v : NULL;
	o.cwd = cmd->cwd;
	o.flags = UV_PROCESS_DETACHED; /* setsid: own session and group */
	o.stdio = stdio;
	o.stdio_count = 3;
	o.exit_cb = on_exit_cb;
	int r = uv_spawn(loop, &cmd->proc, &o);
	if (r == 0)
		cmd->pid = cmd->proc.pid;
	return r;
}

int exec_cmd_start(uv_loop_t *loop, struct exec_cmd *cmd)
{
	cmd->open_handles = 4;
	cmd->exit_status = -1;
	cmd->pidfd = -1;
	uv_timer_init(loop, &cmd->timer);
	cmd->timer.data = cmd;
	for (int i = 0; i < 2; i++) {
		uv_pipe_init(loop, &cmd->pipes[i], 0);
		cmd->pipes[i].data = cmd;
	}

	int r = spawn_fast(loop, cmd, have_pidfd());
	if (r == 1)
		r = spawn_libuv(loop, cmd);
	else
		cmd->fast = 1;
	if (r < 0) {
		/* report through the normal path: handles close, on_done runs */
		cmd->exited = 1;
		cmd->exit_status = 127;
		cmd->eof[0] = cmd->eof[1] = 1;
		for (int i = 0; i < 2; i++)
			close_handle(cmd, (uv_handle_t *)&cmd->pipes[i]);
		close_handle(cmd, (uv_handle_t *)&cmd->timer);
		if (cmd->fast)
			cmd->open_handles--; /* no exit watcher was made */
		else
			close_handle(cmd, (uv_handle_t *)&cmd->proc);
		return r;
	}
	for (int i = 0; i < 2; i++)
		uv_read_start((uv_stream_t *)&cmd->pipes[i], on_alloc, on_read);
	if (cmd->timeout_ms)
		uv_timer_start(&cmd->timer, on_timeout, cmd->timeout_ms, 0);
	return 0;
}

void proc_become_subreaper(void)
{
#ifdef __linux__
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
#endif
}

/* ---- sweeping leftovers of a job ---- */

struct pstat {
	char state;
	pid_t ppid, pgid, sid;
};

static int read_stat(pid_t pid, struct pstat *st)
{
	char data[1024];
	const char *p = fs_proc_stat(pid, data, sizeof(data));
	int ppid, pgid, sid;
	if (!p || sscanf(p, "%c %d %d %d", &st->state, &ppid, &pgid, &sid) != 4)
		return -1;
	st->ppid = ppid;
	st->pgid = pgid;
	st->sid = sid;
	return 0;
}

/* pids of kiln's children, from /proc/self/task/<tid>/children */
static void list_children(pid_t **out, size_t *nr, size_t *alloc)
{
	*nr = 0;
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[300];
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", de->d_name);
		struct buf b = BUF_INIT;
		if (buf_read_file(&b, path) == 0) {
			char *p = b.buf, *end;
			for (;;) {
				long v = strtol(p, &end, 10);
				if (end == p)
					break;
				ALLOC_GROW(*out, *nr + 1, *alloc);
				(*out)[(*nr)++] = (pid_t)v;
				p = end;
			}
		}
		buf_release(&b);
	}
	closedir(d);
}

static int in_list(const pid_t *v, size_t n, pid_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

/*
 * Is it safe to SIGKILL process group `pg` of a finished step? The step's
 * leader (pid == pg) was reaped already, and the kernel never hands out a
 * pid still in use as a group id; so when no process has pid `pg` the group
 * is still the step's. When one does, the number was reused: only a
 * process carrying this job's marker is ours.
 */
static int group_is_ours(pid_t pg, const char *marker)
{
	if (pg <= 0 || kill(-pg, 0) < 0)
		return 0;
	struct pstat st;
	if (read_stat(pg, &st) < 0)
		return 1;
	return st.state != 'Z' && marker && fs_proc_environ_has(pg, marker, 0);
}

int proc_sweep(const pid_t *pgids, size_t n, const char *marker)
{
	pid_t *kids = NULL, *killed = NULL;
	size_t nkids = 0, akids = 0, nkilled = 0, akilled = 0;
	int total = 0;
	pid_t own_sid = getsid(0);

	pid_t *groups = NULL; /* groups killed: wait until they are empty */
	size_t ngroups = 0, agroups = 0;
	for (size_t i = 0; i < n; i++)
		if (group_is_ours(pgids[i], marker) && kill(-pgids[i], SIGKILL) == 0) {
			ALLOC_GROW(groups, ngroups + 1, agroups);
			groups[ngroups++] = pgids[i];
			total++;
		}
	/* bounded in time, not in rounds: on a loaded machine a killed
	 * process may need tens of ms of CPU to exit */
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int busy = 0;
		for (size_t i = 0; i < ngroups; i++)
			if (kill(-groups[i], 0) == 0)
				busy = 1; /* members not reaped yet (by us or their parent) */
		list_children(&kids, &nkids, &akids);
		for (size_t i = 0; i < nkids; i++) {
			struct pstat st;
			pid_t pid = kids[i];
			if (read_stat(pid, &st) < 0)
				continue;
			if (st.state == 'Z') {
				/*
				 * Reap only what nobody else waits for: what we
				 * killed here, or an orphan that is no session
				 * leader outside kiln's session. Everything kiln
				 * spawns is either in kiln's session or (steps,
				 * setsid) a session leader that libuv waits for.
				 */
				if (in_list(killed, nkilled, pid) ||
				    (st.sid != pid && st.sid != own_sid)) {
					waitpid(pid, NULL, WNOHANG);
					busy = 1;
				}
				continue;
			}
			if (marker && fs_proc_environ_has(pid, marker, 0)) {
				if (!in_list(killed, nkilled, pid)) {
					ALLOC_GROW(killed, nkilled + 1, akilled);
					killed[nkilled++] = pid;
					total++;
				}
				kill(pid, SIGKILL);
				busy = 1;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!busy || (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >=
				     PROC_SWEEP_MAX_MS)
			break;
		struct timespec ts = { 0, 1000000 }; /* 1 ms for the kernel to reap */
		nanosleep(&ts, NULL);
	}
	free(kids);
	free(killed);
	free(groups);
	return total;
}
