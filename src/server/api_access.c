/*
 * api_access: /api/v1/login, /user, /users, /tokens, /groups and /audit —
 * who may use the server and what they did (see api.h for the roles).
 */
#include "base/kiln.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/srv.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/runs.h"
#include "store/users.h"

#include <sodium.h>

#define DAY_MS ((int64_t)24 * 3600 * 1000)

static json_t *user_json(const struct user_row *u)
{
	return json_pack("{s:I,s:s,s:s,s:b,s:b,s:I}", "id", (json_int_t)u->id, "name", u->name, "role",
			 u->role, "disabled", u->disabled, "has_password", u->has_password,
			 "created_at", (json_int_t)u->created_ms);
}

static json_t *token_json(const struct token_row *t)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:I}", "id", (json_int_t)t->id, "user", t->user,
			      "name", t->name, "prefix", t->prefix, "created_at",
			      (json_int_t)t->created_ms);
	json_object_set_new(o, "expires_at", t->expires_ms ? json_integer(t->expires_ms) : json_null());
	json_object_set_new(o, "last_used_at",
			    t->last_used_ms ? json_integer(t->last_used_ms) : json_null());
	json_object_set_new(o, "revoked_at", t->revoked_ms ? json_integer(t->revoked_ms) : json_null());
	return o;
}

/* a login on the thread pool: one Argon2id check (~0.1 s of CPU) must
 * not stop the loop; it has its own store connection (api.h) */
struct login {
	uv_work_t work;
	struct http_later *later;
	char *where, *user, *pw, *peer; /* copies (pw wiped) */
	struct api_login res;
	api_login_cb *done;
	void *arg;
};

static void login_work(uv_work_t *w)
{
	struct login *l = w->data;
	struct db *db = NULL;
	l->res.r = -1;
	if (db_open(l->where, &db, &l->res.err) == 0)
		l->res.r = auth_login(db, l->user, l->pw, l->peer, runs_now_ms(), &l->res.p,
				      &l->res.tok, &l->res.retry, &l->res.err);
	db_close(db);
}

static void login_done(uv_work_t *w, int status)
{
	struct login *l = w->data;
	struct http_req *q = http_later_req(l->later);
	if (status) { /* cancelled before it ran: r is still -1 */
		buf_reset(&l->res.err);
		buf_addstr(&l->res.err, "the login was not checked");
	}
	l->done(q, &l->res, l->arg);
	http_later_release(l->later);
	if (l->res.r == AUTH_LOGIN_OK)
		principal_release(&l->res.p);
	sodium_memzero(l->pw, strlen(l->pw));
	sodium_memzero(l->res.tok.buf, l->res.tok.len);
	buf_release(&l->res.tok);
	buf_release(&l->res.err);
	free(l->where);
	free(l->user);
	free(l->pw);
	free(l->peer);
	free(l);
}

void api_login_start(struct srv *s, struct http_req *q, const char *user, const char *pw,
		     api_login_cb *done, void *arg)
{
	struct login *l = xcalloc(1, sizeof(*l));
	l->where = xstrdup(s->db_where);
	l->user = xstrdup(user);
	l->pw = xstrdup(pw);
	l->peer = xstrdup(http_req_peer(q) ? http_req_peer(q) : "");
	l->res.r = -1;
	l->res.p = (struct principal)PRINCIPAL_INIT;
	buf_init(&l->res.tok, 0);
	buf_init(&l->res.err, 0);
	l->done = done;
	l->arg = arg;
	l->work.data = l;
	l->later = http_defer(q);
	uv_queue_work(s->loop, &l->work, login_work, login_done);
}

static void login_reply(struct http_req *q, const struct api_login *res, void *arg)
{
	(void)arg;
	if (!q)
		return; /* the client went away */
	if (res->r == AUTH_LOGIN_OK) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "token", res->tok.buf, "user",
				      res->p.name, "role", role_name(res->p.role), "expires_at",
				      (json_int_t)(runs_now_ms() + AUTH_LOGIN_TOKEN_TTL_MS));
		http_reply_json(q, 200, o);
	} else if (res->r == AUTH_LOGIN_THROTTLED) {
		char secs[32];
		snprintf(secs, sizeof(secs), "%lld", (long long)((res->retry + 999) / 1000));
		http_reply_header(q, "Retry-After", secs);
		http_reply_error(q, 429, "too_many_attempts",
				 "too many failed logins; try again in %s s", secs);
	} else if (res->r == AUTH_LOGIN_DENIED) {
		http_reply_error(q, 401, "invalid_credentials", "wrong user name or password");
	} else {
		http_reply_error(q, 503, "store_unavailable", "%s", res->err.buf);
	}
}

/* POST /api/v1/login {"user", "password"} (no token), answered once the
 * Argon2id check ran on the thread pool (http_defer) */
static void on_login(struct srv *s, struct http_req *q)
{
	json_t *b = api__body(q);
	if (!b)
		return;
	const char *user = json_string_value(json_object_get(b, "user"));
	const char *pw = json_string_value(json_object_get(b, "password"));
	if (!user || !pw) {
		http_reply_error(q, 400, "invalid", "expected {\"user\": ..., \"password\": ...}");
		json_decref(b);
		return;
	}
	api_login_start(s, q, user, pw, login_reply, NULL);
	json_decref(b); /* the password's copy in the body is h2o's to free */
}

/* GET /api/v1/user: who am I */
static void on_whoami(struct srv *s, struct http_req *q)
{
	const struct principal *p = http_req_who(q);
	http_reply_json(q, 200,
			json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)p->user_id, "name", p->name,
				  "role", role_name(p->role), "token_id", (json_int_t)p->token_id));
}

static void on_users(struct srv *s, struct http_req *q)
{
	struct user_row *v;
	size_t n;
	struct buf err = BUF_INIT;
	if (users_list(s->db, &v, &n, &err) < 0) {
		api__fail(q, -1, &err);
	} else {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, user_json(&v[i]));
		free(v);
		http_reply_json(q, 200, a);
	}
	buf_release(&err);
}

static int role_arg(json_t *b, const char *key, enum role *out, struct http_req *q)
{
	const char *r = json_string_value(json_object_get(b, key));
	if (r && !role_parse(r, out))
		return 0;
	http_reply_error(q, 400, "invalid", "'%s' must be viewer, developer, deployer or admin", key);
	return -1;
}

/* POST /api/v1/users {"name", "role", "password"?} */
static void on_user_add(struct srv *s, struct http_req *q)
{
	json_t *b = api__body(q);
	if (!b)
		return;
	const char *name = json_string_value(json_object_get(b, "name"));
	const char *pw = json_string_value(json_object_get(b, "password"));
	enum role role;
	struct buf err = BUF_INIT;
	int64_t id;
	if (!name) {
		http_reply_error(q, 400, "invalid", "a user needs a \"name\"");
	} else if (!role_arg(b, "role", &role, q)) {
		int r = auth_user_add(s->db, api__actor(q), name, pw, role, &id, &err);
		if (r) {
			api__fail(q, r, &err);
		} else {
			struct user_row u;
			users_get_id(s->db, id, &u, &err);
			http_reply_json(q, 201, user_json(&u));
		}
	}
	buf_release(&err);
	json_decref(b);
}

/* PATCH /api/v1/users/:name {"role"?, "disabled"?, "password"?} */
static void on_user_patch(struct srv *s, struct http_req *q)
{
	json_t *b = api__body(q);
	if (!b)
		return;
	const char *name = http_req_param(q, "name"), *actor = api__actor(q);
	struct buf err = BUF_INIT;
	struct user_row u;
	int r = users_get(s->db, name, &u, NULL, &err);
	if (r == KILN_ENOENT)
		buf_addf(&err, "no user '%s'", name);
	json_t *v;
	enum role role;
	if (!r && (v = json_object_get(b, "role"))) {
		if (role_arg(b, "role", &role, q))
			goto out;
		if (!strcmp(name, actor) && role != ROLE_ADMIN) {
			http_reply_error(q, 409, "conflict", "an admin cannot demote itself");
			goto out;
		}
		r = auth_user_set_role(s->db, actor, name, role, &err);
	}
	if (!r && (v = json_object_get(b, "disabled"))) {
		if (!json_is_boolean(v)) {
			http_reply_error(q, 400, "invalid", "'disabled' must be true or false");
			goto out;
		}
		if (json_is_true(v) && !strcmp(name, actor)) {
			http_reply_error(q, 409, "conflict", "an admin cannot disable itself");
			goto out;
		}
		r = auth_user_disable(s->db, actor, name, json_is_true(v), &err);
	}
	if (!r && (v = json_object_get(b, "password"))) {
		if (!json_is_string(v)) {
			http_reply_error(q, 400, "invalid", "'password' must be a string");
			goto out;
		}
		r = auth_user_passwd(s->db, actor, name, json_string_value(v), &err);
	}
	if (r)
		api__fail(q, r, &err);
	else if (users_get(s->db, name, &u, NULL, &err) == 0)
		http_reply_json(q, 200, user_json(&u));
	else
		api__fail(q, -1, &err);
out:
	buf_release(&err);
	json_decref(b);
}

/* GET /api/v1/tokens[?all=1]: the caller's tokens; every token for an admin with all=1 */
static void on_tokens(struct srv *s, struct http_req *q)
{
	const struct principal *p = http_req_who(q);
	const char *all = http_req_query(q, "all");
	int every = all && strcmp(all, "0") && strcmp(all, "false");
	if (every && p->role < ROLE_ADMIN) {
		http_reply_error(q, 403, "forbidden", "listing every token needs the admin role");
		return;
	}
	struct token_row *v;
	size_t n;
	struct buf err = BUF_INIT;
	if (tokens_list(s->db, every ? 0 : p->user_id, &v, &n, &err) < 0) {
		api__fail(q, -1, &err);
	} else {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, token_json(&v[i]));
		free(v);
		http_reply_json(q, 200, a);
	}
	buf_release(&err);
}

/* POST /api/v1/tokens {"name", "expires_in_days"?, "user"? (admin: for another user)} */
static void on_token_create(struct srv *s, struct http_req *q)
{
	json_t *b = api__body(q);
	if (!b)
		return;
	const struct principal *p = http_req_who(q);
	const char *name = json_string_value(json_object_get(b, "name"));
	const char *for_user = json_string_value(json_object_get(b, "user"));
	json_t *days = json_object_get(b, "expires_in_days");
	struct buf err = BUF_INIT, tok = BUF_INIT;
	int64_t uid = p->user_id, id;
	struct user_row u;
	if (days && (!json_is_integer(days) || json_integer_value(days) < 1 ||
		     json_integer_value(days) > 3650)) {
		http_reply_error(q, 400, "invalid", "'expires_in_days' must be 1 to 3650");
		goto out;
	}
	if (for_user && strcmp(for_user, p->name)) {
		if (p->role < ROLE_ADMIN) {
			http_reply_error(q, 403, "forbidden", "tokens for another user need the admin role");
			goto out;
		}
		int r = users_get(s->db, for_user, &u, NULL, &err);
		if (r) {
			if (r == KILN_ENOENT)
				buf_addf(&err, "no user '%s'", for_user);
			api__fail(q, r, &err);
			goto out;
		}
		uid = u.id;
	}
	int r = auth_token_create(s->db, p->name, uid, name ? name : "", days ? json_integer_value(days) * DAY_MS : 0,
				  &tok, &id, &err);
	if (r) {
		api__fail(q, r, &err);
		goto out;
	}
	struct token_row t;
	tokens_get(s->db, id, &t, &err);
	json_t *o = token_json(&t);
	/* the only answer that ever carries the token */
	json_object_set_new(o, "token", json_string(tok.buf));
	http_reply_json(q, 201, o);
out:
	sodium_memzero(tok.buf, tok.len);
	buf_release(&tok);
	buf_release(&err);
	json_decref(b);
}

/* DELETE /api/v1/tokens/:id: the caller's own, or any for an admin */
static void on_token_revoke(struct srv *s, struct http_req *q)
{
	const struct principal *p = http_req_who(q);
	int64_t id = api__int(http_req_param(q, "id"));
	struct token_row t;
	struct buf err = BUF_INIT;
	int r = id ? tokens_get(s->db, id, &t, &err) : KILN_ENOENT;
	if (!r && t.user_id != p->user_id && p->role < ROLE_ADMIN)
		r = KILN_ENOENT; /* another user's token: not told it exists */
	if (r == KILN_ENOENT)
		buf_addf(&err, "no token %s", http_req_param(q, "id"));
	if (!r)
		r = auth_token_revoke(s->db, p->name, id, &err);
	if (r)
		api__fail(q, r, &err);
	else
		http_reply_json(q, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "revoked", 1));
	buf_release(&err);
}

/* POST /api/v1/groups/:group/members {"user"}; DELETE .../members/:user */
static void on_group_add(struct srv *s, struct http_req *q)
{
	json_t *b = api__body(q);
	if (!b)
		return;
	const char *group = http_req_param(q, "group");
	const char *user = json_string_value(json_object_get(b, "user"));
	struct buf err = BUF_INIT;
	struct user_row u;
	int r = !user ? KILN_EINVAL : auth_check_user_name(group, &err);
	if (!user)
		buf_addstr(&err, "expected {\"user\": NAME}");
	if (!r && (r = users_get(s->db, user, &u, NULL, &err)) == KILN_ENOENT)
		buf_addf(&err, "no user '%s'", user);
	if (!r)
		r = groups_add_member(s->db, group, u.id, &err);
	if (!r)
		r = audit_append(s->db, api__actor(q), "group.add", NULL, group, user, &err);
	if (r)
		api__fail(q, r, &err);
	else
		http_reply_json(q, 200, json_pack("{s:s,s:s}", "group", group, "user", user));
	buf_release(&err);
	json_decref(b);
}

static void on_group_remove(struct srv *s, struct http_req *q)
{
	const char *group = http_req_param(q, "group"), *user = http_req_param(q, "user");
	struct buf err = BUF_INIT;
	struct user_row u;
	int r = users_get(s->db, user, &u, NULL, &err);
	if (!r)
		r = groups_remove_member(s->db, group, u.id, &err);
	if (r == KILN_ENOENT)
		buf_addf(&err, "'%s' is not in group '%s'", user, group);
	if (!r)
		r = audit_append(s->db, api__actor(q), "group.remove", NULL, group, user, &err);
	if (r)
		api__fail(q, r, &err);
	else
		http_reply_json(q, 200, json_pack("{s:s,s:s}", "group", group, "removed", user));
	buf_release(&err);
}

/* GET /api/v1/audit?repo=&action=&before=&limit= */
static void on_audit(struct srv *s, struct http_req *q)
{
	struct audit_filter f = { http_req_query(q, "repo"), http_req_query(q, "action"),
				  api__int(http_req_query(q, "before")),
				  (int)api__int(http_req_query(q, "limit")) };
	if (f.limit > 1000)
		f.limit = 1000;
	struct audit_row *v;
	size_t n;
	struct buf err = BUF_INIT;
	if (audit_list(s->db, &f, &v, &n, &err) < 0) {
		api__fail(q, -1, &err);
	} else {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(
				a, json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)v[i].id,
					     "at", (json_int_t)v[i].at_ms, "actor", v[i].actor, "action",
					     v[i].action, "repo", v[i].repo, "target", v[i].target,
					     "detail", v[i].detail));
		free(v);
		http_reply_json(q, 200, a);
	}
	buf_release(&err);
}

void api_access_register(struct srv *s)
{
	http_route(s, "POST", "/api/v1/login", ROLE_NONE, on_login);
	http_route(s, "GET", "/api/v1/user", ROLE_VIEWER, on_whoami);
	http_route(s, "GET", "/api/v1/users", ROLE_ADMIN, on_users);
	http_route(s, "POST", "/api/v1/users", ROLE_ADMIN, on_user_add);
	http_route(s, "PATCH", "/api/v1/users/:name", ROLE_ADMIN, on_user_patch);
	http_route(s, "GET", "/api/v1/tokens", ROLE_VIEWER, on_tokens);
	http_route(s, "POST", "/api/v1/tokens", ROLE_VIEWER, on_token_create);
	http_route(s, "DELETE", "/api/v1/tokens/:id", ROLE_VIEWER, on_token_revoke);
	http_route(s, "POST", "/api/v1/groups/:group/members", ROLE_ADMIN, on_group_add);
	http_route(s, "DELETE", "/api/v1/groups/:group/members/:user", ROLE_ADMIN, on_group_remove);
	http_route(s, "GET", "/api/v1/audit", ROLE_ADMIN, on_audit);
}
