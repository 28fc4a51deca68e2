/*
 * app: load `.kiln/apps/<name>.yml` into struct app. Every problem is
 * reported with its position; unknown keys get a did-you-mean hint.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "deploy/app.h"
#include "yaml/ynode.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <unistd.h>

struct ld {
	const char *file;
	struct diags *d;
	int gitops; /* a config repository file: version, wave, automated allowed */
	int bad_release; /* a release was given but is not valid (reported) */
};

static int err_at(struct ld *l, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int err_at(struct ld *l, const struct ynode *n, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	diag_err(l->d, l->file, n ? n->line : 0, n ? n->col : 0, "%s", b.buf);
	buf_release(&b);
	return -1;
}

int deploy_name_ok(const char *name)
{
	if (!name || !*name || *name == '.' || *name == '-' || strlen(name) > 64)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return 0;
	return 1;
}

int deploy_digest_ok(const char *v)
{
	if (!v || strncmp(v, "sha256:", 7) || strlen(v) != 7 + 64)
		return 0;
	for (const char *p = v + 7; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return 0;
	return 1;
}

int deploy_version_ok(const char *v)
{
	return deploy_name_ok(v) || deploy_digest_ok(v);
}

const char *deploy_version_short(const char *v, char out[20])
{
	if (!deploy_digest_ok(v))
		return v;
	snprintf(out, 20, "%.19s", v);
	return out;
}

void deploy_image_ref(const char *image, const char *version, struct buf *out)
{
	buf_addf(out, "%s%c%s", image, deploy_digest_ok(version) ? '@' : ':', version);
}

int parse_duration_ms(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0 || !isfinite(v))
		return -1;
	double mul = 1000;
	if (!strcmp(end, "ms"))
		mul = 1;
	else if (!strcmp(end, "s") || !*end)
		mul = 1000;
	else if (!strcmp(end, "m"))
		mul = 60000;
	else if (!strcmp(end, "h"))
		mul = 3600000;
	else
		return -1;
	v *= mul;
	return v > INT_MAX / 2 ? -1 : (int)(v + 0.5);
}

static int cmp_key(const void *a, const void *b)
{
	const struct ynode *x = *(const struct ynode *const *)a;
	const struct ynode *y = *(const struct ynode *const *)b;
	int c = strcmp(x->str, y->str);
	if (c)
		return c;
	return x->line != y->line ? (x->line < y->line ? -1 : 1) : (x->col < y->col ? -1 : x->col > y->col);
}

/* a key given twice in any mapping of the file is an error, as in workflows
 * (YAML 1.2 says keys are unique; a reader keeping either one would be
 * silently wrong); sorted, so a mapping of many keys stays O(n log n) */
static int check_dup_keys(struct ld *l, const struct ynode *n)
{
	if (!n)
		return 0;
	int bad = 0;
	if (n->kind == YNODE_SEQ)
		for (size_t i = 0; i < n->nr; i++)
			bad |= check_dup_keys(l, n->items[i]);
	if (n->kind != YNODE_MAP)
		return bad;
	size_t m = ynode_map_size(n), nk = 0;
	const struct ynode **keys = xcalloc(m ? m : 1, sizeof(*keys));
	for (size_t i = 0; i < m; i++) {
		const struct ynode *k = ynode_map_key(n, i);
		if (k->kind == YNODE_SCALAR)
			keys[nk++] = k;
		bad |= check_dup_keys(l, ynode_map_val(n, i));
	}
	qsort(keys, nk, sizeof(*keys), cmp_key);
	for (size_t i = 1; i < nk; i++)
		if (!strcmp(keys[i]->str, keys[i - 1]->str))
			bad = err_at(l, keys[i], "key '%s' is defined twice (first at line %d)",
				     keys[i]->str, keys[i - 1]->line);
	free(keys);
	return bad;
}

/* a mapping whose keys must all be in `known` */
static int check_map(struct ld *l, const struct ynode *n, const char *what, const char *const *known,
		     size_t nknown)
{
	if (n->kind != YNODE_MAP)
		return err_at(l, n, "%s must be a mapping, not a %s", what, ynode_kind_name(n));
	int bad = 0;
	for (size_t i = 0; i < ynode_map_size(n); i++) {
		const struct ynode *k = ynode_map_key(n, i);
		if (k->kind != YNODE_SCALAR) {
			bad = err_at(l, k, "%s: keys must be strings", what);
			continue;
		}
		size_t j;
		for (j = 0; j < nknown && strcmp(k->str, known[j]); j++)
			;
		if (j < nknown)
			continue;
		const char *hint = did_you_mean(k->str, known, nknown);
		if (hint)
			bad = err_at(l, k, "unknown key '%s' in %s (did you mean '%s'?)", k->str, what, hint);
		else
			bad = err_at(l, k, "unknown key '%s' in %s", k->str, what);
	}
	return bad;
}

static int get_str(struct ld *l, const struct ynode *n, const char *what, char **out)
{
	if (n->kind != YNODE_SCALAR || ynode_is_null(n) || !n->len)
		return err_at(l, n, "%s must be a non-empty string", what);
	free(*out);
	*out = xstrdup(n->str);
	return 0;
}

static int get_int(struct ld *l, const struct ynode *n, const char *what, int lo, int hi, int *out)
{
	char *end;
	long v = 0;
	if (n->kind == YNODE_SCALAR && n->len) {
		errno = 0;
		v = strtol(n->str, &end, 10);
		if (!errno && !*end && v >= lo && v <= hi) {
			*out = (int)v;
			return 0;
		}
	}
	return err_at(l, n, "%s must be an integer from %d to %d", what, lo, hi);
}

static int get_bool(struct ld *l, const struct ynode *n, const char *what, int *out)
{
	if (n->kind == YNODE_SCALAR && (!strcmp(n->str, "true") || !strcmp(n->str, "false"))) {
		*out = !strcmp(n->str, "true");
		return 0;
	}
	return err_at(l, n, "%s must be true or false", what);
}

static int get_dur(struct ld *l, const struct ynode *n, const char *what, int *out)
{
	int v = n->kind == YNODE_SCALAR ? parse_duration_ms(n->str) : -1;
	if (v < 0)
		return err_at(l, n, "%s must be a duration like 500ms, 10s or 2m", what);
	*out = v;
	return 0;
}

/* "5%" or 5 (percent) or 0.05 is NOT accepted to avoid ambiguity: a number is percent */
static int get_percent(struct ld *l, const struct ynode *n, const char *what, double *out)
{
	char *end;
	if (n->kind == YNODE_SCALAR && n->len) {
		errno = 0;
		double v = strtod(n->str, &end);
		if (!errno && end != n->str && (!*end || !strcmp(end, "%")) && v >= 0 && v <= 100) {
			*out = v / 100.0;
			return 0;
		}
	}
	return err_at(l, n, "%s must be a percentage like 5%%", what);
}

/* a command: a sequence of strings, or a string split on blanks */
static int get_argv(struct ld *l, const struct ynode *n, const char *what, struct strvec *out)
{
	strvec_clear(out);
	if (n->kind == YNODE_SEQ) {
		for (size_t i = 0; i < n->nr; i++) {
			const struct ynode *it = n->items[i];
			if (it->kind != YNODE_SCALAR)
				return err_at(l, it, "%s: each argument must be a string", what);
			strvec_push(out, it->str);
		}
	} else if (n->kind == YNODE_SCALAR && !ynode_is_null(n)) {
		const char *p = n->str;
		while (*p) {
			while (isspace((unsigned char)*p))
				p++;
			const char *s = p;
			while (*p && !isspace((unsigned char)*p))
				p++;
			if (p > s)
				strvec_push_nodup(out, xstrndup(s, (size_t)(p - s)));
		}
	}
	if (!out->nr)
		return err_at(l, n, "%s must be a non-empty command", what);
	return 0;
}

static int get_strlist(struct ld *l, const struct ynode *n, const char *what, struct strvec *out)
{
	if (n->kind == YNODE_SCALAR && !ynode_is_null(n)) {
		strvec_push(out, n->str);
		return 0;
	}
	if (n->kind != YNODE_SEQ)
		return err_at(l, n, "%s must be a string or a list of strings", what);
	for (size_t i = 0; i < n->nr; i++) {
		if (n->items[i]->kind != YNODE_SCALAR || !n->items[i]->len)
			return err_at(l, n->items[i], "%s: each entry must be a string", what);
		strvec_push(out, n->items[i]->str);
	}
	return 0;
}

static int load_probe(struct ld *l, const struct ynode *n, struct probe_spec *p)
{
	static const char *const keys[] = { "http", "tcp", "exec", "interval", "timeout",
		"failureThreshold", "successThreshold", "initialDelay" };
	int bad = check_map(l, n, "health", keys, ARRAY_SIZE(keys)), kinds = 0;
	if (n->kind != YNODE_MAP)
		return -1;
	const struct ynode *v;
	if ((v = ynode_get(n, "http"))) {
		static const char *const hk[] = { "path", "status" };
		kinds++;
		p->kind = PROBE_HTTP;
		if (check_map(l, v, "health.http", hk, ARRAY_SIZE(hk)) < 0)
			bad = -1;
		else {
			const struct ynode *x;
			if ((x = ynode_get(v, "path"))) {
				if (get_str(l, x, "health.http.path", &p->path) < 0)
					bad = -1;
				else if (p->path[0] != '/' || strpbrk(p->path, " \r\n"))
					bad = err_at(l, x, "health.http.path must start with '/' and contain no blanks");
			}
			if ((x = ynode_get(v, "status")) &&
			    get_int(l, x, "health.http.status", 100, 599, &p->status) < 0)
				bad = -1;
		}
	}
	if ((v = ynode_get(n, "tcp"))) {
		kinds++;
		p->kind = PROBE_TCP;
		if (!ynode_is_null(v) && !(v->kind == YNODE_MAP && !v->nr) &&
		    !(v->kind == YNODE_SCALAR && !strcmp(v->str, "true")))
			bad = err_at(l, v, "health.tcp takes no settings (write 'tcp: {}')");
	}
	if ((v = ynode_get(n, "exec"))) {
		kinds++;
		p->kind = PROBE_EXEC;
		const struct ynode *c = v->kind == YNODE_MAP ? ynode_get(v, "command") : v;
		if (v->kind == YNODE_MAP) {
			static const char *const ek[] = { "command" };
			if (check_map(l, v, "health.exec", ek, ARRAY_SIZE(ek)) < 0)
				bad = -1;
		}
		if (!c)
			bad = err_at(l, v, "health.exec needs a command");
		else if (get_argv(l, c, "health.exec.command", &p->command) < 0)
			bad = -1;
	}
	if (kinds > 1)
		bad = err_at(l, n, "health: choose one of http, tcp or exec");
	if ((v = ynode_get(n, "interval")) && get_dur(l, v, "health.interval", &p->interval_ms) < 0)
		bad = -1;
	if ((v = ynode_get(n, "timeout")) && get_dur(l, v, "health.timeout", &p->timeout_ms) < 0)
		bad = -1;
	if ((v = ynode_get(n, "initialDelay")) &&
	    get_dur(l, v, "health.initialDelay", &p->initial_delay_ms) < 0)
		bad = -1;
	if ((v = ynode_get(n, "failureThreshold")) &&
	    get_int(l, v, "health.failureThreshold", 1, 100, &p->failure_threshold) < 0)
		bad = -1;
	if ((v = ynode_get(n, "successThreshold")) &&
	    get_int(l, v, "health.successThreshold", 1, 100, &p->success_threshold) < 0)
		bad = -1;
	if (p->interval_ms < 50)
		p->interval_ms = 50;
	if (p->timeout_ms < 10)
		p->timeout_ms = 10;
	return bad;
}

static int load_step(struct ld *l, const struct ynode *n, struct canary_step *st)
{
	static const char *const keys[] = { "setWeight", "pause", "analysis" };
	if (check_map(l, n, "canary step", keys, ARRAY_SIZE(keys)) < 0)
		return -1;
	if (ynode_map_size(n) != 1)
		return err_at(l, n, "a canary step has exactly one of setWeight, pause or analysis");
	const struct ynode *k = ynode_map_key(n, 0), *v = ynode_map_val(n, 0);
	if (!strcmp(k->str, "setWeight")) {
		st->kind = STEP_WEIGHT;
		return get_int(l, v, "setWeight", 0, 100, &st->weight);
	}
	if (!strcmp(k->str, "pause")) {
		static const char *const pk[] = { "duration" };
		st->kind = STEP_PAUSE;
		st->duration_ms = -1;
		if (ynode_is_null(v))
			return 0;
		if (check_map(l, v, "pause", pk, ARRAY_SIZE(pk)) < 0)
			return -1;
		const struct ynode *d = ynode_get(v, "duration");
		return d ? get_dur(l, d, "pause.duration", &st->duration_ms) : 0;
	}
	static const char *const ak[] = { "intervals" };
	st->kind = STEP_ANALYSIS;
	st->intervals = 1;
	if (ynode_is_null(v))
		return 0;
	if (check_map(l, v, "analysis step", ak, ARRAY_SIZE(ak)) < 0)
		return -1;
	const struct ynode *c = ynode_get(v, "intervals");
	return c ? get_int(l, c, "analysis.intervals", 1, 1000, &st->intervals) : 0;
}

static int load_kind(struct ld *l, const struct ynode *k, const struct ynode *v, struct strategy_spec *s)
{
	int bad = 0;
	const struct ynode *x;
	if (s->kind == STRAT_ROLLING) {
		static const char *const keys[] = { "maxSurge", "maxUnavailable" };
		if (!ynode_is_null(v) && check_map(l, v, "rolling", keys, ARRAY_SIZE(keys)) < 0)
			return -1;
		if (ynode_is_null(v))
			return 0;
		if ((x = ynode_get(v, "maxSurge")) && get_int(l, x, "maxSurge", 0, 100, &s->max_surge) < 0)
			bad = -1;
		if ((x = ynode_get(v, "maxUnavailable")) &&
		    get_int(l, x, "maxUnavailable", 0, 100, &s->max_unavailable) < 0)
			bad = -1;
		if (!bad && !s->max_surge && !s->max_unavailable)
			bad = err_at(l, k, "rolling: maxSurge and maxUnavailable cannot both be 0");
	} else if (s->kind == STRAT_BLUEGREEN) {
		static const char *const keys[] = { "autoPromote", "scaleDownDelay", "previewPort" };
		if (ynode_is_null(v))
			return 0;
		if (check_map(l, v, "blueGreen", keys, ARRAY_SIZE(keys)) < 0)
			return -1;
		if ((x = ynode_get(v, "autoPromote")) && get_bool(l, x, "autoPromote", &s->auto_promote) < 0)
			bad = -1;
		if ((x = ynode_get(v, "scaleDownDelay")) &&
		    get_dur(l, x, "scaleDownDelay", &s->scale_down_delay_ms) < 0)
			bad = -1;
		if ((x = ynode_get(v, "previewPort")) && get_int(l, x, "previewPort", 1, 65535, &s->preview_port) < 0)
			bad = -1;
	} else {
		static const char *const keys[] = { "steps" };
		if (ynode_is_null(v))
			return 0;
		if (check_map(l, v, "canary", keys, ARRAY_SIZE(keys)) < 0)
			return -1;
		if (!(x = ynode_get(v, "steps")))
			return 0;
		if (x->kind != YNODE_SEQ || !x->nr)
			return err_at(l, x, "canary.steps must be a non-empty list");
		free(s->steps);
		s->steps = xcalloc(x->nr, sizeof(*s->steps));
		s->nsteps = x->nr;
		for (size_t i = 0; i < x->nr; i++)
			if (load_step(l, x->items[i], &s->steps[i]) < 0)
				bad = -1;
	}
	return bad;
}

static int load_strategy(struct ld *l, const struct ynode *n, struct app *a)
{
	static const char *const keys[] = { "rolling", "blueGreen", "canary" };
	if (check_map(l, n, "strategy", keys, ARRAY_SIZE(keys)) < 0)
		return -1;
	if (ynode_map_size(n) != 1)
		return err_at(l, n, "strategy: choose exactly one of rolling, blueGreen or canary");
	int bad = 0;
	for (size_t i = 0; i < ynode_map_size(n); i++) {
		const struct ynode *k = ynode_map_key(n, i);
		enum strategy_kind kind = strategy_parse(k->str);
		if (load_kind(l, k, ynode_map_val(n, i), &a->alt[kind]) < 0)
			bad = -1;
		a->strategy.kind = kind;
	}
	return bad;
}

static int get_ratio(struct ld *l, const struct ynode *n, const char *what, double lo, double hi,
		     const char *example, double *out)
{
	char *end;
	double v = n->kind == YNODE_SCALAR && n->len ? strtod(n->str, &end) : NAN;
	if (isnan(v) || end == n->str || *end || v < lo || v > hi)
		return err_at(l, n, "%s must be a number like %s", what, example);
	*out = v;
	return 0;
}

static int metric_name_ok(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != ':')
			return 0;
	return 1;
}

/* analysis.latency: {source: prometheus, path, metric, quantile, maxRatio, timeout} */
static int load_metrics(struct ld *l, const struct ynode *n, struct metrics_spec *m)
{
	static const char *const keys[] = { "source", "path", "metric", "quantile", "maxRatio", "timeout" };
	if (check_map(l, n, "analysis.latency", keys, ARRAY_SIZE(keys)) < 0)
		return -1;
	int bad = 0;
	const struct ynode *x;
	m->enabled = 1;
	if (!(x = ynode_get(n, "source")))
		bad = err_at(l, n, "analysis.latency needs source: prometheus");
	else if (x->kind != YNODE_SCALAR || strcmp(x->str, "prometheus"))
		bad = err_at(l, x, "analysis.latency.source must be 'prometheus' (the only source kiln reads)");
	if ((x = ynode_get(n, "path"))) {
		if (get_str(l, x, "analysis.latency.path", &m->path) < 0)
			bad = -1;
		else if (m->path[0] != '/' || strpbrk(m->path, " \t\r\n") || strlen(m->path) > 256)
			bad = err_at(l, x, "analysis.latency.path must start with '/', have no blanks and at most 256 characters");
	}
	if (!(x = ynode_get(n, "metric")))
		bad = err_at(l, n, "analysis.latency needs metric: the histogram's name, like http_request_duration_seconds");
	else if (get_str(l, x, "analysis.latency.metric", &m->metric) < 0)
		bad = -1;
	else if (!metric_name_ok(m->metric))
		bad = err_at(l, x, "analysis.latency.metric '%s' is not a Prometheus metric name", m->metric);
	if ((x = ynode_get(n, "quantile")) &&
	    (get_ratio(l, x, "analysis.latency.quantile", 0.01, 0.999, "0.95", &m->quantile) < 0 ||
	     m->quantile <= 0 || m->quantile >= 1))
		bad = -1;
	if ((x = ynode_get(n, "maxRatio")) &&
	    get_ratio(l, x, "analysis.latency.maxRatio", 1, 1000, "2 (times stable's quantile)", &m->max_ratio) < 0)
		bad = -1;
	if ((x = ynode_get(n, "timeout")) && get_dur(l, x, "analysis.latency.timeout", &m->timeout_ms) < 0)
		bad = -1;
	if (m->timeout_ms < 10)
		m->timeout_ms = 10;
	return bad;
}

static int load_analysis(struct ld *l, const struct ynode *n, struct analysis_spec *an)
{
	static const char *const keys[] = { "interval", "errorRate", "latencyRatio", "minLatencyDelta",
		"failureLimit", "minRequests", "latency" };
	if (check_map(l, n, "analysis", keys, ARRAY_SIZE(keys)) < 0)
		return -1;
	int bad = 0;
	const struct ynode *x;
	if ((x = ynode_get(n, "interval")) && get_dur(l, x, "analysis.interval", &an->interval_ms) < 0)
		bad = -1;
	if ((x = ynode_get(n, "errorRate")) && get_percent(l, x, "analysis.errorRate", &an->max_error_rate) < 0)
		bad = -1;
	if ((x = ynode_get(n, "latencyRatio"))) {
		char *end;
		double v = x->kind == YNODE_SCALAR ? strtod(x->str, &end) : -1;
		if (v < 0 || x->kind != YNODE_SCALAR || end == x->str || (*end && strcmp(end, "x")))
			bad = err_at(l, x, "analysis.latencyRatio must be a number like 2 (times the baseline)");
		else
			an->max_latency_ratio = v;
	}
	if ((x = ynode_get(n, "minLatencyDelta")) &&
	    get_dur(l, x, "analysis.minLatencyDelta", &an->min_latency_delta_ms) < 0)
		bad = -1;
	if ((x = ynode_get(n, "failureLimit")) &&
	    get_int(l, x, "analysis.failureLimit", 1, 1000, &an->failure_limit) < 0)
		bad = -1;
	if ((x = ynode_get(n, "minRequests")) &&
	    get_int(l, x, "analysis.minRequests", 1, 1000000, &an->min_requests) < 0)
		bad = -1;
	if ((x = ynode_get(n, "latency")) && load_metrics(l, x, &an->latency) < 0)
		bad = -1;
	if (an->interval_ms < 100)
		an->interval_ms = 100;
	return bad;
}

/* the address goes into the HAProxy config as one word of a bind line: a
 * host name or an IPv4/[IPv6] address (or '*'), nothing HAProxy's parser
 * reads otherwise (quotes, '\', '$', '#', control characters: a quote in
 * one app's file made every reload of HAProxy fail) */
static int listen_addr_ok(const char *s)
{
	if (!*s || *s == '-' || strlen(s) > 255)
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".:[]-_*", *p))
			return 0;
	return 1;
}

static int load_listen(struct ld *l, const struct ynode *n, struct app *a)
{
	if (n->kind == YNODE_SCALAR && n->len) {
		const char *colon = strrchr(n->str, ':');
		const char *port = colon ? colon + 1 : n->str;
		char *end;
		long p = strtol(port, &end, 10);
		if (*port && !*end && p > 0 && p < 65536) {
			a->listen_addr = colon ? xstrndup(n->str, (size_t)(colon - n->str)) : xstrdup("127.0.0.1");
			if (!listen_addr_ok(a->listen_addr)) {
				free(a->listen_addr);
				a->listen_addr = NULL;
			} else {
				a->listen_port = (int)p;
				return 0;
			}
		}
	}
	return err_at(l, n, "listen must be ADDRESS:PORT or PORT, like 127.0.0.1:8080");
}

static int load_env(struct ld *l, const struct ynode *n, struct app *a)
{
	if (n->kind != YNODE_MAP)
		return err_at(l, n, "env must be a mapping of NAME: value");
	int bad = 0;
	for (size_t i = 0; i < ynode_map_size(n); i++) {
		const struct ynode *k = ynode_map_key(n, i), *v = ynode_map_val(n, i);
		const char *p = k->kind == YNODE_SCALAR ? k->str : "";
		int ok = *p && !isdigit((unsigned char)*p);
		for (; *p; p++)
			ok = ok && (isalnum((unsigned char)*p) || *p == '_');
		if (!ok)
			bad = err_at(l, k, "env: '%s' is not a valid variable name", k->str ? k->str : "");
		else if (v->kind != YNODE_SCALAR)
			bad = err_at(l, v, "env: value of '%s' must be a string", k->str);
		else
			strvec_setenv(&a->env, k->str, v->str ? v->str : "");
	}
	return bad;
}

static int load_hooks(struct ld *l, const struct ynode *n, struct app *a)
{
	static const char *const keys[] = { "pre", "post" };
	if (check_map(l, n, "hooks", keys, ARRAY_SIZE(keys)) < 0)
		return -1;
	int bad = 0;
	const struct ynode *x;
	if ((x = ynode_get(n, "pre")) && get_strlist(l, x, "hooks.pre", &a->pre_hooks) < 0)
		bad = -1;
	if ((x = ynode_get(n, "post")) && get_strlist(l, x, "hooks.post", &a->post_hooks) < 0)
		bad = -1;
	return bad;
}

static int load_notify(struct ld *l, const struct ynode *n, struct app *a)
{
	static const char *const keys[] = { "webhooks" };
	if (check_map(l, n, "notifications", keys, ARRAY_SIZE(keys)) < 0)
		return -1;
	const struct ynode *x = ynode_get(n, "webhooks");
	if (!x)
		return 0;
	if (get_strlist(l, x, "notifications.webhooks", &a->webhooks) < 0)
		return -1;
	for (size_t i = 0; i < a->webhooks.nr; i++)
		if (!str_starts_with(a->webhooks.v[i], "http://") && !str_starts_with(a->webhooks.v[i], "https://"))
			return err_at(l, x, "notifications.webhooks: '%s' is not an http(s) URL", a->webhooks.v[i]);
	return 0;
}

static void set_defaults(struct app *a)
{
	a->instances = 1;
	a->health.kind = PROBE_TCP;
	a->health.interval_ms = 1000;
	a->health.timeout_ms = 1000;
	a->health.failure_threshold = 3;
	a->health.success_threshold = 1;
	for (int k = 0; k < 3; k++)
		a->alt[k].kind = (enum strategy_kind)k;
	a->alt[STRAT_ROLLING].max_surge = 1;
	a->alt[STRAT_BLUEGREEN].auto_promote = 1;
	a->alt[STRAT_BLUEGREEN].scale_down_delay_ms = 30000;
	a->strategy.kind = STRAT_ROLLING;
	a->analysis.interval_ms = 1000;
	a->analysis.max_error_rate = 0.05;
	a->analysis.max_latency_ratio = 2;
	a->analysis.min_latency_delta_ms = 5;
	a->analysis.failure_limit = 1;
	a->analysis.min_requests = 20;
	a->analysis.latency.path = xstrdup("/metrics");
	a->analysis.latency.quantile = 0.95;
	a->analysis.latency.max_ratio = 2;
	a->analysis.latency.timeout_ms = 1000;
	a->progress_deadline_ms = 120000;
	a->drain_timeout_ms = 10000;
	a->stop_timeout_ms = 5000;
	a->ctr.port = 8080;
}

static void default_steps(struct strategy_spec *s)
{
	static const struct canary_step def[] = {
		{ STEP_WEIGHT, 10, 0, 0 }, { STEP_ANALYSIS, 0, 0, 1 },
		{ STEP_WEIGHT, 50, 0, 0 }, { STEP_ANALYSIS, 0, 0, 1 },
	};
	if (s->nsteps)
		return;
	s->steps = xcalloc(ARRAY_SIZE(def), sizeof(*s->steps));
	memcpy(s->steps, def, sizeof(def));
	s->nsteps = ARRAY_SIZE(def);
}

/* a repository reference as podman takes it, without tag or digest:
 * lowercase [a-z0-9._/-] components, the first may be host[:port] */
static int image_ref_ok(const char *s, struct buf *why)
{
	const char *slash = strrchr(s, '/');
	const char *last = slash ? slash + 1 : s;
	if (!*s || *s == '/' || *s == '-' || *s == '.' || strlen(s) > 255) {
		buf_addstr(why, "is not an image repository like registry.example.com/team/app");
		return -1;
	}
	if (strchr(last, ':') || strchr(s, '@')) {
		buf_addstr(why, "must not carry a tag or digest: the release's version is the tag");
		return -1;
	}
	for (const char *p = s; *p; p++) {
		int host = slash && p < strchr(s, '/');
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || strchr("._-/", *p) ||
		      (host && (*p == ':' || isupper((unsigned char)*p))))) {
			buf_addf(why, "has '%c': only lowercase letters, digits, '.', '_', '-' and '/'", *p);
			return -1;
		}
	}
	return 0;
}

char *deploy_image_split(const char *ref, char **release)
{
	const char *at = strchr(ref, '@');
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');
	const char *cut = at ? at : colon;
	*release = cut ? xstrdup(cut + 1) : NULL;
	return cut ? xstrndup(ref, (size_t)(cut - ref)) : xstrdup(ref);
}

/* a config repository's release: what `version:`, image.tag or the
 * image's own :TAG / @sha256:DIGEST says (only one of them) */
static int set_release(struct ld *l, const struct ynode *n, const char *what, const char *v, int digest,
		       struct app *a)
{
	l->bad_release = 1; /* until it is set */
	if (a->git.version)
		return err_at(l, n, "the release is given twice: use one of version, image.tag or the image's "
			      ":tag / @digest");
	if (deploy_digest_ok(v))
		;
	else if (digest || str_starts_with(v, "sha256:"))
		return err_at(l, n, "%s must be an image digest: sha256: and 64 lowercase hex digits", what);
	else if (!deploy_name_ok(v))
		return err_at(l, n, "%s must be a version (letters, digits, '.', '_', '-') or an image digest "
			      "(sha256:...)", what);
	a->git.version = xstrdup(v);
	a->git.version_line = n->line;
	a->git.version_col = n->col;
	l->bad_release = 0;
	return 0;
}

/* image: REF, or {repository: REF, tag: T} as in a Helm values file; in a
 * config repository REF may carry the release (REF:TAG, REF@sha256:...) */
static int load_image(struct ld *l, const struct ynode *n, struct app *a)
{
	static const char *const keys[] = { "repository", "tag" };
	const struct ynode *ref = n, *tag = NULL;
	if (n->kind == YNODE_MAP) {
		if (check_map(l, n, "image", keys, ARRAY_SIZE(keys)) < 0)
			return -1;
		if (!(ref = ynode_get(n, "repository")))
			return err_at(l, n, "image needs a repository");
		tag = ynode_get(n, "tag");
	}
	if (get_str(l, ref, "image", &a->ctr.image) < 0)
		return -1;
	char *rel = NULL;
	if (l->gitops && ref == n) {
		char *repo = deploy_image_split(a->ctr.image, &rel);
		free(a->ctr.image);
		a->ctr.image = repo;
		a->git.image_ref = rel != NULL;
	}
	struct buf why = BUF_INIT;
	int r = 0;
	if (image_ref_ok(a->ctr.image, &why) < 0)
		r = err_at(l, ref, "image '%s' %s", a->ctr.image, why.buf);
	buf_release(&why);
	if (rel && !r) {
		int at = strchr(ref->str, '@') != NULL;
		r = set_release(l, ref, at ? "the image's @digest" : "the image's :tag", rel, at, a);
	}
	free(rel);
	if (tag && !r) {
		if (!l->gitops)
			return err_at(l, tag, "image.tag is the desired release of a config repository file; "
				      "here the version is given to 'kiln deploy'");
		if (tag->kind != YNODE_SCALAR)
			return err_at(l, tag, "image.tag must be a version or an image digest");
		return set_release(l, tag, "image.tag", tag->str, 0, a);
	}
	return r;
}

static int load_volumes(struct ld *l, const struct ynode *n, struct app *a)
{
	struct strvec v = STRVEC_INIT;
	if (get_strlist(l, n, "volumes", &v) < 0)
		return -1;
	int bad = 0;
	for (size_t i = 0; i < v.nr; i++) {
		const char *e = v.v[i], *colon = strchr(e, ':');
		const char *opt = colon ? strchr(colon + 1, ':') : NULL;
		if (!colon || colon == e || colon[1] != '/' || (opt && strcmp(opt, ":ro") && strcmp(opt, ":rw"))) {
			bad = err_at(l, n, "volumes: '%s' must be SOURCE:/container/path[:ro|:rw]", e);
			continue;
		}
		/* a path (absolute, or relative to the repository) or a named volume */
		if (e[0] == '.' )
			strvec_push_nodup(&a->ctr.volumes, xstrfmt("%s/%s", a->root, e));
		else
			strvec_push(&a->ctr.volumes, e);
	}
	strvec_clear(&v);
	return bad;
}

static int load_resources(struct ld *l, const struct ynode *n, struct app *a)
{
	static const char *const keys[] = { "memory", "cpus", "pids" };
	if (check_map(l, n, "resources", keys, ARRAY_SIZE(keys)) < 0)
		return -1;
	int bad = 0;
	const struct ynode *x;
	if ((x = ynode_get(n, "memory"))) {
		char *end = NULL;
		double v = x->kind == YNODE_SCALAR ? strtod(x->str, &end) : -1;
		if (v <= 0 || !end || (*end && (strchr("bkmgBKMG", *end) == NULL || end[1])))
			bad = err_at(l, x, "resources.memory must be a size like 256m or 1g");
		else
			get_str(l, x, "resources.memory", &a->ctr.memory);
	}
	if ((x = ynode_get(n, "cpus"))) {
		char *end = NULL;
		double v = x->kind == YNODE_SCALAR ? strtod(x->str, &end) : -1;
		if (v <= 0 || v > 1024 || !end || *end)
			bad = err_at(l, x, "resources.cpus must be a number of CPUs like 0.5 or 2");
		else
			get_str(l, x, "resources.cpus", &a->ctr.cpus);
	}
	if ((x = ynode_get(n, "pids")) && get_int(l, x, "resources.pids", 1, 1 << 20, &a->ctr.pids) < 0)
		bad = -1;
	return bad;
}

/* version, wave, automated: what a config repository file adds */
static int load_gitops(struct ld *l, const struct ynode *root, struct app *a)
{
	int bad = 0;
	const struct ynode *x;
	if ((x = ynode_get(root, "version"))) {
		if (x->kind != YNODE_SCALAR)
			bad = err_at(l, x, "version must be a release name (letters, digits, '.', '_', '-')");
		else if (set_release(l, x, "version", x->str, 0, a) < 0)
			bad = -1;
		else if (deploy_digest_ok(x->str) && !a->ctr.image)
			bad = err_at(l, x, "a digest is the release of an image: this app has no 'image:'");
	}
	if ((x = ynode_get(root, "wave")) && get_int(l, x, "wave", -1000, 1000, &a->git.wave) < 0)
		bad = -1;
	if ((x = ynode_get(root, "automated"))) {
		static const char *const keys[] = { "prune", "selfHeal" };
		a->git.automated = 1;
		if (ynode_is_null(x))
			;
		else if (check_map(l, x, "automated", keys, ARRAY_SIZE(keys)) < 0)
			bad = -1;
		else {
			const struct ynode *y;
			if ((y = ynode_get(x, "prune")) && get_bool(l, y, "automated.prune", &a->git.prune) < 0)
				bad = -1;
			if ((y = ynode_get(x, "selfHeal")) && get_bool(l, y, "automated.selfHeal", &a->git.self_heal) < 0)
				bad = -1;
		}
	}
	if (!bad && !a->git.version && !l->bad_release)
		bad = err_at(l, root, "app '%s' gives no release: add 'version:' (or image.tag, or the image's "
			     ":tag / @sha256:digest)", a->name);
	return bad;
}

static int load_top(struct ld *l, const struct ynode *root, struct app *a)
{
	static const char *const keys[] = { "command", "env", "dir", "instances", "listen", "health",
		"strategy", "analysis", "hooks", "notifications", "progressDeadline", "drainTimeout",
		"stopTimeout", "image", "port", "volumes", "resources" };
	static const char *const gkeys[] = { "command", "env", "dir", "instances", "listen", "health",
		"strategy", "analysis", "hooks", "notifications", "progressDeadline", "drainTimeout",
		"stopTimeout", "image", "port", "volumes", "resources", "version", "wave", "automated" };
	if (!root)
		return diag_err(l->d, l->file, 1, 1, "empty app definition");
	int bad = l->gitops ? check_map(l, root, "the app definition", gkeys, ARRAY_SIZE(gkeys))
			    : check_map(l, root, "the app definition", keys, ARRAY_SIZE(keys));
	if (root->kind != YNODE_MAP)
		return -1;
	const struct ynode *x;
	if ((x = ynode_get(root, "image")) && load_image(l, x, a) < 0)
		bad = -1;
	if (!(x = ynode_get(root, "command"))) {
		if (!ynode_get(root, "image"))
			bad = err_at(l, root, "app '%s' has no command (or image)", a->name);
	} else if (get_argv(l, x, "command", &a->command) < 0)
		bad = -1;
	static const char *const ckeys[] = { "port", "volumes", "resources" };
	for (size_t i = 0; i < ARRAY_SIZE(ckeys); i++)
		if ((x = ynode_get(root, ckeys[i])) && !ynode_get(root, "image"))
			bad = err_at(l, x, "'%s' applies to container apps only (add image:)", ckeys[i]);
	if ((x = ynode_get(root, "dir")) && ynode_get(root, "image"))
		bad = err_at(l, x, "'dir' applies to process apps only (an image app runs in its container)");
	if ((x = ynode_get(root, "port")) && get_int(l, x, "port", 1, 65535, &a->ctr.port) < 0)
		bad = -1;
	if ((x = ynode_get(root, "volumes")) && load_volumes(l, x, a) < 0)
		bad = -1;
	if ((x = ynode_get(root, "resources")) && load_resources(l, x, a) < 0)
		bad = -1;
	if (l->gitops && load_gitops(l, root, a) < 0)
		bad = -1;
	if ((x = ynode_get(root, "env")) && load_env(l, x, a) < 0)
		bad = -1;
	if ((x = ynode_get(root, "dir")) && get_str(l, x, "dir", &a->dir) < 0)
		bad = -1;
	if ((x = ynode_get(root, "instances")) && get_int(l, x, "instances", 1, 32, &a->instances) < 0)
		bad = -1;
	if (!(x = ynode_get(root, "listen")))
		bad = err_at(l, root, "app '%s' has no listen address", a->name);
	else if (load_listen(l, x, a) < 0)
		bad = -1;
	if ((x = ynode_get(root, "health")) && load_probe(l, x, &a->health) < 0)
		bad = -1;
	if ((x = ynode_get(root, "strategy")) && load_strategy(l, x, a) < 0)
		bad = -1;
	if ((x = ynode_get(root, "analysis")) && load_analysis(l, x, &a->analysis) < 0)
		bad = -1;
	if ((x = ynode_get(root, "hooks")) && load_hooks(l, x, a) < 0)
		bad = -1;
	if ((x = ynode_get(root, "notifications")) && load_notify(l, x, a) < 0)
		bad = -1;
	if ((x = ynode_get(root, "progressDeadline")) &&
	    get_dur(l, x, "progressDeadline", &a->progress_deadline_ms) < 0)
		bad = -1;
	if ((x = ynode_get(root, "drainTimeout")) && get_dur(l, x, "drainTimeout", &a->drain_timeout_ms) < 0)
		bad = -1;
	if ((x = ynode_get(root, "stopTimeout")) && get_dur(l, x, "stopTimeout", &a->stop_timeout_ms) < 0)
		bad = -1;
	const struct strategy_spec *rs = &a->alt[STRAT_ROLLING];
	if (!bad && (rs->max_surge > a->instances || rs->max_unavailable > a->instances))
		bad = err_at(l, ynode_get(root, "strategy") ? ynode_get(root, "strategy") : root,
			     "rolling: maxSurge and maxUnavailable may not exceed instances (%d)", a->instances);
	return bad;
}

static struct app *load_text(struct ld *l0, const char *text, size_t len, const char *name,
			     const char *root)
{
	struct ld l = *l0;
	const char *file = l.file;
	struct diags *d = l.d;
	if (!deploy_name_ok(name)) {
		diag_err(d, file, 0, 0, "'%s' is not a valid app name (letters, digits, '.', '_', '-')", name);
		return NULL;
	}
	struct ynode *yroot = NULL;
	if (yaml_load(file, text, len, &yroot, d) < 0)
		return NULL;
	int r;
	struct app *a = xcalloc(1, sizeof(*a));
	a->name = xstrdup(name);
	a->file = xstrdup(file);
	a->root = xstrdup(root);
	set_defaults(a);
	r = check_dup_keys(&l, yroot) ? -1 : 0;
	if (load_top(&l, yroot, a) < 0)
		r = -1;
	ynode_free(yroot);
	if (r < 0) {
		app_free(a);
		return NULL;
	}
	default_steps(&a->alt[STRAT_CANARY]);
	a->strategy = a->alt[a->strategy.kind];
	return a;
}

struct app *app_load(const char *file, const char *name, const char *root, struct diags *d)
{
	struct ld l = { file, d, 0, 0 };
	struct buf b = BUF_INIT, why = BUF_INIT;
	if (fs_read_input(file, FS_INPUT_MAX, &b, &why) < 0) {
		diag_err(d, file, 0, 0, "cannot read app definition: %s", why.buf);
		buf_release(&why);
		buf_release(&b);
		return NULL;
	}
	struct app *a = load_text(&l, b.buf, b.len, name, root);
	buf_release(&b);
	return a;
}

struct app *app_load_gitops(const char *display, const char *text, size_t len, const char *name,
			    const char *root, struct diags *d)
{
	struct ld l = { display, d, 1, 0 };
	return load_text(&l, text, len, name, root);
}

struct app *app_load_named(const char *appsdir, const char *name, struct diags *d)
{
	char *file = xstrfmt("%s/%s.yml", appsdir, name);
	/* existence only: app_load checks the type (fopen would wait on a FIFO) */
	int found = access(file, F_OK) == 0;
	if (!found) {
		char *alt = xstrfmt("%s/%s.yaml", appsdir, name);
		if ((found = access(alt, F_OK) == 0)) {
			free(file);
			file = alt;
		} else
			free(alt);
	}
	if (!found) {
		diag_err(d, file, 0, 0, "no such app '%s' (no %s)", name, file);
		free(file);
		return NULL;
	}
	char *root = xstrfmt("%s/../..", appsdir);
	char *real = realpath(root, NULL);
	struct app *a = app_load(file, name, real ? real : root, d);
	free(real);
	free(root);
	free(file);
	return a;
}

static void strategy_release(struct strategy_spec *s)
{
	free(s->steps);
	s->steps = NULL;
	s->nsteps = 0;
}

void app_free(struct app *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->file);
	free(a->root);
	strvec_clear(&a->command);
	strvec_clear(&a->env);
	free(a->dir);
	free(a->listen_addr);
	free(a->health.path);
	strvec_clear(&a->health.command);
	free(a->analysis.latency.path);
	free(a->analysis.latency.metric);
	for (int k = 0; k < 3; k++)
		strategy_release(&a->alt[k]);
	strvec_clear(&a->pre_hooks);
	strvec_clear(&a->post_hooks);
	strvec_clear(&a->webhooks);
	free(a->ctr.image);
	strvec_clear(&a->ctr.volumes);
	free(a->ctr.memory);
	free(a->ctr.cpus);
	free(a->git.version);
	free(a);
}

const struct strategy_spec *app_strategy(const struct app *a, enum strategy_kind kind)
{
	return kind < STRAT_NONE ? &a->alt[kind] : &a->strategy;
}

const char *strategy_name(enum strategy_kind k)
{
	switch (k) {
	case STRAT_ROLLING: return "rolling";
	case STRAT_BLUEGREEN: return "blueGreen";
	case STRAT_CANARY: return "canary";
	case STRAT_NONE: break;
	}
	return "none";
}

enum strategy_kind strategy_parse(const char *s)
{
	if (!strcmp(s, "rolling"))
		return STRAT_ROLLING;
	if (!strcmp(s, "blueGreen") || !strcmp(s, "blue-green") || !strcmp(s, "bluegreen"))
		return STRAT_BLUEGREEN;
	if (!strcmp(s, "canary"))
		return STRAT_CANARY;
	return STRAT_NONE;
}

const char *probe_kind_name(enum probe_kind k)
{
	switch (k) {
	case PROBE_HTTP: return "http";
	case PROBE_TCP: return "tcp";
	case PROBE_EXEC: return "exec";
	}
	return "?";
}

void app_describe_plan(const struct app *a, const struct strategy_spec *s, const char *version,
		       struct buf *out)
{
	const struct probe_spec *p = &a->health;
	buf_addf(out, "app %s: deploy %s with %s, %d instance(s), frontend %s:%d\n", a->name, version,
		 strategy_name(s->kind), a->instances, a->listen_addr, a->listen_port);
	if (a->ctr.image) {
		buf_addstr(out, "instances: podman containers of ");
		deploy_image_ref(a->ctr.image, version, out);
		buf_addf(out, ", container port %d published on each slot's\n", a->ctr.port);
	}
	buf_addf(out, "health: %s", probe_kind_name(p->kind));
	if (p->kind == PROBE_HTTP)
		buf_addf(out, " GET %s expect %d", p->path ? p->path : "/", p->status ? p->status : 200);
	buf_addf(out, ", every %s, timeout %s, %d success(es) to become ready, %d failure(s) to leave\n",
		 duration_str(p->interval_ms).s, duration_str(p->timeout_ms).s, p->success_threshold,
		 p->failure_threshold);
	for (size_t i = 0; i < a->pre_hooks.nr; i++)
		buf_addf(out, "pre hook: %s\n", a->pre_hooks.v[i]);
	int step = 1;
	switch (s->kind) {
	case STRAT_ROLLING:
		buf_addf(out, "%d. rolling: maxSurge %d, maxUnavailable %d; start new, wait healthy, "
			      "drain old (timeout %s), stop old, repeat\n",
			 step++, s->max_surge, s->max_unavailable, duration_str(a->drain_timeout_ms).s);
		break;
	case STRAT_BLUEGREEN:
		buf_addf(out, "%d. start %d new instance(s) (weight 0, maint) and wait until healthy\n", step++,
			 a->instances);
		if (!s->auto_promote)
			buf_addf(out, "%d. pause until 'kiln promote %s'\n", step++, a->name);
		buf_addf(out, "%d. switch: new weight 100 ready, old drain (100%% to %s)\n", step++, version);
		buf_addf(out, "%d. keep old for %s, then stop it\n", step++, duration_str(s->scale_down_delay_ms).s);
		break;
	case STRAT_CANARY:
		buf_addf(out, "%d. start %d canary instance(s) and wait until healthy\n", step++, a->instances);
		for (size_t i = 0; i < s->nsteps; i++) {
			const struct canary_step *c = &s->steps[i];
			if (c->kind == STEP_WEIGHT)
				buf_addf(out, "%d. setWeight %d: canary %d%%, stable %d%%\n", step++, c->weight,
					 c->weight, 100 - c->weight);
			else if (c->kind == STEP_PAUSE && c->duration_ms < 0)
				buf_addf(out, "%d. pause until 'kiln promote %s'\n", step++, a->name);
			else if (c->kind == STEP_PAUSE)
				buf_addf(out, "%d. pause %s\n", step++, duration_str(c->duration_ms).s);
			else
				buf_addf(out, "%d. analysis: wait for %d passing interval(s)\n", step++, c->intervals);
		}
		buf_addf(out, "%d. promote: canary 100%%, stop stable\n", step++);
		break;
	case STRAT_NONE:
		break;
	}
	if (s->kind == STRAT_CANARY || s->kind == STRAT_BLUEGREEN) {
		const struct analysis_spec *an = &a->analysis;
		buf_addf(out, "analysis: every %s, rollback when error rate > %.1f%%", duration_str(an->interval_ms).s,
			 an->max_error_rate * 100);
		if (an->max_latency_ratio > 0)
			buf_addf(out, " or latency > %.1fx stable", an->max_latency_ratio);
		if (an->latency.enabled)
			buf_addf(out, " or p%g of %s (from %s) > %.1fx stable's", an->latency.quantile * 100,
				 an->latency.metric, an->latency.path, an->latency.max_ratio);
		buf_addf(out, " in %d interval(s) (minimum %d requests)\n", an->failure_limit, an->min_requests);
	}
	for (size_t i = 0; i < a->post_hooks.nr; i++)
		buf_addf(out, "post hook: %s\n", a->post_hooks.v[i]);
	buf_addf(out, "progress deadline: %s\n", duration_str(a->progress_deadline_ms).s);
}
