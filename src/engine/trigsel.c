/*
 * trigsel: the event from git, matched against each workflow's triggers.
 */
#include "base/kiln.h"
#include "engine/trigsel.h"

#include <git2.h>

#include <strings.h>

static const char zero_sha[] = "0000000000000000000000000000000000000000";

/* the string at a path of object keys in v, or NULL */
static const char *str_path(const struct ev *v, const char *a, const char *b, const char *c)
{
	const char *keys[] = { a, b, c };
	for (size_t i = 0; i < ARRAY_SIZE(keys) && keys[i]; i++) {
		if (!v || ev_kind(v) != EV_OBJECT)
			return NULL;
		v = ev_object_get(v, keys[i]);
	}
	return v && ev_kind(v) == EV_STRING && *ev_get_str(v, NULL) ? ev_get_str(v, NULL) : NULL;
}

/* rev when it names a commit of the repository, else NULL */
static const char *known(struct repo *r, const char *rev)
{
	char hex[REPO_OID_HEX];
	struct buf e = BUF_INIT;
	int ok = rev && strcmp(rev, zero_sha) && repo_resolve(r, rev, hex, &e) == 0;
	buf_release(&e);
	return ok ? rev : NULL;
}

/* `after` / head sha named by the payload but absent here: say so */
static void warn_missing(const char *what, const char *rev)
{
	if (rev && strcmp(rev, zero_sha))
		fprintf(stderr, "kiln: warning: event file: %s '%s' is not a commit of this "
			"repository; using HEAD\n", what, rev);
}

/* what the -e payload says, where the flags (already in eo) say nothing */
static void payload_opts(struct repo *r, const struct ev *p, const char *event,
			 struct event_opts *eo, struct strvec *inputs)
{
	int pr = !strncmp(event, "pull_request", 12);
	if (!eo->action)
		eo->action = str_path(p, "action", NULL, NULL);
	if (pr) {
		const struct ev *num = ev_object_get(p, "number");
		if (!num || ev_kind(num) != EV_NUMBER)
			num = ev_object_get(ev_object_get(p, "pull_request") ?
					    ev_object_get(p, "pull_request") : p, "number");
		if (!eo->number && num && ev_kind(num) == EV_NUMBER && ev_get_number(num) >= 1 &&
		    ev_get_number(num) < 2147483647.0)
			eo->number = (int)ev_get_number(num);
		if (!eo->head) {
			const char *name = str_path(p, "pull_request", "head", "ref");
			const char *sha = str_path(p, "pull_request", "head", "sha");
			eo->head = known(r, sha) ? sha : known(r, name);
			if (!eo->head && name)
				warn_missing("pull_request.head", sha ? sha : name);
			eo->head_name = name;
		}
		if (!eo->base) {
			const char *name = str_path(p, "pull_request", "base", "ref");
			const char *sha = str_path(p, "pull_request", "base", "sha");
			eo->base = known(r, sha) ? sha : known(r, name);
			eo->base_name = name;
		}
		return;
	}
	if (!eo->ref) {
		if (!strcmp(event, "release") && str_path(p, "release", "tag_name", NULL))
			eo->ref = str_path(p, "release", "tag_name", NULL);
		else if (!strcmp(event, "deployment") || !strcmp(event, "deployment_status"))
			eo->ref = str_path(p, "deployment", "ref", NULL);
		else
			eo->ref = str_path(p, "ref", NULL, NULL);
	}
	if (!eo->head) {
		const char *after = str_path(p, "after", NULL, NULL);
		if (!after && (!strcmp(event, "deployment") || !strcmp(event, "deployment_status")))
			after = str_path(p, "deployment", "sha", NULL);
		eo->head = known(r, after);
		if (!eo->head)
			warn_missing("after", after);
	}
	if (!eo->base && !strcmp(event, "push"))
		eo->base = known(r, str_path(p, "before", NULL, NULL));
	const struct ev *in = ev_object_get(p, "inputs");
	for (size_t i = 0; in && ev_kind(in) == EV_OBJECT && i < ev_len(in); i++) {
		const struct ev *v = ev_object_val_at(in, i);
		if (ev_kind(v) == EV_ARRAY || ev_kind(v) == EV_OBJECT)
			continue;
		struct buf b = BUF_INIT;
		if (ev_kind(v) != EV_NULL)
			ev_to_string(v, &b);
		strvec_pushf(inputs, "%s=%s", ev_object_key_at(in, i), b.buf);
		buf_release(&b);
	}
}

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
	struct strvec zs = STRVEC_INIT;
	ts->payload_inputs = zs;
	ts->run = o->run;
	ts->repo = NULL;
	const char *hint;
	if (o->event && !wf_event_known(o->event, &hint)) {
		buf_addf(err, "unknown event '%s'", o->event);
		if (hint)
			buf_addf(err, " (did you mean '%s'?)", hint);
		return KILN_EINVAL;
	}
	if (o->action && !wf_event_type_known(o->event ? o->event : "push", o->action, &hint)) {
		buf_addf(err, "'%s' is not an activity type of '%s'", o->action,
			 o->event ? o->event : "push");
		if (hint)
			buf_addf(err, " (did you mean '%s'?)", hint);
		return KILN_EINVAL;
	}
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
	char *create_ref = NULL;
	if (rc == 0 && o->payload) {
		payload_opts(r, o->payload, o->event ? o->event : "push", &eo, &ts->payload_inputs);
		/* create: `ref` is a short name, `ref_type` says branch or tag */
		const char *rt = str_path(o->payload, "ref_type", NULL, NULL);
		const char *cr = str_path(o->payload, "ref", NULL, NULL);
		if (!o->ref && o->event && !strcmp(o->event, "create") && rt && cr &&
		    !str_starts_with(cr, "refs/"))
			eo.ref = create_ref = xstrfmt("refs/%s/%s", !strcmp(rt, "tag") ? "tags" : "heads",
						      cr);
		else if (!o->ref && o->event && !strcmp(o->event, "release") && eo.ref &&
			 !str_starts_with(eo.ref, "refs/"))
			eo.ref = create_ref = xstrfmt("refs/tags/%s", eo.ref);
	}
	if (rc == 0)
		rc = event_build(r, &ts->info, &eo, &ts->event, err);
	/* a commit the user named is what runs; else what they are editing */
	ts->worktree = rc == 0 && !eo.head && !eo.ref && ts->info.has_commit &&
		       !strcmp(ts->event.sha, ts->info.sha) && !git_repository_is_bare(repo_git(r));
	free(create_ref);
	if (rc < 0) {
		repo_close(r);
		return rc == KILN_EIO ? rc : KILN_EINVAL;
	}
	ts->repo = r;
	ts->te.name = ts->event.name;
	ts->te.ref = ts->event.filter_ref;
	ts->te.changed = ts->event.changed_known ? &ts->event.changed : NULL;
	ts->te.action = o->action ? o->action : str_path(o->payload, "action", NULL, NULL);
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
	repo_close(ts->repo);
	ts->repo = NULL;
	repo_info_release(&ts->info);
	event_info_release(&ts->event);
	strvec_clear(&ts->payload_inputs);
}

/*
 * workflow_dispatch inputs for wf: the payload's (only names the workflow
 * declares: a payload may serve several workflows), then --input (the last
 * one given wins, so the flags win)
 */
static void dispatch_kv(const struct trigsel *ts, const struct workflow *wf, struct strvec *kv)
{
	const struct wf_trigger *t = wf_find_trigger(wf, "workflow_dispatch");
	const struct ynode *decl = t && t->config && t->config->kind == YNODE_MAP ?
		ynode_get(t->config, "inputs") : NULL;
	for (size_t i = 0; decl && decl->kind == YNODE_MAP && i < ts->payload_inputs.nr; i++) {
		const char *kvs = ts->payload_inputs.v[i];
		size_t nl = (size_t)(strchr(kvs, '=') - kvs);
		for (size_t k = 0; k < ynode_map_size(decl); k++) {
			const struct ynode *key = ynode_map_key(decl, k);
			if (key->str && strlen(key->str) == nl && !strncasecmp(key->str, kvs, nl)) {
				strvec_push(kv, kvs);
				break;
			}
		}
	}
	for (size_t i = 0; ts->inputs && i < ts->inputs->nr; i++)
		strvec_push(kv, ts->inputs->v[i]);
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
	if (!strcmp(ts->te.name, "workflow_dispatch")) {
		struct strvec kv = STRVEC_INIT;
		dispatch_kv(ts, wf, &kv);
		int r = trig_dispatch_inputs(wf, &kv, &in, d);
		strvec_clear(&kv);
		if (r < 0)
			return -1;
	}
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
