/*
 * runview: read-only queries of the run history for the web UI — runs
 * with their repository, trigger and actor (from the server's events),
 * filtered and paged; a run's jobs; a job's steps; the last run of each
 * branch; the latest run of a workflow (badges). Writes stay in runs.c.
 *
 * A server run records its repository and event (`kiln run --server-repo
 * --server-event`, server/queue.c); the actor is the event's. Runs
 * recorded by a local `kiln run` have none (repo_name "", event_id 0).
 */
#ifndef KILN_STORE_RUNVIEW_H
#define KILN_STORE_RUNVIEW_H

#include "store/sql.h"
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct runview {
	int64_t id;
	int number;
	char workflow[512], name[256], event[64], ref[256], sha[64];
	char status[32], conclusion[32]; /* conclusion "" while running */
	char reason[512];
	char repo_name[256]; /* "" for a local run */
	char actor[128];     /* who pushed / dispatched, "" when unknown */
	int64_t event_id;    /* 0 for a local run */
	int attempt;         /* github.run_attempt */
	int64_t started_ms, finished_ms; /* finished 0 while running */
};

/* every field NULL or "" = no filter */
struct runview_filter {
	const char *repo;     /* repository name */
	const char *workflow; /* file (.github/workflows/ci.yml), its base name, or name: */
	const char *branch;   /* "main" or "refs/heads/main" */
	const char *event;    /* push, pull_request, ... */
	const char *status;   /* conclusion, or in_progress */
	const char *actor;
};

/* newest first, skipping offset; *more set when another page exists;
 * *out malloc'd */
int runview_list(struct db *db, const struct runview_filter *f,
		 int offset, int limit, struct runview **out, size_t *n, int *more,
		 struct buf *err);
/* one run; 0 or KILN_ENOENT */
int runview_get(struct db *db, int64_t id, struct runview *out,
		struct buf *err);
/* the newest run of each branch of a repository, newest first */
int runview_branches(struct db *db, const char *repo, struct runview **out,
		     size_t *n, struct buf *err);

struct runview_job {
	int64_t id;
	char name[256], status[32], conclusion[32];
	int64_t started_ms, finished_ms;
};
int runview_jobs(struct db *db, int64_t run_id, struct runview_job **out, size_t *n,
		 struct buf *err);
/* one job of a run; 0 or KILN_ENOENT */
int runview_job(struct db *db, int64_t run_id, int64_t job_id, struct runview_job *out,
		struct buf *err);

/* a job's step summaries (Markdown) into out; 0 (nothing when none) or -1 */
int runview_job_summary(struct db *db, int64_t job_id, struct buf *out, struct buf *err);

struct runview_step {
	int number;
	char name[512], status[32], conclusion[32];
	int64_t started_ms, finished_ms;
};
int runview_steps(struct db *db, int64_t job_id, struct runview_step **out, size_t *n,
		  struct buf *err);

#endif
