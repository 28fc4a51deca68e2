/*
 * scrape: the metrics side of the canary analysis. Each round GETs the
 * app's Prometheus endpoint on every canary and stable instance at once
 * (libuv, bounded by the spec's timeout), keeps each instance's previous
 * histogram, and sums the per-instance bucket deltas by group. The
 * rollout reads the deltas of the last completed round; it never waits.
 */
#ifndef KILN_DEPLOY_SCRAPE_H
#define KILN_DEPLOY_SCRAPE_H

#include "deploy/ctl.h"
#include "deploy/promtext.h"

enum { SCRAPE_SKIP, SCRAPE_CANARY, SCRAPE_STABLE };

struct scrape;

/* per-rollout state for da's analysis.latency */
struct scrape *scrape_new(struct dapp *da);
/* the rollout is over; scrapes in flight finish into nothing, then it is freed */
void scrape_free(struct scrape *sc);

/*
 * Start a round over the slots (index into da->slots) whose group[i] is
 * SCRAPE_CANARY or SCRAPE_STABLE. Returns 0 when started, 1 when the
 * previous round is still running (nothing started).
 */
int scrape_round(struct scrape *sc, const int *group);

struct scrape_result {
	struct prom_hist delta[3];  /* indexed by group: new observations since the previous round */
	int ninst[3];               /* instances whose delta is in delta[group] */
	int baseline[3];            /* instances seen for the first time (no delta yet) */
	int failed;                 /* instances that could not be scraped or parsed */
	char err[160];              /* the first failure */
};

/* take the last completed round (1), or 0 when none completed since the last call */
int scrape_take(struct scrape *sc, struct scrape_result *out);
void scrape_result_release(struct scrape_result *r);

/*
 * Judge one round: canary's quantile against stable's × maxRatio (and at
 * least minDelta apart). Returns 1 failed (reason in why), 0 passed,
 * -1 inconclusive (too few new observations on either side, scrape
 * failures, a baseline round); a one-line summary goes to note.
 */
int scrape_verdict(const struct analysis_spec *an, const struct scrape_result *r, struct buf *why,
		   struct buf *note);

#endif
