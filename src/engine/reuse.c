/*
 * reuse: loading and checking reusable workflow calls, and the values that
 * cross a call (inputs, secrets, outputs).
 */
#include "base/kiln.h"
#include "engine/reuse.h"

#include <strings.h>
#include <unistd.h>

/* the callee's on.workflow_call mapping (NULL when it has no config), or
 * -1 in *has when the callee has no workflow_call trigger */
static const struct ynode *call_config(const struct workflow *wf, int *has)
{
	const struct wf_trigger *t = wf_find_trigger(wf, "workflow_call");
	*has = t != NULL;
	return t && t->config && t->config->kind == YNODE_MAP ? t->config : NULL;
}

static const struct ynode *call_section(const struct reuse_call *c, const char *key)
{
	const struct ynode *m = c->call ? ynode_get(c->call, key) : NULL;
	return m && m->kind == YNODE_MAP ? m : NULL;
}

static const char *input_type(const struct ynode *def)
{
	const struct ynode *t = def && def->kind == YNODE_MAP ? ynode_get(def, "type") : NULL;
	return t && t->kind == YNODE_SCALAR ? t->str : "string";
}

/* v converted to the input's type, or NULL when it does not fit */
static struct ev *typed(const char *type, const struct ev *v)
{
	enum ev_kind k = ev_kind(v);
	if (!strcmp(type, "boolean")) {
		if (k == EV_BOOL)
			return ev_ref((struct ev *)v);
		if (k == EV_STRING && !strcasecmp(ev_get_str(v, NULL), "true"))
			return ev_bool(1);
		if (k == EV_STRING && !strcasecmp(ev_get_str(v, NULL), "false"))
			return ev_bool(0);
		return NULL;
	}
	if (!strcmp(type, "number")) {
		if (k == EV_NUMBER)
			return ev_ref((struct ev *)v);
		if (k == EV_STRING) {
			const char *s = ev_get_str(v, NULL);
			char *end;
			double d = strtod(s, &end);
			if (*s && !*end)
				return ev_number(d);
		}
		return NULL;
	}
	if (k == EV_ARRAY || k == EV_OBJECT)
		return NULL;
	struct buf b = BUF_INIT;
	ev_to_string(v, &b);
	struct ev *r = ev_string(b.buf, b.len);
	buf_release(&b);
	return r;
}

/* a literal `with:` value (no expression) as a value, else NULL */
static struct ev *literal(const struct ynode *n)
{
	if (n->kind != YNODE_SCALAR || plan_has_expr(n->str, strlen(n->str)))
		return NULL;
	struct ev *empty = ev_object();
	struct expr_ctx ctx = { .contexts = empty };
	struct buf err = BUF_INIT;
	struct ev *v = plan_value(n, &ctx, &err, NULL, NULL);
	buf_release(&err);
	ev_unref(empty);
	return v;
}

static int check_with(const struct reuse_call *c, const struct workflow *wf, struct diags *d)
{
	const struct wf_job *job = c->job;
	const struct ynode *defs = call_section(c, "inputs");
	int ret = 0;
	if (job->with && job->with->kind == YNODE_MAP) {
		for (size_t i = 0; i < ynode_map_size(job->with); i++) {
			const struct ynode *k = ynode_map_key(job->with, i);
			const struct ynode *v = ynode_map_val(job->with, i);
			const struct ynode *def = defs ? ynode_get(defs, k->str) : NULL;
			if (!def) {
				ret = diag_err(d, wf->file, k->line, k->col,
					       "job '%s': '%s' has no input '%s'", job->id.s,
					       job->uses.s, k->str);
				continue;
			}
			struct ev *lit = literal(v);
			struct ev *t = lit ? typed(input_type(def), lit) : NULL;
			if (lit && !t)
				ret = diag_err(d, wf->file, v->line, v->col,
					       "job '%s': input '%s' must be a %s", job->id.s, k->str,
					       input_type(def));
			ev_unref(t);
			ev_unref(lit);
		}
	}
	for (size_t i = 0; defs && i < ynode_map_size(defs); i++) {
		const struct ynode *k = ynode_map_key(defs, i), *def = ynode_map_val(defs, i);
		const struct ynode *req = def->kind == YNODE_MAP ? ynode_get(def, "required") : NULL;
		int required = req && req->kind == YNODE_SCALAR && !strcmp(req->str, "true");
		int given = job->with && job->with->kind == YNODE_MAP && ynode_get(job->with, k->str);
		if (required && !given && !(def->kind == YNODE_MAP && ynode_get(def, "default")))
			ret = diag_err(d, wf->file, job->uses.line, job->uses.col,
				       "job '%s': required input '%s' of '%s' is not given",
				       job->id.s, k->str, job->uses.s);
	}
	const struct ynode *sec = job->secrets;
	if (sec && !(sec->kind == YNODE_MAP || (sec->kind == YNODE_SCALAR &&
						 !strcmp(sec->str, "inherit"))))
		ret = diag_err(d, wf->file, sec->line, sec->col,
			       "job '%s': 'secrets' must be a mapping or 'inherit'", job->id.s);
	return ret;
}

static int load_one(struct reuse_set *rs, const struct workflow *wf, const struct wf_job *job,
		    size_t wf_index, const char *repo_dir, struct diags *d)
{
	const char *u = job->uses.s;
	if (strncmp(u, "./", 2) || strchr(u, '@'))
		return diag_err(d, wf->file, job->uses.line, job->uses.col,
				"job '%s': kiln runs reusable workflows of this repository only "
				"('./.github/workflows/FILE.yml'), not '%s'", job->id.s, u);
	if (job->strategy.matrix)
		return diag_err(d, wf->file, job->strategy.matrix->line, job->strategy.matrix->col,
				"job '%s': kiln does not run a matrix of reusable workflow calls yet",
				job->id.s);
	char *path = xstrfmt("%s/%s", repo_dir, u + 2);
	if (access(path, R_OK) < 0) {
		int r = diag_err(d, wf->file, job->uses.line, job->uses.col,
				 "job '%s': reusable workflow '%s' not found", job->id.s, u);
		free(path);
		return r;
	}
	struct reuse_call c = { .job = job, .plan = PLAN_INIT };
	int r = wf_load_file(path, &c.callee, d);
	free(path);
	if (r < 0 || !c.callee)
		return -1;
	int has;
	c.call = call_config(c.callee, &has);
	if (!has) {
		wf_free(c.callee);
		return diag_err(d, wf->file, job->uses.line, job->uses.col,
				"job '%s': '%s' is not a reusable workflow (no 'on: workflow_call')",
				job->id.s, u);
	}
	for (size_t i = 0; i < c.callee->njobs; i++)
		if (c.callee->jobs[i].uses.s) {
			const struct wf_job *cj = &c.callee->jobs[i];
			diag_err(d, c.callee->file, cj->uses.line, cj->uses.col,
				 "job '%s': kiln does not run nested reusable workflows", cj->id.s);
			wf_free(c.callee);
			return -1;
		}
	r = check_with(&c, wf, d);
	plan_add_workflow(&c.plan, c.callee, wf_index, d);
	if (plan_finish(&c.plan, d) < 0)
		r = -1;
	ALLOC_GROW(rs->v, rs->nr + 1, rs->alloc);
	rs->v[rs->nr++] = c;
	return r;
}

int reuse_load(struct reuse_set *rs, const struct workflow *wf, size_t wf_index,
	       const char *repo_dir, struct diags *d)
{
	int ret = 0;
	for (size_t i = 0; i < wf->njobs; i++)
		if (wf->jobs[i].uses.s && load_one(rs, wf, &wf->jobs[i], wf_index, repo_dir, d) < 0)
			ret = -1;
	return ret;
}

const struct reuse_call *reuse_find(const struct reuse_set *rs, const struct wf_job *job)
{
	for (size_t i = 0; rs && i < rs->nr; i++)
		if (rs->v[i].job == job)
			return &rs->v[i];
	return NULL;
}

void reuse_release(struct reuse_set *rs)
{
	for (size_t i = 0; i < rs->nr; i++) {
		plan_release(&rs->v[i].plan);
		wf_free(rs->v[i].callee);
	}
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

struct ev *reuse_inputs(const struct reuse_call *c, const struct expr_ctx *ctx, struct buf *err)
{
	const struct ynode *defs = call_section(c, "inputs");
	const struct ynode *with = c->job->with && c->job->with->kind == YNODE_MAP ? c->job->with
										  : NULL;
	struct ev *out = ev_object();
	for (size_t i = 0; defs && i < ynode_map_size(defs); i++) {
		const struct ynode *k = ynode_map_key(defs, i), *def = ynode_map_val(defs, i);
		const struct ynode *src = with ? ynode_get(with, k->str) : NULL;
		if (!src && def->kind == YNODE_MAP)
			src = ynode_get(def, "default");
		const char *type = input_type(def);
		struct ev *v = src ? plan_value(src, ctx, err, NULL, NULL) : NULL;
		if (src && !v) {
			ev_unref(out);
			return NULL;
		}
		if (!v) /* GitHub: an input without value is its type's zero */
			v = !strcmp(type, "boolean") ? ev_bool(0) :
			    !strcmp(type, "number") ? ev_number(0) : ev_cstr("");
		struct ev *t = typed(type, v);
		ev_unref(v);
		if (!t) {
			buf_addf(err, "input '%s' must be a %s", k->str, type);
			ev_unref(out);
			return NULL;
		}
		ev_object_set(out, k->str, t);
	}
	return out;
}

struct ev *reuse_secrets(const struct reuse_call *c, const struct expr_ctx *ctx, struct buf *err)
{
	const struct ynode *sec = c->job->secrets;
	if (sec && sec->kind == YNODE_SCALAR) { /* inherit */
		const struct ev *s = ev_object_get(ctx->contexts, "secrets");
		return s ? ev_ref((struct ev *)s) : ev_object();
	}
	struct ev *out = ev_object();
	for (size_t i = 0; sec && i < ynode_map_size(sec); i++) {
		const struct ynode *k = ynode_map_key(sec, i);
		struct ev *v = plan_value(ynode_map_val(sec, i), ctx, err, NULL, NULL);
		if (!v) {
			ev_unref(out);
			return NULL;
		}
		struct buf b = BUF_INIT;
		ev_to_string(v, &b);
		ev_unref(v);
		ev_object_set(out, k->str, ev_string(b.buf, b.len));
		buf_release(&b);
	}
	return out;
}

struct ev *reuse_outputs(const struct reuse_call *c, const struct expr_ctx *ctx, struct buf *err)
{
	const struct ynode *defs = call_section(c, "outputs");
	struct ev *out = ev_object();
	for (size_t i = 0; defs && i < ynode_map_size(defs); i++) {
		const struct ynode *k = ynode_map_key(defs, i), *def = ynode_map_val(defs, i);
		const struct ynode *val = def->kind == YNODE_MAP ? ynode_get(def, "value") : NULL;
		struct ev *v = val ? plan_value(val, ctx, err, NULL, NULL) : ev_cstr("");
		if (!v) {
			ev_unref(out);
			return NULL;
		}
		struct buf b = BUF_INIT;
		ev_to_string(v, &b);
		ev_unref(v);
		ev_object_set(out, k->str, ev_string(b.buf, b.len));
		buf_release(&b);
	}
	return out;
}
