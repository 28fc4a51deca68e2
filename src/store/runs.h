/*
 * runs: run history in the SQLite store: runs (numbered per workflow),
 * their jobs and steps with timings and conclusions, and job logs kept as
 * zstd-compressed chunks. Every `kiln run` records here; `kiln runs` and
 * `kiln logs` read it back. Times are unix milliseconds (wall clock).
 * Logs must already be masked when they reach runs_log_write.
 */
#ifndef KILN_RUNS_H
#define KILN_RUNS_H

#include "store/sql.h"
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define RUNS_LOG_CHUNK (64 * 1024) /* bytes buffered before a chunk is stored */

struct run_info {
	const char *workflow; /* workflow file, e.g. .github/workflows/ci.yml */
	const char *name;     /* workflow `name:` (or the file name) */
	const char *event;    /* push, pull_request, workflow_dispatch, ... */
	const char *ref;      /* refs/heads/main, may be NULL */
	const char *sha;      /* commit, may be NULL */
	const char *repo;     /* absolute work tree of the repository, may be NULL */
	/* a run of kiln serve (else NULL / 0 / 0) */
	const char *repo_name; /* the server's repository, e.g. acme/app */
	int64_t event_id;      /* the event the server ran it for */
	int attempt;           /* github.run_attempt; 0 means 1 */
};

/* wall clock, unix milliseconds */
int64_t runs_now_ms(void);

/* a new run in status in_progress with the next number of its workflow,
 * owned by the calling process (store/owner.h) until it finishes */
int runs_start(struct db *db, const struct run_info *ri, int64_t *run_id, int *number, struct buf *err);
/* conclusion: success, failure, cancelled, skipped; reason (may be NULL):
 * why the record is not what it should be. A run, job or step closed
 * already (recover.c: its kiln was taken for dead, a server replica for
 * lost) is left as it is: the late end of a stale kiln overwrites nothing */
int runs_finish(struct db *db, int64_t run_id, const char *conclusion, const char *reason,
		struct buf *err);
int runs_job_start(struct db *db, int64_t run_id, const char *name, int64_t *job_id, struct buf *err);
int runs_job_finish(struct db *db, int64_t job_id, const char *conclusion, struct buf *err);
/* a running job's status: in_progress, or waiting (for a deployment
 * environment's protection rules, src/server/jobgate.c) */
int runs_job_set_status(struct db *db, int64_t job_id, const char *status, struct buf *err);
/* the job's step summaries (Markdown, already masked) */
int runs_job_summary(struct db *db, int64_t job_id, const char *markdown, struct buf *err);
/* number: 1-based position of the step in its job */
int runs_step_start(struct db *db, int64_t job_id, int number, const char *name, int64_t *step_id,
		    struct buf *err);
int runs_step_finish(struct db *db, int64_t step_id, const char *conclusion, struct buf *err);
/* store one compressed chunk of a job's log */
int runs_log_append(struct db *db, int64_t job_id, const char *data, size_t len, struct buf *err);

/*
 * A log sink: buffers a job's output and stores it in RUNS_LOG_CHUNK
 * compressed pieces. Until a chunk is full its text can be made durable
 * uncompressed with runs_log_sync (table log_tail, readers append it after
 * the chunks); the chunk replaces those rows in one transaction.
 */
struct runs_log {
	struct db *db; /* borrowed */
	int64_t job_id;
	struct buf pending; /* text of the chunk being filled */
	size_t synced;      /* bytes of pending already in log_tail */
	/* when each line that starts in pending was written (unix ms) */
	int64_t *times;
	size_t ntimes, atimes;
	size_t times_synced; /* entries of times already in log_tail */
	int line_start;      /* the next byte written starts a line */
	struct ZSTD_CCtx_s *zc; /* borrowed compression context, NULL: one per chunk */
};
void runs_log_init(struct runs_log *l, struct db *db, int64_t job_id);
/* compress this log's chunks with zc (ZSTD_createCCtx; kept by the caller
 * for every job's log: a context made per chunk costs ~15 us, 20x the
 * compression of a short log) */
void runs_log_set_zctx(struct runs_log *l, struct ZSTD_CCtx_s *zc);
int runs_log_write(struct runs_log *l, const char *data, size_t len, struct buf *err);
/* store the unsynced part of pending in log_tail; 0 (also when there is
 * nothing to store) or -1 */
int runs_log_sync(struct runs_log *l, struct buf *err);
/* 1 when runs_log_sync has something to store */
int runs_log_dirty(const struct runs_log *l);
/* store what is buffered as a compressed chunk, then empty the buffer;
 * 0, or -1 with everything kept (the caller may try again) */
int runs_log_flush(struct runs_log *l, struct buf *err);
/* the same, the buffer kept: at a job's end, in a transaction that may be
 * rolled back and tried again */
int runs_log_store(struct runs_log *l, struct buf *err);
/* frees the buffer; does not flush */
void runs_log_release(struct runs_log *l);

/* a job's outputs (a JSON object; outputs that may hold a secret were
 * dropped by the executor) */
int runs_job_outputs(struct db *db, int64_t job_id, const char *json, struct buf *err);

/* a recorded job of an earlier attempt (re-running the failed jobs) */
struct runs_prior_job {
	char *name;       /* display name */
	char *conclusion; /* success, failure, cancelled, skipped, or "" */
	char *outputs;    /* JSON object, or NULL */
};
/* the jobs of run_id in order; *out malloc'd (runs_prior_jobs_free) */
int runs_prior_jobs(struct db *db, int64_t run_id, struct runs_prior_job **out, size_t *n,
		    struct buf *err);
void runs_prior_jobs_free(struct runs_prior_job *v, size_t n);

/* 1 when every run recorded for kiln serve's event `event_id` (at least
 * one) concluded cancelled, with the first run's reason in reason; 0 when
 * not; -1 with err */
int runs_event_cancelled(struct db *db, int64_t event_id, struct buf *reason, struct buf *err);

struct run_row {
	int64_t id;
	char workflow[512], name[256], event[64], ref[256], sha[64], status[32], conclusion[32];
	char repo[1024];   /* absolute work tree, "" when not recorded */
	char repo_name[256]; /* kiln serve's repository name, "" for a local run */
	int64_t event_id;  /* kiln serve's event, 0 for a local run */
	int attempt;       /* github.run_attempt */
	char reason[512];  /* why the run ended abnormally, "" otherwise */
	int number;
	int64_t started_ms, finished_ms; /* finished 0 while running */
};
/* newest first; workflow NULL for all, repo NULL for every repository;
 * *out malloc'd */
int runs_list(struct db *db, const char *workflow, const char *repo, int limit, struct run_row **out,
	      size_t *n, struct buf *err);
/* "ID", or "WORKFLOW#NUMBER" where WORKFLOW is the file (or its base name
 * without .yml) or the workflow name; 0, KILN_ENOENT, or -1 with err */
int runs_find(struct db *db, const char *spec, struct run_row *out, struct buf *err);
/* decompressed logs of one job (by name) or of every job with a header
 * line per job (job NULL); 0, KILN_ENOENT (no such job), or -1 */
int runs_read_logs(struct db *db, int64_t run_id, const char *job, struct buf *out, struct buf *err);

/* when each line of a log was written: at[i] is line i+1's time (unix
 * ms), every line counted (the ##[endgroup] markers too); nr is 0 for a
 * log recorded before times were kept */
struct runs_times {
	int64_t *at;
	size_t nr, alloc;
};
#define RUNS_TIMES_INIT { NULL, 0, 0 }
void runs_times_release(struct runs_times *t);
/* one job's log by job id into out, and its line times into times (may
 * be NULL), read together so they agree; 0 or -1 */
int runs_read_job_log(struct db *db, int64_t job_id, struct buf *out, struct runs_times *times,
		      struct buf *err);
/* runs_read_logs with each line after its time when stamped, as GitHub's
 * raw logs have it ("2026-01-02T03:04:05.678Z line"; a line without a
 * known time, e.g. recorded before migration 18, gets 24 blanks instead) */
int runs_read_logs_stamped(struct db *db, int64_t run_id, const char *job, int stamped,
			   struct buf *out, struct buf *err);
/* log (len bytes) into out, each line after its time from t (may be NULL) */
void runs_stamp_lines(const char *log, size_t len, const struct runs_times *t, struct buf *out);

#endif
