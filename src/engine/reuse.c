/*
 * reuse: loading and checking reusable workflow calls, and the values that
 * cross a call (inputs, secrets, outputs).
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/reuse.h"

#include <errno.h>
#include <strings.h>

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
			if (k->kind == YNODE_SCALAR && k->str && plan_has_expr(k->str, k->len))
				continue; /* a key known at run time (reuse_inputs checks it) */
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
		int given = job->with && job->with->kind == YNODE_MAP &&
			    (ynode_get(job->with, k->str) || plan_map_has_exprs(job->with));
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

/* one top-level workflow's tree of calls */
struct tree {
	struct reuse_set *rs;
	const struct reuse_env *env;
	size_t wf_index;
	struct strvec unique; /* callees seen (GitHub's 50 limit) */
	struct diags *d;
};

/*
 * The callee's text and the name it is shown under, for `./` (the run's
 * work tree), `$/` (the calling file's repository at its commit) and
 * owner/repo/path@ref. Returns 1 loaded, 0 left out (not cached while
 * listing), -1 error in d.
 */
static int read_callee(struct tree *t, const struct workflow *wf, const struct wf_job *job,
		       const struct actref_src *wsrc, struct buf *text, char **label,
		       const struct actref_src **src)
{
	const struct reuse_env *env = t->env;
	const char *u = job->uses.s;
	struct buf err = BUF_INIT;
	int r = -1;
	*src = NULL;
	*label = NULL;
	if (!strncmp(u, "./", 2)) {
		*label = xstrfmt("%s/%s", env->repo_dir, u + 2);
		struct buf why = BUF_INIT;
		char *path = env->files ? xstrfmt("%s/%s", env->files, u + 2) : NULL;
		int rr = fs_read_input(path ? path : *label, FS_INPUT_MAX, text, &why);
		free(path);
		if (rr == -ENOENT)
			buf_addf(&err, "reusable workflow '%s' not found", u);
		else if (rr < 0)
			buf_addf(&err, "cannot read reusable workflow '%s': %s", u, why.buf);
		else
			r = 1;
		buf_release(&why);
	} else if (!env->cache) {
		buf_addf(&err, "kiln runs reusable workflows of this repository only here, not '%s'", u);
	} else if (actref_is_self(u, NULL)) {
		if (!wsrc && actref_self(env->cache, env->repo_dir, env->repository, env->sha, &wsrc,
					 &err) < 0) {
			/* err set */
		} else if (actref_read(env->cache, wsrc, u + 2, text, &err) == 0) {
			*src = wsrc;
			*label = wsrc->dir ? xstrfmt("%s/%s@%s", wsrc->repo, u + 2, wsrc->ref)
					   : xstrdup(u);
			r = 1;
		}
	} else {
		struct actref ar;
		if (actref_parse(u, &ar, &err) == 0) {
			int g = actref_get(env->cache, ar.repo, ar.ref, env->network, src, &err);
			if (g == KILN_ENOENT && !env->network) {
				r = 0;
			} else if (g == 0 && actref_read(env->cache, *src, ar.path, text, &err) == 0) {
				*label = xstrdup(u);
				r = 1;
			}
			actref_release(&ar);
		}
	}
	if (r < 0)
		diag_err(t->d, wf->file, job->uses.line, job->uses.col, "job '%s': %s", job->id.s,
			 err.buf);
	buf_release(&err);
	return r;
}

static int load_calls(struct tree *t, const struct workflow *wf, const struct actref_src *wsrc,
		      int level);

static int load_one(struct tree *t, const struct workflow *wf, const struct wf_job *job,
		    const struct actref_src *wsrc, int level)
{
	struct diags *d = t->d;
	const char *u = job->uses.s;
	if (level + 1 >= REUSE_MAX_LEVELS) /* the callee would be one level too deep */
		return diag_err(d, wf->file, job->uses.line, job->uses.col,
				"job '%s': reusable workflows are nested too deeply (GitHub allows "
				"%d levels: the caller and %d called)", job->id.s,
				REUSE_MAX_LEVELS, REUSE_MAX_LEVELS - 1);
	struct buf text = BUF_INIT;
	char *label;
	struct reuse_call c = { .job = job, .plan = PLAN_INIT };
	int r = read_callee(t, wf, job, wsrc, &text, &label, &c.src);
	if (r <= 0) {
		free(label);
		buf_release(&text);
		return r;
	}
	size_t k;
	for (k = 0; k < t->unique.nr && strcmp(t->unique.v[k], label); k++)
		;
	if (k == t->unique.nr)
		strvec_push(&t->unique, label);
	if (t->unique.nr > REUSE_MAX_UNIQUE) {
		r = diag_err(d, wf->file, job->uses.line, job->uses.col,
			     "job '%s': more than %d unique reusable workflows are called from "
			     "one workflow (GitHub's limit)", job->id.s, REUSE_MAX_UNIQUE);
		goto out;
	}
	r = wf_load(label, text.buf, text.len, &c.callee, d);
	if (r < 0 || !c.callee) {
		r = -1;
		goto out;
	}
	int has;
	c.call = call_config(c.callee, &has);
	if (!has) {
		wf_free(c.callee);
		r = diag_err(d, wf->file, job->uses.line, job->uses.col,
			     "job '%s': '%s' is not a reusable workflow (no 'on: workflow_call')",
			     job->id.s, u);
		goto out;
	}
	r = check_with(&c, wf, d);
	plan_add_workflow(&c.plan, c.callee, t->wf_index, d);
	if (plan_finish(&c.plan, d) < 0)
		r = -1;
	if (c.src) {
		c.wf_src.repository = xstrdup(c.src->repo);
		c.wf_src.ref = xstrdup(c.src->ref);
	}
	ALLOC_GROW(t->rs->v, t->rs->nr + 1, t->rs->alloc);
	t->rs->v[t->rs->nr++] = c;
	/* the callee's own calls: `$/` there means the callee's repository */
	if (load_calls(t, c.callee, c.src, level + 1) < 0)
		r = -1;
out:
	free(label);
	buf_release(&text);
	return r;
}

static int load_calls(struct tree *t, const struct workflow *wf, const struct actref_src *wsrc,
		      int level)
{
	int ret = 0;
	for (size_t i = 0; i < wf->njobs; i++) {
		if (!wf->jobs[i].uses.s)
			continue;
		/* -j: a call the run does not make is neither fetched nor checked */
		long pj = !level && t->env->only ? plan_find(t->env->only, wf, wf->jobs[i].id.s) : -1;
		if (pj >= 0 && !t->env->only->jobs[pj].selected)
			continue;
		if (load_one(t, wf, &wf->jobs[i], wsrc, level) < 0)
			ret = -1;
	}
	return ret;
}

int reuse_load(struct reuse_set *rs, const struct workflow *wf, size_t wf_index,
	       const struct reuse_env *env, struct diags *d)
{
	struct tree t = { rs, env, wf_index, STRVEC_INIT, d };
	int r = load_calls(&t, wf, NULL, 0);
	strvec_clear(&t.unique);
	return r;
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
		action_source_release(&rs->v[i].wf_src);
	}
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

struct ev *reuse_inputs(const struct reuse_call *c, const struct expr_ctx *ctx, struct buf *err)
{
	const struct ynode *defs = call_section(c, "inputs");
	const struct ynode *with = c->job->with && c->job->with->kind == YNODE_MAP ? c->job->with
										  : NULL;
	/* `with:` keys that are expressions or `${{ insert }}`: the whole mapping
	 * evaluated first, then every key must name an input */
	struct ev *given = NULL;
	if (with && plan_map_has_exprs(with)) {
		given = plan_value(with, ctx, err, NULL, NULL);
		if (!given)
			return NULL;
		for (size_t i = 0; i < ev_len(given); i++)
			if (!defs || !ynode_get(defs, ev_object_key_at(given, i))) {
				buf_addf(err, "'%s' has no input '%s'", c->job->uses.s,
					 ev_object_key_at(given, i));
				ev_unref(given);
				return NULL;
			}
	}
	struct ev *out = ev_object();
	for (size_t i = 0; defs && i < ynode_map_size(defs); i++) {
		const struct ynode *k = ynode_map_key(defs, i), *def = ynode_map_val(defs, i);
		const struct ynode *src = with && !given ? ynode_get(with, k->str) : NULL;
		const struct ev *gv = given ? ev_object_get(given, k->str) : NULL;
		const char *type = input_type(def);
		const struct ynode *req = def->kind == YNODE_MAP ? ynode_get(def, "required") : NULL;
		if (given && !gv && !ynode_get(def, "default") && req && req->kind == YNODE_SCALAR &&
		    req->str && !strcmp(req->str, "true")) {
			buf_addf(err, "required input '%s' of '%s' is not given", k->str,
				 c->job->uses.s);
			ev_unref(given);
			ev_unref(out);
			return NULL;
		}
		if (!src && !gv && def->kind == YNODE_MAP)
			src = ynode_get(def, "default");
		struct ev *v = gv ? ev_ref(gv) : src ? plan_value(src, ctx, err, NULL, NULL) : NULL;
		if (src && !v) {
			ev_unref(given);
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
			ev_unref(given);
			ev_unref(out);
			return NULL;
		}
		ev_object_set(out, k->str, t);
	}
	ev_unref(given);
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
	if (!sec || sec->kind != YNODE_MAP)
		return out;
	/* the mapping as one value: keys may be expressions or `${{ insert }}` */
	struct ev *all = plan_value(sec, ctx, err, NULL, NULL);
	if (!all) {
		ev_unref(out);
		return NULL;
	}
	for (size_t i = 0; i < ev_len(all); i++) {
		struct buf b = BUF_INIT;
		ev_to_string(ev_object_val_at(all, i), &b);
		ev_object_set(out, ev_object_key_at(all, i), ev_string(b.buf, b.len));
		buf_release(&b);
	}
	ev_unref(all);
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
