/*
 * ui_rollout: one deploy app's rollout — a release drawn from the
 * controller's audit log (rollout_graph.h: steps, traffic split over
 * time, analysis, rollback point; the newest release unless ?release=N),
 * rendered in the page and refreshed every second by web/kiln.js — and
 * the controller's live state (each instance's role, health, HAProxy
 * state, weight, sessions and last check) as `kiln status APP` shows it. The controller is asked over
 * its unix socket (deployd_request) on the thread pool; the answer is
 * streamed back when it arrives (the HTTP layer's handlers answer
 * synchronously; a stream may be written later).
 *
 * The controller's state directory is the server's gitops.state, else
 * KILN_DEPLOY_STATE as for the CLI, else the server's data directory (a
 * controller started with KILN_DEPLOY_STATE=<data> shares the server's
 * store).
 */
#include "base/kiln.h"
#include "deploy/deployd.h"
#include "deploy/dstore.h"
#include "server/srv.h"
#include "store/db.h"
#include "store/runs.h"
#include "ui/rollout_graph.h"
#include "ui/ui.h"

#include <jansson.h>

const char *ui_deploy_state(struct srv *s)
{
	return s->deploy_state;
}

struct db *ui_deploy_db(struct srv *s, struct db **own)
{
	*own = NULL;
	if (!strcmp(ui_deploy_state(s), s->data_dir))
		return s->db;
	char *path = xstrfmt("%s/kiln.db", ui_deploy_state(s));
	if (db_open_readonly(path, own))
		*own = NULL;
	free(path);
	return *own ? *own : s->db;
}

/*
 * The rollout of one release of app (release 0: the newest) drawn from
 * the controller's audit log into out; releases (the newest first) into
 * *rel when not NULL. 0, or -1 when the app has no release.
 */
static int graph(struct srv *s, const char *app, long release, struct buf *out,
		 struct drelease **rel, size_t *nrel)
{
	struct db *own, *db = ui_deploy_db(s, &own);
	struct drelease *r = NULL;
	struct daudit *ev = NULL;
	size_t n = dstore_releases(db, app, 20, &r), k = 0;
	int rc = -1;
	while (release && k < n && r[k].id != release)
		k++;
	if (k < n) {
		size_t ne = dstore_audit_list(db, app, r[k].id, &ev);
		rollout_graph(&r[k], ev, ne, runs_now_ms(), out);
		rc = 0;
	}
	free(ev);
	if (rel) {
		*rel = r;
		*nrel = n;
	} else {
		free(r);
	}
	db_close(own);
	return rc;
}

static long release_param(struct http_req *q)
{
	const char *v = http_req_query(q, "release");
	long id = v ? strtol(v, NULL, 10) : 0;
	return id > 0 ? id : 0;
}

/* GET /deployments/app/:app/graph[?release=N]: the graph alone (the page
 * refreshes it every second with web/kiln.js) */
static void on_graph(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf out = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_VIEWER))
		goto out;
	if (graph(s, http_req_param(q, "app"), release_param(q), &out, NULL, NULL)) {
		ui_error(&u, 404, "no release of %s", http_req_param(q, "app"));
		goto out;
	}
	ui_security_headers(q);
	http_reply_header(q, "Cache-Control", "no-store");
	http_reply_raw(q, 200, "text/html; charset=utf-8", out.buf, out.len);
out:
	ui_close(&u);
	buf_release(&out);
}

struct ask {
	uv_work_t work;
	struct http_stream *st; /* NULL once the client left */
	char *state, *req;
	struct buf answer;
	int code;
};

static void ask_closed(void *arg)
{
	struct ask *a = arg;
	a->st = NULL;
}

static void ask_work(uv_work_t *w)
{
	struct ask *a = w->data;
	a->code = deployd_request(a->state, a->req, NULL, &a->answer);
}

static void ask_done(uv_work_t *w, int status)
{
	struct ask *a = w->data;
	if (a->st) {
		if (a->code == 3 || status)
			buf_addstr(&a->answer, "\n(the deploy controller is not reachable: start it with "
				   "`kiln deployd`)\n");
		if (http_stream_write(a->st, a->answer.buf, a->answer.len) == 0)
			http_stream_end(a->st);
	}
	buf_release(&a->answer);
	free(a->state);
	free(a->req);
	free(a);
}

/* GET /deployments/app/:app/status: the controller's status text */
static void on_status(struct srv *s, struct http_req *q)
{
	struct ui u;
	if (ui_open(s, q, &u, ROLE_VIEWER))
		goto out;
	const char *app = http_req_param(q, "app");
	struct ask *a = xcalloc(1, sizeof(*a));
	json_t *req = json_pack("{s:s,s:s}", "cmd", "status", "app", app);
	a->req = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	a->state = xstrdup(ui_deploy_state(s));
	buf_init(&a->answer, 0);
	a->work.data = a;
	ui_security_headers(q);
	a->st = http_stream_start(q, 200, "text/plain; charset=utf-8", 1024 * 1024, ask_closed, a);
	if (uv_queue_work(s->loop, &a->work, ask_work, ask_done)) {
		if (a->st)
			http_stream_end(a->st);
		buf_release(&a->answer);
		free(a->state);
		free(a->req);
		free(a);
	}
out:
	ui_close(&u);
}

/* GET /deployments/app/:app: the live view */
static void on_app(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf body = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_VIEWER))
		goto out;
	const char *app = http_req_param(q, "app");
	long release = release_param(q);
	struct drelease *r = NULL;
	size_t n = 0;
	struct buf g = BUF_INIT;
	html_addf(&body, "<p><a href=\"/deployments\">Deployments</a></p><h1>%s: rollout</h1>", app);
	int have = graph(s, app, release, &g, &r, &n) == 0;
	if (n) {
		/* the releases: the newest (followed live) or one of them */
		html_addf(&body, "<nav class=\"rg-releases\" aria-label=\"Releases of %s\"><a href=\""
			  "/deployments/app/%U\"%S>Latest</a>", app, app,
			  !release ? " aria-current=\"page\"" : "");
		for (size_t i = 0; i < n && i < 10; i++)
			html_addf(&body, "<a href=\"/deployments/app/%U?release=%D\"%S>%s (#%D)</a>", app,
				  (int64_t)r[i].id, release == r[i].id ? " aria-current=\"page\"" : "",
				  r[i].version, (int64_t)r[i].id);
		buf_addstr(&body, "</nav>");
	}
	if (have) {
		struct buf src = BUF_INIT;
		buf_addf(&src, "/deployments/app/");
		html_url(&src, app);
		buf_addstr(&src, "/graph");
		if (release)
			buf_addf(&src, "?release=%ld", release);
		/* refreshed every second while it can change: the latest
		 * release (a new one may start), or a pinned one still running */
		html_addf(&body, "<section id=\"rollout-graph\" aria-label=\"Rollout\" data-graph=\"%s\""
			  "%S>%S</section>", src.buf, release ? " data-pinned=\"1\"" : "", g.buf);
		buf_release(&src);
	} else {
		html_addf(&body, "<p class=\"muted\">%s</p>", release ? "No such release of this app."
			  : "The deploy controller has recorded no release of this app.");
	}
	html_addf(&body, "<h2>Controller status</h2><p role=\"status\" id=\"rollout-note\">"
		  "Refreshed every second. Without JavaScript: <a href=\"/deployments/app/%U/status\">"
		  "the controller's status</a>.</p><pre id=\"rollout\" class=\"log rollout\" "
		  "data-status=\"/deployments/app/%U/status\" aria-live=\"polite\" tabindex=\"0\">…"
		  "</pre>", app, app);
	free(r);
	buf_release(&g);
	ui_page(&u, 200, app, "deployments", &body);
out:
	ui_close(&u);
	buf_release(&body);
}

void ui_rollout_register(struct srv *s)
{
	http_route(s, "GET", "/deployments/app/:app", ROLE_NONE, on_app);
	http_route(s, "GET", "/deployments/app/:app/status", ROLE_NONE, on_status);
	http_route(s, "GET", "/deployments/app/:app/graph", ROLE_NONE, on_graph);
}
