/*
 * trigger: matching one event against a workflow's `on:` with GitHub's
 * filter rules (GitHub docs: "Events that trigger workflows" and workflow
 * syntax on.<push|pull_request>.*), explaining every decision in a reason.
 * Also workflow_dispatch inputs: declarations checked, --input values typed.
 */
#include "base/kiln.h"
#include "git/glob.h"
#include "workflow/cron.h"
#include "workflow/trigger.h"

#include <ctype.h>
#include <math.h>

/* the filters of one push / pull_request / workflow_run trigger, compiled */
struct filters {
	const struct ynode *branches, *branches_ignore, *tags, *tags_ignore, *paths,
		*paths_ignore, *types;
	struct glob_list b, bi, t, ti, p, pi;
};

#define FILTERS_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, GLOB_LIST_INIT, \
	GLOB_LIST_INIT, GLOB_LIST_INIT, GLOB_LIST_INIT, GLOB_LIST_INIT, GLOB_LIST_INIT }

static void filters_release(struct filters *f)
{
	glob_list_release(&f->b);
	glob_list_release(&f->bi);
	glob_list_release(&f->t);
	glob_list_release(&f->ti);
	glob_list_release(&f->p);
	glob_list_release(&f->pi);
}

const char *trig_ref_name(const char *ref, int *is_tag)
{
	int tag = 0;
	const char *name = ref ? ref : "";
	if (str_starts_with(name, "refs/heads/"))
		name += strlen("refs/heads/");
	else if (str_starts_with(name, "refs/tags/")) {
		name += strlen("refs/tags/");
		tag = 1;
	}
	if (is_tag)
		*is_tag = tag;
	return name;
}

static const struct ynode *cfg_get(const struct wf_trigger *t, const char *key)
{
	if (!t->config || t->config->kind != YNODE_MAP)
		return NULL;
	return ynode_get(t->config, key);
}

/* a scalar or a sequence of scalars, as strings; -1 (and an error) otherwise */
static int for_each_str(const struct workflow *wf, const struct wf_trigger *t, const char *key,
			const struct ynode *n, struct strvec *out, struct diags *d)
{
	if (n->kind == YNODE_SCALAR && !ynode_is_null(n)) {
		strvec_push(out, n->str);
		return 0;
	}
	if (n->kind == YNODE_SEQ) {
		for (size_t i = 0; i < n->nr; i++) {
			const struct ynode *it = n->items[i];
			if (it->kind != YNODE_SCALAR)
				return diag_err(d, wf->file, it->line, it->col,
						"on.%s.%s: each item must be a string, not %s",
						t->event.s, key, ynode_kind_name(it));
			strvec_push(out, it->str);
		}
		return 0;
	}
	return diag_err(d, wf->file, n->line, n->col,
			"on.%s.%s must be a string or a list of strings", t->event.s, key);
}

/* compile the patterns under `key` into l */
static int load_globs(const struct workflow *wf, const struct wf_trigger *t, const char *key,
		      const struct ynode *n, struct glob_list *l, struct diags *d)
{
	if (!n)
		return 0;
	struct strvec pats = STRVEC_INIT;
	int rc = for_each_str(wf, t, key, n, &pats, d);
	for (size_t i = 0; rc == 0 && i < pats.nr; i++) {
		struct buf err = BUF_INIT;
		if (glob_list_add(l, pats.v[i], &err) < 0) {
			const struct ynode *at = n->kind == YNODE_SEQ ? n->items[i] : n;
			rc = diag_err(d, wf->file, at->line, at->col, "on.%s.%s: %s", t->event.s, key,
				      err.buf);
		}
		buf_release(&err);
	}
	strvec_clear(&pats);
	return rc;
}

/* the key node of `key` in the trigger's mapping (for positions), or NULL */
static const struct ynode *cfg_key(const struct wf_trigger *t, const char *key)
{
	if (!t->config || t->config->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < ynode_map_size(t->config); i++) {
		const struct ynode *k = ynode_map_key(t->config, i);
		if (k->kind == YNODE_SCALAR && !strcmp(k->str, key))
			return k;
	}
	return NULL;
}

static int exclusive(const struct workflow *wf, const struct wf_trigger *t, const struct ynode *a,
		     const struct ynode *b, const char *what, struct diags *d)
{
	if (!a || !b)
		return 0;
	char ign[32];
	snprintf(ign, sizeof(ign), "%s-ignore", what);
	const struct ynode *k = cfg_key(t, ign);
	return diag_err(d, wf->file, k ? k->line : b->line, k ? k->col : b->col,
			"on.%s: '%s' and '%s-ignore' cannot be used together for the same event",
			t->event.s, what, what);
}

static int parse_filters(const struct workflow *wf, const struct wf_trigger *t, struct filters *f,
			 struct diags *d)
{
	f->branches = cfg_get(t, "branches");
	f->branches_ignore = cfg_get(t, "branches-ignore");
	f->tags = cfg_get(t, "tags");
	f->tags_ignore = cfg_get(t, "tags-ignore");
	f->paths = cfg_get(t, "paths");
	f->paths_ignore = cfg_get(t, "paths-ignore");
	f->types = cfg_get(t, "types");
	size_t before = d->errors;
	exclusive(wf, t, f->branches, f->branches_ignore, "branches", d);
	exclusive(wf, t, f->tags, f->tags_ignore, "tags", d);
	exclusive(wf, t, f->paths, f->paths_ignore, "paths", d);
	load_globs(wf, t, "branches", f->branches, &f->b, d);
	load_globs(wf, t, "branches-ignore", f->branches_ignore, &f->bi, d);
	load_globs(wf, t, "tags", f->tags, &f->t, d);
	load_globs(wf, t, "tags-ignore", f->tags_ignore, &f->ti, d);
	load_globs(wf, t, "paths", f->paths, &f->p, d);
	load_globs(wf, t, "paths-ignore", f->paths_ignore, &f->pi, d);
	if (f->types) {
		struct strvec ty = STRVEC_INIT;
		for_each_str(wf, t, "types", f->types, &ty, d);
		strvec_clear(&ty);
	}
	return d->errors > before ? -1 : 0;
}

/* "'main', 'release/x'" for reasons */
static void add_list(struct buf *b, const struct glob_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		buf_addf(b, "%s'%s'", i ? ", " : "", l->v[i].src);
}

/*
 * Name filter (branches / tags): include list `inc` or ignore list `ign`.
 * Returns 1 when `name` passes; explains in reason.
 */
static int name_ok(const char *kind, const char *key, const char *name,
		   const struct glob_list *inc, const struct glob_list *ign, struct buf *reason)
{
	long which;
	if (inc->nr) {
		if (glob_list_match(inc, name, &which)) {
			buf_addf(reason, "%s '%s' matches %s pattern '%s'", kind, name, key,
				 inc->v[which].src);
			return 1;
		}
		if (which >= 0)
			buf_addf(reason, "%s '%s' is excluded by %s pattern '%s'", kind, name, key,
				 inc->v[which].src);
		else {
			buf_addf(reason, "%s '%s' matches none of %s: ", kind, name, key);
			add_list(reason, inc);
		}
		return 0;
	}
	if (ign->nr) {
		if (glob_list_match(ign, name, &which)) {
			buf_addf(reason, "%s '%s' is ignored by %s-ignore pattern '%s'", kind, name, key,
				 ign->v[which].src);
			return 0;
		}
		buf_addf(reason, "%s '%s' is not in %s-ignore", kind, name, key);
		return 1;
	}
	return 1;
}

static int paths_ok(const struct filters *f, const struct strvec *changed, struct buf *reason)
{
	if (!f->p.nr && !f->pi.nr)
		return 1;
	const char *key = f->p.nr ? "paths" : "paths-ignore";
	if (!changed) {
		buf_addf(reason, "; changed files unknown, %s not applied", key);
		return 1;
	}
	size_t n = changed->nr < TRIG_MAX_PATHS ? changed->nr : TRIG_MAX_PATHS;
	if (n == 0) {
		buf_addf(reason, "; no files changed, so %s cannot match", key);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const char *file = changed->v[i];
		long which;
		int hit;
		if (f->p.nr) {
			hit = glob_list_match(&f->p, file, &which);
			if (hit) {
				buf_addf(reason, "; changed file '%s' matches paths pattern '%s'", file,
					 f->p.v[which].src);
				return 1;
			}
		} else if (!glob_list_match(&f->pi, file, &which)) {
			buf_addf(reason, "; changed file '%s' is not in paths-ignore", file);
			return 1;
		}
	}
	if (f->p.nr) {
		buf_addf(reason, "; none of the %zu changed file%s matches paths: ", n, n == 1 ? "" : "s");
		add_list(reason, &f->p);
	} else {
		buf_addf(reason, "; all %zu changed file%s match paths-ignore: ", n, n == 1 ? "" : "s");
		add_list(reason, &f->pi);
	}
	return 0;
}

/* activity types: `types:` when given, else the event's defaults */
static int types_ok(const struct workflow *wf, const struct wf_trigger *t, const struct filters *f,
		    const char *action, const char *const *defaults, struct buf *reason,
		    struct diags *d)
{
	struct strvec ty = STRVEC_INIT;
	int ok = 1;
	if (f->types) {
		for_each_str(wf, t, "types", f->types, &ty, d);
	} else {
		for (size_t i = 0; defaults && defaults[i]; i++)
			strvec_push(&ty, defaults[i]);
	}
	if (ty.nr && action && strvec_find(&ty, action) < 0) {
		buf_addf(reason, "activity type '%s' is not in %stypes: ", action,
			 f->types ? "" : "the default ");
		for (size_t i = 0; i < ty.nr; i++)
			buf_addf(reason, "%s%s", i ? ", " : "", ty.v[i]);
		ok = 0;
	}
	strvec_clear(&ty);
	return ok;
}

static int match_push(const struct trig_event *ev, const struct filters *f, struct buf *reason)
{
	int is_tag;
	const char *name = trig_ref_name(ev->ref, &is_tag);
	const char *kind = is_tag ? "tag" : "branch";
	int has_b = f->b.nr || f->bi.nr, has_t = f->t.nr || f->ti.nr;
	if (!ev->ref || !*name) {
		buf_addstr(reason, "push of an unknown ref");
		return !has_b && !has_t && paths_ok(f, ev->changed, reason);
	}
	/* only one kind of ref filter: pushes of the other kind never run */
	if (is_tag && has_b && !has_t) {
		buf_addf(reason, "push to tag '%s': only branch filters are set", name);
		return 0;
	}
	if (!is_tag && has_t && !has_b) {
		buf_addf(reason, "push to branch '%s': only tag filters are set", name);
		return 0;
	}
	if (is_tag) {
		if (!name_ok(kind, "tags", name, &f->t, &f->ti, reason))
			return 0;
		if (!has_t)
			buf_addf(reason, "push to tag '%s'", name);
		/* GitHub: path filters are not evaluated for pushes of tags */
		if (f->p.nr || f->pi.nr)
			buf_addstr(reason, "; paths filters are not evaluated for tags");
		return 1;
	}
	if (!name_ok(kind, "branches", name, &f->b, &f->bi, reason))
		return 0;
	if (!has_b)
		buf_addf(reason, "push to branch '%s'", name);
	return paths_ok(f, ev->changed, reason);
}

static const char *const pr_default_types[] = { "opened", "synchronize", "reopened", NULL };

static int match_pull_request(const struct workflow *wf, const struct wf_trigger *t,
			      const struct trig_event *ev, const struct filters *f,
			      struct buf *reason, struct diags *d)
{
	const char *action = ev->action ? ev->action : "opened";
	if (!types_ok(wf, t, f, action, pr_default_types, reason, d))
		return 0;
	const char *base = trig_ref_name(ev->ref, NULL);
	if (ev->ref && *base) {
		if (!name_ok("base branch", "branches", base, &f->b, &f->bi, reason))
			return 0;
		if (!f->b.nr && !f->bi.nr)
			buf_addf(reason, "pull request (%s) into '%s'", action, base);
	} else {
		buf_addf(reason, "pull request (%s)", action);
	}
	return paths_ok(f, ev->changed, reason);
}

static int match_workflow_run(const struct workflow *wf, const struct wf_trigger *t,
			      const struct trig_event *ev, const struct filters *f,
			      struct buf *reason, struct diags *d)
{
	const struct ynode *wfs = cfg_get(t, "workflows");
	struct strvec names = STRVEC_INIT;
	if (!wfs) {
		diag_err(d, wf->file, t->event.line, t->event.col,
			 "on.workflow_run needs 'workflows' (the names of the workflows to follow)");
		return -1;
	}
	if (for_each_str(wf, t, "workflows", wfs, &names, d) < 0)
		return -1;
	int ok = 1;
	if (ev->workflow && strvec_find(&names, ev->workflow) < 0) {
		buf_addf(reason, "workflow '%s' is not in workflows: ", ev->workflow);
		for (size_t i = 0; i < names.nr; i++)
			buf_addf(reason, "%s'%s'", i ? ", " : "", names.v[i]);
		ok = 0;
	}
	strvec_clear(&names);
	if (!ok)
		return 0;
	const char *action = ev->action ? ev->action : "completed";
	if (!types_ok(wf, t, f, action, NULL, reason, d))
		return 0;
	const char *branch = trig_ref_name(ev->ref, NULL);
	if (ev->ref && *branch && !name_ok("branch", "branches", branch, &f->b, &f->bi, reason))
		return 0;
	if (reason->len)
		buf_addstr(reason, "; ");
	buf_addf(reason, "workflow '%s' %s", ev->workflow ? ev->workflow : "(any)", action);
	return 1;
}

/* collapse runs of blanks so "0  5 * * *" equals "0 5 * * *" */
static void normalize_cron(const char *s, struct buf *out)
{
	buf_reset(out);
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t') {
			if (out->len && out->buf[out->len - 1] != ' ')
				buf_addch(out, ' ');
		} else {
			buf_addch(out, *s);
		}
	}
	buf_rtrim(out);
}

static int match_schedule(const struct workflow *wf, const struct wf_trigger *t,
			  const struct trig_event *ev, struct buf *reason, struct diags *d)
{
	const struct ynode *seq = t->config;
	if (!seq || seq->kind != YNODE_SEQ || !seq->nr) {
		int line = seq ? seq->line : t->event.line, col = seq ? seq->col : t->event.col;
		diag_err(d, wf->file, line, col, "on.schedule must be a list of '- cron: ...' entries");
		return -1;
	}
	struct buf want = BUF_INIT, have = BUF_INIT;
	int found = 0, rc = 0;
	if (ev->cron)
		normalize_cron(ev->cron, &want);
	for (size_t i = 0; i < seq->nr && rc == 0; i++) {
		const struct ynode *c = seq->items[i]->kind == YNODE_MAP ?
			ynode_get(seq->items[i], "cron") : NULL;
		if (!c || c->kind != YNODE_SCALAR) {
			rc = diag_err(d, wf->file, seq->items[i]->line, seq->items[i]->col,
				      "on.schedule entries need a 'cron' string");
			break;
		}
		normalize_cron(c->str, &have);
		if (!found && (!ev->cron || !strcmp(want.buf, have.buf))) {
			buf_addf(reason, "scheduled by cron '%s'", have.buf);
			found = 1;
		}
	}
	if (rc == 0 && !found)
		buf_addf(reason, "no schedule entry has cron '%s'", want.buf);
	buf_release(&want);
	buf_release(&have);
	return rc < 0 ? -1 : found;
}

static const struct wf_trigger *find_trigger(const struct workflow *wf, const char *event)
{
	for (size_t i = 0; i < wf->non; i++)
		if (wf->on[i].event.s && !strcmp(wf->on[i].event.s, event))
			return &wf->on[i];
	return NULL;
}

static void no_trigger(const struct workflow *wf, const char *event, struct buf *reason)
{
	buf_addf(reason, "not triggered by '%s' (on: ", event);
	for (size_t i = 0; i < wf->non; i++)
		buf_addf(reason, "%s%s", i ? ", " : "", wf->on[i].event.s);
	buf_addstr(reason, wf->non ? ")" : "nothing)");
}

int trig_match(const struct workflow *wf, const struct trig_event *ev, struct trig_match *m,
	       struct diags *d)
{
	m->matched = 0;
	buf_reset(&m->reason);
	m->trigger = find_trigger(wf, ev->name);
	if (!m->trigger) {
		no_trigger(wf, ev->name, &m->reason);
		return 0;
	}
	const struct wf_trigger *t = m->trigger;
	struct filters f = FILTERS_INIT;
	int r;
	if (!strcmp(ev->name, "schedule")) {
		r = match_schedule(wf, t, ev, &m->reason, d);
	} else if (parse_filters(wf, t, &f, d) < 0) {
		r = -1;
	} else if (!strcmp(ev->name, "push")) {
		r = match_push(ev, &f, &m->reason);
	} else if (!strcmp(ev->name, "pull_request") || !strcmp(ev->name, "pull_request_target")) {
		r = match_pull_request(wf, t, ev, &f, &m->reason, d);
	} else if (!strcmp(ev->name, "workflow_run")) {
		r = match_workflow_run(wf, t, ev, &f, &m->reason, d);
	} else if (!strcmp(ev->name, "workflow_dispatch")) {
		buf_addstr(&m->reason, "dispatched manually");
		r = 1;
	} else {
		r = types_ok(wf, t, &f, ev->action, NULL, &m->reason, d);
		if (r && !m->reason.len)
			buf_addf(&m->reason, "on: %s%s%s", ev->name, ev->action ? " " : "",
				 ev->action ? ev->action : "");
	}
	filters_release(&f);
	if (r < 0)
		return -1;
	m->matched = r;
	return 0;
}

void trig_match_release(struct trig_match *m)
{
	buf_release(&m->reason);
	m->trigger = NULL;
	m->matched = 0;
}

/* ---- workflow_dispatch inputs ---- */

static const char *const type_names[] = { "string", "boolean", "number", "choice", "environment" };

const char *trig_input_type_name(enum trig_input_type t)
{
	return (size_t)t < ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

/* one declared input */
struct input_decl {
	const struct ynode *key;     /* the input's name node (for positions) */
	enum trig_input_type type;
	int required;
	const struct ynode *def;     /* default scalar, or NULL */
	const struct ynode *options; /* choice options (sequence), or NULL */
};

static int yaml_bool(const char *s, int *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		*out = 1;
	else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* is `val` acceptable for the input? canonical text into canon, else why */
static int check_value(const struct input_decl *dcl, const char *val, struct buf *canon,
		       struct buf *why)
{
	buf_reset(canon);
	switch (dcl->type) {
	case TI_BOOLEAN:
		if (!strcasecmp(val, "true") || !strcasecmp(val, "false")) {
			buf_addstr(canon, strcasecmp(val, "true") ? "false" : "true");
			return 0;
		}
		buf_addstr(why, "expects a boolean (true or false)");
		return -1;
	case TI_NUMBER: {
		char *end;
		double v = strtod(val, &end);
		if (*val && !isspace((unsigned char)*val) && !*end && end != val && isfinite(v)) {
			buf_addstr(canon, val);
			return 0;
		}
		buf_addstr(why, "expects a number");
		return -1;
	}
	case TI_CHOICE:
		for (size_t i = 0; dcl->options && i < dcl->options->nr; i++) {
			const struct ynode *o = dcl->options->items[i];
			if (o->kind == YNODE_SCALAR && !strcmp(o->str, val)) {
				buf_addstr(canon, val);
				return 0;
			}
		}
		buf_addstr(why, "must be one of ");
		for (size_t i = 0; dcl->options && i < dcl->options->nr; i++)
			if (dcl->options->items[i]->kind == YNODE_SCALAR)
				buf_addf(why, "%s'%s'", i ? ", " : "", dcl->options->items[i]->str);
		return -1;
	case TI_ENVIRONMENT:
		if (!*val) {
			buf_addstr(why, "expects an environment name");
			return -1;
		}
		buf_addstr(canon, val);
		return 0;
	case TI_STRING:
		break;
	}
	buf_addstr(canon, val);
	return 0;
}

static int read_type(const struct workflow *wf, const char *name, const struct ynode *ty,
		     struct input_decl *dcl, struct diags *d)
{
	dcl->type = TI_STRING;
	if (!ty || ynode_is_null(ty))
		return 0;
	for (size_t i = 0; ty->kind == YNODE_SCALAR && i < ARRAY_SIZE(type_names); i++) {
		if (!strcmp(ty->str, type_names[i])) {
			dcl->type = (enum trig_input_type)i;
			return 0;
		}
	}
	return diag_err(d, wf->file, ty->line, ty->col,
			"workflow_dispatch input '%s': unknown type '%s' (expected string, boolean, "
			"number, choice or environment)", name, ty->kind == YNODE_SCALAR ? ty->str : "?");
}

/* read and validate one declaration; -1 with errors in d */
static int read_decl(const struct workflow *wf, const struct ynode *key, const struct ynode *spec,
		     struct input_decl *dcl, struct diags *d)
{
	memset(dcl, 0, sizeof(*dcl));
	dcl->key = key;
	const char *name = key->str;
	if (!spec || ynode_is_null(spec))
		return 0;
	if (spec->kind != YNODE_MAP)
		return diag_err(d, wf->file, spec->line, spec->col,
				"workflow_dispatch input '%s' must be a mapping", name);
	if (read_type(wf, name, ynode_get(spec, "type"), dcl, d) < 0)
		return -1;
	const struct ynode *req = ynode_get(spec, "required");
	if (req && !ynode_is_null(req) &&
	    (req->kind != YNODE_SCALAR || yaml_bool(req->str, &dcl->required) < 0))
		return diag_err(d, wf->file, req->line, req->col,
				"workflow_dispatch input '%s': 'required' must be true or false", name);
	dcl->options = ynode_get(spec, "options");
	if (dcl->type == TI_CHOICE && (!dcl->options || dcl->options->kind != YNODE_SEQ ||
				       !dcl->options->nr))
		return diag_err(d, wf->file, key->line, key->col,
				"workflow_dispatch input '%s' of type choice needs a non-empty 'options' list",
				name);
	dcl->def = ynode_get(spec, "default");
	if (dcl->def && ynode_is_null(dcl->def))
		dcl->def = NULL;
	if (dcl->def && dcl->def->kind != YNODE_SCALAR)
		return diag_err(d, wf->file, dcl->def->line, dcl->def->col,
				"workflow_dispatch input '%s': 'default' must be a scalar", name);
	if (dcl->def) {
		struct buf canon = BUF_INIT, why = BUF_INIT;
		int rc = 0;
		if (check_value(dcl, dcl->def->str, &canon, &why) < 0)
			rc = diag_err(d, wf->file, dcl->def->line, dcl->def->col,
				      "workflow_dispatch input '%s': default '%s' %s", name,
				      dcl->def->str, why.buf);
		buf_release(&canon);
		buf_release(&why);
		return rc;
	}
	return 0;
}

/* every declaration; returns the count (>= 0) or -1 on errors; *out owned */
static long read_decls(const struct workflow *wf, const struct wf_trigger *t,
		       struct input_decl **out, struct diags *d)
{
	*out = NULL;
	const struct ynode *inputs = cfg_get(t, "inputs");
	if (!inputs || ynode_is_null(inputs))
		return 0;
	if (inputs->kind != YNODE_MAP)
		return diag_err(d, wf->file, inputs->line, inputs->col,
				"on.workflow_dispatch.inputs must be a mapping");
	size_t n = ynode_map_size(inputs);
	struct input_decl *v = xcalloc(n ? n : 1, sizeof(*v));
	int bad = 0;
	for (size_t i = 0; i < n; i++)
		if (read_decl(wf, ynode_map_key(inputs, i), ynode_map_val(inputs, i), &v[i], d) < 0)
			bad = 1;
	if (bad) {
		free(v);
		return -1;
	}
	*out = v;
	return (long)n;
}

static void check_input_decls(const struct workflow *wf, const struct wf_trigger *t,
			      struct diags *d)
{
	struct input_decl *v;
	if (read_decls(wf, t, &v, d) >= 0)
		free(v);
}

static long find_decl(const struct input_decl *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].key->str, name))
			return (long)i;
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(v[i].key->str, name))
			return (long)i;
	return -1;
}

static void unknown_input(const struct workflow *wf, const struct wf_trigger *t,
			  const struct input_decl *v, size_t n, const char *name, struct diags *d)
{
	const char **names = xcalloc(n ? n : 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = v[i].key->str;
	const char *hint = did_you_mean(name, names, n);
	if (!n)
		diag_err(d, wf->file, t->event.line, t->event.col,
			 "unknown workflow_dispatch input '%s' (the workflow declares no inputs)", name);
	else if (hint)
		diag_err(d, wf->file, t->event.line, t->event.col,
			 "unknown workflow_dispatch input '%s' (did you mean '%s'?)", name, hint);
	else
		diag_err(d, wf->file, t->event.line, t->event.col,
			 "unknown workflow_dispatch input '%s'", name);
	free(names);
}

/* apply --input NAME=VALUE strings: given[i] = value for declaration i */
static void apply_kv(const struct workflow *wf, const struct wf_trigger *t,
		     const struct input_decl *v, size_t n, const struct strvec *kv,
		     const char **given, struct diags *d)
{
	for (size_t i = 0; kv && i < kv->nr; i++) {
		const char *eq = strchr(kv->v[i], '=');
		if (!eq || eq == kv->v[i]) {
			diag_err(d, wf->file, 0, 0, "input '%s' is not NAME=VALUE", kv->v[i]);
			continue;
		}
		char *name = xstrndup(kv->v[i], (size_t)(eq - kv->v[i]));
		long k = find_decl(v, n, name);
		if (k < 0)
			unknown_input(wf, t, v, n, name, d);
		else
			given[k] = eq + 1; /* the last one given wins */
		free(name);
	}
}

static void push_input(struct trig_inputs *out, const struct input_decl *dcl, const char *value,
		       int from_default)
{
	ALLOC_GROW(out->v, out->nr + 1, out->alloc);
	struct trig_input *in = &out->v[out->nr++];
	in->name = xstrdup(dcl->key->str);
	in->type = dcl->type;
	in->value = xstrdup(value);
	in->from_default = from_default;
}

/* the value input i takes; -1 with an error when it has none or a bad one */
static int resolve_one(const struct workflow *wf, const struct input_decl *dcl, const char *given,
		       struct trig_inputs *out, struct diags *d)
{
	const char *name = dcl->key->str;
	if (!given && !dcl->def) {
		if (dcl->required)
			return diag_err(d, wf->file, dcl->key->line, dcl->key->col,
					"workflow_dispatch input '%s' is required (use --input %s=VALUE)",
					name, name);
		push_input(out, dcl, dcl->type == TI_BOOLEAN ? "false" :
				     dcl->type == TI_NUMBER ? "0" : "", 1);
		return 0;
	}
	struct buf canon = BUF_INIT, why = BUF_INIT;
	const char *val = given ? given : dcl->def->str;
	int rc = 0;
	if (check_value(dcl, val, &canon, &why) < 0)
		rc = diag_err(d, wf->file, dcl->key->line, dcl->key->col,
			      "workflow_dispatch input '%s' %s (got '%s')", name, why.buf, val);
	else
		push_input(out, dcl, canon.buf, !given);
	buf_release(&canon);
	buf_release(&why);
	return rc;
}

int trig_dispatch_inputs(const struct workflow *wf, const struct strvec *kv,
			 struct trig_inputs *out, struct diags *d)
{
	size_t before = d->errors;
	const struct wf_trigger *t = find_trigger(wf, "workflow_dispatch");
	if (!t) {
		if (kv && kv->nr)
			diag_err(d, wf->file, 0, 0,
				 "inputs given but the workflow has no workflow_dispatch trigger");
		return d->errors > before ? -1 : 0;
	}
	struct input_decl *v;
	long n = read_decls(wf, t, &v, d);
	if (n < 0)
		return -1;
	const char **given = xcalloc((size_t)n + 1, sizeof(*given));
	apply_kv(wf, t, v, (size_t)n, kv, given, d);
	for (long i = 0; i < n; i++)
		resolve_one(wf, &v[i], given[i], out, d);
	free(given);
	free(v);
	if (d->errors > before) {
		trig_inputs_release(out);
		return -1;
	}
	return 0;
}

void trig_inputs_release(struct trig_inputs *in)
{
	for (size_t i = 0; i < in->nr; i++) {
		free(in->v[i].name);
		free(in->v[i].value);
	}
	free(in->v);
	struct trig_inputs z = TRIG_INPUTS_INIT;
	*in = z;
}

struct ev *trig_inputs_context(const struct trig_inputs *in)
{
	struct ev *o = ev_object();
	for (size_t i = 0; i < in->nr; i++) {
		const struct trig_input *t = &in->v[i];
		struct ev *v;
		if (t->type == TI_BOOLEAN)
			v = ev_bool(!strcmp(t->value, "true"));
		else if (t->type == TI_NUMBER)
			v = ev_number(strtod(t->value, NULL));
		else
			v = ev_cstr(t->value);
		ev_object_set(o, t->name, v);
	}
	return o;
}

struct ev *trig_inputs_payload(const struct trig_inputs *in)
{
	struct ev *o = ev_object();
	for (size_t i = 0; i < in->nr; i++)
		ev_object_set(o, in->v[i].name, ev_cstr(in->v[i].value));
	return o;
}

const struct trig_input *trig_inputs_get(const struct trig_inputs *in, const char *name)
{
	for (size_t i = 0; i < in->nr; i++)
		if (!strcasecmp(in->v[i].name, name))
			return &in->v[i];
	return NULL;
}

static int check_schedule(const struct workflow *wf, const struct wf_trigger *t, struct diags *d)
{
	struct trig_event ev = TRIG_EVENT_INIT;
	struct buf reason = BUF_INIT;
	ev.name = "schedule";
	int rc = match_schedule(wf, t, &ev, &reason, d) < 0 ? -1 : 0;
	buf_release(&reason);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < t->config->nr; i++) {
		const struct ynode *c = ynode_get(t->config->items[i], "cron");
		struct cron cr;
		struct buf err = BUF_INIT;
		if (cron_parse(c->str, &cr, &err) < 0)
			rc = diag_err(d, wf->file, c->line, c->col, "%s", err.buf);
		buf_release(&err);
	}
	return rc;
}

int trig_check(const struct workflow *wf, struct diags *d)
{
	size_t before = d->errors;
	for (size_t i = 0; i < wf->non; i++) {
		const struct wf_trigger *t = &wf->on[i];
		if (!t->event.s)
			continue;
		if (!strcmp(t->event.s, "schedule")) {
			check_schedule(wf, t, d);
			continue;
		}
		struct filters f = FILTERS_INIT;
		parse_filters(wf, t, &f, d);
		filters_release(&f);
		if (!strcmp(t->event.s, "workflow_run") && !cfg_get(t, "workflows"))
			diag_err(d, wf->file, t->event.line, t->event.col,
				 "on.workflow_run needs 'workflows' (the names of the workflows to follow)");
		if (!strcmp(t->event.s, "workflow_dispatch"))
			check_input_decls(wf, t, d);
	}
	return (int)(d->errors - before);
}
