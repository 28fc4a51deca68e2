/*
 * run: `kiln run [EVENT]` — load the repository's workflows, keep those the
 * event triggers, plan their jobs and run them on a libuv loop (or list
 * them with -l, or show the plan with -n).
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "cli/cmds.h"
#include "cli/ctx.h"
#include "cli/opt.h"
#include "engine/isolate.h"
#include "engine/actprep.h"
#include "engine/actref.h"
#include "engine/jobdir.h"
#include "engine/output.h"
#include "engine/plan.h"
#include "engine/record.h"
#include "engine/runctx.h"
#include "engine/sched.h"
#include "engine/trigsel.h"
#include "engine/workspace.h"
#include "secret/secret.h"
#include "engine/concurrency.h"
#include "server/jobgate.h"
#include "server/agentexec.h"
#include "store/db.h"
#include "store/open.h"
#include "store/runs.h"
#include "workflow/trigger.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

/* how long cancelled steps get before SIGKILL */
#define RUN_GRACE_MS 5000

struct run_opts {
	const char *event;
	const char *workflow_file;
	const char *job;
	const char *event_file;
	const char *ref, *base, *head, *action;
	int list, dry, parallel, json, verbose, keep, no_history;
	int no_secrets; /* --no-secrets: the server's runs of fork pull requests */
	int isolate, isolate_no_net; /* --isolate, --isolate-no-network */
	int attempt;    /* --run-attempt: github.run_attempt of a re-run */
	struct strvec vars, secrets, inputs;
	const char *secret_file;
	const char *github_instance; /* --github-instance, else $KILN_GITHUB_URL */
	int offline, pull;
	const char *server_repo; /* --server-repo: a run of kiln serve (server/jobgate.h) */
	const char *agents;      /* --agents MODE: jobs handed to kiln agent (server/agentexec.h) */
	int server_event;        /* --server-event: the server's event it runs for */
	int reuse_run;           /* --reuse-run: re-run only the failed jobs of that run */
	const char *rerun_job;   /* --rerun-job: with --reuse-run, only this job (and dependents) */
	char *reuse_file;        /* its workflow (owned) */
	/* the run's files (workspace_snapshot), taken by the first level and
	 * shared by the workflow_run levels after it; run() frees it */
	char *snapshot;
};

static const char *const run_usage[] = {
	"kiln run [EVENT] [-W FILE] [-j JOB] [-l] [-n] [-p N] [-e event.json] [--json] [-v]",
	NULL,
};

/* the loaded workflows of a run */
struct wfset {
	struct workflow **v;
	size_t nr, alloc;
	struct ev **ctx;    /* per workflow: starting contexts */
	struct ev **inputs; /* per workflow: dispatch inputs, or NULL */
	struct reuse_set calls; /* reusable workflows the jobs call */
};

static void wfset_release(struct wfset *w)
{
	reuse_release(&w->calls);
	for (size_t i = 0; i < w->nr; i++) {
		wf_free(w->v[i]);
		if (w->ctx)
			ev_unref(w->ctx[i]);
		if (w->inputs)
			ev_unref(w->inputs[i]);
	}
	free(w->v);
	free(w->ctx);
	free(w->inputs);
}

/*
 * every workflow file under `root` (the repository's files); an error
 * naming the directory under `label` (the user's repository) when there
 * is none
 */
static int find_workflows(const char *root, const char *label, struct strvec *out,
			  struct buf *err)
{
	char *dir = xstrfmt("%s/.github/workflows", root);
	int r = wf_list_dir(dir, out);
	if (r < 0)
		buf_addf(err, "no workflows: cannot open '%s/.github/workflows': %s", label,
			 strerror(-r));
	else if (!out->nr)
		buf_addf(err, "no workflows: no .yml or .yaml file in '%s/.github/workflows'", label);
	free(dir);
	return r < 0 || !out->nr ? -1 : 0;
}

/*
 * Does the run's event trigger `wf`? The one place trigger rules apply
 * (src/engine/trigsel.h over src/workflow/trigger.h: branch/tag/path
 * filters, activity types, dispatch inputs, resolved into *inputs).
 */
static int triggered(struct trigsel *ts, const struct workflow *wf, int verbose,
		     struct ev **inputs, struct diags *d)
{
	struct trig_match m = TRIG_MATCH_INIT;
	int r = trigsel_match(ts, wf, &m, inputs, d);
	/* a workflow_run level only talks about workflow_run workflows */
	if (r >= 0 && verbose && (!ts->run || m.trigger))
		fprintf(stderr, "kiln: %s: %s\n", wf->file, m.reason.len ? m.reason.buf :
			(m.matched ? "triggered" : "not triggered"));
	trig_match_release(&m);
	return r;
}

/*
 * Where the workflow file `file` (-W, as the user names it) is read: its
 * copy in the run's snapshot when it lies in the repository and the
 * snapshot has it (allocated), else NULL (read it as named: a file the
 * commit does not have, or one outside the repository).
 */
static char *snapshot_path(const struct runctx *rc, const char *file)
{
	if (!rc->snapshot_dir)
		return NULL;
	char *real = realpath(file, NULL);
	size_t l = strlen(rc->repo_dir);
	char *p = NULL;
	if (real && !strncmp(real, rc->repo_dir, l) && real[l] == '/')
		p = xstrfmt("%s/%s", rc->snapshot_dir, real + l + 1);
	free(real);
	if (p && access(p, F_OK) < 0) {
		free(p);
		p = NULL;
	}
	return p;
}

/* the copy of the work tree's `file` in the run's snapshot (allocated), or
 * NULL when the snapshot does not have it */
static char *in_snapshot(const struct runctx *rc, const char *file)
{
	struct stat st;
	char *p = xstrfmt("%s%s", rc->snapshot_dir, file + strlen(rc->repo_dir));
	if (lstat(p, &st) == 0)
		return p;
	free(p);
	return NULL;
}

static int is_regular(const char *file)
{
	struct stat st;
	return stat(file, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * The name messages give the workflow file `file` of the repository:
 * relative when kiln runs from the repository's top, as kiln lint names it
 * (.github/workflows/ci.yml:3:13: error: ...), else the path as is.
 */
static char *display_name(const struct runctx *rc, const char *file)
{
	size_t l = strlen(rc->repo_dir);
	char *here = realpath(".", NULL);
	int top = here && !strcmp(here, rc->repo_dir);
	free(here);
	if (top && !strncmp(file, rc->repo_dir, l) && file[l] == '/')
		return xstrdup(file + l + 1);
	return xstrdup(file);
}

/* load the workflows the event triggers (from the run's snapshot, named as
 * the user's files); 0, or an exit code */
static int load_workflows(const struct run_opts *o, struct trigsel *ts, struct runctx *rc,
			  struct wfset *w)
{
	struct strvec files = STRVEC_INIT;
	struct buf err = BUF_INIT;
	struct diags d = DIAGS_INIT;
	const char *snap = rc->snapshot_dir;
	/* the work tree's listing names the user's files and what is wrong
	 * with them (a FIFO, an empty directory); a commit's is the snapshot */
	const char *root = snap && !ts->worktree ? snap : rc->repo_dir;
	int ret = 0;
	if (o->workflow_file) {
		strvec_push(&files, o->workflow_file);
	} else if (find_workflows(root, rc->repo_dir, &files, &err) < 0) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		ret = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < files.nr; i++) {
		struct workflow *wf = NULL;
		char *label = NULL, *path = NULL;
		if (o->workflow_file)
			path = snapshot_path(rc, files.v[i]);
		else if (root == snap)
			label = xstrfmt("%s%s", rc->repo_dir, files.v[i] + strlen(snap));
		else if (snap && !(path = in_snapshot(rc, files.v[i])) && is_regular(files.v[i]))
			continue; /* ignored (.gitignore): not one of the run's files */
		if (!o->workflow_file) {
			char *shown = display_name(rc, label ? label : files.v[i]);
			free(label);
			label = shown;
		}
		int lr = wf_load_file_as(path ? path : files.v[i], label ? label : files.v[i], &wf,
					 &d);
		free(label);
		free(path);
		if (lr < 0 || !wf) {
			ret = EXIT_USAGE;
			continue;
		}
		/* what kiln lint reports of the triggers (crons, filters, inputs):
		 * a broken `on:` is an error, not "no workflow is triggered" */
		if (trig_check(wf, &d) > 0) {
			ret = EXIT_USAGE;
			wf_free(wf);
			continue;
		}
		struct ev *inputs = NULL;
		int t = triggered(ts, wf, o->verbose, &inputs, &d);
		if (t < 0)
			ret = EXIT_USAGE;
		if (t <= 0) {
			ev_unref(inputs);
			wf_free(wf);
			continue;
		}
		ALLOC_GROW(w->v, w->nr + 1, w->alloc);
		w->inputs = xrealloc(w->inputs, w->alloc * sizeof(*w->inputs));
		w->inputs[w->nr] = inputs;
		w->v[w->nr++] = wf;
	}
	if (d.nr) {
		diags_sort(&d);
		diags_print(&d, stderr);
	}
out:
	diags_release(&d);
	buf_release(&err);
	strvec_clear(&files);
	return ret;
}

static const char *wf_path(const struct runctx *rc, const struct workflow *wf);

/* the starting contexts of each workflow (and its run in the history) */
static int workflow_contexts(struct runctx *rc, struct wfset *w, struct recorder *rec)
{
	w->ctx = xcalloc(w->nr ? w->nr : 1, sizeof(*w->ctx));
	int ret = 0;
	for (size_t i = 0; i < w->nr; i++) {
		struct buf err = BUF_INIT;
		int number = recorder_workflow(rec, i, wf_path(rc, w->v[i]),
					       runctx_workflow_name(rc, w->v[i]), rc->event_name,
					       rc->ref, rc->sha);
		w->ctx[i] = runctx_workflow_contexts(rc, w->v[i], w->inputs[i], number, &err);
		if (!w->ctx[i]) {
			fprintf(stderr, "%s\n", err.buf);
			ret = EXIT_USAGE;
		}
		buf_release(&err);
	}
	return ret;
}

/* the workflow file relative to the repository */
static const char *wf_path(const struct runctx *rc, const struct workflow *wf)
{
	size_t l = strlen(rc->repo_dir);
	if (!strncmp(wf->file, rc->repo_dir, l) && wf->file[l] == '/')
		return wf->file + l + 1;
	return wf->file;
}

/* ---- -l and -n ---- */

/*
 * A reusable-workflow call whose called workflow has a job kiln cannot run
 * (nested calls included): that job and the plan holding it, else NULL.
 */
static const struct plan_job *callee_cannot(const struct reuse_set *calls,
					     const struct wf_job *job, int depth)
{
	const struct reuse_call *c = job->uses.s && depth < 16 ? reuse_find(calls, job) : NULL;
	for (size_t i = 0; c && i < c->plan.nr; i++) {
		const struct plan_job *cj = &c->plan.jobs[i];
		if (cj->cannot)
			return cj;
		const struct plan_job *deeper = callee_cannot(calls, cj->job, depth + 1);
		if (deeper)
			return deeper;
	}
	return NULL;
}

/*
 * The instances a job would have, as far as known before the run, and for
 * each why it cannot run ("" when it can): the job's own reason, a job of
 * the workflow it calls, or a runs-on that names another operating system
 * for that matrix combination.
 */
static void static_names(const struct plan_job *pj, const struct wfset *w, struct strvec *out,
			 struct strvec *why)
{
	const struct wf_job *job = pj->job;
	const struct ev *wctx = w->ctx[pj->wf_index];
	const char *base = job->name.s ? job->name.s : job->id.s;
	const struct plan_job *cj = pj->cannot ? NULL : callee_cannot(&w->calls, job, 0);
	char *called = cj ? xstrfmt("called job '%s': %s", cj->job->id.s, cj->cannot)
			  : NULL;
	const char *cannot = pj->cannot ? pj->cannot : called ? called : "";
	if (!job->strategy.matrix) {
		strvec_push(out, base);
		strvec_push(why, cannot);
		free(called);
		return;
	}
	struct ev *c = ev_object();
	for (size_t i = 0; i < ev_len(wctx); i++)
		ev_object_set(c, ev_object_key_at(wctx, i), ev_ref(ev_object_val_at(wctx, i)));
	ev_object_set(c, "needs", ev_object());
	struct expr_ctx ctx = { .contexts = c };
	struct buf err = BUF_INIT;
	/* keys from expressions over needs are not known before the run */
	int later = job->nneeds && plan_map_has_exprs(job->strategy.matrix);
	struct ev *m = later ? NULL : plan_value(job->strategy.matrix, &ctx, &err, NULL, NULL);
	struct matrix_list ml = MATRIX_LIST_INIT;
	if (m && matrix_expand(m, &ml, &err) == 0) {
		for (size_t i = 0; i < ml.nr; i++) {
			strvec_push_nodup(out, plan_display_name(base, ml.v[i].suffix));
			struct buf wb = BUF_INIT, e = BUF_INIT;
			if (!*cannot && job->runs_on) {
				ev_object_set(c, "matrix", ev_ref(ml.v[i].matrix));
				struct ev *ro = plan_value(job->runs_on, &ctx, &e, NULL, NULL);
				if (ro)
					plan_runs_on_foreign(ro, &wb);
				ev_unref(ro);
			}
			strvec_push(why, wb.len ? wb.buf : cannot);
			buf_release(&wb);
			buf_release(&e);
		}
	} else {
		strvec_pushf(out, "%s (matrix known when the job starts)", base);
		strvec_push(why, cannot);
	}
	matrix_list_release(&ml);
	ev_unref(m);
	ev_unref(c);
	buf_release(&err);
	free(called);
}

static const char *wf_label(const struct runctx *rc, const struct workflow *wf)
{
	const char *f = wf->file;
	size_t l = strlen(rc->repo_dir);
	if (!strncmp(f, rc->repo_dir, l) && f[l] == '/')
		f += l + 1;
	const char *slash = strrchr(f, '/');
	return slash ? slash + 1 : f;
}

/*
 * After -l / -n: say on stderr which jobs kiln cannot run, where, and that
 * the others still run (stdout keeps the table / plan only).
 */
static void cannot_note(const struct plan *p, const struct runctx *rc, const struct wfset *w)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nr; i++) {
		const struct plan_job *pj = &p->jobs[i];
		const struct plan_job *cj = pj->cannot ? pj : callee_cannot(&w->calls, pj->job, 0);
		if (!pj->selected || !cj)
			continue;
		if (cj != pj)
			fprintf(stderr, "kiln: %s:%d:%d: job '%s' (called by '%s') cannot run here: %s\n",
				wf_path(rc, cj->wf), cj->cannot_line, cj->cannot_col, cj->job->id.s,
				pj->job->id.s, cj->cannot);
		else
			fprintf(stderr, "kiln: %s:%d:%d: job '%s' cannot run here: %s\n",
				wf_path(rc, pj->wf), pj->cannot_line, pj->cannot_col, pj->job->id.s,
				pj->cannot);
		n++;
	}
	if (n)
		fprintf(stderr, "kiln: a run fails if %s would start; the other jobs run "
			"(select them with -j JOB)\n", n == 1 ? "that job" : "one of those jobs");
}

static void list_jobs(const struct plan *p, const struct runctx *rc, const struct wfset *w)
{
	size_t wid = 3, wname = 4;
	for (size_t i = 0; i < p->nr; i++) {
		if (strlen(p->jobs[i].job->id.s) > wid)
			wid = strlen(p->jobs[i].job->id.s);
	}
	struct strvec *names = xcalloc(p->nr ? p->nr : 1, sizeof(*names));
	struct strvec *why = xcalloc(p->nr ? p->nr : 1, sizeof(*why));
	for (size_t i = 0; i < p->nr; i++) {
		if (!p->jobs[i].selected)
			continue;
		static_names(&p->jobs[i], w, &names[i], &why[i]);
		for (size_t k = 0; k < names[i].nr; k++)
			if (strlen(names[i].v[k]) > wname)
				wname = strlen(names[i].v[k]);
	}
	printf("%-5s  %-*s  %-*s  %-16s  %s\n", "stage", (int)wid, "job", (int)wname, "name",
	       "workflow", "needs");
	for (size_t o = 0; o < p->nr; o++) {
		size_t i = p->order[o];
		const struct plan_job *pj = &p->jobs[i];
		if (!pj->selected)
			continue;
		struct buf needs = BUF_INIT;
		for (size_t k = 0; k < pj->nneeds; k++)
			buf_addf(&needs, "%s%s", k ? "," : "", p->jobs[pj->needs[k]].job->id.s);
		for (size_t k = 0; k < names[i].nr; k++) {
			printf("%-5d  %-*s  %-*s  %-16s  %s", pj->stage, (int)wid, pj->job->id.s,
			       (int)wname, names[i].v[k], wf_label(rc, pj->wf), needs.len ? needs.buf : "-");
			if (*why[i].v[k])
				printf("  (cannot run: %s)", why[i].v[k]);
			putchar('\n');
		}
		buf_release(&needs);
	}
	cannot_note(p, rc, w);
	for (size_t i = 0; i < p->nr; i++) {
		strvec_clear(&names[i]);
		strvec_clear(&why[i]);
	}
	free(names);
	free(why);
}

static void step_label(const struct wf_step *st, struct buf *out)
{
	if (st->name.s) {
		buf_addstr(out, st->name.s);
	} else if (st->run.s) {
		const char *nl = strchr(st->run.s, '\n');
		buf_addstr(out, "Run ");
		buf_add(out, st->run.s, nl ? (size_t)(nl - st->run.s) : strlen(st->run.s));
	} else if (st->uses.s) {
		buf_addf(out, "Run %s", st->uses.s);
	}
}

static void dry_run(const struct plan *p, const struct runctx *rc, const struct wfset *w)
{
	int stage = -1;
	printf("dry run: %s on %s (%s), nothing is executed\n", rc->repository, rc->event_name,
	       rc->ref);
	for (size_t o = 0; o < p->nr; o++) {
		const struct plan_job *pj = &p->jobs[p->order[o]];
		if (!pj->selected)
			continue;
		if (pj->stage != stage) {
			stage = pj->stage;
			printf("stage %d\n", stage);
		}
		struct strvec names = STRVEC_INIT, why = STRVEC_INIT;
		static_names(pj, w, &names, &why);
		for (size_t k = 0; k < names.nr; k++) {
			printf("  job %s", names.v[k]);
			if (pj->nneeds) {
				printf(" (needs");
				for (size_t n = 0; n < pj->nneeds; n++)
					printf(" %s", p->jobs[pj->needs[n]].job->id.s);
				printf(")");
			}
			if (pj->job->if_cond.s)
				printf(" if: %s", pj->job->if_cond.s);
			printf("\n");
			if (pj->cannot)
				printf("    cannot run: %s (%s:%d:%d)\n", pj->cannot, wf_path(rc, pj->wf),
				       pj->cannot_line, pj->cannot_col);
			else if (*why.v[k] && pj->job->runs_on)
				printf("    cannot run: %s (%s:%d:%d)\n", why.v[k], wf_path(rc, pj->wf),
				       pj->job->runs_on->line, pj->job->runs_on->col);
			else if (*why.v[k]) {
				const struct plan_job *cj = callee_cannot(&w->calls, pj->job, 0);
				printf("    cannot run: %s (%s:%d:%d)\n", why.v[k],
				       cj ? wf_path(rc, cj->wf) : "",
				       cj ? cj->cannot_line : 0, cj ? cj->cannot_col : 0);
			}
			for (size_t s = 0; s < pj->job->nsteps; s++) {
				struct buf b = BUF_INIT;
				step_label(&pj->job->steps[s], &b);
				printf("    - %s\n", b.buf);
				buf_release(&b);
			}
		}
		strvec_clear(&names);
		strvec_clear(&why);
	}
	cannot_note(p, rc, w);
}

/* ---- running ---- */

struct run_state {
	uv_signal_t sigint, sigterm;
	uv_signal_t sigurg; /* kiln serve: a deployment was approved/rejected/ended: ask again */
	struct sched *sched;
	struct output *out;
	int signals;
};

static void close_signals(struct run_state *st)
{
	if (!uv_is_closing((uv_handle_t *)&st->sigint))
		uv_close((uv_handle_t *)&st->sigint, NULL);
	if (!uv_is_closing((uv_handle_t *)&st->sigterm))
		uv_close((uv_handle_t *)&st->sigterm, NULL);
	if (!uv_is_closing((uv_handle_t *)&st->sigurg))
		uv_close((uv_handle_t *)&st->sigurg, NULL);
}

/* SIGURG (ignored by default, so a kiln not listening yet is unharmed):
 * kiln serve's wake-up for jobs waiting at a gate */
static void on_wake(uv_signal_t *h, int signum)
{
	struct run_state *st = h->data;
	(void)signum;
	sched_wake(st->sched);
}

static void on_done(void *arg)
{
	close_signals(arg);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct run_state *st = h->data;
	st->signals++;
	if (st->signals == 1) {
		output_info(st->out, "kiln", "%s: cancelling the run (again to stop at once)",
			    signum == SIGINT ? "interrupt" : "terminated");
		sched_cancel(st->sched, 0);
	} else {
		output_info(st->out, "kiln", "stopping now");
		sched_cancel(st->sched, 1);
	}
}

static unsigned default_parallel(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/*
 * Run the plan. results[i] (when not NULL) receives workflow i's
 * conclusion; *interrupted is set when the user cancelled (Ctrl-C).
 */
static int plan_has_concurrency(const struct plan *p)
{
	for (size_t i = 0; i < p->nr; i++)
		if (p->jobs[i].selected && (p->jobs[i].wf->concurrency || p->jobs[i].job->concurrency))
			return 1;
	return 0;
}

static int execute(const struct run_opts *o, const struct plan *p, struct runctx *rc,
		   const struct wfset *w, struct recorder *rec, int color, enum result *results,
		   int *interrupted)
{
	uv_loop_t loop;
	if (uv_loop_init(&loop) < 0) {
		fprintf(stderr, "kiln: error: cannot start the event loop\n");
		return EXIT_INTERNAL;
	}
	struct run_state st = { 0 };
	st.out = output_new(stdout, o->json ? OUTPUT_JSON : OUTPUT_TEXT, color, o->verbose);
	struct buf names = BUF_INIT;
	size_t njobs = 0;
	for (size_t i = 0; i < w->nr; i++)
		buf_addf(&names, "%s%s", i ? ", " : "", wf_label(rc, w->v[i]));
	for (size_t i = 0; i < p->nr; i++)
		njobs += p->jobs[i].selected;
	output_run_start(st.out, names.buf, rc->event_name, njobs);
	buf_release(&names);
	struct sched_observer obs = {
		recorder_job_start, recorder_job_end, recorder_log, rec, recorder_job_summary,
		recorder_job_outputs, recorder_workflow_end,
	};
	struct sched_opts so = {
		.observer = rec ? &obs : NULL,
		.parallel = o->parallel > 0 ? (unsigned)o->parallel : default_parallel(),
		.grace_ms = RUN_GRACE_MS,
		.verbose = o->verbose,
		.isolate = o->isolate_no_net ? 2 : o->isolate,
		.done = on_done,
		.done_arg = &st,
		.calls = &w->calls,
		.reuse = recorder_reuse(rec),
	};
	struct jobgate *gate = NULL;
	if (o->server_repo && rec) {
		struct jobgate_cfg gc = { o->server_repo, rc->actor, rc->ref, rc->sha, rc->repo_dir, rec,
					  &loop, rc->secrets, rc->env_secrets };
		struct buf gerr = BUF_INIT;
		if (jobgate_new(&gc, &gate, &gerr) < 0) {
			fprintf(stderr, "kiln: error: cannot gate deployments: %s\n", gerr.buf);
			buf_release(&gerr);
			output_free(st.out);
			uv_loop_close(&loop);
			return EXIT_INTERNAL;
		}
		so.gate = jobgate_hook(gate);
	}
	struct agentexec *remote = NULL;
	enum agents_mode mode = AGENTS_OFF;
	if (o->server_repo && o->agents && agents_mode_parse(o->agents, &mode) == 0 &&
	    mode != AGENTS_OFF) {
		struct agentexec_cfg rcf = { o->server_repo, mode, rc->repo_dir, rc->snapshot_dir,
					     rec };
		struct buf rerr = BUF_INIT;
		if (agentexec_new(&rcf, &remote, &rerr) < 0) {
			fprintf(stderr, "kiln: error: cannot hand jobs to agents: %s\n", rerr.buf);
			buf_release(&rerr);
			jobgate_free(gate);
			output_free(st.out);
			uv_loop_close(&loop);
			return EXIT_INTERNAL;
		}
		so.ops = agentexec_ops(remote);
	}
	/* concurrency groups: the server's repository, or this work tree (a
	 * store connection only for runs that have groups) */
	struct conc_hook *conc = NULL;
	if (rec && plan_has_concurrency(p)) {
		struct buf cerr = BUF_INIT;
		conc = conc_hook_new(&loop, rec, o->server_repo ? o->server_repo : rc->repo_dir, &cerr);
		if (!conc)
			fprintf(stderr, "kiln: warning: concurrency groups not enforced: %s\n", cerr.buf);
		buf_release(&cerr);
		so.conc = conc_hook_sched(conc);
	}
	st.sched = sched_new(&loop, p, rc, w->ctx, st.out, &so);
	conc_hook_attach(conc, st.sched);
	recorder_attach(rec, &loop);
	uv_signal_init(&loop, &st.sigint);
	uv_signal_init(&loop, &st.sigterm);
	uv_signal_init(&loop, &st.sigurg);
	st.sigint.data = st.sigterm.data = st.sigurg.data = &st;
	uv_signal_start(&st.sigint, on_signal, SIGINT);
	uv_signal_start(&st.sigterm, on_signal, SIGTERM);
	uv_signal_start(&st.sigurg, on_wake, SIGURG);
	uv_unref((uv_handle_t *)&st.sigurg);
	uint64_t t0 = now_ns();
	sched_start(st.sched);
	uv_run(&loop, UV_RUN_DEFAULT);
	enum result r = sched_result(st.sched);
	conc_hook_free(conc); /* the loop runs below: its timer closes */
	recorder_finish(rec);
	uv_run(&loop, UV_RUN_NOWAIT); /* the recorder's handle closes */
	output_run_end(st.out, r, now_ns() - t0);
	for (size_t i = 0; results && i < w->nr; i++)
		results[i] = sched_workflow_result(st.sched, i);
	for (size_t i = 0; gate && i < w->nr; i++)
		jobgate_run_end(gate, i, wf_label(rc, w->v[i]), sched_workflow_result(st.sched, i));
	jobgate_flush(gate, &loop);
	*interrupted = st.signals > 0;
	sched_free(st.sched);
	agentexec_free(remote);
	uv_run(&loop, UV_RUN_NOWAIT); /* the agent executor's timer closes */
	jobgate_free(gate);
	output_free(st.out);
	int closed = uv_loop_close(&loop);
	if (closed != 0) {
		fprintf(stderr, "kiln: BUG: event loop still has handles at exit\n");
		return EXIT_INTERNAL;
	}
	return r == RESULT_SUCCESS ? EXIT_OK : EXIT_FAILED;
}

/* GitHub: workflow_run chains at most three levels of workflows */
#define RUN_CHAIN_LEVELS 3

static int run_event(struct run_opts *o, struct kiln_ctx *kctx, const struct trig_run *from,
		     int level);

/*
 * on: workflow_run — after the workflows of this level completed, run the
 * ones that follow them, as GitHub would (one workflow_run event per
 * completed workflow). Returns the worst exit code of the followers.
 */
/*
 * Whether any workflow file of the run's files (`root`) can be triggered
 * by workflow_run at all (its text names the event): 1, 0 when none can,
 * -1 when there is no workflow file at all (a -W file the commit does not
 * have). When none can, chain() has nothing to start and skips a whole
 * second run set-up per workflow (run directory, event.json, the store,
 * every workflow file parsed).
 */
static int may_follow(const char *root)
{
	struct strvec files = STRVEC_INIT;
	struct buf err = BUF_INIT, text = BUF_INIT;
	int found = 0;
	if (find_workflows(root, root, &files, &err) < 0)
		found = -1;
	for (size_t i = 0; found == 0 && i < files.nr; i++) {
		buf_reset(&text);
		if (fs_read_input(files.v[i], FS_INPUT_MAX, &text, &err) < 0 ||
		    strstr(text.buf, "workflow_run"))
			found = 1;
	}
	buf_release(&text);
	buf_release(&err);
	strvec_clear(&files);
	return found;
}

/* follow: what may_follow found before the run (-2: not asked) */
static int chain(const struct run_opts *o, struct kiln_ctx *kctx, const struct runctx *rc,
		 const struct wfset *w, const enum result *results, int level, int follow)
{
	int ret = EXIT_OK;
	/* -v explains why each workflow was not started: keep the full path */
	int f = level >= RUN_CHAIN_LEVELS ? 0 : follow != -2 ? follow :
		may_follow(rc->snapshot_dir ? rc->snapshot_dir : rc->repo_dir);
	if (f < 0 || (!o->verbose && f == 0))
		return ret;
	for (size_t i = 0; i < w->nr && level < RUN_CHAIN_LEVELS; i++) {
		struct trig_run run = {
			.name = runctx_workflow_name(rc, w->v[i]),
			.path = wf_path(rc, w->v[i]),
			.conclusion = result_name(results[i]),
			.head_branch = !strcmp(rc->ref_type, "branch") ? rc->ref_name : NULL,
			.head_sha = rc->sha,
			.event = rc->event_name,
			.id = rc->run_id,
			.run_number = rc->run_number,
		};
		struct run_opts next = *o;
		next.event = "workflow_run";
		next.workflow_file = NULL;
		next.reuse_run = 0; /* the workflows it triggers run whole */
		next.rerun_job = NULL;
		next.job = NULL;
		next.event_file = NULL;
		next.ref = next.base = next.head = next.action = NULL;
		int r = run_event(&next, kctx, &run, level + 1);
		if (r > ret)
			ret = r;
	}
	return ret;
}

static int run(struct run_opts *o, struct kiln_ctx *kctx)
{
	/* one libgit2 global init for the whole run: each init after a full
	 * shutdown reloads the TLS certificates (~5 ms of CPU) */
	workspace_lib_hold();
	int r = run_event(o, kctx, NULL, 1);
	workspace_lib_release();
	free(o->snapshot);
	o->snapshot = NULL;
	return r;
}

/*
 * The run's files, taken once per `kiln run` (the workflow_run levels
 * after the first reuse them): the work tree as the user has it, or the
 * tree of the commit they named (--head, --ref, -e). -l and -n on the work
 * tree read it in place (no job runs, nothing can change under one).
 */
static int take_snapshot(struct run_opts *o, const struct trigsel *ts, struct runctx *rc,
			 struct buf *err)
{
	if (!o->snapshot && !(ts->worktree && (o->list || o->dry))) {
		char *dir = xstrfmt("%s/.snapshot", rc->run_dir); /* job keys have no '.' */
		/* the repository trigsel_init opened: read once */
		const char *rev = ts->worktree ? NULL : ts->event.sha;
		int r = ts->repo ? workspace_snapshot_repo(ts->repo, rc->repo_dir, rev, dir, err)
				 : workspace_snapshot(rc->repo_dir, rev, dir, err);
		if (r < 0) {
			free(dir);
			return r;
		}
		o->snapshot = dir;
	}
	rc->snapshot_dir = o->snapshot;
	/* the run's finished job directories are reused, not removed (--keep
	 * keeps each job's) */
	if (o->snapshot && !rc->keep && !o->list && !o->dry)
		rc->jobdirs = jobdir_pool_new(rc->run_dir, o->snapshot);
	return 0;
}

/*
 * Repository-level secrets from the encrypted store (kiln secret set) into
 * m; -s and --secret-file, read after, override them. No store (none
 * could be created): a warning, the run goes on. A store that exists but
 * cannot be read (damaged) or whose secrets cannot be decrypted (missing or
 * wrong key) is an error: running without them would be silently wrong.
 */
static int open_secrets(struct db **db, struct secret_store **ss, struct buf *err)
{
	struct buf dir = BUF_INIT, serr = BUF_INIT;
	int r = 0;
	*db = NULL;
	*ss = NULL;
	int o = store_open_default(db, &dir, &serr);
	if (o == KILN_ENOENT) {
		fprintf(stderr, "kiln: warning: no stored secrets: %s\n", serr.buf);
	} else if (o < 0) { /* it may hold secrets this run needs */
		buf_addf(err, "cannot read the stored secrets: %s", serr.buf);
		r = KILN_EIO;
	} else if (secret_store_open(ss, *db, dir.buf, err) < 0)
		r = KILN_EIO;
	buf_release(&dir);
	buf_release(&serr);
	return r;
}

/* the repository-level secrets of the open store `ss` (NULL: none) */
static int load_stored_secrets(struct secret_store *ss, struct secret_map *m, struct buf *err)
{
	if (ss && secret_load(ss, NULL, m, err) < 0)
		return KILN_EIO;
	return 0;
}

/*
 * Every environment with stored secrets: its secrets object (repository-
 * level, the environment's over them, then this run's -s / --secret-file
 * values over both), keyed by environment name, into *out (NULL: none).
 */
static int load_env_secrets(struct secret_store *ss, const struct secret_map *cli, struct ev **out,
			    struct buf *err)
{
	struct secret_info *v = NULL;
	size_t n = 0;
	int r = 0;
	*out = NULL;
	if (!ss)
		goto done; /* no store: already warned by open_secrets */
	if (secret_list(ss, NULL, &v, &n, err) < 0) {
		r = KILN_EIO;
		goto done;
	}
	for (size_t i = 0; i < n && !r; i++) {
		if (!*v[i].env || (*out && ev_object_get(*out, v[i].env)))
			continue;
		struct secret_map m = SECRET_MAP_INIT;
		if (secret_load(ss, v[i].env, &m, err) < 0)
			r = KILN_EIO;
		for (size_t k = 0; k < cli->nr; k++)
			secret_map_set(&m, cli->v[k].name, cli->v[k].value, cli->v[k].len);
		struct ev *o = ev_object();
		for (size_t k = 0; k < m.nr; k++)
			ev_object_set(o, m.v[k].name, ev_string(m.v[k].value, m.v[k].len));
		if (!*out)
			*out = ev_object();
		ev_object_set(*out, v[i].env, o);
		secret_map_release(&m);
	}
done:
	free(v);
	return r;
}

/*
 * The run's resolver of remote actions: base URL from --github-instance,
 * else $KILN_GITHUB_URL, else github.com; the token is the GITHUB_TOKEN
 * secret (-s) or environment variable, which also becomes
 * secrets.GITHUB_TOKEN (as on GitHub) so that every log masks it.
 */
static int open_actions(const struct run_opts *o, struct runctx *rc, struct actref_cache **c,
			struct buf *err)
{
	const char *base = o->github_instance ? o->github_instance : getenv("KILN_GITHUB_URL");
	const struct ev *t = rc->secrets ? ev_object_get(rc->secrets, "GITHUB_TOKEN") : NULL;
	const char *token = t && ev_kind(t) == EV_STRING ? ev_get_str(t, NULL) : NULL;
	if (!token && (token = getenv("GITHUB_TOKEN")) && *token && rc->secrets)
		ev_object_set(rc->secrets, "GITHUB_TOKEN", ev_cstr(token));
	struct actref_opts ao = { base, token, NULL, o->offline, o->pull };
	return actref_cache_new(&ao, c, err) < 0 ? EXIT_INTERNAL : 0;
}

/* --secret-file and -s NAME[=VALUE] into cli; 0 or KILN_EINVAL with why */
static int cli_secrets(const struct run_opts *o, struct secret_map *cli, struct buf *err)
{
	if (o->secret_file && secret_load_dotenv(o->secret_file, cli, err) < 0)
		return KILN_EINVAL;
	for (size_t i = 0; i < o->secrets.nr; i++) {
		const char *a = o->secrets.v[i];
		if (!strchr(a, '=')) {
			/* -s NAME: the value comes from the environment */
			const char *v = getenv(a);
			if (secret_check_name(a, err) < 0)
				return KILN_EINVAL;
			if (!v) {
				buf_addf(err, "secret '%s' is not set in the environment", a);
				return KILN_EINVAL;
			}
			secret_map_set(cli, a, v, strlen(v));
		} else if (secret_parse_assign(a, cli, err) < 0) {
			return KILN_EINVAL;
		}
	}
	return 0;
}

/*
 * The plan of the triggered workflows and of the workflows they call, with
 * the -j selection, support checks and (for a real run) actions prepared.
 * Returns 0 or EXIT_USAGE with the errors printed.
 */
static int build_plan(const struct run_opts *o, struct runctx *rc, struct wfset *w,
		      struct actref_cache *cache, struct actprep_run *ar, struct plan *p,
		      struct diags *d)
{
	struct buf err = BUF_INIT;
	for (size_t i = 0; i < w->nr; i++)
		plan_add_workflow(p, w->v[i], i, d);
	plan_finish(p, d);
	if (!d->errors && o->job && plan_select(p, o->job, &err) < 0) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		buf_release(&err);
		return EXIT_USAGE;
	}
	/* called workflows: with -j only those the selected jobs call (a call
	 * that cannot be fetched does not stop the jobs that do not make it) */
	struct reuse_env renv = { rc->repo_dir, cache, !o->list && !o->dry, rc->repository, rc->sha,
				  o->job ? p : NULL, rc->snapshot_dir };
	for (size_t i = 0; i < w->nr; i++)
		reuse_load(&w->calls, w->v[i], i, &renv, d);
	const char *files = rc->snapshot_dir ? rc->snapshot_dir : rc->repo_dir;
	plan_check_support(p, files);
	/* the jobs of called workflows too (a remote callee's local actions
	 * live in its repository: not judged here) */
	for (size_t i = 0; i < w->calls.nr; i++)
		plan_check_support(&w->calls.v[i].plan, w->calls.v[i].src ? NULL : files);
	if (d->errors || (!o->list && !o->dry && actprep_plan(ar, p, &w->calls, d) < 0)) {
		diags_sort(d);
		diags_print(d, stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * May the run's only job take the snapshot as its workspace (runctx.h)?
 * Only when nothing reads the snapshot once that job starts: the plan's one
 * job, without a matrix or a workflow call, not handed to agents, no
 * --keep, and no workflow_run level after this one (chain() reads the
 * snapshot's workflows; *follow is what may_follow found, -2 when not
 * asked).
 */
static int snapshot_alone(const struct run_opts *o, const struct runctx *rc,
			  const struct plan *p, const struct wfset *w, int level, int *follow)
{
	*follow = -2;
	if (!rc->snapshot_dir || level != 1 || rc->keep || o->server_repo || o->agents ||
	    o->reuse_run || p->nr != 1 || !p->jobs[0].selected || p->jobs[0].cannot ||
	    p->jobs[0].job->uses.s || p->jobs[0].job->strategy.matrix || w->calls.nr)
		return 0;
	if (o->job) /* no chain() */
		return 1;
	if (o->verbose) /* chain() explains every workflow it does not start */
		return 0;
	*follow = may_follow(rc->snapshot_dir);
	return *follow != 1;
}

/* run the plan (closing rec), then the workflow_run workflows it triggers */
static int execute_and_chain(const struct run_opts *o, struct kiln_ctx *kctx, const struct plan *p,
			     struct runctx *rc, const struct wfset *w, struct recorder *rec, int level)
{
	enum result *results = xcalloc(w->nr, sizeof(*results));
	int interrupted = 0, follow;
	rc->snapshot_take = snapshot_alone(o, rc, p, w, level, &follow);
	int ret = execute(o, p, rc, w, rec, kctx->color, results, &interrupted);
	recorder_close(rec);
	if (ret != EXIT_INTERNAL && !interrupted && !o->job) {
		int c = chain(o, kctx, rc, w, results, level, follow);
		if (c > ret)
			ret = c;
	}
	free(results);
	return ret;
}

/* one level of a run: the event `o` describes, or a workflow_run after `from` */
static int run_event(struct run_opts *o, struct kiln_ctx *kctx, const struct trig_run *from,
		     int level)
{
	struct runctx rc;
	struct trigsel ts;
	struct buf err = BUF_INIT;
	struct trigsel_opts to = TRIGSEL_OPTS_INIT;
	to.event = o->event;
	to.ref = o->ref;
	to.base = o->base;
	to.head = o->head;
	to.action = o->action;
	to.inputs = &o->inputs;
	to.run = from;
	struct ev *payload = NULL;
	if (o->event_file && runctx_read_event(o->event_file, &payload, &err) < 0) {
		fprintf(stderr, "%s%s\n", strstr(err.buf, ": error: ") ? "" : "kiln: error: ",
			err.buf);
		buf_release(&err);
		return EXIT_USAGE;
	}
	to.payload = payload;
	int r = trigsel_init(&ts, ".", &to, &err);
	if (r < 0) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		buf_release(&err);
		trigsel_release(&ts);
		ev_unref(payload);
		return r == KILN_EIO ? EXIT_INTERNAL : EXIT_USAGE;
	}
	struct secret_map secrets = SECRET_MAP_INIT, cli = SECRET_MAP_INIT;
	/* one store connection for both secret loads */
	struct db *sdb = NULL;
	struct secret_store *ss = NULL;
	struct ev *server_env_secrets = NULL;
	if (!o->list && !o->dry && !o->no_secrets && o->server_repo) {
		/* kiln serve's run: the repository's and its environments' secrets */
		r = jobgate_secrets(o->server_repo, &secrets, NULL, &server_env_secrets, &err) < 0
			    ? KILN_EIO
			    : 0;
	} else if (!o->list && !o->dry && !o->no_secrets) {
		r = open_secrets(&sdb, &ss, &err);
		if (!r)
			r = load_stored_secrets(ss, &secrets, &err);
	}
	if (!r)
		r = cli_secrets(o, &cli, &err);
	struct runctx_opts ro = {
		.ts = &ts, .event = payload, .keep = o->keep,
		.vars = &o->vars, .secrets = &secrets, .attempt = o->attempt,
	};
	/* this run's values override the stored ones */
	for (size_t i = 0; i < cli.nr; i++)
		secret_map_set(&secrets, cli.v[i].name, cli.v[i].value, cli.v[i].len);
	memset(&rc, 0, sizeof(rc));
	if (r == 0)
		r = runctx_init(&rc, &ro, &err);
	if (r == 0)
		r = take_snapshot(o, &ts, &rc, &err);
	ev_unref(payload);
	if (r == 0 && !o->list && !o->dry && o->server_repo) {
		/* this run's -s values over the environments' */
		for (size_t i = 0; server_env_secrets && i < ev_len(server_env_secrets); i++)
			for (size_t k = 0; k < cli.nr; k++)
				ev_object_set((struct ev *)ev_object_val_at(server_env_secrets, i),
					      cli.v[k].name, ev_string(cli.v[k].value, cli.v[k].len));
		rc.env_secrets = server_env_secrets;
		server_env_secrets = NULL;
		/* and its variables: the repository's, each environment's over them */
		struct ev *rv = NULL, *envv = NULL;
		if (jobgate_vars(o->server_repo, rc.vars, &rv, &envv, &err) < 0) {
			r = KILN_EIO;
		} else {
			ev_unref(rc.vars);
			rc.vars = rv;
			rc.env_vars = envv;
		}
	} else if (r == 0 && !o->list && !o->dry) {
		r = load_env_secrets(ss, &cli, &rc.env_secrets, &err);
	}
	ev_unref(server_env_secrets);
	secret_store_close(ss);
	secret_map_release(&secrets);
	secret_map_release(&cli);
	if (r < 0) {
		fprintf(stderr, "%s%s\n", strstr(err.buf, ": error: ") ? "" : "kiln: error: ", err.buf);
		db_close(sdb);
		buf_release(&err);
		runctx_release(&rc);
		trigsel_release(&ts);
		return r == KILN_EINVAL ? EXIT_USAGE : EXIT_INTERNAL;
	}
	struct wfset w = { 0 };
	struct recorder *rec = NULL;
	struct plan p = PLAN_INIT;
	struct diags d = DIAGS_INIT;
	struct actref_cache *cache = NULL;
	struct action_resolver resolver;
	int ret = load_workflows(o, &ts, &rc, &w);
	/* -l / -n: a workflow file with errors (reported above) does not hide
	 * the others, which are listed; the exit status still says 2 */
	int bad_files = ret == EXIT_USAGE && (o->list || o->dry) && w.nr;
	if (bad_files) {
		fprintf(stderr, "kiln: the other workflows are listed\n");
		ret = 0;
	}
	if (ret)
		goto out;
	if (!w.nr) {
		if (!from)
			fprintf(stderr, "kiln: no workflow is triggered by '%s'%s\n", rc.event_name,
				o->verbose ? "" : " (-v says why)");
		goto out;
	}
	if (from)
		fprintf(stderr, "kiln: workflow_run: '%s' %s on '%s' starts %zu workflow%s\n",
			from->name, from->conclusion, from->head_branch ? from->head_branch : "",
			w.nr, w.nr == 1 ? "" : "s");
	if (!o->list && !o->dry && !o->no_history) {
		struct buf rerr = BUF_INIT;
		rec = recorder_open(&sdb, rc.repo_dir, &rerr); /* the secrets' connection */
		recorder_origin(rec, o->server_repo, o->server_event, o->attempt);
		if (!rec)
			fprintf(stderr, "kiln: warning: run history not recorded: %s\n", rerr.buf);
		buf_release(&rerr);
		if (o->reuse_run && recorder_prior(rec, o->reuse_run, o->rerun_job, &err) < 0) {
			fprintf(stderr, "kiln: error: --reuse-run %d: %s\n", o->reuse_run, err.buf);
			ret = EXIT_INTERNAL;
			goto out;
		}
	}
	ret = open_actions(o, &rc, &cache, &err);
	if (ret) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		goto out;
	}
	struct actprep_run ar = { cache, rc.repo_dir, rc.repository, rc.sha, rc.snapshot_dir };
	actprep_resolver(&ar, &resolver);
	rc.actions = &resolver;
	ret = workflow_contexts(&rc, &w, rec);
	if (ret)
		goto out;
	ret = build_plan(o, &rc, &w, cache, &ar, &p, &d);
	if (ret)
		goto out;
	if (o->list || o->dry) {
		if (o->list)
			list_jobs(&p, &rc, &w);
		else
			dry_run(&p, &rc, &w);
		if (bad_files)
			ret = EXIT_USAGE;
	} else {
		ret = execute_and_chain(o, kctx, &p, &rc, &w, rec, level);
		rec = NULL;
	}
out:
	recorder_close(rec);
	db_close(sdb);
	plan_release(&p);
	diags_release(&d);
	wfset_release(&w);
	actref_cache_free(cache);
	runctx_release(&rc);
	trigsel_release(&ts);
	buf_release(&err);
	return ret;
}

/*
 * --var and --input: NAME=VALUE with a name (an identifier for --var, as
 * GitHub's configuration variables); -1 after saying which is wrong.
 */
static int check_pairs(const char *flag, const struct strvec *v, int identifier)
{
	for (size_t i = 0; i < v->nr; i++) {
		const char *a = v->v[i], *eq = strchr(a, '=');
		size_t n = eq ? (size_t)(eq - a) : 0;
		int ok = n > 0;
		for (size_t k = 0; ok && identifier && k < n; k++) {
			unsigned char c = (unsigned char)a[k];
			ok = c == '_' || (c < 128 && (isalpha(c) || (k && isdigit(c))));
		}
		if (!eq || !n) {
			fprintf(stderr, "kiln: error: %s '%s' is not NAME=VALUE\n", flag, a);
			return -1;
		}
		if (!ok) {
			fprintf(stderr, "kiln: error: %s '%s': invalid name '%.*s' (letters, digits "
				"and '_', not starting with a digit)\n", flag, a, (int)n, a);
			return -1;
		}
	}
	return 0;
}

/* --reuse-run RUN: the run's workflow file (kept for the process) */
static int reuse_workflow(struct run_opts *o)
{
	struct db *db = NULL;
	struct buf err = BUF_INIT;
	struct run_row row;
	char spec[32];
	snprintf(spec, sizeof(spec), "%d", o->reuse_run);
	int r = store_open_default(&db, NULL, &err);
	if (!r)
		r = runs_find(db, spec, &row, &err);
	if (r == KILN_ENOENT)
		buf_addf(&err, "no run %d", o->reuse_run);
	if (r)
		fprintf(stderr, "kiln: error: --reuse-run: %s\n", err.buf);
	else
		o->workflow_file = o->reuse_file = xstrdup(row.workflow);
	db_close(db);
	buf_release(&err);
	return r ? -1 : 0;
}

int cmd_run(int argc, char **argv, struct kiln_ctx *ctx)
{
	struct run_opts o = { .vars = STRVEC_INIT, .secrets = STRVEC_INIT, .inputs = STRVEC_INIT };
	const struct opt opts[] = {
		{ OPT_STRING, 'W', "workflow", &o.workflow_file, "FILE", "run only this workflow file" },
		{ OPT_STRING, 'j', "job", &o.job, "JOB", "run this job and the jobs it needs" },
		{ OPT_STRING, 0, "server-repo", &o.server_repo, "NAME",
		  "a run of kiln serve for repository NAME: its secrets; its environments gate deploys" },
		{ OPT_STRING, 0, "agents", &o.agents, "MODE",
		  "with --server-repo: off, self-hosted or all jobs go to kiln agent workers" },
		{ OPT_INT, 0, "reuse-run", &o.reuse_run, "RUN",
		  "re-run only the jobs of run RUN that did not succeed (and their dependents); "
		  "its workflow unless -W" },
		{ OPT_STRING, 0, "rerun-job", &o.rerun_job, "JOB",
		  "with --reuse-run: re-run only this job (its display name) and the jobs needing it; "
		  "the others keep their results" },
		{ OPT_INT, 0, "server-event", &o.server_event, "ID",
		  "a run of kiln serve: the event it runs for (recorded with the run)" },
		{ OPT_BOOL, 'l', "list", &o.list, NULL, "list the jobs with their stages and needs" },
		{ OPT_BOOL, 'n', "dry-run", &o.dry, NULL, "show what would run, run nothing" },
		{ OPT_INT, 'p', "parallel", &o.parallel, "N", "jobs at once (default: number of cores)" },
		{ OPT_STRING, 'e', "event-file", &o.event_file, "FILE", "event payload: github.event; its ref, shas, branches, inputs drive the event" },
		{ OPT_STRING, 0, "ref", &o.ref, "REF", "push: the ref pushed (default: HEAD's branch)" },
		{ OPT_STRING, 0, "base", &o.base, "REV", "push: the commit before; pull_request: the base branch" },
		{ OPT_STRING, 0, "head", &o.head, "REV", "the pushed commit / the PR's head (runs its tree, not the work tree)" },
		{ OPT_STRING, 0, "action", &o.action, "TYPE", "the event's activity type (opened, ...)" },
		{ OPT_LIST, 0, "input", &o.inputs, "NAME=VALUE", "workflow_dispatch input" },
		{ OPT_LIST, 0, "var", &o.vars, "NAME=VALUE", "a `vars` context value" },
		{ OPT_LIST, 's', "secret", &o.secrets, "NAME[=VALUE]",
		  "a secret (without a value: from the environment)" },
		{ OPT_STRING, 0, "secret-file", &o.secret_file, "FILE", "secrets in dotenv format" },
		{ OPT_BOOL, 0, "json", &o.json, NULL, "one JSON object per event and line" },
		{ OPT_BOOL, 0, "keep", &o.keep, NULL, "keep the run directory" },
		{ OPT_BOOL, 0, "no-history", &o.no_history, NULL, "do not record the run in the store" },
		{ OPT_INT, 0, "run-attempt", &o.attempt, "N",
		  "github.run_attempt (kiln serve: a re-run's attempt)" },
		{ OPT_BOOL, 0, "no-secrets", &o.no_secrets, NULL,
		  "no stored secrets (kiln serve: pull requests from forks)" },
		{ OPT_STRING, 0, "github-instance", &o.github_instance, "URL",
		  "where remote actions come from (default $KILN_GITHUB_URL, https://github.com)" },
		{ OPT_BOOL, 0, "offline", &o.offline, NULL, "remote actions from the cache only" },
		{ OPT_BOOL, 0, "isolate", &o.isolate, NULL,
		  "host steps in a bubblewrap sandbox: own /tmp, the job's directory writable, "
		  "the rest read-only" },
		{ OPT_BOOL, 0, "isolate-no-network", &o.isolate_no_net, NULL,
		  "--isolate, and the steps have no network" },
		{ OPT_BOOL, 0, "pull", &o.pull, NULL, "ask the server again for action refs" },
		{ OPT_COUNT, 'v', "verbose", &o.verbose, NULL, "say why workflows (do not) run; show ::debug::" },
		OPT_END_MARK,
	};
	int npos = opt_parse(argc, argv, opts, run_usage);
	int ret;
	if (npos == -2) {
		printf("\nEVENT is the event to simulate (default: push).\n"
		       "Jobs see the work tree as it is when the run starts (uncommitted and\n"
		       "untracked files, not ignored ones); --head REV (e.g. HEAD), --ref or an\n"
		       "-e payload naming a commit run that commit's tree instead.\n"
		       "exit status: 0 every job succeeded, 1 a job failed (including a job kiln\n"
		       "cannot run here, e.g. 'container:', that would start) or the run was\n"
		       "cancelled, 2 bad input (workflow, flags, event file, an action or reusable\n"
		       "workflow that cannot be resolved), 3 internal error\n");
		ret = EXIT_OK;
		goto out;
	}
	if (npos < 0) {
		ret = EXIT_USAGE;
		goto out;
	}
	enum agents_mode agents_mode;
	if (o.agents && agents_mode_parse(o.agents, &agents_mode) < 0) {
		fprintf(stderr, "kiln: error: --agents: '%s' is not off, self-hosted or all\n",
			o.agents);
		ret = EXIT_USAGE;
		goto out;
	}
	if (npos > 1) {
		fprintf(stderr, "kiln: error: too many arguments: '%s'\n", argv[2]);
		opt_usage(stderr, opts, run_usage);
		ret = EXIT_USAGE;
		goto out;
	}
	if ((o.isolate || o.isolate_no_net) && !isolate_available()) {
		fprintf(stderr, "kiln: error: --isolate needs bubblewrap ('bwrap'), which is not "
				"installed (not found on PATH)\n");
		ret = EXIT_USAGE;
		goto out;
	}
	if (o.list && o.dry) {
		fprintf(stderr, "kiln: error: -l and -n cannot be used together\n");
		ret = EXIT_USAGE;
		goto out;
	}
	if (npos == 1)
		o.event = argv[1];
	if (check_pairs("--var", &o.vars, 1) < 0 || check_pairs("--input", &o.inputs, 0) < 0) {
		ret = EXIT_USAGE;
		goto out;
	}
	if (o.rerun_job && !o.reuse_run) {
		fprintf(stderr, "kiln: error: --rerun-job needs --reuse-run RUN\n");
		ret = EXIT_USAGE;
		goto out;
	}
	if (o.reuse_run && !o.workflow_file && reuse_workflow(&o) < 0) {
		ret = EXIT_USAGE;
		goto out;
	}
	if (o.workflow_file && access(o.workflow_file, R_OK) < 0) {
		fprintf(stderr, "kiln: error: cannot read workflow '%s': %s\n", o.workflow_file,
			strerror(errno));
		ret = EXIT_USAGE;
		goto out;
	}
	ret = run(&o, ctx);
out:
	strvec_clear(&o.vars);
	strvec_clear(&o.secrets);
	strvec_clear(&o.inputs);
	free(o.reuse_file);
	return ret;
}
