/*
 * events: the `on:` key in its three forms (a string, a list of event
 * names, a mapping of event -> configuration) into wf->on, with each known
 * event's configuration checked against the keys GitHub accepts.
 */
#include "workflow/wf-int.h"

/* filters shared by several events */
#define BRANCHES { "branches", K_STR | K_SEQ }, { "branches-ignore", K_STR | K_SEQ }
#define PATHS { "paths", K_STR | K_SEQ }, { "paths-ignore", K_STR | K_SEQ }
#define TYPES { "types", K_STR | K_SEQ }

static const struct wf__key push_keys[] = {
	BRANCHES, PATHS, { "tags", K_STR | K_SEQ }, { "tags-ignore", K_STR | K_SEQ },
};
static const struct wf__key pr_keys[] = { TYPES, BRANCHES, PATHS };
static const struct wf__key types_keys[] = { TYPES };
static const struct wf__key wrun_keys[] = { TYPES, BRANCHES, { "workflows", K_STR | K_SEQ } };
static const struct wf__key merge_keys[] = { TYPES, BRANCHES };
static const struct wf__key image_keys[] = {
	TYPES, { "names", K_STR | K_SEQ }, { "versions", K_STR | K_SEQ },
};
static const struct wf__key dispatch_keys[] = { { "inputs", K_MAP | K_NULL } };
static const struct wf__key call_keys[] = {
	{ "inputs", K_MAP | K_NULL }, { "outputs", K_MAP | K_NULL }, { "secrets", K_MAP | K_NULL },
};
static const struct wf__key none_keys[] = { { "", 0 } };

/* every event GitHub knows, with the keys its configuration takes */
static const struct event {
	const char *name;
	const struct wf__key *keys; /* NULL: takes no configuration */
	size_t nkeys;
} events[] = {
#define EV(n, k) { n, k, ARRAY_SIZE(k) }
#define EV0(n) { n, none_keys, 0 }
	EV("branch_protection_rule", types_keys), EV("check_run", types_keys),
	EV("check_suite", types_keys), EV0("create"), EV0("delete"), EV0("deployment"),
	EV0("deployment_status"), EV("discussion", types_keys),
	EV("discussion_comment", types_keys), EV0("fork"), EV0("gollum"),
	EV("image_version", image_keys), EV("issue_comment", types_keys), EV("issues", types_keys),
	EV("label", types_keys), EV("merge_group", merge_keys), EV("milestone", types_keys),
	EV0("page_build"), EV("project", types_keys), EV("project_card", types_keys),
	EV("project_column", types_keys), EV0("public"), EV("pull_request", pr_keys),
	EV("pull_request_comment", types_keys), EV("pull_request_review", types_keys),
	EV("pull_request_review_comment", types_keys), EV("pull_request_target", pr_keys),
	EV("push", push_keys), EV("registry_package", types_keys), EV("release", types_keys),
	EV("repository_dispatch", types_keys), EV("schedule", none_keys), EV0("status"),
	EV("watch", types_keys), EV("workflow_call", call_keys),
	EV("workflow_dispatch", dispatch_keys), EV("workflow_run", wrun_keys),
#undef EV
#undef EV0
};

/* GitHub's activity types per event (workflow schema "*-activity-type");
 * events not listed (repository_dispatch) take any type */
static const struct activity {
	const char *event;
	const char *const types[24];
} activities[] = {
	{ "branch_protection_rule", { "created", "edited", "deleted" } },
	{ "check_run", { "completed", "created", "rerequested", "requested_action" } },
	{ "check_suite", { "completed" } },
	{ "discussion", { "created", "edited", "deleted", "transferred", "pinned", "unpinned",
			  "labeled", "unlabeled", "locked", "unlocked", "category_changed",
			  "answered", "unanswered" } },
	{ "discussion_comment", { "created", "edited", "deleted" } },
	{ "image_version", { "created", "ready", "deleted" } },
	{ "issue_comment", { "created", "edited", "deleted" } },
	{ "issues", { "opened", "edited", "deleted", "transferred", "pinned", "unpinned", "closed",
		      "reopened", "assigned", "unassigned", "labeled", "unlabeled", "locked",
		      "unlocked", "milestoned", "demilestoned", "field_added", "field_removed" } },
	{ "label", { "created", "edited", "deleted" } },
	{ "merge_group", { "checks_requested" } },
	{ "milestone", { "created", "closed", "opened", "edited", "deleted" } },
	{ "project", { "created", "closed", "reopened", "edited", "deleted" } },
	{ "project_card", { "created", "moved", "converted", "edited", "deleted" } },
	{ "project_column", { "created", "updated", "moved", "deleted" } },
#define PR_TYPES                                                                              \
	"assigned", "unassigned", "labeled", "unlabeled", "opened", "edited", "closed",       \
		"reopened", "synchronize", "converted_to_draft", "locked", "unlocked",        \
		"enqueued", "dequeued", "milestoned", "demilestoned", "ready_for_review",     \
		"review_requested", "review_request_removed", "auto_merge_enabled",           \
		"auto_merge_disabled", "stacked"
	{ "pull_request", { PR_TYPES } },
	{ "pull_request_target", { PR_TYPES } },
#undef PR_TYPES
	{ "pull_request_comment", { "created", "edited", "deleted" } },
	{ "pull_request_review", { "submitted", "edited", "dismissed" } },
	{ "pull_request_review_comment", { "created", "edited", "deleted" } },
	{ "registry_package", { "published", "updated" } },
	{ "release", { "published", "unpublished", "created", "edited", "deleted", "prereleased",
		       "released" } },
	{ "watch", { "started" } },
	{ "workflow_run", { "completed", "requested", "in_progress" } },
};

static void check_type(struct wf__ld *ld, const struct activity *a, const struct ynode *t)
{
	if (t->kind != YNODE_SCALAR || wf__has_expr(t))
		return;
	size_t n = 0;
	while (n < ARRAY_SIZE(a->types) && a->types[n])
		n++;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a->types[i], t->str))
			return;
	const char *hint = did_you_mean(t->str, (const char *const *)a->types, n);
	if (hint)
		wf__err(ld, t, "'%s' is not an activity type of '%s' (did you mean '%s'?)", t->str,
			a->event, hint);
	else
		wf__err(ld, t, "'%s' is not an activity type of '%s'", t->str, a->event);
}

int wf_event_type_known(const char *event, const char *type, const char **hint)
{
	*hint = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(activities); i++) {
		const struct activity *a = &activities[i];
		if (strcmp(a->event, event))
			continue;
		size_t n = 0;
		while (n < ARRAY_SIZE(a->types) && a->types[n])
			n++;
		for (size_t k = 0; k < n; k++)
			if (!strcmp(a->types[k], type))
				return 1;
		*hint = did_you_mean(type, (const char *const *)a->types, n);
		return 0;
	}
	return 1; /* an event without a list takes any type */
}

/* `types:` values against the event's activity types */
static void check_types(struct wf__ld *ld, const char *event, const struct ynode *types)
{
	const struct activity *a = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(activities) && !a; i++)
		if (!strcmp(activities[i].event, event))
			a = &activities[i];
	if (!a || !types)
		return;
	if (types->kind == YNODE_SEQ) {
		for (size_t i = 0; i < types->nr; i++)
			check_type(ld, a, types->items[i]);
	} else {
		check_type(ld, a, types);
	}
}

static const struct event *find_event(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(events); i++)
		if (!strcmp(events[i].name, name))
			return &events[i];
	return NULL;
}

static void add_trigger(struct wf__ld *ld, const struct ynode *name, const struct ynode *config)
{
	struct workflow *wf = ld->wf;
	wf->on = xrealloc(wf->on, (wf->non + 1) * sizeof(*wf->on));
	struct wf_trigger *t = &wf->on[wf->non++];
	memset(t, 0, sizeof(*t));
	wf__str_set(&t->event, name);
	t->config = ynode_is_null(config) ? NULL : config;
}

/* the known event closest to `name`, or NULL */
static const char *event_hint(const char *name)
{
	const char *names[ARRAY_SIZE(events)];
	for (size_t i = 0; i < ARRAY_SIZE(events); i++)
		names[i] = events[i].name;
	return did_you_mean(name, names, ARRAY_SIZE(events));
}

int wf_event_known(const char *name, const char **hint)
{
	*hint = NULL;
	if (find_event(name))
		return 1;
	*hint = event_hint(name);
	return 0;
}

/* check an event name; returns its table entry or NULL (error reported) */
static const struct event *check_event(struct wf__ld *ld, const struct ynode *n)
{
	if (n->kind != YNODE_SCALAR)
		return wf__err(ld, n, "an event name must be a string, not %s", wf__kind_desc(n)),
		       NULL;
	if (wf__has_expr(n))
		return wf__err(ld, n, "expressions are not allowed in 'on'"), NULL;
	const struct event *e = find_event(n->str);
	if (e)
		return e;
	const char *hint = event_hint(n->str);
	if (hint)
		wf__err(ld, n, "unknown event '%s' (did you mean '%s'?)", n->str, hint);
	else
		wf__err(ld, n, "unknown event '%s'", n->str);
	return NULL;
}

static const struct wf__key call_input_keys[] = {
	{ "description", K_STR }, { "required", K_BOOL }, { "type", K_STR },
	{ "default", K_STR | K_BOOL | K_NUM | K_EXPR },
};
static const struct wf__key dispatch_input_keys[] = {
	{ "description", K_STR }, { "required", K_BOOL }, { "type", K_STR },
	{ "default", K_STR | K_BOOL | K_NUM }, { "options", K_SEQ },
	{ "deprecationMessage", K_STR },
};
static const struct wf__key call_output_keys[] = { { "description", K_STR }, { "value", K_STR } };
static const struct wf__key call_secret_keys[] = { { "description", K_STR }, { "required", K_BOOL } };

/* inputs/outputs/secrets of workflow_call and workflow_dispatch */
static void check_defs(struct wf__ld *ld, const struct ynode *map, const struct wf__key *keys,
		       size_t nkeys, const char *what, const char *required,
		       const char *const *types, size_t ntypes)
{
	if (!map || map->kind != YNODE_MAP)
		return;
	for (size_t i = 0; i < ynode_map_size(map); i++) {
		const struct ynode *k = ynode_map_key(map, i), *v = ynode_map_val(map, i);
		if (ynode_is_null(v))
			continue;
		if (v->kind != YNODE_MAP) {
			wf__err(ld, v, "%s '%s' must be a mapping, not %s", what, k->str,
				wf__kind_desc(v));
			continue;
		}
		struct buf w = BUF_INIT;
		buf_addf(&w, "%s '%s'", what, k->str);
		wf__check_keys(ld, v, keys, nkeys, w.buf);
		if (required && !wf__get(v, required))
			wf__err(ld, v, "%s is missing '%s'", w.buf, required);
		const struct ynode *t = wf__get(v, "type");
		if (t && ntypes && t->kind == YNODE_SCALAR) {
			size_t j = 0;
			while (j < ntypes && strcmp(types[j], t->str))
				j++;
			if (j == ntypes)
				wf__err(ld, t, "%s has unknown type '%s'", w.buf, t->str);
		}
		buf_release(&w);
	}
}

static void check_call(struct wf__ld *ld, const struct ynode *cfg)
{
	static const char *const call_types[] = { "boolean", "number", "string" };
	check_defs(ld, wf__get(cfg, "inputs"), call_input_keys, ARRAY_SIZE(call_input_keys),
		   "workflow_call input", "type", call_types, ARRAY_SIZE(call_types));
	check_defs(ld, wf__get(cfg, "outputs"), call_output_keys, ARRAY_SIZE(call_output_keys),
		   "workflow_call output", "value", NULL, 0);
	check_defs(ld, wf__get(cfg, "secrets"), call_secret_keys, ARRAY_SIZE(call_secret_keys),
		   "workflow_call secret", NULL, NULL, 0);
}

static void check_dispatch(struct wf__ld *ld, const struct ynode *cfg)
{
	static const char *const types[] = { "boolean", "number", "string", "choice",
					     "environment" };
	check_defs(ld, wf__get(cfg, "inputs"), dispatch_input_keys,
		   ARRAY_SIZE(dispatch_input_keys), "workflow_dispatch input", NULL, types,
		   ARRAY_SIZE(types));
}

static void check_schedule(struct wf__ld *ld, const struct ynode *cfg)
{
	static const struct wf__key keys[] = { { "cron", K_STR } };
	if (cfg->kind != YNODE_SEQ) {
		wf__err(ld, cfg, "'schedule' must be a sequence of '- cron: ...' entries, not %s",
			wf__kind_desc(cfg));
		return;
	}
	for (size_t i = 0; i < cfg->nr; i++) {
		const struct ynode *it = cfg->items[i];
		if (it->kind != YNODE_MAP) {
			wf__err(ld, it, "a schedule entry must be a mapping with 'cron', not %s",
				wf__kind_desc(it));
			continue;
		}
		wf__check_keys(ld, it, keys, ARRAY_SIZE(keys), "a schedule entry");
		if (!wf__get(it, "cron"))
			wf__err(ld, it, "schedule entry is missing 'cron'");
	}
}

static void check_config(struct wf__ld *ld, const struct event *e, const struct ynode *k,
			 const struct ynode *cfg)
{
	if (ynode_is_null(cfg))
		return;
	if (!strcmp(e->name, "schedule")) {
		check_schedule(ld, cfg);
		return;
	}
	if (cfg->kind != YNODE_MAP) {
		wf__err(ld, cfg, "the configuration of event '%s' must be a mapping, not %s",
			e->name, wf__kind_desc(cfg));
		return;
	}
	struct buf w = BUF_INIT;
	buf_addf(&w, "event '%s'", e->name);
	wf__check_keys(ld, cfg, e->keys, e->nkeys, w.buf);
	buf_release(&w);
	check_types(ld, e->name, wf__get(cfg, "types"));
	if (!strcmp(e->name, "workflow_call"))
		check_call(ld, cfg);
	else if (!strcmp(e->name, "workflow_dispatch"))
		check_dispatch(ld, cfg);
	(void)k;
}

/* expressions under `on:`: only workflow_call input defaults and output
 * values may have them (GitHub docs: context availability) */
static void scan_on_exprs(struct wf__ld *ld, const struct ynode *on)
{
	if (on->kind != YNODE_MAP) {
		wf__scan_exprs(ld, on, "on", 0);
		return;
	}
	for (size_t i = 0; i < ynode_map_size(on); i++) {
		const struct ynode *k = ynode_map_key(on, i), *v = ynode_map_val(on, i);
		if (k->kind != YNODE_SCALAR || strcmp(k->str, "workflow_call") || v->kind != YNODE_MAP) {
			wf__scan_exprs(ld, v, "on", 0);
			continue;
		}
		for (size_t j = 0; j < ynode_map_size(v); j++) {
			const struct ynode *sk = ynode_map_key(v, j), *defs = ynode_map_val(v, j);
			const char *allowed_key = NULL, *path = NULL;
			if (sk->kind == YNODE_SCALAR && !strcmp(sk->str, "inputs")) {
				allowed_key = "default";
				path = "on.workflow_call.inputs.<inputs_id>.default";
			} else if (sk->kind == YNODE_SCALAR && !strcmp(sk->str, "outputs")) {
				allowed_key = "value";
				path = "on.workflow_call.outputs.<output_id>.value";
			}
			if (!allowed_key || defs->kind != YNODE_MAP) {
				wf__scan_exprs(ld, defs, "on", 0);
				continue;
			}
			for (size_t d = 0; d < ynode_map_size(defs); d++) {
				const struct ynode *def = ynode_map_val(defs, d);
				if (def->kind != YNODE_MAP) {
					wf__scan_exprs(ld, def, "on", 0);
					continue;
				}
				for (size_t e = 0; e < ynode_map_size(def); e++) {
					const struct ynode *ek = ynode_map_key(def, e);
					int ok = ek->kind == YNODE_SCALAR && !strcmp(ek->str, allowed_key);
					wf__scan_exprs(ld, ynode_map_val(def, e), ok ? path : "on", ok);
				}
			}
		}
	}
}

/* wf__parse_on: fill wf->on from the `on:` value */
void wf__parse_on(struct wf__ld *ld, const struct ynode *on)
{
	if (!on || ynode_is_null(on)) {
		wf__err(ld, on, "'on' must name at least one event");
		return;
	}
	if (on->kind == YNODE_SCALAR) {
		if (check_event(ld, on))
			add_trigger(ld, on, NULL);
		return;
	}
	if (on->kind == YNODE_SEQ) {
		for (size_t i = 0; i < on->nr; i++)
			if (check_event(ld, on->items[i]))
				add_trigger(ld, on->items[i], NULL);
		if (!on->nr)
			wf__err(ld, on, "'on' must name at least one event");
		return;
	}
	if (on->kind != YNODE_MAP)
		return;
	char seen[ARRAY_SIZE(events)] = { 0 };
	for (size_t i = 0; i < ynode_map_size(on); i++) {
		const struct ynode *k = ynode_map_key(on, i), *v = ynode_map_val(on, i);
		const struct event *e = check_event(ld, k);
		if (!e)
			continue;
		if (seen[e - events]++) {
			wf__err(ld, k, "event '%s' is defined twice", k->str);
			continue;
		}
		check_config(ld, e, k, v);
		add_trigger(ld, k, v);
	}
	if (!ynode_map_size(on))
		wf__err(ld, on, "'on' must name at least one event");
	scan_on_exprs(ld, on);
}
