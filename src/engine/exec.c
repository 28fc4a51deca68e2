/*
 * exec: runs one job (engine/job.h): sets up the job's directory,
 * workspace and environment, walks the steps frame by frame (see exec.h),
 * decides each step's `if:`, and finishes with the job's result, outputs
 * and summary once every process of the job is gone.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/exec.h"
#include "engine/jobdir.h"
#include "engine/plan.h"
#include "engine/podman.h"
#include "engine/services.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

static void advance(struct job_exec *je);

const char *result_name(enum result r)
{
	switch (r) {
	case RESULT_SUCCESS:
		return "success";
	case RESULT_FAILURE:
		return "failure";
	case RESULT_CANCELLED:
		return "cancelled";
	case RESULT_SKIPPED:
		return "skipped";
	}
	return "unknown";
}

/* ---- frames ---- */

struct frame *exec__frame_new(struct frame *parent, const struct wf_step *steps, size_t n)
{
	struct frame *f = xcalloc(1, sizeof(*f));
	f->parent = parent;
	f->steps = steps;
	f->nsteps = n;
	f->steps_ctx = ev_object();
	f->depth = parent ? parent->depth + 1 : 0;
	return f;
}

static void free_timer(uv_handle_t *h)
{
	free(h);
}

void exec__frame_free(struct frame *f)
{
	if (f->timer) {
		uv_timer_stop(f->timer);
		uv_close((uv_handle_t *)f->timer, free_timer);
	}
	ev_unref(f->steps_ctx);
	ev_unref(f->inputs);
	ev_unref(f->env);
	composite_free(f->action);
	action_source_release(&f->src);
	free(f);
}

/* env a step of `fr` starts from: the job's env, then each composite
 * caller's step env, outermost first */
struct ev *exec__frame_env(struct job_exec *je, struct frame *fr)
{
	struct frame *chain[EXEC_MAX_DEPTH + 2];
	size_t n = 0;
	for (struct frame *f = fr; f && n < ARRAY_SIZE(chain); f = f->parent)
		chain[n++] = f;
	struct ev *env = ev_ref(je->global_env);
	while (n-- > 0) {
		const struct ev *o = chain[n]->env;
		for (size_t i = 0; o && i < ev_len(o); i++)
			env = exec__obj_with(env, ev_object_key_at(o, i), ev_ref(ev_object_val_at(o, i)));
	}
	return env;
}

/* the env: of the composite steps that called fr, outermost first */
struct ev *exec__env_overlay(struct frame *fr, const struct ev *step_env)
{
	struct frame *chain[EXEC_MAX_DEPTH + 2];
	size_t n = 0;
	for (struct frame *f = fr; f && n < ARRAY_SIZE(chain); f = f->parent)
		chain[n++] = f;
	struct ev *env = ev_object();
	while (n-- > 0) {
		const struct ev *o = chain[n]->env;
		for (size_t i = 0; o && i < ev_len(o); i++)
			env = exec__obj_with(env, ev_object_key_at(o, i), ev_ref(ev_object_val_at(o, i)));
	}
	for (size_t i = 0; step_env && i < ev_len(step_env); i++)
		env = exec__obj_with(env, ev_object_key_at(step_env, i),
				     ev_ref(ev_object_val_at(step_env, i)));
	return env;
}

/* ---- steps ---- */

void exec__step_free(struct step_run *sr)
{
	if (sr->cmd) {
		exec_cmd_release(sr->cmd);
		free(sr->cmd);
	}
	if (sr->script) {
		/* emptied, not removed: the next step writes the same file
		 * (its text may hold secrets: nothing is left in it). Opened
		 * and closed, not truncate(2)'d by name: ext4 marks a file
		 * truncated to zero for a flush at its next close, which
		 * would then be the next step's write (see write_file) */
		int fd = open(sr->script, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		else if (errno != ENOENT)
			unlink(sr->script);
		free(sr->script);
	}
	free(sr->bcall);
	ev_unref(sr->with);
	if (sr->benv) {
		strvec_clear(sr->benv);
		free(sr->benv);
	}
	ev_unref(sr->env);
	ev_unref(sr->outputs);
	free(sr->id);
	free(sr->name);
	free(sr);
}

static void sanitize_id(const char *uses, struct buf *out)
{
	buf_addstr(out, "__");
	for (const char *p = uses; *p && *p != '@'; p++) {
		if (isalnum((unsigned char)*p) || *p == '_')
			buf_addch(out, *p);
		else if (out->len > 2 && out->buf[out->len - 1] != '_')
			buf_addch(out, '_');
	}
	if (!strncmp(uses, "./", 2) || !strcmp(uses, "."))
		buf_setlen(out, 2), buf_addstr(out, "self");
}

char *exec__step_id(struct frame *fr, const struct wf_step *st)
{
	if (st->id.s || st->auto_id)
		return xstrdup(wf_step_id(st)); /* the loader names steps as GitHub does */
	/* composite action steps: the loader does not name them */
	struct buf b = BUF_INIT;
	if (st->run.s)
		buf_addstr(&b, "__run");
	else
		sanitize_id(st->uses.s, &b);
	/* GitHub: __run, __run_2, ... */
	if (++fr->nrun > 1)
		buf_addf(&b, "_%u", fr->nrun);
	return buf_detach(&b, NULL);
}

static char *default_name(const struct wf_step *st)
{
	struct buf b = BUF_INIT;
	buf_addstr(&b, "Run ");
	if (st->run.s) {
		const char *s = st->run.s;
		while (*s && isspace((unsigned char)*s))
			s++;
		const char *nl = strchr(s, '\n');
		buf_add(&b, s, nl ? (size_t)(nl - s) : strlen(s));
		buf_rtrim(&b);
	} else {
		buf_addstr(&b, st->uses.s);
	}
	return buf_detach(&b, NULL);
}

struct step_run *exec__step_new(struct job_exec *je, struct frame *fr, const struct wf_step *st)
{
	struct step_run *sr = xcalloc(1, sizeof(*sr));
	sr->je = je;
	sr->fr = fr;
	sr->st = st;
	sr->start_ns = now_ns();
	sr->outputs = ev_object();
	return sr;
}

char *exec__step_display_name(struct job_exec *je, struct frame *fr, const struct wf_step *st,
			      const struct ev *env)
{
	char *name = NULL;
	if (st->name.s) {
		struct buf err = BUF_INIT;
		name = exec__eval_str(je, fr, env, st->name.s, &err);
		buf_release(&err);
	}
	return name ? name : default_name(st);
}

static void step_fail(struct step_run *sr, const char *msg)
{
	exec__log(sr->je, LOG_ERROR, sr->name, msg, strlen(msg));
	exec__step_complete(sr, RESULT_FAILURE);
}

static int node_bool(struct job_exec *je, struct frame *fr, const struct ev *env,
		     const struct ynode *n, int *out, struct buf *err)
{
	*out = 0;
	if (!n || n->kind != YNODE_SCALAR || ynode_is_null(n))
		return 0;
	struct ev *v = exec__eval_value(je, fr, env, n->str, err);
	if (!v)
		return -1;
	if (ev_kind(v) == EV_STRING)
		*out = !strcasecmp(ev_get_str(v, NULL), "true");
	else
		*out = ev_truthy(v);
	ev_unref(v);
	return 0;
}

static int node_minutes(struct job_exec *je, struct frame *fr, const struct ev *env,
			const struct ynode *n, uint64_t *ms, struct buf *err)
{
	*ms = 0;
	if (!n || n->kind != YNODE_SCALAR || ynode_is_null(n))
		return 0;
	struct ev *v = exec__eval_value(je, fr, env, n->str, err);
	if (!v)
		return -1;
	double d = -1;
	if (ev_kind(v) == EV_NUMBER) {
		d = ev_get_number(v);
	} else if (ev_kind(v) == EV_STRING) {
		char *end;
		d = strtod(ev_get_str(v, NULL), &end);
		if (*end)
			d = -1;
	}
	ev_unref(v);
	if (!(d > 0) || d > 1e7) {
		buf_addf(err, "timeout-minutes: expected a positive number, got '%s'", n->str);
		return -1;
	}
	*ms = (uint64_t)(d * 60000.0);
	return 0;
}

/* ---- built-in actions ---- */

static void builtin_log(struct builtin_call *c, enum log_kind kind, const char *text)
{
	struct step_run *sr = c->exec_data;
	exec__log(sr->je, kind, sr->name, text, strlen(text));
}

static void builtin_complete(struct builtin_call *c, enum result outcome, struct ev *outputs)
{
	struct step_run *sr = c->exec_data;
	if (outputs) {
		for (size_t i = 0; i < ev_len(outputs); i++)
			sr->outputs = exec__obj_with(sr->outputs, ev_object_key_at(outputs, i),
						     ev_ref(ev_object_val_at(outputs, i)));
		ev_unref(outputs);
	}
	if (sr->cancelled)
		outcome = RESULT_CANCELLED;
	exec__step_complete(sr, outcome);
}

static void builtin_add_path(struct builtin_call *c, const char *dir)
{
	struct step_run *sr = c->exec_data;
	struct job_exec *je = sr->je;
	long i = strvec_find(&je->path_add, dir);
	if (i >= 0) { /* moved to the front: drop the old entry */
		free(je->path_add.v[i]);
		memmove(&je->path_add.v[i], &je->path_add.v[i + 1],
			(je->path_add.nr - (size_t)i) * sizeof(char *));
		je->path_add.nr--;
	}
	strvec_push(&je->path_add, dir);
}

static void builtin_set_env(struct builtin_call *c, const char *name, const char *value)
{
	struct step_run *sr = c->exec_data;
	sr->je->global_env = exec__obj_with(sr->je->global_env, name, ev_cstr(value));
}

static void builtin_add_mask(struct builtin_call *c, const char *value)
{
	struct step_run *sr = c->exec_data;
	if (*value)
		mask_add(sr->je->mask, value, strlen(value));
}

static void builtin_at_job_end(struct builtin_call *c, builtin_post_fn fn, void *data)
{
	exec__post_builtin(c->exec_data, fn, data);
}

static void start_builtin(struct step_run *sr, const struct builtin_action *a)
{
	struct job_exec *je = sr->je;
	struct builtin_call *c = xcalloc(1, sizeof(*c));
	struct buf err = BUF_INIT;
	c->action = a;
	c->loop = je->loop;
	c->uses = sr->st->uses.s;
	c->with = sr->with;
	c->env = sr->benv;
	c->workspace = je->workspace;
	c->temp = je->temp;
	c->repo_dir = je->spec.repo_dir;
	c->run_dir = je->spec.run_dir ? je->spec.run_dir : ".";
	c->job_key = je->spec.job_key ? je->spec.job_key : "job";
	c->contexts = je->spec.contexts;
	c->workspace_pristine = je->steps_run == 1;
	c->add_path = builtin_add_path;
	c->set_env = builtin_set_env;
	c->at_job_end = builtin_at_job_end;
	c->add_mask = builtin_add_mask;
	c->log = builtin_log;
	c->complete = builtin_complete;
	c->exec_data = sr;
	sr->bcall = c;
	je->cur = sr;
	/* complete() may run inside start(): sr is gone after it */
	if (a->start(c, &err) < 0)
		step_fail(sr, err.buf);
	buf_release(&err);
}

/* ---- uses: ---- */

/* with: values are templates (typed, for keys and inserts), converted to strings */
struct with_walk {
	struct step_run *sr;
	struct ev *with;
};

static struct ev *with_eval(void *arg, const struct ynode *n, struct buf *err)
{
	const struct with_walk *ww = arg;
	if (n->kind != YNODE_SCALAR || ynode_is_null(n))
		return ev_cstr("");
	return exec__eval_value(ww->sr->je, ww->sr->fr, ww->sr->env, n->str, err);
}

static int with_pair(void *arg, const char *key, const struct ynode *vn, const struct ev *value,
		     struct buf *err)
{
	struct with_walk *ww = arg;
	struct ev *v = vn ? with_eval(arg, vn, err) : ev_ref(value);
	if (!v)
		return -1;
	struct buf b = BUF_INIT;
	ev_to_string(v, &b);
	ev_unref(v);
	ww->with = exec__obj_with(ww->with, key, ev_string(b.buf, b.len));
	buf_release(&b);
	return 0;
}

struct ev *exec__eval_with(struct step_run *sr, struct buf *err)
{
	struct with_walk ww = { sr, ev_object() };
	const struct ynode *w = sr->st->with;
	if (!w || w->kind != YNODE_MAP)
		return ww.with;
	/* keys may be expressions and `${{ insert }}` (plan_map_walk) */
	const struct ynode *at = NULL;
	if (plan_map_walk(w, with_eval, with_pair, &ww, err, &at) < 0) {
		exec__err_at(sr->je, sr->fr, at, err);
		ev_unref(ww.with);
		return NULL;
	}
	return ww.with;
}

struct ev *exec__action_inputs(struct step_run *sr, const struct composite *a,
			       const struct ev *with)
{
	struct job_exec *je = sr->je;
	struct ev *inputs = ev_object();
	struct buf unexpected = BUF_INIT, valid = BUF_INIT;
	const struct ynode *in = a->inputs && a->inputs->kind == YNODE_MAP ? a->inputs : NULL;
	for (size_t i = 0; in && i < ynode_map_size(in); i++) {
		const char *name = ynode_map_key(in, i)->str;
		const struct ynode *spec = ynode_map_val(in, i);
		buf_addf(&valid, "%s'%s'", valid.len ? ", " : "", name);
		const struct ev *given = ev_object_get(with, name);
		if (given) {
			inputs = exec__obj_with(inputs, name, ev_ref(given));
			continue;
		}
		const struct ynode *def = spec && spec->kind == YNODE_MAP ? ynode_get(spec, "default") : NULL;
		char *v = NULL;
		if (def && def->kind == YNODE_SCALAR && !ynode_is_null(def)) {
			struct buf err = BUF_INIT;
			v = exec__eval_str(je, sr->fr, sr->env, def->str, &err);
			if (!v)
				exec__logf(je, LOG_WARNING, sr->name, "%s:%d:%d: input '%s' default: %s",
					   a->file, def->line, def->col, name, err.buf);
			buf_release(&err);
		}
		inputs = exec__obj_with(inputs, name, ev_cstr(v ? v : ""));
		free(v);
	}
	for (size_t i = 0; i < ev_len(with); i++) {
		const char *k = ev_object_key_at(with, i);
		int known = 0;
		for (size_t j = 0; in && j < ynode_map_size(in) && !known; j++)
			known = !strcasecmp(ynode_map_key(in, j)->str, k);
		if (known)
			continue;
		/* GitHub warns, and still passes it (INPUT_<NAME>, inputs.<name>) */
		buf_addf(&unexpected, "%s'%s'", unexpected.len ? ", " : "", k);
		inputs = exec__obj_with(inputs, k, ev_ref(ev_object_val_at(with, i)));
	}
	if (unexpected.len)
		exec__logf(je, LOG_WARNING, sr->name, "Unexpected input(s) %s, valid inputs are [%s]",
			   unexpected.buf, valid.buf);
	buf_release(&unexpected);
	buf_release(&valid);
	return inputs;
}

static void stop_running(struct job_exec *je, uint64_t grace_ms);

/* timeout-minutes of a composite step: cancel what runs inside it */
static void on_frame_timeout(uv_timer_t *t)
{
	struct frame *fr = t->data;
	struct job_exec *je = fr->caller->je;
	fr->timed_out = 1;
	fr->caller->timed_out = 1;
	stop_running(je, je->grace_ms);
}

/* run the action in src->dir (src consumed, as are with and step_env) */
static void start_action(struct step_run *sr, struct action_source *src, struct ev *with,
			 struct ev *step_env)
{
	struct job_exec *je = sr->je;
	size_t dl = strlen(src->dir);
	while (dl > 1 && src->dir[dl - 1] == '/')
		src->dir[--dl] = '\0';
	if (sr->fr->depth + 1 > EXEC_MAX_DEPTH) {
		action_source_release(src);
		ev_unref(with);
		ev_unref(step_env);
		step_fail(sr, "composite actions are nested too deeply (more than 10 levels)");
		return;
	}
	struct diags d = DIAGS_INIT;
	struct composite *a;
	if (composite_load(src->dir, &a, &d) < 0) {
		for (size_t i = 0; i < d.nr; i++)
			exec__annotate(je, LOG_ERROR, sr->name, d.v[i].msg, strlen(d.v[i].msg),
				       d.v[i].file, d.v[i].line, d.v[i].col, NULL);
		diags_release(&d);
		action_source_release(src);
		ev_unref(with);
		ev_unref(step_env);
		step_fail(sr, "the action could not be loaded");
		return;
	}
	diags_release(&d);
	if (a->node || a->docker) { /* stages: pre, main, post (exec_action.c) */
		exec__start_js(sr, a, src, with, step_env);
		return;
	}
	struct frame *child = exec__frame_new(sr->fr, a->steps, a->nsteps);
	child->caller = sr;
	child->action = a;
	child->src = *src;
	child->env = step_env;
	child->inputs = exec__action_inputs(sr, a, with);
	ev_unref(with);
	if (sr->timeout_ms) {
		child->timer = xmalloc(sizeof(*child->timer));
		uv_timer_init(je->loop, child->timer);
		child->timer->data = child;
		uv_timer_start(child->timer, on_frame_timeout, sr->timeout_ms, 0);
	}
	je->top = child;
	exec__kick(je);
}

/*
 * `$/path` (runner: dollar-self) as the resolver gets it: inside an action
 * fetched from a repository, that repository at its ref
 * (`owner/repo/path@ref`); in a remote reusable workflow, its repository;
 * otherwise it stays `$/path`, the run's repository at github.sha.
 * Returns uses itself or tmp's text.
 */
const char *exec__self_uses(struct job_exec *je, struct frame *fr, const char *uses,
			    struct buf *tmp)
{
	if (uses[0] != '$' || uses[1] != '/')
		return uses;
	const struct action_source *src = je->spec.wf_src;
	for (struct frame *f = fr; f; f = f->parent)
		if (f->action) { /* the innermost action: its repository, if any */
			src = f->src.repository && *f->src.repository ? &f->src : NULL;
			break;
		}
	if (!src || !src->repository)
		return uses;
	buf_reset(tmp);
	buf_addf(tmp, "%s/%s@%s", src->repository, uses + 2, src->ref ? src->ref : "");
	return tmp->buf;
}

static void start_uses(struct step_run *sr, struct ev *step_env)
{
	struct job_exec *je = sr->je;
	const char *uses = sr->st->uses.s;
	struct buf err = BUF_INIT, self = BUF_INIT;
	struct ev *with = exec__eval_with(sr, &err);
	if (!with) {
		ev_unref(step_env);
		step_fail(sr, err.buf);
		buf_release(&err);
		return;
	}
	buf_release(&err);
	if (!strncmp(uses, "docker://", 9)) {
		exec__start_docker(sr, uses + 9, with, step_env);
		return;
	}
	if (!strncmp(uses, "./", 2) || !strcmp(uses, ".")) {
		const char *rel = uses + (uses[1] ? 2 : 1);
		struct action_source src = { 0 };
		src.dir = *rel ? xstrfmt("%s/%s", je->workspace, rel) : xstrdup(je->workspace);
		start_action(sr, &src, with, step_env);
		return;
	}
	/* built-in actions keep precedence over fetching the same name */
	const struct builtin_action *a = builtin_find(uses);
	if (!a && je->spec.actions && strncmp(uses, "docker://", 9)) {
		struct action_source src = { 0 };
		const char *ref = exec__self_uses(je, sr->fr, uses, &self);
		int r = je->spec.actions->resolve(je->spec.actions, ref, &src, &err);
		buf_release(&self);
		if (r > 0) {
			buf_release(&err);
			start_action(sr, &src, with, step_env);
			return;
		}
		action_source_release(&src);
		if (r < 0) {
			ev_unref(with);
			ev_unref(step_env);
			step_fail(sr, err.buf);
			buf_release(&err);
			return;
		}
	}
	buf_release(&err);
	ev_unref(step_env);
	if (a) {
		/* with and env live as long as the call: kept on the step */
		sr->with = with;
		sr->benv = xcalloc(1, sizeof(*sr->benv));
		exec__proc_env(sr, sr->benv);
		start_builtin(sr, a);
		return;
	}
	ev_unref(with);
	struct buf msg = BUF_INIT;
	buf_addf(&msg, "can't run action '%s': remote actions need kiln run", uses);
	step_fail(sr, msg.buf);
	buf_release(&msg);
}

/* ---- step sequencing ---- */

static void start_step(struct job_exec *je, struct frame *fr, const struct wf_step *st)
{
	struct step_run *sr = exec__step_new(je, fr, st);
	struct buf err = BUF_INIT;
	sr->id = exec__step_id(fr, st);
	struct ev *base = exec__frame_env(je, fr);

	sr->name = exec__step_display_name(je, fr, st, base);

	/* if: with the status of this frame (GitHub: implicit success()) */
	const char *cond = st->if_cond.s ? st->if_cond.s : "success()";
	struct ev *c = exec__contexts(je, fr, base);
	struct expr_ctx x = { .contexts = c, .status = exec__status(je, fr),
			      .workspace = je->workspace };
	int run = expr_eval_if(cond, &x, &err);
	ev_unref(c);
	if (run < 0) {
		exec__log(je, LOG_STEP_START, sr->name, sr->name, strlen(sr->name));
		struct buf m = BUF_INIT;
		buf_addf(&m, "%s:%d:%d: error in if: %s", je->spec.wf ? je->spec.wf->file : "",
			 st->if_cond.line, st->if_cond.col, err.buf);
		ev_unref(base);
		buf_release(&err);
		step_fail(sr, m.buf);
		buf_release(&m);
		return;
	}
	if (!run) {
		ev_unref(base);
		buf_release(&err);
		exec__step_complete(sr, RESULT_SKIPPED);
		return;
	}
	/* a run: step's start is told once its process is spawned: the
	 * record of it (a store transaction) is then made while the step
	 * runs, not between the previous job's end and this step's exec.
	 * Anything told of the step before (an error) tells the start first */
	je->start_untold = sr->name;
	je->steps_run++;

	/* the step's env on top of what the frame gives */
	struct ev *step_env = exec__eval_env(je, fr, base, st->env, ev_object(), &err);
	if (!step_env) {
		ev_unref(base);
		step_fail(sr, err.buf);
		buf_release(&err);
		return;
	}
	sr->env = ev_ref(base);
	for (size_t i = 0; i < ev_len(step_env); i++)
		sr->env = exec__obj_with(sr->env, ev_object_key_at(step_env, i),
					 ev_ref(ev_object_val_at(step_env, i)));
	ev_unref(base);

	if (node_bool(je, fr, sr->env, st->continue_on_error, &sr->continue_on_error, &err) < 0 ||
	    node_minutes(je, fr, sr->env, st->timeout_minutes, &sr->timeout_ms, &err) < 0) {
		ev_unref(step_env);
		step_fail(sr, err.buf);
		buf_release(&err);
		return;
	}
	if (st->uses.s) {
		buf_release(&err);
		exec__tell_start(je);
		start_uses(sr, step_env);
		return;
	}
	ev_unref(step_env);
	if (exec__files_reset(je, &err) < 0 || exec__run_step(sr, &err) < 0) {
		step_fail(sr, err.buf);
		buf_release(&err);
		return;
	}
	buf_release(&err);
	exec__tell_start(je);
	je->cur = sr;
}

static struct ev *step_entry(struct step_run *sr, enum result outcome, enum result conclusion)
{
	struct ev *e = ev_object();
	ev_object_set(e, "outputs", ev_ref(sr->outputs));
	ev_object_set(e, "outcome", ev_cstr(result_name(outcome)));
	ev_object_set(e, "conclusion", ev_cstr(result_name(conclusion)));
	return e;
}

void exec__step_end_event(struct job_exec *je, const char *name, enum result r, uint64_t start_ns)
{
	exec__tell_start(je);
	struct buf ms = BUF_INIT;
	mask_apply(je->mask, name, strlen(name), &ms);
	struct log_event ev = {
		.kind = LOG_STEP_END,
		.job = je->spec.display_name,
		.step = ms.buf,
		.text = ms.buf,
		.len = ms.len,
		.result = r,
		.elapsed_ns = now_ns() - start_ns,
	};
	if (je->sink.event)
		je->sink.event(je->sink.arg, &ev);
	buf_release(&ms);
}

void exec__step_complete(struct step_run *sr, enum result outcome)
{
	struct job_exec *je = sr->je;
	struct frame *fr = sr->fr;
	if (sr->stage != STAGE_MAIN) {
		exec__stage_complete(sr, outcome);
		return;
	}
	if (je->cur == sr)
		je->cur = NULL;
	if (sr->cmd) {
		if (exec__files_process(sr) < 0 && outcome == RESULT_SUCCESS)
			outcome = RESULT_FAILURE;
	}
	if (sr->cmd_failed && outcome == RESULT_SUCCESS)
		outcome = RESULT_FAILURE;
	if (sr->timed_out)
		exec__logf(je, LOG_ERROR, sr->name, "The action '%s' has timed out after %g minutes.",
			   sr->name, (double)sr->timeout_ms / 60000.0);
	enum result conclusion = outcome;
	if (outcome == RESULT_FAILURE && sr->continue_on_error)
		conclusion = RESULT_SUCCESS;
	if (strncmp(sr->id, "__", 2))
		fr->steps_ctx = exec__obj_with(fr->steps_ctx, sr->id, step_entry(sr, outcome, conclusion));
	if (conclusion == RESULT_FAILURE)
		fr->failed = 1;
	else if (conclusion == RESULT_CANCELLED)
		fr->cancelled = 1;
	exec__step_end_event(je, sr->name, conclusion, sr->start_ns);
	exec__step_free(sr);
	fr->next++;
	exec__kick(je);
}

/* ---- the job ---- */

/* job outputs: each value a template; one that fails is a warning, as on GitHub */
struct out_walk {
	struct job_exec *je;
	struct ev *out;
};

static struct ev *out_eval(void *arg, const struct ynode *n, struct buf *err)
{
	struct out_walk *ow = arg;
	if (n->kind != YNODE_SCALAR)
		return ev_cstr("");
	return exec__eval_value(ow->je, ow->je->top, NULL, ynode_is_null(n) ? "" : n->str, err);
}

static int out_pair(void *arg, const char *key, const struct ynode *v, const struct ev *value,
		    struct buf *unused)
{
	struct out_walk *ow = arg;
	struct job_exec *je = ow->je;
	(void)unused;
	if (v && v->kind != YNODE_SCALAR)
		return 0;
	struct buf err = BUF_INIT, str = BUF_INIT;
	struct ev *ev = v ? out_eval(arg, v, &err) : ev_ref(value);
	if (!ev) {
		exec__logf(je, LOG_WARNING, NULL, "%s:%d:%d: job output '%s': %s",
			   je->spec.wf ? je->spec.wf->file : "", v->line, v->col, key, err.buf);
		buf_release(&err);
		return 0;
	}
	buf_release(&err);
	ev_to_string(ev, &str);
	ev_unref(ev);
	struct buf masked = BUF_INIT;
	mask_apply(je->mask, str.buf, str.len, &masked);
	if (strcmp(masked.buf, str.buf)) /* GitHub: outputs holding secrets are skipped */
		exec__logf(je, LOG_WARNING, NULL, "Skip output '%s' since it may contain secret.",
			   key);
	else
		ow->out = exec__obj_with(ow->out, key, ev_string(str.buf, str.len));
	buf_release(&masked);
	buf_release(&str);
	return 0;
}

static void eval_job_outputs(struct job_exec *je)
{
	const struct ynode *o = je->spec.job->outputs;
	struct out_walk ow = { je, ev_object() };
	struct buf err = BUF_INIT;
	const struct ynode *at = NULL;
	/* keys may be expressions and `${{ insert }}` (plan_map_walk) */
	if (o && o->kind == YNODE_MAP && plan_map_walk(o, out_eval, out_pair, &ow, &err, &at) < 0)
		exec__logf(je, LOG_WARNING, NULL, "%s:%d:%d: job outputs: %s",
			   je->spec.wf ? je->spec.wf->file : "", at ? at->line : 0, at ? at->col : 0,
			   err.buf);
	buf_release(&err);
	je->result.outputs = ow.out;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct job_exec *je = h->data;
	if (--je->open_timers == 0 && je->done)
		je->done(je, &je->result, je->arg);
}

static void close_timers(struct job_exec *je)
{
	uv_close((uv_handle_t *)&je->job_timer, on_timer_closed);
	uv_close((uv_handle_t *)&je->kick, on_timer_closed);
}

static void job_finish(struct job_exec *je)
{
	if (je->finished)
		return;
	je->finished = 1;
	uv_timer_stop(&je->job_timer);
	if (je->spec.job)
		eval_job_outputs(je);
	else
		je->result.outputs = ev_object();
	if (je->cancelled && !je->timed_out)
		je->result.result = RESULT_CANCELLED;
	else if (je->timed_out || (je->top && je->top->failed) || je->setup_failed)
		je->result.result = RESULT_FAILURE;
	else
		je->result.result = RESULT_SUCCESS;
	if (je->summary.len)
		je->result.summary = buf_detach(&je->summary, NULL);
	/* GitHub's "Cleaning up orphan processes" */
	int n = proc_sweep(je->pgids, je->npgids, je->tracking);
	if (n > 0 && je->debug)
		exec__logf(je, LOG_DEBUG, NULL, "terminated %d orphan process(es)", n);
	if (je->svc)
		svc_stop(je->svc, close_timers); /* "Stop containers", then the end */
	else
		close_timers(je);
}

/* a composite's steps are done: its outputs, then its step completes */
static void frame_done(struct job_exec *je, struct frame *fr)
{
	struct step_run *caller = fr->caller;
	const struct ynode *o = fr->action->outputs;
	for (size_t i = 0; o && o->kind == YNODE_MAP && i < ynode_map_size(o); i++) {
		const struct ynode *k = ynode_map_key(o, i), *spec = ynode_map_val(o, i);
		const struct ynode *v = spec->kind == YNODE_MAP ? ynode_get(spec, "value") : NULL;
		if (!v || v->kind != YNODE_SCALAR)
			continue;
		struct buf err = BUF_INIT;
		char *s = exec__eval_str(je, fr, caller->env, ynode_is_null(v) ? "" : v->str, &err);
		if (s)
			caller->outputs = exec__obj_with(caller->outputs, k->str, ev_cstr(s));
		else
			exec__annotate(je, LOG_ERROR, caller->name, err.buf, err.len,
				       fr->action->file, v->line, v->col, NULL);
		free(s);
		buf_release(&err);
	}
	enum result outcome = fr->failed ? RESULT_FAILURE : RESULT_SUCCESS;
	if (fr->timed_out)
		outcome = RESULT_FAILURE;
	else if (outcome == RESULT_SUCCESS && fr->cancelled)
		outcome = RESULT_CANCELLED;
	je->top = fr->parent;
	exec__frame_free(fr);
	exec__step_complete(caller, outcome);
}

static void advance(struct job_exec *je)
{
	if (je->advancing) {
		je->again = 1;
		return;
	}
	je->advancing = 1;
	do {
		je->again = 0;
		if (je->finished || je->cur || je->svc_waiting)
			break;
		struct frame *fr = je->top;
		if (!fr || je->setup_failed) {
			job_finish(je);
			break;
		}
		if (je->phase == PHASE_PRE) {
			if (!exec__pre_next(je))
				je->phase = PHASE_MAIN;
			je->again = 1;
		} else if (fr->next < fr->nsteps) {
			start_step(je, fr, &fr->steps[fr->next]);
		} else if (fr->parent) {
			frame_done(je, fr);
		} else {
			/* the job's steps are done: its post steps, newest first */
			je->phase = PHASE_POST;
			if (exec__post_next(je))
				je->again = 1;
			else
				job_finish(je);
		}
	} while (je->again);
	je->advancing = 0;
}

static void on_kick(uv_timer_t *t)
{
	advance(t->data);
}

void exec__kick(struct job_exec *je)
{
	if (je->advancing)
		je->again = 1;
	else if (!je->finished)
		uv_timer_start(&je->kick, on_kick, 0, 0);
}

static void stop_running(struct job_exec *je, uint64_t grace_ms)
{
	if (je->svc_waiting)
		svc_cancel(je->svc);
	struct step_run *sr = je->cur;
	if (!sr)
		return;
	sr->cancelled = 1;
	if (sr->cmd)
		exec_cmd_kill(sr->cmd, SIGINT, grace_ms);
	else if (sr->bcall && sr->bcall->action->cancel)
		sr->bcall->action->cancel(sr->bcall);
}

static void on_job_timeout(uv_timer_t *t)
{
	struct job_exec *je = t->data;
	if (je->finished)
		return;
	je->timed_out = 1;
	exec__logf(je, LOG_ERROR, NULL,
		   "The job running on runner kiln has exceeded the maximum execution time of %g minutes.",
		   (double)je->spec.timeout_ms / 60000.0);
	stop_running(je, je->grace_ms);
}

void job_exec_cancel(struct job_exec *je, uint64_t grace_ms)
{
	if (je->finished || je->cancelled)
		return;
	je->cancelled = 1;
	je->grace_ms = grace_ms;
	stop_running(je, grace_ms);
}

/* ---- setup ---- */

static void setenv_default(struct strvec *env, const char *name, const char *value)
{
	if (!strvec_getenv(env, name))
		strvec_setenv(env, name, value);
}

static const char *uname_arch(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		return "X64";
	if (!strcmp(u.machine, "aarch64") || !strcmp(u.machine, "arm64"))
		return "ARM64";
	if (!strncmp(u.machine, "arm", 3))
		return "ARM";
	if (!strcmp(u.machine, "i686") || !strcmp(u.machine, "i386"))
		return "X86";
	return "X64";
}

/* the machine's architecture, asked once per process (was twice per job) */
static const char *runner_arch(void)
{
	static const char *volatile arch;
	if (!arch)
		arch = uname_arch();
	return arch;
}

static int is_true(const char *s)
{
	return s && !strcasecmp(s, "true");
}

/* secrets.* and ACTIONS_STEP_DEBUG from the scheduler's contexts */
static void from_contexts(struct job_exec *je)
{
	const struct ev *c = je->spec.contexts;
	const struct ev *secrets = c ? ev_object_get(c, "secrets") : NULL;
	for (size_t i = 0; secrets && ev_kind(secrets) == EV_OBJECT && i < ev_len(secrets); i++) {
		const struct ev *v = ev_object_val_at(secrets, i);
		size_t len;
		const char *s = ev_kind(v) == EV_STRING ? ev_get_str(v, &len) : NULL;
		if (s && len && strcasecmp(ev_object_key_at(secrets, i), "github_token") != 0)
			mask_add(je->mask, s, len);
		else if (s && len)
			mask_add(je->mask, s, len);
		if (!strcasecmp(ev_object_key_at(secrets, i), "ACTIONS_STEP_DEBUG") && is_true(s))
			je->debug = 1;
	}
	const struct ev *vars = c ? ev_object_get(c, "vars") : NULL;
	const struct ev *d = vars && ev_kind(vars) == EV_OBJECT ? ev_object_get(vars, "ACTIONS_STEP_DEBUG") : NULL;
	if (d && ev_kind(d) == EV_STRING && is_true(ev_get_str(d, NULL)))
		je->debug = 1;
	const struct ev *env = c ? ev_object_get(c, "env") : NULL;
	if (env && ev_kind(env) == EV_OBJECT)
		for (size_t i = 0; i < ev_len(env); i++) {
			struct buf s = BUF_INIT;
			ev_to_string(ev_object_val_at(env, i), &s);
			je->global_env = exec__obj_with(je->global_env, ev_object_key_at(env, i),
							ev_string(s.buf, s.len));
			buf_release(&s);
		}
}

static void make_base_env(struct job_exec *je)
{
	struct strvec *e = &je->base_env;
	if (je->spec.base_env) {
		for (size_t i = 0; i < je->spec.base_env->nr; i++)
			strvec_push(e, je->spec.base_env->v[i]);
	} else {
		/* the store's address (store/open.h) may hold a password:
		 * kiln's, not the steps' */
		for (char **p = environ; *p; p++)
			if (!str_starts_with(*p, "KILN_DB="))
				strvec_push(e, *p);
	}
	setenv_default(e, "CI", "true");
	setenv_default(e, "GITHUB_ACTIONS", "true");
	setenv_default(e, "RUNNER_OS", "Linux");
	setenv_default(e, "RUNNER_ARCH", runner_arch());
	setenv_default(e, "RUNNER_NAME", "kiln");
	setenv_default(e, "RUNNER_ENVIRONMENT", "self-hosted");
	setenv_default(e, "RUNNER_TOOL_CACHE", je->tool_cache);
	setenv_default(e, "GITHUB_WORKSPACE", je->workspace);
	strvec_setenv(e, "GITHUB_JOB", je->spec.job_id ? je->spec.job_id : "");
	strvec_setenv(e, "GITHUB_WORKSPACE", je->workspace);
	strvec_setenv(e, "RUNNER_TEMP", je->temp);
	strvec_setenv(e, "GITHUB_OUTPUT", je->f_output);
	strvec_setenv(e, "GITHUB_ENV", je->f_env);
	strvec_setenv(e, "GITHUB_PATH", je->f_path);
	strvec_setenv(e, "GITHUB_STEP_SUMMARY", je->f_summary);
	strvec_setenv(e, "GITHUB_STATE", je->f_state);
	const char *eq = strchr(je->tracking, '=');
	strvec_setenv(e, "RUNNER_TRACKING_ID", eq + 1);
	if (je->debug) {
		strvec_setenv(e, "RUNNER_DEBUG", "1");
	}
	if (is_true(strvec_getenv(e, "ACTIONS_STEP_DEBUG")))
		je->debug = 1;
}

static void make_runner_ctx(struct job_exec *je)
{
	struct ev *r = ev_object();
	ev_object_set(r, "os", ev_cstr("Linux"));
	ev_object_set(r, "arch", ev_cstr(runner_arch()));
	ev_object_set(r, "name", ev_cstr("kiln"));
	ev_object_set(r, "environment", ev_cstr("self-hosted"));
	ev_object_set(r, "temp", ev_cstr(je->temp));
	ev_object_set(r, "tool_cache", ev_cstr(je->tool_cache));
	if (je->debug)
		ev_object_set(r, "debug", ev_cstr("1"));
	je->runner_ctx = r;
}

static int setup_dirs(struct job_exec *je, struct buf *err)
{
	const char *run_dir = je->spec.run_dir ? je->spec.run_dir : ".";
	const char *key = je->spec.job_key ? je->spec.job_key : "job";
	je->dir = xstrfmt("%s/%s", run_dir, key);
	je->workspace = xstrfmt("%s/workspace", je->dir);
	je->temp = xstrfmt("%s/temp", je->dir);
	je->f_output = xstrfmt("%s/github_output", je->dir);
	je->f_env = xstrfmt("%s/github_env", je->dir);
	je->f_path = xstrfmt("%s/github_path", je->dir);
	je->f_summary = xstrfmt("%s/github_step_summary", je->dir);
	je->f_state = xstrfmt("%s/github_state", je->dir);
	je->tracking = xstrfmt("RUNNER_TRACKING_ID=kiln_%ld_%s_%llx", (long)getpid(), key,
			       (unsigned long long)now_ns());
	const char *tc = NULL;
	if (je->spec.base_env)
		tc = strvec_getenv(je->spec.base_env, "RUNNER_TOOL_CACHE");
	je->tool_cache = tc ? xstrdup(tc) : xstrfmt("%s/_tool", run_dir);

	/* a finished job's directory, reset (jobdir.h), else a new one */
	int got = jobdir_get(je->spec.jobdirs, key, err);
	if (got == 1)
		return 0;
	if (got < 0) {
		exec__log(je, LOG_WARNING, NULL, err->buf, err->len);
		buf_reset(err);
	}
	/* a skeleton from the last run has temp/ (jobdir.h) */
	int r = 0, m = jobdir_take_skeleton(je->spec.jobdirs, key) == 1 ? 0 : mkdir_p(je->temp, 0777);
	if (m < 0) {
		buf_addf(err, "cannot create '%s': %s", je->temp, strerror(-m));
		r = -1;
	}
	/* the run's snapshot (the work tree, or github.sha's tree); without
	 * one the event's commit, as GitHub's checkout of github.sha */
	const struct ev *gh = je->spec.contexts ? ev_object_get(je->spec.contexts, "github") : NULL;
	const struct ev *sha = gh ? ev_object_get(gh, "sha") : NULL;
	/* the run's only job: the snapshot itself becomes the workspace (no
	 * second copy of every file; copied as usual if it cannot be moved) */
	int moved = !r && je->spec.snapshot_take && je->spec.snapshot_dir &&
		    rename(je->spec.snapshot_dir, je->workspace) == 0;
	if (!r && !moved &&
	    workspace_create(je->spec.repo_dir ? je->spec.repo_dir : ".",
			     sha && ev_kind(sha) == EV_STRING ? ev_get_str(sha, NULL) : NULL,
			     je->spec.snapshot_dir, je->workspace, err) < 0)
		r = -1;
	if (!r)
		jobdir_stamp(je->spec.jobdirs, key);
	return r;
}

static void on_services_ready(struct job_exec *je, int ok)
{
	je->svc_waiting = 0;
	if (!ok)
		je->setup_failed = 1;
	exec__kick(je);
}

int job_exec_start(uv_loop_t *loop, const struct job_spec *spec, const struct log_sink *sink,
		   job_done_cb done, void *arg, struct job_exec **out)
{
	struct job_exec *je = xcalloc(1, sizeof(*je));
	struct buf err = BUF_INIT;

	je->loop = loop;
	je->spec = *spec;
	if (sink)
		je->sink = *sink;
	je->done = done;
	je->arg = arg;
	je->grace_ms = 7500; /* GitHub: SIGINT, then 7.5 s before killing */
	je->mask = mask_new();
	je->global_env = ev_object();
	je->debug = spec->verbose;
	buf_init(&je->summary, 0);
	proc_become_subreaper();

	uv_timer_init(loop, &je->job_timer);
	uv_timer_init(loop, &je->kick);
	je->job_timer.data = je->kick.data = je;
	je->open_timers = 2;

	from_contexts(je);
	if (setup_dirs(je, &err) < 0) {
		exec__log(je, LOG_ERROR, NULL, err.buf, err.len);
		je->setup_failed = 1;
		make_base_env(je);
		make_runner_ctx(je);
		goto go;
	}
	make_base_env(je);
	je->echo = je->debug; /* the runner echoes commands when step debug is on */
	make_runner_ctx(je);

	je->top = exec__frame_new(NULL, spec->job->steps, spec->job->nsteps);
	/* the job's env, evaluated with the workflow's env as `env` */
	struct ev *wenv = ev_ref(je->global_env);
	const struct ynode *at = NULL;
	struct ev *jenv = exec__eval_env_at(je, je->top, wenv, spec->job->env,
					    ev_ref(je->global_env), &err, &at);
	ev_unref(wenv);
	if (!jenv) {
		exec__annotate(je, LOG_ERROR, NULL, err.buf, err.len, spec->wf ? spec->wf->file : NULL,
			       at ? at->line : 0, at ? at->col : 0, NULL);
		je->setup_failed = 1;
	} else {
		ev_unref(je->global_env);
		je->global_env = jenv;
	}
	if (spec->timeout_ms)
		uv_timer_start(&je->job_timer, on_job_timeout, spec->timeout_ms, 0);
	if (!je->setup_failed &&
	    ((spec->job->services && !ynode_is_null(spec->job->services)) ||
	     (spec->job->container && !ynode_is_null(spec->job->container)))) {
		je->svc_waiting = 1;
		je->svc = svc_start(je, on_services_ready);
	}
	if (!je->setup_failed)
		exec__pre_prepare(je);
go:
	buf_release(&err);
	*out = je;
	uv_timer_start(&je->kick, on_kick, 0, 0);
	return 0;
}

void job_exec_free(struct job_exec *je)
{
	if (!je)
		return;
	while (je->top) {
		struct frame *p = je->top->parent;
		exec__frame_free(je->top);
		je->top = p;
	}
	exec__actions_release(je);
	svc_free(je->svc);
	if (je->pm)
		podman_release(je->pm);
	free(je->pm);
	ev_unref(je->result.outputs);
	free(je->result.summary);
	buf_release(&je->summary);
	mask_free(je->mask);
	ev_unref(je->runner_ctx);
	ev_unref(je->global_env);
	strvec_clear(&je->base_env);
	strvec_clear(&je->path_add);
	free(je->pgids);
	free(je->stop_token);
	free(je->dir);
	free(je->workspace);
	free(je->temp);
	free(je->tool_cache);
	free(je->f_output);
	free(je->f_env);
	free(je->f_path);
	free(je->f_summary);
	free(je->f_state);
	free(je->tracking);
	free(je);
}
