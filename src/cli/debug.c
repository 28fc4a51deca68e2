/*
 * debug: hidden `kiln debug <what>` subcommands exposing internals to shell
 * tests (git's test-tool): `kiln debug yaml FILE` dumps the node tree;
 * `kiln debug workflow [--json] [--github-positions] FILE` the loaded model.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "workflow/workflow.h"
#include "yaml/ynode.h"

/* a file the user names, into b; prints why and releases b on failure */
static int read_input(const char *path, struct buf *b)
{
	struct buf why = BUF_INIT;
	int r = fs_read_input(path, FS_INPUT_MAX, b, &why);
	if (r < 0) {
		fprintf(stderr, "kiln: error: cannot read '%s': %s\n", path, why.buf);
		buf_release(b);
	}
	buf_release(&why);
	return r;
}

static int debug_yaml(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: kiln debug yaml FILE\n");
		return EXIT_USAGE;
	}
	struct buf b = BUF_INIT;
	if (read_input(argv[1], &b) < 0)
		return EXIT_USAGE;
	struct diags d = DIAGS_INIT;
	struct ynode *root;
	int ret = EXIT_OK;
	if (yaml_load(argv[1], b.buf, b.len, &root, &d) < 0) {
		diags_print(&d, stderr);
		ret = EXIT_USAGE;
	} else {
		ynode_dump(root, 0, stdout);
		ynode_free(root);
	}
	diags_release(&d);
	buf_release(&b);
	return ret;
}

static void print_model(const struct workflow *wf, FILE *out)
{
	fprintf(out, "workflow %s\n", wf->name.s ? wf->name.s : wf->file);
	for (size_t i = 0; i < wf->non; i++)
		fprintf(out, "on %s\n", wf->on[i].event.s);
	for (size_t i = 0; i < wf->njobs; i++) {
		const struct wf_job *j = &wf->jobs[i];
		fprintf(out, "job %s", j->id.s);
		for (size_t k = 0; k < j->nneeds; k++)
			fprintf(out, "%s%s", k ? "," : " needs=", j->needs[k].s);
		if (j->matrix_jobs != 1)
			fprintf(out, " matrix=%ld", j->matrix_jobs);
		if (j->uses.s)
			fprintf(out, " uses=%s", j->uses.s);
		fputc('\n', out);
		for (size_t k = 0; k < j->nsteps; k++) {
			const struct wf_step *st = &j->steps[k];
			fprintf(out, "  step %s %s\n", wf_step_id(st), st->run.s ? "run" : "uses");
		}
	}
	for (size_t i = 0; i < wf->nexprs; i++) {
		const struct wf_expr *x = &wf->exprs[i];
		fprintf(out, "expr %d:%d %s: %.*s\n", x->line, x->col, x->path, (int)x->len,
			x->node->str + x->off);
	}
}

static void print_errors_json(const struct diags *d, FILE *out)
{
	struct buf b = BUF_INIT;
	buf_addstr(&b, "{\"errors\":[");
	for (size_t i = 0; i < d->nr; i++) {
		if (i)
			buf_addch(&b, ',');
		buf_addf(&b, "{\"line\":%d,\"col\":%d,\"message\":", d->v[i].line, d->v[i].col);
		buf_add_json_str(&b, d->v[i].msg, strlen(d->v[i].msg));
		buf_addch(&b, '}');
	}
	buf_addstr(&b, "]}\n");
	fputs(b.buf, out);
	buf_release(&b);
}

static int debug_workflow(int argc, char **argv)
{
	static const char *const usage[] = {
		"kiln debug workflow [--json] [--github-positions] FILE", NULL
	};
	int json = 0, ghpos = 0;
	const struct opt opts[] = {
		{ OPT_BOOL, 0, "json", &json, NULL, "GitHub parser's JSON shape" },
		{ OPT_BOOL, 0, "github-positions", &ghpos, NULL,
		  "report expression errors at the scalar's start, as GitHub does" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	if (n == -2)
		return EXIT_OK;
	if (n != 1) {
		if (n >= 0)
			opt_usage(stderr, opts, usage);
		return EXIT_USAGE;
	}
	struct buf b = BUF_INIT;
	if (read_input(argv[1], &b) < 0)
		return EXIT_USAGE;
	struct diags d = DIAGS_INIT;
	struct workflow *wf;
	int ret = EXIT_OK;
	if (wf_load_ex(argv[1], b.buf, b.len, ghpos ? WF_LOAD_GITHUB_POS : 0, &wf, &d) < 0) {
		diags_sort(&d);
		if (json)
			print_errors_json(&d, stdout);
		diags_print(&d, stderr);
		ret = EXIT_USAGE;
	} else {
		if (json) {
			struct buf out = BUF_INIT;
			wf_dump_json(wf, &out);
			fputs(out.buf, stdout);
			buf_release(&out);
		} else {
			print_model(wf, stdout);
		}
		wf_free(wf);
	}
	diags_release(&d);
	buf_release(&b);
	return ret;
}

int cmd_debug(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	if (argc >= 2 && !strcmp(argv[1], "yaml"))
		return debug_yaml(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "event") || !strcmp(argv[1], "changes") ||
			  !strcmp(argv[1], "paths-filter") || !strcmp(argv[1], "trigger") ||
			  !strcmp(argv[1], "git-tls")))
		return debug_git(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "workflow"))
		return debug_workflow(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "mask"))
		return debug_mask(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "job"))
		return cmd_debug_job(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "record-run"))
		return debug_record_run(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "record-deploy"))
		return debug_record_deploy(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "notify"))
		return debug_notify(argc - 1, argv + 1);
	fprintf(stderr, "usage: kiln debug yaml FILE\n"
			"   or: kiln debug workflow [--json] [--github-positions] FILE\n"
			"   or: kiln debug job [<options>] FILE JOB\n");
	return EXIT_USAGE;
}
