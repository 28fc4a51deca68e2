/*
 * ui_repos: the home page — every repository with the last run of each
 * branch — and the status badges /badge/REPO/WORKFLOW.svg (GitHub's
 * shape: "WORKFLOW | passing").
 */
#include "base/kiln.h"
#include "server/srv.h"
#include "store/repos.h"
#include "store/runs.h"
#include "store/runview.h"
#include "ui/ui.h"

/* .github/workflows/ci.yml -> ci */
static void workflow_base(struct buf *out, const char *wf)
{
	const char *b = strrchr(wf, '/');
	b = b ? b + 1 : wf;
	const char *dot = strrchr(b, '.');
	buf_add(out, b, dot ? (size_t)(dot - b) : strlen(b));
}

static void repo_section(struct ui *u, struct buf *body, const struct repo_row *r)
{
	struct buf err = BUF_INIT, base = BUF_INIT;
	struct runview *v = NULL;
	size_t n = 0;
	const char *host = http_req_header(u->q, "host");
	html_addf(body, "<section aria-labelledby=\"repo-%D\"><h2 id=\"repo-%D\">"
		  "<a href=\"/runs?repo=%U\">%s</a></h2><p class=\"muted\">%s · default branch "
		  "<code>%s</code> · webhook <code>%s://%s/hooks/github?repo=%s</code></p>",
		  r->id, r->id, r->name, r->name, r->url, r->default_branch, u->secure ? "https" : "http",
		  host ? host : "HOST", r->name);
	if (runview_branches(u->s->db, r->name, &v, &n, &err)) {
		html_addf(body, "<p class=\"error\">%s</p></section>", err.buf);
		goto out;
	}
	if (!n) {
		buf_addstr(body, "<p class=\"muted\">No run yet.</p></section>");
		goto out;
	}
	buf_addstr(body, "<table><thead><tr><th scope=\"col\">Branch</th><th scope=\"col\">Last run"
		   "</th><th scope=\"col\">Status</th><th scope=\"col\">Commit</th>"
		   "<th scope=\"col\">Started</th><th scope=\"col\">Badge</th></tr></thead><tbody>");
	for (size_t i = 0; i < n; i++) {
		buf_reset(&base);
		workflow_base(&base, v[i].workflow);
		buf_addstr(body, "<tr><td><code>");
		ui_short_ref(body, v[i].ref);
		html_addf(body, "</code></td><td><a href=\"/runs/%D\">%s #%d</a></td><td>", v[i].id,
			  v[i].name, v[i].number);
		ui_status(body, v[i].status, v[i].conclusion);
		buf_addstr(body, "</td><td><code>");
		html_esc_n(body, v[i].sha, strnlen(v[i].sha, 7));
		buf_addstr(body, "</code></td><td>");
		ui_time(body, v[i].started_ms);
		html_addf(body, "</td><td><img src=\"/badge/%s/%U.svg?branch=", r->name, base.buf);
		const char *ref = v[i].ref;
		html_url(body, str_starts_with(ref, "refs/heads/") ? ref + 11 : ref);
		html_addf(body, "\" alt=\"%s status on this branch\" height=\"20\"></td></tr>",
			  v[i].name);
	}
	buf_addstr(body, "</tbody></table></section>");
out:
	free(v);
	buf_release(&err);
	buf_release(&base);
}

/* GET / */
static void on_home(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf body = BUF_INIT, err = BUF_INIT;
	struct repo_row *repos = NULL;
	size_t n = 0;
	if (ui_open(s, q, &u, ROLE_VIEWER))
		goto out;
	if (store_repo_list(s->db, &repos, &n, &err)) {
		ui_error(&u, 503, "the store is unavailable: %s", err.buf);
		goto out;
	}
	buf_addstr(&body, "<h1>Repositories</h1>");
	if (!n)
		buf_addstr(&body, "<p class=\"muted\">No repository yet. An admin adds one with "
			   "<code>kiln repo add NAME URL</code>.</p>");
	for (size_t i = 0; i < n; i++)
		repo_section(&u, &body, &repos[i]);
	ui_page(&u, 200, "Repositories", "repos", &body);
out:
	ui_close(&u);
	store_repo_list_free(repos, n);
	buf_release(&body);
	buf_release(&err);
}

void ui_repos_register(struct srv *s)
{
	http_route(s, "GET", "/", ROLE_NONE, on_home);
}
