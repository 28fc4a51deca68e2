/*
 * ui_settings: the admin's settings pages — users (add, change role,
 * disable), API tokens (create: shown once; revoke) — through the same
 * server/auth.c functions as the API, so the audit log records them alike.
 */
#include "base/kiln.h"
#include "server/srv.h"
#include "store/users.h"
#include "ui/ui.h"

#include <sodium.h>
#include <time.h>

static const char *const roles[] = { "viewer", "developer", "deployer", "admin" };

static void fmt_time(struct buf *out, int64_t ms)
{
	if (!ms) {
		buf_addstr(out, "—");
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32];
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M UTC", &tm);
	html_addf(out, "<time datetime=\"%D\">%s</time>", ms, s);
}

static void role_select(struct buf *out, const char *id, const char *cur)
{
	html_addf(out, "<select id=\"%s\" name=\"role\">", id);
	for (size_t i = 0; i < 4; i++)
		html_addf(out, "<option%S>%s</option>", !strcmp(roles[i], cur) ? " selected" : "",
			  roles[i]);
	buf_addstr(out, "</select>");
}

static void users_section(struct ui *u, struct buf *body)
{
	struct user_row *users = NULL;
	size_t n = 0;
	struct buf err = BUF_INIT;
	buf_addstr(body, "<h2 id=\"users\">Users</h2>");
	if (users_list(u->s->db, &users, &n, &err)) {
		html_addf(body, "<p class=\"error\">%s</p>", err.buf);
		goto out;
	}
	buf_addstr(body, "<table><thead><tr><th scope=\"col\">User</th><th scope=\"col\">Role</th>"
		   "<th scope=\"col\">State</th><th scope=\"col\">Created</th>"
		   "<th scope=\"col\">Change</th></tr></thead><tbody>");
	for (size_t i = 0; i < n; i++) {
		char id[64];
		snprintf(id, sizeof(id), "role-%lld", (long long)users[i].id);
		html_addf(body, "<tr><td>%s</td><td>%s</td><td>%s%s</td><td>", users[i].name,
			  users[i].role, users[i].disabled ? "disabled" : "active",
			  users[i].has_password ? "" : " (token only)");
		fmt_time(body, users[i].created_ms);
		html_addf(body, "</td><td><form method=\"post\" action=\"/settings/users/%U\" "
			  "class=\"inline\">", users[i].name);
		ui_csrf_input(u, body);
		html_addf(body, "<label class=\"sr\" for=\"%s\">Role of %s</label>", id, users[i].name);
		role_select(body, id, users[i].role);
		html_addf(body, " <button type=\"submit\" class=\"secondary\" name=\"do\" value=\"role\">"
			  "Set role</button> <button type=\"submit\" class=\"secondary\" name=\"do\" "
			  "value=\"%s\">%s</button></form></td></tr>",
			  users[i].disabled ? "enable" : "disable",
			  users[i].disabled ? "Enable" : "Disable");
	}
	buf_addstr(body, "</tbody></table><form method=\"post\" action=\"/settings/users\" "
		   "class=\"card filters\">");
	ui_csrf_input(u, body);
	buf_addstr(body, "<div><label for=\"nu-name\">New user</label><input id=\"nu-name\" "
		   "name=\"name\" required></div><div><label for=\"nu-role\">Role</label>");
	role_select(body, "nu-role", "viewer");
	buf_addstr(body, "</div><div><label for=\"nu-pw\">Password (8+ characters)</label>"
		   "<input id=\"nu-pw\" name=\"password\" type=\"password\" "
		   "autocomplete=\"new-password\"></div><div><button type=\"submit\">Add user</button>"
		   "</div></form>");
out:
	free(users);
	buf_release(&err);
}

static void tokens_section(struct ui *u, struct buf *body, const char *new_token)
{
	struct token_row *toks = NULL;
	size_t n = 0;
	struct buf err = BUF_INIT;
	buf_addstr(body, "<h2 id=\"tokens\">API tokens</h2>");
	if (new_token)
		html_addf(body, "<div class=\"notice\" role=\"status\"><p>Your new token — copy it "
			  "now, it is not shown again:</p><p class=\"secret-once\">%s</p></div>",
			  new_token);
	if (tokens_list(u->s->db, 0, &toks, &n, &err)) {
		html_addf(body, "<p class=\"error\">%s</p>", err.buf);
		goto out;
	}
	buf_addstr(body, "<table><thead><tr><th scope=\"col\">Token</th><th scope=\"col\">User</th>"
		   "<th scope=\"col\">Name</th><th scope=\"col\">Created</th>"
		   "<th scope=\"col\">Expires</th><th scope=\"col\">Last used</th>"
		   "<th scope=\"col\">State</th></tr></thead><tbody>");
	for (size_t i = 0; i < n; i++) {
		html_addf(body, "<tr><td><code>%s…</code></td><td>%s</td><td>%s</td><td>",
			  toks[i].prefix, toks[i].user, toks[i].name);
		fmt_time(body, toks[i].created_ms);
		buf_addstr(body, "</td><td>");
		fmt_time(body, toks[i].expires_ms);
		buf_addstr(body, "</td><td>");
		fmt_time(body, toks[i].last_used_ms);
		buf_addstr(body, "</td><td>");
		if (toks[i].revoked_ms) {
			buf_addstr(body, "revoked");
		} else {
			html_addf(body, "<form method=\"post\" action=\"/settings/tokens/%D/revoke\" "
				  "class=\"inline\">", toks[i].id);
			ui_csrf_input(u, body);
			html_addf(body, "<button type=\"submit\" class=\"danger\" aria-label=\"Revoke "
				  "token %s of %s\">Revoke</button></form>", toks[i].name, toks[i].user);
		}
		buf_addstr(body, "</td></tr>");
	}
	buf_addstr(body, "</tbody></table><form method=\"post\" action=\"/settings/tokens\" "
		   "class=\"card filters\">");
	ui_csrf_input(u, body);
	buf_addstr(body, "<div><label for=\"nt-name\">New token for me, named</label>"
		   "<input id=\"nt-name\" name=\"name\" required></div><div><label for=\"nt-days\">"
		   "Expires in days (0: never)</label><input id=\"nt-days\" name=\"days\" "
		   "type=\"number\" min=\"0\" value=\"90\"></div><div><button type=\"submit\">"
		   "Create token</button></div></form>");
out:
	free(toks);
	buf_release(&err);
}

static void settings_page(struct ui *u, const char *message, const char *new_token)
{
	struct buf body = BUF_INIT;
	buf_addstr(&body, "<h1>Settings</h1>");
	if (message)
		html_addf(&body, "<p class=\"notice\" role=\"status\">%s</p>", message);
	users_section(u, &body);
	tokens_section(u, &body, new_token);
	ui_settings_envs(u, &body);
	ui_page(u, 200, "Settings", "settings", &body);
	buf_release(&body);
}

/* GET /settings */
static void on_settings(struct srv *s, struct http_req *q)
{
	struct ui u;
	if (ui_open(s, q, &u, ROLE_ADMIN) == 0)
		settings_page(&u, NULL, NULL);
	ui_close(&u);
}

/* POST /settings/users: add a user */
static void on_user_add(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf err = BUF_INIT;
	enum role r;
	if (ui_open(s, q, &u, ROLE_ADMIN) || ui_form(&u))
		goto out;
	const char *name = ui_field(&u, "name"), *pw = ui_field(&u, "password");
	if (!name || role_parse(ui_field(&u, "role") ? ui_field(&u, "role") : "", &r)) {
		ui_error(&u, 400, "a user needs a name and a role");
		goto out;
	}
	int64_t id;
	if (auth_user_add(s->db, u.who.name, name, pw && *pw ? pw : NULL, r, &id, &err)) {
		settings_page(&u, err.buf, NULL);
		goto out;
	}
	ui_redirect(q, "/settings#users");
out:
	ui_close(&u);
	buf_release(&err);
}

/* POST /settings/users/NAME: do=role|disable|enable */
static void on_user_change(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf err = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_ADMIN) || ui_form(&u))
		goto out;
	const char *name = http_req_param(q, "name"), *op = ui_field(&u, "do");
	enum role r;
	int rc;
	if (op && !strcmp(op, "role") && !role_parse(ui_field(&u, "role") ? ui_field(&u, "role") : "", &r))
		rc = strcmp(name, u.who.name) ? auth_user_set_role(s->db, u.who.name, name, r, &err)
					       : (buf_addstr(&err, "an admin cannot change its own role"), -1);
	else if (op && (!strcmp(op, "disable") || !strcmp(op, "enable")))
		rc = strcmp(name, u.who.name)
			? auth_user_disable(s->db, u.who.name, name, !strcmp(op, "disable"), &err)
			: (buf_addstr(&err, "an admin cannot disable itself"), -1);
	else
		rc = (buf_addstr(&err, "unknown change"), -1);
	if (rc)
		settings_page(&u, err.buf, NULL);
	else
		ui_redirect(q, "/settings#users");
out:
	ui_close(&u);
	buf_release(&err);
}

/* POST /settings/tokens: a token for the caller, shown once */
static void on_token_add(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf err = BUF_INIT, tok = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_ADMIN) || ui_form(&u))
		goto out;
	const char *name = ui_field(&u, "name"), *days = ui_field(&u, "days");
	long d = days && *days ? strtol(days, NULL, 10) : 0;
	int64_t id;
	if (!name || !*name || d < 0 || d > 3650) {
		ui_error(&u, 400, "a token needs a name and 0 to 3650 days");
		goto out;
	}
	if (auth_token_create(s->db, u.who.name, u.who.user_id, name,
			      (int64_t)d * 24 * 3600 * 1000, &tok, &id, &err))
		settings_page(&u, err.buf, NULL);
	else
		settings_page(&u, NULL, tok.buf);
out:
	sodium_memzero(tok.buf, tok.len);
	ui_close(&u);
	buf_release(&err);
	buf_release(&tok);
}

/* POST /settings/tokens/ID/revoke */
static void on_token_revoke(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf err = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_ADMIN) || ui_form(&u))
		goto out;
	int64_t id = strtoll(http_req_param(q, "id"), NULL, 10);
	if (id <= 0 || auth_token_revoke(s->db, u.who.name, id, &err))
		settings_page(&u, err.len ? err.buf : "no such token", NULL);
	else
		ui_redirect(q, "/settings#tokens");
out:
	ui_close(&u);
	buf_release(&err);
}

void ui_settings_register(struct srv *s)
{
	http_route(s, "GET", "/settings", ROLE_NONE, on_settings);
	http_route(s, "POST", "/settings/users", ROLE_NONE, on_user_add);
	http_route(s, "POST", "/settings/users/:name", ROLE_NONE, on_user_change);
	http_route(s, "POST", "/settings/tokens", ROLE_NONE, on_token_add);
	http_route(s, "POST", "/settings/tokens/:id/revoke", ROLE_NONE, on_token_revoke);
}
