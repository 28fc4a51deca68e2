/*
 * ui_runs: the runs list (filters, paging), a run (job graph, jobs), a job
 * (steps, annotations, its log in pages of LOG_PAGE lines), the raw log,
 * and the job's live log over Server-Sent Events while it runs.
 */
#include "base/kiln.h"
#include "git/fetch.h"
#include "git/repo.h"
#include "server/queue.h"
#include "server/srv.h"
#include "store/audit.h"
#include "store/repos.h"
#include "store/repos.h"
#include "store/runs.h"
#include "store/runview.h"
#include "ui/graph.h"
#include "ui/logview.h"
#include "ui/markdown.h"
#include "ui/ui.h"
#include "workflow/workflow.h"

#define RUNS_PAGE 25
#define LOG_PAGE 2000

static int64_t num(const char *s)
{
	char *end;
	if (!s || !*s)
		return 0;
	long long v = strtoll(s, &end, 10);
	return *end || v < 0 ? 0 : (int64_t)v;
}

static const char *const filter_names[] = { "repo", "workflow", "branch", "event", "status", "actor" };

/* the list's query string without page, for the pager links */
static void filter_query(struct http_req *q, struct buf *out)
{
	for (size_t i = 0; i < 6; i++) {
		const char *v = http_req_query(q, filter_names[i]);
		if (v && *v) {
			buf_addf(out, "%s=", filter_names[i]);
			html_url(out, v);
			buf_addch(out, '&');
		}
	}
}

static void run_title(struct buf *out, const struct runview *r)
{
	html_addf(out, "%s #%d", r->name, r->number);
}

/* events accepted but not yet running (their runs do not exist yet) */
static void queued_events(struct srv *s, struct http_req *q, struct buf *body, int64_t page)
{
	struct event_view *v = NULL;
	size_t n = 0;
	struct buf err = BUF_INIT;
	const char *repo = http_req_query(q, "repo");
	if (page > 1 || store_event_list(s->db, repo && *repo ? repo : NULL, "queued", 0, 20, &v, &n,
					 &err) || !n)
		goto out;
	buf_addstr(body, "<h2>Queued</h2><ul class=\"queued\">");
	for (size_t i = 0; i < n; i++) {
		buf_addstr(body, "<li>");
		ui_status(body, "queued", NULL);
		html_addf(body, " %s %s <code>", v[i].repo, v[i].kind);
		ui_short_ref(body, v[i].ref);
		html_addf(body, "</code> by %s, received ", v[i].actor);
		ui_time(body, v[i].received_at);
		buf_addstr(body, "</li>");
	}
	buf_addstr(body, "</ul>");
out:
	free(v);
	buf_release(&err);
}

/* GET /runs */
static void on_runs(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf body = BUF_INIT, err = BUF_INIT, qs = BUF_INIT;
	struct runview *rows = NULL;
	size_t n = 0;
	int more = 0;
	if (ui_open(s, q, &u, ROLE_VIEWER))
		goto out;
	struct runview_filter f = { http_req_query(q, "repo"), http_req_query(q, "workflow"),
				    http_req_query(q, "branch"), http_req_query(q, "event"),
				    http_req_query(q, "status"), http_req_query(q, "actor") };
	int64_t page = num(http_req_query(q, "page"));
	if (page < 1)
		page = 1;
	if (page > 100000)
		page = 100000;
	if (runview_list(s->db, &f, (int)((page - 1) * RUNS_PAGE), RUNS_PAGE, &rows, &n,
			 &more, &err)) {
		ui_error(&u, 503, "the store is unavailable: %s", err.buf);
		goto out;
	}
	buf_addstr(&body, "<h1>Runs</h1><form method=\"get\" action=\"/runs\" class=\"filters\" "
		   "role=\"search\" aria-label=\"Filter runs\">");
	for (size_t i = 0; i < 6; i++) {
		const char *v = http_req_query(q, filter_names[i]);
		html_addf(&body, "<div><label for=\"f-%s\">%s</label><input id=\"f-%s\" name=\"%s\" "
			  "value=\"%s\" size=\"14\"></div>", filter_names[i], filter_names[i],
			  filter_names[i], filter_names[i], v ? v : "");
	}
	buf_addstr(&body, "<div><button type=\"submit\" class=\"secondary\">Filter</button></div>"
		   "</form>");
	queued_events(s, q, &body, page);
	if (!n) {
		buf_addstr(&body, "<p class=\"muted\">No run matches.</p>");
	} else {
		buf_addstr(&body, "<table><thead><tr><th scope=\"col\">Status</th>"
			   "<th scope=\"col\">Run</th><th scope=\"col\">Repository</th>"
			   "<th scope=\"col\">Branch</th><th scope=\"col\">Event</th>"
			   "<th scope=\"col\">Actor</th><th scope=\"col\">Commit</th>"
			   "<th scope=\"col\">Started</th><th scope=\"col\">Duration</th>"
			   "</tr></thead><tbody>");
		for (size_t i = 0; i < n; i++) {
			const struct runview *r = &rows[i];
			buf_addstr(&body, "<tr><td>");
			ui_status(&body, r->status, r->conclusion);
			html_addf(&body, "</td><td><a href=\"/runs/%D\">", r->id);
			run_title(&body, r);
			html_addf(&body, "</a></td><td>%s</td><td><code>", r->repo_name);
			ui_short_ref(&body, r->ref);
			html_addf(&body, "</code></td><td>%s</td><td>%s</td><td><code>", r->event,
				  r->actor);
			/* the short commit: 7 hex characters */
			html_esc_n(&body, r->sha, strnlen(r->sha, 7));
			buf_addstr(&body, "</code></td><td>");
			ui_time(&body, r->started_ms);
			buf_addstr(&body, "</td><td>");
			ui_duration(&body, r->started_ms, r->finished_ms);
			buf_addstr(&body, "</td></tr>");
		}
		buf_addstr(&body, "</tbody></table>");
	}
	filter_query(q, &qs);
	buf_addstr(&body, "<nav class=\"pager\" aria-label=\"Pages\">");
	if (page > 1)
		html_addf(&body, "<a href=\"/runs?%spage=%D\" rel=\"prev\">Newer</a>", qs.buf, page - 1);
	html_addf(&body, "<span>Page %D</span>", page);
	if (more)
		html_addf(&body, "<a href=\"/runs?%spage=%D\" rel=\"next\">Older</a>", qs.buf, page + 1);
	buf_addstr(&body, "</nav>");
	ui_page(&u, 200, "Runs", "runs", &body);
out:
	ui_close(&u);
	free(rows);
	buf_release(&body);
	buf_release(&err);
	buf_release(&qs);
}

/* the workflow of a run at its commit, from the repository's mirror;
 * NULL when unknown (a local run, a missing commit, a broken file) */
static struct workflow *run_workflow(struct srv *s, const struct runview *r)
{
	struct repo_row rr;
	struct repo *repo = NULL;
	struct workflow *wf = NULL;
	struct buf err = BUF_INIT, text = BUF_INIT;
	struct diags d = DIAGS_INIT;
	if (!*r->repo_name || !*r->sha)
		goto out;
	memset(&rr, 0, sizeof(rr));
	if (store_repo_get(s->db, r->repo_name, &rr, &err))
		goto out;
	if (repo_open_bare(rr.mirror, &repo, &err) == 0 &&
	    fetch_read_blob(repo, r->sha, r->workflow, &text, &err) == 0)
		wf_load(r->workflow, text.buf, text.len, &wf, &d);
	repo_row_release(&rr);
out:
	if (repo)
		repo_close(repo);
	diags_release(&d);
	buf_release(&err);
	buf_release(&text);
	return wf;
}

static int load_run(struct ui *u, struct runview *r)
{
	struct buf err = BUF_INIT;
	int64_t id = num(http_req_param(u->q, "id"));
	int rc = id ? runview_get(u->s->db, id, r, &err) : KILN_ENOENT;
	if (rc == KILN_ENOENT)
		ui_error(u, 404, "no run %s", http_req_param(u->q, "id"));
	else if (rc)
		ui_error(u, 503, "the store is unavailable: %s", err.buf);
	buf_release(&err);
	return rc ? -1 : 0;
}

static void run_facts(struct srv *s, struct buf *body, const struct runview *r)
{
	struct event_view e;
	struct buf err = BUF_INIT;
	buf_addstr(body, "<table class=\"facts\"><tbody><tr><th scope=\"row\">Status</th><td>");
	ui_status(body, r->status, r->conclusion);
	if (*r->reason)
		html_addf(body, " <span class=\"muted\">%s</span>", r->reason);
	html_addf(body, "</td></tr><tr><th scope=\"row\">Repository</th><td>%s</td></tr>"
		  "<tr><th scope=\"row\">Workflow</th><td><code>%s</code></td></tr>"
		  "<tr><th scope=\"row\">Trigger</th><td>%s%S%s</td></tr>"
		  "<tr><th scope=\"row\">Branch</th><td><code>",
		  *r->repo_name ? r->repo_name : "(local run)", r->workflow, r->event,
		  *r->actor ? " by " : "", r->actor);
	ui_short_ref(body, r->ref);
	html_addf(body, "</code></td></tr><tr><th scope=\"row\">Commit</th><td><code>%s</code></td></tr>"
		  "<tr><th scope=\"row\">Started</th><td>", r->sha);
	ui_time(body, r->started_ms);
	buf_addstr(body, "</td></tr><tr><th scope=\"row\">Duration</th><td>");
	ui_duration(body, r->started_ms, r->finished_ms);
	buf_addstr(body, "</td></tr>");
	/* a re-run: which attempt, started by whom */
	if (r->event_id && store_event_get(s->db, r->event_id, &e, &err) == 0 && e.attempt > 1)
		html_addf(body, "<tr><th scope=\"row\">Attempt</th><td>%d (re-run by %s)</td></tr>",
			  e.attempt, e.actor);
	buf_addstr(body, "</tbody></table>");
	buf_release(&err);
}

/* a run "Re-run failed jobs" applies to (the API's rule): it ended in
 * failure or was cancelled, so some jobs did not succeed */
static int has_failed_jobs(const struct runview *r)
{
	return !strcmp(r->status, "completed") &&
	       (!strcmp(r->conclusion, "failure") || !strcmp(r->conclusion, "cancelled"));
}

/* one POST button of the run page */
static void action_form(const struct ui *u, const struct runview *r, const char *path,
			const char *fields, const char *cls, const char *label, struct buf *body)
{
	html_addf(body, "<form method=\"post\" action=\"/runs/%D/%s\">", r->id, path);
	ui_csrf_input(u, body);
	html_addf(body, "%S<button type=\"submit\" class=\"%s\">%s</button></form>", fields, cls,
		  label);
}

/* the run's buttons by role: a viewer sees none (the POSTs check the
 * role again); only a run the server started (an event) can be acted on */
static void run_actions(const struct ui *u, const struct runview *r, struct buf *body)
{
	if (u->who.role < ROLE_DEVELOPER || !r->event_id)
		return;
	buf_addstr(body, "<div class=\"actions\" role=\"group\" aria-label=\"Run actions\">");
	if (!*r->conclusion) {
		action_form(u, r, "cancel", "", "danger", "Cancel run", body);
	} else {
		action_form(u, r, "rerun", "", "secondary", "Re-run all jobs", body);
		if (has_failed_jobs(r))
			action_form(u, r, "rerun", "<input type=\"hidden\" name=\"failed_only\" "
				    "value=\"1\">", "secondary", "Re-run failed jobs", body);
	}
	buf_addstr(body, "</div>");
}

/* the job page's "Re-run this job" (GitHub's): developers, a finished
 * run the server started; the job and the jobs needing it run again */
static void job_actions(const struct ui *u, const struct runview *r, const struct runview_job *j,
			struct buf *body)
{
	if (u->who.role < ROLE_DEVELOPER || !r->event_id || !*r->conclusion)
		return;
	struct buf field = BUF_INIT;
	html_addf(&field, "<input type=\"hidden\" name=\"job\" value=\"%D\">", j->id);
	buf_addstr(body, "<div class=\"actions\" role=\"group\" aria-label=\"Job actions\">");
	action_form(u, r, "rerun", field.buf, "secondary", "Re-run this job", body);
	buf_addstr(body, "</div>");
	buf_release(&field);
}

/* GET /runs/:id */
static void on_run(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct runview r;
	struct runview_job *jobs = NULL;
	size_t nj = 0;
	struct workflow *wf = NULL;
	struct buf body = BUF_INIT, err = BUF_INIT, title = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_VIEWER) || load_run(&u, &r))
		goto out;
	if (runview_jobs(s->db, r.id, &jobs, &nj, &err)) {
		ui_error(&u, 503, "the store is unavailable: %s", err.buf);
		goto out;
	}
	buf_addf(&title, "%s #%d", r.name, r.number); /* plain: ui_page escapes it */
	html_addf(&body, "<p><a href=\"/runs\">Runs</a> / %s</p><h1>%s</h1>",
		  *r.repo_name ? r.repo_name : "local", title.buf);
	run_facts(s, &body, &r);
	run_actions(&u, &r, &body);
	wf = run_workflow(s, &r);
	buf_addstr(&body, "<h2>Jobs</h2><div class=\"graph\">");
	graph_svg(wf, &r, jobs, nj, &body);
	buf_addstr(&body, "</div><table><thead><tr><th scope=\"col\">Job</th><th scope=\"col\">"
		   "Status</th><th scope=\"col\">Started</th><th scope=\"col\">Duration</th></tr>"
		   "</thead><tbody>");
	for (size_t i = 0; i < nj; i++) {
		html_addf(&body, "<tr><td><a href=\"/runs/%D/jobs/%D\">%s</a></td><td>", r.id,
			  jobs[i].id, jobs[i].name);
		ui_status(&body, jobs[i].status, jobs[i].conclusion);
		buf_addstr(&body, "</td><td>");
		ui_time(&body, jobs[i].started_ms);
		buf_addstr(&body, "</td><td>");
		ui_duration(&body, jobs[i].started_ms, jobs[i].finished_ms);
		buf_addstr(&body, "</td></tr>");
	}
	buf_addstr(&body, "</tbody></table>");
	ui_annotations_section(&u, r.id, 0, NULL, NULL, &body);
	ui_artifacts_section(&u, r.id, 0, &body);
	ui_page(&u, 200, title.buf, "runs", &body);
out:
	if (wf)
		wf_free(wf);
	ui_close(&u);
	free(jobs);
	buf_release(&body);
	buf_release(&err);
	buf_release(&title);
}

static int load_job(struct ui *u, const struct runview *r, struct runview_job *j)
{
	struct buf err = BUF_INIT;
	int64_t id = num(http_req_param(u->q, "job"));
	int rc = id ? runview_job(u->s->db, r->id, id, j, &err) : KILN_ENOENT;
	if (rc == KILN_ENOENT)
		ui_error(u, 404, "no job %s in run %lld", http_req_param(u->q, "job"),
			 (long long)r->id);
	else if (rc)
		ui_error(u, 503, "the store is unavailable: %s", err.buf);
	buf_release(&err);
	return rc ? -1 : 0;
}

static void steps_list(struct buf *body, const struct runview_step *st, size_t n)
{
	buf_addstr(body, "<h2>Steps</h2><ol class=\"steps\">");
	for (size_t i = 0; i < n; i++) {
		buf_addstr(body, "<li>");
		ui_status(body, st[i].status, st[i].conclusion);
		html_addf(body, " %s <span class=\"muted\">", st[i].name);
		ui_duration(body, st[i].started_ms, st[i].finished_ms);
		buf_addstr(body, "</span></li>");
	}
	buf_addstr(body, "</ol>");
}

static void annotations_list(struct buf *body, const struct logview_info *info,
			     const char *href)
{
	if (!info->annotations.nr)
		return;
	html_addf(body, "<h2>Annotations</h2><ul class=\"annotations\">");
	for (size_t i = 0; i < info->annotations.nr; i++) {
		const char *a = info->annotations.v[i];
		const char *t1 = strchr(a, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2)
			continue;
		struct buf level = BUF_INIT;
		buf_add(&level, a, (size_t)(t1 - a));
		int64_t line = strtoll(t1 + 1, NULL, 10);
		html_addf(body, "<li><span class=\"st st-%s\">%s</span> <a href=\"%s%D#L%D\">line %D"
			  "</a>: %s</li>", !strcmp(level.buf, "error") ? "failure" : "waiting",
			  level.buf, href, line, line, line, t2 + 1);
		buf_release(&level);
	}
	buf_addstr(body, "</ul>");
}

/*
 * "Show timestamps" (GitHub's log setting): a link to the same log page
 * with ?timestamps=1 (or without), so it works without JavaScript;
 * web/kiln.js turns it into a toggle that keeps the reader's place
 */
static void ts_toggle(struct buf *body, const struct runview *r, const struct runview_job *j,
		      int64_t from, int show)
{
	struct buf href = BUF_INIT;
	buf_addf(&href, "/runs/%lld/jobs/%lld", (long long)r->id, (long long)j->id);
	if (from > 1)
		buf_addf(&href, "?from=%lld%s", (long long)from, show ? "" : "&timestamps=1");
	else if (!show)
		buf_addstr(&href, "?timestamps=1");
	html_addf(body, "<a id=\"ts-toggle\" href=\"%s\" role=\"button\" aria-pressed=\"%S\" "
		  "aria-controls=\"log\">Show timestamps</a>", href.buf, show ? "true" : "false");
	buf_release(&href);
}

/* GET /runs/:id/jobs/:job[?line=N|?from=N][&timestamps=1] */
static void on_job(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct runview r;
	struct runview_job j;
	struct runview_step *steps = NULL;
	size_t ns = 0;
	struct buf body = BUF_INIT, err = BUF_INIT, log = BUF_INIT, html = BUF_INIT, href = BUF_INIT;
	struct buf title = BUF_INIT, summary = BUF_INIT;
	struct logview_info info = LOGVIEW_INFO_INIT;
	struct runs_times times = RUNS_TIMES_INIT;
	struct ui_marks marks = { NULL, 0, NULL, 0 };
	if (ui_open(s, q, &u, ROLE_VIEWER) || load_run(&u, &r) || load_job(&u, &r, &j))
		goto out;
	if (runview_steps(s->db, j.id, &steps, &ns, &err) ||
	    runs_read_job_log(s->db, j.id, &log, &times, &err) < 0) {
		ui_error(&u, 503, "the store is unavailable: %s", err.buf);
		goto out;
	}
	/* the page: ?line=N shows the page holding N, ?from=N starts there */
	int64_t from = num(http_req_query(q, "from")), line = num(http_req_query(q, "line"));
	if (line)
		from = ((line - 1) / LOG_PAGE) * LOG_PAGE + 1;
	if (from < 1)
		from = 1;
	buf_addf(&href, "/runs/%lld/jobs/%lld?line=", (long long)r.id, (long long)j.id);
	ui_marks_load(&u, r.id, j.id, log.buf, log.len, &marks);
	struct logview_opts lo = { from, LOG_PAGE, href.buf, times.at, times.nr, marks.marks, marks.n };
	int show_ts = num(http_req_query(q, "timestamps")) == 1;
	logview_render(log.buf, log.len, &lo, &html, &info);
	buf_addf(&title, "%s", j.name);
	html_addf(&body, "<p><a href=\"/runs\">Runs</a> / <a href=\"/runs/%D\">", r.id);
	run_title(&body, &r);
	html_addf(&body, "</a></p><h1>%s ", j.name);
	ui_status(&body, j.status, j.conclusion);
	buf_addstr(&body, "</h1><p>");
	ui_duration(&body, j.started_ms, j.finished_ms);
	html_addf(&body, " · <a href=\"/runs/%D/jobs/%D/raw\">Raw log</a>", r.id, j.id);
	if (times.nr)
		html_addf(&body, " · <a href=\"/runs/%D/jobs/%D/raw?timestamps=1\">Raw log with "
			  "timestamps</a>", r.id, j.id);
	buf_addstr(&body, "</p>");
	job_actions(&u, &r, &j, &body);
	steps_list(&body, steps, ns);
	/* the store's annotations; a run recorded before they were kept:
	 * the annotation lines of its log */
	if (marks.nrows)
		ui_annotations_section(&u, r.id, j.id, &info, href.buf, &body);
	else
		annotations_list(&body, &info, href.buf);
	if (runview_job_summary(s->db, j.id, &summary, &err) == 0 && summary.len) {
		buf_addstr(&body, "<h2>Summary</h2><div class=\"summary-md\">");
		markdown_html(summary.buf, summary.len, &body);
		buf_addstr(&body, "</div>");
	}
	ui_artifacts_section(&u, r.id, j.id, &body);
	buf_addstr(&body, "<div class=\"log-head\"><h2 id=\"log-title\">Log</h2>");
	if (times.nr)
		ts_toggle(&body, &r, &j, from, show_ts);
	buf_addstr(&body, "</div>");
	int live = !*j.conclusion && strcmp(j.status, "completed");
	if (info.lines > LOG_PAGE) {
		html_addf(&body, "<nav class=\"pager\" aria-label=\"Log pages\"><span>Lines %D–%D of %D"
			  "</span>", info.from, info.to, info.lines);
		const char *ts = show_ts ? "&timestamps=1" : "";
		if (from > 1)
			html_addf(&body, "<a href=\"/runs/%D/jobs/%D?from=%D%S\" rel=\"prev\">Previous</a>",
				  r.id, j.id, from > LOG_PAGE ? from - LOG_PAGE : 1, ts);
		if (info.to < info.lines)
			html_addf(&body, "<a href=\"/runs/%D/jobs/%D?from=%D%S\" rel=\"next\">Next</a>"
				  "<a href=\"/runs/%D/jobs/%D?from=%D%S\">Last</a>", r.id, j.id,
				  info.to + 1, ts, r.id, j.id, ((info.lines - 1) / LOG_PAGE) * LOG_PAGE + 1,
				  ts);
		buf_addstr(&body, "</nav>");
	}
	if (live && info.to == info.lines)
		buf_addstr(&body, "<p id=\"live-status\" role=\"status\">The job is running: "
			   "reload to see new lines.</p>");
	html_addf(&body, "<div id=\"log\" class=\"log%S\" role=\"log\" aria-labelledby=\"log-title\"",
		  show_ts ? " show-ts" : "");
	if (live && info.to == info.lines)
		html_addf(&body, " data-stream=\"/runs/%D/jobs/%D/live\" data-lines=\"%D\" "
			  "data-href=\"%s\" aria-live=\"polite\"", r.id, j.id, info.lines, href.buf);
	buf_addstr(&body, ">");
	if (!info.lines)
		buf_addstr(&body, "<p class=\"l empty\">(no output yet)</p>");
	buf_addstr(&body, html.buf);
	buf_addstr(&body, "</div>");
	ui_page(&u, 200, title.buf, "runs", &body);
out:
	ui_close(&u);
	free(steps);
	runs_times_release(&times);
	ui_marks_release(&marks);
	logview_info_release(&info);
	buf_release(&body);
	buf_release(&err);
	buf_release(&log);
	buf_release(&html);
	buf_release(&href);
	buf_release(&title);
	buf_release(&summary);
}

/* GET /runs/:id/jobs/:job/raw[?timestamps=1]: the stored (masked) log as
 * text, each line after its time when asked */
static void on_raw(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct runview r;
	struct runview_job j;
	struct buf log = BUF_INIT, err = BUF_INIT, stamped = BUF_INIT;
	struct runs_times times = RUNS_TIMES_INIT;
	if (ui_open(s, q, &u, ROLE_VIEWER) || load_run(&u, &r) || load_job(&u, &r, &j))
		goto out;
	if (runs_read_job_log(s->db, j.id, &log, &times, &err) < 0) {
		ui_error(&u, 503, "the store is unavailable: %s", err.buf);
		goto out;
	}
	ui_security_headers(q);
	if (num(http_req_query(q, "timestamps")) == 1) {
		runs_stamp_lines(log.buf, log.len, &times, &stamped);
		http_reply_raw(q, 200, "text/plain; charset=utf-8", stamped.buf, stamped.len);
	} else {
		http_reply_raw(q, 200, "text/plain; charset=utf-8", log.buf, log.len);
	}
out:
	ui_close(&u);
	runs_times_release(&times);
	buf_release(&log);
	buf_release(&err);
	buf_release(&stamped);
}

/* POST /runs/:id/cancel (developer): the run's event, as the API's
 * POST /api/v1/events/ID/cancel does, audited */
static void on_cancel(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct runview r;
	struct event_view e;
	struct buf err = BUF_INIT, loc = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_DEVELOPER) || ui_form(&u) || load_run(&u, &r))
		goto out;
	if (!r.event_id || store_event_get(s->db, r.event_id, &e, &err)) {
		ui_error(&u, 409, "run %lld was not started by the server: it cannot be cancelled here",
			 (long long)r.id);
		goto out;
	}
	if (!strcmp(e.status, "running")) {
		queue_cancel(s->queue, e.id);
	} else if (!strcmp(e.status, "queued")) {
		int rc = store_event_finish(s->db, e.id, 0, "cancelled", -1, "cancelled", &err);
		if (rc == KILN_ENOENT) { /* taken from the queue meanwhile */
			queue_cancel(s->queue, e.id);
		} else if (rc) {
			ui_error(&u, 503, "the store is unavailable: %s", err.buf);
			goto out;
		}
	} else {
		ui_error(&u, 409, "run %lld is %s: nothing to cancel", (long long)r.id, e.status);
		goto out;
	}
	char target[32];
	snprintf(target, sizeof(target), "event %lld", (long long)e.id);
	audit_append(s->db, u.who.name, "run.cancel", e.repo, target, NULL, &err);
	buf_addf(&loc, "/runs/%lld", (long long)r.id);
	ui_redirect(q, loc.buf);
out:
	ui_close(&u);
	buf_release(&err);
	buf_release(&loc);
}

/* POST /runs/:id/rerun [failed_only=1 | job=ID] (developer): the next
 * attempt of the run's event — every job, the failed ones only, or one
 * job and its dependents — as POST /api/v1/runs/ID/rerun and
 * /api/v1/jobs/ID/rerun do, audited; the new attempt waits in the queue,
 * so the browser goes to the repository's runs */
static void on_rerun(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct runview r;
	struct event_view e;
	struct buf err = BUF_INIT, loc = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_DEVELOPER) || ui_form(&u) || load_run(&u, &r))
		goto out;
	if (!r.event_id || store_event_get(s->db, r.event_id, &e, &err)) {
		ui_error(&u, 409, "run %lld was not started by the server: it cannot be re-run here",
			 (long long)r.id);
		goto out;
	}
	if (!*r.conclusion || !strcmp(e.status, "queued") || !strcmp(e.status, "running")) {
		ui_error(&u, 409, "run %lld has not finished: nothing to re-run yet", (long long)r.id);
		goto out;
	}
	/* failed_only: the run's workflow again, its successful jobs reused
	 * (their outputs too), the others run (serve2's rerun --failed) */
	const char *fo = ui_field(&u, "failed_only"), *jf = ui_field(&u, "job");
	int failed_only = fo && !strcmp(fo, "1");
	if (failed_only && !has_failed_jobs(&r)) {
		ui_error(&u, 409, "run %lld %s: no failed jobs to re-run", (long long)r.id, r.conclusion);
		goto out;
	}
	/* job=ID: that job of this run (GitHub's "Re-run this job") */
	struct runview_job j;
	if (jf) {
		int64_t jid = num(jf);
		int rc = jid ? runview_job(s->db, r.id, jid, &j, &err) : KILN_ENOENT;
		if (rc == KILN_ENOENT) {
			ui_error(&u, 404, "no job %s in run %lld", jf, (long long)r.id);
			goto out;
		} else if (rc) {
			ui_error(&u, 503, "the store is unavailable: %s", err.buf);
			goto out;
		}
	}
	int64_t id = 0;
	int attempt = 0;
	if (store_event_rerun_job(s->db, e.id, failed_only || jf ? r.id : 0, jf ? j.name : NULL,
				  u.who.name, &id, &attempt, &err)) {
		ui_error(&u, 503, "the store is unavailable: %s", err.buf);
		goto out;
	}
	char target[32];
	struct buf detail = BUF_INIT;
	snprintf(target, sizeof(target), "event %lld", (long long)e.id);
	buf_addf(&detail, "attempt %d", attempt);
	if (jf)
		buf_addf(&detail, ", job %s", j.name);
	else if (failed_only)
		buf_addstr(&detail, ", failed jobs");
	audit_append(s->db, u.who.name, "run.rerun", e.repo, target, detail.buf, &err);
	buf_release(&detail);
	queue_kick(s->queue);
	buf_addstr(&loc, "/runs?repo=");
	html_url(&loc, e.repo);
	ui_redirect(q, loc.buf);
out:
	ui_close(&u);
	buf_release(&err);
	buf_release(&loc);
}

void ui_runs_register(struct srv *s)
{
	http_route(s, "POST", "/runs/:id/rerun", ROLE_NONE, on_rerun);
	http_route(s, "POST", "/runs/:id/cancel", ROLE_NONE, on_cancel);
	http_route(s, "GET", "/runs", ROLE_NONE, on_runs);
	http_route(s, "GET", "/runs/:id", ROLE_NONE, on_run);
	http_route(s, "GET", "/runs/:id/jobs/:job", ROLE_NONE, on_job);
	http_route(s, "GET", "/runs/:id/jobs/:job/raw", ROLE_NONE, on_raw);
}
