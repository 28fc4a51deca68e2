/* dora: the four keys from recorded deployments (see dora.h, docs/internals/dora.md). */
#include "base/kiln.h"
#include "server/dora.h"

#define HOUR_MS ((int64_t)3600 * 1000)
#define DAY_MS (24 * HOUR_MS)

const char *dora_band_name(enum dora_band b)
{
	static const char *const names[] = { "none", "low", "medium", "high", "elite" };
	return (unsigned)b < ARRAY_SIZE(names) ? names[b] : "none";
}

/* Bands: docs/internals/dora.md (DORA State of DevOps 2023 and 2024). */
static enum dora_band frequency_band(double per_day, int64_t successes)
{
	if (!successes)
		return DORA_LOW;
	return per_day >= 1.0 ? DORA_ELITE : per_day >= 1.0 / 7 ? DORA_HIGH
	     : per_day >= 1.0 / 30 ? DORA_MEDIUM : DORA_LOW;
}

static enum dora_band lead_band(int64_t ms)
{
	return ms < DAY_MS ? DORA_ELITE : ms < 7 * DAY_MS ? DORA_HIGH
	     : ms < 30 * DAY_MS ? DORA_MEDIUM : DORA_LOW;
}

static enum dora_band failure_band(double rate)
{
	/* compared in whole per-mille so 1/20 is exactly 5 % */
	long pm = (long)(rate * 1000 + 0.5);
	return pm <= 50 ? DORA_ELITE : pm <= 100 ? DORA_HIGH : pm <= 150 ? DORA_MEDIUM : DORA_LOW;
}

static enum dora_band recovery_band(int64_t ms)
{
	return ms < HOUR_MS ? DORA_ELITE : ms < DAY_MS ? DORA_HIGH
	     : ms < 7 * DAY_MS ? DORA_MEDIUM : DORA_LOW;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_finish(const void *a, const void *b)
{
	const struct deploy_row *x = a, *y = b;
	if (x->finished_ms != y->finished_ms)
		return x->finished_ms < y->finished_ms ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* median: the middle value, or the mean of the two middle ones */
static int64_t median(const int64_t *v, size_t n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* nearest-rank percentile: the value at rank ceil(p/100 * n) */
static int64_t percentile(const int64_t *v, size_t n, int p)
{
	size_t rank = (size_t)((p * n + 99) / 100);
	return v[rank ? rank - 1 : 0];
}

static int counts(const struct deploy_row *d, int64_t from, int64_t to)
{
	return d->finished_ms >= from && d->finished_ms < to &&
	       (!strcmp(d->state, "success") || !strcmp(d->state, "failure"));
}

void dora_compute(struct deploy_row *v, size_t n, int64_t from, int64_t to, struct dora_report *r)
{
	memset(r, 0, sizeof(*r));
	if (n) {
		snprintf(r->repo, sizeof(r->repo), "%s", v[0].repo);
		snprintf(r->environment, sizeof(r->environment), "%s", v[0].environment);
	}
	r->from_ms = from;
	r->to_ms = to;
	r->days = (double)(to - from) / (double)DAY_MS;
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_finish);

	int64_t *lead = xcalloc(n + 1, sizeof(*lead)), *rec = xcalloc(n + 1, sizeof(*rec));
	int64_t streak = 0; /* finish time of the first failure of the current streak */
	for (size_t i = 0; i < n; i++) {
		const struct deploy_row *d = &v[i];
		if (!counts(d, from, to))
			continue;
		if (!strcmp(d->state, "success")) {
			r->successes++;
			if (d->commit_ms > 0 && d->commit_ms <= d->finished_ms)
				lead[r->lead_n++] = d->finished_ms - d->commit_ms;
			if (streak)
				rec[r->recovery_n++] = d->finished_ms - streak;
			streak = 0;
		} else {
			r->failures++;
			if (!streak)
				streak = d->finished_ms;
		}
	}
	r->unrecovered = streak ? 1 : 0;
	r->per_day = r->days > 0 ? (double)r->successes / r->days : 0;
	r->frequency_band = frequency_band(r->per_day, r->successes);
	if (r->lead_n) {
		qsort(lead, r->lead_n, sizeof(*lead), cmp_i64);
		r->lead_median_ms = median(lead, r->lead_n);
		r->lead_p90_ms = percentile(lead, r->lead_n, 90);
		r->lead_band = lead_band(r->lead_median_ms);
	}
	if (r->successes + r->failures) {
		r->failure_rate = (double)r->failures / (double)(r->successes + r->failures);
		r->failure_band = failure_band(r->failure_rate);
	}
	if (r->recovery_n) {
		qsort(rec, r->recovery_n, sizeof(*rec), cmp_i64);
		r->recovery_median_ms = median(rec, r->recovery_n);
		r->recovery_band = recovery_band(r->recovery_median_ms);
	}
	free(lead);
	free(rec);
}

static int cmp_group(const void *a, const void *b)
{
	const struct deploy_row *x = a, *y = b;
	int c = strcmp(x->repo, y->repo);
	return c ? c : strcmp(x->environment, y->environment);
}

int dora_query(struct db *db, const char *repo, const char *environment, int days, int64_t now,
	       struct dora_report **out, size_t *n, struct buf *err)
{
	*out = NULL;
	*n = 0;
	if (days <= 0 || days > 3650) {
		buf_addf(err, "bad window: %d days (1 to 3650)", days);
		return KILN_EINVAL;
	}
	int64_t from = now - (int64_t)days * DAY_MS;
	/* finished in the window means created before its end; a deployment
	 * created long before the window may still finish in it */
	struct deploy_filter f = { repo, environment, NULL, 0, from - 90 * DAY_MS, 0 };
	struct deploy_row *v;
	size_t nv;
	if (deploys_list(db, &f, &v, &nv, err) < 0)
		return -1;
	if (nv > 1)
		qsort(v, nv, sizeof(*v), cmp_group);
	size_t alloc = 0;
	for (size_t i = 0; i < nv;) {
		size_t j = i;
		while (j < nv && !cmp_group(&v[i], &v[j]))
			j++;
		struct dora_report r;
		dora_compute(v + i, j - i, from, now, &r);
		if (r.successes + r.failures) {
			ALLOC_GROW(*out, *n + 1, alloc);
			(*out)[(*n)++] = r;
		}
		i = j;
	}
	free(v);
	return 0;
}

static json_t *ms_or_null(size_t n, int64_t ms)
{
	return n ? json_integer(ms) : json_null();
}

json_t *dora_to_json(const struct dora_report *r)
{
	json_t *df = json_pack("{s:I,s:I,s:f,s:s}", "deployments", (json_int_t)r->successes,
			       "failed_deployments", (json_int_t)r->failures, "per_day", r->per_day,
			       "band", dora_band_name(r->frequency_band));
	json_t *lt = json_pack("{s:I,s:o,s:o,s:s}", "changes", (json_int_t)r->lead_n, "median_ms",
			       ms_or_null(r->lead_n, r->lead_median_ms), "p90_ms",
			       ms_or_null(r->lead_n, r->lead_p90_ms), "band",
			       dora_band_name(r->lead_band));
	json_t *cfr = json_pack("{s:o,s:s}", "rate",
				r->successes + r->failures ? json_real(r->failure_rate) : json_null(),
				"band", dora_band_name(r->failure_band));
	json_t *rt = json_pack("{s:I,s:I,s:o,s:s}", "recoveries", (json_int_t)r->recovery_n,
			       "unrecovered", (json_int_t)r->unrecovered, "median_ms",
			       ms_or_null(r->recovery_n, r->recovery_median_ms), "band",
			       dora_band_name(r->recovery_band));
	return json_pack("{s:s,s:s,s:I,s:I,s:f,s:o,s:o,s:o,s:o}", "repo", r->repo, "environment",
			 r->environment, "from", (json_int_t)r->from_ms, "to", (json_int_t)r->to_ms,
			 "days", r->days, "deployment_frequency", df, "lead_time", lt,
			 "change_failure_rate", cfr, "recovery_time", rt);
}

void dora_fmt_duration(int64_t ms, char *out, size_t n)
{
	if (ms < 60 * 1000)
		snprintf(out, n, "%llds", (long long)(ms / 1000));
	else if (ms < HOUR_MS)
		snprintf(out, n, "%lldm", (long long)(ms / 60000));
	else if (ms < DAY_MS)
		snprintf(out, n, "%lldh %02lldm", (long long)(ms / HOUR_MS),
			 (long long)(ms % HOUR_MS / 60000));
	else
		snprintf(out, n, "%lldd %02lldh", (long long)(ms / DAY_MS),
			 (long long)(ms % DAY_MS / HOUR_MS));
}

/* a Prometheus label value: \\, " and newline escaped */
static void label(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_addch(b, '\\');
		if (*s == '\n')
			buf_addstr(b, "\\n");
		else
			buf_addch(b, *s);
	}
}

static void series(struct buf *b, const char *name, const struct dora_report *r)
{
	buf_addf(b, "%s{repo=\"", name);
	label(b, r->repo);
	buf_addstr(b, "\",environment=\"");
	label(b, r->environment);
	buf_addstr(b, "\"}");
}

int dora_metrics(struct db *db, int64_t now, struct buf *b, struct buf *err)
{
	struct strvec rows = STRVEC_INIT;
	if (deploys_counts(db, &rows, err) < 0)
		return -1;
	buf_addstr(b, "# HELP kiln_deployments_total deployments to environments in the history, by state\n"
		      "# TYPE kiln_deployments_total counter\n");
	for (size_t i = 0; i < rows.nr; i++) {
		char *f[4] = { rows.v[i], NULL, NULL, NULL };
		for (int k = 1; k < 4 && f[k - 1]; k++) {
			char *t = strchr(f[k - 1], '\t');
			if (t)
				*t++ = '\0';
			f[k] = t;
		}
		if (!f[3])
			continue;
		buf_addstr(b, "kiln_deployments_total{repo=\"");
		label(b, f[0]);
		buf_addstr(b, "\",environment=\"");
		label(b, f[1]);
		buf_addf(b, "\",state=\"%s\"} %s\n", f[2], f[3]);
	}
	strvec_clear(&rows);
	struct dora_report *v;
	size_t n;
	if (dora_query(db, NULL, NULL, 30, now, &v, &n, err) < 0)
		return -1;
	static const struct {
		const char *name, *help;
	} m[] = {
		{ "kiln_dora_deployment_frequency_per_day", "successful deployments per day, last 30 days" },
		{ "kiln_dora_lead_time_median_seconds", "median commit-to-deploy time, last 30 days" },
		{ "kiln_dora_lead_time_p90_seconds", "90th percentile commit-to-deploy time, last 30 days" },
		{ "kiln_dora_change_failure_rate", "failed / finished deployments, last 30 days" },
		{ "kiln_dora_recovery_time_median_seconds", "median failed-deployment recovery time, last 30 days" },
	};
	for (size_t k = 0; k < ARRAY_SIZE(m); k++) {
		buf_addf(b, "# HELP %s %s\n# TYPE %s gauge\n", m[k].name, m[k].help, m[k].name);
		for (size_t i = 0; i < n; i++) {
			const struct dora_report *r = &v[i];
			if ((k == 1 || k == 2) && !r->lead_n)
				continue;
			if (k == 4 && !r->recovery_n)
				continue;
			series(b, m[k].name, r);
			if (k == 0)
				buf_addf(b, " %.6g\n", r->per_day);
			else if (k == 1)
				buf_addf(b, " %.3f\n", r->lead_median_ms / 1000.0);
			else if (k == 2)
				buf_addf(b, " %.3f\n", r->lead_p90_ms / 1000.0);
			else if (k == 3)
				buf_addf(b, " %.6g\n", r->failure_rate);
			else
				buf_addf(b, " %.3f\n", r->recovery_median_ms / 1000.0);
		}
	}
	free(v);
	return 0;
}
