/*
 * ui_envs: settings of repositories and environments (admin) — every
 * repository with its webhook URLs; its environments with their rules
 * (edited through env_put_json, the API's own parser and checks),
 * variables, and secrets that can be set or removed but never shown (only
 * their names and update times are read back). Every change is audited by
 * server/env.c.
 */
#include "base/kiln.h"
#include "server/env.h"
#include "server/srv.h"
#include "store/envs.h"
#include "store/repos.h"
#include "ui/ui.h"

#include <sodium.h>

static void env_section(struct ui *u, struct buf *body, const struct env_row *e)
{
	struct strvec vars = STRVEC_INIT, secrets = STRVEC_INIT;
	struct buf err = BUF_INIT, reviewers = BUF_INIT, patterns = BUF_INIT, act = BUF_INIT;
	html_addf(body, "<section class=\"card\" aria-labelledby=\"env-%D\"><h3 id=\"env-%D\">%s → %s"
		  "</h3>", e->id, e->id, e->repo, e->name);
	for (size_t i = 0; i < e->reviewers.nr; i++)
		buf_addf(&reviewers, "%s%s", i ? ", " : "", e->reviewers.v[i]);
	for (size_t i = 0; i < e->patterns.nr; i++)
		buf_addf(&patterns, "%s%s", i ? ", " : "", e->patterns.v[i]);
	/* environments are named by repository and name (ids change when
	 * rules are replaced) */
	html_addf(&act, "<input type=\"hidden\" name=\"repo\" value=\"%s\"><input type=\"hidden\" "
		  "name=\"env\" value=\"%s\">", e->repo, e->name);
	buf_addstr(body, "<form method=\"post\" action=\"/settings/environment\" class=\"filters\">");
	ui_csrf_input(u, body);
	buf_addstr(body, act.buf);
	html_addf(body, "<input type=\"hidden\" name=\"do\" value=\"rules\">"
		  "<div><label for=\"rv-%D\">Reviewers (user:NAME, group:NAME)</label>"
		  "<input id=\"rv-%D\" name=\"reviewers\" size=\"30\" value=\"%s\"></div>"
		  "<div><label for=\"wt-%D\">Wait timer (min)</label><input id=\"wt-%D\" "
		  "name=\"wait_timer\" type=\"number\" min=\"0\" max=\"43200\" value=\"%D\"></div>"
		  "<div><label for=\"bp-%D\">Deployment refs (branch:PAT, tag:PAT; empty: any)</label>"
		  "<input id=\"bp-%D\" name=\"patterns\" size=\"24\" value=\"%s\"></div>"
		  "<div><label for=\"ps-%D\">Prevent self-review</label><input id=\"ps-%D\" "
		  "type=\"checkbox\" name=\"prevent_self_review\" value=\"1\"%S></div>"
		  "<div><button type=\"submit\" class=\"secondary\">Save rules</button></div></form>",
		  e->id, e->id, reviewers.buf, e->id, e->id, e->wait_timer_ms / 60000, e->id, e->id,
		  patterns.buf, e->id, e->id, e->prevent_self_review ? " checked" : "");
	if (envs_var_list(u->s->db, e->id, &vars, &err) == 0 && vars.nr) {
		buf_addstr(body, "<p>Variables: ");
		for (size_t i = 0; i + 1 < vars.nr; i += 2)
			html_addf(body, "%S<code>%s=%s</code>", i ? ", " : "", vars.v[i], vars.v[i + 1]);
		buf_addstr(body, "</p>");
	}
	buf_addstr(body, "<p>Secrets (write-only): ");
	if (envs_secret_names(u->s->db, e->id, &secrets, &err) == 0 && secrets.nr) {
		for (size_t i = 0; i < secrets.nr; i++) {
			const char *tab = strchr(secrets.v[i], '\t');
			struct buf name = BUF_INIT;
			buf_add(&name, secrets.v[i], tab ? (size_t)(tab - secrets.v[i]) : strlen(secrets.v[i]));
			html_addf(body, "%S<code class=\"secret-name\">%s</code>", i ? ", " : "", name.buf);
			buf_release(&name);
		}
	} else {
		buf_addstr(body, "none");
	}
	buf_addstr(body, "</p>");
	buf_addstr(body, "<form method=\"post\" action=\"/settings/environment\" class=\"filters\">");
	ui_csrf_input(u, body);
	buf_addstr(body, act.buf);
	html_addf(body, "<div><label for=\"kind-%D\">Set</label><select id=\"kind-%D\" name=\"do\">"
		  "<option value=\"secret\">secret</option><option value=\"variable\">variable</option>"
		  "</select></div><div><label for=\"sn-%D\">Name</label><input id=\"sn-%D\" "
		  "name=\"name\" required></div><div><label for=\"sv-%D\">Value</label><input id=\"sv-%D\" "
		  "name=\"value\" type=\"password\" autocomplete=\"off\"></div><div><button "
		  "type=\"submit\" class=\"secondary\">Set</button></div></form></section>",
		  e->id, e->id, e->id, e->id, e->id, e->id);
	strvec_clear(&vars);
	strvec_clear(&secrets);
	buf_release(&err);
	buf_release(&reviewers);
	buf_release(&patterns);
	buf_release(&act);
}

/* the repositories and environments part of /settings */
void ui_settings_envs(struct ui *u, struct buf *body)
{
	struct repo_row *repos = NULL;
	size_t n = 0;
	struct env_row *envs = NULL;
	size_t ne = 0;
	struct buf err = BUF_INIT;
	const char *host = http_req_header(u->q, "host");
	buf_addstr(body, "<h2 id=\"repositories\">Repositories</h2>");
	if (store_repo_list(u->s->db, &repos, &n, &err) == 0) {
		if (!n)
			buf_addstr(body, "<p class=\"muted\">None: <code>kiln repo add NAME URL</code> "
				   "adds one and prints its webhook secret once.</p>");
		else
			buf_addstr(body, "<table><thead><tr><th scope=\"col\">Repository</th><th scope="
				   "\"col\">Source</th><th scope=\"col\">Webhook URLs (secret: shown once "
				   "by <code>kiln repo add</code>)</th><th scope=\"col\">Polling</th></tr>"
				   "</thead><tbody>");
		for (size_t i = 0; i < n; i++) {
			html_addf(body, "<tr><td>%s</td><td class=\"mono\">%s</td><td class=\"mono\">",
				  repos[i].name, repos[i].url);
			static const char *const forges[] = { "github", "gitea", "gitlab" };
			for (size_t f = 0; f < 3; f++)
				html_addf(body, "%S%s://%s/hooks/%s?repo=%s", f ? "<br>" : "",
					  u->secure ? "https" : "http", host ? host : "HOST", forges[f],
					  repos[i].name);
			if (repos[i].poll_ms)
				html_addf(body, "</td><td>every %D s</td></tr>", repos[i].poll_ms / 1000);
			else
				buf_addstr(body, "</td><td>off</td></tr>");
		}
		if (n)
			buf_addstr(body, "</tbody></table>");
	}
	buf_addstr(body, "<h2 id=\"environments\">Environments</h2>");
	if (envs_list(u->s->db, NULL, &envs, &ne, &err) == 0) {
		for (size_t i = 0; i < ne; i++)
			env_section(u, body, &envs[i]);
		for (size_t i = 0; i < ne; i++)
			env_row_release(&envs[i]);
	}
	buf_addstr(body, "<form method=\"post\" action=\"/settings/environments\" class=\"card filters\">");
	ui_csrf_input(u, body);
	buf_addstr(body, "<div><label for=\"ne-repo\">Repository</label><input id=\"ne-repo\" "
		   "name=\"repo\" required></div><div><label for=\"ne-name\">New environment</label>"
		   "<input id=\"ne-name\" name=\"name\" required></div><div><button type=\"submit\">"
		   "Add environment</button></div></form>");
	free(envs);
	store_repo_list_free(repos, n);
	buf_release(&err);
}

/* "user:bob, group:ops" -> [{"type":"user","name":"bob"}, ...] */
static json_t *reviewers_json(const char *s)
{
	json_t *a = json_array();
	struct buf one = BUF_INIT;
	for (const char *p = s; p && *p;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		buf_reset(&one);
		buf_add(&one, p, n);
		char *t = one.buf;
		while (*t == ' ')
			t++;
		buf_rtrim(&one);
		if (*t) {
			const char *colon = strchr(t, ':');
			json_t *r = colon ? json_pack("{s:s%,s:s}", "type", t, (size_t)(colon - t),
						      "name", colon + 1)
					  : json_pack("{s:s,s:s}", "type", "user", "name", t);
			json_array_append_new(a, r);
		}
		p += n + (c ? 1 : 0);
	}
	buf_release(&one);
	return a;
}

static json_t *patterns_json(const char *s)
{
	if (!s || !*s)
		return json_null();
	json_t *a = reviewers_json(s); /* same "type:name" list */
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);
		if (!strcmp(json_string_value(json_object_get(o, "type")), "user"))
			json_object_set_new(o, "type", json_string("branch"));
	}
	return json_pack("{s:o}", "patterns", a);
}

/* POST /settings/environments: repo, name */
static void on_env_add(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf err = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_ADMIN) || ui_form(&u))
		goto out;
	json_t *empty = json_object();
	const char *repo = ui_field(&u, "repo"), *name = ui_field(&u, "name");
	struct repo_row rr;
	memset(&rr, 0, sizeof(rr));
	if (!repo || !name || store_repo_get(s->db, repo, &rr, &err)) {
		ui_error(&u, 404, "no repository '%s'", repo ? repo : "");
	} else if (env_put_json(s->db, u.who.name, repo, name, empty, &err)) {
		ui_error(&u, 400, "%s", err.buf);
	} else {
		ui_redirect(q, "/settings#environments");
	}
	repo_row_release(&rr);
	json_decref(empty);
out:
	ui_close(&u);
	buf_release(&err);
}

/* POST /settings/environment: repo, env, do=rules|secret|variable */
static void on_env_change(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf err = BUF_INIT;
	struct env_row row = ENV_ROW_INIT, *e = NULL;
	if (ui_open(s, q, &u, ROLE_ADMIN) || ui_form(&u))
		goto out;
	const char *repo = ui_field(&u, "repo"), *env = ui_field(&u, "env");
	if (repo && env && envs_get(s->db, repo, env, &row, &err) == 0)
		e = &row;
	const char *op = ui_field(&u, "do");
	int r;
	if (!e || !op) {
		ui_error(&u, 404, "no such environment");
		goto out;
	}
	if (!strcmp(op, "rules")) {
		const char *wt = ui_field(&u, "wait_timer");
		json_t *b = json_pack("{s:o,s:I,s:b,s:o}", "reviewers",
				      reviewers_json(ui_field(&u, "reviewers")), "wait_timer",
				      (json_int_t)(wt && *wt ? strtoll(wt, NULL, 10) : 0),
				      "prevent_self_review", ui_field(&u, "prevent_self_review") != NULL,
				      "deployment_branch_policy", patterns_json(ui_field(&u, "patterns")));
		r = env_put_json(s->db, u.who.name, e->repo, e->name, b, &err);
		json_decref(b);
	} else if (!strcmp(op, "secret") || !strcmp(op, "variable")) {
		const char *name = ui_field(&u, "name"), *value = ui_field(&u, "value");
		value = value ? value : "";
		r = !name ? (buf_addstr(&err, "a name is needed"), KILN_EINVAL)
		    : !strcmp(op, "secret")
			? env_secret_set(s->db, s->secrets, u.who.name, e->repo, e->name, name, value,
					 strlen(value), &err)
			: env_var_set(s->db, u.who.name, e->repo, e->name, name, value, &err);
	} else {
		r = (buf_addstr(&err, "unknown change"), KILN_EINVAL);
	}
	if (r)
		ui_error(&u, r == KILN_EINVAL ? 400 : 503, "%s", err.buf);
	else
		ui_redirect(q, "/settings#environments");
out:
	env_row_release(&row);
	/* the form carried a secret value: wipe the copies we hold */
	for (size_t i = 0; i < u.form.nr; i++)
		sodium_memzero(u.form.v[i], strlen(u.form.v[i]));
	ui_close(&u);
	buf_release(&err);
}

void ui_envs_register(struct srv *s)
{
	http_route(s, "POST", "/settings/environments", ROLE_NONE, on_env_add);
	http_route(s, "POST", "/settings/environment", ROLE_NONE, on_env_change);
}
