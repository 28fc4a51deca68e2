/*
 * exec_ctx: the expression contexts a job's steps see and the evaluation
 * helpers of the executor. Context objects are rebuilt for each
 * evaluation from immutable parts (the scheduler's contexts, the frame's
 * steps context, the step's env), so no shared value is ever mutated.
 */
#include "base/kiln.h"
#include "engine/plan.h"
#include "engine/exec.h"
#include "engine/services.h"

struct ev *exec__obj_with(struct ev *o, const char *key, struct ev *v)
{
	struct ev *n = ev_object();
	if (o) {
		for (size_t i = 0; i < ev_len(o); i++)
			if (strcasecmp(ev_object_key_at(o, i), key))
				ev_object_set(n, ev_object_key_at(o, i), ev_ref(ev_object_val_at(o, i)));
		ev_unref(o);
	}
	ev_object_set(n, key, v);
	return n;
}

enum expr_status exec__status(struct job_exec *je, struct frame *fr)
{
	if (je->cancelled || je->timed_out)
		return EXPR_STATUS_CANCELLED;
	for (struct frame *f = fr; f; f = f->parent)
		if (f->timed_out)
			return EXPR_STATUS_CANCELLED;
	for (struct frame *f = fr; f; f = f->parent)
		if (f->failed)
			return EXPR_STATUS_FAILURE;
	return EXPR_STATUS_SUCCESS;
}

static const char *status_name(enum expr_status s)
{
	switch (s) {
	case EXPR_STATUS_FAILURE:
		return "failure";
	case EXPR_STATUS_CANCELLED:
		return "cancelled";
	default:
		return "success";
	}
}

/* inside a composite action: github.action_path (and the action's
 * repository and ref when it was fetched), as GitHub's runner sets them
 * for the action's steps */
static void action_github(struct ev *c, const struct action_source *src)
{
	const struct ev *g = ev_object_get(c, "github");
	struct ev *gh = g && ev_kind(g) == EV_OBJECT ? ev_ref((struct ev *)g) : ev_object();
	gh = exec__obj_with(gh, "action_path", ev_cstr(src->dir ? src->dir : ""));
	gh = exec__obj_with(gh, "action_repository", ev_cstr(src->repository ? src->repository : ""));
	gh = exec__obj_with(gh, "action_ref", ev_cstr(src->ref ? src->ref : ""));
	ev_object_set(c, "github", gh);
}

struct ev *exec__contexts(struct job_exec *je, struct frame *fr, const struct ev *env)
{
	struct ev *c = ev_object();
	const struct ev *given = je->spec.contexts;
	if (given && ev_kind(given) == EV_OBJECT)
		for (size_t i = 0; i < ev_len(given); i++)
			ev_object_set(c, ev_object_key_at(given, i), ev_ref(ev_object_val_at(given, i)));
	struct ev *job = ev_object();
	/* job.status is the job's, whatever frame asks */
	struct frame *root = fr;
	while (root && root->parent)
		root = root->parent;
	ev_object_set(job, "status", ev_cstr(status_name(exec__status(je, root))));
	if (je->svc) {
		ev_object_set(job, "services", svc_context(je->svc));
		struct ev *ctr = svc_container_context(je->svc);
		if (ctr)
			ev_object_set(job, "container", ctr);
	}
	ev_object_set(c, "job", job);
	ev_object_set(c, "runner", ev_ref(je->runner_ctx));
	ev_object_set(c, "env", env ? ev_ref(env) : ev_ref(je->global_env));
	if (fr) {
		ev_object_set(c, "steps", ev_ref(fr->steps_ctx));
		if (fr->inputs)
			ev_object_set(c, "inputs", ev_ref(fr->inputs));
	}
	if (fr && fr->action)
		action_github(c, &fr->src);
	return c;
}

static void fill_ctx(struct job_exec *je, struct frame *fr, struct expr_ctx *x, struct ev *c)
{
	memset(x, 0, sizeof(*x));
	x->contexts = c;
	x->status = exec__status(je, fr);
	x->workspace = je->workspace;
}

struct ev *exec__eval_value(struct job_exec *je, struct frame *fr, const struct ev *env,
			    const char *tmpl, struct buf *err)
{
	/* fast path: nothing to evaluate */
	long end;
	if (expr_find(tmpl, strlen(tmpl), 0, &end) < 0)
		return ev_cstr(tmpl);
	struct ev *c = exec__contexts(je, fr, env);
	struct expr_ctx x;
	fill_ctx(je, fr, &x, c);
	struct ev *v = expr_interpolate(tmpl, strlen(tmpl), &x, err);
	ev_unref(c);
	return v;
}

struct ev *exec__eval_node(struct job_exec *je, struct frame *fr, const struct ev *env,
			   const struct ynode *n, struct buf *err, int *line, int *col)
{
	struct ev *c = exec__contexts(je, fr, env);
	struct expr_ctx x;
	fill_ctx(je, fr, &x, c);
	struct ev *v = plan_value(n, &x, err, line, col);
	ev_unref(c);
	return v;
}

char *exec__eval_str(struct job_exec *je, struct frame *fr, const struct ev *env,
		     const char *tmpl, struct buf *err)
{
	struct ev *v = exec__eval_value(je, fr, env, tmpl, err);
	if (!v)
		return NULL;
	struct buf b = BUF_INIT;
	ev_to_string(v, &b);
	ev_unref(v);
	return buf_detach(&b, NULL);
}

static struct ev *scalar_value(struct job_exec *je, struct frame *fr, const struct ev *env,
			       const struct ynode *n, struct buf *err)
{
	if (n->kind != YNODE_SCALAR)
		return NULL;
	if (ynode_is_null(n))
		return ev_cstr("");
	return exec__eval_value(je, fr, env, n->str, err);
}

void exec__err_at(const struct job_exec *je, const struct frame *fr, const struct ynode *at,
		  struct buf *err)
{
	const char *file = fr && fr->action ? fr->action->file : je->spec.wf ? je->spec.wf->file : NULL;
	if (!at || !file || !at->line)
		return;
	struct buf m = BUF_INIT;
	buf_addf(&m, "%s:%d:%d: %s", file, at->line, at->col, err->buf);
	buf_reset(err);
	buf_add(err, m.buf, m.len);
	buf_release(&m);
}

struct env_walk {
	struct job_exec *je;
	struct frame *fr;
	const struct ev *env;
	struct ev *obj;
};

static struct ev *env_eval(void *arg, const struct ynode *n, struct buf *err)
{
	const struct env_walk *ew = arg;
	struct ev *v = scalar_value(ew->je, ew->fr, ew->env, n, err);
	if (!v && !err->len)
		buf_addstr(err, "expected a string");
	return v;
}

static int env_pair(void *arg, const char *key, const struct ynode *vn, const struct ev *value,
		    struct buf *err)
{
	struct env_walk *ew = arg;
	if (vn && vn->kind != YNODE_SCALAR) {
		buf_addf(err, "env: the value of '%s' must be a string", key);
		return -1;
	}
	struct ev *v = vn ? scalar_value(ew->je, ew->fr, ew->env, vn, err) : ev_ref(value);
	if (!v) {
		struct buf m = BUF_INIT;
		buf_addf(&m, "env '%s': %s", key, err->buf);
		buf_reset(err);
		buf_add(err, m.buf, m.len);
		buf_release(&m);
		return -1;
	}
	struct buf s = BUF_INIT;
	ev_to_string(v, &s);
	ev_unref(v);
	ew->obj = exec__obj_with(ew->obj, key, ev_string(s.buf, s.len));
	buf_release(&s);
	return 0;
}

struct ev *exec__eval_env_at(struct job_exec *je, struct frame *fr, const struct ev *env,
			     const struct ynode *node, struct ev *obj, struct buf *err,
			     const struct ynode **where)
{
	const struct ynode *at = NULL;
	if (!node || ynode_is_null(node))
		return obj;
	if (node->kind == YNODE_SCALAR) {
		/* env: ${{ fromJSON(...) }} — an object of values */
		struct ev *v = scalar_value(je, fr, env, node, err);
		if (!v)
			goto fail;
		if (ev_kind(v) != EV_OBJECT) {
			buf_addf(err, "env: expected a mapping, got '%s'", node->str);
			ev_unref(v);
			goto fail;
		}
		for (size_t i = 0; i < ev_len(v); i++) {
			struct buf s = BUF_INIT;
			ev_to_string(ev_object_val_at(v, i), &s);
			obj = exec__obj_with(obj, ev_object_key_at(v, i), ev_string(s.buf, s.len));
			buf_release(&s);
		}
		ev_unref(v);
		return obj;
	}
	if (node->kind != YNODE_MAP) {
		buf_addf(err, "env: expected a mapping");
		goto fail;
	}
	/* keys may be expressions and `${{ insert }}` (plan_map_walk) */
	struct env_walk ew = { je, fr, env, obj };
	if (plan_map_walk(node, env_eval, env_pair, &ew, err, &at) < 0) {
		obj = ew.obj;
		goto fail;
	}
	return ew.obj;
fail:
	/* the pair's node, else the env itself */
	*where = at ? at : node;
	ev_unref(obj);
	return NULL;
}

struct ev *exec__eval_env(struct job_exec *je, struct frame *fr, const struct ev *env,
			  const struct ynode *node, struct ev *obj, struct buf *err)
{
	const struct ynode *at = NULL;
	struct ev *r = exec__eval_env_at(je, fr, env, node, obj, err, &at);
	if (!r)
		exec__err_at(je, fr, at, err);
	return r;
}
