/*
 * user: `kiln user` and `kiln token` — the server's users and API tokens,
 * on the local store (on the server's host; changes audited as
 * "local:$USER") or through `--server URL` / KILN_SERVER with a token.
 *
 *   kiln user list [--json]
 *   kiln user add NAME --role ROLE [--password-stdin]
 *   kiln user set NAME [--role ROLE] [--disable | --enable] [--password-stdin]
 *   kiln user group-add GROUP USER | group-rm GROUP USER
 *   kiln token create [--name N] [--expires DAYS] [--user U]
 *   kiln token list [--all] [--json]
 *   kiln token revoke ID
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "cli/remote.h"
#include "server/auth.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/open.h"
#include "store/users.h"

#include <sodium.h>

#define DAY_MS ((int64_t)24 * 3600 * 1000)

static const char *const user_usage[] = {
	"kiln user list [--json]",
	"kiln user add NAME --role ROLE [--password-stdin]",
	"kiln user set NAME [--role ROLE] [--disable | --enable] [--password-stdin]",
	"kiln user group-add GROUP USER",
	"kiln user group-rm GROUP USER",
	"   (local store, or --server URL / KILN_SERVER with --token / KILN_TOKEN)",
	NULL,
};

static const char *const token_usage[] = {
	"kiln token create [--name NAME] [--expires DAYS] [--user USER]",
	"kiln token list [--all] [--json]",
	"kiln token revoke ID",
	"   (local store, or --server URL / KILN_SERVER with --token / KILN_TOKEN)",
	NULL,
};

/* who does a local change: "local:$USER" */
static const char *local_actor(char *buf, size_t n)
{
	const char *u = getenv("USER");
	snprintf(buf, n, "local:%s", u && *u ? u : "unknown");
	return buf;
}

/* the first line of stdin (a password), without its newline; NULL when empty */
static char *read_password(void)
{
	struct buf b = BUF_INIT;
	int c;
	while ((c = getchar()) != EOF && c != '\n' && b.len < 4096)
		buf_addch(&b, (char)c);
	if (b.len && b.buf[b.len - 1] == '\r')
		buf_setlen(&b, b.len - 1);
	if (!b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static void wipe_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

/* open the local store; prints the error */
static struct db *local_db(const char *cmd)
{
	struct db *db = NULL;
	struct buf err = BUF_INIT;
	if (store_open_default(&db, NULL, &err) < 0)
		fprintf(stderr, "kiln %s: error: %s\n", cmd, err.buf);
	buf_release(&err);
	return db;
}

/* a local result: 0, or print err and map the code */
static int local_rc(const char *cmd, int r, const struct buf *err)
{
	if (!r)
		return EXIT_OK;
	fprintf(stderr, "kiln %s: error: %s\n", cmd, err->len ? err->buf : kiln_strerror(r));
	return r == KILN_EINVAL ? EXIT_USAGE : r == KILN_ENOENT ? EXIT_FAILED : EXIT_INTERNAL;
}

static void print_users_json_rows(const json_t *a)
{
	printf("%-20s %-10s %-9s %s\n", "NAME", "ROLE", "PASSWORD", "STATE");
	size_t i;
	const json_t *u;
	json_array_foreach(a, i, u)
	printf("%-20s %-10s %-9s %s\n", json_string_value(json_object_get(u, "name")),
	       json_string_value(json_object_get(u, "role")),
	       json_is_true(json_object_get(u, "has_password")) ? "yes" : "no",
	       json_is_true(json_object_get(u, "disabled")) ? "disabled" : "active");
}

static json_t *users_json_local(struct db *db, struct buf *err)
{
	struct user_row *v;
	size_t n;
	if (users_list(db, &v, &n, err) < 0)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:I,s:s,s:s,s:b,s:b,s:I}", "id", (json_int_t)v[i].id,
						   "name", v[i].name, "role", v[i].role, "disabled",
						   v[i].disabled, "has_password", v[i].has_password,
						   "created_at", (json_int_t)v[i].created_ms));
	free(v);
	return a;
}

/* what a changing subcommand did, the same through --server and locally;
 * args: NAME (add, set) or GROUP USER (group-add, group-rm) */
static void say_done(const char *sub, char **args, const char *role)
{
	if (!strcmp(sub, "add"))
		printf("user '%s' added (%s)\n", args[0], role);
	else if (!strcmp(sub, "set"))
		printf("user '%s' updated\n", args[0]);
	else if (!strcmp(sub, "group-add"))
		printf("user '%s' added to group '%s'\n", args[1], args[0]);
	else
		printf("user '%s' removed from group '%s'\n", args[1], args[0]);
}

int cmd_user(int argc, char **argv, struct kiln_ctx *ctx)
{
	struct remote rm = { NULL, NULL };
	const char *role = NULL;
	int json = 0, pw_stdin = 0, disable = 0, enable = 0;
	const struct opt opts[] = {
		{ OPT_STRING, 0, "server", &rm.server, "URL", "the kiln server (KILN_SERVER)" },
		{ OPT_STRING, 0, "token", &rm.token, "TOKEN", "API token (KILN_TOKEN)" },
		{ OPT_STRING, 0, "role", &role, "ROLE", "viewer, developer, deployer or admin" },
		{ OPT_BOOL, 0, "password-stdin", &pw_stdin, NULL, "read the password from stdin" },
		{ OPT_BOOL, 0, "disable", &disable, NULL, "disable the user (revokes its tokens)" },
		{ OPT_BOOL, 0, "enable", &enable, NULL, "enable the user again" },
		{ OPT_BOOL, 0, "json", &json, NULL, "print JSON" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, user_usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	const char *sub = n >= 1 ? argv[1] : NULL;
	int want = !sub ? -1 : !strcmp(sub, "list") ? 1 : !strcmp(sub, "add") || !strcmp(sub, "set") ? 2
		 : !strcmp(sub, "group-add") || !strcmp(sub, "group-rm") ? 3 : -1;
	enum role r = ROLE_NONE;
	if (want < 0 || n != want || (disable && enable) || (role && role_parse(role, &r)) ||
	    (!strcmp(sub, "add") && !role)) {
		if (role && role_parse(role, &r))
			fprintf(stderr, "kiln user: error: unknown role '%s'\n", role);
		opt_usage(stderr, opts, user_usage);
		return EXIT_USAGE;
	}
	char *pw = pw_stdin ? read_password() : NULL;
	if (pw_stdin && !pw) {
		fprintf(stderr, "kiln user: error: no password on stdin\n");
		return EXIT_USAGE;
	}
	int rc;
	if (remote_resolve(&rm)) {
		struct buf path = BUF_INIT;
		json_t *out = NULL;
		if (!strcmp(sub, "list")) {
			rc = remote_call(&rm, "user", "GET", "/api/v1/users", NULL, &out);
		} else if (!strcmp(sub, "add")) {
			json_t *b = json_pack("{s:s,s:s}", "name", argv[2], "role", role);
			if (pw)
				json_object_set_new(b, "password", json_string(pw));
			rc = remote_call(&rm, "user", "POST", "/api/v1/users", b, &out);
		} else if (!strcmp(sub, "set")) {
			json_t *b = json_object();
			if (role)
				json_object_set_new(b, "role", json_string(role));
			if (disable || enable)
				json_object_set_new(b, "disabled", json_boolean(disable));
			if (pw)
				json_object_set_new(b, "password", json_string(pw));
			buf_addstr(&path, "/api/v1/users/");
			remote_path_add(&path, argv[2], 0);
			rc = remote_call(&rm, "user", "PATCH", path.buf, b, &out);
		} else {
			buf_addstr(&path, "/api/v1/groups/");
			remote_path_add(&path, argv[2], 0);
			buf_addstr(&path, "/members");
			if (!strcmp(sub, "group-add")) {
				rc = remote_call(&rm, "user", "POST", path.buf,
						 json_pack("{s:s}", "user", argv[3]), &out);
			} else {
				buf_addch(&path, '/');
				remote_path_add(&path, argv[3], 0);
				rc = remote_call(&rm, "user", "DELETE", path.buf, NULL, &out);
			}
		}
		if (!rc && !strcmp(sub, "list") && !json)
			print_users_json_rows(out);
		else if (!rc && json)
			remote_print_json(out);
		else if (!rc)
			say_done(sub, argv + 2, role);
		json_decref(out);
		buf_release(&path);
		wipe_free(pw);
		return rc;
	}
	/* local */
	struct db *db = local_db("user");
	if (!db) {
		wipe_free(pw);
		return EXIT_INTERNAL;
	}
	char who[160];
	local_actor(who, sizeof(who));
	struct buf err = BUF_INIT;
	int x = 0;
	if (!strcmp(sub, "list")) {
		json_t *a = users_json_local(db, &err);
		x = a ? 0 : -1;
		if (a && json)
			remote_print_json(a);
		else if (a)
			print_users_json_rows(a);
		json_decref(a);
	} else if (!strcmp(sub, "add")) {
		x = auth_user_add(db, who, argv[2], pw, r, NULL, &err);
	} else if (!strcmp(sub, "set")) {
		if (role)
			x = auth_user_set_role(db, who, argv[2], r, &err);
		if (!x && (disable || enable))
			x = auth_user_disable(db, who, argv[2], disable, &err);
		if (!x && pw)
			x = auth_user_passwd(db, who, argv[2], pw, &err);
	} else {
		struct user_row u;
		x = users_get(db, argv[3], &u, NULL, &err);
		if (x == KILN_ENOENT)
			buf_addf(&err, "no user '%s'", argv[3]);
		if (!x && auth_check_user_name(argv[2], &err))
			x = KILN_EINVAL;
		if (!x)
			x = !strcmp(sub, "group-add") ? groups_add_member(db, argv[2], u.id, &err)
						      : groups_remove_member(db, argv[2], u.id, &err);
		if (!x)
			x = audit_append(db, who, !strcmp(sub, "group-add") ? "group.add" : "group.remove",
					 NULL, argv[2], argv[3], &err);
	}
	rc = local_rc("user", x, &err);
	if (!rc && strcmp(sub, "list"))
		say_done(sub, argv + 2, role);
	buf_release(&err);
	db_close(db);
	wipe_free(pw);
	(void)ctx;
	return rc;
}

/* ---- tokens ---- */

static void print_tokens(const json_t *a)
{
	printf("%-5s %-12s %-16s %-12s %-21s %-21s %s\n", "ID", "USER", "NAME", "PREFIX", "EXPIRES",
	       "LAST USED", "STATE");
	size_t i;
	const json_t *t;
	json_array_foreach(a, i, t)
	{
		char exp[32], used[32];
		remote_fmt_time(json_integer_value(json_object_get(t, "expires_at")), exp, sizeof(exp));
		remote_fmt_time(json_integer_value(json_object_get(t, "last_used_at")), used, sizeof(used));
		printf("%-5lld %-12s %-16s %-12s %-21s %-21s %s\n",
		       (long long)json_integer_value(json_object_get(t, "id")),
		       json_string_value(json_object_get(t, "user")),
		       json_string_value(json_object_get(t, "name")),
		       json_string_value(json_object_get(t, "prefix")), exp, used,
		       json_integer_value(json_object_get(t, "revoked_at")) ? "revoked" : "active");
	}
}

static json_t *tokens_json_local(struct db *db, int64_t uid, struct buf *err)
{
	struct token_row *v;
	size_t n;
	if (tokens_list(db, uid, &v, &n, err) < 0)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:I,s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "id",
						   (json_int_t)v[i].id, "user", v[i].user, "name",
						   v[i].name, "prefix", v[i].prefix, "created_at",
						   (json_int_t)v[i].created_ms, "expires_at",
						   (json_int_t)v[i].expires_ms, "last_used_at",
						   (json_int_t)v[i].last_used_ms, "revoked_at",
						   (json_int_t)v[i].revoked_ms));
	free(v);
	return a;
}

int cmd_token(int argc, char **argv, struct kiln_ctx *ctx)
{
	struct remote rm = { NULL, NULL };
	const char *name = "cli", *user = NULL;
	int days = 0, all = 0, json = 0;
	const struct opt opts[] = {
		{ OPT_STRING, 0, "server", &rm.server, "URL", "the kiln server (KILN_SERVER)" },
		{ OPT_STRING, 0, "token", &rm.token, "TOKEN", "API token (KILN_TOKEN)" },
		{ OPT_STRING, 0, "name", &name, "NAME", "what the new token is for (cli)" },
		{ OPT_INT, 0, "expires", &days, "DAYS", "the new token expires after DAYS (never)" },
		{ OPT_STRING, 0, "user", &user, "USER", "for another user (admin; required locally)" },
		{ OPT_BOOL, 0, "all", &all, NULL, "list every user's tokens (admin)" },
		{ OPT_BOOL, 0, "json", &json, NULL, "print JSON" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, token_usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	const char *sub = n >= 1 ? argv[1] : NULL;
	int want = !sub ? -1 : !strcmp(sub, "create") || !strcmp(sub, "list") ? 1
		 : !strcmp(sub, "revoke") ? 2 : -1;
	if (want < 0 || n != want) {
		opt_usage(stderr, opts, token_usage);
		return EXIT_USAGE;
	}
	int rc;
	if (remote_resolve(&rm)) {
		json_t *out = NULL;
		struct buf path = BUF_INIT;
		if (!strcmp(sub, "create")) {
			json_t *b = json_pack("{s:s}", "name", name);
			if (days)
				json_object_set_new(b, "expires_in_days", json_integer(days));
			if (user)
				json_object_set_new(b, "user", json_string(user));
			rc = remote_call(&rm, "token", "POST", "/api/v1/tokens", b, &out);
			if (!rc)
				printf("%s\n", json_string_value(json_object_get(out, "token")));
		} else if (!strcmp(sub, "list")) {
			rc = remote_call(&rm, "token", "GET", all ? "/api/v1/tokens?all=1" : "/api/v1/tokens",
					 NULL, &out);
			if (!rc && json)
				remote_print_json(out);
			else if (!rc)
				print_tokens(out);
		} else {
			buf_addstr(&path, "/api/v1/tokens/");
			remote_path_add(&path, argv[2], 0);
			rc = remote_call(&rm, "token", "DELETE", path.buf, NULL, &out);
			if (!rc)
				printf("token %s revoked\n", argv[2]);
		}
		if (out && json_object_get(out, "token"))
			sodium_memzero((char *)json_string_value(json_object_get(out, "token")),
				       json_string_length(json_object_get(out, "token")));
		json_decref(out);
		buf_release(&path);
		return rc;
	}
	struct db *db = local_db("token");
	if (!db)
		return EXIT_INTERNAL;
	char who[160];
	local_actor(who, sizeof(who));
	struct buf err = BUF_INIT, tok = BUF_INIT;
	struct user_row u = { 0 };
	int x = 0;
	if (user && (x = users_get(db, user, &u, NULL, &err)) == KILN_ENOENT)
		buf_addf(&err, "no user '%s'", user);
	if (x) {
		/* reported below */
	} else if (!strcmp(sub, "create")) {
		if (!user) {
			buf_addstr(&err, "locally, say for whom: --user USER");
			x = KILN_EINVAL;
		} else if (!(x = auth_token_create(db, who, u.id, name, (int64_t)days * DAY_MS, &tok,
						   NULL, &err))) {
			printf("%s\n", tok.buf);
		}
	} else if (!strcmp(sub, "list")) {
		json_t *a = tokens_json_local(db, user ? u.id : 0, &err);
		x = a ? 0 : -1;
		if (a && json)
			remote_print_json(a);
		else if (a)
			print_tokens(a);
		json_decref(a);
	} else {
		char *end;
		long long id = strtoll(argv[2], &end, 10);
		if (*end || id <= 0) {
			buf_addf(&err, "bad token id '%s'", argv[2]);
			x = KILN_EINVAL;
		} else {
			x = auth_token_revoke(db, who, id, &err);
			if (!x)
				printf("token %lld revoked\n", id);
		}
	}
	rc = local_rc("token", x, &err);
	sodium_memzero(tok.buf, tok.len);
	buf_release(&tok);
	buf_release(&err);
	db_close(db);
	(void)ctx;
	return rc;
}
