/*
 * debug-notify: `kiln debug notify` adds notification webhooks to the
 * store and emits one event through them (src/server/notify.c), running
 * the loop until every delivery is done — so shell tests can check the
 * payloads, masking and retries against a recording server.
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "engine/mask.h"
#include "secret/secret.h"
#include "server/notify.h"
#include "store/db.h"
#include "store/open.h"

#include <uv.h>

static const char *const usage[] = {
	"kiln debug notify --repo R [--hook KIND,URL[,ENV[,EVENTS]]]... --event E [--env E] [--run N]"
	" [--workflow W] [--ref REF] [--sha SHA] [--actor A] [--reason TEXT] [--link URL]"
	" [--mask VALUE]... [--attempts N] [--backoff-ms MS]",
	NULL,
};

/* KIND,URL[,ENV[,EVENTS...]] (EVENTS may hold commas: the rest of the spec) */
static int add_hook(struct db *db, struct secret_store *ss, const char *repo, const char *spec,
		    struct buf *err)
{
	char *copy = xstrdup(spec);
	char *kind = copy, *url = strchr(copy, ','), *env = NULL, *events = NULL;
	int r = KILN_EINVAL;
	if (!url) {
		buf_addf(err, "bad --hook '%s': expected KIND,URL[,ENV[,EVENTS]]", spec);
		goto out;
	}
	*url++ = '\0';
	if ((env = strchr(url, ','))) {
		*env++ = '\0';
		if ((events = strchr(env, ',')))
			*events++ = '\0';
	}
	r = notify_hook_add(db, ss, "test", repo, env, kind, events, url, NULL, err);
out:
	free(copy);
	return r;
}

int debug_notify(int argc, char **argv)
{
	struct notify_msg m = { 0 };
	const char *event = NULL, *run = NULL;
	struct strvec hooks = STRVEC_INIT, masks = STRVEC_INIT;
	int attempts = 3, backoff = 100;
	const struct opt opts[] = {
		{ OPT_STRING, 0, "repo", &m.repo, "R", "repository" },
		{ OPT_LIST, 0, "hook", &hooks, "SPEC", "KIND,URL[,ENV[,EVENTS]] to add first" },
		{ OPT_STRING, 0, "event", &event, "E", "run.success, deploy.rollback, ..." },
		{ OPT_STRING, 0, "env", &m.environment, "E", "environment" },
		{ OPT_STRING, 0, "run", &run, "N", "run id" },
		{ OPT_STRING, 0, "workflow", &m.workflow, "W", "workflow name" },
		{ OPT_STRING, 0, "ref", &m.ref, "REF", "ref" },
		{ OPT_STRING, 0, "sha", &m.sha, "SHA", "commit" },
		{ OPT_STRING, 0, "actor", &m.actor, "A", "who" },
		{ OPT_STRING, 0, "reason", &m.reason, "TEXT", "why" },
		{ OPT_STRING, 0, "link", &m.link, "URL", "the run's page" },
		{ OPT_LIST, 0, "mask", &masks, "VALUE", "a secret to mask" },
		{ OPT_INT, 0, "attempts", &attempts, "N", "attempts per delivery (3)" },
		{ OPT_INT, 0, "backoff-ms", &backoff, "MS", "first back-off (100)" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	enum notify_event ev;
	if (n != 0 || !m.repo || !event || notify_event_parse(event, &ev)) {
		if (n >= 0)
			opt_usage(stderr, opts, usage);
		strvec_clear(&hooks);
		strvec_clear(&masks);
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	}
	m.event = ev;
	m.run_id = run ? strtoll(run, NULL, 10) : 0;
	m.at_ms = 1;
	struct buf err = BUF_INIT, dir = BUF_INIT;
	struct db *db = NULL;
	struct secret_store *ss = NULL;
	struct notifier *no = NULL;
	struct masker *mk = mask_new();
	uv_loop_t loop;
	uv_loop_init(&loop);
	int rc = EXIT_INTERNAL;
	for (size_t i = 0; i < masks.nr; i++)
		mask_add(mk, masks.v[i], strlen(masks.v[i]));
	if (store_open_default(&db, &dir, &err) < 0 || secret_store_open(&ss, db, dir.buf, &err) < 0)
		goto out;
	for (size_t i = 0; i < hooks.nr; i++) {
		int r = add_hook(db, ss, m.repo, hooks.v[i], &err);
		if (r) {
			rc = r == KILN_EINVAL ? EXIT_USAGE : EXIT_INTERNAL;
			goto out;
		}
	}
	if (notifier_new(&loop, db, ss, attempts, (uint64_t)backoff, &no, &err) < 0)
		goto out;
	int started = notify_emit(no, &m, mk, &err);
	if (started < 0)
		goto out;
	uv_run(&loop, UV_RUN_DEFAULT); /* until every delivery is done */
	uint64_t ok, failed;
	notifier_counts(no, &ok, &failed);
	printf("started %d delivered %llu failed %llu\n", started, (unsigned long long)ok,
	       (unsigned long long)failed);
	rc = failed ? EXIT_FAILED : EXIT_OK;
out:
	if (no) {
		notifier_close(no, NULL, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	if (uv_loop_close(&loop) != 0)
		fprintf(stderr, "kiln debug notify: BUG: handles left on the loop\n");
	if (err.len)
		fprintf(stderr, "kiln debug notify: error: %s\n", err.buf);
	mask_free(mk);
	secret_store_close(ss);
	db_close(db);
	strvec_clear(&hooks);
	strvec_clear(&masks);
	buf_release(&err);
	buf_release(&dir);
	return rc;
}
