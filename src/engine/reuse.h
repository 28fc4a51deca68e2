/*
 * reuse: reusable workflows from the same repository (`jobs.<id>.uses:
 * ./.github/workflows/x.yml`). At load time every call's callee is loaded
 * and checked (exists, has `on: workflow_call`, `with:` names known inputs
 * of the right literal type, required inputs given) and gets its own plan;
 * at run time the scheduler runs that plan as a nested scheduler and uses
 * the helpers below for `inputs`, `secrets` and the call's outputs.
 */
#ifndef KILN_REUSE_H
#define KILN_REUSE_H

#include "base/buf.h"
#include "base/diag.h"
#include "engine/plan.h"
#include "expr/expr.h"
#include "workflow/workflow.h"

struct reuse_call {
	const struct wf_job *job;   /* the calling job (borrowed) */
	struct workflow *callee;    /* owned */
	const struct ynode *call;   /* the callee's on.workflow_call mapping, or NULL */
	struct plan plan;           /* the callee's jobs */
};

struct reuse_set {
	struct reuse_call *v;
	size_t nr, alloc;
};

/*
 * Load and check the callee of every `uses:` job of `wf` (wf_index: its
 * index in the run, given to the callee's plan). Problems go to `d` as
 * file:line:col errors; returns 0 or -1.
 */
int reuse_load(struct reuse_set *rs, const struct workflow *wf, size_t wf_index,
	       const char *repo_dir, struct diags *d);
/* the call made by job `job`, or NULL */
const struct reuse_call *reuse_find(const struct reuse_set *rs, const struct wf_job *job);
void reuse_release(struct reuse_set *rs);

/* the callee's `inputs` context from the caller's `with:` evaluated in ctx
 * (defaults applied, types checked); NULL with a message in err */
struct ev *reuse_inputs(const struct reuse_call *c, const struct expr_ctx *ctx, struct buf *err);
/* the callee's `secrets` context: the caller's (`inherit`) or the mapping
 * evaluated in ctx; NULL with a message in err */
struct ev *reuse_secrets(const struct reuse_call *c, const struct expr_ctx *ctx,
			 struct buf *err);
/* the call's outputs (strings) from on.workflow_call.outputs evaluated in
 * ctx (which has `jobs`); NULL with a message in err */
struct ev *reuse_outputs(const struct reuse_call *c, const struct expr_ctx *ctx,
			 struct buf *err);

#endif
