/*
 * main: the subcommand table (git.c style). Each entry names a command, its
 * function and a one-line summary for `kiln help`.
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/ctx.h"

#include <signal.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct kiln_ctx *ctx);
	const char *summary; /* NULL hides the command from help */
};

static const struct cmd cmds[] = {
	{ "run", cmd_run, "run the workflows an event triggers, here, now" },
	{ "version", cmd_version, "print kiln's version" },
	{ "cron", cmd_cron, "show when a schedule cron expression fires next" },
	{ "expr", cmd_expr, "evaluate a ${{ }} expression (--jsonl for many)" },
	{ "lint", cmd_lint, "check workflow files for errors" },
	{ "secret", cmd_secret, "manage encrypted secrets (set, list, rm)" },
	{ "cache", cmd_cache, "list, remove, prune, save and restore cache entries" },
	{ "runs", cmd_runs, "list recorded workflow runs" },
	{ "logs", cmd_logs, "print the stored logs of a run or one of its jobs" },
	{ "dora", cmd_dora, "deployment frequency, lead time, change failure rate, recovery time" },
	{ "env", cmd_env, "a repository's environments: rules, secrets, variables (server)" },
	{ "approve", cmd_approve, "approve a run's deployments waiting for review (server)" },
	{ "reject", cmd_reject, "reject a run's deployments waiting for review (server)" },
	{ "cancel", cmd_cancel, "cancel a run of the server" },
	{ "rerun", cmd_rerun, "re-run a run of the server, or only its failed jobs" },
	{ "dispatch", cmd_dispatch, "start a workflow_dispatch run on the server" },
	{ "user", cmd_user, "the server's users (list, add, set, groups)" },
	{ "token", cmd_token, "API tokens (create, list, revoke)" },
	{ "serve", cmd_serve, "run the CI server (webhooks, polling, API)" },
	{ "agent", cmd_agent, "run jobs leased from a kiln server; register, list, revoke agents" },
	{ "repo", cmd_repo, "add, list and remove the repositories kiln serve builds" },
	{ "debug", cmd_debug, NULL },
	{ "deployd", cmd_deployd, "run the deploy controller (HAProxy, instances, rollouts)" },
	{ "deploy", cmd_deploy, "deploy a release of an app (rolling, blue-green, canary)" },
	{ "status", cmd_status, "show an app's instances, health, weights and rollout" },
	{ "sync", cmd_sync, "roll out what the config repository says for an app (GitOps)" },
	{ "releases", cmd_releases, "show an app's release history" },
	{ "rollback", cmd_rollback, "go back to the previous (or a given) release" },
	{ "promote", cmd_promote, "continue a paused rollout" },
	{ "abort", cmd_abort, "abort a rollout and return traffic to stable" },
	{ "maintenance", cmd_maintenance, "turn an app's maintenance page on or off" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: kiln <command> [<args>]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (cmds[i].summary)
			fprintf(out, "   %-12s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(out, "\n'kiln <command> --help' describes a command.\n"
		     "exit status: 0 success, 1 a job or deploy failed, 2 usage or input error,\n"
		     "3 internal or environment error\n");
}

/*
 * KILN_DIE_WITH=PID (set by kiln serve for its `kiln run` children): die
 * with process PID, even when it is killed by SIGKILL. The kernel signals
 * us when the parent's thread that forked us ends; if the parent died
 * before the prctl, getppid() no longer names it. The variable is not
 * passed on to steps.
 */
static void die_with_parent(void)
{
	const char *v = getenv("KILN_DIE_WITH");
	if (!v)
		return;
	char *end;
	long pid = strtol(v, &end, 10);
	if (*end || pid <= 0) {
		fprintf(stderr, "kiln: error: KILN_DIE_WITH='%s' is not a process id\n", v);
		_exit(EXIT_USAGE);
	}
	unsetenv("KILN_DIE_WITH");
#ifdef __linux__
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(EXIT_INTERNAL);
	if (getppid() != (pid_t)pid) /* it died before the prctl: follow it */
		_exit(EXIT_INTERNAL);
#endif
}

int main(int argc, char **argv)
{
	die_with_parent();
	static char exe[4096];
	struct kiln_ctx ctx = { .argv0 = argv[0], .exe = argv[0] };
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		ctx.exe = exe;
	}
	ctx.color = isatty(1) && !getenv("NO_COLOR");

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(name, "--version"))
		name = "version";
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, name))
			return cmds[i].fn(argc - 1, argv + 1, &ctx);

	const char *names[ARRAY_SIZE(cmds)];
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		names[i] = cmds[i].name;
	const char *hint = did_you_mean(name, names, ARRAY_SIZE(cmds));
	if (hint)
		fprintf(stderr, "kiln: error: unknown command '%s' (did you mean '%s'?)\n", name, hint);
	else
		fprintf(stderr, "kiln: error: unknown command '%s'; see 'kiln help'\n", name);
	return EXIT_USAGE;
}
