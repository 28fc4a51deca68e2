/*
 * agents: the store side of `kiln agent` workers (docs/internals/agents.md):
 * registration tokens, agents (their token as SHA-256 hex, labels), jobs
 * handed to agents as leasable rows (agent_jobs) and the log events agents
 * uploaded for them (agent_logs, in sequence). Every query lives here so a
 * PostgreSQL back-end implements the same functions.
 *
 * Labels are kept as one normalized string: lower-case, sorted, unique,
 * comma-separated ("gpu,linux"). An agent takes a job when every label of
 * the job is one of the agent's, `self-hosted` and `linux` implied.
 */
#ifndef KILN_STORE_AGENTS_H
#define KILN_STORE_AGENTS_H

#include "store/sql.h"
#include <stdint.h>

#include "base/buf.h"
#include "base/strvec.h"

/* ---- registration tokens and agents ---- */

int agents_regtoken_insert(struct db *db, const char *hash_hex, const char *created_by,
			   int64_t expires_ms, int64_t *id, struct buf *err);
/* 0 when hash_hex is a live registration token at now_ms, KILN_ENOENT
 * when not (unknown, revoked, expired), -1 */
int agents_regtoken_check(struct db *db, const char *hash_hex, int64_t now_ms, struct buf *err);
/* 0, KILN_ENOENT (no such live token) or -1 */
int agents_regtoken_revoke(struct db *db, int64_t id, struct buf *err);

struct agent_row {
	int64_t id;
	char name[128];
	char labels[1024];   /* normalized */
	int64_t created_ms, seen_ms, revoked_ms;
};

int agents_insert(struct db *db, const char *name, const char *labels, const char *hash_hex,
		  int64_t *id, struct buf *err);
/* the live (not revoked) agent of a token hash: 0, KILN_ENOENT, -1 */
int agents_by_token(struct db *db, const char *hash_hex, struct agent_row *out, struct buf *err);
/* seen now (at most once a second is written) */
int agents_touch(struct db *db, int64_t id, int64_t now_ms, struct buf *err);
/* 0, KILN_ENOENT (no such live agent) or -1 */
int agents_revoke(struct db *db, int64_t id, int64_t now_ms, struct buf *err);
/* every agent, newest first; *out malloc'd */
int agents_list(struct db *db, struct agent_row **out, size_t *n, struct buf *err);

/* ---- labels ---- */

/* normalize a comma-separated list (or several) into out; KILN_EINVAL with
 * why for a label outside [A-Za-z0-9._-] or longer than 64 */
int agents_labels_normalize(const struct strvec *in, struct buf *out, struct buf *err);
/* 1 when every label of job_labels is in agent_labels (both normalized;
 * "self-hosted" and "linux" implied for the agent) */
int agents_labels_match(const char *job_labels, const char *agent_labels);

/* ---- jobs leased to agents ---- */

enum ajob_status { AJOB_QUEUED, AJOB_LEASED, AJOB_DONE };

struct ajob_new {
	int64_t run_id, job_id;   /* the run history's ids (0 when not recorded) */
	const char *repo, *name;  /* repository, job display name */
	const char *labels;       /* normalized */
	const char *spec;         /* JSON, no secrets */
	const char *source;       /* the source blob's hash (src/cas) */
};
int ajobs_insert(struct db *db, const struct ajob_new *j, int64_t *id, struct buf *err);
/* the sealed secrets of job id (base64 text) */
int ajobs_set_secrets(struct db *db, int64_t id, const char *box_b64, struct buf *err);

struct ajob_row {
	int64_t id, run_id, job_id;
	char repo[256];
	char *name, *labels, *spec, *secrets_box, *source; /* owned */
	enum ajob_status status;
	char *reason;             /* owned, "" when none */
	int attempt;
	int64_t lease_owner, lease_expires_ms;
	int cancel;
	int64_t log_seq;
	char result[16];          /* "" until done */
	char *outputs, *summary;  /* owned or NULL */
	int64_t created_ms, leased_ms, finished_ms;
};
void ajob_row_release(struct ajob_row *r);
int ajobs_get(struct db *db, int64_t id, struct ajob_row *out, struct buf *err);
/* the run (history) of agent job id: 0, KILN_ENOENT or -1 with err */
int ajobs_run_id(struct db *db, int64_t id, int64_t *run_id, struct buf *err);

/*
 * Lease the oldest queued job the agent's labels satisfy, for lease_ms:
 * 0 with *out (status leased, attempt as leased), KILN_ENOENT when none,
 * -1. One transaction (see agents.md for the PostgreSQL shape).
 */
int ajobs_lease(struct db *db, int64_t agent_id, const char *agent_labels, int64_t now_ms,
		int64_t lease_ms, struct ajob_row *out, struct buf *err);

/* the lease of (id, attempt) held by agent: 0, KILN_ENOENT (lost) */
#define AJOB_CONFLICT 1 /* ajobs_logs_append / ajobs_complete: seq gap */
/* renew; *cancel set when the job should stop. 0, KILN_ENOENT (lease lost), -1 */
int ajobs_heartbeat(struct db *db, int64_t id, int64_t agent_id, int attempt, int64_t now_ms,
		    int64_t lease_ms, int *cancel, struct buf *err);

struct ajob_log {
	int64_t seq;
	const char *event; /* JSON of one log event */
};
/*
 * Store log events in order: those with seq <= the stored log_seq are
 * ignored (resent), the rest must continue it without a gap. Returns 0
 * (*last = the stored log_seq after), AJOB_CONFLICT (*last = the stored
 * log_seq: resend from *last + 1), KILN_ENOENT (lease lost) or -1. Renews
 * the lease.
 */
int ajobs_logs_append(struct db *db, int64_t id, int64_t agent_id, int attempt,
		      const struct ajob_log *v, size_t n, int64_t now_ms, int64_t lease_ms,
		      int64_t *last, struct buf *err);
/* the job ended on the agent after log event last_seq: 0, AJOB_CONFLICT
 * (*stored = log_seq: logs missing), KILN_ENOENT (lease lost), -1 */
int ajobs_complete(struct db *db, int64_t id, int64_t agent_id, int attempt, int64_t last_seq,
		   const char *result, const char *outputs, const char *summary, int64_t now_ms,
		   int64_t *stored, struct buf *err);

/*
 * Leases the agent never confirmed (no heartbeat, log or source download)
 * within ack_ms: offered again, same attempt. Leases past their expiry:
 * re-queued (attempt + 1, reason "agent lost: re-queued, attempt N")
 * while attempt <= retries, else done as failure "agent lost". Counts into
 * *requeued and *failed.
 */
int ajobs_expire(struct db *db, int64_t now_ms, int64_t ack_ms, int retries, int *requeued,
		 int *failed, struct buf *err);
/* the agent holding (id, attempt) confirmed its lease; 0, KILN_ENOENT, -1 */
int ajobs_ack(struct db *db, int64_t id, int64_t agent_id, int attempt, struct buf *err);
/* ask job id to stop: a queued one is done (cancelled) at once, a leased
 * one sees cancel in its next heartbeat. 0 or -1 */
int ajobs_cancel(struct db *db, int64_t id, struct buf *err);
/* every job not done ends cancelled with reason (server start, SQLite) */
int ajobs_close_all(struct db *db, const char *reason, int64_t now_ms, int64_t *n,
		    struct buf *err);
/* the jobs not done whose run's server event is no longer running (its
 * `kiln run` died: a server replica lost, a crash) end cancelled with reason */
int ajobs_close_orphans(struct db *db, const char *reason, int64_t now_ms, int64_t *n,
			struct buf *err);
/* queued jobs (oldest first, at most max) and all jobs not done; *out
 * malloc'd, release each row */
int ajobs_list_open(struct db *db, size_t max, struct ajob_row **out, size_t *n, struct buf *err);
/* the reason shown while queued ("" to clear) */
int ajobs_set_reason(struct db *db, int64_t id, const char *reason, struct buf *err);
/* the labels of agents seen since since_ms (normalized), into out */
int agents_live_labels(struct db *db, int64_t since_ms, struct strvec *out, struct buf *err);

/* uploaded log events of the jobs lo..hi, by job then seq, at most max;
 * *out malloc'd (free each event) */
struct ajob_log_row {
	int64_t ajob_id, seq;
	char *event;
};
int ajobs_logs_range(struct db *db, int64_t lo, int64_t hi, size_t max,
		     struct ajob_log_row **out, size_t *n, struct buf *err);
/* forget job id's log events up to seq upto (replayed into the history;
 * the job's log_seq still makes a resend of them ignored) */
int ajobs_logs_trim(struct db *db, int64_t id, int64_t upto, struct buf *err);
/* what the run waiting for jobs lo..hi needs to see: jobs leased, done,
 * re-queued or waiting with a reason (plain queued ones are left out) */
struct ajob_state {
	int64_t id;
	enum ajob_status status;
	int attempt;
	int64_t lease_owner, log_seq;
	char *reason; /* owned */
};
int ajobs_states(struct db *db, int64_t lo, int64_t hi, struct ajob_state **out, size_t *n,
		 struct buf *err);
/* forget a finished job's uploaded log events (the run history has them) */
int ajobs_logs_drop(struct db *db, int64_t id, struct buf *err);

#endif
