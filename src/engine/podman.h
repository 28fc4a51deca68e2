/*
 * podman: the container engine kiln drives for `services:` (and, later,
 * job containers and Docker actions): podman found on PATH, configured
 * only through kiln's own containers.conf (CONTAINERS_CONF in the data
 * directory, never the system's files), the labels on everything kiln
 * creates, and the words of a workflow's `options:` string.
 */
#ifndef KILN_PODMAN_H
#define KILN_PODMAN_H

#include <stdint.h>

#include "base/buf.h"
#include "base/strvec.h"
#include "engine/proc.h"

/* labels on every container, network and volume kiln creates */
#define PODMAN_LABEL_OWNER "io.kiln.owner" /* owner_tag of the kiln process: PID.START */
#define PODMAN_LABEL_RUN "io.kiln.run"     /* the run directory's name */
#define PODMAN_LABEL_JOB "io.kiln.job"     /* the job key */

struct podman {
	char *prog;     /* podman's path (owned) */
	char *conf;     /* kiln's containers.conf (owned) */
	char *registries; /* kiln's registries.conf, NULL: the system's (owned) */
	char owner[64]; /* this process's owner tag, the io.kiln.owner label */
};

#define PODMAN_INIT { 0 }

/*
 * Find podman in `path` (a PATH value; NULL = kiln's) and write kiln's
 * containers.conf (runc as the runtime when installed, no default ulimits,
 * events to a file, cgroupfs without systemd) under the data directory
 * when its content changed, and kiln's registries.conf (the system's with
 * docker.io as the search registry for short names, as Docker resolves
 * them; none when the system's file chooses search registries itself).
 * 0, or -1 with a message in err (podman missing: "podman is not
 * installed (not found on PATH)").
 */
int podman_init(struct podman *pm, const char *path, struct buf *err);
void podman_release(struct podman *pm);
/* 1 when podman is found in `path` (NULL = kiln's PATH) */
int podman_installed(const char *path);

/* set CONTAINERS_CONF (and CONTAINERS_REGISTRIES_CONF) in env to kiln's */
void podman_setenv(const struct podman *pm, struct strvec *env);
/* make cmd run podman with kiln's configuration: args = [podman], env =
 * kiln's environment with podman_setenv (the caller pushes the rest) */
void podman_cmd(const struct podman *pm, struct exec_cmd *cmd);
/* push `--label` arguments for the owner, run and job */
void podman_labels(const struct podman *pm, struct strvec *args, const char *run,
		   const char *job);

struct ev;
/*
 * Push `-e NAME` for each variable of env (NAME=VALUE) that belongs to the
 * job: GITHUB_*, RUNNER_*, INPUT_*, STATE_*, ACTIONS_*, CI and the names
 * in job_env (an object); never the host's PATH, HOME, USER... The values
 * reach podman through its own environment (env), not its command line,
 * where any local user could read a secret.
 */
void podman_pass_env(struct strvec *args, const struct strvec *env, const struct ev *job_env);
/*
 * Write a containers-auth.json for the registry of `image` (its first
 * component when it has a '.' or ':' or is localhost, else docker.io)
 * with user:password, mode 0600. 0, or -1 with err.
 */
int podman_write_authfile(const char *path, const char *image, const char *user,
			  const char *password, struct buf *err);
/* "kiln-<owner>-<job>-<what>" with characters podman refuses as '_' */
void podman_name(const struct podman *pm, const char *job, const char *what, struct buf *out);

/*
 * Split a docker-style `options:` string into words as a shell would
 * without expanding anything (whitespace separates, '…' and "…" group,
 * backslash escapes outside single quotes). 0, or -1 with err for an
 * unterminated quote.
 */
int podman_split_words(const char *s, struct strvec *out, struct buf *err);
/* a Go duration ("10s", "1m30s", "500ms", "2h", "1.5s") in milliseconds;
 * 0 or -1 when malformed */
int podman_duration_ms(const char *s, uint64_t *ms);

#endif
