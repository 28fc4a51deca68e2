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
#include "engine/actref.h"
#include "engine/job.h"
#include "engine/plan.h"
#include "expr/expr.h"
#include "workflow/workflow.h"

struct reuse_call {
	const struct wf_job *job;   /* the calling job (borrowed) */
	struct workflow *callee;    /* owned */
	const struct ynode *call;   /* the callee's on.workflow_call mapping, or NULL */
	struct plan plan;           /* the callee's jobs */
	const struct actref_src *src; /* the callee's repository when remote or `$/`
					 (its `$/`), NULL = the run's work tree */
	struct action_source wf_src;  /* src's repository and ref for the executor */
};

/* GitHub: "You can connect a maximum of ten levels of workflows" (the
 * caller and nine called) and call at most 50 unique reusable workflows
 * from one workflow file, nested ones included */
#define REUSE_MAX_LEVELS 10
#define REUSE_MAX_UNIQUE 50

/* where callees come from */
struct reuse_env {
	const char *repo_dir;          /* the run's work tree (`./` callees) */
	struct actref_cache *cache;    /* remote and `$/` callees; NULL: refused */
	int network;                   /* may fetch; 0: cache only, uncached calls are
					  left out (kiln run -l / -n) */
	const char *repository, *sha;  /* the run's owner/name and commit (`$/`) */
	const struct plan *only;       /* when set (-j): the calls of the run's jobs this
					  plan does not select are left out (not fetched) */
	const char *files;             /* where `./` callees are read: the run's snapshot
					  (workspace.h), NULL = repo_dir; messages
					  still name the file under repo_dir */
};

struct reuse_set {
	struct reuse_call *v;
	size_t nr, alloc;
};

/*
 * Load and check the callee of every `uses:` job of `wf` (wf_index: its
 * index in the run, given to the callee's plan), and the callees of those,
 * up to GitHub's limits. Problems go to `d` as file:line:col errors;
 * returns 0 or -1.
 */
int reuse_load(struct reuse_set *rs, const struct workflow *wf, size_t wf_index,
	       const struct reuse_env *env, struct diags *d);
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
