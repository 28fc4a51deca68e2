/*
 * exec_action: JavaScript actions and the stages around a job's main steps,
 * in the order GitHub's runner gives them (actions/runner ActionRunner,
 * StepsRunner, ADR 0361 "wrapper action", ADR 1144 "composite actions"):
 *
 * - pre: the `pre` of the job's remote JavaScript actions runs at job
 *   start, in step order, when `pre-if` (default always()) holds. A local
 *   action's `pre` never runs (GitHub warns "`pre` execution is not
 *   supported for local action"), nor does one of an action used inside a
 *   composite action.
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
#include "engine/exec.h"
#include "engine/nodeaction.h"

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
static const char *job_step_name(const struct step_run *sr)
{
	const struct frame *f = sr->fr;
	const struct step_run *caller = NULL;
	while (f && f->parent) {
		caller = f->caller;
		f = f->parent;
	}
	return caller ? caller->name : NULL;
}

static struct exec_post *post_push(struct step_run *sr, const char *name)
{
	struct job_exec *je = sr->je;
	ALLOC_GROW(je->posts, je->nposts + 1, je->aposts);
	struct exec_post *p = &je->posts[je->nposts++];
	memset(p, 0, sizeof(*p));
	p->name = xstrfmt("Post %s", name);
	const char *group = sr->stage == STAGE_MAIN ? job_step_name(sr) : NULL;
	p->group = group ? xstrfmt("Post %s", group) : NULL;
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
	if (!je->post_group)
		return;
	exec__step_end_event(je, je->post_group, je->group_result, je->group_start_ns);
	free(je->post_group);
	je->post_group = NULL;
}

/* show the post steps of one composite inside one step, as GitHub does */
static void enter_group(struct job_exec *je, const char *group)
{
	if (je->post_group && group && !strcmp(je->post_group, group))
		return;
	close_group(je);
	if (!group)
		return;
	je->post_group = xstrdup(group);
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

/* node <dir>/<script> as step sr, in the workspace */
static int run_js(struct step_run *sr, const char *script, struct buf *err)
{
	struct job_exec *je = sr->je;
	struct action_run *ar = sr->ar;
	if (exec__files_reset(je, err) < 0)
		return -1;
	struct strvec env = STRVEC_INIT, argv = STRVEC_INIT;
	exec__proc_env(sr, &env);
	nodeaction_env(ar->inputs, ar->state, &env);
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

void exec__start_js(struct step_run *sr, struct composite *a, struct action_source *src,
		    struct ev *with, struct ev *step_env)
{
	struct job_exec *je = sr->je;
	struct action_run *ar = NULL;
	struct buf err = BUF_INIT;

	/* a job step whose pre ran at job start: the same use of the action */
	for (size_t i = 0; !sr->fr->parent && i < je->nactions && !ar; i++)
		if (je->actions[i]->at_start && je->actions[i]->step_index == sr->st->index)
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

void exec__pre_prepare(struct job_exec *je)
{
	const struct action_resolver *r = je->spec.actions;
	const struct wf_job *job = je->spec.job;
	for (size_t i = 0; r && i < job->nsteps; i++) {
		const struct wf_step *st = &job->steps[i];
		if (!is_remote(st->uses.s))
			continue;
		struct action_source src = { 0 };
		struct buf err = BUF_INIT;
		struct diags d = DIAGS_INIT;
		struct composite *a = NULL;
		/* a failure shows when the step runs */
		struct buf self = BUF_INIT;
		int got = r->resolve(r, exec__self_uses(je, je->top, st->uses.s, &self), &src, &err);
		buf_release(&self);
		if (got > 0 &&
		    composite_load(src.dir, &a, &d) == 0 && a->node && a->js.pre) {
			struct action_run *ar = action_new(je, a, &src);
			ar->at_start = 1;
			ar->step_index = i;
			a = NULL;
		}
		composite_free(a);
		diags_release(&d);
		buf_release(&err);
		action_source_release(&src);
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
	if (!ar)
		return 0;
	const struct wf_step *st = &je->spec.job->steps[ar->step_index];
	struct step_run *sr = exec__step_new(je, root, st);
	struct buf err = BUF_INIT;
	sr->stage = STAGE_PRE;
	sr->ar = ar;
	sr->id = xstrdup(wf_step_id(st));
	struct ev *base = exec__frame_env(je, root);
	ar->name = exec__step_display_name(je, root, st, base);
	sr->name = xstrfmt("Pre %s", ar->name);
	ar->step_id = xstrdup(sr->id);
	struct ev *step_env = exec__eval_env(je, root, base, st->env, ev_object(), &err);
	sr->env = ev_ref(base);
	ev_unref(base);
	if (!step_env) {
		exec__log(je, LOG_STEP_START, sr->name, sr->name, strlen(sr->name));
		stage_fail(sr, err.buf);
		buf_release(&err);
		return 1;
	}
	for (size_t i = 0; i < ev_len(step_env); i++)
		sr->env = exec__obj_with(sr->env, ev_object_key_at(step_env, i),
					 ev_ref(ev_object_val_at(step_env, i)));
	ar->env = exec__env_overlay(root, step_env);
	ev_unref(step_env);

	int run = stage_if(sr, ar->def->js.pre_if, "pre-if", &err);
	if (run == 0) {
		exec__step_free(sr);
		buf_release(&err);
		return 1;
	}
	exec__log(je, LOG_STEP_START, sr->name, sr->name, strlen(sr->name));
	if (run < 0) {
		stage_fail(sr, err.buf);
		buf_release(&err);
		return 1;
	}
	struct ev *with = exec__eval_with(sr, &err);
	if (!with) {
		stage_fail(sr, err.buf);
		buf_release(&err);
		return 1;
	}
	ar->inputs = exec__action_inputs(sr, ar->def, with);
	ev_unref(with);
	if (ar->def->js.post)
		register_post(sr, ar);
	if (run_js(sr, ar->def->js.pre, &err) < 0)
		stage_fail(sr, err.buf);
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
	enter_group(je, p.group);
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
		if (je->post_group)
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
	free(je->post_group);
}
