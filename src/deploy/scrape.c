/*
 * scrape: asynchronous Prometheus scrapes of the instances of one rollout
 * (probe_fetch), per-instance deltas, sums per group.
 */
#include "base/kiln.h"
#include "deploy/probe.h"
#include "deploy/scrape.h"

#include <math.h>

struct scrape {
	struct dapp *da;
	int nslots;
	struct prom_hist *prev; /* per slot: the last histogram scraped */
	unsigned *prev_gen;
	int *have_prev;
	int pending;            /* scrapes of the running round in flight */
	int orphan;             /* scrape_free called while scrapes were in flight */
	int ready;              /* cur holds a completed round not yet taken */
	struct scrape_result cur;
};

struct sctx {
	struct scrape *sc;
	int slot;
	unsigned gen;
	int group;
};

struct scrape *scrape_new(struct dapp *da)
{
	struct scrape *sc = xcalloc(1, sizeof(*sc));
	sc->da = da;
	sc->nslots = da->nslots;
	sc->prev = xcalloc((size_t)da->nslots, sizeof(*sc->prev));
	sc->prev_gen = xcalloc((size_t)da->nslots, sizeof(*sc->prev_gen));
	sc->have_prev = xcalloc((size_t)da->nslots, sizeof(*sc->have_prev));
	return sc;
}

void scrape_result_release(struct scrape_result *r)
{
	for (int g = 0; g < 3; g++)
		prom_hist_release(&r->delta[g]);
	memset(r, 0, sizeof(*r));
}

static void destroy(struct scrape *sc)
{
	for (int i = 0; i < sc->nslots; i++)
		prom_hist_release(&sc->prev[i]);
	free(sc->prev);
	free(sc->prev_gen);
	free(sc->have_prev);
	scrape_result_release(&sc->cur);
	free(sc);
}

void scrape_free(struct scrape *sc)
{
	if (!sc)
		return;
	if (sc->pending)
		sc->orphan = 1;
	else
		destroy(sc);
}

static void fail(struct scrape *sc, int slot, const char *what)
{
	if (sc->cur.failed++)
		return;
	struct buf b = BUF_INIT;
	buf_addf(&b, "s%d: %s", sc->da->slots[slot].idx, what);
	snprintf(sc->cur.err, sizeof(sc->cur.err), "%.*s", (int)sizeof(sc->cur.err) - 1, b.buf);
	buf_release(&b);
}

/* one instance answered: fold its delta into the round */
static void fold(struct scrape *sc, const struct sctx *c, const char *body, size_t len)
{
	const struct metrics_spec *m = &sc->da->app->analysis.latency;
	struct prom_hist h = PROM_HIST_INIT;
	promtext_parse(body, len, m->metric, &h);
	if (!h.found || !h.n) {
		char what[160];
		snprintf(what, sizeof(what), "no %s_bucket samples in %s", m->metric, m->path);
		fail(sc, c->slot, what);
		prom_hist_release(&h);
		return;
	}
	if (sc->have_prev[c->slot] && sc->prev_gen[c->slot] == c->gen) {
		struct prom_hist d = PROM_HIST_INIT;
		prom_hist_delta(&h, &sc->prev[c->slot], &d);
		prom_hist_add(&sc->cur.delta[c->group], &d);
		prom_hist_release(&d);
		sc->cur.ninst[c->group]++;
	} else {
		sc->cur.baseline[c->group]++;
	}
	prom_hist_release(&sc->prev[c->slot]);
	sc->prev[c->slot] = h;
	sc->prev_gen[c->slot] = c->gen;
	sc->have_prev[c->slot] = 1;
}

static void on_fetch(void *data, int status, const char *body, size_t len, const char *err)
{
	struct sctx *c = data;
	struct scrape *sc = c->sc;
	sc->da->probes--;
	if (!sc->orphan) {
		if (!status)
			fail(sc, c->slot, err ? err : "no answer");
		else if (status != 200) {
			char what[48];
			snprintf(what, sizeof(what), "http status %d", status);
			fail(sc, c->slot, what);
		} else
			fold(sc, c, body, len);
	}
	free(c);
	if (--sc->pending)
		return;
	if (sc->orphan)
		destroy(sc);
	else
		sc->ready = 1;
}

int scrape_round(struct scrape *sc, const int *group)
{
	if (sc->pending)
		return 1;
	struct dapp *da = sc->da;
	const struct metrics_spec *m = &da->app->analysis.latency;
	int timeout = m->timeout_ms < da->app->analysis.interval_ms ? m->timeout_ms : da->app->analysis.interval_ms;
	scrape_result_release(&sc->cur);
	sc->ready = 0;
	int n = 0;
	for (int i = 0; i < sc->nslots && i < da->nslots; i++)
		n += group[i] != SCRAPE_SKIP && da->slots[i].alive && da->slots[i].port > 0;
	if (!n) {
		sc->ready = 1; /* an empty round: nothing to compare */
		return 0;
	}
	/* count them all first: a connect that fails at once calls back
	 * synchronously, and pending must not reach 0 halfway */
	sc->pending = n;
	for (int i = 0; i < sc->nslots && i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (group[i] == SCRAPE_SKIP || !s->alive || s->port <= 0)
			continue;
		struct sctx *c = xcalloc(1, sizeof(*c));
		c->sc = sc;
		c->slot = i;
		c->gen = s->gen;
		c->group = group[i];
		da->probes++;
		probe_fetch(da->d->loop, s->port, m->path, timeout, on_fetch, c);
	}
	return 0;
}

int scrape_take(struct scrape *sc, struct scrape_result *out)
{
	if (!sc->ready)
		return 0;
	*out = sc->cur;
	memset(&sc->cur, 0, sizeof(sc->cur));
	sc->ready = 0;
	return 1;
}

/* a quantile for humans: ms when the metric is in seconds */
static void fmt_q(struct buf *b, const char *metric, double v)
{
	if (strstr(metric, "seconds"))
		buf_addf(b, "%.1fms", v * 1000);
	else
		buf_addf(b, "%g", v);
}

int scrape_verdict(const struct analysis_spec *an, const struct scrape_result *r, struct buf *why,
		   struct buf *note)
{
	const struct metrics_spec *m = &an->latency;
	double pq = m->quantile * 100;
	if (r->failed) {
		buf_addf(note, "p%g inconclusive: %d scrape(s) failed (%s)", pq, r->failed, r->err);
		return -1;
	}
	if (!r->ninst[SCRAPE_CANARY] || !r->ninst[SCRAPE_STABLE]) {
		buf_addf(note, "p%g inconclusive: baseline scrape of %s", pq, m->path);
		return -1;
	}
	double nc = prom_hist_total(&r->delta[SCRAPE_CANARY]), ns = prom_hist_total(&r->delta[SCRAPE_STABLE]);
	if (nc < an->min_requests || ns < an->min_requests) {
		buf_addf(note, "p%g inconclusive: %.0f canary / %.0f stable new observation(s) < minimum %d", pq,
			 nc, ns, an->min_requests);
		return -1;
	}
	double qc = prom_hist_quantile(m->quantile, &r->delta[SCRAPE_CANARY]);
	double qs = prom_hist_quantile(m->quantile, &r->delta[SCRAPE_STABLE]);
	if (isnan(qc) || isnan(qs)) {
		buf_addf(note, "p%g inconclusive: %s has no +Inf bucket", pq, m->metric);
		return -1;
	}
	int bad = qc > m->max_ratio * qs && (qc - qs) * (strstr(m->metric, "seconds") ? 1000 : 1) >=
						  an->min_latency_delta_ms;
	struct buf *out = bad ? why : note;
	buf_addf(out, "p%g ", pq);
	fmt_q(out, m->metric, qc);
	buf_addf(out, bad ? " > %.1fx stable's p%g " : " vs %.1fx stable's p%g ", m->max_ratio, pq);
	fmt_q(out, m->metric, qs);
	buf_addf(out, " (%.0f canary / %.0f stable observations)", nc, ns);
	return bad;
}
