/* logstream: live job logs over SSE, one tailer per job (see logstream.h). */
#include "base/kiln.h"
#include "server/logstream.h"
#include "server/srv.h"
#include "store/jobref.h"
#include "store/runs.h"
#include "store/runview.h"

struct follower {
	struct tailer *t;
	struct http_stream *st;
	struct follower *prev, *next;
};

struct tailer {
	struct logstreams *ls;
	uv_timer_t timer;
	int64_t job_id, run_id;
	char job[256];
	struct buf lines;      /* every complete line so far, each ending in '\n' */
	size_t *ends;          /* ends[i]: offset in lines just past line i + 1 */
	size_t nlines, alloc;
	size_t offset;         /* bytes of the stored log consumed */
	int ended;
	char conclusion[32];
	struct follower *followers;
	size_t nfollowers;
	struct tailer *prev, *next;
};

struct logstreams {
	struct srv *s;
	struct tailer *tailers;
};

struct logstreams *logstreams_new(struct srv *s)
{
	struct logstreams *ls = xcalloc(1, sizeof(*ls));
	ls->s = s;
	return ls;
}

static void tailer_closed(uv_handle_t *h)
{
	struct tailer *t = h->data;
	buf_release(&t->lines);
	free(t->ends);
	free(t);
}

static void tailer_free(struct tailer *t)
{
	struct logstreams *ls = t->ls;
	if (t->prev)
		t->prev->next = t->next;
	else
		ls->tailers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	uv_timer_stop(&t->timer);
	uv_close((uv_handle_t *)&t->timer, tailer_closed);
}

static void unlink_follower(struct follower *f)
{
	struct tailer *t = f->t;
	if (f->prev)
		f->prev->next = f->next;
	else
		t->followers = f->next;
	if (f->next)
		f->next->prev = f->prev;
	t->nfollowers--;
}

/* the client left or was too slow */
static void follower_closed(void *arg)
{
	struct follower *f = arg;
	struct tailer *t = f->t;
	unlink_follower(f);
	free(f);
	if (!t->nfollowers)
		tailer_free(t);
}

/* SSE events for lines [from, to) (0-based) into out */
static void format_lines(const struct tailer *t, size_t from, size_t to, struct buf *out)
{
	for (size_t i = from; i < to; i++) {
		size_t start = i ? t->ends[i - 1] : 0, end = t->ends[i] - 1;
		buf_addf(out, "id: %zu\ndata: ", i + 1);
		buf_add(out, t->lines.buf + start, end - start);
		buf_addstr(out, "\n\n");
	}
}

static void end_event(const struct tailer *t, struct buf *out)
{
	buf_addf(out, "event: end\ndata: %s\n\n", t->conclusion);
}

static void add_line(struct tailer *t, const char *s, size_t n)
{
	/* an SSE data line ends at CR or LF: a CR inside a log line is dropped */
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\r')
			buf_addch(&t->lines, s[i]);
	buf_addch(&t->lines, '\n');
	ALLOC_GROW(t->ends, t->nlines + 1, t->alloc);
	t->ends[t->nlines++] = t->lines.len;
}

/* read what the store has; 1 when something changed (lines or the end) */
static int poll_store(struct tailer *t)
{
	struct srv *s = t->ls->s;
	struct runview_job j;
	struct buf log = BUF_INIT, err = BUF_INIT;
	int changed = 0;
	/* the job's state first: a line written just before it ended is in the
	 * log read after */
	int jr = runview_job(s->db, t->run_id, t->job_id, &j, &err);
	int ended = jr == KILN_ENOENT || (jr == 0 && (*j.conclusion || !strcmp(j.status, "completed")));
	if (jr < 0 || runs_read_logs(s->db, t->run_id, t->job, &log, &err) < 0)
		goto out; /* a busy store: next tick */
	size_t start = t->offset;
	for (size_t i = t->offset; i < log.len; i++) {
		if (log.buf[i] != '\n')
			continue;
		add_line(t, log.buf + start, i - start);
		start = i + 1;
		changed = 1;
	}
	if (ended && start < log.len) {
		add_line(t, log.buf + start, log.len - start);
		start = log.len;
		changed = 1;
	}
	t->offset = start;
	if (ended) {
		snprintf(t->conclusion, sizeof(t->conclusion), "%s",
			 jr == KILN_ENOENT ? "gone" : *j.conclusion ? j.conclusion : j.status);
		t->ended = 1;
		changed = 1;
	}
out:
	buf_release(&log);
	buf_release(&err);
	return changed;
}

static void tick(uv_timer_t *timer)
{
	struct tailer *t = timer->data;
	size_t before = t->nlines;
	if (!poll_store(t))
		return;
	struct buf out = BUF_INIT;
	format_lines(t, before, t->nlines, &out);
	if (t->ended)
		end_event(t, &out);
	/* a write may drop a slow follower (follower_closed unlinks it, and
	 * frees the tailer with the last one): walk with care */
	struct follower *f = t->followers;
	int last_gone = 0;
	while (f && !last_gone) {
		struct follower *next = f->next;
		if (out.len && http_stream_write(f->st, out.buf, out.len) < 0) {
			/* dropped: follower_closed ran now (or runs when h2o takes
			 * the last chunk); t stays valid until its close callback */
			last_gone = !t->nfollowers;
		} else if (t->ended) {
			unlink_follower(f);
			http_stream_end(f->st); /* its closed callback is not called */
			free(f);
			last_gone = !t->nfollowers;
			if (last_gone)
				tailer_free(t);
		}
		f = next;
	}
	if (!last_gone && t->ended && !t->nfollowers)
		tailer_free(t);
	buf_release(&out);
}

static struct tailer *tailer_get(struct logstreams *ls, int64_t run_id, int64_t job_id,
				 const char *name)
{
	for (struct tailer *t = ls->tailers; t; t = t->next)
		if (t->job_id == job_id)
			return t;
	struct tailer *t = xcalloc(1, sizeof(*t));
	t->ls = ls;
	t->job_id = job_id;
	t->run_id = run_id;
	snprintf(t->job, sizeof(t->job), "%s", name);
	buf_init(&t->lines, 0);
	uv_timer_init(ls->s->loop, &t->timer);
	t->timer.data = t;
	t->next = ls->tailers;
	if (ls->tailers)
		ls->tailers->prev = t;
	ls->tailers = t;
	poll_store(t);
	uv_timer_start(&t->timer, tick, LOGSTREAM_TICK_MS, LOGSTREAM_TICK_MS);
	return t;
}

static void on_stream(struct srv *s, struct http_req *q)
{
	struct logstreams *ls = s->logstreams;
	int64_t job_id = strtoll(http_req_param(q, "id"), NULL, 10), run_id = 0;
	struct runview_job j;
	struct buf err = BUF_INIT;
	int rc = job_id > 0 ? jobref_run(s->db, job_id, &run_id, &err) : KILN_ENOENT;
	if (!rc)
		rc = runview_job(s->db, run_id, job_id, &j, &err);
	if (rc) {
		if (rc == KILN_ENOENT)
			http_reply_error(q, 404, "not_found", "no job %s", http_req_param(q, "id"));
		else
			http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		buf_release(&err);
		return;
	}
	buf_release(&err);
	const char *resume = http_req_header(q, "last-event-id");
	if (!resume)
		resume = http_req_query(q, "after");
	long long after = resume ? strtoll(resume, NULL, 10) : 0;
	if (after < 0)
		after = 0;
	struct tailer *t = tailer_get(ls, run_id, job_id, j.name);
	struct follower *f = xcalloc(1, sizeof(*f));
	f->t = t;
	f->next = t->followers;
	if (t->followers)
		t->followers->prev = f;
	t->followers = f;
	t->nfollowers++;
	http_reply_header(q, "X-Accel-Buffering", "no");
	f->st = http_stream_start(q, 200, "text/event-stream; charset=utf-8",
				  LOGSTREAM_MAX_BUFFERED, follower_closed, f);
	struct buf out = BUF_INIT;
	buf_addstr(&out, "retry: 1000\n\n");
	format_lines(t, (size_t)after < t->nlines ? (size_t)after : t->nlines, t->nlines, &out);
	if (t->ended)
		end_event(t, &out);
	if (http_stream_write(f->st, out.buf, out.len) == 0 && t->ended) {
		unlink_follower(f);
		http_stream_end(f->st);
		free(f);
		if (!t->nfollowers)
			tailer_free(t);
	}
	buf_release(&out);
}

void logstreams_register(struct srv *s)
{
	http_route(s, "GET", "/api/v1/jobs/:id/logs/stream", ROLE_VIEWER, on_stream);
}

void logstreams_free(struct logstreams *ls)
{
	if (!ls)
		return;
	/* http_shutdown ended the streams already: their closed callbacks
	 * freed the followers, and the tailers with their last one */
	while (ls->tailers) {
		struct tailer *t = ls->tailers;
		while (t->followers) {
			struct follower *f = t->followers;
			unlink_follower(f);
			free(f);
		}
		tailer_free(t);
	}
	free(ls);
}
