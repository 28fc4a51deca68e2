/*
 * env: deployment environments of `kiln serve` — protection rules as
 * GitHub's (required reviewers: users or groups, one approval suffices,
 * prevent_self_review; a wait timer; deployment branch and tag patterns),
 * the approval state machine of a job that targets an environment, and the
 * serialization of an environment's deployments (one at a time, oldest
 * first, as GitLab's resource_group with process_mode oldest_first).
 * Storage: src/store/envs.c. Every decision is in the audit log.
 *
 * How the queue uses it (one call, idempotent):
 *
 *   when a job whose `environment:` evaluated to E is otherwise ready,
 *   the scheduler calls env_gate(db, &job, now, ev, &d):
 *     ENV_PROCEED  start the job (the deployment is now in_progress);
 *                  call env_deployment_finish() when the job ends
 *     ENV_WAIT     keep the job in state "waiting" with d.reason; ask
 *                  again at d.wake_at_ms (when > 0: wait timer, approval
 *                  timeout) and whenever ev->changed reports a deployment
 *                  of the same repository and environment
 *     ENV_REJECT   end the job as failed with d.reason (rejected by a
 *                  reviewer, branch not allowed, approval timed out)
 *
 * env_review() (approve/reject from the API or CLI) and
 * env_deployment_finish() call ev->changed for every deployment they
 * change; the server wires that to "re-gate the waiting jobs of this
 * repository/environment" and to notifications.
 */
#ifndef KILN_SERVER_ENV_H
#define KILN_SERVER_ENV_H

#include <jansson.h>
#include "store/sql.h"
#include <stdint.h>

#include "base/buf.h"
#include "server/auth.h"
#include "store/envs.h"

/* told about every deployment whose state changed (may be NULL), after the
 * change is committed: the listener may call env_gate() from the callback */
struct env_events {
	void (*changed)(void *arg, const struct deploy_row *d);
	void *arg;
};

/* the job asking to deploy */
struct env_job {
	const char *repo;        /* repository name as the server knows it */
	const char *environment; /* the evaluated `environment:` name */
	int64_t run_id, job_id;  /* the server's ids (a re-run has new job ids) */
	const char *job;         /* job name for people */
	const char *ref;         /* refs/heads/main, refs/tags/v1.2 */
	const char *sha;
	const char *actor;       /* who triggered the run (prevent_self_review) */
	int64_t commit_ms;       /* the commit's committer time (lead time), 0 unknown */
};

enum env_verdict { ENV_PROCEED, ENV_WAIT, ENV_REJECT };
const char *env_verdict_name(enum env_verdict v);

struct env_decision {
	enum env_verdict verdict;
	int64_t deployment_id;
	int64_t wake_at_ms; /* ENV_WAIT: ask again then (0: only on an event) */
	char reason[512];   /* for people: the job's "waiting"/failure message */
};

/* 0 and *out, or -1 with err (store error: keep the job queued, retry) */
int env_gate(struct db *db, const struct env_job *job, int64_t now_ms, const struct env_events *ev,
	     struct env_decision *out, struct buf *err);

/* the job of a deployment ended: conclusion success, failure or cancelled;
 * reason may be NULL. 0, KILN_ENOENT (not in progress) or -1 */
int env_deployment_finish(struct db *db, int64_t deployment_id, const char *conclusion,
			  const char *reason, int64_t now_ms, const struct env_events *ev,
			  struct buf *err);

/*
 * Link a deployment to the deploy controller's release from the final
 * message of its `kiln/deploy` step ("release 12 (v2) rolled-back after
 * 3.10s: <reason>", src/deploy/rollout.c): records app and release id.
 * *rolled_back (may be NULL) is set when the release was rolled back,
 * failed or aborted; `reason` (may be NULL) receives the message after
 * "after N s: ". The job's deployment then ends as a failure with that
 * reason (env_deployment_finish). 0, KILN_ENOENT (the message names no
 * release) or -1.
 */
int env_link_release(struct db *db, int64_t deployment_id, const char *app, const char *message,
		     int *rolled_back, struct buf *reason, struct buf *err);

enum env_review_result {
	ENV_REVIEW_DONE = 0,     /* at least one deployment approved/rejected */
	ENV_REVIEW_NOTHING = 1,  /* the run has no deployment waiting for review */
	ENV_REVIEW_FORBIDDEN = 2 /* not a required reviewer, or self-review: err says */
};
/*
 * Approve (approve = 1) or reject every deployment of run_id waiting for
 * review (in `environment`, or any when NULL) whose environment names
 * `who` as a reviewer (directly, or through a group). Returns an
 * env_review_result (the message in err for FORBIDDEN and NOTHING) or -1.
 * *decided (may be NULL) receives how many deployments were decided.
 */
int env_review(struct db *db, const struct principal *who, int64_t run_id, const char *environment,
	       int approve, const char *comment, int64_t now_ms, const struct env_events *ev,
	       int *decided, struct buf *err);

/*
 * May `who` approve or reject deployment d now (the web UI shows the
 * buttons only then)? 1 when d is waiting for a review, who has at least
 * the deployer role, is one of its environment's reviewers and is not
 * barred by prevent_self_review; 0 when not; -1 on a store error. The
 * same rules env_review applies.
 */
int env_can_review(struct db *db, const struct deploy_row *d, const struct principal *who,
		   struct buf *err);

/*
 * Create or update an environment's rules from JSON (the API body, `kiln
 * env set`), GitHub's shape:
 *   {"wait_timer": MINUTES (0..43200), "prevent_self_review": BOOL,
 *    "reviewers": [{"type": "user"|"group", "name": "..."}] (at most 6),
 *    "deployment_branch_policy": null | {"patterns":
 *        [{"type": "branch"|"tag", "name": "v[0-9]+"}]},
 *    "approval_timeout": MINUTES}
 * Absent keys keep their value. Named users must exist. Patterns are
 * GitHub filter patterns (src/git/glob.h). Audited as env.update.
 * 0, KILN_EINVAL (message in err) or -1.
 */
int env_put_json(struct db *db, const char *actor, const char *repo, const char *name,
		 const json_t *body, struct buf *err);
/* the environment as JSON (rules, variables, secret names: never values) */
json_t *env_to_json(struct db *db, const struct env_row *e, struct buf *err);
/* a deployment as JSON */
json_t *deploy_to_json(const struct deploy_row *d);

/* ---- secrets and variables ----
 *
 * Environment "" holds the repository's own secrets and variables (every
 * job of the repository sees them); a named environment's override them
 * for the jobs that target it (GitHub's precedence). Names follow GitHub's
 * rules (secret_check_name: [A-Za-z_][A-Za-z0-9_]*, not GITHUB_*, stored
 * upper-case). Secret values are sealed with the server's key
 * (secret_seal, bound to repo/environment/name) and no function here
 * returns one except env_secrets_load, for the job that runs. Every change
 * is audited (secret.set, secret.remove, var.set, var.remove) without the
 * value.
 */
struct secret_store;
struct secret_map;
int env_secret_set(struct db *db, struct secret_store *secrets, const char *actor, const char *repo,
		   const char *environment, const char *name, const char *value, size_t len,
		   struct buf *err);
/* 0, KILN_ENOENT or -1 */
int env_secret_remove(struct db *db, const char *actor, const char *repo, const char *environment,
		      const char *name, struct buf *err);
/* the secrets a job of repo in `environment` (NULL/"" none) sees, into m */
int env_secrets_load(struct db *db, struct secret_store *secrets, const char *repo,
		     const char *environment, struct secret_map *m, struct buf *err);
int env_var_set(struct db *db, const char *actor, const char *repo, const char *environment,
		const char *name, const char *value, struct buf *err);
int env_var_remove(struct db *db, const char *actor, const char *repo, const char *environment,
		   const char *name, struct buf *err);
/* the `vars` a job sees: repository-level, then the environment's; as a
 * JSON object name -> value */
json_t *env_vars_load(struct db *db, const char *repo, const char *environment, struct buf *err);

/* environment names: 1-255 of [A-Za-z0-9._-] (the secrets rule) */
int env_check_name(const char *name, struct buf *err);

/* does ref (refs/heads/X, refs/tags/X) pass e's deployment patterns? 1 or
 * 0; always 1 without custom patterns */
int env_ref_allowed(const struct env_row *e, const char *ref);

#endif
