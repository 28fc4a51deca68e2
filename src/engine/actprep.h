/*
 * actprep: every remote and `$/` action the selected jobs of a run use,
 * resolved (and fetched when not cached) before any job starts — GitHub's
 * "Download action repository" of the job set-up, for the whole run — and
 * followed into composite actions, whose own `uses:` are resolved too (up
 * to the executor's nesting limit). The executor then only reads the cache.
 */
#ifndef KILN_ACTPREP_H
#define KILN_ACTPREP_H

#include "base/diag.h"
#include "engine/actref.h"
#include "engine/job.h"
#include "engine/plan.h"
#include "engine/reuse.h"

struct actprep_run {
	struct actref_cache *cache;
	const char *repo_dir;   /* the run's repository (work tree) */
	const char *repository; /* owner/name, for `$/` of the workflows */
	const char *sha;        /* the run's commit (github.sha) */
	const char *files;      /* where `./` actions are read: the run's snapshot
				   (workspace.h), NULL = repo_dir */
};

/*
 * Resolve the actions of the selected jobs of `p` and of every job the
 * reusable workflows of `calls` run. A reference that cannot be resolved
 * is an error in d at its `uses:` (file:line:col), naming owner/repo@ref.
 * Returns 0 or -1.
 */
int actprep_plan(const struct actprep_run *r, const struct plan *p, const struct reuse_set *calls,
		 struct diags *d);

/*
 * The executor's resolver (job.h) over the run's cache: `owner/repo[/path]
 * @ref` from what actprep_plan resolved (never the network), `$/path` and
 * the run's own owner/name@sha from the repository's object database.
 * `r` is borrowed for the resolver's lifetime.
 */
void actprep_resolver(const struct actprep_run *r, struct action_resolver *out);

#endif
