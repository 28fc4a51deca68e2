/*
 * runs: `kiln runs [--all] [--workflow W] [-n N] [--json]` lists recorded
 * runs (of the current repository unless --all, as `gh run list`),
 * `kiln logs RUN [JOB]` prints the stored (masked) logs of a run or a job.
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "cli/runs-remote.h"
#include "git/repo.h"
#include "store/db.h"
#include "store/open.h"
#include "store/runs.h"

#include <jansson.h>
#include <time.h>

static const char *const runs_usage[] = {
	"kiln runs [--all] [--workflow W] [-n N] [--json]",
	"kiln runs --server URL [--repo R] [--workflow W] [--branch B] [--status S] [-n N] [--json]",
	"kiln runs --server URL RUN [--json]   (one run and its jobs, as gh run view)",
	NULL,
};

/* widest a text column gets; longer values end in an ellipsis */
static const char *const logs_usage[] = { "kiln logs RUN [JOB] [-t]   (RUN: an id or WORKFLOW#NUMBER)",
					  "kiln logs RUN [JOB] --server URL [-f] [-t]   (RUN: the run's id)",
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

/* code points in s (its width in a terminal, for the common scripts) */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

void runs_put_cell(struct buf *out, const char *s, size_t width, int last)
{
	size_t w = text_width(s);
	if (w > width) {
		size_t keep = width - 1, n = 0;
		const char *p = s;
		for (; *p; p++) {
			if (((unsigned char)*p & 0xC0) != 0x80 && n++ == keep)
				break;
		}
		buf_add(out, s, (size_t)(p - s));
		buf_addstr(out, "\u2026"); /* … */
		w = width;
	} else {
		buf_addstr(out, s);
	}
	if (!last)
		for (buf_addstr(out, "  "); w < width; w++)
			buf_addch(out, ' ');
}

size_t runs_col_width(size_t cur, const char *s, size_t max)
{
	size_t w = text_width(s);
	if (w > max)
		w = max;
	return w > cur ? w : cur;
}

/* a server run: its repository's name; a local run: its work tree's */
static const char *repo_short(const struct run_row *r)
{
	if (*r->repo_name)
		return r->repo_name;
	const char *slash = strrchr(r->repo, '/');
	return !*r->repo ? "-" : slash && slash[1] ? slash + 1 : r->repo;
}

static const char *result_of(const struct run_row *r)
{
	return *r->conclusion ? r->conclusion : r->status;
}

static void print_table(const struct run_row *v, size_t n, int show_repo)
{
	size_t ww = strlen("WORKFLOW"), we = strlen("EVENT"), wr = strlen("REF"),
	       wres = strlen("RESULT"), wrepo = strlen("REPO"), notes = 0;
	for (size_t i = 0; i < n; i++) {
		ww = runs_col_width(ww, v[i].name, COL_WORKFLOW_MAX);
		we = runs_col_width(we, v[i].event, COL_EVENT_MAX);
		wr = runs_col_width(wr, short_ref(v[i].ref), COL_REF_MAX);
		wres = runs_col_width(wres, result_of(&v[i]), 16) + (*v[i].reason ? 1 : 0);
		wrepo = runs_col_width(wrepo, repo_short(&v[i]), COL_REPO_MAX);
		notes += *v[i].reason != 0;
	}
	struct buf line = BUF_INIT;
	buf_addf(&line, "%-6s ", "ID");
	runs_put_cell(&line, "WORKFLOW", ww, 0);
	buf_addf(&line, "%-6s ", "#");
	runs_put_cell(&line, "EVENT", we, 0);
	runs_put_cell(&line, "REF", wr, 0);
	runs_put_cell(&line, "RESULT", wres, 0);
	buf_addf(&line, "%-9s %-20s%s", "DURATION", "WHEN", show_repo ? " " : "");
	if (show_repo)
		runs_put_cell(&line, "REPO", wrepo, 1);
	printf("%s\n", line.buf);
	for (size_t i = 0; i < n; i++) {
		char dur[32], when[32], res[40];
		fmt_duration(dur, sizeof(dur), &v[i]);
		fmt_when(when, sizeof(when), v[i].started_ms);
		/* a run closed abnormally: its reason follows the table */
		snprintf(res, sizeof(res), "%s%s", result_of(&v[i]), *v[i].reason ? "*" : "");
		buf_reset(&line);
		buf_addf(&line, "%-6lld ", (long long)v[i].id);
		runs_put_cell(&line, v[i].name, ww, 0);
		buf_addf(&line, "%-6d ", v[i].number);
		runs_put_cell(&line, v[i].event, we, 0);
		runs_put_cell(&line, short_ref(v[i].ref), wr, 0);
		runs_put_cell(&line, res, wres, 0);
		buf_addf(&line, "%-9s %-20s%s", dur, when, show_repo ? " " : "");
		if (show_repo)
			runs_put_cell(&line, repo_short(&v[i]), wrepo, 1);
		printf("%s\n", line.buf);
	}
	if (notes)
		printf("\n");
	for (size_t i = 0; i < n; i++)
		if (*v[i].reason)
			printf("* run %lld: %s\n", (long long)v[i].id, v[i].reason);
	buf_release(&line);
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
		json_object_set_new(o, "repo", *v[i].repo ? json_string(v[i].repo) : json_null());
		json_object_set_new(o, "repo_name",
				    *v[i].repo_name ? json_string(v[i].repo_name) : json_null());
		json_object_set_new(o, "event_id",
				    v[i].event_id ? json_integer(v[i].event_id) : json_null());
		json_object_set_new(o, "attempt", json_integer(v[i].attempt));
		json_object_set_new(o, "reason", *v[i].reason ? json_string(v[i].reason) : json_null());
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

/*
 * The repository `kiln runs` lists by default: the work tree around the
 * current directory, as `kiln run` records it; NULL outside one.
 */
static char *current_repo(void)
{
	struct repo_info info = REPO_INFO_INIT;
	char *dir = NULL;
	if (repo_info_load(".", &info, NULL) == 0)
		dir = xstrdup(info.workdir);
	repo_info_release(&info);
	return dir;
}

int cmd_runs(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	const char *workflow = NULL, *srepo = NULL, *branch = NULL, *status = NULL;
	int limit = 20, json = 0, all = 0;
	struct remote rm = { NULL, NULL };
	const struct opt opts[] = {
		{ OPT_BOOL, 'a', "all", &all, NULL, "runs of every repository (default: this one)" },
		{ OPT_STRING, 0, "server", &rm.server, "URL", "the runs of a kiln server (KILN_SERVER)" },
		{ OPT_STRING, 0, "token", &rm.token, "TOKEN", "API token (KILN_TOKEN)" },
		{ OPT_STRING, 0, "repo", &srepo, "REPO", "with --server: one repository's runs" },
		{ OPT_STRING, 'b', "branch", &branch, "B", "with --server: runs of this branch" },
		{ OPT_STRING, 's', "status", &status, "S", "with --server: a conclusion or in_progress" },
		{ OPT_STRING, 'w', "workflow", &workflow, "W", "only runs of this workflow (file or name)" },
		{ OPT_INT, 'n', "limit", &limit, "N", "show at most N runs (default 20, 0 for all)" },
		{ OPT_BOOL, 0, "json", &json, NULL, "print JSON" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, runs_usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	int server = remote_resolve(&rm);
	if (n == 1 && server)
		return run_view_remote(&rm, argv[1], json);
	if (n) {
		if (n == 1)
			fprintf(stderr, "kiln runs: error: RUN shows a run of a server (--server URL); "
				"locally: kiln logs RUN\n");
		opt_usage(stderr, opts, runs_usage);
		return EXIT_USAGE;
	}
	if (server) {
		struct runs_remote_opts ro = { srepo, workflow, branch, status, limit, json };
		return runs_remote(&rm, &ro);
	}
	struct buf err = BUF_INIT;
	struct db *db = NULL;
	struct run_row *v = NULL;
	size_t nr = 0;
	int r = EXIT_OK;
	char *repo = all ? NULL : current_repo();
	if (store_open_default(&db, NULL, &err) < 0 ||
	    runs_list(db, workflow, repo, limit, &v, &nr, &err) < 0)
		r = EXIT_INTERNAL;
	else if (json)
		print_json(v, nr);
	else if (nr)
		print_table(v, nr, !repo);
	else if (repo)
		fprintf(stderr, "no runs recorded yet in %s (--all: every repository)\n", repo);
	else
		fprintf(stderr, "no runs recorded yet\n");
	if (err.len)
		fprintf(stderr, "kiln: error: %s\n", err.buf);
	free(repo);
	free(v);
	db_close(db);
	buf_release(&err);
	return r;
}

int cmd_logs(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	struct remote rm = { NULL, NULL };
	int follow = 0, stamped = 0;
	const struct opt opts[] = {
		{ OPT_STRING, 0, "server", &rm.server, "URL", "a run of a kiln server (KILN_SERVER)" },
		{ OPT_STRING, 0, "token", &rm.token, "TOKEN", "API token (KILN_TOKEN)" },
		{ OPT_BOOL, 'f', "follow", &follow, NULL, "with --server: follow the run until it ends" },
		{ OPT_BOOL, 't', "timestamps", &stamped, NULL,
		  "each line after the time it was written (UTC, ms), as GitHub's raw logs" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, logs_usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (n < 1 || n > 2) {
		opt_usage(stderr, opts, logs_usage);
		return EXIT_USAGE;
	}
	if (remote_resolve(&rm))
		return logs_remote(&rm, argv[1], n == 2 ? argv[2] : NULL, follow, stamped);
	if (follow) {
		fprintf(stderr, "kiln logs: error: -f follows a run of a server (--server URL)\n");
		return EXIT_USAGE;
	}
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct db *db = NULL;
	struct run_row run;
	int r = EXIT_OK, f;
	if (store_open_default(&db, NULL, &err) < 0) {
		r = EXIT_INTERNAL;
	} else if ((f = runs_find(db, argv[1], &run, &err)) != 0) {
		if (f == KILN_ENOENT)
			buf_addf(&err, "no run '%s' (see 'kiln runs')", argv[1]);
		r = f == -1 && str_starts_with(err.buf, "sqlite") ? EXIT_INTERNAL : EXIT_USAGE;
	} else if ((f = runs_read_logs_stamped(db, run.id, n == 2 ? argv[2] : NULL, stamped, &out,
					       &err)) != 0) {
		if (f == KILN_ENOENT)
			buf_addf(&err, "run %lld (%s #%d) has no job '%s'", (long long)run.id, run.name,
				 run.number, argv[2]);
		r = f == KILN_ENOENT ? EXIT_USAGE : EXIT_INTERNAL;
	} else {
		fwrite(out.buf, 1, out.len, stdout);
		if (*run.reason)
			printf("kiln: run %lld (%s #%d): %s\n", (long long)run.id, run.name, run.number,
			       run.reason);
	}
	if (err.len)
		fprintf(stderr, "kiln: error: %s\n", err.buf);
	db_close(db);
	buf_release(&err);
	buf_release(&out);
	return r;
}
