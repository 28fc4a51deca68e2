/*
 * env: `kiln env` — a repository's deployment environments on the server:
 * protection rules, secrets (write-only: values are read from stdin and
 * never shown) and variables; on the local store or through --server.
 *
 *   kiln env list REPO [--json]
 *   kiln env show REPO ENV [--json]
 *   kiln env set REPO ENV [--wait-timer MIN] [--reviewer user:NAME|group:NAME]...
 *        [--no-reviewers] [--prevent-self-review | --allow-self-review]
 *        [--branch PATTERN]... [--tag PATTERN]... [--any-ref] [--approval-timeout MIN]
 *   kiln env rm REPO ENV
 *   kiln env secret set REPO NAME [--env ENV]     (the value on stdin)
 *   kiln env secret rm REPO NAME [--env ENV]
 *   kiln env var set REPO NAME VALUE [--env ENV]
 *   kiln env var rm REPO NAME [--env ENV]
 *   kiln env notify add REPO --kind slack|json --url URL [--env ENV] [--events E,E]
 *   kiln env notify list REPO [--json]
 *   kiln env notify rm REPO ID
 *
 * Without --env, secrets and variables are the repository's own (every job).
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "cli/remote.h"
#include "secret/secret.h"
#include "server/env.h"
#include "server/notify.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/open.h"

#include <sodium.h>

static const char *const usage[] = {
	"kiln env list REPO [--json]",
	"kiln env show REPO ENV [--json]",
	"kiln env set REPO ENV [--wait-timer MIN] [--reviewer user:NAME|group:NAME]... [--no-reviewers]",
	"              [--prevent-self-review | --allow-self-review] [--branch PATTERN]... [--tag PATTERN]...",
	"              [--any-ref] [--approval-timeout MIN]",
	"kiln env rm REPO ENV",
	"kiln env secret set|rm REPO NAME [--env ENV]   (set reads the value from stdin)",
	"kiln env var set REPO NAME VALUE [--env ENV]",
	"kiln env var rm REPO NAME [--env ENV]",
	"kiln env notify add REPO --kind slack|json --url URL [--env ENV] [--events E,E...]",
	"kiln env notify list REPO [--json]",
	"kiln env notify rm REPO ID",
	"   (local store, or --server URL / KILN_SERVER with --token / KILN_TOKEN)",
	NULL,
};

struct env_args {
	int wait, approval, prevent, allow, no_reviewers, any_ref, json;
	struct strvec reviewers, branches, tags;
	const char *env;
	const char *kind, *url, *events; /* notify add */
};

static void print_hooks(const json_t *a)
{
	printf("%-5s %-6s %-28s %-14s %s\n", "ID", "KIND", "HOST", "ENVIRONMENT", "EVENTS");
	size_t i, k;
	const json_t *h, *e;
	json_array_foreach(a, i, h)
	{
		struct buf ev = BUF_INIT;
		json_array_foreach(json_object_get(h, "events"), k, e)
		buf_addf(&ev, "%s%s", k ? "," : "", json_string_value(e));
		const char *env = json_string_value(json_object_get(h, "environment"));
		printf("%-5lld %-6s %-28s %-14s %s\n", (long long)json_integer_value(json_object_get(h, "id")),
		       json_string_value(json_object_get(h, "kind")),
		       json_string_value(json_object_get(h, "host")), env ? env : "(all)",
		       ev.len ? ev.buf : "(all)");
		buf_release(&ev);
	}
}

/* "a,b" -> ["a","b"] */
static json_t *events_json(const char *events)
{
	json_t *a = json_array();
	char *copy = xstrdup(events ? events : "");
	for (char *s = copy, *c; s && *s; s = c ? c + 1 : NULL) {
		c = strchr(s, ',');
		if (c)
			*c = '\0';
		if (*s)
			json_array_append_new(a, json_string(s));
	}
	free(copy);
	return a;
}

/* the PUT body from the flags */
static json_t *rules_json(const struct env_args *a)
{
	json_t *b = json_object();
	if (a->wait >= 0)
		json_object_set_new(b, "wait_timer", json_integer(a->wait));
	if (a->approval >= 0)
		json_object_set_new(b, "approval_timeout", json_integer(a->approval));
	if (a->prevent || a->allow)
		json_object_set_new(b, "prevent_self_review", json_boolean(a->prevent));
	if (a->reviewers.nr || a->no_reviewers) {
		json_t *r = json_array();
		for (size_t i = 0; i < a->reviewers.nr; i++) {
			const char *v = a->reviewers.v[i], *c = strchr(v, ':');
			json_array_append_new(r, c ? json_pack("{s:s%,s:s}", "type", v, (size_t)(c - v),
							       "name", c + 1)
						   : json_pack("{s:s,s:s}", "type", "user", "name", v));
		}
		json_object_set_new(b, "reviewers", r);
	}
	if (a->any_ref) {
		json_object_set_new(b, "deployment_branch_policy", json_null());
	} else if (a->branches.nr || a->tags.nr) {
		json_t *p = json_array();
		for (size_t i = 0; i < a->branches.nr; i++)
			json_array_append_new(p, json_pack("{s:s,s:s}", "type", "branch", "name",
							   a->branches.v[i]));
		for (size_t i = 0; i < a->tags.nr; i++)
			json_array_append_new(p, json_pack("{s:s,s:s}", "type", "tag", "name",
							   a->tags.v[i]));
		json_object_set_new(b, "deployment_branch_policy", json_pack("{s:o}", "patterns", p));
	}
	return b;
}

static void print_env(const json_t *e)
{
	printf("%s / %s\n", json_string_value(json_object_get(e, "repo")),
	       json_string_value(json_object_get(e, "name")));
	const json_t *rev = json_object_get(e, "reviewers"), *pol;
	printf("  reviewers            ");
	size_t i;
	const json_t *x;
	if (!json_array_size(rev))
		printf("none");
	json_array_foreach(rev, i, x)
	printf("%s%s%s", i ? ", " : "",
	       strcmp(json_string_value(json_object_get(x, "type")), "group") ? "" : "group:",
	       json_string_value(json_object_get(x, "name")));
	printf("\n  prevent self-review  %s\n",
	       json_is_true(json_object_get(e, "prevent_self_review")) ? "yes" : "no");
	printf("  wait timer           %lld min\n",
	       (long long)json_integer_value(json_object_get(e, "wait_timer")));
	printf("  approval timeout     %lld min\n",
	       (long long)json_integer_value(json_object_get(e, "approval_timeout")));
	pol = json_object_get(e, "deployment_branch_policy");
	printf("  deploys from         ");
	if (json_is_null(pol) || !pol)
		printf("any ref");
	json_array_foreach(json_object_get(pol, "patterns"), i, x)
	printf("%s%s %s", i ? ", " : "", json_string_value(json_object_get(x, "type")),
	       json_string_value(json_object_get(x, "name")));
	printf("\n  secrets              ");
	if (!json_array_size(json_object_get(e, "secrets")))
		printf("none");
	json_array_foreach(json_object_get(e, "secrets"), i, x)
	printf("%s%s", i ? ", " : "", json_string_value(json_object_get(x, "name")));
	printf("\n  variables            ");
	const char *k;
	const json_t *v;
	int first = 1;
	json_object_foreach((json_t *)json_object_get(e, "variables"), k, v)
	{
		printf("%s%s=%s", first ? "" : ", ", k, json_string_value(v));
		first = 0;
	}
	printf("%s\n", first ? "none" : "");
}

/* "/api/v1/repos/REPO" + rest pieces */
static void repo_path(struct buf *p, const char *repo)
{
	buf_addstr(p, "/api/v1/repos/");
	remote_path_add(p, repo, 1);
}

static char *read_stdin_value(size_t *len)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0 && b.len <= SECRET_MAX_VALUE)
		buf_add(&b, chunk, n);
	sodium_memzero(chunk, sizeof(chunk));
	/* one trailing newline is the terminal's, not the secret's (gh secret set does the same) */
	if (b.len && b.buf[b.len - 1] == '\n')
		buf_setlen(&b, b.len - 1);
	if (b.len && b.buf[b.len - 1] == '\r')
		buf_setlen(&b, b.len - 1);
	return buf_detach(&b, len);
}

static int run_remote(struct remote *rm, char **argv, struct env_args *a)
{
	const char *sub = argv[1];
	struct buf p = BUF_INIT;
	json_t *out = NULL;
	int rc;
	repo_path(&p, argv[2]);
	if (!strcmp(sub, "list")) {
		buf_addstr(&p, "/environments");
		rc = remote_call(rm, "env", "GET", p.buf, NULL, &out);
		size_t i;
		const json_t *e;
		if (!rc && a->json)
			remote_print_json(out);
		else if (!rc)
			json_array_foreach(out, i, e)
			{
				if (i)
					printf("\n");
				print_env(e);
			}
	} else if (!strcmp(sub, "show") || !strcmp(sub, "set") || !strcmp(sub, "rm")) {
		buf_addstr(&p, "/environments/");
		remote_path_add(&p, argv[3], 0);
		const char *m = !strcmp(sub, "show") ? "GET" : !strcmp(sub, "set") ? "PUT" : "DELETE";
		rc = remote_call(rm, "env", m, p.buf, !strcmp(sub, "set") ? rules_json(a) : NULL, &out);
		if (!rc && a->json)
			remote_print_json(out);
		else if (!rc && strcmp(sub, "rm"))
			print_env(out);
		else if (!rc)
			printf("environment '%s' removed\n", argv[3]);
	} else if (!strcmp(sub, "notify")) {
		buf_reset(&p);
		repo_path(&p, argv[3]);
		buf_addstr(&p, "/notifications");
		if (!strcmp(argv[2], "list")) {
			rc = remote_call(rm, "env", "GET", p.buf, NULL, &out);
			if (!rc && a->json)
				remote_print_json(out);
			else if (!rc)
				print_hooks(out);
		} else if (!strcmp(argv[2], "add")) {
			json_t *b = json_pack("{s:s,s:s,s:o}", "kind", a->kind, "url", a->url, "events",
					      events_json(a->events));
			if (a->env)
				json_object_set_new(b, "environment", json_string(a->env));
			rc = remote_call(rm, "env", "POST", p.buf, b, &out);
			if (!rc)
				printf("webhook %lld added\n",
				       (long long)json_integer_value(json_object_get(out, "id")));
		} else {
			buf_addch(&p, '/');
			remote_path_add(&p, argv[4], 0);
			rc = remote_call(rm, "env", "DELETE", p.buf, NULL, &out);
			if (!rc)
				printf("webhook %s removed\n", argv[4]);
		}
	} else {
		/* secret|var set|rm REPO NAME [VALUE] */
		int secret = !strcmp(sub, "secret"), set = !strcmp(argv[2], "set");
		buf_reset(&p);
		repo_path(&p, argv[3]);
		if (a->env) {
			buf_addstr(&p, "/environments/");
			remote_path_add(&p, a->env, 0);
		}
		buf_addstr(&p, secret ? "/secrets/" : "/variables/");
		remote_path_add(&p, argv[4], 0);
		json_t *body = NULL;
		if (set && secret) {
			size_t len;
			char *v = read_stdin_value(&len);
			body = json_object();
			json_object_set_new(body, "value", json_stringn(v, len));
			sodium_memzero(v, len);
			free(v);
		} else if (set) {
			body = json_pack("{s:s}", "value", argv[5]);
		}
		rc = remote_call(rm, "env", set ? "PUT" : "DELETE", p.buf, body, &out);
		if (!rc)
			printf("%s '%s' %s\n", secret ? "secret" : "variable", argv[4],
			       set ? "set" : "removed");
	}
	json_decref(out);
	buf_release(&p);
	return rc;
}

static int run_local(char **argv, struct env_args *a)
{
	const char *sub = argv[1];
	struct buf err = BUF_INIT, dir = BUF_INIT;
	struct db *db = NULL;
	struct secret_store *ss = NULL;
	char who[160];
	const char *u = getenv("USER");
	snprintf(who, sizeof(who), "local:%s", u && *u ? u : "unknown");
	int x = 0;
	if (store_open_default(&db, &dir, &err) < 0 || secret_store_open(&ss, db, dir.buf, &err) < 0) {
		x = -1;
		goto out;
	}
	if (!strcmp(sub, "list")) {
		struct env_row *v;
		size_t n;
		x = envs_list(db, argv[2], &v, &n, &err);
		json_t *arr = json_array();
		for (size_t i = 0; !x && i < n; i++) {
			if (*v[i].name) {
				json_t *e = env_to_json(db, &v[i], &err);
				if (e)
					json_array_append_new(arr, e);
			}
			env_row_release(&v[i]);
		}
		if (!x)
			free(v);
		size_t i;
		const json_t *e;
		if (!x && a->json)
			remote_print_json(arr);
		else if (!x)
			json_array_foreach(arr, i, e)
			{
				if (i)
					printf("\n");
				print_env(e);
			}
		json_decref(arr);
	} else if (!strcmp(sub, "show") || !strcmp(sub, "set")) {
		if (!strcmp(sub, "set")) {
			json_t *b = rules_json(a);
			x = env_put_json(db, who, argv[2], argv[3], b, &err);
			json_decref(b);
		}
		struct env_row e = ENV_ROW_INIT;
		if (!x && (x = envs_get(db, argv[2], argv[3], &e, &err)) == KILN_ENOENT)
			buf_addf(&err, "repository '%s' has no environment '%s'", argv[2], argv[3]);
		json_t *j = x ? NULL : env_to_json(db, &e, &err);
		if (j && a->json)
			remote_print_json(j);
		else if (j)
			print_env(j);
		json_decref(j);
		env_row_release(&e);
	} else if (!strcmp(sub, "rm")) {
		if ((x = envs_delete(db, argv[2], argv[3], &err)) == KILN_ENOENT)
			buf_addf(&err, "repository '%s' has no environment '%s'", argv[2], argv[3]);
		if (!x)
			x = audit_append(db, who, "env.delete", argv[2], argv[3], NULL, &err);
	} else if (!strcmp(sub, "notify")) {
		if (!strcmp(argv[2], "list")) {
			json_t *h = notify_hooks_json(db, argv[3], &err);
			x = h ? 0 : -1;
			if (h && a->json)
				remote_print_json(h);
			else if (h)
				print_hooks(h);
			json_decref(h);
		} else if (!strcmp(argv[2], "add")) {
			int64_t id;
			x = notify_hook_add(db, ss, who, argv[3], a->env, a->kind, a->events, a->url, &id,
					    &err);
			if (!x)
				printf("webhook %lld added\n", (long long)id);
		} else {
			char *end;
			long long id = strtoll(argv[4], &end, 10);
			x = *end || id <= 0 ? (buf_addf(&err, "bad webhook id '%s'", argv[4]), KILN_EINVAL)
					    : notify_hook_remove(db, who, argv[3], id, &err);
			if (!x)
				printf("webhook %lld removed\n", id);
		}
	} else {
		int secret = !strcmp(sub, "secret"), set = !strcmp(argv[2], "set");
		const char *repo = argv[3], *name = argv[4], *env = a->env ? a->env : "";
		if (secret && set) {
			size_t len;
			char *v = read_stdin_value(&len);
			x = env_secret_set(db, ss, who, repo, env, name, v, len, &err);
			sodium_memzero(v, len);
			free(v);
		} else if (secret) {
			x = env_secret_remove(db, who, repo, env, name, &err);
		} else if (set) {
			x = env_var_set(db, who, repo, env, name, argv[5], &err);
		} else {
			x = env_var_remove(db, who, repo, env, name, &err);
		}
		if (!x)
			printf("%s '%s' %s\n", secret ? "secret" : "variable", name, set ? "set" : "removed");
	}
out:
	if (x)
		fprintf(stderr, "kiln env: error: %s\n", err.len ? err.buf : kiln_strerror(x));
	secret_store_close(ss);
	db_close(db);
	buf_release(&err);
	buf_release(&dir);
	return !x ? EXIT_OK : x == KILN_EINVAL ? EXIT_USAGE : x == KILN_ENOENT ? EXIT_FAILED
								    : EXIT_INTERNAL;
}

int cmd_env(int argc, char **argv, struct kiln_ctx *ctx)
{
	struct remote rm = { NULL, NULL };
	struct env_args a = { -1, -1, 0, 0, 0, 0, 0, STRVEC_INIT, STRVEC_INIT, STRVEC_INIT, NULL,
			      NULL, NULL, NULL };
	const struct opt opts[] = {
		{ OPT_STRING, 0, "server", &rm.server, "URL", "the kiln server (KILN_SERVER)" },
		{ OPT_STRING, 0, "token", &rm.token, "TOKEN", "API token (KILN_TOKEN)" },
		{ OPT_STRING, 'e', "env", &a.env, "ENV", "secret/var: this environment's" },
		{ OPT_INT, 0, "wait-timer", &a.wait, "MIN", "minutes a job waits before deploying" },
		{ OPT_INT, 0, "approval-timeout", &a.approval, "MIN", "a waiting job fails after (43200)" },
		{ OPT_LIST, 0, "reviewer", &a.reviewers, "user:N|group:N", "a required reviewer (repeat)" },
		{ OPT_BOOL, 0, "no-reviewers", &a.no_reviewers, NULL, "remove every reviewer" },
		{ OPT_BOOL, 0, "prevent-self-review", &a.prevent, NULL, "the run's author cannot approve" },
		{ OPT_BOOL, 0, "allow-self-review", &a.allow, NULL, "the run's author may approve" },
		{ OPT_LIST, 0, "branch", &a.branches, "PATTERN", "branches that may deploy (repeat)" },
		{ OPT_LIST, 0, "tag", &a.tags, "PATTERN", "tags that may deploy (repeat)" },
		{ OPT_BOOL, 0, "any-ref", &a.any_ref, NULL, "every ref may deploy" },
		{ OPT_STRING, 0, "kind", &a.kind, "KIND", "notify add: slack or json" },
		{ OPT_STRING, 0, "url", &a.url, "URL", "notify add: where to POST (kept sealed)" },
		{ OPT_STRING, 0, "events", &a.events, "E,E", "notify add: only these events (all)" },
		{ OPT_BOOL, 0, "json", &a.json, NULL, "print JSON" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	int rc = EXIT_USAGE;
	if (n < 0) {
		rc = n == -2 ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
	const char *sub = n >= 1 ? argv[1] : "";
	int ok = (!strcmp(sub, "list") && n == 2) ||
		 ((!strcmp(sub, "show") || !strcmp(sub, "set") || !strcmp(sub, "rm")) && n == 3) ||
		 (!strcmp(sub, "secret") && n == 4 && (!strcmp(argv[2], "set") || !strcmp(argv[2], "rm"))) ||
		 (!strcmp(sub, "var") && ((n == 5 && !strcmp(argv[2], "set")) ||
					  (n == 4 && !strcmp(argv[2], "rm")))) ||
		 (!strcmp(sub, "notify") && ((n == 3 && !strcmp(argv[2], "list")) ||
					     (n == 3 && !strcmp(argv[2], "add") && a.kind && a.url) ||
					     (n == 4 && !strcmp(argv[2], "rm"))));
	if (!ok || (a.prevent && a.allow) || (a.any_ref && (a.branches.nr || a.tags.nr))) {
		opt_usage(stderr, opts, usage);
		goto out;
	}
	rc = remote_resolve(&rm) ? run_remote(&rm, argv, &a) : run_local(argv, &a);
out:
	strvec_clear(&a.reviewers);
	strvec_clear(&a.branches);
	strvec_clear(&a.tags);
	(void)ctx;
	return rc;
}
