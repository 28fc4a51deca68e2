/*
 * ui_badge: /badge/REPO/WORKFLOW.svg — the status of a workflow's latest
 * finished run (optionally ?branch=), drawn like GitHub's badges:
 * "NAME | passing". Public like GitHub's (a forge's README fetches it
 * without a session): it tells only passing / failing / cancelled / no
 * status, never a log, a commit or an actor.
 */
#include "base/kiln.h"
#include "server/srv.h"
#include "store/runview.h"
#include "ui/ui.h"

/* a rough text width for 11px sans-serif (the badge's font) */
static int text_w(const char *s)
{
	int w = 0;
	for (const char *p = s; *p; p++)
		w += (*p >= 'A' && *p <= 'Z') || *p == 'w' || *p == 'm' ? 8 : *p == ' ' ? 4 : 7;
	return w + 10;
}

static void badge(struct srv *s, struct http_req *q, const char *repo, const char *file)
{
	struct buf err = BUF_INIT, svg = BUF_INIT, wf = BUF_INIT;
	struct runview *v = NULL;
	size_t n = 0;
	int more = 0;
	const char *msg = "no status", *colour = "#6e7681";
	/* "ci.svg" -> "ci" (a file base name or a workflow name) */
	buf_addstr(&wf, file);
	if (str_ends_with(wf.buf, ".svg"))
		buf_setlen(&wf, wf.len - 4);
	struct runview_filter f = { repo, wf.buf, http_req_query(q, "branch"), NULL, NULL, NULL };
	const char *label = wf.buf;
	if (runview_list(s->db, &f, 0, 20, &v, &n, &more, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (!*v[i].conclusion)
				continue; /* running: the last finished one counts */
			label = v[i].name;
			if (!strcmp(v[i].conclusion, "success"))
				msg = "passing", colour = "#1a7f37";
			else if (!strcmp(v[i].conclusion, "failure"))
				msg = "failing", colour = "#cf222e";
			else
				msg = v[i].conclusion, colour = "#6e7681";
			break;
		}
	}
	int lw = text_w(label), mw = text_w(msg);
	html_addf(&svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"20\" "
		  "role=\"img\" aria-label=\"%s: %s\"><title>%s: %s</title>"
		  "<rect width=\"%d\" height=\"20\" rx=\"3\" fill=\"#555\"/>"
		  "<rect x=\"%d\" width=\"%d\" height=\"20\" rx=\"3\" fill=\"%s\"/>"
		  "<rect x=\"%d\" width=\"4\" height=\"20\" fill=\"%s\"/>"
		  "<g fill=\"#fff\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\">"
		  "<text x=\"6\" y=\"14\">%s</text><text x=\"%d\" y=\"14\">%s</text></g></svg>",
		  lw + mw, label, msg, label, msg, lw + mw, lw, mw, colour, lw, colour, label,
		  lw + 5, msg);
	http_reply_header(q, "Cache-Control", "no-cache");
	http_reply_header(q, "Content-Security-Policy", "default-src 'none'");
	http_reply_header(q, "X-Content-Type-Options", "nosniff");
	http_reply_raw(q, 200, "image/svg+xml", svg.buf, svg.len);
	free(v);
	buf_release(&err);
	buf_release(&svg);
	buf_release(&wf);
}

/* GET /badge/:repo/:workflow and /badge/:owner/:repo/:workflow */
static void on_badge(struct srv *s, struct http_req *q)
{
	struct buf repo = BUF_INIT;
	const char *owner = http_req_param(q, "owner");
	if (owner)
		buf_addf(&repo, "%s/", owner);
	buf_addstr(&repo, http_req_param(q, "repo"));
	badge(s, q, repo.buf, http_req_param(q, "workflow"));
	buf_release(&repo);
}

void ui_badge_register(struct srv *s)
{
	http_route(s, "GET", "/badge/:repo/:workflow", ROLE_NONE, on_badge);
	http_route(s, "GET", "/badge/:owner/:repo/:workflow", ROLE_NONE, on_badge);
}
