/*
 * ui_live: a running job's log, live, as Server-Sent Events for the job
 * page (web/kiln.js appends the lines). Each event is one numbered log
 * line already rendered as HTML (escaped, ANSI colours as classes) with
 * its line number as the event id, so a reconnecting browser's
 * Last-Event-ID resumes after the last line it has: no gap, no duplicate.
 * A timer reads what the store has (kiln run makes its output durable per
 * loop turn, store/runs.h) every LIVE_TICK_MS; when the job has ended the
 * rest is sent, then an `end` event with the job's conclusion.
 */
#include "base/kiln.h"
#include "server/srv.h"
#include "store/runs.h"
#include "store/runview.h"
#include "ui/logview.h"
#include "ui/ui.h"

#define LIVE_TICK_MS 300
#define LIVE_MAX_BUFFERED (1024 * 1024)

struct live {
	uv_timer_t timer;
	struct srv *s;
	struct http_stream *st; /* NULL once the stream is over */
	int64_t run_id, job_id;
	size_t offset;          /* bytes of the log already sent (or skipped) */
	int64_t line;           /* number of the last line sent */
	size_t raw;             /* lines of the text consumed, markers too */
	struct buf href;        /* line links */
};

static void live_free(uv_handle_t *h)
{
	struct live *l = h->data;
	buf_release(&l->href);
	free(l);
}

static void live_stop(struct live *l)
{
	if (!uv_is_closing((uv_handle_t *)&l->timer)) {
		uv_timer_stop(&l->timer);
		uv_close((uv_handle_t *)&l->timer, live_free);
	}
}

/* the client left, or the stream failed (too slow) */
static void live_closed(void *arg)
{
	struct live *l = arg;
	l->st = NULL;
	live_stop(l);
}

static int is_marker(const char *s, size_t n)
{
	return n == 12 && !strncmp(s, "##[endgroup]", 12);
}

/* one line as an SSE event: "id: N\ndata: <div ...>\n\n"; at: its time */
static void event(struct live *l, const char *s, size_t n, int64_t at, struct buf *out)
{
	struct buf html = BUF_INIT;
	logview_line(s, n, ++l->line, at, l->href.buf, &html);
	/* an SSE data line ends at CR or LF: none may be inside */
	for (size_t i = 0; i < html.len; i++)
		if (html.buf[i] == '\r' || html.buf[i] == '\n')
			html.buf[i] = ' ';
	buf_addf(out, "id: %lld\ndata: %s\n\n", (long long)l->line, html.buf);
	buf_release(&html);
}

static void tick(uv_timer_t *t)
{
	struct live *l = t->data;
	struct buf log = BUF_INIT, err = BUF_INIT, out = BUF_INIT;
	struct runs_times times = RUNS_TIMES_INIT;
	struct runview_job j;
	if (!l->st)
		goto done;
	/* the job's state first: a line written just before it ended is in
	 * the log read after */
	int jr = runview_job(l->s->db, l->run_id, l->job_id, &j, &err);
	int ended = jr == 0 && (*j.conclusion || !strcmp(j.status, "completed"));
	if (jr < 0 || runs_read_job_log(l->s->db, l->job_id, &log, &times, &err) < 0)
		goto done; /* a busy store: try at the next tick */
	size_t end = l->offset;
	for (size_t i = l->offset; i < log.len; i++) {
		if (log.buf[i] != '\n')
			continue;
		if (!is_marker(log.buf + end, i - end))
			event(l, log.buf + end, i - end, l->raw < times.nr ? times.at[l->raw] : 0, &out);
		l->raw++;
		end = i + 1;
	}
	if (ended && end < log.len) {
		event(l, log.buf + end, log.len - end, l->raw < times.nr ? times.at[l->raw] : 0, &out);
		l->raw++;
		end = log.len;
	}
	l->offset = end;
	if (ended || jr == KILN_ENOENT)
		buf_addf(&out, "event: end\ndata: %s\n\n",
			 jr == 0 ? (*j.conclusion ? j.conclusion : j.status) : "gone");
	if (out.len && http_stream_write(l->st, out.buf, out.len) < 0)
		goto done; /* dropped: live_closed ran */
	if (ended || jr == KILN_ENOENT) {
		http_stream_end(l->st);
		l->st = NULL;
		live_stop(l);
	}
done:
	runs_times_release(&times);
	buf_release(&log);
	buf_release(&err);
	buf_release(&out);
}

/* GET /runs/:id/jobs/:job/live?after=N (or Last-Event-ID: N) */
static void on_live(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct runview_job j;
	struct buf err = BUF_INIT, log = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_VIEWER))
		goto out;
	int64_t run = strtoll(http_req_param(q, "id"), NULL, 10);
	int64_t job = strtoll(http_req_param(q, "job"), NULL, 10);
	if (run <= 0 || job <= 0 || runview_job(s->db, run, job, &j, &err)) {
		ui_error(&u, 404, "no such job");
		goto out;
	}
	const char *resume = http_req_header(q, "last-event-id");
	if (!resume)
		resume = http_req_query(q, "after");
	long long after = resume ? strtoll(resume, NULL, 10) : 0;
	if (runs_read_job_log(s->db, job, &log, NULL, &err) < 0) {
		ui_error(&u, 503, "the store is unavailable: %s", err.buf);
		goto out;
	}
	struct live *l = xcalloc(1, sizeof(*l));
	l->s = s;
	l->run_id = run;
	l->job_id = job;
	buf_init(&l->href, 0);
	buf_addf(&l->href, "/runs/%lld/jobs/%lld?line=", (long long)run, (long long)job);
	/* skip the lines the page already has (markers are not lines) */
	size_t start = 0;
	for (size_t i = 0; i < log.len && l->line < after; i++)
		if (log.buf[i] == '\n') {
			if (!is_marker(log.buf + start, i - start))
				l->line++;
			l->raw++;
			start = i + 1;
		}
	l->offset = start;
	uv_timer_init(s->loop, &l->timer);
	l->timer.data = l;
	http_reply_header(q, "X-Accel-Buffering", "no");
	ui_security_headers(q);
	l->st = http_stream_start(q, 200, "text/event-stream; charset=utf-8", LIVE_MAX_BUFFERED,
				  live_closed, l);
	if (http_stream_write(l->st, "retry: 1000\n\n", 13) == 0) {
		uv_timer_start(&l->timer, tick, 0, LIVE_TICK_MS);
	}
out:
	ui_close(&u);
	buf_release(&err);
	buf_release(&log);
}

void ui_live_register(struct srv *s)
{
	http_route(s, "GET", "/runs/:id/jobs/:job/live", ROLE_NONE, on_live);
}
