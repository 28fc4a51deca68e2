/* rollout_graph: a release's rollout as SVG and text (see rollout_graph.h). */
#include "base/kiln.h"
#include "ui/html.h"
#include "ui/rollout_graph.h"

#include <time.h>

#define W 760                 /* the picture */
#define H 236
#define PL 64                 /* plot area: left, right, top, bottom */
#define PR (W - 16)
#define PT 28
#define PB 168
#define AY 200                /* the analysis row */
#define MAX_STEPS 64
#define MAX_POINTS 512

int64_t rollout_parse_time(const char *iso)
{
	int y, mo, d, h, mi, s, ms = 0, used = 0;
	if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6)
		return 0;
	if (iso[used] == '.' && sscanf(iso + used + 1, "%3d", &ms) != 1)
		return 0;
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	return ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)s * 1000 + ms;
}

/* what the audit log says, in the order it happened */
struct point {
	int64_t t;
	int share; /* the new version's traffic share from t on, percent */
};

struct mark {
	int64_t t;
	int kind;  /* 'o' analysis ok, 'x' failed, '?' inconclusive, 's' step start, 'r' rollback,
		    * 'p' promote */
	int step;  /* 's': its number */
	const char *text;
};

struct model {
	char strategy[32];
	char steps[MAX_STEPS][64];
	size_t nsteps;
	size_t step;            /* current step, 1-based; 0 none yet */
	int64_t t0, t1;         /* start; end (or now) */
	const char *outcome;    /* NULL while running */
	int rolled_back;
	struct point pts[MAX_POINTS];
	size_t npts;
	struct mark marks[MAX_POINTS];
	size_t nmarks;
	int ok, failed, inconclusive;
};

static void add_point(struct model *m, int64_t t, int share)
{
	if (share < 0)
		share = 0;
	if (share > 100)
		share = 100;
	if (m->npts < MAX_POINTS)
		m->pts[m->npts++] = (struct point){ t, share };
}

static void add_mark(struct model *m, int64_t t, int kind, int step, const char *text)
{
	if (m->nmarks < MAX_POINTS)
		m->marks[m->nmarks++] = (struct mark){ t, kind, step, text };
}

static int is_outcome(const char *e)
{
	return !strcmp(e, "succeeded") || !strcmp(e, "failed") || !strcmp(e, "rolled-back") ||
	       !strcmp(e, "aborted");
}

/* "canary: setWeight 20, pause, ..." */
static void parse_plan(struct model *m, const char *d)
{
	const char *colon = strchr(d, ':');
	snprintf(m->strategy, sizeof(m->strategy), "%.*s", colon ? (int)(colon - d) : 0, d);
	if (!colon || strcmp(m->strategy, "canary") || !strcmp(colon, ": no steps"))
		return;
	for (const char *p = colon + 2; *p && m->nsteps < MAX_STEPS;) {
		size_t n = strcspn(p, ",");
		snprintf(m->steps[m->nsteps++], sizeof(m->steps[0]), "%.*s", (int)n, p);
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
}

static void build(struct model *m, const struct drelease *rel, const struct daudit *ev, size_t n,
		  int64_t now_ms)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->strategy, sizeof(m->strategy), "%s", rel->strategy);
	m->t0 = n ? rollout_parse_time(ev[0].at) : 0;
	add_point(m, m->t0, 0);
	for (size_t i = 0; i < n; i++) {
		const char *e = ev[i].event, *d = ev[i].detail;
		int64_t t = rollout_parse_time(ev[i].at);
		int a, b, c;
		if (!strcmp(e, "plan")) {
			parse_plan(m, d);
		} else if (!strcmp(e, "step") && sscanf(d, "step %d/%d", &a, &b) == 2 && a > 0) {
			m->step = (size_t)a;
			add_mark(m, t, 's', a, d);
		} else if (!strcmp(e, "set-weight") && sscanf(d, "canary %d%%", &a) == 1) {
			add_point(m, t, a);
		} else if (!strcmp(e, "switch")) {
			add_point(m, t, 100);
		} else if (!strcmp(e, "rolling") && sscanf(d, "new %d of %d, old %d", &a, &b, &c) == 3) {
			add_point(m, t, a + c > 0 ? a * 100 / (a + c) : 0);
		} else if (!strcmp(e, "analysis")) {
			/* "round R (ok A, failed B, inconclusive C): VERDICT ...": the
			 * controller audits changes of verdict, not every round, with
			 * the running totals */
			int ok = strstr(d, "): ok") != NULL, bad = strstr(d, "): failed") != NULL;
			int r, to, tf, ti;
			if (sscanf(d, "round %d (ok %d, failed %d, inconclusive %d)", &r, &to, &tf, &ti) == 4) {
				m->ok = to;
				m->failed = tf;
				m->inconclusive = ti;
			}
			add_mark(m, t, ok ? 'o' : bad ? 'x' : '?', 0, d);
		} else if (!strcmp(e, "promote")) {
			add_mark(m, t, 'p', 0, d);
		} else if (!strcmp(e, "incident")) {
			m->rolled_back = 1;
			add_mark(m, t, 'r', 0, d);
			add_point(m, t, 0);
		} else if (is_outcome(e)) {
			m->outcome = e;
			m->t1 = t;
		}
	}
	if (!m->outcome && strcmp(rel->outcome, "running")) {
		m->outcome = rel->outcome; /* ended without a row we know */
		m->t1 = n ? rollout_parse_time(ev[n - 1].at) : m->t0;
	}
	if (!m->outcome)
		m->t1 = now_ms;
	if (m->t1 <= m->t0)
		m->t1 = m->t0 + 1000;
}

static int xof(const struct model *m, int64_t t)
{
	if (t < m->t0)
		t = m->t0;
	if (t > m->t1)
		t = m->t1;
	return PL + (int)((double)(t - m->t0) * (PR - PL) / (double)(m->t1 - m->t0));
}

static int yof(int share)
{
	return PB - share * (PB - PT) / 100;
}

static int share_now(const struct model *m)
{
	return m->npts ? m->pts[m->npts - 1].share : 0;
}

static void elapsed(struct buf *out, int64_t ms)
{
	html_addf(out, "%s", duration_str((double)ms).s);
}

/* the steps of the strategy: done, current, pending (a word each) */
static void steps_list(const struct model *m, struct buf *out)
{
	if (!m->nsteps)
		return;
	buf_addstr(out, "<ol class=\"rg-steps\" aria-label=\"Canary steps\">");
	for (size_t i = 0; i < m->nsteps; i++) {
		size_t k = i + 1;
		const char *state;
		if (m->outcome && !strcmp(m->outcome, "succeeded"))
			state = "done";
		else if (k < m->step)
			state = "done";
		else if (k == m->step)
			state = m->outcome ? "stopped" : "current";
		else
			state = "pending";
		html_addf(out, "<li class=\"rg-%S\"%S><span class=\"rg-n\">%d</span> %s "
			  "<span class=\"rg-state\">%S</span></li>", state,
			  !strcmp(state, "current") ? " aria-current=\"step\"" : "", (int)k, m->steps[i],
			  state);
	}
	buf_addstr(out, "</ol>");
}

/* the new version's share as a filled step line over the stable's */
static void area(const struct model *m, struct buf *out)
{
	int prev = 0;
	html_addf(out, "<path class=\"rg-new\" d=\"M%d %d", PL, PB);
	for (size_t i = 0; i < m->npts; i++) {
		int x = xof(m, m->pts[i].t);
		html_addf(out, " L%d %d L%d %d", x, yof(prev), x, yof(m->pts[i].share));
		prev = m->pts[i].share;
	}
	html_addf(out, " L%d %d L%d %dZ\"/>", PR, yof(prev), PR, PB);
}

static void svg(const struct drelease *rel, const struct model *m, struct buf *out)
{
	char id[32];
	snprintf(id, sizeof(id), "rg-%ld", rel->id);
	html_addf(out, "<svg class=\"rg-svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
		  "role=\"img\" aria-labelledby=\"%s-t %s-d\"><title id=\"%s-t\">Traffic to %s over "
		  "the rollout of release %D</title><desc id=\"%s-d\">", W, H, W, H, id, id, id,
		  rel->version, (int64_t)rel->id, id);
	html_addf(out, "%s now receives %d%% of the traffic, the stable release %d%%; %d analysis "
		  "round(s) passed, %d failed, %d inconclusive%S.</desc>", rel->version, share_now(m),
		  100 - share_now(m), m->ok, m->failed, m->inconclusive,
		  m->rolled_back ? "; the release was rolled back" : "");
	/* the stable release under everything, the new version over it */
	html_addf(out, "<rect class=\"rg-stable\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>", PL, PT,
		  PR - PL, PB - PT);
	area(m, out);
	for (int p = 0; p <= 100; p += 50)
		html_addf(out, "<line class=\"rg-grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
			  "<text class=\"rg-axis\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%d%%</text>", PL,
			  yof(p), PR, yof(p), PL - 6, yof(p) + 4, p);
	html_addf(out, "<text class=\"rg-axis\" x=\"%d\" y=\"%d\">0s</text><text class=\"rg-axis\" "
		  "x=\"%d\" y=\"%d\" text-anchor=\"end\">", PL, PB + 16, PR, PB + 16);
	elapsed(out, m->t1 - m->t0);
	html_addf(out, "%S</text><text class=\"rg-axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
		  "new version's share of traffic (stable: the rest)</text>", m->outcome ? "" : " (now)",
		  (PL + PR) / 2, PB + 16);
	/* step starts, promotes, the rollback point; step numbers that start
	 * together (setWeight, then pause) are set side by side */
	int label_x = -100;
	for (size_t i = 0; i < m->nmarks; i++) {
		const struct mark *k = &m->marks[i];
		int x = xof(m, k->t);
		if (k->kind == 's') {
			label_x = x - label_x < 12 ? label_x + 12 : x;
			html_addf(out, "<g class=\"rg-step\"><title>%s</title><line x1=\"%d\" y1=\"%d\" "
				  "x2=\"%d\" y2=\"%d\"/><text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d"
				  "</text></g>", k->text, x, PT, x, PB, label_x, PT - 8, k->step);
		} else if (k->kind == 'r') {
			html_addf(out, "<g class=\"rg-rollback\"><title>rollback: %s</title><line x1=\"%d\" "
				  "y1=\"%d\" x2=\"%d\" y2=\"%d\"/><text x=\"%d\" y=\"%d\" "
				  "text-anchor=\"end\">rollback</text></g>", k->text, x, PT - 4, x, PB + 4,
				  x - 4, PT + 12);
		} else if (k->kind == 'p') {
			html_addf(out, "<g class=\"rg-promote\"><title>promote: %s</title><path d=\"M%d %d "
				  "l5 8 h-10z\"/></g>", k->text, x, PB + 22);
		}
	}
	/* analysis rounds: a shape each (colour is not the only signal) */
	html_addf(out, "<text class=\"rg-axis\" x=\"%d\" y=\"%d\" text-anchor=\"end\">analysis</text>",
		  PL - 6, AY + 4);
	for (size_t i = 0; i < m->nmarks; i++) {
		const struct mark *k = &m->marks[i];
		int x = xof(m, k->t);
		if (k->kind == 'o')
			html_addf(out, "<circle class=\"rg-ok\" cx=\"%d\" cy=\"%d\" r=\"5\"><title>%s</title>"
				  "</circle>", x, AY, k->text);
		else if (k->kind == 'x')
			html_addf(out, "<path class=\"rg-fail\" d=\"M%d %d l10 10 m0 -10 l-10 10\"><title>%s"
				  "</title></path>", x - 5, AY - 5, k->text);
		else if (k->kind == '?')
			html_addf(out, "<circle class=\"rg-inc\" cx=\"%d\" cy=\"%d\" r=\"4\"><title>%s</title>"
				  "</circle>", x, AY, k->text);
	}
	buf_addstr(out, "</svg>");
}

static void facts(const struct drelease *rel, const struct model *m, struct buf *out)
{
	html_addf(out, "<p class=\"rg-summary\">Release %D: <strong>%s</strong> with %s", (int64_t)rel->id,
		  rel->version, *m->strategy ? m->strategy : rel->strategy);
	if (*rel->user)
		html_addf(out, " by %s", rel->user);
	html_addf(out, " — <span class=\"st st-%S\">%s</span>",
		  !m->outcome ? "in_progress" : !strcmp(m->outcome, "succeeded") ? "success"
		  : !strcmp(m->outcome, "rolled-back") ? "rolled_back" : "failure",
		  m->outcome ? m->outcome : "running");
	if (m->nsteps && m->step && !m->outcome)
		html_addf(out, ", step %d of %d (%s)", (int)m->step, (int)m->nsteps, m->steps[m->step - 1]);
	html_addf(out, "; %s: <strong class=\"rg-share\">%d%%</strong> of the traffic, stable %d%%",
		  rel->version, share_now(m), 100 - share_now(m));
	if (m->ok + m->failed + m->inconclusive)
		html_addf(out, "; analysis: %d ok, %d failed, %d inconclusive", m->ok, m->failed,
			  m->inconclusive);
	buf_addstr(out, ".</p>");
}

static void events(const struct daudit *ev, size_t n, int64_t t0, struct buf *out)
{
	buf_addstr(out, "<details class=\"rg-events\"><summary>Events of this release</summary><table>"
		   "<thead><tr><th scope=\"col\">At</th><th scope=\"col\">Event</th>"
		   "<th scope=\"col\">Detail</th></tr></thead><tbody>");
	for (size_t i = 0; i < n; i++) {
		html_addf(out, "<tr class=\"rg-ev-%s\"><td><time datetime=\"%s\">+", ev[i].event, ev[i].at);
		elapsed(out, rollout_parse_time(ev[i].at) - t0);
		html_addf(out, "</time></td><td>%s</td><td>%s</td></tr>", ev[i].event, ev[i].detail);
	}
	buf_addstr(out, "</tbody></table></details>");
}

void rollout_graph(const struct drelease *rel, const struct daudit *ev, size_t n, int64_t now_ms,
		   struct buf *out)
{
	struct model *m = xmalloc(sizeof(*m));
	build(m, rel, ev, n, now_ms);
	html_addf(out, "<div class=\"rg\" data-release=\"%D\" data-state=\"%s\" data-share=\"%d\" "
		  "data-step=\"%d\">", (int64_t)rel->id, m->outcome ? m->outcome : "running",
		  share_now(m), (int)m->step);
	facts(rel, m, out);
	steps_list(m, out);
	buf_addstr(out, "<div class=\"rg-chart\">");
	svg(rel, m, out);
	buf_addstr(out, "</div>");
	if (m->ok + m->failed + m->inconclusive) {
		buf_addstr(out, "<table class=\"rg-analysis\"><caption>Analysis rounds</caption><thead><tr>"
			   "<th scope=\"col\">At</th><th scope=\"col\">Result</th></tr></thead><tbody>");
		for (size_t i = 0; i < m->nmarks; i++) {
			const struct mark *k = &m->marks[i];
			if (k->kind != 'o' && k->kind != 'x' && k->kind != '?')
				continue;
			buf_addstr(out, "<tr><td>+");
			elapsed(out, k->t - m->t0);
			html_addf(out, "</td><td>%s</td></tr>", k->text);
		}
		buf_addstr(out, "</tbody></table>");
	}
	events(ev, n, m->t0, out);
	buf_addstr(out, "</div>");
	free(m);
}
