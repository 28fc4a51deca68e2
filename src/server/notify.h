/*
 * notify: the server's notifications — Slack-compatible ({"text"} plus
 * Block Kit "blocks") and generic JSON webhooks on run success/failure,
 * deployments waiting for approval, deploys and rollbacks; configured per
 * repository or environment (src/store/hooks.c, URLs sealed), sent by
 * webhook_sender (src/deploy/webhook.c: libcurl on the thread pool, retried
 * with exponential back-off on loop timers). Every body passes through the
 * run's masker before it leaves; URLs are never logged.
 */
#ifndef KILN_SERVER_NOTIFY_H
#define KILN_SERVER_NOTIFY_H

#include <jansson.h>
#include "store/sql.h"
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"

struct masker;
struct secret_store;

enum notify_event {
	NOTIFY_RUN_SUCCESS,    /* "run.success" */
	NOTIFY_RUN_FAILURE,    /* "run.failure" */
	NOTIFY_APPROVAL,       /* "approval.waiting": a deployment waits for a reviewer */
	NOTIFY_DEPLOY_SUCCESS, /* "deploy.success" */
	NOTIFY_DEPLOY_FAILURE, /* "deploy.failure" */
	NOTIFY_ROLLBACK,       /* "deploy.rollback": kiln/deploy rolled the release back */
	NOTIFY_NEVENTS
};
const char *notify_event_name(enum notify_event e);
/* 0 and *out, or KILN_EINVAL */
int notify_event_parse(const char *name, enum notify_event *out);

enum notify_kind { NOTIFY_SLACK, NOTIFY_JSON };

/* what happened; every field but event and repo may be NULL/0 */
struct notify_msg {
	enum notify_event event;
	const char *repo;
	const char *environment;
	const char *workflow;
	int64_t run_id;
	const char *ref, *sha, *actor;
	const char *reason; /* failure or rollback reason, approval rules */
	const char *link;   /* the run's page */
	int64_t at_ms;
};

/* the request body (malloc'd, NUL-terminated JSON), masked through m (may
 * be NULL) */
char *notify_body(enum notify_kind kind, const struct notify_msg *msg, const struct masker *m);

/* ---- configuration (admin) ---- */

/*
 * Add a webhook for repo (and only `environment` when not NULL/""): kind
 * "slack" or "json", events comma-separated names ("" or NULL: all), url
 * http(s). The URL is sealed; audited (host only). 0, KILN_EINVAL or -1.
 */
int notify_hook_add(struct db *db, struct secret_store *secrets, const char *actor, const char *repo,
		    const char *environment, const char *kind, const char *events, const char *url,
		    int64_t *id, struct buf *err);
/* 0, KILN_ENOENT or -1; audited */
int notify_hook_remove(struct db *db, const char *actor, const char *repo, int64_t id,
		       struct buf *err);
/* repo's webhooks as a JSON array (never the URL, only its host) */
json_t *notify_hooks_json(struct db *db, const char *repo, struct buf *err);

/* ---- sending ---- */

struct notifier;
/* loads libcurl (webhook_init); 0 or -1 with err */
int notifier_new(uv_loop_t *loop, struct db *db, struct secret_store *secrets, int max_attempts,
		 uint64_t backoff_ms, struct notifier **out, struct buf *err);
/*
 * Send msg to every webhook of msg->repo that wants it (the repository's,
 * and msg->environment's). Returns the number of deliveries started, or -1
 * with err (store or key error). Never blocks on the network.
 */
int notify_emit(struct notifier *n, const struct notify_msg *msg, const struct masker *m,
		struct buf *err);
/* deliveries done so far: delivered, and given up */
void notifier_counts(const struct notifier *n, uint64_t *delivered, uint64_t *failed);
/* drop pending retries, wait for requests in flight, free, then closed(arg) */
void notifier_close(struct notifier *n, void (*closed)(void *arg), void *arg);

#endif
