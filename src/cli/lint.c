/*
 * lint: `kiln lint [FILE|DIR...]` loads every workflow (default: the .yml
 * and .yaml files in .github/workflows/) and prints every problem as
 * `file:line:col: error: message`, sorted. Exit 0 and no output when all
 * are clean, 2 when anything is wrong.
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "workflow/trigger.h"
#include "workflow/workflow.h"

#include <errno.h>
#include <sys/stat.h>

static const char *const lint_usage[] = { "kiln lint [<file|dir>...]", NULL };

/* the workflow files of a directory; an error when there is none */
static void list_dir(const char *dir, struct strvec *out, struct diags *d)
{
	size_t before = out->nr;
	int r = wf_list_dir(dir, out);
	if (r < 0)
		diag_err(d, dir, 0, 0, "cannot read directory: %s", strerror(-r));
	else if (out->nr == before)
		diag_err(d, dir, 0, 0, "no .yml or .yaml workflow files");
}

static void add_path(const char *path, struct strvec *files, struct diags *d)
{
	struct stat st;
	/* anything but a directory: wf_load_file says why it cannot be read */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		list_dir(path, files, d);
	else
		strvec_push(files, path);
}

/* the repository a workflow file belongs to: what precedes .github/workflows/
 * in its path, else the current directory */
static char *repo_root_of(const char *file)
{
	const char *w = strstr(file, ".github/workflows/");
	while (w && w != file && w[-1] != '/')
		w = strstr(w + 1, ".github/workflows/");
	if (!w || w == file)
		return xstrdup(".");
	if (w - file == 1)
		return xstrdup("/");
	return xstrndup(file, (size_t)(w - file - 1));
}

/* `uses: ./path` of a job: the reusable workflow must exist (as kiln run says) */
static void check_local_calls(const struct workflow *wf, struct diags *d)
{
	char *root = NULL;
	for (size_t j = 0; j < wf->njobs; j++) {
		const struct wf_str *u = &wf->jobs[j].uses;
		if (!u->s || strncmp(u->s, "./", 2) || strstr(u->s, "${{"))
			continue;
		if (!root)
			root = repo_root_of(wf->file);
		char *path = xstrfmt("%s/%s", root, u->s + 2);
		struct stat st;
		if (stat(path, &st) < 0)
			diag_err(d, wf->file, u->line, u->col, "job '%s': reusable workflow '%s' not found",
				 wf->jobs[j].id.s, u->s);
		else if (!S_ISREG(st.st_mode))
			diag_err(d, wf->file, u->line, u->col,
				 "job '%s': reusable workflow '%s' is not a regular file",
				 wf->jobs[j].id.s, u->s);
		free(path);
	}
	free(root);
}

int cmd_lint(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	static const struct opt opts[] = { OPT_END_MARK };
	int n = opt_parse(argc, argv, opts, lint_usage);
	if (n == -2)
		return EXIT_OK;
	if (n < 0)
		return EXIT_USAGE;

	struct diags d = DIAGS_INIT;
	struct strvec files = STRVEC_INIT;
	if (n == 0) {
		const char *dir = ".github/workflows";
		struct stat st;
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			diag_err(&d, dir, 0, 0, "no workflow directory (run kiln lint in a "
						"repository, or name the files)");
		else
			list_dir(dir, &files, &d);
	}
	for (int i = 1; i <= n; i++)
		add_path(argv[i], &files, &d);

	for (size_t i = 0; i < files.nr; i++) {
		struct workflow *wf;
		if (wf_load_file(files.v[i], &wf, &d) == 0) {
			trig_check(wf, &d); /* filter patterns, crons, dispatch inputs */
			check_local_calls(wf, &d);
			wf_free(wf);
		}
	}
	diags_sort(&d);
	diags_print(&d, stdout);
	int ret = d.errors ? EXIT_USAGE : EXIT_OK;
	diags_release(&d);
	strvec_clear(&files);
	return ret;
}
