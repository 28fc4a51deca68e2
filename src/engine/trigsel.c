/*
 * trigsel: the event from git, matched against each workflow's triggers.
 */
#include "base/kiln.h"
#include "engine/trigsel.h"

int trigsel_init(struct trigsel *ts, const char *repo_dir, const struct trigsel_opts *o,
		 struct buf *err)
{
	struct repo_info zi = REPO_INFO_INIT;
	struct event_info ze = EVENT_INFO_INIT;
	struct trig_event zt = TRIG_EVENT_INIT;
	ts->info = zi;
	ts->event = ze;
	ts->te = zt;
	ts->inputs = o->inputs;
	ts->run = o->run;
	struct repo *r = NULL;
	int rc = repo_open(repo_dir, &r, err);
	if (rc < 0)
		return rc;
	rc = repo_get_info(r, &ts->info, err);
	struct event_opts eo = EVENT_OPTS_INIT;
	eo.name = o->event;
	eo.ref = o->ref;
	eo.base = o->base;
	eo.head = o->head;
	eo.action = o->action;
	eo.number = o->number;
	if (rc == 0)
		rc = event_build(r, &ts->info, &eo, &ts->event, err);
	repo_close(r);
	if (rc < 0)
		return rc == KILN_EIO ? rc : KILN_EINVAL;
	ts->te.name = ts->event.name;
	ts->te.ref = ts->event.filter_ref;
	ts->te.changed = ts->event.changed_known ? &ts->event.changed : NULL;
	ts->te.action = o->action;
	ts->te.cron = o->cron;
	ts->te.workflow = o->workflow;
	if (o->run) {
		ts->te.workflow = o->run->name;
		ts->te.action = "completed";
		if (o->run->head_branch)
			ts->te.ref = o->run->head_branch;
	}
	return 0;
}

void trigsel_release(struct trigsel *ts)
{
	repo_info_release(&ts->info);
	event_info_release(&ts->event);
}

int trigsel_match(struct trigsel *ts, const struct workflow *wf, struct trig_match *m,
		  struct ev **inputs, struct diags *d)
{
	if (inputs)
		*inputs = NULL;
	if (trig_match(wf, &ts->te, m, d) < 0)
		return -1;
	if (!m->matched)
		return 0;
	struct trig_inputs in = TRIG_INPUTS_INIT;
	if (!strcmp(ts->te.name, "workflow_dispatch") &&
	    trig_dispatch_inputs(wf, ts->inputs, &in, d) < 0)
		return -1;
	if (inputs)
		*inputs = trig_inputs_context(&in);
	trig_inputs_release(&in);
	return 1;
}

/* the first cron of the workflow's schedule, or NULL */
static const char *first_cron(const struct workflow *wf)
{
	for (size_t i = 0; wf && i < wf->non; i++) {
		const struct ynode *c = wf->on[i].config;
		if (!wf->on[i].event.s || strcmp(wf->on[i].event.s, "schedule") || !c ||
		    c->kind != YNODE_SEQ || !c->nr || c->items[0]->kind != YNODE_MAP)
			continue;
		const struct ynode *cron = ynode_get(c->items[0], "cron");
		return cron && cron->kind == YNODE_SCALAR ? cron->str : NULL;
	}
	return NULL;
}

struct ev *trigsel_payload(const struct trigsel *ts, const struct workflow *wf,
			   const struct ev *inputs_ctx)
{
	struct buf err = BUF_INIT;
	const char *json = ts->event.payload ? ts->event.payload : "{}";
	struct ev *p = ev_from_json(json, strlen(json), &err);
	buf_release(&err);
	if (!p)
		p = ev_object();
	if (!ev_object_get(p, "ref") && ts->event.ref && *ts->event.ref &&
	    !ev_object_get(p, "pull_request"))
		ev_object_set(p, "ref", ev_cstr(ts->event.ref));
	if (!strcmp(ts->te.name, "workflow_dispatch") && inputs_ctx) {
		/* github.event.inputs: every value as a string */
		struct ev *o = ev_object();
		struct buf s = BUF_INIT;
		for (size_t i = 0; i < ev_len(inputs_ctx); i++) {
			buf_reset(&s);
			ev_to_string(ev_object_val_at(inputs_ctx, i), &s);
			ev_object_set(o, ev_object_key_at(inputs_ctx, i), ev_cstr(s.buf));
		}
		buf_release(&s);
		ev_object_set(p, "inputs", o);
	}
	if (ts->run && !strcmp(ts->te.name, "workflow_run")) {
		struct ev *wr = trig_workflow_run_payload(ts->run);
		for (size_t i = 0; i < ev_len(wr); i++)
			ev_object_set(p, ev_object_key_at(wr, i), ev_ref(ev_object_val_at(wr, i)));
		ev_unref(wr);
	}
	const char *cron = ts->te.cron ? ts->te.cron : first_cron(wf);
	if (!strcmp(ts->te.name, "schedule") && cron)
		ev_object_set(p, "schedule", ev_cstr(cron));
	return p;
}
