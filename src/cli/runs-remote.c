/*
 * runs-remote: the run commands against `kiln serve`, as `gh run` does —
 * `kiln runs --server`, `kiln logs --server [-f]`, `kiln cancel RUN`,
 * `kiln dispatch REPO WORKFLOW [--ref R] [-f KEY=VALUE]...` (the runs API of
 * docs/api.md). `logs -f` follows a run by asking for its stored log once a
 * second and printing what is new until the run completes (the server
 * stores log lines every loop turn, so nothing is skipped or repeated).
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "cli/remote.h"
#include "cli/runs-remote.h"
#include "deploy/webhook.h"

#include <unistd.h>

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static const char *short_ref(const char *ref)
{
	if (str_starts_with(ref, "refs/heads/"))
		return ref + 11;
	if (str_starts_with(ref, "refs/tags/"))
		return ref + 10;
	return *ref ? ref : "-";
}

static void fmt_duration(int64_t ms, char *out, size_t n)
{
	if (ms <= 0)
		snprintf(out, n, "-");
	else if (ms < 10000)
		snprintf(out, n, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(out, n, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
	else
		snprintf(out, n, "%lldh%02lldm", (long long)(ms / 3600000), (long long)(ms / 60000 % 60));
}

static const char *run_result(const json_t *r)
{
	return *str(r, "conclusion") ? str(r, "conclusion") : str(r, "status");
}

/* the runs as `kiln runs` shows local ones: each column as wide as its widest
 * cell, up to a cap (a long workflow path does not shift the others) */
static void print_remote_table(const json_t *runs)
{
	size_t wrepo = strlen("REPO"), ww = strlen("WORKFLOW"), we = strlen("EVENT"),
	       wr = strlen("REF"), wres = strlen("RESULT"), i;
	const json_t *r;
	json_array_foreach(runs, i, r)
	{
		wrepo = runs_col_width(wrepo, *str(r, "repo") ? str(r, "repo") : "-", COL_REPO_MAX);
		ww = runs_col_width(ww, str(r, "name"), COL_WORKFLOW_MAX);
		we = runs_col_width(we, str(r, "event"), COL_EVENT_MAX);
		wr = runs_col_width(wr, short_ref(str(r, "ref")), COL_REF_MAX);
		wres = runs_col_width(wres, run_result(r), 16);
	}
	struct buf line = BUF_INIT;
	buf_addf(&line, "%-6s ", "ID");
	runs_put_cell(&line, "REPO", wrepo, 0);
	runs_put_cell(&line, "WORKFLOW", ww, 0);
	buf_addf(&line, "%-6s ", "#");
	runs_put_cell(&line, "EVENT", we, 0);
	runs_put_cell(&line, "REF", wr, 0);
	runs_put_cell(&line, "RESULT", wres, 0);
	buf_addf(&line, "%-9s %s", "DURATION", "WHEN");
	printf("%s\n", line.buf);
	json_array_foreach(runs, i, r)
	{
		char dur[32], when[32];
		int64_t st = json_integer_value(json_object_get(r, "started_at"));
		int64_t fin = json_integer_value(json_object_get(r, "finished_at"));
		fmt_duration(fin ? fin - st : 0, dur, sizeof(dur));
		remote_fmt_time(st, when, sizeof(when));
		buf_reset(&line);
		buf_addf(&line, "%-6lld ", (long long)json_integer_value(json_object_get(r, "id")));
		runs_put_cell(&line, *str(r, "repo") ? str(r, "repo") : "-", wrepo, 0);
		runs_put_cell(&line, str(r, "name"), ww, 0);
		buf_addf(&line, "%-6lld ", (long long)json_integer_value(json_object_get(r, "number")));
		runs_put_cell(&line, str(r, "event"), we, 0);
		runs_put_cell(&line, short_ref(str(r, "ref")), wr, 0);
		runs_put_cell(&line, run_result(r), wres, 0);
		buf_addf(&line, "%-9s %s", dur, when);
		printf("%s\n", line.buf);
	}
	buf_release(&line);
}

int runs_remote(struct remote *rm, const struct runs_remote_opts *o)
{
	struct buf p = BUF_INIT;
	buf_addf(&p, "/api/v1/runs?per_page=%d", o->limit > 0 && o->limit <= 100 ? o->limit : 100);
	const char *keys[] = { "repo", "workflow", "branch", "status" };
	const char *vals[] = { o->repo, o->workflow, o->branch, o->status };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (vals[i]) {
			buf_addf(&p, "&%s=", keys[i]);
			remote_path_add(&p, vals[i], 0);
		}
	json_t *out = NULL;
	int rc = remote_call(rm, "runs", "GET", p.buf, NULL, &out);
	buf_release(&p);
	if (rc)
		return rc;
	const json_t *runs = json_object_get(out, "runs");
	if (o->json) {
		remote_print_json(runs);
	} else if (!json_array_size(runs)) {
		fprintf(stderr, "no runs recorded yet on %s\n", rm->server);
	} else {
		print_remote_table(runs);
	}
	json_decref(out);
	return EXIT_OK;
}

/* kiln runs RUN --server (gh run view): the run, then its jobs with their
 * ids (kiln rerun --job, kiln logs RUN JOB) and, for a job waiting at a
 * protected environment, what it waits for */
int run_view_remote(struct remote *rm, const char *run, int json)
{
	char *end;
	long long id = strtoll(run, &end, 10);
	if (*end || id <= 0) {
		fprintf(stderr, "kiln runs: error: with --server, RUN is the run's id (see kiln runs)\n");
		return EXIT_USAGE;
	}
	struct buf p = BUF_INIT;
	json_t *r = NULL, *jobs = NULL, *deps = NULL;
	buf_addf(&p, "/api/v1/runs/%lld", id);
	int rc = remote_call(rm, "runs", "GET", p.buf, NULL, &r);
	buf_addstr(&p, "/jobs");
	if (!rc)
		rc = remote_call(rm, "runs", "GET", p.buf, NULL, &jobs);
	buf_reset(&p);
	buf_addf(&p, "/api/v1/deployments?run=%lld&state=waiting", id);
	if (!rc)
		rc = remote_call(rm, "runs", "GET", p.buf, NULL, &deps);
	if (rc)
		goto out;
	const json_t *jv = json_object_get(jobs, "jobs");
	if (json) {
		json_object_set(r, "jobs", (json_t *)jv);
		remote_print_json(r);
		goto out;
	}
	char dur[32];
	int64_t st = json_integer_value(json_object_get(r, "started_at"));
	int64_t fin = json_integer_value(json_object_get(r, "finished_at"));
	fmt_duration(fin ? fin - st : 0, dur, sizeof(dur));
	printf("run %lld: %s #%lld · %s · %s %s · %.7s · attempt %lld · %s%s%s\n", id,
	       str(r, "name"), (long long)json_integer_value(json_object_get(r, "number")),
	       *str(r, "repo") ? str(r, "repo") : "-", str(r, "event"), short_ref(str(r, "ref")),
	       str(r, "sha"), (long long)json_integer_value(json_object_get(r, "attempt")),
	       *str(r, "conclusion") ? str(r, "conclusion") : str(r, "status"),
	       fin ? " in " : "", fin ? dur : "");
	if (*str(r, "reason"))
		printf("  %s\n", str(r, "reason"));
	printf("%-8s %-11s %-10s %-9s %s\n", "JOB ID", "STATUS", "RESULT", "DURATION", "NAME");
	size_t i;
	const json_t *j;
	json_array_foreach(jv, i, j)
	{
		int64_t js = json_integer_value(json_object_get(j, "started_at"));
		int64_t jf = json_integer_value(json_object_get(j, "finished_at"));
		fmt_duration(jf && js ? jf - js : 0, dur, sizeof(dur));
		printf("%-8lld %-11s %-10s %-9s %s", (long long)json_integer_value(json_object_get(j, "id")),
		       str(j, "status"), *str(j, "conclusion") ? str(j, "conclusion") : "-", dur,
		       str(j, "name"));
		size_t k;
		const json_t *d;
		json_array_foreach(deps, k, d)
			if (!strcmp(str(d, "job"), str(j, "name")))
				printf("  (waiting for review to deploy to %s: kiln approve %lld)",
				       str(d, "environment"), id);
		putchar('\n');
	}
out:
	json_decref(r);
	json_decref(jobs);
	json_decref(deps);
	buf_release(&p);
	return rc;
}

/* GET a text answer into out; the HTTP status, or -1 (printed) */
static long get_text(struct remote *rm, const char *path, struct buf *out)
{
	struct buf url = BUF_INIT;
	buf_addf(&url, "%s%s", rm->server, path);
	struct webhook_req req = { "GET", url.buf, rm->token, NULL, "text/plain", 30000, NULL, NULL };
	char err[256];
	long st = webhook_fetch(&req, out, err, sizeof(err));
	if (st < 0)
		fprintf(stderr, "kiln logs: error: cannot reach %s: %s\n", rm->server, err);
	buf_release(&url);
	return st;
}

int logs_remote(struct remote *rm, const char *run, const char *job, int follow, int stamped)
{
	char *end;
	long long id = strtoll(run, &end, 10);
	if (*end || id <= 0) {
		fprintf(stderr, "kiln logs: error: with --server, RUN is the run's id (see kiln runs --server)\n");
		return EXIT_USAGE;
	}
	struct buf p = BUF_INIT, runp = BUF_INIT, text = BUF_INIT;
	buf_addf(&p, "/api/v1/runs/%lld/logs", id);
	if (job) {
		buf_addstr(&p, "?job=");
		remote_path_add(&p, job, 0);
	}
	if (stamped)
		buf_addstr(&p, job ? "&timestamps=true" : "?timestamps=true");
	buf_addf(&runp, "/api/v1/runs/%lld", id);
	size_t shown = 0;
	int rc = EXIT_OK;
	/* bounded: a followed run is given up after a day */
	for (int round = 0; round < 24 * 3600; round++) {
		json_t *r = NULL;
		int done = 1;
		if (follow) {
			rc = remote_call(rm, "logs", "GET", runp.buf, NULL, &r);
			if (rc)
				break;
			done = !strcmp(str(r, "status"), "completed");
		}
		buf_reset(&text);
		long st = get_text(rm, p.buf, &text);
		if (st < 0) {
			rc = EXIT_INTERNAL;
		} else if (st == 404 && follow && !done) {
			/* the job has not started yet */
		} else if (st != 200) {
			json_error_t je;
			json_t *e = json_loadb(text.buf, text.len, 0, &je);
			fprintf(stderr, "kiln logs: error: %s (HTTP %ld)\n",
				str(json_object_get(e, "error"), "message"), st);
			json_decref(e);
			rc = st == 404 ? EXIT_FAILED : st >= 500 ? EXIT_INTERNAL : EXIT_FAILED;
		} else if (text.len > shown) {
			fwrite(text.buf + shown, 1, text.len - shown, stdout);
			fflush(stdout);
			shown = text.len;
		}
		if (rc || done) {
			if (!rc && follow && *str(r, "conclusion"))
				printf("kiln: run %lld %s\n", id, str(r, "conclusion"));
			if (!rc && follow && strcmp(str(r, "conclusion"), "success"))
				rc = EXIT_FAILED; /* as gh run watch --exit-status */
			json_decref(r);
			break;
		}
		json_decref(r);
		sleep(1);
	}
	buf_release(&p);
	buf_release(&runp);
	buf_release(&text);
	return rc;
}

int cmd_cancel(int argc, char **argv, struct kiln_ctx *ctx)
{
	static const char *const usage[] = { "kiln cancel RUN --server URL [--token T]", NULL };
	struct remote rm = { NULL, NULL };
	const struct opt opts[] = {
		{ OPT_STRING, 0, "server", &rm.server, "URL", "the kiln server (KILN_SERVER)" },
		{ OPT_STRING, 0, "token", &rm.token, "TOKEN", "API token (KILN_TOKEN)" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	char *end = NULL;
	long long id = n == 1 ? strtoll(argv[1], &end, 10) : 0;
	if (n != 1 || *end || id <= 0) {
		opt_usage(stderr, opts, usage);
		return EXIT_USAGE;
	}
	if (!remote_resolve(&rm)) {
		fprintf(stderr, "kiln cancel: error: a run of the server: pass --server URL (or set "
				"KILN_SERVER); a local kiln run stops with Ctrl-C\n");
		return EXIT_USAGE;
	}
	struct buf p = BUF_INIT;
	buf_addf(&p, "/api/v1/runs/%lld/cancel", id);
	json_t *out = NULL;
	int rc = remote_call(&rm, "cancel", "POST", p.buf, NULL, &out);
	if (!rc)
		printf("run %lld: %s\n", id, str(out, "status"));
	json_decref(out);
	buf_release(&p);
	(void)ctx;
	return rc;
}

/* kiln rerun RUN [--failed] | kiln rerun --job ID: gh run rerun [--failed | --job] */
int cmd_rerun(int argc, char **argv, struct kiln_ctx *ctx)
{
	static const char *const usage[] = { "kiln rerun RUN [--failed] --server URL [--token T]",
					     "kiln rerun [RUN] --job JOB_ID --server URL [--token T]",
					     NULL };
	struct remote rm = { NULL, NULL };
	int failed = 0, job = 0;
	const struct opt opts[] = {
		{ OPT_BOOL, 0, "failed", &failed, NULL,
		  "only the jobs that failed or were cancelled (and their dependents); the "
		  "successful ones and their outputs are reused" },
		{ OPT_INT, 0, "job", &job, "JOB_ID",
		  "only this job (its id, as `kiln runs RUN` / the API list it) and the jobs "
		  "needing it; the others keep their results" },
		{ OPT_STRING, 0, "server", &rm.server, "URL", "the kiln server (KILN_SERVER)" },
		{ OPT_STRING, 0, "token", &rm.token, "TOKEN", "API token (KILN_TOKEN)" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	char *end = NULL;
	long long id = n == 1 ? strtoll(argv[1], &end, 10) : 0;
	if (job < 0 || (job && failed)) {
		fprintf(stderr, "kiln rerun: error: --job takes a job id, and not with --failed\n");
		return EXIT_USAGE;
	}
	if ((n != 1 && !(job && n == 0)) || (n == 1 && (*end || id <= 0))) {
		opt_usage(stderr, opts, usage);
		return EXIT_USAGE;
	}
	if (!remote_resolve(&rm)) {
		fprintf(stderr, "kiln rerun: error: a run of the server: pass --server URL (or set "
				"KILN_SERVER); locally: kiln run --reuse-run RUN\n");
		return EXIT_USAGE;
	}
	struct buf p = BUF_INIT;
	json_t *out = NULL;
	int rc;
	if (job) {
		buf_addf(&p, "/api/v1/jobs/%d/rerun", job);
		rc = remote_call(&rm, "rerun", "POST", p.buf, NULL, &out);
		if (!rc)
			printf("job %d (%s): attempt %lld queued as event %lld\n", job,
			       json_string_value(json_object_get(out, "job")),
			       (long long)json_integer_value(json_object_get(out, "attempt")),
			       (long long)json_integer_value(json_object_get(out, "event")));
		json_decref(out);
		buf_release(&p);
		return rc;
	}
	buf_addf(&p, "/api/v1/runs/%lld/rerun", id);
	rc = remote_call(&rm, "rerun", "POST", p.buf, json_pack("{s:b}", "failed_only", failed),
			 &out);
	if (!rc)
		printf("run %lld: attempt %lld queued as event %lld%s\n", id,
		       (long long)json_integer_value(json_object_get(out, "attempt")),
		       (long long)json_integer_value(json_object_get(out, "event")),
		       failed ? " (failed jobs only)" : "");
	json_decref(out);
	buf_release(&p);
	(void)ctx;
	return rc;
}

int cmd_dispatch(int argc, char **argv, struct kiln_ctx *ctx)
{
	static const char *const usage[] = {
		"kiln dispatch REPO WORKFLOW --ref REF [-f KEY=VALUE]... --server URL [--token T]",
		"   (as gh workflow run: WORKFLOW is the file name, e.g. deploy.yml)", NULL
	};
	struct remote rm = { NULL, NULL };
	const char *ref = NULL;
	struct strvec fields = STRVEC_INIT;
	const struct opt opts[] = {
		{ OPT_STRING, 0, "server", &rm.server, "URL", "the kiln server (KILN_SERVER)" },
		{ OPT_STRING, 0, "token", &rm.token, "TOKEN", "API token (KILN_TOKEN)" },
		{ OPT_STRING, 'r', "ref", &ref, "REF", "the branch or tag to run (required)" },
		{ OPT_LIST, 'f', "field", &fields, "KEY=VALUE", "a workflow_dispatch input (repeat)" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage), rc = EXIT_USAGE;
	json_t *inputs = json_object(), *out = NULL;
	struct buf p = BUF_INIT;
	if (n < 0) {
		rc = n == -2 ? EXIT_OK : EXIT_USAGE;
		goto done;
	}
	for (size_t i = 0; i < fields.nr; i++) {
		const char *eq = strchr(fields.v[i], '=');
		if (!eq || eq == fields.v[i]) {
			fprintf(stderr, "kiln dispatch: error: bad -f '%s': expected KEY=VALUE\n", fields.v[i]);
			goto done;
		}
		char *k = xstrndup(fields.v[i], (size_t)(eq - fields.v[i]));
		json_object_set_new(inputs, k, json_string(eq + 1));
		free(k);
	}
	if (n != 2 || !ref) {
		if (n == 2)
			fprintf(stderr, "kiln dispatch: error: say which branch or tag to run: --ref REF\n");
		opt_usage(stderr, opts, usage);
		goto done;
	}
	if (!remote_resolve(&rm)) {
		fprintf(stderr, "kiln dispatch: error: pass --server URL (or set KILN_SERVER); locally, "
				"kiln run workflow_dispatch --input KEY=VALUE\n");
		goto done;
	}
	buf_addstr(&p, "/api/v1/repos/");
	remote_path_add(&p, argv[1], 1);
	buf_addstr(&p, "/workflows/");
	remote_path_add(&p, argv[2], 0);
	buf_addstr(&p, "/dispatches");
	json_t *b = json_pack("{s:s,s:O}", "ref", ref, "inputs", inputs);
	rc = remote_call(&rm, "dispatch", "POST", p.buf, b, &out);
	if (!rc)
		printf("event %lld queued: %s at %.12s\n",
		       (long long)json_integer_value(json_object_get(out, "event")), str(out, "ref"),
		       str(out, "sha"));
done:
	json_decref(inputs);
	json_decref(out);
	strvec_clear(&fields);
	buf_release(&p);
	(void)ctx;
	return rc;
}
