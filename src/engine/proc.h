/*
 * proc: one child process on a libuv loop, in the style of git's
 * run-command: fill a `struct exec_cmd` (argv, env, cwd, callbacks), start
 * it, get its stdout and stderr line by line and one callback when it is
 * gone. The child runs in its own session and process group (setsid), with
 * stdin on /dev/null (or the caller's in_fd) and PR_SET_PDEATHSIG = SIGKILL (it dies with kiln,
 * even when kiln is killed with SIGKILL; not on the libuv fallback for
 * kernels without pidfd); a timeout or exec_cmd_kill() signals the whole group
 * and escalates to SIGKILL after a grace period.
 *
 * Also the process-tree hygiene the executor needs: kiln as a child
 * subreaper (orphans of a step are re-parented to kiln, not init) and a
 * sweep that kills and reaps every leftover process of a job.
 */
#ifndef KILN_PROC_H
#define KILN_PROC_H

#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "base/buf.h"
#include "base/strvec.h"

/* a line longer than this is delivered in pieces of this size */
#define EXEC_LINE_MAX (64u * 1024)

struct exec_cmd;

/* one line of output without its newline (a trailing \r is removed);
 * fd is 1 for stdout, 2 for stderr */
typedef void (*exec_line_cb)(struct exec_cmd *cmd, int fd, const char *line, size_t len);
/* the process exited and every handle of the command is closed: the
 * owner may free the struct from here */
typedef void (*exec_done_cb)(struct exec_cmd *cmd);

struct exec_cmd {
	/* filled by the caller */
	struct strvec args;      /* argv; args.v[0] is looked up in PATH of `env` */
	struct strvec env;       /* complete environment; empty = inherit kiln's */
	const char *cwd;         /* NULL = kiln's */
	int in_fd;               /* stdin: a descriptor the child reads (0 = /dev/null;
				  * a secret goes through a memfd, never argv); the
				  * caller closes it after exec_cmd_start */
	uint64_t timeout_ms;     /* 0 = none; on expiry: SIGINT to the group, then SIGKILL */
	uint64_t grace_ms;       /* delay before SIGKILL after a timeout or a kill */
	exec_line_cb on_line;    /* may be NULL */
	exec_done_cb on_done;    /* required */
	void *data;              /* for the caller */

	/* results, valid in on_done */
	pid_t pid;               /* also the process group id while it runs */
	int64_t exit_status;     /* exit code, or -1 when killed by a signal */
	int term_signal;         /* signal that killed it, or 0 */
	int timed_out;           /* 1 when timeout_ms expired */
	int killed;              /* 1 when exec_cmd_kill() was called */

	/* private */
	uv_process_t proc;       /* libuv spawn (fallback without pidfd) */
	uv_poll_t exitpoll;      /* vfork path: readable pidfd = exited */
	int pidfd;
	int fast;                /* spawned with vfork + pidfd */
	uv_pipe_t pipes[2];      /* stdout, stderr */
	uv_timer_t timer;        /* timeout, then the SIGKILL escalation */
	struct buf line[2];      /* partial line per stream */
	int open_handles;        /* handles not yet closed */
	int eof[2];
	int exited;
	int escalated;           /* SIGKILL already scheduled or sent */
	char rbuf[16384];        /* read buffer for both pipes */
};

#define EXEC_CMD_INIT { .args = STRVEC_INIT, .env = STRVEC_INIT, .grace_ms = 2000, \
			.line = { BUF_INIT, BUF_INIT } }

void exec_cmd_init(struct exec_cmd *cmd);
/*
 * Spawn the command. Returns 0, or a negative libuv error (UV_ENOENT when
 * the program is missing, ...); on error nothing is running and on_done is
 * not called.
 */
int exec_cmd_start(uv_loop_t *loop, struct exec_cmd *cmd);
/* send `sig` to the command's process group now and SIGKILL to it after
 * grace_ms (0 = at once) unless it exits first; no-op once it exited */
void exec_cmd_kill(struct exec_cmd *cmd, int sig, uint64_t grace_ms);
/* free the argv/env lists and line buffers (after on_done) */
void exec_cmd_release(struct exec_cmd *cmd);

/*
 * Look prog (a bare name, no '/') up in path, a PATH value (NULL: the
 * default /usr/local/bin:/usr/bin:/bin; an empty entry is the current
 * directory). Returns the first executable candidate (caller frees) or NULL.
 */
char *proc_path_search(const char *prog, const char *path);

/* make kiln a child subreaper (Linux; no-op elsewhere); idempotent */
void proc_become_subreaper(void);

/*
 * Kill every process left by a job: SIGKILL to each process group in
 * `pgids` (the job's finished steps; a group id reused by an unrelated
 * process is left alone), and to every process whose environment holds
 * `marker` ("NAME=VALUE", e.g. RUNNER_TRACKING_ID=...) found among kiln's
 * children (re-parented orphans, as subreaper); then reap the orphans that
 * became kiln's zombies (never a process libuv or another module waits
 * for). Bounded: waits at most 1 s (1 ms at a time, returning as soon as
 * all are gone). Returns how many processes or
 * groups were killed.
 */
int proc_sweep(const pid_t *pgids, size_t n, const char *marker);


#endif
