/* dispatch: checks of a workflow_dispatch request (see dispatch.h). */
#include "base/kiln.h"
#include "base/diag.h"
#include "git/mirror.h"
#include "server/dispatch.h"
#include "workflow/trigger.h"
#include "workflow/workflow.h"

struct find {
	const char *name;
	struct buf data;
	int found;
};

static void on_workflow(const char *name, const char *data, size_t len, void *arg)
{
	struct find *f = arg;
	if (!strcmp(name, f->name)) {
		buf_add(&f->data, data, len);
		f->found = 1;
	}
}

static int has_trigger(const struct workflow *wf, const char *event)
{
	for (size_t i = 0; i < wf->non; i++)
		if (wf->on[i].event.s && !strcmp(wf->on[i].event.s, event))
			return 1;
	return 0;
}

void dispatch_input_text(const json_t *v, struct buf *out)
{
	buf_reset(out);
	if (json_is_string(v))
		buf_addstr(out, json_string_value(v));
	else if (json_is_boolean(v))
		buf_addstr(out, json_is_true(v) ? "true" : "false");
	else if (json_is_integer(v))
		buf_addf(out, "%lld", (long long)json_integer_value(v));
	else
		buf_addf(out, "%g", json_number_value(v));
}

/* every error of d as "FILE:LINE:COL: msg" joined by "; " */
static void join(const struct diags *d, struct buf *msg)
{
	for (size_t i = 0; i < d->nr; i++) {
		if (d->v[i].level != DIAG_ERROR)
			continue;
		if (msg->len)
			buf_addstr(msg, "; ");
		if (d->v[i].line)
			buf_addf(msg, "%s:%d:%d: ", d->v[i].file, d->v[i].line, d->v[i].col);
		buf_addstr(msg, d->v[i].msg);
	}
}

int dispatch_check(const char *mirror, const char *sha, const char *file, const json_t *inputs,
		   const char **code, struct buf *msg)
{
	struct find f = { file, BUF_INIT, 0 };
	struct workflow *wf = NULL;
	struct diags d = DIAGS_INIT, di = DIAGS_INIT;
	struct strvec kv = STRVEC_INIT;
	struct trig_inputs ti = TRIG_INPUTS_INIT;
	struct buf val = BUF_INIT;
	int rc = 0;
	char *path = xstrfmt(".github/workflows/%s", file);
	if (mirror_workflows(mirror, sha, on_workflow, &f) || !f.found) {
		rc = KILN_ENOENT;
		goto out;
	}
	if (wf_load(path, f.data.buf, f.data.len, &wf, &d) || !wf) {
		*code = "workflow_error";
		buf_addf(msg, "the workflow cannot be loaded: ");
		join(&d, msg);
		rc = KILN_EINVAL;
		goto out;
	}
	if (!has_trigger(wf, "workflow_dispatch")) {
		*code = "no_dispatch_trigger";
		buf_addf(msg, "workflow '%s' does not have a 'workflow_dispatch' trigger", path);
		rc = KILN_EINVAL;
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)inputs, k, v) {
		dispatch_input_text(v, &val);
		strvec_pushf(&kv, "%s=%s", k, val.buf);
	}
	if (trig_dispatch_inputs(wf, &kv, &ti, &di)) {
		*code = "invalid_inputs";
		join(&di, msg);
		rc = KILN_EINVAL;
	}
out:
	trig_inputs_release(&ti);
	strvec_clear(&kv);
	diags_release(&d);
	diags_release(&di);
	wf_free(wf);
	buf_release(&f.data);
	buf_release(&val);
	free(path);
	return rc;
}
