/*
 * nodeaction: JavaScript actions (`runs.using: node12|16|20|24`), run with
 * the host's node. This module reads the action's `runs:` (pre, main,
 * post and their conditions) and builds what GitHub's runner gives the
 * script: INPUT_<NAME> for each input and STATE_<name> for the state an
 * earlier stage saved. The executor (engine/exec_action.c) runs the stages.
 */
#ifndef KILN_NODEACTION_H
#define KILN_NODEACTION_H

#include "base/diag.h"
#include "base/strvec.h"
#include "expr/expr.h"
#include "yaml/ynode.h"

/* the scripts of a JavaScript action, or the entrypoints of a Docker
 * action's stages; strings borrowed from its YAML tree */
struct node_scripts {
	const char *using;   /* node12 ... node24, or docker */
	const char *pre;     /* runs.pre (docker: runs.pre-entrypoint), or NULL */
	const char *main;    /* runs.main (docker: runs.entrypoint, or NULL) */
	const char *post;    /* runs.post (docker: runs.post-entrypoint), or NULL */
	const char *pre_if;  /* runs.pre-if, or NULL (always()) */
	const char *post_if; /* runs.post-if, or NULL (always()) */
};

/* is `using` (runs.using) a JavaScript runtime we run with host node? */
int nodeaction_is_node(const char *using);

/*
 * Read `runs` of the JavaScript action in `file` into *out. Returns 0, or
 * -1 with a diagnostic (file:line:col) in d.
 */
int nodeaction_load(const char *file, const struct ynode *runs, struct node_scripts *out,
		    struct diags *d);

/* a Docker action's stages (runs.pre-entrypoint, entrypoint,
 * post-entrypoint, pre-if, post-if) into *out; 0 or -1 with d */
int nodeaction_load_docker(const char *file, const struct ynode *runs, struct node_scripts *out,
			   struct diags *d);

/* GitHub's runner: INPUT_ + the name with spaces as '_', upper-cased */
void nodeaction_input_name(const char *name, struct buf *out);

/* INPUT_<NAME>=value for each entry of `inputs` (object of strings) and
 * STATE_<name>=value for each entry of `state`, set in env */
void nodeaction_env(const struct ev *inputs, const struct ev *state, struct strvec *env);

#endif
