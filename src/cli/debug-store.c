/*
 * debug-store: `kiln debug record-run` writes a run with jobs and logs
 * through the run-history API, so shell tests can exercise `kiln runs` and
 * `kiln logs` without the engine. --job NAME:CONCLUSION:LOGFILE repeats.
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "store/db.h"
#include "store/open.h"
#include "store/runs.h"

static const char *const usage[] = {
	"kiln debug record-run --workflow FILE [--name N] [--event E] [--ref R] [--repo DIR] "
	"[--conclusion C] "
	"[--job NAME:CONCLUSION:LOGFILE]...",
	NULL,
};

static int record_job(struct db *db, int64_t run, const char *spec, struct buf *err)
{
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2) {
		buf_addf(err, "bad --job '%s': expected NAME:CONCLUSION:LOGFILE", spec);
		return -1;
	}
	char *name = xstrndup(spec, (size_t)(c1 - spec));
	char *concl = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
	struct buf log = BUF_INIT;
	int64_t job;
	int r = buf_read_file(&log, c2 + 1);
	if (r < 0) {
		buf_addf(err, "cannot read '%s': %s", c2 + 1, strerror(-r));
		r = -1;
	} else if (!(r = runs_job_start(db, run, name, &job, err))) {
		struct runs_log l;
		runs_log_init(&l, db, job);
		r = runs_log_write(&l, log.buf, log.len, err);
		if (!r)
			r = runs_log_flush(&l, err);
		runs_log_release(&l);
		if (!r)
			r = runs_job_finish(db, job, concl, err);
	}
	free(name);
	free(concl);
	buf_release(&log);
	return r;
}

int debug_record_run(int argc, char **argv)
{
	struct run_info ri = { NULL, NULL, "push", "refs/heads/main", NULL, NULL, NULL, 0, 0 };
	const char *concl = "success";
	struct strvec jobs = STRVEC_INIT;
	const struct opt opts[] = {
		{ OPT_STRING, 0, "workflow", &ri.workflow, "FILE", "workflow file" },
		{ OPT_STRING, 0, "name", &ri.name, "N", "workflow name" },
		{ OPT_STRING, 0, "event", &ri.event, "E", "event (push)" },
		{ OPT_STRING, 0, "ref", &ri.ref, "R", "ref (refs/heads/main)" },
		{ OPT_STRING, 0, "repo", &ri.repo, "DIR", "repository work tree (none)" },
		{ OPT_STRING, 0, "conclusion", &concl, "C", "run conclusion (success)" },
		{ OPT_LIST, 0, "job", &jobs, "SPEC", "NAME:CONCLUSION:LOGFILE" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	if (n < 0 || n > 0 || !ri.workflow) {
		strvec_clear(&jobs);
		if (n >= 0)
			opt_usage(stderr, opts, usage);
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	}
	struct buf err = BUF_INIT;
	struct db *db = NULL;
	int64_t run;
	int num, r = EXIT_OK;
	if (store_open_default(&db, NULL, &err) < 0 || runs_start(db, &ri, &run, &num, &err) < 0) {
		r = EXIT_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < jobs.nr && !r; i++)
		if (record_job(db, run, jobs.v[i], &err) < 0)
			r = EXIT_USAGE;
	if (!r && runs_finish(db, run, concl, NULL, &err) < 0)
		r = EXIT_INTERNAL;
	if (!r)
		printf("%lld %d\n", (long long)run, num);
out:
	if (err.len)
		fprintf(stderr, "kiln: error: %s\n", err.buf);
	db_close(db);
	strvec_clear(&jobs);
	buf_release(&err);
	return r;
}
