/*
 * composite: local composite actions (`uses: ./path` -> path/action.yml or
 * action.yaml with `runs.using: composite`, or a JavaScript action whose
 * scripts engine/nodeaction reads): loading and validation into steps the
 * executor runs like a job's own (GitHub docs: "Metadata syntax for GitHub
 * Actions").
 */
#ifndef KILN_COMPOSITE_H
#define KILN_COMPOSITE_H

#include "base/diag.h"
#include "engine/nodeaction.h"
#include "workflow/workflow.h"
#include "yaml/ynode.h"

struct composite {
	char *file;                  /* path of action.yml */
	char *dir;                   /* the action's directory (GITHUB_ACTION_PATH) */
	struct ynode *root;          /* owned YAML tree */
	int node;                    /* runs.using is node12/16/20/24 (run with host node) */
	struct node_scripts js;      /* node: its scripts (borrowed from root) */
	int docker;                  /* runs.using is docker (runs: read from root) */
	const struct ynode *inputs;  /* mapping id -> {description, required, default}, or NULL */
	const struct ynode *outputs; /* mapping id -> {description, value}, or NULL */
	struct wf_step *steps;       /* owned; none for a node action */
	size_t nsteps;
};

/*
 * Load the action in directory `dir`. Returns 0 and *out, or -1 with
 * problems (file:line:col) in d.
 */
int composite_load(const char *dir, struct composite **out, struct diags *d);
void composite_free(struct composite *c);

#endif
