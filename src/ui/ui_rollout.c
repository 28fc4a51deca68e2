/*
 * ui_rollout: the deploy controller's live state of one app — its
 * rollout (canary step, weights), each instance's role, health, HAProxy
 * state, weight, sessions and last check — as `kiln status APP` shows it,
 * refreshed every second by web/kiln.js. The controller is asked over
 * its unix socket (deployd_request) on the thread pool; the answer is
 * streamed back when it arrives (the HTTP layer's handlers answer
 * synchronously; a stream may be written later).
 *
 * The controller's state directory is KILN_DEPLOY_STATE as for the CLI,
 * else the server's data directory (a controller started with
 * KILN_DEPLOY_STATE=<data> shares the server's store).
 */
#include "base/kiln.h"
#include "deploy/deployd.h"
#include "deploy/dstore.h"
#include "server/srv.h"
#include "ui/ui.h"

#include <jansson.h>

const char *ui_deploy_state(struct srv *s)
{
	const char *e = getenv("KILN_DEPLOY_STATE");
	return e && *e ? e : s->data_dir;
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
	html_addf(&body, "<p><a href=\"/deployments\">Deployments</a></p><h1>%s: live rollout</h1>"
		  "<p role=\"status\" id=\"rollout-note\">Refreshed every second. Without JavaScript: "
		  "<a href=\"/deployments/app/%U/status\">the controller's status</a>.</p>"
		  "<pre id=\"rollout\" class=\"log rollout\" data-status=\"/deployments/app/%U/status\" "
		  "aria-live=\"polite\" tabindex=\"0\">…</pre>", app, app, app);
	ui_page(&u, 200, app, "deployments", &body);
out:
	ui_close(&u);
	buf_release(&body);
}

void ui_rollout_register(struct srv *s)
{
	http_route(s, "GET", "/deployments/app/:app", ROLE_NONE, on_app);
	http_route(s, "GET", "/deployments/app/:app/status", ROLE_NONE, on_status);
}
