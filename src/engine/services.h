/*
 * services: a job's `services:` as GitHub runs them, on podman: one
 * network per job, each service a container on it (reachable by its id as
 * host name) with its env, ports published on the host, volumes, options
 * and credentials; the job's steps start only when every service with a
 * health check is healthy. Before creating anything, what dead kiln
 * processes left (found by the io.kiln.owner label) is removed. At the end
 * of the job every container and the network are removed.
 */
#ifndef KILN_SERVICES_H
#define KILN_SERVICES_H

struct job_exec;
struct svc_set;

/* called once: ok = 1 when every service runs (and is healthy) */
typedef void (*svc_ready_cb)(struct job_exec *je, int ok);
/* called once when the teardown is over */
typedef void (*svc_stopped_cb)(struct job_exec *je);

/*
 * Start the job's services (je->spec.job->services, not empty). Shown as
 * the step "Initialize containers"; errors (podman missing, a bad
 * definition, a pull or start failure, a service never healthy with its
 * logs) are logged there and give ok = 0. Returns the set (owned by the
 * caller: svc_stop, then svc_free after stopped).
 */
struct svc_set *svc_start(struct job_exec *je, svc_ready_cb ready);
/* stop starting (cancel, timeout): ready(0) follows */
void svc_cancel(struct svc_set *ss);
/* remove what was created ("Stop containers"); stopped is called once,
 * possibly from inside this call */
void svc_stop(struct svc_set *ss, svc_stopped_cb stopped);
void svc_free(struct svc_set *ss);
/* the job.services context: { <id>: { id, network, ports: { "5432": "49153" } } } (new ref) */
struct ev *svc_context(const struct svc_set *ss);

/* the job's network once created, else NULL */
const char *svc_network(const struct svc_set *ss);
/* the job.container context { id, network }, or NULL without one (new ref) */
struct ev *svc_container_context(const struct svc_set *ss);
/* 1 when the job's steps run in its job container (running); *has_bash
 * tells whether bash is in its PATH (else `sh` is the default shell) */
int svc_in_container(const struct svc_set *ss, int *has_bash);
/* how to run the host's node inside the job container (mounted at
 * /__e/node20, see nodemount.h), or NULL with *why */
struct strvec;
const struct strvec *svc_node_argv(const struct svc_set *ss, const char **why);
/*
 * Turn a step's argv and process env into `podman exec` in the job
 * container, in directory wd: the job's variables (GITHUB_*, RUNNER_*,
 * INPUT_*, STATE_*, CI and the names in job_env) go in by name, their
 * values through podman's own environment; the host's PATH, HOME... stay
 * out; $GITHUB_PATH entries (path_add, newest last) go before the usual
 * PATH. Replaces argv and env.
 */
void svc_exec_wrap(const struct svc_set *ss, const char *wd, const struct ev *job_env,
		   const struct strvec *path_add, struct strvec *argv, struct strvec *env);

#endif
