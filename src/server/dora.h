/*
 * dora: the four keys of DORA computed from the recorded deployments
 * (src/store/envs.c) of one repository and environment over a window —
 * deployment frequency, lead time for changes (median and p90), change
 * failure rate, failed-deployment recovery time — each with its
 * performance band. Formulas and the band thresholds with their sources:
 * docs/internals/dora.md. Only recorded data is used; a figure with no
 * data is reported as absent (n = 0, band DORA_NONE), never guessed.
 */
#ifndef KILN_SERVER_DORA_H
#define KILN_SERVER_DORA_H

#include <jansson.h>
#include "store/sql.h"
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "store/envs.h"

enum dora_band { DORA_NONE = 0, DORA_LOW, DORA_MEDIUM, DORA_HIGH, DORA_ELITE };
const char *dora_band_name(enum dora_band b); /* "elite", ..., "none" */

struct dora_report {
	char repo[256], environment[256];
	int64_t from_ms, to_ms; /* the window [from, to) */
	double days;

	int64_t successes, failures; /* finished deployments in the window */
	double per_day;              /* successes / days */
	enum dora_band frequency_band;

	size_t lead_n;                      /* successes with a known commit time */
	int64_t lead_median_ms, lead_p90_ms;
	enum dora_band lead_band;           /* by the median */

	double failure_rate;                /* failures / (successes + failures) */
	enum dora_band failure_band;

	size_t recovery_n;                  /* failure streaks recovered */
	size_t unrecovered;                 /* streaks still failing at `to` */
	int64_t recovery_median_ms;
	enum dora_band recovery_band;
};

/*
 * The report from one repository/environment's deployments `v` (any order,
 * any state: only success and failure with finished_ms in [from, to) count;
 * v is sorted in place by finish time).
 */
void dora_compute(struct deploy_row *v, size_t n, int64_t from_ms, int64_t to_ms,
		  struct dora_report *out);

/*
 * Reports for every repository/environment pair with deployments in the
 * last `days` days before now_ms (repo / environment NULL: all), sorted by
 * repository then environment. *out malloc'd; 0 or -1 with err.
 */
int dora_query(struct db *db, const char *repo, const char *environment, int days, int64_t now_ms,
	       struct dora_report **out, size_t *n, struct buf *err);

json_t *dora_to_json(const struct dora_report *r);
/*
 * Prometheus text for GET /metrics: kiln_deployments_total{repo,
 * environment,state} over the whole history, and the four keys of the last
 * 30 days per repository and environment as gauges (kiln_dora_*; a figure
 * without data is left out). 0 or -1 with err.
 */
int dora_metrics(struct db *db, int64_t now_ms, struct buf *out, struct buf *err);
/* "2.5/day", "3/week", "1d 2h", "45m", ... for the CLI */
void dora_fmt_duration(int64_t ms, char *out, size_t n);

#endif
