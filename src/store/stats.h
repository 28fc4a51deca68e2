/*
 * stats: aggregate counts over the store for the server's /metrics
 * (src/server/metrics.c): events by status, runs and jobs by conclusion,
 * and a histogram of finished jobs' durations. Every query lives here.
 */
#ifndef KILN_STORE_STATS_H
#define KILN_STORE_STATS_H

#include "store/sql.h"
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* one labelled count */
struct stat_count {
	char label[32];
	int64_t n;
};

/* events by status; runs (what = "runs") or jobs ("jobs") by conclusion
 * (finished ones) — *out malloc'd, *n entries; 0 or -1 with err */
int stats_events_by_status(struct db *db, struct stat_count **out, size_t *n, struct buf *err);
int stats_by_conclusion(struct db *db, const char *what, struct stat_count **out, size_t *n,
			struct buf *err);
/*
 * Finished jobs' durations: counts[i] = jobs that took at most bounds_ms[i]
 * (cumulative, as Prometheus buckets), *count all of them, *sum_ms their
 * total. 0 or -1 with err.
 */
int stats_job_durations(struct db *db, const int64_t *bounds_ms, size_t nb, int64_t *counts,
			int64_t *count, int64_t *sum_ms, struct buf *err);

#endif
