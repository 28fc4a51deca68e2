/*
 * trigsel: which workflows a `kiln run` starts. Derives the event from the
 * repository (src/git/event: ref, sha, changed files, payload), then asks
 * each workflow's `on:` (src/workflow/trigger) whether it runs and why not,
 * and resolves workflow_dispatch inputs for the ones that do.
 */
#ifndef KILN_TRIGSEL_H
#define KILN_TRIGSEL_H

#include "base/buf.h"
#include "base/diag.h"
#include "base/strvec.h"
#include "expr/expr.h"
#include "git/event.h"
#include "git/repo.h"
#include "workflow/trigger.h"

/* what the user asked for (all borrowed, NULL = default) */
struct trigsel_opts {
	const char *event;          /* NULL = push */
	const char *ref;            /* --ref: the pushed ref (branch or tag) */
	const char *base;           /* --base: push "before" / PR base branch */
	const char *head;           /* --head: pushed commit / PR head branch */
	const char *action;         /* activity type (pull_request, workflow_run, ...) */
	int number;                 /* pull request number */
	const char *cron;           /* schedule: the cron that fired, NULL = any */
	const char *workflow;       /* workflow_run: the completed workflow's name */
	const struct strvec *inputs;/* --input NAME=VALUE */
	const struct trig_run *run; /* workflow_run: the run that completed (chaining);
				       sets workflow, action "completed" and the branch */
	const struct ev *payload;   /* -e: the event payload (object), or NULL; its
				       values fill what the flags above leave unset */
};

#define TRIGSEL_OPTS_INIT { NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL }

struct trigsel {
	struct repo_info info;      /* the repository */
	struct event_info event;    /* the derived event (payload, refs, changed files) */
	struct trig_event te;       /* what trig_match sees (points into event) */
	const struct strvec *inputs;
	struct strvec payload_inputs; /* NAME=VALUE from the -e payload's `inputs` */
	const struct trig_run *run; /* workflow_run: the completed run, or NULL */
	struct repo *repo;          /* the repository, open until trigsel_release
				       (the run's snapshot reads it: one open) */
	int worktree;               /* 1: the run's files are the work tree as it is
				       (no commit named by --head, --ref or the payload,
				       the event's sha is HEAD, not a bare repository);
				       0: github.sha's tree */
};

/*
 * Derive the event for the repository at `repo_dir`. A payload given with
 * -e drives it as act does, each value only where no flag was given:
 *   push / create / workflow_dispatch / ...: `ref` (a tag ref makes a tag
 *     push), `after` the commit (when it is in the repository; else a
 *     warning and HEAD), `before` the commit before (changed files);
 *   release: refs/tags/<release.tag_name>; deployment: deployment.ref/sha;
 *   pull_request*: `number`, `action`, pull_request.head/base `ref` (the
 *     branch names, which need not exist here) and `sha` (used when in the
 *     repository, else the branch, else HEAD / the default branch);
 *   workflow_dispatch: `inputs` (under --input, unknown names ignored).
 * Warnings go to stderr. Returns 0, or
 * KILN_EINVAL (bad revision or ref, message in err: exit 2) / KILN_ENOENT
 * (not a repository) / KILN_EIO.
 */
int trigsel_init(struct trigsel *ts, const char *repo_dir, const struct trigsel_opts *o,
		 struct buf *err);
void trigsel_release(struct trigsel *ts);

/*
 * Does the event start `wf`? 1 yes, 0 no (reason in m), -1 when the
 * workflow's filters or dispatch inputs are invalid (errors with positions
 * in d: exit 2). For workflow_dispatch the inputs are resolved too: on
 * success *inputs (if not NULL) receives the typed `inputs` context (new
 * reference; an empty object for other events).
 */
int trigsel_match(struct trigsel *ts, const struct workflow *wf, struct trig_match *m,
		  struct ev **inputs, struct diags *d);

/* github.event for matching workflow `wf`: the derived payload, plus
 * `inputs` (workflow_dispatch, all strings), `schedule` (the cron that
 * fired, else the workflow's first) or `workflow_run` (the completed run)
 * (new reference) */
struct ev *trigsel_payload(const struct trigsel *ts, const struct workflow *wf,
			   const struct ev *inputs_ctx);

#endif
