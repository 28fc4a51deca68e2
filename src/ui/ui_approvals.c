/*
 * ui_approvals: deployments waiting for a review — the environment, its
 * rules, its reviewers, the wait timer and the approval deadline counting
 * down — with Approve / Reject and a comment for a permitted reviewer only
 * (env_can_review: the rules env_review applies). Decisions go through
 * env_review, so they are audited and re-gate the waiting jobs exactly as
 * from the API.
 */
#include "base/kiln.h"
#include "server/env.h"
#include "server/srv.h"
#include "store/envs.h"
#include "store/runs.h"
#include "ui/ui.h"

static void rules_html(struct buf *out, const struct env_row *e)
{
	buf_addstr(out, "<ul class=\"rules\">");
	buf_addstr(out, "<li>Required reviewers: ");
	if (!e->reviewers.nr)
		buf_addstr(out, "none");
	for (size_t i = 0; i < e->reviewers.nr; i++) {
		const char *r = e->reviewers.v[i];
		int group = str_starts_with(r, "group:");
		html_addf(out, "%S<span class=\"reviewer\">%s%s</span>", i ? ", " : "",
			  strchr(r, ':') ? strchr(r, ':') + 1 : r, group ? " (group)" : "");
	}
	buf_addstr(out, " (one approval suffices)</li>");
	if (e->wait_timer_ms)
		html_addf(out, "<li>Wait timer: %D min</li>", e->wait_timer_ms / 60000);
	if (e->prevent_self_review)
		buf_addstr(out, "<li>Prevent self-review: who triggered the run may not approve</li>");
	if (e->custom_branches) {
		buf_addstr(out, "<li>Deployment refs: ");
		for (size_t i = 0; i < e->patterns.nr; i++)
			html_addf(out, "%S<code>%s</code>", i ? ", " : "", e->patterns.v[i]);
		buf_addstr(out, "</li>");
	}
	buf_addstr(out, "</ul>");
}

static void one(struct ui *u, struct buf *body, const struct deploy_row *d, int64_t now)
{
	struct env_row e = ENV_ROW_INIT;
	struct buf err = BUF_INIT;
	int have_env = envs_get(u->s->db, d->repo, d->environment, &e, &err) == 0;
	html_addf(body, "<section class=\"card approval\" aria-labelledby=\"dep-%D\">"
		  "<h2 id=\"dep-%D\">%s → <span class=\"env\">%s</span></h2><p>",
		  d->id, d->id, d->repo, d->environment);
	ui_status(body, "waiting", NULL);
	html_addf(body, " <a href=\"/runs/%D\">run %D</a>, job <strong>%s</strong>, <code>",
		  d->run_id, d->run_id, d->job);
	ui_short_ref(body, d->ref);
	buf_addstr(body, "</code> at <code>");
	html_esc_n(body, d->sha, strnlen(d->sha, 7));
	html_addf(body, "</code>, triggered by %s, waiting since ", d->actor);
	ui_time(body, d->created_ms);
	buf_addstr(body, "</p>");
	if (*d->reason)
		html_addf(body, "<p class=\"muted\">%s</p>", d->reason);
	if (have_env) {
		rules_html(body, &e);
		if (e.wait_timer_ms && d->created_ms + e.wait_timer_ms > now) {
			html_addf(body, "<p>Wait timer: <span class=\"timer\" data-until=\"%D\">"
				  "until ", d->created_ms + e.wait_timer_ms);
			ui_time(body, d->created_ms + e.wait_timer_ms);
			buf_addstr(body, "</span></p>");
		}
		html_addf(body, "<p>Approval deadline: <span class=\"timer\" data-until=\"%D\">",
			  d->created_ms + e.approval_timeout_ms);
		ui_time(body, d->created_ms + e.approval_timeout_ms);
		buf_addstr(body, "</span></p>");
	}
	int can = env_can_review(u->s->db, d, &u->who, &err);
	if (can == 1) {
		html_addf(body, "<form method=\"post\" action=\"/approvals/%D\" class=\"review\">",
			  d->run_id);
		ui_csrf_input(u, body);
		html_addf(body, "<input type=\"hidden\" name=\"environment\" value=\"%s\">"
			  "<label for=\"c-%D\">Comment</label><textarea id=\"c-%D\" name=\"comment\" "
			  "rows=\"2\" cols=\"60\"></textarea><div class=\"actions\">"
			  "<button type=\"submit\" name=\"decision\" value=\"approve\">Approve and deploy"
			  "</button><button type=\"submit\" name=\"decision\" value=\"reject\" "
			  "class=\"danger\">Reject</button></div></form>",
			  d->environment, d->id, d->id);
	} else if (*d->approved_by) {
		html_addf(body, "<p>Approved by %s; waiting for its timer.</p>", d->approved_by);
	} else {
		buf_addstr(body, "<p class=\"muted\">You are not a reviewer of this deployment.</p>");
	}
	buf_addstr(body, "</section>");
	env_row_release(&e);
	buf_release(&err);
}

/* GET /approvals */
static void on_approvals(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct deploy_row *v = NULL;
	size_t n = 0;
	struct buf body = BUF_INIT, err = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_VIEWER))
		goto out;
	struct deploy_filter f = { NULL, NULL, "waiting", 0, 0, 200 };
	if (deploys_list(s->db, &f, &v, &n, &err)) {
		ui_error(&u, 503, "the store is unavailable: %s", err.buf);
		goto out;
	}
	buf_addstr(&body, "<h1>Approvals</h1>");
	if (!n)
		buf_addstr(&body, "<p class=\"muted\">No deployment is waiting.</p>");
	int64_t now = runs_now_ms();
	for (size_t i = 0; i < n; i++)
		one(&u, &body, &v[i], now);
	ui_page(&u, 200, "Approvals", "approvals", &body);
out:
	ui_close(&u);
	free(v);
	buf_release(&body);
	buf_release(&err);
}

/* POST /approvals/:run  decision=approve|reject, environment, comment */
static void on_review(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf err = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_DEPLOYER) || ui_form(&u))
		goto out;
	const char *decision = ui_field(&u, "decision"), *env = ui_field(&u, "environment");
	const char *comment = ui_field(&u, "comment");
	int64_t run = strtoll(http_req_param(q, "run"), NULL, 10);
	if (run <= 0 || !decision || (strcmp(decision, "approve") && strcmp(decision, "reject"))) {
		ui_error(&u, 400, "a review needs a run and a decision (approve or reject)");
		goto out;
	}
	int decided = 0;
	int r = env_review(s->db, &u.who, run, env && *env ? env : NULL,
			   !strcmp(decision, "approve"), comment && *comment ? comment : NULL,
			   runs_now_ms(), &s->env_events, &decided, &err);
	if (r == ENV_REVIEW_DONE)
		ui_redirect(q, "/approvals");
	else if (r == ENV_REVIEW_FORBIDDEN)
		ui_error(&u, 403, "%s", err.buf);
	else if (r == ENV_REVIEW_NOTHING)
		ui_error(&u, 409, "%s", err.len ? err.buf : "nothing to review");
	else
		ui_error(&u, 503, "the store is unavailable: %s", err.buf);
out:
	ui_close(&u);
	buf_release(&err);
}

void ui_approvals_register(struct srv *s)
{
	http_route(s, "GET", "/approvals", ROLE_NONE, on_approvals);
	http_route(s, "POST", "/approvals/:run", ROLE_NONE, on_review);
}
