/*
 * nodeaction: local JavaScript actions (`runs.using: node12|16|20|24`) run
 * with the host's node. The action is rewritten into an equivalent
 * composite action — optional `pre`, then `main`, each `node FILE` with the
 * INPUT_<NAME> environment GitHub's runner sets, and the declared outputs
 * read from the main step — so the executor runs it like any composite.
 * `post` scripts are not run yet.
 */
#ifndef KILN_NODEACTION_H
#define KILN_NODEACTION_H

#include "base/diag.h"
#include "yaml/ynode.h"

/* is `using` (runs.using) a JavaScript runtime we run with host node? */
int nodeaction_is_node(const char *using);

/*
 * Build the composite form of a node action: a new YAML tree (returned in
 * *out, owned by the caller) with `runs.steps` and `outputs`, from the
 * action's `runs` and `outputs` nodes. `file` names the action.yml for
 * errors. Returns 0, or -1 with a diagnostic in d.
 */
int nodeaction_synth(const char *file, const struct ynode *runs, const struct ynode *inputs,
		     const struct ynode *outputs, struct ynode **out, struct diags *d);

#endif
