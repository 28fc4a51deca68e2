/*
 * deploy: the deploy commands of the CLI: `kiln deployd`, `kiln deploy`,
 * `kiln status`, `kiln releases`, `kiln rollback`, `kiln promote`,
 * `kiln abort`, `kiln maintenance`. All but deployd/releases/--dry-run talk
 * to the controller over its socket in the state directory.
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/ctx.h"
#include "cli/opt.h"
#include "deploy/app.h"
#include "cli/apps-remote.h"
#include "deploy/deployd.h"
#include "deploy/dstore.h"
#include "store/db.h"

#include <unistd.h>

#define DEFAULT_STATE ".kiln/state"
#define DEFAULT_APPS ".kiln/apps"

struct common {
	const char *state, *apps;
};

static void common_init(struct common *c)
{
	c->state = getenv("KILN_DEPLOY_STATE") ? getenv("KILN_DEPLOY_STATE") : DEFAULT_STATE;
	c->apps = getenv("KILN_DEPLOY_APPS") ? getenv("KILN_DEPLOY_APPS") : DEFAULT_APPS;
}

/* status and sync against a kiln serve instead: only --server (not
 * KILN_SERVER, which other commands follow) picks the server, so a local
 * controller stays the default */
#define REMOTE_OPTS(rm)                                                                          \
	{ OPT_STRING, 0, "server", &(rm).server, "URL", "a kiln serve running the controller" },  \
	{ OPT_STRING, 0, "token", &(rm).token, "TOKEN", "API token (KILN_TOKEN)" }

#define COMMON_OPTS(c)                                                                           \
	{ OPT_STRING, 0, "state", &(c).state, "DIR", "controller state directory (.kiln/state)" }, \
	{ OPT_STRING, 0, "apps", &(c).apps, "DIR", "app definitions (.kiln/apps)" }

static int parse(int argc, char **argv, const struct opt *opts, const char *const *usage, int min, int max)
{
	int n = opt_parse(argc, argv, opts, usage);
	if (n == -2)
		return -2;
	if (n < 0)
		return -1;
	if (n < min || n > max) {
		fprintf(stderr, "kiln: error: wrong number of arguments\n");
		opt_usage(stderr, opts, usage);
		return -1;
	}
	return n;
}

static int check_name(const char *what, const char *s)
{
	if (!strcmp(what, "version") ? deploy_version_ok(s) : deploy_name_ok(s))
		return 0;
	fprintf(stderr, "kiln: error: '%s' is not a valid %s (letters, digits, '.', '_', '-'%s)\n", s, what,
		!strcmp(what, "version") ? "; or an image digest sha256:<64 hex digits>" : "");
	return -1;
}

/* send a request, print progress, map the answer to an exit code */
static int request(const struct common *c, const char *json, int quiet_ok)
{
	struct buf final = BUF_INIT;
	int code = deployd_request(c->state, json, stdout, &final);
	if (code == 0) {
		if (!quiet_ok && final.len)
			printf("%s\n", final.buf);
	} else if (final.len) {
		if (strstr(final.buf, ": error: "))
			fprintf(stderr, "%s\n", final.buf);
		else
			fprintf(stderr, "kiln: error: %s\n", final.buf);
	}
	buf_release(&final);
	return code;
}

static const char *whoami(const char *given)
{
	if (given)
		return given;
	const char *u = getenv("USER");
	return u && *u ? u : "unknown";
}

/* {"cmd":cmd,"app":app} plus extra members already JSON-encoded */
static char *req_json(const char *cmd, const char *app, const char *extra)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "{\"cmd\":\"%s\"", cmd);
	if (app) {
		buf_addstr(&b, ",\"app\":");
		buf_add_json_str(&b, app, strlen(app));
	}
	if (extra)
		buf_addstr(&b, extra);
	buf_addch(&b, '}');
	return buf_detach(&b, NULL);
}

static void add_str(struct buf *b, const char *k, const char *v)
{
	if (!v)
		return;
	buf_addf(b, ",\"%s\":", k);
	buf_add_json_str(b, v, strlen(v));
}

int cmd_deployd(int argc, char **argv, struct kiln_ctx *ctx)
{
	struct common c;
	int stop = 0;
	struct gitops_opts g = { 0 };
	const char *interval = NULL;
	common_init(&c);
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ OPT_BOOL, 0, "stop", &stop, NULL, "ask the running controller to stop (and its instances)" },
		{ OPT_STRING, 0, "config-repo", &g.url, "URL", "take the apps from this config repository (GitOps; or $KILN_CONFIG_REPO)" },
		{ OPT_STRING, 0, "branch", &g.branch, "NAME", "its branch (main)" },
		{ OPT_STRING, 0, "path", &g.path, "DIR", "the directory of the app files in it (the root)" },
		{ OPT_STRING, 0, "env", &g.env, "NAME", "read NAME/<env>.yaml before NAME/values.yaml" },
		{ OPT_STRING, 0, "interval", &interval, "DURATION", "how often to fetch it (3m)" },
		{ OPT_STRING, 0, "webhook", &g.webhook, "ADDR:PORT", "listen for signed push webhooks" },
		{ OPT_STRING, 0, "webhook-secret-file", &g.secret_file, "FILE", "the webhooks' shared secret" },
		{ OPT_STRING, 0, "author", &g.author, "NAME <EMAIL>", "author of the revert commits of 'kiln rollback'" },
		OPT_END_MARK,
	};
	static const char *const usage[] = {
		"kiln deployd [--state DIR] [--apps DIR] [--stop]",
		"kiln deployd --config-repo URL [--branch B] [--path DIR] [--interval 3m] [--webhook ADDR:PORT "
		"--webhook-secret-file FILE]",
		NULL
	};
	int n = parse(argc, argv, opts, usage, 0, 0);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (stop) {
		char *j = req_json("shutdown", NULL, NULL);
		int r = request(&c, j, 1);
		free(j);
		return r;
	}
	/* $KILN_CONFIG_REPO: a URL with a token stays off the command line
	 * (kiln serve starts its controller so) */
	const char *env_repo = getenv("KILN_CONFIG_REPO");
	if (env_repo && !*env_repo)
		env_repo = NULL;
	if (!g.url && !env_repo && (g.branch || g.path || g.env || interval || g.webhook || g.secret_file || g.author)) {
		fprintf(stderr, "kiln: error: --branch, --path, --env, --interval, --webhook and --author "
				"go with --config-repo\n");
		return EXIT_USAGE;
	}
	if (interval && ((g.interval_ms = parse_duration_ms(interval)) < 100)) {
		fprintf(stderr, "kiln: error: --interval '%s' is not a duration of 100ms or more (like 30s, 3m)\n",
			interval);
		return EXIT_USAGE;
	}
	/* copied, and out of the environment the instances and hooks inherit */
	char *env_url = !g.url && env_repo ? xstrdup(env_repo) : NULL;
	if (env_url)
		g.url = env_url;
	unsetenv("KILN_CONFIG_REPO");
	/* a relative path names a repository on this machine */
	char *abs = g.url && !strstr(g.url, "://") && g.url[0] != '/' ? realpath(g.url, NULL) : NULL;
	if (abs)
		g.url = abs;
	struct deployd_opts o = { c.state, c.apps, g.url ? &g : NULL };
	int r = deployd_run(&o);
	free(abs);
	free(env_url);
	return r;
}

static int dry_run(const struct common *c, const char *app, const char *version, enum strategy_kind k)
{
	struct diags d = DIAGS_INIT;
	struct app *a = app_load_named(c->apps, app, &d);
	if (!a) {
		diags_sort(&d);
		diags_print(&d, stderr);
		diags_release(&d);
		return EXIT_USAGE;
	}
	diags_release(&d);
	struct buf plan = BUF_INIT;
	app_describe_plan(a, app_strategy(a, k), version, &plan);
	fputs(plan.buf, stdout);
	buf_release(&plan);
	app_free(a);
	return EXIT_OK;
}

int cmd_deploy(int argc, char **argv, struct kiln_ctx *ctx)
{
	struct common c;
	const char *strategy = NULL, *user = NULL;
	int wait = 0, dry = 0;
	common_init(&c);
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ OPT_STRING, 0, "strategy", &strategy, "S", "rolling, blueGreen or canary (default: the app's)" },
		{ OPT_BOOL, 0, "wait", &wait, NULL, "follow the rollout; exit 1 when it fails or rolls back" },
		{ OPT_BOOL, 'n', "dry-run", &dry, NULL, "print the plan (steps, weights, probes) and exit" },
		{ OPT_STRING, 0, "user", &user, "NAME", "who deploys, for the release history ($USER)" },
		OPT_END_MARK,
	};
	static const char *const usage[] = { "kiln deploy APP VERSION [--strategy S] [--wait] [--dry-run]", NULL };
	int n = parse(argc, argv, opts, usage, 2, 2);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (check_name("app name", argv[1]) < 0 || check_name("version", argv[2]) < 0)
		return EXIT_USAGE;
	enum strategy_kind k = STRAT_NONE;
	if (strategy && (k = strategy_parse(strategy)) == STRAT_NONE) {
		static const char *const names[] = { "rolling", "blueGreen", "canary" };
		const char *hint = did_you_mean(strategy, names, ARRAY_SIZE(names));
		fprintf(stderr, "kiln: error: unknown strategy '%s'%s%s%s\n", strategy, hint ? " (did you mean '" : "",
			hint ? hint : "", hint ? "'?)" : "; use rolling, blueGreen or canary");
		return EXIT_USAGE;
	}
	if (dry)
		return dry_run(&c, argv[1], argv[2], k);
	struct buf extra = BUF_INIT;
	add_str(&extra, "version", argv[2]);
	if (k != STRAT_NONE)
		add_str(&extra, "strategy", strategy_name(k));
	add_str(&extra, "user", whoami(user));
	buf_addf(&extra, ",\"wait\":%s", wait ? "true" : "false");
	char *j = req_json("deploy", argv[1], extra.buf);
	buf_release(&extra);
	int r = request(&c, j, 0);
	free(j);
	return r;
}

/* status, promote, abort: APP only */
static int simple(int argc, char **argv, const char *cmd, const char *use)
{
	struct common c;
	common_init(&c);
	const struct opt opts[] = { COMMON_OPTS(c), OPT_END_MARK };
	const char *const usage[] = { use, NULL };
	int n = parse(argc, argv, opts, usage, 1, 1);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (check_name("app name", argv[1]) < 0)
		return EXIT_USAGE;
	char *j = req_json(cmd, argv[1], NULL);
	int r = request(&c, j, 0);
	free(j);
	return r;
}

int cmd_status(int argc, char **argv, struct kiln_ctx *ctx)
{
	struct common c;
	struct remote rm = { NULL, NULL };
	int json = 0;
	common_init(&c);
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ OPT_BOOL, 0, "json", &json, NULL, "every app's sync and health as JSON (without APP)" },
		REMOTE_OPTS(rm),
		OPT_END_MARK,
	};
	static const char *const usage[] = { "kiln status [APP] [--json] [--server URL]", NULL };
	int n = parse(argc, argv, opts, usage, 0, 1);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (n == 1 && check_name("app name", argv[1]) < 0)
		return EXIT_USAGE;
	if (rm.server) { /* the server's GitOps controller (its apps API) */
		remote_resolve(&rm);
		return apps_remote_status(&rm, n == 1 ? argv[1] : NULL, json);
	}
	char *j = n == 1 ? req_json("status", argv[1], NULL) : req_json("apps", NULL, json ? ",\"json\":true" : NULL);
	int r = request(&c, j, 0);
	free(j);
	return r;
}

int cmd_sync(int argc, char **argv, struct kiln_ctx *ctx)
{
	struct common c;
	struct remote rm = { NULL, NULL };
	const char *user = NULL, *timeout = NULL;
	int wait = 0, refresh = 0;
	common_init(&c);
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ OPT_BOOL, 0, "wait", &wait, NULL, "follow the rollout to its end" },
		{ OPT_STRING, 0, "timeout", &timeout, "DURATION",
		  "with --wait --server: give up after it (default 10m)" },
		{ OPT_BOOL, 0, "refresh", &refresh, NULL, "fetch the config repository now (no APP)" },
		{ OPT_STRING, 0, "user", &user, "NAME", "who syncs ($USER)" },
		REMOTE_OPTS(rm),
		OPT_END_MARK,
	};
	static const char *const usage[] = { "kiln sync APP [--wait]", "kiln sync --refresh",
					     "kiln sync APP --server URL [--token T] [--wait [--timeout 10m]]", NULL };
	/* refresh is known only after the options are read: --refresh takes no APP */
	int n = parse(argc, argv, opts, usage, 0, 1);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (n != !refresh) {
		fprintf(stderr, "kiln: error: wrong number of arguments\n");
		opt_usage(stderr, opts, usage);
		return EXIT_USAGE;
	}
	if (rm.server && (refresh || user)) {
		fprintf(stderr, "kiln sync: error: --refresh and --user talk to a local controller; "
				"with --server the user is the token's\n");
		return EXIT_USAGE;
	}
	int64_t wait_ms = 600000;
	if (timeout && (!rm.server || !wait || (wait_ms = parse_duration_ms(timeout)) <= 0)) {
		fprintf(stderr, "kiln sync: error: %s\n", rm.server && wait
			? "--timeout takes a duration such as 90s or 10m"
			: "--timeout goes with --wait --server (a local --wait follows the rollout to its end)");
		return EXIT_USAGE;
	}
	if (rm.server) {
		if (check_name("app name", argv[1]) < 0)
			return EXIT_USAGE;
		remote_resolve(&rm);
		return apps_remote_sync(&rm, argv[1], wait ? wait_ms : 0);
	}
	if (refresh) {
		char *j = req_json("refresh", NULL, NULL);
		int r = request(&c, j, 0);
		free(j);
		return r;
	}
	if (check_name("app name", argv[1]) < 0)
		return EXIT_USAGE;
	struct buf extra = BUF_INIT;
	add_str(&extra, "user", whoami(user));
	buf_addf(&extra, ",\"wait\":%s", wait ? "true" : "false");
	char *j = req_json("sync", argv[1], extra.buf);
	buf_release(&extra);
	int r = request(&c, j, 0);
	free(j);
	return r;
}

int cmd_promote(int argc, char **argv, struct kiln_ctx *ctx)
{
	return simple(argc, argv, "promote", "kiln promote APP");
}

int cmd_abort(int argc, char **argv, struct kiln_ctx *ctx)
{
	return simple(argc, argv, "abort", "kiln abort APP");
}

int cmd_rollback(int argc, char **argv, struct kiln_ctx *ctx)
{
	struct common c;
	const char *user = NULL;
	int wait = 0;
	common_init(&c);
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ OPT_BOOL, 0, "wait", &wait, NULL, "follow the rollback when it needs a deploy" },
		{ OPT_STRING, 0, "user", &user, "NAME", "who rolls back ($USER)" },
		OPT_END_MARK,
	};
	static const char *const usage[] = { "kiln rollback APP [VERSION] [--wait]", NULL };
	int n = parse(argc, argv, opts, usage, 1, 2);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (check_name("app name", argv[1]) < 0 || (n == 2 && check_name("version", argv[2]) < 0))
		return EXIT_USAGE;
	struct buf extra = BUF_INIT;
	if (n == 2)
		add_str(&extra, "version", argv[2]);
	add_str(&extra, "user", whoami(user));
	buf_addf(&extra, ",\"wait\":%s", wait ? "true" : "false");
	char *j = req_json("rollback", argv[1], extra.buf);
	buf_release(&extra);
	int r = request(&c, j, 0);
	free(j);
	return r;
}

int cmd_maintenance(int argc, char **argv, struct kiln_ctx *ctx)
{
	struct common c;
	common_init(&c);
	const struct opt opts[] = { COMMON_OPTS(c), OPT_END_MARK };
	static const char *const usage[] = { "kiln maintenance APP on|off", NULL };
	int n = parse(argc, argv, opts, usage, 2, 2);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (check_name("app name", argv[1]) < 0)
		return EXIT_USAGE;
	if (strcmp(argv[2], "on") && strcmp(argv[2], "off")) {
		fprintf(stderr, "kiln: error: maintenance takes 'on' or 'off', not '%s'\n", argv[2]);
		return EXIT_USAGE;
	}
	struct buf extra = BUF_INIT;
	add_str(&extra, "mode", argv[2]);
	char *j = req_json("maintenance", argv[1], extra.buf);
	buf_release(&extra);
	int r = request(&c, j, 0);
	free(j);
	return r;
}

int cmd_releases(int argc, char **argv, struct kiln_ctx *ctx)
{
	struct common c;
	int json = 0, audit = 0;
	common_init(&c);
	const struct opt opts[] = {
		COMMON_OPTS(c),
		{ OPT_BOOL, 0, "json", &json, NULL, "one JSON object per release" },
		{ OPT_BOOL, 0, "audit", &audit, NULL, "print the audit log (incidents, switches) instead" },
		OPT_END_MARK,
	};
	static const char *const usage[] = { "kiln releases APP [--json] [--audit]", NULL };
	int n = parse(argc, argv, opts, usage, 1, 1);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (check_name("app name", argv[1]) < 0)
		return EXIT_USAGE;
	char *path = xstrfmt("%s/kiln.db", c.state);
	if (access(path, F_OK) < 0) {
		fprintf(stderr, "kiln: error: no deploy state in '%s' (no %s)\n", c.state, path);
		free(path);
		return EXIT_USAGE;
	}
	struct db *db;
	struct buf err = BUF_INIT;
	int r = EXIT_INTERNAL;
	if (db_open(path, &db, &err) < 0)
		fprintf(stderr, "kiln: error: %s\n", err.buf);
	else {
		r = (audit ? dstore_print_audit(db, argv[1], stdout) : dstore_print_releases(db, argv[1], json, stdout))
			    ? EXIT_INTERNAL : EXIT_OK;
		db_close(db);
	}
	buf_release(&err);
	free(path);
	return r;
}
