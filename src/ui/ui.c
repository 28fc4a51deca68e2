/*
 * ui: the frame of every page of the web UI — session, roles, CSRF,
 * security headers, layout — plus sign-in, sign-out and the embedded
 * static files (see ui.h).
 */
#include "base/kiln.h"
#include "server/api.h"
#include "server/srv.h"
#include "store/runs.h"
#include "ui/assets.h"
#include "ui/ui.h"

#include <sodium.h>
#include <stdarg.h>

#define SESSION_MAX_AGE_S (AUTH_LOGIN_TOKEN_TTL_MS / 1000)
#define PRELOGIN_MAX_AGE_S 3600

const struct ui_asset *ui_asset_find(const char *name)
{
	for (size_t i = 0; i < ui_nassets; i++)
		if (!strcmp(ui_assets[i].name, name))
			return &ui_assets[i];
	return NULL;
}

const char *ui_asset_text(const char *name)
{
	const struct ui_asset *a = ui_asset_find(name);
	if (!a) {
		fprintf(stderr, "BUG: web/%s is not embedded\n", name);
		abort();
	}
	return (const char *)a->data;
}

void ui_security_headers(struct http_req *q)
{
	/* scripts and styles only from our own embedded files: no inline
	 * script can run even if some text escaped escaping */
	http_reply_header(q, "Content-Security-Policy",
			  "default-src 'none'; script-src 'self'; style-src 'self'; "
			  "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
			  "frame-ancestors 'none'; base-uri 'none'");
	http_reply_header(q, "X-Content-Type-Options", "nosniff");
	http_reply_header(q, "X-Frame-Options", "DENY");
	http_reply_header(q, "Referrer-Policy", "same-origin");
}

/* TLS is terminated in front of kiln (docs/internals/server.md): trust
 * the proxy's X-Forwarded-Proto for the cookie's Secure flag */
static int request_secure(struct http_req *q)
{
	const char *p = http_req_header(q, "x-forwarded-proto");
	return p && !strcasecmp(p, "https");
}

void ui_redirect(struct http_req *q, const char *location)
{
	ui_security_headers(q);
	http_reply_header(q, "Location", location);
	http_reply_raw(q, 303, "text/plain; charset=utf-8", "see other\n", 10);
}

static void to_login(struct http_req *q)
{
	struct buf loc = BUF_INIT;
	buf_addstr(&loc, "/login?next=");
	html_url(&loc, http_req_path(q));
	ui_redirect(q, loc.buf);
	buf_release(&loc);
}

int ui_open(struct srv *s, struct http_req *q, struct ui *u, enum role min_role)
{
	memset(u, 0, sizeof(*u));
	u->s = s;
	u->q = q;
	u->secure = request_secure(q);
	u->who.role = ROLE_NONE;
	char tok[AUTH_TOKEN_LEN + 8];
	const char *cookies = http_req_header(q, "cookie");
	if (cookies && ui_cookie_get(cookies, UI_SESSION_COOKIE, tok, sizeof(tok))) {
		struct buf authz = BUF_INIT;
		buf_addf(&authz, "Bearer %s", tok);
		if (srv_authenticate(s, authz.buf, &u->who) == 0) {
			memcpy(u->session, tok, sizeof(tok));
			ui_csrf_token(u->session, u->csrf);
		} else {
			u->who.role = ROLE_NONE;
		}
		sodium_memzero(authz.buf, authz.len);
		buf_release(&authz);
		sodium_memzero(tok, sizeof(tok));
	}
	if (u->who.role == ROLE_NONE) {
		to_login(q);
		return -1;
	}
	if (u->who.role < min_role) {
		ui_error(u, 403, "this page needs the %s role (you are %s)", role_name(min_role),
			 role_name(u->who.role));
		return -1;
	}
	return 0;
}

void ui_close(struct ui *u)
{
	if (u->who.name)
		principal_release(&u->who);
	strvec_clear(&u->form);
	sodium_memzero(u->session, sizeof(u->session));
	sodium_memzero(u->csrf, sizeof(u->csrf));
}

int ui_form(struct ui *u)
{
	const struct buf *b = http_req_body(u->q);
	if (ui_form_parse(b->buf, b->len, &u->form)) {
		ui_error(u, 400, "malformed form");
		return -1;
	}
	if (!ui_csrf_check(u->session, ui_field(u, "csrf"))) {
		ui_error(u, 403, "missing or wrong CSRF token: reload the page and try again");
		return -1;
	}
	return 0;
}

const char *ui_field(const struct ui *u, const char *name)
{
	return strvec_getenv(&u->form, name);
}

void ui_csrf_input(const struct ui *u, struct buf *out)
{
	html_addf(out, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", u->csrf);
}

static const struct {
	const char *key, *href, *label;
	enum role role;
} nav_items[] = {
	{ "repos", "/", "Repositories", ROLE_VIEWER },
	{ "runs", "/runs", "Runs", ROLE_VIEWER },
	{ "approvals", "/approvals", "Approvals", ROLE_VIEWER },
	{ "deployments", "/deployments", "Deployments", ROLE_VIEWER },
	{ "apps", "/apps", "Apps", ROLE_VIEWER },
	{ "dora", "/dora", "DORA", ROLE_VIEWER },
	{ "settings", "/settings", "Settings", ROLE_ADMIN },
};

static void asset_url(struct buf *out, const char *name)
{
	const struct ui_asset *a = ui_asset_find(name);
	buf_addf(out, "/static/%s?v=%s", name, a ? a->hash : "0");
}

void ui_page(struct ui *u, int status, const char *title, const char *section,
	     const struct buf *body)
{
	struct buf nav = BUF_INIT, who = BUF_INIT, out = BUF_INIT;
	struct buf css = BUF_INIT, js = BUF_INIT, icon = BUF_INIT;
	for (size_t i = 0; i < sizeof(nav_items) / sizeof(nav_items[0]); i++) {
		if (u->who.role < nav_items[i].role)
			continue;
		int cur = section && !strcmp(section, nav_items[i].key);
		html_addf(&nav, "<a href=\"%s\"%S>%s</a>", nav_items[i].href,
			  cur ? " aria-current=\"page\"" : "", nav_items[i].label);
	}
	if (u->who.name) {
		html_addf(&who, "<span class=\"user\">%s <span class=\"role\">%s</span></span>"
			  "<form method=\"post\" action=\"/logout\">",
			  u->who.name, role_name(u->who.role));
		ui_csrf_input(u, &who);
		buf_addstr(&who, "<button type=\"submit\" class=\"link\">Sign out</button></form>");
	}
	asset_url(&css, "kiln.css");
	asset_url(&js, "kiln.js");
	asset_url(&icon, "favicon.svg");
	const struct tmpl_var vars[] = {
		{ "title", title }, { "css", css.buf }, { "js", js.buf }, { "icon", icon.buf },
		{ "nav", nav.buf }, { "who", who.buf }, { "body", body->buf },
	};
	tmpl_render(&out, ui_asset_text("layout.html"), vars, sizeof(vars) / sizeof(vars[0]));
	ui_security_headers(u->q);
	http_reply_raw(u->q, status, "text/html; charset=utf-8", out.buf, out.len);
	buf_release(&nav);
	buf_release(&who);
	buf_release(&out);
	buf_release(&css);
	buf_release(&js);
	buf_release(&icon);
}

void ui_error(struct ui *u, int status, const char *fmt, ...)
{
	struct buf msg = BUF_INIT, body = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	html_addf(&body, "<h1>%s</h1><p class=\"error\" role=\"alert\">%s</p>",
		  status == 403 ? "Not allowed" : status == 404 ? "Not found" : "Error", msg.buf);
	ui_page(u, status, status == 404 ? "Not found" : "Error", NULL, &body);
	buf_release(&msg);
	buf_release(&body);
}

/* ---- sign-in, sign-out ------------------------------------------------ */

static void login_form(struct http_req *q, int status, const char *next, const char *user,
		       const char *message)
{
	char pre[65];
	char csrf[UI_CSRF_LEN + 1];
	struct buf cookie = BUF_INIT, out = BUF_INIT, css = BUF_INIT, icon = BUF_INIT;
	struct buf msg = BUF_INIT;
	const char *cookies = http_req_header(q, "cookie");
	/* keep the pre-session secret the browser has, so two open tabs work */
	if (!cookies || !ui_cookie_get(cookies, UI_PRELOGIN_COOKIE, pre, sizeof(pre)) ||
	    strlen(pre) != 64)
		ui_random_hex(pre);
	ui_csrf_token(pre, csrf);
	ui_cookie_set(&cookie, UI_PRELOGIN_COOKIE, pre, PRELOGIN_MAX_AGE_S, request_secure(q));
	if (message)
		html_addf(&msg, "<p class=\"error\" role=\"alert\">%s</p>", message);
	asset_url(&css, "kiln.css");
	asset_url(&icon, "favicon.svg");
	const struct tmpl_var vars[] = {
		{ "css", css.buf }, { "icon", icon.buf }, { "csrf", csrf },
		{ "next", ui_next_ok(next) ? next : "/" }, { "user", user ? user : "" },
		{ "message", msg.buf },
	};
	tmpl_render(&out, ui_asset_text("login.html"), vars, sizeof(vars) / sizeof(vars[0]));
	ui_security_headers(q);
	http_reply_header(q, "Set-Cookie", cookie.buf);
	http_reply_raw(q, status, "text/html; charset=utf-8", out.buf, out.len);
	sodium_memzero(pre, sizeof(pre));
	buf_release(&cookie);
	buf_release(&out);
	buf_release(&css);
	buf_release(&icon);
	buf_release(&msg);
}

/* GET /login */
static void on_login_page(struct srv *s, struct http_req *q)
{
	login_form(q, 200, http_req_query(q, "next"), NULL, NULL);
}

/* a sign-in waiting for its Argon2id check (api_login_start) */
struct ui_login {
	char *next, *user; /* copies of the form's fields (NULL when absent) */
};

static void login_done(struct http_req *q, const struct api_login *res, void *arg)
{
	struct ui_login *l = arg;
	struct buf cookie = BUF_INIT;
	if (!q) {
		/* the browser went away: nothing to answer */
	} else if (res->r == AUTH_LOGIN_OK) {
		ui_cookie_set(&cookie, UI_SESSION_COOKIE, res->tok.buf, SESSION_MAX_AGE_S,
			      request_secure(q));
		http_reply_header(q, "Set-Cookie", cookie.buf);
		buf_reset(&cookie);
		ui_cookie_set(&cookie, UI_PRELOGIN_COOKIE, "", 0, request_secure(q));
		http_reply_header(q, "Set-Cookie", cookie.buf);
		ui_redirect(q, ui_next_ok(l->next) ? l->next : "/");
	} else if (res->r == AUTH_LOGIN_THROTTLED) {
		struct buf m = BUF_INIT;
		buf_addf(&m, "too many failed sign-ins: try again in %lld s",
			 (long long)((res->retry + 999) / 1000));
		login_form(q, 429, l->next, l->user, m.buf);
		buf_release(&m);
	} else if (res->r == AUTH_LOGIN_DENIED) {
		login_form(q, 401, l->next, l->user, "wrong user name or password");
	} else {
		login_form(q, 503, l->next, l->user, "the store is unavailable: try again");
	}
	sodium_memzero(cookie.buf, cookie.len);
	buf_release(&cookie);
	free(l->next);
	free(l->user);
	free(l);
}

/* POST /login: the form's CSRF token must match the pre-session cookie;
 * then auth_login (Argon2id, rate-limited) makes the session's token, on
 * the thread pool (api_login_start) as the API's login */
static void on_login(struct srv *s, struct http_req *q)
{
	struct strvec f = STRVEC_INIT;
	char pre[65];
	const struct buf *b = http_req_body(q);
	const char *cookies = http_req_header(q, "cookie");
	if (ui_form_parse(b->buf, b->len, &f)) {
		login_form(q, 400, NULL, NULL, "malformed form");
		goto out;
	}
	const char *user = strvec_getenv(&f, "user"), *pw = strvec_getenv(&f, "password");
	const char *next = strvec_getenv(&f, "next");
	if (!cookies || !ui_cookie_get(cookies, UI_PRELOGIN_COOKIE, pre, sizeof(pre)) ||
	    !ui_csrf_check(pre, strvec_getenv(&f, "csrf"))) {
		login_form(q, 403, next, user, "the form expired (missing or wrong CSRF token): "
			   "please sign in again");
		goto out;
	}
	if (!user || !pw || !*user) {
		login_form(q, 400, next, user, "enter a user name and a password");
		goto out;
	}
	struct ui_login *l = xcalloc(1, sizeof(*l));
	l->next = next ? xstrdup(next) : NULL;
	l->user = xstrdup(user);
	api_login_start(s, q, user, pw, login_done, l);
out:
	for (size_t i = 0; i < f.nr; i++) /* the password's copy */
		sodium_memzero(f.v[i], strlen(f.v[i]));
	sodium_memzero(pre, sizeof(pre));
	strvec_clear(&f);
}

/* POST /logout: revoke the session's token, forget the cookie */
static void on_logout(struct srv *s, struct http_req *q)
{
	struct ui u;
	struct buf err = BUF_INIT, cookie = BUF_INIT;
	if (ui_open(s, q, &u, ROLE_VIEWER) == 0 && ui_form(&u) == 0) {
		if (u.who.token_id)
			auth_token_revoke(s->db, u.who.name, u.who.token_id, &err);
		ui_cookie_set(&cookie, UI_SESSION_COOKIE, "", 0, u.secure);
		http_reply_header(q, "Set-Cookie", cookie.buf);
		ui_redirect(q, "/login");
	}
	ui_close(&u);
	buf_release(&err);
	buf_release(&cookie);
}

/* GET /static/NAME: the embedded files; cacheable forever when the URL
 * names their current hash (?v=) */
static void on_static(struct srv *s, struct http_req *q)
{
	const struct ui_asset *a = ui_asset_find(http_req_param(q, "name"));
	if (!a || str_ends_with(a->name, ".html")) {
		ui_security_headers(q);
		http_reply_raw(q, 404, "text/plain; charset=utf-8", "not found\n", 10);
		return;
	}
	const char *v = http_req_query(q, "v");
	char etag[32];
	snprintf(etag, sizeof(etag), "\"%s\"", a->hash);
	ui_security_headers(q);
	http_reply_header(q, "ETag", etag);
	http_reply_header(q, "Cache-Control", v && !strcmp(v, a->hash)
			  ? "public, max-age=31536000, immutable" : "no-cache");
	const char *inm = http_req_header(q, "if-none-match");
	if (inm && !strcmp(inm, etag)) {
		http_reply_raw(q, 304, a->content_type, "", 0);
		return;
	}
	http_reply_raw(q, 200, a->content_type, a->data, a->len);
}

void ui_register(struct srv *s)
{
	http_route(s, "GET", "/login", ROLE_NONE, on_login_page);
	http_route(s, "POST", "/login", ROLE_NONE, on_login);
	http_route(s, "POST", "/logout", ROLE_NONE, on_logout);
	http_route(s, "GET", "/static/:name", ROLE_NONE, on_static);
	ui_repos_register(s);
	ui_settings_register(s);
	ui_runs_register(s);
	ui_approvals_register(s);
	ui_dora_register(s);
	ui_deploys_register(s);
	ui_apps_register(s);
	ui_live_register(s);
	ui_badge_register(s);
	ui_envs_register(s);
	ui_rollout_register(s);
	ui_artifacts_register(s);
}
