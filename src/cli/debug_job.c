/*
 * debug_job: `kiln debug job FILE JOB` runs one job of a workflow with the
 * executor alone (no planner, no scheduler): the repository is the one
 * around the current directory, contexts are minimal (github.event_name
 * push, the workflow's env, secrets from --secret). Events are printed one
 * per line in a plain, greppable form. `--action USES=DIR` stands in for
 * the remote action resolver: `uses: USES` runs the action in DIR as a
 * fetched remote action. Exit 0 when the job succeeded, 1 when it failed
 * or was cancelled, 2 for a bad workflow or usage.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "engine/job.h"
#include "engine/workspace.h"

#include <signal.h>
#include <unistd.h>

struct djob {
	struct job_exec *je;
	uv_loop_t *loop;
	struct job_spec spec;
	struct log_sink sink;
	int repeat, started;       /* --repeat: run the job this many times */
	char key[64];
	uint64_t t0;
	enum result result;
	int done;
	uint64_t cancel_after_ms;
	uv_timer_t cancel_timer;
	uv_signal_t sigint, sigterm;
};

/* --action USES=DIR: the repository is USES' owner/name, the ref what follows '@' */
static int map_action(const struct action_resolver *r, const char *uses, struct action_source *out,
		      struct buf *err)
{
	const struct strvec *map = r->data;
	size_t ul = strlen(uses);
	(void)err;
	for (size_t i = 0; i < map->nr; i++) {
		const char *m = map->v[i];
		if (strncmp(m, uses, ul) || m[ul] != '=')
			continue;
		const char *at = strchr(uses, '@');
		const char *slash = strchr(uses, '/');
		const char *end = slash ? strchr(slash + 1, '/') : NULL;
		if (!end || (at && end > at))
			end = at ? at : uses + ul;
		out->dir = xstrdup(m + ul + 1);
		out->repository = xstrndup(uses, (size_t)(end - uses));
		out->ref = xstrdup(at ? at + 1 : "");
		return 1;
	}
	return 0;
}

static const char *kind_prefix(enum log_kind k)
{
	switch (k) {
	case LOG_OUTPUT: return "| ";
	case LOG_STEP_START: return "> ";
	case LOG_STEP_END: return "< ";
	case LOG_GROUP: return "group: ";
	case LOG_ENDGROUP: return "endgroup";
	case LOG_ERROR: return "error: ";
	case LOG_WARNING: return "warning: ";
	case LOG_NOTICE: return "notice: ";
	case LOG_DEBUG: return "debug: ";
	case LOG_INFO: return "info: ";
	case LOG_ARTIFACT: return "artifact: ";
	}
	return "? ";
}

static void on_event(void *arg, const struct log_event *ev)
{
	(void)arg;
	if (ev->kind == LOG_ENDGROUP) {
		puts("endgroup");
		return;
	}
	fputs(kind_prefix(ev->kind), stdout);
	if (ev->file)
		printf("%s:%d:%d: ", ev->file, ev->line, ev->col);
	if (ev->title)
		printf("[%s] ", ev->title);
	fwrite(ev->text, 1, ev->len, stdout);
	if (ev->kind == LOG_STEP_END)
		printf(": %s", result_name(ev->result));
	putchar('\n');
	fflush(stdout);
}

static void close_cb(uv_handle_t *h)
{
	(void)h;
}

static void on_done(struct job_exec *je, const struct job_result *res, void *arg);

static void start_one(struct djob *d)
{
	d->started++;
	if (d->repeat > 1) {
		snprintf(d->key, sizeof(d->key), "%s-%d", d->spec.job_id, d->started);
		d->spec.job_key = d->key;
	}
	job_exec_start(d->loop, &d->spec, &d->sink, on_done, d, &d->je);
}

static void on_done(struct job_exec *je, const struct job_result *res, void *arg)
{
	struct djob *d = arg;
	if (d->started < d->repeat && res->result == RESULT_SUCCESS) {
		job_exec_free(je);
		start_one(d);
		return;
	}
	if (d->repeat > 1) {
		double ms = (double)(now_ns() - d->t0) / 1e6;
		fprintf(stderr, "%d jobs in %.1f ms: %.0f us per job\n", d->started, ms,
			ms * 1000.0 / d->started);
	}
	d->done = 1;
	d->result = res->result;
	printf("job: %s\n", result_name(res->result));
	struct buf b = BUF_INIT;
	ev_to_json(res->outputs, &b, 0);
	printf("outputs: %s\n", b.buf);
	buf_release(&b);
	if (res->summary)
		printf("summary:\n%s", res->summary);
	fflush(stdout);
	uv_close((uv_handle_t *)&d->cancel_timer, close_cb);
	uv_close((uv_handle_t *)&d->sigint, close_cb);
	uv_close((uv_handle_t *)&d->sigterm, close_cb);
}

static void on_cancel_timer(uv_timer_t *t)
{
	struct djob *d = t->data;
	if (!d->done)
		job_exec_cancel(d->je, 1000);
}

static void on_signal(uv_signal_t *s, int sig)
{
	struct djob *d = s->data;
	(void)sig;
	if (!d->done)
		job_exec_cancel(d->je, 2000);
}

/* contexts: github (minimal), env (the workflow's, evaluated), secrets */
static struct ev *make_contexts(const struct workflow *wf, const char *job_id,
				const struct strvec *secrets, struct buf *err)
{
	struct ev *c = ev_object();
	struct ev *gh = ev_object();
	char cwd[4096];
	ev_object_set(gh, "event_name", ev_cstr("push"));
	ev_object_set(gh, "job", ev_cstr(job_id));
	ev_object_set(gh, "workspace", ev_cstr(getcwd(cwd, sizeof(cwd)) ? cwd : "."));
	ev_object_set(gh, "event", ev_object());
	ev_object_set(c, "github", gh);
	struct ev *sec = ev_object();
	for (size_t i = 0; i < secrets->nr; i++) {
		const char *eq = strchr(secrets->v[i], '=');
		if (!eq)
			continue;
		char *k = xstrndup(secrets->v[i], (size_t)(eq - secrets->v[i]));
		ev_object_set(sec, k, ev_cstr(eq + 1));
		free(k);
	}
	ev_object_set(c, "secrets", sec);
	ev_object_set(c, "vars", ev_object());
	ev_object_set(c, "matrix", ev_object());
	ev_object_set(c, "needs", ev_object());
	ev_object_set(c, "inputs", ev_object());
	struct ev *env = ev_object();
	const struct ynode *we = wf->env;
	for (size_t i = 0; we && we->kind == YNODE_MAP && i < ynode_map_size(we); i++) {
		const struct ynode *k = ynode_map_key(we, i), *v = ynode_map_val(we, i);
		if (v->kind != YNODE_SCALAR)
			continue;
		struct expr_ctx x = { .contexts = c };
		struct ev *val = ynode_is_null(v) ? ev_cstr("")
						  : expr_interpolate(v->str, v->len, &x, err);
		if (!val) {
			ev_unref(env);
			ev_unref(c);
			return NULL;
		}
		struct buf s = BUF_INIT;
		ev_to_string(val, &s);
		ev_unref(val);
		ev_object_set(env, k->str, ev_string(s.buf, s.len));
		buf_release(&s);
	}
	ev_object_set(c, "env", env);
	return c;
}

static uint64_t job_timeout(const struct wf_job *job)
{
	const struct ynode *n = job->timeout_minutes;
	if (!n || n->kind != YNODE_SCALAR)
		return 0;
	double m = strtod(n->str, NULL);
	return m > 0 ? (uint64_t)(m * 60000.0) : 0;
}

int cmd_debug_job(int argc, char **argv)
{
	const char *run_dir = NULL;
	int verbose = 0, cancel_after = 0, repeat = 1;
	struct strvec secrets = STRVEC_INIT, actions = STRVEC_INIT;
	const struct opt opts[] = {
		{ OPT_LIST, 0, "action", &actions, "USES=DIR", "run `uses: USES` from DIR as a fetched action" },
		{ OPT_STRING, 0, "run-dir", &run_dir, "DIR", "scratch directory (default: a new temp dir)" },
		{ OPT_LIST, 's', "secret", &secrets, "NAME=VALUE", "a secret (masked in the output)" },
		{ OPT_INT, 0, "cancel-after", &cancel_after, "MS", "cancel the job after MS milliseconds" },
		{ OPT_COUNT, 'v', "verbose", &verbose, NULL, "show ::debug:: lines" },
		{ OPT_INT, 0, "repeat", &repeat, "N", "run the job N times in a row (timing)" },
		OPT_END_MARK,
	};
	static const char *const usage[] = { "kiln debug job [<options>] FILE JOB", NULL };
	int n = opt_parse(argc, argv, opts, usage);
	if (n == -2)
		return EXIT_OK;
	if (n != 2) {
		if (n >= 0)
			opt_usage(stderr, opts, usage);
		strvec_clear(&secrets);
		strvec_clear(&actions);
		return EXIT_USAGE;
	}
	const char *file = argv[1], *job_id = argv[2];
	struct diags d = DIAGS_INIT;
	struct workflow *wf = NULL;
	int ret = EXIT_USAGE;
	char tmpl[] = "/tmp/kiln-debug-job-XXXXXX";
	struct ev *contexts = NULL;
	struct buf err = BUF_INIT;

	if (wf_load_file(file, &wf, &d) < 0) {
		diags_print(&d, stderr);
		goto out;
	}
	diags_print(&d, stderr); /* warnings */
	const struct wf_job *job = wf_find_job(wf, job_id);
	if (!job) {
		fprintf(stderr, "kiln: error: no job '%s' in '%s'\n", job_id, file);
		goto out;
	}
	contexts = make_contexts(wf, job_id, &secrets, &err);
	if (!contexts) {
		fprintf(stderr, "%s: error: env: %s\n", file, err.buf);
		goto out;
	}
	if (!run_dir) {
		if (!mkdtemp(tmpl)) {
			perror("kiln: error: mkdtemp");
			ret = EXIT_INTERNAL;
			goto out;
		}
		run_dir = tmpl;
	} else if (mkdir_p(run_dir, 0777) < 0) {
		fprintf(stderr, "kiln: error: cannot create '%s'\n", run_dir);
		ret = EXIT_INTERNAL;
		goto out;
	}

	uv_loop_t loop;
	uv_loop_init(&loop);
	struct djob dj = { .cancel_after_ms = (uint64_t)cancel_after, .loop = &loop,
			   .repeat = repeat < 1 ? 1 : repeat, .t0 = now_ns() };
	dj.spec = (struct job_spec){
		.wf = wf, .job = job, .job_id = job_id,
		.display_name = job->name.s ? job->name.s : job_id,
		.contexts = contexts, .repo_dir = ".", .run_dir = run_dir, .job_key = job_id,
		.timeout_ms = job_timeout(job), .verbose = verbose,
	};
	struct action_resolver resolver = { map_action, &actions };
	if (actions.nr)
		dj.spec.actions = &resolver;
	dj.sink = (struct log_sink){ repeat > 1 ? NULL : on_event, &dj };
	uv_timer_init(&loop, &dj.cancel_timer);
	dj.cancel_timer.data = &dj;
	uv_signal_init(&loop, &dj.sigint);
	uv_signal_init(&loop, &dj.sigterm);
	dj.sigint.data = dj.sigterm.data = &dj;
	uv_signal_start(&dj.sigint, on_signal, SIGINT);
	uv_signal_start(&dj.sigterm, on_signal, SIGTERM);
	workspace_lib_hold();
	start_one(&dj);
	if (cancel_after)
		uv_timer_start(&dj.cancel_timer, on_cancel_timer, (uint64_t)cancel_after, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	job_exec_free(dj.je);
	workspace_lib_release();
	uv_loop_close(&loop);
	ret = dj.result == RESULT_SUCCESS ? EXIT_OK : EXIT_FAILED;
out:
	ev_unref(contexts);
	buf_release(&err);
	wf_free(wf);
	diags_release(&d);
	strvec_clear(&secrets);
	strvec_clear(&actions);
	return ret;
}
