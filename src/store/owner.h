/*
 * owner: which kiln process owns a run, in a form that survives pid reuse
 * and reboots: host name, boot id, pid and the process's start time (clock
 * ticks since boot, /proc/PID/stat field 22). A recorded owner is alive
 * only when all four still match a running (not zombie) process. Also what
 * a dead owner left running.
 */
#ifndef KILN_STORE_OWNER_H
#define KILN_STORE_OWNER_H

#include <stdint.h>
#include <sys/types.h>

struct owner {
	char host[256]; /* gethostname() */
	char boot[40];  /* /proc/sys/kernel/random/boot_id, "" when unknown */
	int64_t pid;
	int64_t start;  /* start time in clock ticks since boot, 0 when unknown */
};

/* the calling process */
void owner_self(struct owner *o);

enum owner_state {
	OWNER_ALIVE,   /* the process still runs */
	OWNER_DEAD,    /* it is gone (or was on this host before a reboot) */
	OWNER_UNKNOWN, /* another host: cannot tell */
};
enum owner_state owner_check(const struct owner *o);

/* "PID.START" of the calling process, for names of files it owns (run
 * directories: kiln-run-PID.START-XXXXXX) */
void owner_tag(char *out, size_t n);
/* 1 when the process named by a tag from owner_tag (on this host) is gone;
 * 0 when it lives or the tag is not one */
int owner_tag_dead(const char *tag);

/*
 * After the owner died (same boot): SIGKILL the step processes it left,
 * those that started at or after the owner (so a reused pid is never
 * matched) and whose environment holds its job marker prefix
 * "RUNNER_TRACKING_ID=kiln_PID_" (src/engine/exec.c) or whose working
 * directory is inside one of its run directories (owner_tag), and every
 * process started since then in the process group of one of those (a
 * step's children that cleared their environment); never the caller's
 * own group. Returns how many were killed.
 */
int owner_kill_leftovers(const struct owner *o);

/* start time of `pid` (clock ticks since boot); 0 or -1 when it is gone or
 * a zombie */
int proc_start_time(pid_t pid, int64_t *start);

#endif
