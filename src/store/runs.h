/*
 * runs: run history in the SQLite store: runs (numbered per workflow),
 * their jobs and steps with timings and conclusions, and job logs kept as
 * zstd-compressed chunks. Every `kiln run` records here; `kiln runs` and
 * `kiln logs` read it back. Times are unix milliseconds (wall clock).
 * Logs must already be masked when they reach runs_log_write.
 */
#ifndef KILN_RUNS_H
#define KILN_RUNS_H

#include <sqlite3.h>
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
};

/* wall clock, unix milliseconds */
int64_t runs_now_ms(void);

/* a new run in status in_progress with the next number of its workflow */
int runs_start(sqlite3 *db, const struct run_info *ri, int64_t *run_id, int *number, struct buf *err);
/* conclusion: success, failure, cancelled, skipped */
int runs_finish(sqlite3 *db, int64_t run_id, const char *conclusion, struct buf *err);
int runs_job_start(sqlite3 *db, int64_t run_id, const char *name, int64_t *job_id, struct buf *err);
int runs_job_finish(sqlite3 *db, int64_t job_id, const char *conclusion, struct buf *err);
/* number: 1-based position of the step in its job */
int runs_step_start(sqlite3 *db, int64_t job_id, int number, const char *name, int64_t *step_id,
		    struct buf *err);
int runs_step_finish(sqlite3 *db, int64_t step_id, const char *conclusion, struct buf *err);
/* store one compressed chunk of a job's log */
int runs_log_append(sqlite3 *db, int64_t job_id, const char *data, size_t len, struct buf *err);

/* a log sink: buffers a job's output and stores it in RUNS_LOG_CHUNK pieces */
struct runs_log {
	sqlite3 *db; /* borrowed */
	int64_t job_id;
	struct buf pending;
};
void runs_log_init(struct runs_log *l, sqlite3 *db, int64_t job_id);
int runs_log_write(struct runs_log *l, const char *data, size_t len, struct buf *err);
/* store what is buffered (call at job end); 0 or -1 */
int runs_log_flush(struct runs_log *l, struct buf *err);
/* frees the buffer; does not flush */
void runs_log_release(struct runs_log *l);

struct run_row {
	int64_t id;
	char workflow[512], name[256], event[64], ref[256], sha[64], status[32], conclusion[32];
	int number;
	int64_t started_ms, finished_ms; /* finished 0 while running */
};
/* newest first; workflow NULL for all; *out malloc'd */
int runs_list(sqlite3 *db, const char *workflow, int limit, struct run_row **out, size_t *n,
	      struct buf *err);
/* "ID", or "WORKFLOW#NUMBER" where WORKFLOW is the file (or its base name
 * without .yml) or the workflow name; 0, KILN_ENOENT, or -1 with err */
int runs_find(sqlite3 *db, const char *spec, struct run_row *out, struct buf *err);
/* decompressed logs of one job (by name) or of every job with a header
 * line per job (job NULL); 0, KILN_ENOENT (no such job), or -1 */
int runs_read_logs(sqlite3 *db, int64_t run_id, const char *job, struct buf *out, struct buf *err);

#endif
