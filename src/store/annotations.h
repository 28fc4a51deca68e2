/*
 * annotations: the ::error/::warning/::notice annotations of a run's jobs
 * (and kiln's own errors about a job) as the run history keeps them (table
 * annotations, migration 14), for the API and the web UI. At most
 * ANNOTATIONS_PER_JOB per job are kept, as GitHub caps them.
 */
#ifndef KILN_STORE_ANNOTATIONS_H
#define KILN_STORE_ANNOTATIONS_H

#include "store/sql.h"
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define ANNOTATIONS_PER_JOB 100

struct annotation_row {
	int64_t id, job_id;
	char job[256];
	char level[16];     /* error, warning, notice */
	char step[256];     /* "" when not in a step */
	char file[512];     /* "" when none */
	int line, col;      /* 0 when none */
	char title[256];
	char message[4096]; /* truncated */
	int64_t created_ms;
};

/* add one to job job_id (masked text); nothing past the cap; 0 or -1 */
int annotations_add(struct db *db, int64_t job_id, const char *level, const char *step,
		    const char *file, int line, int col, const char *title, const char *message,
		    struct buf *err);
/* a run's annotations in order; job_id 0 for every job; *out malloc'd */
int annotations_list(struct db *db, int64_t run_id, int64_t job_id, struct annotation_row **out,
		     size_t *n, struct buf *err);

#endif
