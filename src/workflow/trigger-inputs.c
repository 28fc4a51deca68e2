/*
 * trigger-inputs: workflow_dispatch inputs — declarations validated,
 * `--input NAME=VALUE` typed (string, boolean, number, choice,
 * environment), defaults applied — and the inputs / workflow_run payload
 * values for the expression contexts.
 */
#include "base/kiln.h"
#include "workflow/trigger-int.h"

#include <ctype.h>
#include <math.h>

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
	const struct ynode *inputs = trig__cfg(t, "inputs");
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

void trig__check_inputs(const struct workflow *wf, const struct wf_trigger *t, struct diags *d)
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
	const struct wf_trigger *t = trig__find(wf, "workflow_dispatch");
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

struct ev *trig_workflow_run_payload(const struct trig_run *run)
{
	struct ev *wr = ev_object();
	ev_object_set(wr, "id", ev_number((double)run->id));
	ev_object_set(wr, "name", ev_cstr(run->name ? run->name : ""));
	ev_object_set(wr, "path", ev_cstr(run->path ? run->path : ""));
	ev_object_set(wr, "status", ev_cstr("completed"));
	ev_object_set(wr, "conclusion", ev_cstr(run->conclusion ? run->conclusion : ""));
	ev_object_set(wr, "head_branch", ev_cstr(run->head_branch ? run->head_branch : ""));
	ev_object_set(wr, "head_sha", ev_cstr(run->head_sha ? run->head_sha : ""));
	ev_object_set(wr, "event", ev_cstr(run->event ? run->event : ""));
	ev_object_set(wr, "run_number", ev_number((double)run->run_number));
	struct ev *w = ev_object();
	ev_object_set(w, "name", ev_cstr(run->name ? run->name : ""));
	ev_object_set(w, "path", ev_cstr(run->path ? run->path : ""));
	struct ev *o = ev_object();
	ev_object_set(o, "action", ev_cstr("completed"));
	ev_object_set(o, "workflow_run", wr);
	ev_object_set(o, "workflow", w);
	return o;
}

