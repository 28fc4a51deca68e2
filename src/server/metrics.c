/*
 * metrics: GET /metrics in the Prometheus text exposition format (0.0.4):
 * webhook deliveries by forge and result, events by status (queue depth),
 * runs and jobs by conclusion, finished jobs' durations as a histogram,
 * HTTP connections. Counts of runs and jobs come from the store (the whole
 * history, so they survive restarts); webhook counters are this process's.
 * Viewer role: the figures name no secret but are not public.
 */
#include "base/kiln.h"
#include "server/dora.h"
#include "server/hook.h"
#include "server/queue.h"
#include "server/srv.h"
#include "store/runs.h"
#include "store/stats.h"

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void labelled(struct buf *b, const char *name, const char *label, const struct stat_count *v,
		     size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s{%s=\"%s\"} %lld\n", name, label, v[i].label, (long long)v[i].n);
}

static int render(struct srv *s, struct buf *b, struct buf *err)
{
	struct stat_count *v = NULL;
	size_t n = 0;
	head(b, "kiln_webhooks_total", "counter", "webhook deliveries since the server started, by forge and result");
	for (int f = 0; f < 3; f++)
		for (int r = 0; r < HOOK_NRESULTS; r++)
			buf_addf(b, "kiln_webhooks_total{forge=\"%s\",result=\"%s\"} %llu\n",
				 forge_name((enum forge)f), hook_result_name((enum hook_result)r),
				 (unsigned long long)s->hooks[f][r]);

	if (stats_events_by_status(s->db, &v, &n, err))
		return -1;
	head(b, "kiln_events", "gauge", "accepted events by status (queued is the queue depth)");
	const char *statuses[] = { "queued", "running", "success", "failure", "cancelled", "ignored" };
	for (size_t i = 0; i < ARRAY_SIZE(statuses); i++) {
		int64_t c = 0;
		for (size_t k = 0; k < n; k++)
			if (!strcmp(v[k].label, statuses[i]))
				c = v[k].n;
		buf_addf(b, "kiln_events{status=\"%s\"} %lld\n", statuses[i], (long long)c);
	}
	int64_t queued = 0;
	for (size_t k = 0; k < n; k++)
		if (!strcmp(v[k].label, "queued"))
			queued = v[k].n;
	free(v);
	head(b, "kiln_queue_depth", "gauge", "events waiting for a run");
	buf_addf(b, "kiln_queue_depth %lld\n", (long long)queued);
	head(b, "kiln_queue_running", "gauge", "events being run now");
	buf_addf(b, "kiln_queue_running %u\n", queue_running(s->queue));

	const char *what[] = { "runs", "jobs" };
	for (size_t w = 0; w < 2; w++) {
		char name[64], help[96];
		if (stats_by_conclusion(s->db, what[w], &v, &n, err))
			return -1;
		snprintf(name, sizeof(name), "kiln_%s_total", what[w]);
		snprintf(help, sizeof(help), "finished workflow %s in the history, by conclusion",
			 what[w]);
		head(b, name, "counter", help);
		labelled(b, name, "conclusion", v, n);
		free(v);
	}

	static const int64_t bounds[] = { 1000, 5000, 10000, 30000, 60000, 300000, 600000,
					  1800000, 3600000 };
	int64_t counts[ARRAY_SIZE(bounds)], count, sum;
	if (stats_job_durations(s->db, bounds, ARRAY_SIZE(bounds), counts, &count, &sum, err))
		return -1;
	head(b, "kiln_job_duration_seconds", "histogram", "durations of finished jobs");
	for (size_t i = 0; i < ARRAY_SIZE(bounds); i++)
		buf_addf(b, "kiln_job_duration_seconds_bucket{le=\"%g\"} %lld\n", bounds[i] / 1000.0,
			 (long long)counts[i]);
	buf_addf(b, "kiln_job_duration_seconds_bucket{le=\"+Inf\"} %lld\n", (long long)count);
	buf_addf(b, "kiln_job_duration_seconds_sum %.3f\n", sum / 1000.0);
	buf_addf(b, "kiln_job_duration_seconds_count %lld\n", (long long)count);

	/* deployments and the four keys (server/dora.c) */
	if (dora_metrics(s->db, runs_now_ms(), b, err) < 0)
		return -1;

	head(b, "kiln_http_connections", "gauge", "open HTTP connections");
	buf_addf(b, "kiln_http_connections %zu\n", http_connections(s->http));
	head(b, "kiln_start_time_seconds", "gauge", "when the server started (unix time)");
	buf_addf(b, "kiln_start_time_seconds %.3f\n", s->started_ms / 1000.0);
	return 0;
}

static void on_metrics(struct srv *s, struct http_req *q)
{
	struct buf b = BUF_INIT, err = BUF_INIT;
	if (render(s, &b, &err))
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	else
		http_reply_raw(q, 200, "text/plain; version=0.0.4; charset=utf-8", b.buf, b.len);
	buf_release(&b);
	buf_release(&err);
}

void metrics_register(struct srv *s)
{
	http_route(s, "GET", "/metrics", ROLE_VIEWER, on_metrics);
}
