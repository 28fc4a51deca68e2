/*
 * debug-deploy: `kiln debug record-deploy` records one deployment through
 * the real gate (src/server/env.c) at given times, so shell tests can check
 * `kiln dora` against hand-computed figures before a server runs jobs.
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "server/env.h"
#include "store/db.h"
#include "store/open.h"

static const char *const usage[] = {
	"kiln debug record-deploy --repo R --env E --run N --commit MS --end MS "
	"[--result success|failure|cancelled] [--reason TEXT] [--release-message MSG]"
	" [--actor USER] [--ref REF]   (no --result: only ask the gate, print its answer)",
	NULL,
};

static int parse_ms(const char *s, int64_t *out)
{
	char *end;
	long long v = s ? strtoll(s, &end, 10) : 0;
	if (!s || *end || v <= 0)
		return -1;
	*out = v;
	return 0;
}

int debug_record_deploy(int argc, char **argv)
{
	const char *repo = NULL, *env = NULL, *run = NULL, *commit = NULL, *end = NULL;
	const char *result = NULL, *reason = NULL, *release = NULL, *actor = "kiln";
	const char *ref = "refs/heads/main";
	const struct opt opts[] = {
		{ OPT_STRING, 0, "repo", &repo, "R", "repository" },
		{ OPT_STRING, 0, "env", &env, "E", "environment" },
		{ OPT_STRING, 0, "run", &run, "N", "run id (also the job id)" },
		{ OPT_STRING, 0, "commit", &commit, "MS", "commit time, unix ms" },
		{ OPT_STRING, 0, "end", &end, "MS", "end of the deployment, unix ms" },
		{ OPT_STRING, 0, "result", &result, "R", "success, failure or cancelled" },
		{ OPT_STRING, 0, "reason", &reason, "TEXT", "why it failed" },
		{ OPT_STRING, 0, "release-message", &release, "MSG", "kiln/deploy's final message" },
		{ OPT_STRING, 0, "actor", &actor, "USER", "who triggered the run (kiln)" },
		{ OPT_STRING, 0, "ref", &ref, "REF", "the deployed ref (refs/heads/main)" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	int64_t run_id, commit_ms, end_ms;
	if (n != 0 || !repo || !env || parse_ms(run, &run_id) || parse_ms(commit, &commit_ms) ||
	    parse_ms(end, &end_ms)) {
		if (n >= 0)
			opt_usage(stderr, opts, usage);
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	}
	struct buf err = BUF_INIT, why = BUF_INIT;
	struct db *db = NULL;
	int rc = EXIT_OK;
	struct env_decision d;
	struct env_job j = { repo, env, run_id, run_id, "deploy", ref, "0000000", actor, commit_ms };
	if (store_open_default(&db, NULL, &err) < 0 || env_gate(db, &j, end_ms - 5 * 60000, NULL, &d, &err)) {
		rc = EXIT_INTERNAL;
		goto out;
	}
	if (!result) {
		printf("%s %lld %s\n", env_verdict_name(d.verdict), (long long)d.deployment_id, d.reason);
		goto out;
	}
	if (d.verdict != ENV_PROCEED) {
		buf_addf(&err, "the gate said %s: %s", env_verdict_name(d.verdict), d.reason);
		rc = EXIT_FAILED;
		goto out;
	}
	int rolled = 0;
	if (release && env_link_release(db, d.deployment_id, "app", release, &rolled, &why, &err)) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (rolled)
		result = "failure";
	if (env_deployment_finish(db, d.deployment_id, result, why.len ? why.buf : reason, end_ms, NULL,
				  &err)) {
		rc = EXIT_USAGE;
		goto out;
	}
	printf("%lld\n", (long long)d.deployment_id);
out:
	if (err.len)
		fprintf(stderr, "kiln debug record-deploy: error: %s\n", err.buf);
	db_close(db);
	buf_release(&err);
	buf_release(&why);
	return rc;
}
