/*
 * trigger: matching one event against a workflow's `on:` with GitHub's
 * filter rules (GitHub docs: "Events that trigger workflows" and workflow
 * syntax on.<push|pull_request>.*), explaining every decision in a reason.
 * workflow_dispatch inputs are in trigger-inputs.c.
 */
#include "base/kiln.h"
#include "git/glob.h"
#include "workflow/cron.h"
#include "workflow/trigger-int.h"

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

const struct ynode *trig__cfg(const struct wf_trigger *t, const char *key)
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
	f->branches = trig__cfg(t, "branches");
	f->branches_ignore = trig__cfg(t, "branches-ignore");
	f->tags = trig__cfg(t, "tags");
	f->tags_ignore = trig__cfg(t, "tags-ignore");
	f->paths = trig__cfg(t, "paths");
	f->paths_ignore = trig__cfg(t, "paths-ignore");
	f->types = trig__cfg(t, "types");
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
	const struct ynode *wfs = trig__cfg(t, "workflows");
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

const struct wf_trigger *trig__find(const struct workflow *wf, const char *event)
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
	m->trigger = trig__find(wf, ev->name);
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
		if (!strcmp(t->event.s, "workflow_run") && !trig__cfg(t, "workflows"))
			diag_err(d, wf->file, t->event.line, t->event.col,
				 "on.workflow_run needs 'workflows' (the names of the workflows to follow)");
		if (!strcmp(t->event.s, "workflow_dispatch"))
			trig__check_inputs(wf, t, d);
	}
	return (int)(d->errors - before);
}
