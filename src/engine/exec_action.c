/*
 * exec_action: JavaScript actions and the stages around a job's main steps,
 * in the order GitHub's runner gives them (actions/runner ActionRunner,
 * StepsRunner, ADR 0361 "wrapper action", ADR 1144 "composite actions"):
 *
 * - pre: the `pre` of the job's fetched JavaScript actions runs at job
 *   start, in step order, when `pre-if` (default always()) holds; so does
 *   the `pre` of those used inside fetched composite actions, shown inside
 *   one "Pre <composite step>" step. A local action's `pre` never runs
 *   (GitHub warns "`pre` execution is not supported for local action"),
 *   nor does one of an action used inside a local composite action: both
 *   are only known once the job runs.
 * - main: `node <dir>/<main>` with INPUT_<NAME>, STATE_<name> and
 *   GITHUB_ACTION_PATH / _REPOSITORY / _REF.
 * - post: registered when the action's pre or main step starts (so a
 *   failed main still gets its post, a skipped one does not); after the
 *   job's steps the post steps run newest first when `post-if` (default
 *   always()) holds with the job's status at that moment. A failing post
 *   step fails the job. Posts of actions used inside a composite action
 *   are shown inside one "Post <composite step>" step, as on GitHub.
 *
 * State ($GITHUB_STATE, ::save-state::) belongs to one use of an action:
 * what its pre or main saves reaches its later stages as STATE_<name>.
 */
#include "base/kiln.h"
#include "base/copytree.h"
#include "base/fs.h"
#include "engine/exec.h"
#include "engine/nodeaction.h"
#include "engine/services.h"

#include <sys/stat.h>

void action_source_release(struct action_source *s)
{
	free(s->dir);
	free(s->repository);
	free(s->ref);
	memset(s, 0, sizeof(*s));
}

static struct action_run *action_new(struct job_exec *je, struct composite *def,
				     struct action_source *src)
{
	struct action_run *ar = xcalloc(1, sizeof(*ar));
	ar->src = *src;
	memset(src, 0, sizeof(*src));
	ar->def = def;
	ar->state = ev_object();
	ALLOC_GROW(je->actions, je->nactions + 1, je->aactions);
	je->actions[je->nactions++] = ar;
	return ar;
}

static void action_free(struct action_run *ar)
{
	action_source_release(&ar->src);
	composite_free(ar->def);
	free(ar->step_id);
	free(ar->name);
	ev_unref(ar->inputs);
	ev_unref(ar->env);
	ev_unref(ar->state);
	free(ar->path);
	free(ar->ctr_dir);
	free(ar);
}

void exec__save_state(struct step_run *sr, const char *name, const char *value, size_t len)
{
	/* a run: step's state has no later stage to read it */
	if (sr->ar)
		sr->ar->state = exec__obj_with(sr->ar->state, name, ev_string(value, len));
}

/* ---- post steps ---- */

/* the job step that (through composites) runs sr, or NULL for a job step */
static const struct step_run *job_step(const struct step_run *sr)
{
	const struct frame *f = sr->fr;
	const struct step_run *caller = NULL;
	while (f && f->parent) {
		caller = f->caller;
		f = f->parent;
	}
	return caller;
}

static struct exec_post *post_push(struct step_run *sr, const char *name)
{
	struct job_exec *je = sr->je;
	ALLOC_GROW(je->posts, je->nposts + 1, je->aposts);
	struct exec_post *p = &je->posts[je->nposts++];
	memset(p, 0, sizeof(*p));
	p->name = xstrfmt("Post %s", name);
	const struct step_run *top = job_step(sr);
	if (top) {
		p->group = xstrfmt("Post %s", top->name);
		p->group_step = top->st->index + 1;
	}
	return p;
}

static void register_post(struct step_run *sr, struct action_run *ar)
{
	post_push(sr, ar->name)->ar = ar;
	ar->post_registered = 1;
}

void exec__post_builtin(struct step_run *sr, builtin_post_fn fn, void *data)
{
	struct exec_post *p = post_push(sr, sr->name);
	p->fn = fn;
	p->data = data;
}

static void post_log(const struct builtin_post *p, enum log_kind kind, const char *text)
{
	exec__log(p->exec_data, kind, p->name, text, strlen(text));
}

static void drop_log(const struct builtin_post *p, enum log_kind kind, const char *text)
{
	(void)p, (void)kind, (void)text;
}

static void close_group(struct job_exec *je)
{
	if (!je->group)
		return;
	exec__step_end_event(je, je->group, je->group_result, je->group_start_ns);
	free(je->group);
	je->group = NULL;
	je->group_step = 0;
}

/* show the pre or post stages of the actions one composite uses inside
 * one step named `group`, as GitHub does; `step` is the job step running
 * the composite + 1, 0 for none */
static void enter_group(struct job_exec *je, const char *group, size_t step)
{
	if (je->group && step == je->group_step)
		return;
	close_group(je);
	if (!step)
		return;
	je->group = xstrdup(group);
	je->group_step = step;
	je->group_start_ns = now_ns();
	je->group_result = RESULT_SUCCESS;
	exec__log(je, LOG_STEP_START, group, group, strlen(group));
}

/* ---- running a stage ---- */

static int stage_fail(struct step_run *sr, const char *msg)
{
	exec__log(sr->je, LOG_ERROR, sr->name, msg, strlen(msg));
	exec__step_complete(sr, RESULT_FAILURE);
	return 0;
}

/* the action's directory as the job container sees it: the job directory
 * is mounted at its own path, so an action outside it (fetched into the
 * cache) is copied to <job>/_actions/<n> once; NULL with err */
static const char *ctr_action_dir(struct job_exec *je, struct action_run *ar, struct buf *err)
{
	size_t dl = strlen(je->dir);
	if (!strncmp(ar->src.dir, je->dir, dl) && ar->src.dir[dl] == '/')
		return ar->src.dir;
	if (ar->ctr_dir)
		return ar->ctr_dir;
	size_t n = 0;
	while (n < je->nactions && je->actions[n] != ar)
		n++;
	char *dst = xstrfmt("%s/_actions/%zu", je->dir, n);
	char *parent = xstrfmt("%s/_actions", je->dir);
	int m = mkdir_p(parent, 0755);
	free(parent);
	if (m < 0 || copy_tree(ar->src.dir, dst, err) < 0) {
		if (!err->len)
			buf_addf(err, "cannot create '%s': %s", dst, strerror(-m));
		free(dst);
		return NULL;
	}
	ar->ctr_dir = dst;
	return dst;
}

/* node <script> of a JavaScript action in the job container: the host's
 * node mounted there (services.c, nodemount.c), run by `podman exec` as
 * `run:` steps are */
static int run_js_in_ctr(struct step_run *sr, const char *script, struct strvec *env,
			 struct buf *err)
{
	struct job_exec *je = sr->je;
	struct action_run *ar = sr->ar;
	const char *why;
	const struct strvec *node = svc_node_argv(je->svc, &why);
	struct strvec argv = STRVEC_INIT;
	if (!node) {
		buf_addf(err, "cannot run the JavaScript action in '%s' in the job container: %s",
			 ar->src.dir, why);
		strvec_clear(env);
		return -1;
	}
	const char *dir = ctr_action_dir(je, ar, err);
	if (!dir) {
		strvec_clear(env);
		return -1;
	}
	for (size_t i = 0; i < node->nr; i++)
		strvec_push(&argv, node->v[i]);
	strvec_pushf(&argv, "%s/%s", dir, script);
	strvec_setenv(env, "GITHUB_ACTION_PATH", dir);
	sr->no_isolate = 1; /* the container is the isolation */
	svc_exec_wrap(je->svc, je->workspace, sr->env ? sr->env : je->global_env, &je->path_add,
		      &argv, env);
	je->cur = sr;
	int r = exec__spawn(sr, &argv, env, je->workspace, err);
	return r;
}

/* node <dir>/<script> as step sr, in the workspace; a Docker action's
 * stage: its image with `script` as the entrypoint (the main stage: its
 * runs.entrypoint), which completes the step itself */
static int run_js(struct step_run *sr, const char *script, struct buf *err)
{
	struct job_exec *je = sr->je;
	struct action_run *ar = sr->ar;
	if (ar->def->docker) {
		exec__docker_stage(sr, sr->stage == STAGE_MAIN ? NULL : script);
		return 0;
	}
	if (exec__files_reset(je, err) < 0)
		return -1;
	struct strvec env = STRVEC_INIT, argv = STRVEC_INIT;
	exec__proc_env(sr, &env);
	nodeaction_env(ar->inputs, ar->state, &env);
	if (svc_in_container(je->svc, NULL))
		return run_js_in_ctr(sr, script, &env, err);
	char *node = exec__which("node", strvec_getenv(&env, "PATH"));
	if (!node) {
		buf_addf(err, "cannot find 'node' in PATH to run the JavaScript action in '%s' "
			 "(runs.using: %s)", ar->src.dir, ar->def->js.using);
		strvec_clear(&env);
		return -1;
	}
	strvec_push_nodup(&argv, node);
	strvec_pushf(&argv, "%s/%s", ar->src.dir, script);
	je->cur = sr;
	return exec__spawn(sr, &argv, &env, je->workspace, err);
}

/* the `pre-if` / `post-if` of a stage: 1 run, 0 skip, -1 error in err */
static int stage_if(struct step_run *sr, const char *cond, const char *key, struct buf *err)
{
	struct job_exec *je = sr->je;
	struct ev *c = exec__contexts(je, sr->fr, sr->env);
	struct expr_ctx x = { .contexts = c, .status = exec__status(je, sr->fr),
			      .workspace = je->workspace };
	int run = expr_eval_if(cond ? cond : "always()", &x, err);
	ev_unref(c);
	if (run < 0) {
		struct buf m = BUF_INIT;
		buf_addf(&m, "%s: runs.%s: %s", sr->ar->def->file, key, err->buf);
		buf_reset(err);
		buf_add(err, m.buf, m.len);
		buf_release(&m);
	}
	return run;
}

/* is sr the step ar was prepared for (the same path of step indexes)? */
static int same_step(const struct action_run *ar, const struct step_run *sr)
{
	size_t n = 1, k;
	const struct frame *f;
	for (f = sr->fr; f->parent; f = f->parent)
		n++;
	if (n != ar->npath || ar->path[n - 1] != sr->st->index)
		return 0;
	for (k = n - 1, f = sr->fr; f->parent; f = f->parent)
		if (ar->path[--k] != f->caller->st->index)
			return 0;
	return 1;
}

void exec__start_js(struct step_run *sr, struct composite *a, struct action_source *src,
		    struct ev *with, struct ev *step_env)
{
	struct job_exec *je = sr->je;
	struct action_run *ar = NULL;
	struct buf err = BUF_INIT;

	/* a step whose pre ran at job start: the same use of the action */
	for (size_t i = 0; i < je->nactions && !ar; i++)
		if (je->actions[i]->at_start && same_step(je->actions[i], sr))
			ar = je->actions[i];
	if (ar) {
		composite_free(a);
		action_source_release(src);
	} else {
		ar = action_new(je, a, src);
	}
	ev_unref(ar->inputs);
	ar->inputs = exec__action_inputs(sr, ar->def, with);
	ev_unref(with);
	ev_unref(ar->env);
	ar->env = exec__env_overlay(sr->fr, step_env);
	ev_unref(step_env);
	free(ar->step_id);
	ar->step_id = xstrdup(sr->id);
	free(ar->name);
	ar->name = xstrdup(sr->name);
	sr->ar = ar;

	if (ar->def->js.pre && !ar->src.repository && !strncmp(sr->st->uses.s, ".", 1))
		exec__logf(je, LOG_WARNING, sr->name,
			   "`pre` execution is not supported for local action from '%s'",
			   sr->st->uses.s);
	if (ar->def->js.post && !ar->post_registered)
		register_post(sr, ar);
	if (run_js(sr, ar->def->js.main, &err) < 0)
		stage_fail(sr, err.buf);
	buf_release(&err);
}

/* ---- pre ---- */

static int is_remote(const char *uses)
{
	return uses && strncmp(uses, "./", 2) && strcmp(uses, ".") &&
	       strncmp(uses, "docker://", 9) && !builtin_find(uses);
}

/* the action of a fetched `uses:` step of frame fr, loaded; NULL when it
 * is not one or cannot be had (the step says why when it runs) */
static struct composite *load_fetched(struct job_exec *je, struct frame *fr,
				      const struct wf_step *st, struct action_source *src)
{
	const struct action_resolver *r = je->spec.actions;
	struct buf err = BUF_INIT, self = BUF_INIT;
	struct diags d = DIAGS_INIT;
	struct composite *a = NULL;
	if (!r || !is_remote(st->uses.s) ||
	    r->resolve(r, exec__self_uses(je, fr, st->uses.s, &self), src, &err) <= 0 ||
	    composite_load(src->dir, &a, &d) < 0) {
		action_source_release(src);
		a = NULL;
	}
	diags_release(&d);
	buf_release(&self);
	buf_release(&err);
	return a;
}

/* the frame of fetched composite a (consumed, as is src) run by step st of
 * fr, with no env: or inputs yet: enough to find the actions inside */
static struct frame *composite_frame(struct frame *fr, struct composite *a,
				     struct action_source *src)
{
	struct frame *child = exec__frame_new(fr, a->steps, a->nsteps);
	child->action = a;
	child->src = *src;
	memset(src, 0, sizeof(*src));
	return child;
}

/* the JavaScript actions with a pre among the steps of fr and of the
 * fetched composites they use; path[0..depth) leads to fr */
static void prepare_walk(struct job_exec *je, struct frame *fr, size_t *path, size_t depth)
{
	for (size_t i = 0; i < fr->nsteps; i++) {
		struct action_source src = { 0 };
		struct composite *a = load_fetched(je, fr, &fr->steps[i], &src);
		path[depth] = i;
		if (!a)
			continue;
		if ((a->node || a->docker) && a->js.pre) {
			struct action_run *ar = action_new(je, a, &src);
			ar->at_start = 1;
			ar->npath = depth + 1;
			ar->path = xcalloc(ar->npath, sizeof(*path));
			memcpy(ar->path, path, ar->npath * sizeof(*path));
		} else if (!a->node && !a->docker && depth + 1 < EXEC_MAX_DEPTH) {
			struct frame *child = composite_frame(fr, a, &src);
			prepare_walk(je, child, path, depth + 1);
			exec__frame_free(child);
		} else {
			composite_free(a);
			action_source_release(&src);
		}
	}
}

void exec__pre_prepare(struct job_exec *je)
{
	size_t path[EXEC_MAX_DEPTH + 1];
	if (je->spec.actions)
		prepare_walk(je, je->top, path, 0);
}

/*
 * Down to the composite that runs step path[npath-1]: a frame per fetched
 * composite with its caller step, env: and inputs as when it runs (the
 * job's contexts at this moment). Returns the innermost frame made (fr
 * itself for a job step); err is set when one could not be made.
 */
static struct frame *enter_composites(struct job_exec *je, struct frame *fr,
				      const struct action_run *ar, struct buf *err)
{
	for (size_t k = 0; k + 1 < ar->npath; k++) {
		const struct wf_step *st = &fr->steps[ar->path[k]];
		struct action_source src = { 0 };
		struct composite *a = load_fetched(je, fr, st, &src);
		if (!a || a->node || a->docker) {
			composite_free(a);
			action_source_release(&src);
			buf_addf(err, "cannot load the action '%s' again", st->uses.s);
			return fr;
		}
		struct step_run *caller = exec__step_new(je, fr, st);
		struct ev *base = exec__frame_env(je, fr);
		caller->id = exec__step_id(fr, st);
		caller->name = exec__step_display_name(je, fr, st, base);
		struct ev *step_env = exec__eval_env(je, fr, base, st->env, ev_object(), err);
		caller->env = ev_ref(base);
		for (size_t i = 0; step_env && i < ev_len(step_env); i++)
			caller->env = exec__obj_with(caller->env, ev_object_key_at(step_env, i),
						     ev_ref(ev_object_val_at(step_env, i)));
		ev_unref(base);
		struct ev *with = step_env ? exec__eval_with(caller, err) : NULL;
		struct frame *child = composite_frame(fr, a, &src);
		child->caller = caller;
		child->env = step_env;
		if (!with) {
			fr = child;
			break;
		}
		child->inputs = exec__action_inputs(caller, a, with);
		ev_unref(with);
		fr = child;
	}
	return fr;
}

/* free the frames enter_composites made, from fr up to (not) stop */
static void leave_composites(struct frame *fr, struct frame *stop)
{
	while (fr && fr != stop) {
		struct frame *parent = fr->parent;
		if (fr->caller)
			exec__step_free(fr->caller);
		exec__frame_free(fr);
		fr = parent;
	}
}

int exec__pre_next(struct job_exec *je)
{
	struct frame *root = je->top;
	struct action_run *ar = NULL;
	while (je->next_pre < je->nactions && !ar) {
		ar = je->actions[je->next_pre++];
		if (!ar->at_start)
			ar = NULL;
	}
	if (!ar) {
		close_group(je);
		return 0;
	}
	struct buf err = BUF_INIT;
	struct frame *fr = enter_composites(je, root, ar, &err);
	if (err.len) {
		/* what went wrong shows when the step runs */
		leave_composites(fr, root);
		buf_release(&err);
		return 1;
	}
	const struct wf_step *st = &fr->steps[ar->path[ar->npath - 1]];
	struct step_run *sr = exec__step_new(je, fr, st);
	sr->stage = STAGE_PRE;
	sr->ar = ar;
	sr->id = exec__step_id(fr, st);
	struct ev *base = exec__frame_env(je, fr);
	ar->name = exec__step_display_name(je, fr, st, base);
	sr->name = xstrfmt("Pre %s", ar->name);
	ar->step_id = xstrdup(sr->id);
	const struct step_run *top = job_step(sr);
	char *group = top ? xstrfmt("Pre %s", top->name) : NULL;
	size_t group_step = top ? top->st->index + 1 : 0;
	struct ev *step_env = exec__eval_env(je, fr, base, st->env, ev_object(), &err);
	sr->env = ev_ref(base);
	ev_unref(base);
	for (size_t i = 0; step_env && i < ev_len(step_env); i++)
		sr->env = exec__obj_with(sr->env, ev_object_key_at(step_env, i),
					 ev_ref(ev_object_val_at(step_env, i)));
	ar->env = exec__env_overlay(fr, step_env);
	ev_unref(step_env);

	int run = step_env ? stage_if(sr, ar->def->js.pre_if, "pre-if", &err) : -1;
	struct ev *with = run > 0 ? exec__eval_with(sr, &err) : NULL;
	if (with) {
		ar->inputs = exec__action_inputs(sr, ar->def, with);
		ev_unref(with);
		if (ar->def->js.post)
			register_post(sr, ar);
	}
	/* everything is evaluated: the stage runs outside the composites */
	sr->fr = root;
	leave_composites(fr, root);
	if (run == 0) {
		exec__step_free(sr);
	} else {
		enter_group(je, group, group_step);
		exec__log(je, LOG_STEP_START, sr->name, sr->name, strlen(sr->name));
		if (!with || run_js(sr, ar->def->js.pre, &err) < 0)
			stage_fail(sr, err.buf);
	}
	free(group);
	buf_release(&err);
	return 1;
}

/* ---- post ---- */

static void run_builtin_post(struct job_exec *je, struct exec_post *p)
{
	uint64_t t0 = now_ns();
	exec__log(je, LOG_STEP_START, p->name, p->name, strlen(p->name));
	struct builtin_post bp = {
		.job_ok = exec__status(je, je->top) == EXPR_STATUS_SUCCESS,
		.name = p->name,
		.log = post_log,
		.exec_data = je,
	};
	p->fn(p->data, &bp);
	exec__step_end_event(je, p->name, RESULT_SUCCESS, t0);
}

int exec__post_next(struct job_exec *je)
{
	if (!je->nposts) {
		close_group(je);
		return 0;
	}
	struct exec_post p = je->posts[--je->nposts];
	struct frame *root = je->top;
	enter_group(je, p.group, p.group_step);
	free(p.group);
	if (!p.ar) {
		run_builtin_post(je, &p);
		free(p.name);
		return 1;
	}
	struct action_run *ar = p.ar;
	struct step_run *sr = exec__step_new(je, root, NULL);
	struct buf err = BUF_INIT;
	sr->stage = STAGE_POST;
	sr->ar = ar;
	sr->id = xstrdup(ar->step_id);
	sr->name = p.name;
	/* the job's env now (with what later steps added), then the step's */
	sr->env = ev_ref(je->global_env);
	for (size_t i = 0; ar->env && i < ev_len(ar->env); i++)
		sr->env = exec__obj_with(sr->env, ev_object_key_at(ar->env, i),
					 ev_ref(ev_object_val_at(ar->env, i)));
	int run = stage_if(sr, ar->def->js.post_if, "post-if", &err);
	if (run == 0) {
		exec__step_complete(sr, RESULT_SKIPPED);
	} else {
		exec__log(je, LOG_STEP_START, sr->name, sr->name, strlen(sr->name));
		if (run < 0 || run_js(sr, ar->def->js.post, &err) < 0)
			stage_fail(sr, err.buf);
	}
	buf_release(&err);
	return 1;
}

void exec__stage_complete(struct step_run *sr, enum result outcome)
{
	struct job_exec *je = sr->je;
	if (je->cur == sr)
		je->cur = NULL;
	if (sr->cmd && exec__files_process(sr) < 0 && outcome == RESULT_SUCCESS)
		outcome = RESULT_FAILURE;
	if (sr->cmd_failed && outcome == RESULT_SUCCESS)
		outcome = RESULT_FAILURE;
	/* GitHub: a failing pre or post step fails the job */
	if (outcome == RESULT_FAILURE) {
		je->top->failed = 1;
		if (je->group)
			je->group_result = RESULT_FAILURE;
	} else if (outcome == RESULT_CANCELLED) {
		je->top->cancelled = 1;
	}
	exec__step_end_event(je, sr->name, outcome, sr->start_ns);
	exec__step_free(sr);
	exec__kick(je);
}

void exec__actions_release(struct job_exec *je)
{
	/* hooks that never ran (the job was torn down) still free their data */
	while (je->nposts) {
		struct exec_post *p = &je->posts[--je->nposts];
		if (!p->ar) {
			struct builtin_post bp = { 0, p->name, drop_log, je };
			p->fn(p->data, &bp);
		}
		free(p->name);
		free(p->group);
	}
	free(je->posts);
	for (size_t i = 0; i < je->nactions; i++)
		action_free(je->actions[i]);
	free(je->actions);
	free(je->group);
}
