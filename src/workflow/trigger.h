/*
 * trigger: does an event start a workflow (its `on:`), and if not, why not.
 * Implements GitHub's rules for push / pull_request filters (branches,
 * branches-ignore, tags, tags-ignore, paths, paths-ignore), activity
 * `types`, `schedule` crons, `workflow_run` (workflows, types, branches)
 * and `workflow_dispatch` inputs (typed, validated).
 *
 * Reasons are short human sentences for `kiln run -v`, e.g.
 * "push to tag 'v1.2.3': only branch filters are set".
 */
#ifndef KILN_TRIGGER_H
#define KILN_TRIGGER_H

#include "base/buf.h"
#include "base/diag.h"
#include "base/strvec.h"
#include "expr/expr.h"
#include "workflow/workflow.h"

/* GitHub evaluates at most this many changed files for paths filters */
#define TRIG_MAX_PATHS 300

/* what happened (all fields borrowed) */
struct trig_event {
	const char *name;   /* "push", "pull_request", "schedule", "workflow_dispatch",
			       "workflow_run", or any other event name */
	/* push: the pushed ref (refs/heads/x or refs/tags/v1);
	 * pull_request(_target): the BASE branch (refs/heads/main or main);
	 * workflow_run: the triggering run's head branch */
	const char *ref;
	const char *action;          /* activity type ("opened", "completed"), NULL = the
					event's default (pull_request: "opened") */
	const struct strvec *changed;/* changed paths (push/PR), NULL = unknown: paths
					filters are then not applied (noted in reason) */
	const char *cron;            /* schedule: the cron that fired, NULL = any */
	const char *workflow;        /* workflow_run: name of the completed workflow */
};

#define TRIG_EVENT_INIT { NULL, NULL, NULL, NULL, NULL, NULL }

struct trig_match {
	int matched;                     /* 1 when the event triggers the workflow */
	const struct wf_trigger *trigger;/* the `on:` entry for the event, or NULL */
	struct buf reason;               /* why (not), one line, no final period */
};

#define TRIG_MATCH_INIT { 0, NULL, BUF_INIT }

/*
 * Match `ev` against `wf`. Returns 0 with m->matched and m->reason set, or
 * -1 when the workflow's filters for this event are invalid (bad pattern,
 * both branches and branches-ignore, ...): errors with file:line:col in d.
 */
int trig_match(const struct workflow *wf, const struct trig_event *ev, struct trig_match *m,
	       struct diags *d);
void trig_match_release(struct trig_match *m);

/* validate every trigger's filters, crons and inputs (for lint); returns
 * the number of errors added to d */
int trig_check(const struct workflow *wf, struct diags *d);

/* workflow_dispatch input types */
enum trig_input_type { TI_STRING, TI_BOOLEAN, TI_NUMBER, TI_CHOICE, TI_ENVIRONMENT };
const char *trig_input_type_name(enum trig_input_type t);

/* one resolved input */
struct trig_input {
	char *name;                /* as declared (owned) */
	enum trig_input_type type;
	char *value;               /* canonical text: "true"/"false" for booleans,
				      the number as given for numbers (owned) */
	int from_default;          /* 1 when not given and the default (or the type's
				      zero value) was used */
};

struct trig_inputs {
	struct trig_input *v; /* in declaration order (owned) */
	size_t nr, alloc;
};

#define TRIG_INPUTS_INIT { NULL, 0, 0 }

/*
 * Resolve workflow_dispatch inputs from `kv` ("name=value" strings, e.g.
 * from --input) against the workflow's declarations: unknown names, values
 * of the wrong type, choices not in `options`, and missing required inputs
 * are errors in `d` (at the declaration's position where there is one).
 * Inputs not given take their default, else false / 0 / "".
 * Returns 0, or -1 when any error was added (out is then empty).
 */
int trig_dispatch_inputs(const struct workflow *wf, const struct strvec *kv,
			 struct trig_inputs *out, struct diags *d);
void trig_inputs_release(struct trig_inputs *in);
/* the `inputs` context: booleans as booleans, numbers as numbers, the
 * rest as strings (new reference) */
struct ev *trig_inputs_context(const struct trig_inputs *in);
/* `github.event.inputs`: every value as a string, as GitHub sends them */
struct ev *trig_inputs_payload(const struct trig_inputs *in);

/* a completed workflow run, as on.workflow_run sees it */
struct trig_run {
	const char *name;        /* the workflow's name */
	const char *path;        /* its file, e.g. .github/workflows/ci.yml */
	const char *conclusion;  /* success, failure, cancelled, skipped */
	const char *head_branch; /* the branch it ran for */
	const char *head_sha;
	const char *event;       /* the event that triggered it */
	unsigned long long id, run_number;
};

/* github.event for a workflow_run event (action "completed"), without
 * repository/sender (the caller adds those); new reference */
struct ev *trig_workflow_run_payload(const struct trig_run *run);

/* branch or tag name of a ref: "refs/heads/x" -> "x"; *is_tag set to 1 for
 * refs/tags/; other strings are returned as they are */
const char *trig_ref_name(const char *ref, int *is_tag);

#endif
