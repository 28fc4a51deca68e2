/*
 * approve: `kiln approve RUN [--comment TEXT] [--env ENV]` and `kiln reject
 * RUN ...` — review a run's deployments waiting in protected environments
 * (GitHub's "Review pending deployments"). Through the server only: a
 * review needs the reviewer's identity (--server / KILN_SERVER, --token /
 * KILN_TOKEN).
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "cli/remote.h"

static int review(int argc, char **argv, int approve)
{
	const char *const usage[] = { approve ? "kiln approve RUN [--comment TEXT] [--env ENV]"
					      : "kiln reject RUN [--comment TEXT] [--env ENV]",
				      NULL };
	const char *cmd = approve ? "approve" : "reject";
	struct remote rm = { NULL, NULL };
	const char *comment = NULL, *env = NULL;
	const struct opt opts[] = {
		{ OPT_STRING, 0, "server", &rm.server, "URL", "the kiln server (KILN_SERVER)" },
		{ OPT_STRING, 0, "token", &rm.token, "TOKEN", "API token (KILN_TOKEN)" },
		{ OPT_STRING, 'c', "comment", &comment, "TEXT", "why (kept in the audit log)" },
		{ OPT_STRING, 'e', "env", &env, "ENV", "only this environment's deployments" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	char *end = NULL;
	long long run = n == 1 ? strtoll(argv[1], &end, 10) : 0;
	if (n != 1 || *end || run <= 0) {
		opt_usage(stderr, opts, usage);
		return EXIT_USAGE;
	}
	if (!remote_resolve(&rm)) {
		fprintf(stderr, "kiln %s: error: a review goes through the server: pass --server URL "
				"(or set KILN_SERVER) and --token (KILN_TOKEN)\n",
			cmd);
		return EXIT_USAGE;
	}
	struct buf path = BUF_INIT;
	buf_addf(&path, "/api/v1/runs/%lld/%s", run, cmd);
	json_t *b = json_object(), *out = NULL;
	if (comment)
		json_object_set_new(b, "comment", json_string(comment));
	if (env)
		json_object_set_new(b, "environment", json_string(env));
	int rc = remote_call(&rm, cmd, "POST", path.buf, b, &out);
	if (!rc)
		printf("run %lld: %lld deployment%s %s\n", run,
		       (long long)json_integer_value(json_object_get(out, "deployments")),
		       json_integer_value(json_object_get(out, "deployments")) == 1 ? "" : "s",
		       approve ? "approved" : "rejected");
	json_decref(out);
	buf_release(&path);
	return rc;
}

int cmd_approve(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	return review(argc, argv, 1);
}

int cmd_reject(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	return review(argc, argv, 0);
}
