/*
 * ui_dora: the four keys of DORA per repository and environment over 7,
 * 30 or 90 days, with their bands — the same dora_query the API answers
 * (/api/v1/dora), so the numbers are the API's — and a trend chart (SVG
 * drawn here): successful and failed deployments per day (7 days) or per
 * week (30, 90 days), each bucket computed by dora_compute.
 */
#include "base/kiln.h"
#include "server/dora.h"
#include "server/srv.h"
#include "store/envs.h"
#include "store/runs.h"
#include "ui/ui.h"

#define DAY_MS ((int64_t)24 * 3600 * 1000)
#define CHART_W 640
#define CHART_H 180
#define MAX_BUCKETS 16

static void band(struct buf *out, enum dora_band b)
{
	html_addf(out, "<span class=\"band band-%s\">%s</span>", dora_band_name(b),
		  b == DORA_NONE ? "no data" : dora_band_name(b));
}

static void dur(struct buf *out, int64_t ms, size_t n)
{
	char s[64];
	if (!n) {
		buf_addstr(out, "—");
		return;
	}
	dora_fmt_duration(ms, s, sizeof(s));
	html_addf(out, "<data value=\"%D\">%s</data>", ms, s);
}

static void keys(struct buf *out, const struct dora_report *r)
{
	char v[64];
	buf_addstr(out, "<div class=\"keys\">");
	snprintf(v, sizeof(v), "%.6f", r->per_day);
	html_addf(out, "<div class=\"card key\" data-key=\"frequency\"><h3>Deployment frequency</h3>"
		  "<p class=\"v\"><data class=\"per-day\" value=\"%s\">", v);
	snprintf(v, sizeof(v), "%.2f", r->per_day);
	html_addf(out, "%s</data>/day</p><p><data class=\"deployments\" value=\"%D\">%D</data> "
		  "deployments, <data class=\"failed\" value=\"%D\">%D</data> failed</p><p>",
		  v, r->successes, r->successes, r->failures, r->failures);
	band(out, r->frequency_band);
	buf_addstr(out, "</p></div><div class=\"card key\" data-key=\"lead\"><h3>Lead time for "
		   "changes</h3><p class=\"v\"><span class=\"lead-median\">");
	dur(out, r->lead_median_ms, r->lead_n);
	buf_addstr(out, "</span> median</p><p>p90 <span class=\"lead-p90\">");
	dur(out, r->lead_p90_ms, r->lead_n);
	html_addf(out, "</span>, %D changes</p><p>", (int64_t)r->lead_n);
	band(out, r->lead_band);
	buf_addstr(out, "</p></div><div class=\"card key\" data-key=\"cfr\"><h3>Change failure rate"
		   "</h3><p class=\"v\">");
	if (r->successes + r->failures) {
		snprintf(v, sizeof(v), "%.6f", r->failure_rate);
		html_addf(out, "<data class=\"rate\" value=\"%s\">", v);
		snprintf(v, sizeof(v), "%.1f%%", r->failure_rate * 100);
		html_addf(out, "%s</data>", v);
	} else {
		buf_addstr(out, "—");
	}
	buf_addstr(out, "</p><p>");
	band(out, r->failure_band);
	buf_addstr(out, "</p></div><div class=\"card key\" data-key=\"recovery\"><h3>Failed deployment "
		   "recovery time</h3><p class=\"v\"><span class=\"recovery-median\">");
	dur(out, r->recovery_median_ms, r->recovery_n);
	html_addf(out, "</span> median</p><p>%D recovered, %D still failing</p><p>",
		  (int64_t)r->recovery_n, (int64_t)r->unrecovered);
	band(out, r->recovery_band);
	buf_addstr(out, "</p></div></div>");
}

/* successful and failed deployments per bucket, as stacked bars */
static void trend(struct srv *s, struct buf *out, const struct dora_report *r, int days)
{
	struct deploy_filter f = { r->repo, r->environment, NULL, 0, r->from_ms, 0 };
	struct deploy_row *v = NULL;
	size_t n = 0;
	struct buf err = BUF_INIT;
	if (deploys_list(s->db, &f, &v, &n, &err)) {
		html_addf(out, "<p class=\"error\">%s</p>", err.buf);
		buf_release(&err);
		return;
	}
	int64_t step = days <= 7 ? DAY_MS : 7 * DAY_MS;
	int nb = (int)((r->to_ms - r->from_ms + step - 1) / step);
	if (nb > MAX_BUCKETS)
		nb = MAX_BUCKETS;
	int64_t ok[MAX_BUCKETS] = { 0 }, bad[MAX_BUCKETS] = { 0 }, top = 1;
	for (int b = 0; b < nb; b++) {
		int64_t to = r->to_ms - (int64_t)(nb - 1 - b) * step, from = to - step;
		struct dora_report br;
		struct deploy_row *copy = xmalloc((n ? n : 1) * sizeof(*copy));
		memcpy(copy, v, n * sizeof(*copy));
		dora_compute(copy, n, from < r->from_ms ? r->from_ms : from, to, &br);
		free(copy);
		ok[b] = br.successes;
		bad[b] = br.failures;
		if (ok[b] + bad[b] > top)
			top = ok[b] + bad[b];
	}
	int bw = (CHART_W - 60) / (nb ? nb : 1);
	html_addf(out, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
		  "role=\"img\" aria-labelledby=\"t-%s-%s\"><title id=\"t-%s-%s\">Deployments per %s "
		  "over %d days: successful in green, failed in red</title>",
		  CHART_W, CHART_H, CHART_W, CHART_H, r->repo, r->environment, r->repo,
		  r->environment, step == DAY_MS ? "day" : "week", days);
	html_addf(out, "<line class=\"axis\" x1=\"40\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		  "<text x=\"4\" y=\"20\">%D</text><text x=\"4\" y=\"%d\">0</text>",
		  CHART_H - 24, CHART_W - 10, CHART_H - 24, top, CHART_H - 24);
	for (int b = 0; b < nb; b++) {
		int x = 46 + b * bw, base = CHART_H - 24, h = CHART_H - 44;
		int hok = (int)(ok[b] * h / top), hbad = (int)(bad[b] * h / top);
		html_addf(out, "<g><title>%D successful, %D failed</title>"
			  "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#1a7f37\"/>"
			  "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#cf222e\"/></g>",
			  ok[b], bad[b], x, base - hok, bw - 6, hok, x, base - hok - hbad, bw - 6, hbad);
		if (ok[b] + bad[b])
			html_addf(out, "<text x=\"%d\" y=\"%d\">%D</text>", x, base - hok - hbad - 4,
				  ok[b] + bad[b]);
	}
	html_addf(out, "<text x=\"46\" y=\"%d\">%d %s ago</text><text x=\"%d\" y=\"%d\">now</text>"
		  "</svg>", CHART_H - 6, nb, step == DAY_MS ? "days" : "weeks", CHART_W - 40,
		  CHART_H - 6);
	free(v);
	buf_release(&err);
}

/* GET /dora?days=7|30|90&repo=&environment= */
static void on_dora(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct dora_report *v = NULL;
	size_t n = 0;
	struct buf body = BUF_INIT, err = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_VIEWER))
		goto out;
	const char *d = http_req_query(q, "days");
	int days = d && !strcmp(d, "7") ? 7 : d && !strcmp(d, "90") ? 90 : 30;
	const char *repo = http_req_query(q, "repo"), *env = http_req_query(q, "environment");
	if (dora_query(s->db, repo && *repo ? repo : NULL, env && *env ? env : NULL, days,
		       runs_now_ms(), &v, &n, &err)) {
		ui_error(&u, 503, "the store is unavailable: %s", err.buf);
		goto out;
	}
	buf_addstr(&body, "<h1>DORA: the four keys</h1><nav class=\"pager\" aria-label=\"Window\">");
	static const int windows[] = { 7, 30, 90 };
	for (size_t i = 0; i < 3; i++)
		html_addf(&body, "<a href=\"/dora?days=%d\"%S>%d days</a>", windows[i],
			  windows[i] == days ? " aria-current=\"page\"" : "", windows[i]);
	buf_addstr(&body, "</nav>");
	if (!n)
		html_addf(&body, "<p class=\"muted\">No deployment finished in the last %d days.</p>",
			  days);
	for (size_t i = 0; i < n; i++) {
		html_addf(&body, "<section class=\"dora\" data-repo=\"%s\" data-environment=\"%s\" "
			  "aria-labelledby=\"h-%d\"><h2 id=\"h-%d\">%s → %s</h2>", v[i].repo,
			  v[i].environment, (int)i, (int)i, v[i].repo, v[i].environment);
		keys(&body, &v[i]);
		trend(s, &body, &v[i], days);
		buf_addstr(&body, "</section>");
	}
	buf_addstr(&body, "<p class=\"muted\">Formulas and band thresholds: docs/internals/dora.md. "
		   "The same figures: <code>GET /api/v1/dora</code>, <code>kiln dora</code>.</p>");
	ui_page(&u, 200, "DORA", "dora", &body);
out:
	ui_close(&u);
	free(v);
	buf_release(&body);
	buf_release(&err);
}

void ui_dora_register(struct srv *s)
{
	http_route(s, "GET", "/dora", ROLE_NONE, on_dora);
}
