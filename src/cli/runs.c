/*
 * runs: `kiln runs [--workflow W] [-n N] [--json]` lists recorded runs,
 * `kiln logs RUN [JOB]` prints the stored (masked) logs of a run or a job.
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "store/db.h"
#include "store/open.h"
#include "store/runs.h"

#include <jansson.h>
#include <time.h>

static const char *const runs_usage[] = { "kiln runs [--workflow W] [-n N] [--json]", NULL };
static const char *const logs_usage[] = { "kiln logs RUN [JOB]   (RUN: an id or WORKFLOW#NUMBER)",
					  NULL };

static void fmt_duration(char *out, size_t n, const struct run_row *r)
{
	if (!r->finished_ms) {
		snprintf(out, n, "-");
		return;
	}
	long long ms = r->finished_ms - r->started_ms;
	if (ms < 10000)
		snprintf(out, n, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(out, n, "%lldm%02llds", ms / 60000, ms / 1000 % 60);
	else
		snprintf(out, n, "%lldh%02lldm", ms / 3600000, ms / 60000 % 60);
}

static void fmt_when(char *out, size_t n, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static const char *short_ref(const char *ref)
{
	if (str_starts_with(ref, "refs/heads/"))
		return ref + 11;
	if (str_starts_with(ref, "refs/tags/"))
		return ref + 10;
	return *ref ? ref : "-";
}

static void print_table(const struct run_row *v, size_t n)
{
	printf("%-6s %-20s %-6s %-18s %-20s %-10s %-9s %s\n", "ID", "WORKFLOW", "#", "EVENT", "REF",
	       "RESULT", "DURATION", "WHEN");
	for (size_t i = 0; i < n; i++) {
		char dur[32], when[32];
		fmt_duration(dur, sizeof(dur), &v[i]);
		fmt_when(when, sizeof(when), v[i].started_ms);
		printf("%-6lld %-20s %-6d %-18s %-20s %-10s %-9s %s\n", (long long)v[i].id, v[i].name,
		       v[i].number, v[i].event, short_ref(v[i].ref),
		       *v[i].conclusion ? v[i].conclusion : v[i].status, dur, when);
	}
}

static void print_json(const struct run_row *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:I}", "id",
				      (json_int_t)v[i].id, "workflow", v[i].workflow, "name", v[i].name,
				      "number", v[i].number, "event", v[i].event, "ref", v[i].ref, "sha",
				      v[i].sha, "status", v[i].status, "started_ms",
				      (json_int_t)v[i].started_ms);
		json_object_set_new(o, "conclusion",
				    *v[i].conclusion ? json_string(v[i].conclusion) : json_null());
		json_object_set_new(o, "duration_ms",
				    v[i].finished_ms ? json_integer(v[i].finished_ms - v[i].started_ms)
						     : json_null());
		json_array_append_new(a, o);
	}
	char *s = json_dumps(a, JSON_INDENT(2));
	printf("%s\n", s);
	free(s);
	json_decref(a);
}

int cmd_runs(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	const char *workflow = NULL;
	int limit = 20, json = 0;
	const struct opt opts[] = {
		{ OPT_STRING, 'w', "workflow", &workflow, "W", "only runs of this workflow (file or name)" },
		{ OPT_INT, 'n', "limit", &limit, "N", "show at most N runs (default 20, 0 for all)" },
		{ OPT_BOOL, 0, "json", &json, NULL, "print JSON" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, runs_usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (n) {
		opt_usage(stderr, opts, runs_usage);
		return EXIT_USAGE;
	}
	struct buf err = BUF_INIT;
	sqlite3 *db = NULL;
	struct run_row *v = NULL;
	size_t nr = 0;
	int r = EXIT_OK;
	if (store_open_default(&db, NULL, &err) < 0 || runs_list(db, workflow, limit, &v, &nr, &err) < 0)
		r = EXIT_INTERNAL;
	else if (json)
		print_json(v, nr);
	else if (nr)
		print_table(v, nr);
	else
		fprintf(stderr, "no runs recorded yet\n");
	if (err.len)
		fprintf(stderr, "kiln: error: %s\n", err.buf);
	free(v);
	db_close(db);
	buf_release(&err);
	return r;
}

int cmd_logs(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	const struct opt opts[] = { OPT_END_MARK };
	int n = opt_parse(argc, argv, opts, logs_usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (n < 1 || n > 2) {
		opt_usage(stderr, opts, logs_usage);
		return EXIT_USAGE;
	}
	struct buf err = BUF_INIT, out = BUF_INIT;
	sqlite3 *db = NULL;
	struct run_row run;
	int r = EXIT_OK, f;
	if (store_open_default(&db, NULL, &err) < 0) {
		r = EXIT_INTERNAL;
	} else if ((f = runs_find(db, argv[1], &run, &err)) != 0) {
		if (f == KILN_ENOENT)
			buf_addf(&err, "no run '%s' (see 'kiln runs')", argv[1]);
		r = f == -1 && str_starts_with(err.buf, "sqlite") ? EXIT_INTERNAL : EXIT_USAGE;
	} else if ((f = runs_read_logs(db, run.id, n == 2 ? argv[2] : NULL, &out, &err)) != 0) {
		if (f == KILN_ENOENT)
			buf_addf(&err, "run %lld (%s #%d) has no job '%s'", (long long)run.id, run.name,
				 run.number, argv[2]);
		r = f == KILN_ENOENT ? EXIT_USAGE : EXIT_INTERNAL;
	} else {
		fwrite(out.buf, 1, out.len, stdout);
	}
	if (err.len)
		fprintf(stderr, "kiln: error: %s\n", err.buf);
	db_close(db);
	buf_release(&err);
	buf_release(&out);
	return r;
}
