/*
 * srv: the state of one `kiln serve` process, shared by the server's
 * modules (serve.c owns it): the loop, the store, the HTTP side, counters
 * for /metrics. One loop, one thread: nothing here is locked.
 */
#ifndef KILN_SRV_H
#define KILN_SRV_H

#include "store/sql.h"
#include <stdint.h>
#include <uv.h>

#include "server/env.h"
#include "server/http.h"

struct secret_store;
struct poller;
struct queue;
struct statuses;
struct scheduler;
struct logstreams;
struct agentd;
struct controller;
struct serve_gitops;

/* what `kiln serve` was asked for (CLI flags over the config file) */
struct serve_opts {
	const char *listen;     /* "127.0.0.1:8420" */
	const char *data_dir;   /* holds kiln.db, secret.key, mirrors/ */
	const char *exe;        /* this kiln binary (runs are `kiln run` children) */
	unsigned jobs;          /* jobs at once (capacity) */
	struct http_limits limits;
	uint64_t poll_tick_ms;  /* how often polling looks for due repositories */
	uint64_t grace_ms;      /* SIGTERM: time given to connections to finish */
	const char *isolate;    /* repositories without their own setting: "off", "on",
				 * "no-network" (kiln run --isolate[-no-network]) */
	int agents;             /* enum agents_mode: jobs for kiln agent (server/agentexec.h) */
	uint64_t agent_lease_ms; /* an agent's lease, renewed by heartbeats */
	int agent_retry;        /* re-queues of a job whose agent was lost */
	const struct serve_gitops *gitops; /* run a GitOps controller (config.h); NULL = none */
	uint64_t replica_ttl_ms; /* a replica not renewing its row this long is lost */
};

/* webhook outcomes, by label of kiln_webhooks_total */
enum hook_result { HOOK_ACCEPTED, HOOK_DUPLICATE, HOOK_IGNORED, HOOK_UNAUTHORIZED, HOOK_INVALID,
		   HOOK_UNKNOWN_REPO, HOOK_ERROR, HOOK_NRESULTS };
const char *hook_result_name(enum hook_result r);

struct srv {
	uv_loop_t *loop;
	struct db *db;
	struct secret_store *secrets;
	struct http *http;
	struct poller *poller;
	struct queue *queue;
	struct statuses *statuses; /* NULL when libcurl is missing */
	struct scheduler *scheduler; /* on: schedule */
	struct logstreams *logstreams; /* live logs (SSE) */
	char *data_dir;
	char *db_where;         /* what db_open opened (thread-pool jobs open their own) */
	const char *exe;
	int pending_stops;      /* SIGTERM: http and queue still stopping */
	struct serve_opts opts;
	uv_signal_t sigterm, sigint;
	int stopping;
	int64_t started_ms;
	uint64_t hooks[3][HOOK_NRESULTS]; /* per forge x result */
	/* deployments changed (approved, rejected, finished): the queue sets
	 * the callback to re-gate its waiting jobs (server/env.h) */
	struct env_events env_events;
	struct notifier *notifier; /* server/notify.h; NULL when libcurl is missing */
	uv_timer_t retention;      /* artifacts' retention sweep (api_artifacts.c) */
	struct agentd *agentd;  /* the agent API, leases (server/agentd.h) */
	struct controller *controller; /* the supervised kiln deployd; NULL = none */
	char *deploy_state;     /* the deploy controller's state directory: gitops.state,
				 * else KILN_DEPLOY_STATE, else the data directory */
};

/* run the server until SIGTERM/SIGINT; 0 or an EXIT_* code with err */
int serve_main(const struct serve_opts *o, struct buf *err);
/* the mirrors directory: <data>/mirrors/<name>.git into out */
void srv_mirror_path(const char *data_dir, const char *name, struct buf *out);

/* metrics.c: GET /metrics (Prometheus text) */
void metrics_register(struct srv *s);
/* hooks.c: POST /hooks/{github,gitea,gitlab} and /hooks/config/{...} */
void hooks_register(struct srv *s);
/* the repository's webhook secret in clear into out (wipe after use) */
int srv_repo_secret(struct srv *s, const char *repo_name, const struct buf *box, struct buf *out,
		    struct buf *err);
/*
 * api_artifacts.c: answer q with artifact blob digest (tar + zstd,
 * streamed; headers set before): from <data>/artifacts when this replica
 * has it (an upload-artifact of a job run here), else from the store's
 * blobs (an agent's upload, through any replica). 0, KILN_ENOENT (in
 * neither) or -1 with err; nothing is answered unless 0.
 */
int srv_artifact_reply(struct srv *s, struct http_req *q, const char *digest, struct buf *err);

#endif
