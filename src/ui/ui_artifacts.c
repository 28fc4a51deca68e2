/*
 * ui_artifacts: what a run leaves besides its log, on the run and job
 * pages — its artifacts (name, size, files, job, expiry, a download link
 * served from the same blob as the API's) and its annotations (level,
 * title, file:line:col, message, linked to the log line that carries it),
 * both read from the store functions the API uses (store/artifacts.h,
 * store/annotations.h).
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "server/srv.h"
#include "store/annotations.h"
#include "store/artifacts.h"
#include "store/runs.h"
#include "store/runview.h"
#include "ui/logview.h"
#include "ui/ui.h"


static int expired(const struct artifact_row *a)
{
	return a->expired || a->expires_ms <= runs_now_ms();
}

void ui_artifacts_section(struct ui *u, int64_t run_id, int64_t job_id, struct buf *body)
{
	struct artifact_row *v = NULL;
	size_t n = 0, shown = 0;
	struct buf err = BUF_INIT;
	if (artifacts_list(u->s->db, run_id, &v, &n, &err)) {
		html_addf(body, "<h2>Artifacts</h2><p class=\"error\">%s</p>", err.buf);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct artifact_row *a = &v[i];
		if (job_id && a->job_id != job_id)
			continue;
		if (!shown++)
			buf_addstr(body, "<h2 id=\"artifacts\">Artifacts</h2><table class=\"artifacts\" "
				   "aria-labelledby=\"artifacts\"><thead><tr><th scope=\"col\">Name</th>"
				   "<th scope=\"col\">Size</th><th scope=\"col\">Files</th>"
				   "<th scope=\"col\">Job</th><th scope=\"col\">Expires</th></tr></thead>"
				   "<tbody>");
		buf_addstr(body, "<tr><td>");
		if (expired(a))
			html_addf(body, "%s <span class=\"muted\">(expired)</span>", a->name);
		else
			html_addf(body, "<a href=\"/runs/%D/artifacts/%U\" download>%s</a>", run_id,
				  a->name, a->name);
		buf_addstr(body, "</td><td>");
		ui_bytes(body, a->size);
		html_addf(body, "</td><td>%D</td><td>", a->files);
		if (a->job_id)
			html_addf(body, "<a href=\"/runs/%D/jobs/%D\">%s</a>", run_id, a->job_id, a->job);
		else
			buf_addstr(body, "—");
		buf_addstr(body, "</td><td>");
		ui_time(body, a->expires_ms);
		buf_addstr(body, "</td></tr>");
	}
	if (shown)
		buf_addstr(body, "</tbody></table>");
out:
	free(v);
	buf_release(&err);
}

/* "src/a.c:12:5" (what is known of it), "" when no file */
static void where(const struct annotation_row *a, struct buf *out)
{
	if (!*a->file)
		return;
	buf_addstr(out, a->file);
	if (a->line)
		buf_addf(out, ":%d", a->line);
	if (a->line && a->col)
		buf_addf(out, ":%d", a->col);
}

static void annotation_item(const struct annotation_row *a, const char *href, struct buf *body)
{
	struct buf w = BUF_INIT;
	int error = !strcmp(a->level, "error"), warning = !strcmp(a->level, "warning");
	where(a, &w);
	/* the level as a word (colour is not the only signal) */
	html_addf(body, "<li class=\"ann-%S\"><span class=\"st st-%S\">%s</span> ",
		  error ? "error" : warning ? "warning" : "notice", error ? "failure" : "waiting",
		  a->level);
	if (*a->title)
		html_addf(body, "<strong>%s</strong> ", a->title);
	html_addf(body, "<a href=\"%s\">%s%s%s</a>", href, a->job, w.len ? ": " : "", w.buf);
	if (*a->step)
		html_addf(body, " <span class=\"muted\">in step %s</span>", a->step);
	html_addf(body, "<div class=\"ann-msg\">%s</div></li>", a->message);
	buf_release(&w);
}

void ui_annotations_section(struct ui *u, int64_t run_id, int64_t job_id,
			    const struct logview_info *info, const char *line_href, struct buf *body)
{
	struct annotation_row *v = NULL;
	size_t n = 0, cursor = 0;
	struct buf err = BUF_INIT, href = BUF_INIT;
	if (annotations_list(u->s->db, run_id, job_id, &v, &n, &err) || !n)
		goto out;
	html_addf(body, "<h2 id=\"annotations\">Annotations</h2><ul class=\"annotations\" "
		  "aria-labelledby=\"annotations\">");
	for (size_t i = 0; i < n; i++) {
		buf_reset(&href);
		int64_t line = info ? logview_find_annotation(info, &cursor, v[i].level, v[i].file,
							       v[i].line, v[i].message) : 0;
		if (line)
			buf_addf(&href, "%s%lld#L%lld", line_href, (long long)line, (long long)line);
		else
			buf_addf(&href, "/runs/%lld/jobs/%lld/annotations/%lld", (long long)run_id,
				 (long long)v[i].job_id, (long long)v[i].id);
		annotation_item(&v[i], href.buf, body);
	}
	buf_addstr(body, "</ul>");
out:
	free(v);
	buf_release(&err);
	buf_release(&href);
}

void ui_marks_load(struct ui *u, int64_t run_id, int64_t job_id, const char *log, size_t len,
		   struct ui_marks *m)
{
	struct logview_opts o = { 1, 0, "", NULL, 0, NULL, 0 };
	struct logview_info info = LOGVIEW_INFO_INIT;
	struct buf err = BUF_INIT, none = BUF_INIT;
	size_t cursor = 0;
	memset(m, 0, sizeof(*m));
	if (annotations_list(u->s->db, run_id, job_id, &m->rows, &m->nrows, &err) || !m->nrows)
		goto out;
	/* a pass over the log for its annotation-like lines, then each
	 * stored annotation finds its own, in order */
	logview_render(log, len, &o, &none, &info);
	m->marks = xcalloc(m->nrows, sizeof(*m->marks));
	for (size_t i = 0; i < m->nrows; i++) {
		int64_t line = logview_find_annotation(&info, &cursor, m->rows[i].level, m->rows[i].file,
						       m->rows[i].line, m->rows[i].message);
		if (line)
			m->marks[m->n++] = (struct logview_mark){ line, m->rows[i].title };
	}
out:
	logview_info_release(&info);
	buf_release(&err);
	buf_release(&none);
}

void ui_marks_release(struct ui_marks *m)
{
	free(m->rows);
	free(m->marks);
	memset(m, 0, sizeof(*m));
}

/* GET /runs/:id/artifacts/:name: the blob (tar + zstd), as the API's */
static void on_download(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct artifact_row a;
	struct buf err = BUF_INIT, disp = BUF_INIT;
	const char *name = http_req_param(q, "name");
	int64_t run = strtoll(http_req_param(q, "id"), NULL, 10);
	if (ui_open(s, q, &u, ROLE_VIEWER))
		goto out;
	int rc = run > 0 ? artifacts_get(s->db, run, name, &a, &err) : KILN_ENOENT;
	if (rc == KILN_ENOENT) {
		ui_error(&u, 404, "run %s has no artifact '%s'", http_req_param(q, "id"), name);
		goto out;
	}
	if (rc) {
		ui_error(&u, 503, "the store is unavailable: %s", err.buf);
		goto out;
	}
	if (expired(&a)) {
		ui_error(&u, 410, "artifact '%s' of run %lld has expired", name, (long long)run);
		goto out;
	}
	/* upload-artifact's name rules keep quotes, slashes and control
	 * characters out of the header */
	buf_addf(&disp, "attachment; filename=\"%s.tar.zst\"", a.name);
	ui_security_headers(q);
	http_reply_header(q, "Content-Disposition", disp.buf);
	/* streamed, as the API's (this replica's copy, or the store's) */
	if (srv_artifact_reply(s, q, a.digest, &err) < 0)
		http_reply_raw(q, 500, "text/plain; charset=utf-8", "cannot read the artifact\n", 25);
out:
	ui_close(&u);
	buf_release(&err);
	buf_release(&disp);
}

/* GET /runs/:id/jobs/:job/annotations/:ann: to the log line that carries
 * the annotation (the run page's list links here: finding the line needs
 * the job's log) */
static void on_annotation(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct annotation_row *v = NULL;
	size_t n = 0, cursor = 0;
	struct buf err = BUF_INIT, log = BUF_INIT, html = BUF_INIT, loc = BUF_INIT;
	struct logview_info info = LOGVIEW_INFO_INIT;
	int64_t run = strtoll(http_req_param(q, "id"), NULL, 10);
	int64_t job = strtoll(http_req_param(q, "job"), NULL, 10);
	int64_t ann = strtoll(http_req_param(q, "ann"), NULL, 10);
	if (ui_open(s, q, &u, ROLE_VIEWER))
		goto out;
	if (run <= 0 || job <= 0 || annotations_list(s->db, run, job, &v, &n, &err) ||
	    runs_read_job_log(s->db, job, &log, NULL, &err)) {
		ui_error(&u, 404, "no such annotation");
		goto out;
	}
	/* the window is empty: only the annotations of the log are wanted */
	struct logview_opts o = { 1, 0, "", NULL, 0, NULL, 0 };
	logview_render(log.buf, log.len, &o, &html, &info);
	int64_t line = 0;
	size_t i;
	for (i = 0; i < n; i++) {
		line = logview_find_annotation(&info, &cursor, v[i].level, v[i].file, v[i].line,
					       v[i].message);
		if (v[i].id == ann)
			break;
	}
	if (i == n) {
		ui_error(&u, 404, "no annotation %lld in job %lld", (long long)ann, (long long)job);
		goto out;
	}
	buf_addf(&loc, "/runs/%lld/jobs/%lld", (long long)run, (long long)job);
	if (line)
		buf_addf(&loc, "?line=%lld#L%lld", (long long)line, (long long)line);
	else
		buf_addstr(&loc, "#annotations");
	ui_redirect(q, loc.buf);
out:
	ui_close(&u);
	free(v);
	logview_info_release(&info);
	buf_release(&err);
	buf_release(&log);
	buf_release(&html);
	buf_release(&loc);
}

void ui_artifacts_register(struct srv *s)
{
	http_route(s, "GET", "/runs/:id/artifacts/:name", ROLE_NONE, on_download);
	http_route(s, "GET", "/runs/:id/jobs/:job/annotations/:ann", ROLE_NONE, on_annotation);
}
