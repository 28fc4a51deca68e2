/*
 * promtext: the one histogram of a Prometheus text exposition that the
 * canary analysis needs (`<metric>_bucket{le="..."}`, `_count`, `_sum`),
 * summed over label sets; bucket deltas between two scrapes (counter
 * resets handled); the quantile as PromQL's histogram_quantile computes it.
 * Pure functions: no I/O, no globals.
 */
#ifndef KILN_DEPLOY_PROMTEXT_H
#define KILN_DEPLOY_PROMTEXT_H

#include <stddef.h>

struct prom_hist {
	double *le;     /* bucket upper bounds, ascending; +Inf last when present */
	double *cnt;    /* cumulative counts, parallel to le */
	size_t n, alloc;
	double count, sum;
	int found;      /* at least one sample of the metric was seen */
	int malformed;  /* lines of the metric that could not be parsed (skipped) */
};

#define PROM_HIST_INIT { 0 }

void prom_hist_release(struct prom_hist *h);
void prom_hist_copy(struct prom_hist *dst, const struct prom_hist *src);

/*
 * Parse `text` (len bytes, need not be NUL-terminated) and add every
 * `<metric>_bucket`, `<metric>_count`, `<metric>_sum` sample to h, summing
 * series that differ only in labels other than le. Comments, other
 * metrics and malformed lines are skipped (malformed ones of the metric
 * are counted). Returns the number of samples used.
 */
size_t promtext_parse(const char *text, size_t len, const char *metric, struct prom_hist *h);

/* add src's buckets into dst (union of bounds; a missing bound counts as
 * the next lower bound's cumulative count) */
void prom_hist_add(struct prom_hist *dst, const struct prom_hist *src);

/*
 * out = cur - prev, bucket by bucket. A counter reset (cur's count below
 * prev's, or any bucket going down) means the process restarted: the
 * delta is cur itself, as Prometheus' rate() treats resets.
 */
void prom_hist_delta(const struct prom_hist *cur, const struct prom_hist *prev, struct prom_hist *out);

/* observations in h: the +Inf bucket, else _count */
double prom_hist_total(const struct prom_hist *h);

/*
 * The q-quantile (0 < q < 1) like histogram_quantile(): linear
 * interpolation inside the bucket holding the rank, the lowest bucket
 * starting at 0 (when its bound is positive), a rank in +Inf answering
 * the highest finite bound. NaN without a +Inf bucket, with fewer than two
 * buckets or no observations.
 */
double prom_hist_quantile(double q, const struct prom_hist *h);

#endif
