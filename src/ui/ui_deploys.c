/*
 * ui_deploys: deployments — per repository and environment, the timeline
 * of the server's deployments (store/envs.c: state, run, ref, who
 * approved, when, how long, why it failed, the linked release); per app,
 * the deploy controller's releases (deploy/dstore.c: version, strategy,
 * who, when, duration, outcome, rollback reason) and the instances it
 * last recorded.
 */
#include "base/kiln.h"
#include "deploy/dstore.h"
#include "server/srv.h"
#include "store/db.h"
#include "store/envs.h"
#include "ui/ui.h"

static int same_env(const struct deploy_row *a, const struct deploy_row *b)
{
	return !strcmp(a->repo, b->repo) && !strcmp(a->environment, b->environment);
}

static void env_timelines(struct srv *s, struct buf *body)
{
	struct deploy_filter f = { NULL, NULL, NULL, 0, 0, 300 };
	struct deploy_row *v = NULL;
	size_t n = 0;
	struct buf err = BUF_INIT;
	buf_addstr(body, "<h2>Environments</h2>");
	if (deploys_list(s->db, &f, &v, &n, &err)) {
		html_addf(body, "<p class=\"error\">%s</p>", err.buf);
		goto out;
	}
	if (!n)
		buf_addstr(body, "<p class=\"muted\">No deployment recorded yet.</p>");
	/* group by repository/environment, keeping the newest-first order */
	char *done = xcalloc(n ? n : 1, 1);
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		html_addf(body, "<h3>%s → %s</h3><table><thead><tr><th scope=\"col\">State</th>"
			  "<th scope=\"col\">Run</th><th scope=\"col\">Ref</th><th scope=\"col\">Commit"
			  "</th><th scope=\"col\">Triggered by</th><th scope=\"col\">Approved by</th>"
			  "<th scope=\"col\">Release</th><th scope=\"col\">Started</th>"
			  "<th scope=\"col\">Duration</th><th scope=\"col\">Reason</th></tr></thead><tbody>",
			  v[i].repo, v[i].environment);
		for (size_t k = i; k < n; k++) {
			const struct deploy_row *d = &v[k];
			if (done[k] || !same_env(&v[i], d))
				continue;
			done[k] = 1;
			buf_addstr(body, "<tr><td>");
			ui_status(body, d->state, NULL);
			html_addf(body, "</td><td><a href=\"/runs/%D\">run %D</a> %s</td><td><code>",
				  d->run_id, d->run_id, d->job);
			ui_short_ref(body, d->ref);
			buf_addstr(body, "</code></td><td><code>");
			html_esc_n(body, d->sha, strnlen(d->sha, 7));
			html_addf(body, "</code></td><td>%s</td><td>%s</td><td>", d->actor,
				  *d->approved_by ? d->approved_by : "—");
			if (d->release_id)
				html_addf(body, "%s #%D", d->release_app, d->release_id);
			else
				buf_addstr(body, "—");
			buf_addstr(body, "</td><td>");
			ui_time(body, d->started_ms ? d->started_ms : d->created_ms);
			buf_addstr(body, "</td><td>");
			if (d->started_ms)
				ui_duration(body, d->started_ms, d->finished_ms);
			else
				buf_addstr(body, "—");
			html_addf(body, "</td><td>%s</td></tr>", d->reason);
		}
		buf_addstr(body, "</tbody></table>");
	}
	free(done);
out:
	free(v);
	buf_release(&err);
}

static const char *outcome_status(const char *o)
{
	if (!strcmp(o, "succeeded"))
		return "success";
	if (!strcmp(o, "running"))
		return "in_progress";
	if (!strcmp(o, "rolled-back"))
		return "rolled_back";
	return "failure";
}

static void app_releases(struct srv *s, struct buf *body)
{
	struct drelease *r = NULL;
	struct db *own, *db = ui_deploy_db(s, &own);
	size_t n = dstore_releases(db, NULL, 200, &r);
	buf_addstr(body, "<h2>Releases by app</h2>");
	if (!n)
		buf_addstr(body, "<p class=\"muted\">The deploy controller has recorded no release "
			   "in this data directory.</p>");
	char *done = xcalloc(n ? n : 1, 1);
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		struct buf stable = BUF_INIT;
		long stable_id = 0;
		int maint = 0;
		html_addf(body, "<h3>%s</h3><p><a href=\"/deployments/app/%U\">Live rollout of %s</a></p>",
			  r[i].app, r[i].app, r[i].app);
		if (dstore_app_get(db, r[i].app, &stable_id, &stable, &maint) == 0)
			html_addf(body, "<p>Stable: <strong>%s</strong>%S</p>", stable.buf,
				  maint ? " (maintenance mode)" : "");
		buf_release(&stable);
		struct dslot *slots = NULL;
		size_t ns = dstore_slots_load(db, r[i].app, &slots);
		if (ns) {
			buf_addstr(body, "<p>Instances: ");
			for (size_t k = 0; k < ns; k++)
				html_addf(body, "%S<span class=\"instance\">%s on :%d (%s)</span>",
					  k ? ", " : "", slots[k].version, slots[k].port, slots[k].role);
			buf_addstr(body, "</p>");
		}
		free(slots);
		buf_addstr(body, "<table><thead><tr><th scope=\"col\">Outcome</th><th scope=\"col\">"
			   "Version</th><th scope=\"col\">Strategy</th><th scope=\"col\">Who</th>"
			   "<th scope=\"col\">When</th><th scope=\"col\">Duration</th>"
			   "<th scope=\"col\">Reason</th></tr></thead><tbody>");
		for (size_t k = i; k < n; k++) {
			if (done[k] || strcmp(r[k].app, r[i].app))
				continue;
			done[k] = 1;
			buf_addstr(body, "<tr><td>");
			ui_status(body, outcome_status(r[k].outcome), NULL);
			html_addf(body, " <span class=\"muted\">%s</span></td><td><a href=\"/deployments/"
				  "app/%U?release=%D\">%s</a></td><td>%s</td><td>%s</td><td>%s</td><td>",
				  r[k].outcome, r[k].app, (int64_t)r[k].id, r[k].version, r[k].strategy,
				  *r[k].user ? r[k].user : "—", r[k].started_at);
			if (r[k].duration_ms >= 0)
				html_addf(body, "%s", duration_str((double)r[k].duration_ms).s);
			else
				buf_addstr(body, "running");
			html_addf(body, "</td><td>%s</td></tr>", r[k].reason);
		}
		buf_addstr(body, "</tbody></table>");
	}
	free(done);
	free(r);
	db_close(own);
}

/* GET /deployments */
static void on_deploys(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf body = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_VIEWER) == 0) {
		buf_addstr(&body, "<h1>Deployments</h1>");
		env_timelines(s, &body);
		app_releases(s, &body);
		ui_page(&u, 200, "Deployments", "deployments", &body);
	}
	ui_close(&u);
	buf_release(&body);
}

void ui_deploys_register(struct srv *s)
{
	http_route(s, "GET", "/deployments", ROLE_NONE, on_deploys);
}
