/*
 * ui_apps: /apps — the GitOps apps of the deploy controller, as GET
 * /api/v1/apps gives them (server/api.h: the same request to the
 * controller): sync with the config commit, health with its reason, the
 * desired and live release, the last sync; a Sync button for deployers
 * (POST /apps/APP/sync: api_apps_sync, audited like the API's). The
 * controller answers on the thread pool, so the page is answered later:
 * the struct ui moves to the heap until then.
 */
#include "base/kiln.h"
#include "server/api.h"
#include "server/srv.h"
#include "ui/ui.h"

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "";
}

/* Argo CD's word, coloured as the run states are (web/kiln.css) */
static void state_word(struct buf *out, const char *word)
{
	static const struct {
		const char *word, *cls;
	} cls[] = {
		{ "Synced", "success" }, { "Healthy", "success" }, { "OutOfSync", "waiting" },
		{ "Progressing", "running" }, { "Degraded", "failure" }, { "Missing", "none" },
	};
	const char *c = "none";
	for (size_t i = 0; i < ARRAY_SIZE(cls); i++)
		if (!strcmp(word, cls[i].word))
			c = cls[i].cls;
	html_addf(out, "<span class=\"st st-%s\">%s</span>", c, *word ? word : "—");
}

static void short_commit(struct buf *out, const char *sha)
{
	buf_addstr(out, "<code>");
	html_esc_n(out, sha, strnlen(sha, 8));
	buf_addstr(out, *sha ? "</code>" : "—</code>");
}

static void row(struct ui *u, json_t *a, struct buf *b)
{
	const char *name = jstr(a, "app"), *reason = jstr(a, "health_reason"), *msg = jstr(a, "message");
	json_t *last = json_object_get(a, "last_sync");
	html_addf(b, "<tr data-app=\"%s\"><th scope=\"row\">%s</th><td>", name, name);
	state_word(b, jstr(a, "sync"));
	buf_addstr(b, " ");
	short_commit(b, jstr(a, "commit"));
	buf_addstr(b, "</td><td>");
	state_word(b, jstr(a, "health"));
	if (*reason)
		html_addf(b, "<br><span class=\"muted\">%s</span>", reason);
	html_addf(b, "</td><td>%s</td><td>%s</td><td>", *jstr(a, "want") ? jstr(a, "want") : "—",
		  *jstr(a, "live") ? jstr(a, "live") : "—");
	if (last) {
		html_addf(b, "%s ", jstr(last, "outcome"));
		short_commit(b, jstr(last, "commit"));
	} else {
		buf_addstr(b, "—");
	}
	html_addf(b, "</td><td><code>%s</code>", jstr(a, "file"));
	if (*msg)
		html_addf(b, "<pre class=\"app-msg\">%s</pre>", msg);
	buf_addstr(b, "</td>");
	if (u->who.role >= ROLE_DEPLOYER) {
		html_addf(b, "<td><form method=\"post\" action=\"/apps/%U/sync\">", name);
		ui_csrf_input(u, b);
		html_addf(b, "<button type=\"submit\" aria-label=\"Sync %s\">Sync</button></form></td>",
			  name);
	}
	buf_addstr(b, "</tr>");
}

static void render(struct srv *s, struct http_req *q, json_t *list, const char *err, void *arg)
{
	struct ui *u = arg;
	struct buf body = BUF_INIT;
	(void)s;
	if (!q) /* the browser left */
		goto out;
	u->q = q;
	buf_addstr(&body, "<h1>Apps</h1>");
	if (!list) {
		html_addf(&body, "<p class=\"error\">%s</p>", err);
		ui_page(u, 503, "Apps", "apps", &body);
		goto out;
	}
	json_t *cfg = json_object_get(list, "config");
	if (json_is_object(cfg)) {
		html_addf(&body, "<p>Config repository <code>%s</code> branch <code>%s</code> at ",
			  jstr(cfg, "url"), jstr(cfg, "branch"));
		short_commit(&body, jstr(cfg, "commit"));
		if (*jstr(cfg, "fetch_error"))
			html_addf(&body, "; <span class=\"error\">fetch failed: %s</span>",
				  jstr(cfg, "fetch_error"));
		buf_addstr(&body, "</p>");
	}
	json_t *apps = json_object_get(list, "apps");
	if (!json_array_size(apps)) {
		buf_addstr(&body, "<p class=\"muted\">No app.</p>");
	} else {
		html_addf(&body, "<table class=\"apps\"><thead><tr><th scope=\"col\">App</th>"
			  "<th scope=\"col\">Sync</th><th scope=\"col\">Health</th>"
			  "<th scope=\"col\">Desired</th><th scope=\"col\">Live</th>"
			  "<th scope=\"col\">Last sync</th><th scope=\"col\">File</th>%S</tr></thead><tbody>",
			  u->who.role >= ROLE_DEPLOYER ? "<th scope=\"col\">Action</th>" : "");
		size_t i;
		json_t *a;
		json_array_foreach(apps, i, a)
			row(u, a, &body);
		buf_addstr(&body, "</tbody></table>");
	}
	ui_page(u, 200, "Apps", "apps", &body);
out:
	buf_release(&body);
	ui_close(u);
	free(u);
}

/* GET /apps */
static void on_apps(struct srv *s, struct http_req *q)
{
	struct ui u;
	if (ui_open(s, q, &u, ROLE_VIEWER)) {
		ui_close(&u);
		return;
	}
	struct ui *later = xmalloc(sizeof(*later));
	*later = u;
	api_apps_list(s, q, render, later);
}

static void synced(struct srv *s, struct http_req *q, int status, const char *msg, void *arg)
{
	struct ui *u = arg;
	(void)s;
	if (q && status == 202) {
		ui_redirect(q, "/apps");
	} else if (q) {
		u->q = q;
		ui_error(u, status, "%s", msg);
	}
	ui_close(u);
	free(u);
}

/* POST /apps/:app/sync */
static void on_sync(struct srv *s, struct http_req *q)
{
	struct ui u;
	if (ui_open(s, q, &u, ROLE_DEPLOYER) || ui_form(&u)) {
		ui_close(&u);
		return;
	}
	struct ui *later = xmalloc(sizeof(*later));
	*later = u;
	api_apps_sync(s, q, http_req_param(q, "app"), u.who.name, synced, later);
}

void ui_apps_register(struct srv *s)
{
	http_route(s, "GET", "/apps", ROLE_NONE, on_apps);
	http_route(s, "POST", "/apps/:app/sync", ROLE_NONE, on_sync);
}
