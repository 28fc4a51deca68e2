/*
 * child: start a process in its own process group (setsid) under the libuv
 * loop, with its output appended to a log file, an optional time limit, and
 * one callback when it exits. Used for instances, hooks and exec probes.
 */
#ifndef KILN_DEPLOY_CHILD_H
#define KILN_DEPLOY_CHILD_H

#include <sys/types.h>
#include <uv.h>

#include "base/kiln.h"

/* status: the exit code, 128+N when killed by signal N, 124 on time-out */
typedef void (*child_cb)(void *data, int status);

struct child_opts {
	char **argv;
	char **env;       /* NULL = inherit */
	const char *cwd;  /* NULL = inherit */
	int log_fd;       /* stdout+stderr go here; -1 = /dev/null */
	int timeout_ms;   /* 0 = none; on expiry the group gets SIGKILL */
};

struct child {
	uv_process_t proc;
	uv_timer_t timer;
	int pid;
	int exited;
	int nopen;      /* handles still open; freed when it reaches 0 */
	child_cb cb;
	void *data;
};

/* returns the child (owned by the loop: freed after it exits) or NULL with err */
struct child *child_start(uv_loop_t *loop, const struct child_opts *o, child_cb cb, void *data,
			  struct buf *err);
/* forget the owner: cb will not be called */
void child_disown(struct child *c);
/* the controller exits and leaves the process running: disowned, its
 * handles closed and the struct freed by the loop's last run */
void child_leave(struct child *c);
/* signal the child's whole process group */
void child_kill(struct child *c, int sig);

/* is pid a live (not zombie) process */
int pid_alive(int pid);
/* run argv to completion synchronously (bounded by timeout); returns status or -1 */
int run_sync(char **argv, char **env, const char *cwd, int timeout_ms);

#endif
