/*
 * debug_git: hidden `kiln debug event|changes|paths-filter` commands that
 * expose src/git to the shell tests: the event kiln derives from the
 * repository, the changed files between two commits, and the outputs
 * dorny/paths-filter would give; `kiln debug git-tls` libgit2's lazily
 * loaded trust store.
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "git/diff.h"
#include "git/event.h"
#include "git/gitlib.h"
#include "git/pathsfilter.h"
#include "engine/trigsel.h"
#include "workflow/workflow.h"

#include <dirent.h>

static int open_repo(const char *dir, struct repo **r, struct repo_info *info)
{
	struct buf err = BUF_INIT;
	int rc = repo_open(dir, r, &err);
	if (rc == 0)
		rc = repo_get_info(*r, info, &err);
	if (rc < 0)
		fprintf(stderr, "kiln: error: %s\n", err.buf);
	buf_release(&err);
	return rc;
}

static int debug_event(int argc, char **argv)
{
	static const char *const usage[] = {
		"kiln debug event [EVENT] [--ref REF] [--base REV] [--head REV] [--number N]", NULL,
	};
	struct event_opts o = EVENT_OPTS_INIT;
	const char *dir = ".";
	const struct opt opts[] = {
		{ OPT_STRING, 0, "ref", &o.ref, "REF", "the pushed ref" },
		{ OPT_STRING, 0, "base", &o.base, "REV", "push: before; pull_request: base branch" },
		{ OPT_STRING, 0, "head", &o.head, "REV", "the pushed commit / PR head" },
		{ OPT_STRING, 0, "action", &o.action, "TYPE", "pull_request action" },
		{ OPT_INT, 0, "number", &o.number, "N", "pull request number" },
		{ OPT_STRING, 'C', NULL, &dir, "DIR", "repository directory" },
		OPT_END_MARK,
	};
	int npos = opt_parse(argc, argv, opts, usage);
	if (npos < 0)
		return npos == -2 ? EXIT_OK : EXIT_USAGE;
	if (npos > 1) {
		opt_usage(stderr, opts, usage);
		return EXIT_USAGE;
	}
	o.name = npos ? argv[1] : NULL;
	struct repo *r = NULL;
	struct repo_info info = REPO_INFO_INIT;
	struct event_info e = EVENT_INFO_INIT;
	struct buf err = BUF_INIT;
	int ret = EXIT_OK;
	if (open_repo(dir, &r, &info) < 0) {
		ret = EXIT_USAGE;
	} else if (event_build(r, &info, &o, &e, &err) < 0) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		ret = EXIT_USAGE;
	} else {
		printf("event=%s\nref=%s\nref_name=%s\nref_type=%s\nsha=%s\n", e.name, e.ref,
		       e.ref_name, e.ref_type, e.sha);
		printf("base_ref=%s\nhead_ref=%s\nfilter_ref=%s\ndefault_branch=%s\n",
		       e.base_ref ? e.base_ref : "", e.head_ref ? e.head_ref : "", e.filter_ref,
		       e.default_branch);
		printf("repository=%s\n", info.repository);
		for (size_t i = 0; i < e.changed.nr; i++)
			printf("changed=%s\n", e.changed.v[i]);
		printf("%s\n", e.payload);
	}
	event_info_release(&e);
	repo_info_release(&info);
	repo_close(r);
	buf_release(&err);
	return ret;
}

/* kiln debug changes BASE [HEAD]: status TAB path [TAB old path] */
static int debug_changes(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: kiln debug changes BASE [HEAD]\n");
		return EXIT_USAGE;
	}
	struct repo *r = NULL;
	struct repo_info info = REPO_INFO_INIT;
	struct changes ch = CHANGES_INIT;
	struct buf err = BUF_INIT;
	int ret = EXIT_OK;
	if (open_repo(".", &r, &info) < 0) {
		ret = EXIT_USAGE;
	} else if (repo_diff(r, argv[1], argc == 3 ? argv[2] : "HEAD", &ch, &err) < 0) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		ret = EXIT_USAGE;
	} else {
		for (size_t i = 0; i < ch.nr; i++)
			printf("%s\t%s%s%s\n", change_status_name(ch.v[i].status), ch.v[i].path,
			       ch.v[i].old_path ? "\t" : "", ch.v[i].old_path ? ch.v[i].old_path : "");
	}
	changes_release(&ch);
	repo_info_release(&info);
	repo_close(r);
	buf_release(&err);
	return ret;
}

/* kiln debug paths-filter FILTERS-FILE BASE [HEAD] [--list-files FMT] */
static int debug_paths_filter(int argc, char **argv)
{
	static const char *const usage[] = {
		"kiln debug paths-filter FILTERS.yml BASE [HEAD] [--list-files FMT] [--every]", NULL,
	};
	const char *list = "none";
	int every = 0;
	const struct opt opts[] = {
		{ OPT_STRING, 0, "list-files", &list, "FMT", "none, csv, json, shell, escape" },
		{ OPT_BOOL, 0, "every", &every, NULL, "predicate-quantifier: every" },
		OPT_END_MARK,
	};
	int npos = opt_parse(argc, argv, opts, usage);
	if (npos < 0)
		return npos == -2 ? EXIT_OK : EXIT_USAGE;
	if (npos < 2 || npos > 3) {
		opt_usage(stderr, opts, usage);
		return EXIT_USAGE;
	}
	struct buf yaml = BUF_INIT, err = BUF_INIT;
	struct paths_filter pf = PATHS_FILTER_INIT;
	struct repo *r = NULL;
	struct repo_info info = REPO_INFO_INIT;
	struct changes ch = CHANGES_INIT;
	struct pf_files files = PF_FILES_INIT;
	struct strvec out = STRVEC_INIT;
	int ret = EXIT_USAGE;
	if (buf_read_file(&yaml, argv[1]) < 0)
		buf_addf(&err, "cannot read '%s'", argv[1]);
	else if (pf_parse(&pf, yaml.buf, yaml.len, every, &err) < 0)
		;
	else if (open_repo(".", &r, &info) < 0)
		buf_addstr(&err, "no repository");
	else if (repo_diff(r, argv[2], npos == 3 ? argv[3] : "HEAD", &ch, &err) < 0)
		;
	else {
		pf_files_from_changes(&ch, &files);
		if (pf_outputs(&pf, &files, list, &out, &err) == 0) {
			for (size_t i = 0; i < out.nr; i++)
				printf("%s\n", out.v[i]);
			ret = EXIT_OK;
		}
	}
	if (ret != EXIT_OK)
		fprintf(stderr, "kiln: error: %s\n", err.buf);
	strvec_clear(&out);
	pf_files_release(&files);
	changes_release(&ch);
	repo_info_release(&info);
	repo_close(r);
	pf_release(&pf);
	buf_release(&yaml);
	buf_release(&err);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* .github/workflows/ *.yml and *.yaml, sorted */
static void workflow_files(struct strvec *out)
{
	DIR *dh = opendir(".github/workflows");
	struct dirent *e;
	while (dh && (e = readdir(dh)))
		if (e->d_name[0] != '.' &&
		    (str_ends_with(e->d_name, ".yml") || str_ends_with(e->d_name, ".yaml")))
			strvec_pushf(out, ".github/workflows/%s", e->d_name);
	if (dh)
		closedir(dh);
	if (out->nr > 1)
		qsort(out->v, out->nr, sizeof(*out->v), cmp_str);
}

/*
 * kiln debug trigger [EVENT] [options]: for every workflow, "run FILE: why"
 * or "skip FILE: why not", as `kiln run -v` decides; then github.event and
 * inputs of the ones that run. Exit 2 on invalid filters or inputs.
 */
static int debug_trigger(int argc, char **argv)
{
	static const char *const usage[] = { "kiln debug trigger [EVENT] [options]", NULL };
	struct trigsel_opts o = TRIGSEL_OPTS_INIT;
	struct strvec inputs = STRVEC_INIT;
	int payload = 0;
	const struct opt opts[] = {
		{ OPT_STRING, 0, "ref", &o.ref, "REF", "the pushed ref" },
		{ OPT_STRING, 0, "base", &o.base, "REV", "push: before; pull_request: base branch" },
		{ OPT_STRING, 0, "head", &o.head, "REV", "the pushed commit / PR head" },
		{ OPT_STRING, 0, "action", &o.action, "TYPE", "activity type" },
		{ OPT_INT, 0, "number", &o.number, "N", "pull request number" },
		{ OPT_STRING, 0, "cron", &o.cron, "EXPR", "schedule: the cron that fired" },
		{ OPT_STRING, 0, "workflow", &o.workflow, "NAME", "workflow_run: completed workflow" },
		{ OPT_LIST, 0, "input", &inputs, "K=V", "workflow_dispatch input" },
		{ OPT_BOOL, 0, "payload", &payload, NULL, "print github.event of each run" },
		OPT_END_MARK,
	};
	int npos = opt_parse(argc, argv, opts, usage);
	if (npos < 0)
		return npos == -2 ? EXIT_OK : EXIT_USAGE;
	o.event = npos ? argv[1] : NULL;
	o.inputs = &inputs;
	struct trigsel ts;
	struct buf err = BUF_INIT;
	struct diags d = DIAGS_INIT;
	struct strvec files = STRVEC_INIT;
	int ret = EXIT_OK;
	if (trigsel_init(&ts, ".", &o, &err) < 0) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		ret = EXIT_USAGE;
		goto out;
	}
	workflow_files(&files);
	for (size_t i = 0; i < files.nr; i++) {
		struct workflow *wf;
		if (wf_load_file(files.v[i], &wf, &d) < 0)
			continue;
		struct trig_match m = TRIG_MATCH_INIT;
		struct ev *in = NULL;
		int r = trigsel_match(&ts, wf, &m, &in, &d);
		if (r >= 0)
			printf("%s %s: %s\n", r ? "run" : "skip", files.v[i], m.reason.buf);
		if (r > 0 && payload) {
			struct ev *p = trigsel_payload(&ts, wf, in);
			struct buf j = BUF_INIT;
			ev_to_json(in, &j, 0);
			printf("inputs=%s\n", j.buf);
			buf_reset(&j);
			ev_to_json(p, &j, 0);
			printf("event=%s\n", j.buf);
			buf_release(&j);
			ev_unref(p);
		}
		ev_unref(in);
		trig_match_release(&m);
		wf_free(wf);
	}
	trigsel_release(&ts);
	if (d.errors) {
		diags_sort(&d);
		diags_print(&d, stderr);
		ret = EXIT_USAGE;
	}
out:
	diags_release(&d);
	strvec_clear(&files);
	strvec_clear(&inputs);
	buf_release(&err);
	return ret;
}

/*
 * `kiln debug git-tls [--connect]`: libgit2's trust store after init (the
 * parse deferred) and, with --connect, after what a fetch does first.
 */
static int debug_git_tls(int argc, char **argv)
{
	int connect = argc > 1 && !strcmp(argv[1], "--connect");
	gitlib_init();
	if (connect)
		gitlib_tls_ready();
	const char *p = gitlib_tls_deferred();
	printf("deferred: %s\nloaded: %zu\n", p ? p : "-", gitlib_tls_loaded());
	return 0;
}

int debug_git(int argc, char **argv)
{
	if (!strcmp(argv[0], "git-tls"))
		return debug_git_tls(argc, argv);
	if (!strcmp(argv[0], "trigger"))
		return debug_trigger(argc, argv);
	if (!strcmp(argv[0], "event"))
		return debug_event(argc, argv);
	if (!strcmp(argv[0], "changes"))
		return debug_changes(argc, argv);
	return debug_paths_filter(argc, argv);
}
