/*
 * repos: the server's repositories and the events it accepted for them
 * (src/server). A repository has a name, the URL it is fetched from, a
 * bare mirror under the data directory, its webhook secret (sealed by
 * src/secret, never in clear), an optional polling interval and the refs
 * last seen (polling diffs against them). Events are durable the moment
 * store_event_add returns: a webhook is acknowledged only after it.
 * Every query of these tables lives here (a PostgreSQL back-end implements
 * the same functions). Times are unix milliseconds.
 */
#ifndef KILN_STORE_REPOS_H
#define KILN_STORE_REPOS_H

#include "store/sql.h"
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/strvec.h"

struct repo_row {
	int64_t id;
	char *name;          /* owner/name or a plain name: [A-Za-z0-9_.-/] */
	char *url;           /* where the mirror fetches from */
	char *mirror;        /* absolute path of the bare mirror */
	char *default_branch; /* "main"; "" until the first fetch */
	struct buf secret_box; /* sealed webhook secret (secret_seal "webhook:NAME") */
	int64_t poll_ms;     /* 0 = no polling */
	int64_t polled_at;   /* last poll, 0 = never */
	int64_t created_at;
	/* commit statuses: forge "" (off), github, gitea or gitlab; the API's
	 * base URL; the project path there; the sealed token */
	char *status_forge, *status_api, *status_project;
	struct buf status_token_box;
	/* run its jobs in the bubblewrap sandbox (`kiln run --isolate`):
	 * "" the server's default, "off", "on" or "no-network" */
	char *isolate;
};
void repo_row_release(struct repo_row *r);

/* 0, KILN_EINVAL when the name exists (message in err), -1 with err */
int store_repo_add(struct db *db, struct repo_row *r, struct buf *err);
/* by name; 0, KILN_ENOENT, or -1 with err */
int store_repo_get(struct db *db, const char *name, struct repo_row *out, struct buf *err);
int store_repo_get_id(struct db *db, int64_t id, struct repo_row *out, struct buf *err);
/* every repository by name; *out malloc'd array of *n rows */
int store_repo_list(struct db *db, struct repo_row **out, size_t *n, struct buf *err);
void store_repo_list_free(struct repo_row *rows, size_t n);
/* 0, KILN_ENOENT, or -1 */
int store_repo_remove(struct db *db, const char *name, struct buf *err);
/* commit status settings (forge "" turns them off); 0, KILN_ENOENT or -1 */
int store_repo_set_status(struct db *db, const char *name, const char *forge, const char *api,
			  const char *project, const struct buf *token_box, struct buf *err);
/* the isolate setting ("", off, on, no-network); 0, KILN_ENOENT or -1 */
int store_repo_set_isolate(struct db *db, const char *name, const char *mode, struct buf *err);
int store_repo_set_polled(struct db *db, int64_t id, int64_t at_ms, struct buf *err);

/* an accepted event (push, pull_request, ping, schedule, workflow_dispatch) */
struct event_row {
	int64_t id;
	int64_t repo_id;
	const char *source;   /* github, gitea, gitlab, poll, schedule, dispatch */
	const char *delivery; /* the forge's delivery id; NULL = none (never a duplicate) */
	const char *kind;     /* push, pull_request, ping, schedule, workflow_dispatch */
	const char *action;   /* pull_request: opened, synchronize, reopened, closed; else "" */
	const char *ref;      /* refs/heads/main, refs/tags/v1, refs/pull/N/merge */
	const char *before;   /* push: previous commit ("" for a new ref) */
	const char *sha;      /* the commit the workflows are read from */
	const char *actor;
	int fork;             /* pull request from a fork: no secrets */
	int deleted;          /* branch/tag deletion: stored, no run */
	const char *payload;  /* github.event (GitHub-shaped JSON) */
	int attempt;          /* github.run_attempt: 1, more for re-runs (claim fills it) */
	int64_t reuse_run;    /* re-run of the failed jobs: the run whose successes are
				 reused (claim fills it), 0 = every job runs */
	const char *rerun_job; /* with reuse_run: the one job run again (and its
				  dependents), NULL = every failed one */
};

/*
 * Commit an event (one transaction, durable when this returns 0). A
 * (source, delivery) seen before is not stored again: *duplicate = 1 and
 * *id the first one. 0 or -1 with err.
 */
int store_event_add(struct db *db, const struct event_row *ev, int *duplicate, int64_t *id,
		    struct buf *err);
/*
 * A delivery of the GitOps config repository's webhook, claimed before it
 * is acted on: 0 claimed now, 1 claimed before (a replay: act on nothing),
 * -1 with err. Claims older than 30 days are dropped meanwhile.
 * store_config_delivery_forget drops one (it could not be acted on: the
 * forge may deliver it again).
 */
int store_config_delivery_add(struct db *db, const char *source, const char *delivery, struct buf *err);
int store_config_delivery_forget(struct db *db, const char *source, const char *delivery, struct buf *err);
/*
 * The queue. Event statuses: queued -> running -> success | failure |
 * cancelled (ignored: deletions, pings). store_event_claim moves the oldest
 * queued event to running and fills *out (strings owned: event_row_release);
 * 0, KILN_ENOENT (queue empty) or -1 with err.
 */
int store_event_claim(struct db *db, int64_t replica, struct event_row *out, struct buf *err);
/*
 * status success/failure/cancelled, the run's exit code (-1 = none), reason.
 * Fenced: only while the event is running on replica (> 0; 0: only while it
 * is queued). KILN_ENOENT when it no longer is (another replica took it for
 * lost: its result stands), 0, or -1 with err.
 */
int store_event_finish(struct db *db, int64_t id, int64_t replica, const char *status,
		       int exit_code, const char *reason, struct buf *err);
/*
 * Server replicas (several `kiln serve` on one PostgreSQL database): each
 * start adds a row (*id), renewed by store_replica_beat; store_event_claim
 * names the replica (0: none) on the event it takes.
 */
int store_replica_add(struct db *db, const char *host, const char *data_dir, int64_t pid,
		      int64_t now_ms, int64_t *id, struct buf *err);
/* KILN_ENOENT when the row is gone (forgotten as long lost: add a new one) */
int store_replica_beat(struct db *db, int64_t id, int64_t now_ms, struct buf *err);
struct replica_self {
	int64_t id;
	const char *host, *data_dir;
	int starting; /* at start: events naming no replica are lost too */
};
/*
 * Running events whose replica is gone: the replica did not renew its row
 * for ttl_ms, or it was this host's and data directory's before (a
 * restart). Listed only (ids and the replica each names, 0: none) into
 * *out (malloc'd, *n): store_event_fail_lost (recover.h) ends each one.
 */
struct lost_event {
	int64_t id, replica;
};
int store_event_lost(struct db *db, const struct replica_self *me, int64_t now_ms,
		     int64_t ttl_ms, struct lost_event **out, size_t *n, struct buf *err);
/* the events running on replica (their ids into *ids, malloc'd, *n): one
 * of its runs not among them was taken for lost by another replica */
int store_events_owned(struct db *db, int64_t replica, int64_t **ids, size_t *n, struct buf *err);
/* put an event replica runs back in the queue (the server stopped before
 * it started); nothing when it no longer runs there */
int store_event_requeue(struct db *db, int64_t id, int64_t replica, struct buf *err);
/* free the strings of a row filled by store_event_claim */
void event_row_release(struct event_row *ev);

/* an event as the API lists it */
struct event_view {
	int64_t id;
	char repo[128], source[16], kind[32], action[32], ref[256], sha[72], actor[128];
	char status[16], reason[256];
	int64_t received_at, started_at, finished_at; /* 0 = not yet */
	int exit_code;       /* -1 = none */
	int fork, deleted;
	int attempt;         /* 1, more for a re-run */
	int64_t rerun_of;    /* the event re-run, 0 = none */
	int64_t reuse_run;   /* failed jobs only: the run whose successful jobs are reused */
	char rerun_job[256]; /* one job re-run: its display name; "" = none */
};
/* newest first: repository name (NULL = all), status (NULL = any), at most
 * limit, ids below before_id (0 = from the newest); *out malloc'd */
int store_event_list(struct db *db, const char *repo, const char *status, int64_t before_id,
		     int limit, struct event_view **out, size_t *n, struct buf *err);
/*
 * Queue a re-run of a finished event: a new event with the same commit,
 * ref and payload, actor the one asking, the next attempt; 0 and *new_id,
 * *attempt, or KILN_ENOENT, or -1 with err. reuse_run 0: every job runs
 * again. Else only job (a display name) of run reuse_run (one of the
 * event's runs) and the jobs needing it run; the others keep their results
 * (NULL job: the failed jobs run, the successful ones are reused).
 */
int store_event_rerun_job(struct db *db, int64_t id, int64_t reuse_run, const char *job,
			  const char *actor, int64_t *new_id, int *attempt, struct buf *err);
/* one event by id: 0, KILN_ENOENT or -1 */
int store_event_get(struct db *db, int64_t id, struct event_view *out, struct buf *err);

/* refs last seen by polling: "refs/heads/main" -> sha, as NAME=SHA strings */
int store_repo_refs(struct db *db, int64_t repo_id, struct strvec *out, struct buf *err);
/*
 * One transaction: the events in evs (n of them) are added and the seen
 * refs become `refs` (NAME=SHA). Polling calls this after a fetch, so a
 * crash between fetch and commit loses nothing (the next poll sees the same
 * difference).
 */
int store_repo_refs_commit(struct db *db, int64_t repo_id, const struct strvec *refs,
			   const struct event_row *evs, size_t n, struct buf *err);

#endif
