/*
 * envs: per-repository deployment environments in the store (migration 6):
 * protection rules (required reviewers, wait timer, prevent_self_review,
 * deployment branch/tag patterns), variables, sealed secrets, and the
 * deployments that target them with their reviews. Pure storage: the rules
 * are applied by src/server/env.c. Times are unix milliseconds; functions
 * return 0, KILN_ENOENT where stated, or -1 with a message in err.
 */
#ifndef KILN_STORE_ENVS_H
#define KILN_STORE_ENVS_H

#include "store/sql.h"
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/strvec.h"

#define ENV_APPROVAL_TIMEOUT_MS ((int64_t)30 * 24 * 3600 * 1000) /* GitHub: 30 days */

struct env_row {
	int64_t id;
	char repo[256];
	char name[256];
	int64_t wait_timer_ms;       /* delay after the job is first gated */
	int prevent_self_review;     /* the run's actor may not approve */
	int64_t approval_timeout_ms; /* a waiting job fails after this */
	int custom_branches;         /* 1: only refs matching the patterns deploy */
	struct strvec reviewers;     /* "user:NAME" or "group:NAME" */
	struct strvec patterns;      /* "branch:PATTERN" or "tag:PATTERN", in order */
	int64_t created_ms;
};

#define ENV_ROW_INIT { 0, "", "", 0, 0, ENV_APPROVAL_TIMEOUT_MS, 0, STRVEC_INIT, STRVEC_INIT, 0 }
void env_row_release(struct env_row *e);

/* create the environment with no rules when missing; *id its id */
int envs_ensure(struct db *db, const char *repo, const char *name, int64_t *id, struct buf *err);
/* with reviewers and patterns; 0 or KILN_ENOENT */
int envs_get(struct db *db, const char *repo, const char *name, struct env_row *out, struct buf *err);
/* replace every rule of an existing environment (by e->id) with e's */
int envs_put_rules(struct db *db, const struct env_row *e, struct buf *err);
/* the environments of repo (repo NULL: all), rules included; release each */
int envs_list(struct db *db, const char *repo, struct env_row **out, size_t *n, struct buf *err);
/* delete with its variables and secrets; 0 or KILN_ENOENT */
int envs_delete(struct db *db, const char *repo, const char *name, struct buf *err);

/* variables (clear text, returned by the API) */
int envs_var_set(struct db *db, int64_t env_id, const char *name, const char *value, struct buf *err);
/* 0 or KILN_ENOENT */
int envs_var_remove(struct db *db, int64_t env_id, const char *name, struct buf *err);
/* names and values, alternating (name, value, name, value...), by name */
int envs_var_list(struct db *db, int64_t env_id, struct strvec *out, struct buf *err);

/* secrets: the sealed blob only (src/server/env.c seals and opens it) */
int envs_secret_put(struct db *db, int64_t env_id, const char *name, const void *box, size_t len,
		    struct buf *err);
/* 0 or KILN_ENOENT */
int envs_secret_remove(struct db *db, int64_t env_id, const char *name, struct buf *err);
/* names with their update times ("NAME\tMS"), by name: never values */
int envs_secret_names(struct db *db, int64_t env_id, struct strvec *out, struct buf *err);
/* the sealed blob of one secret into box (appended); 0 or KILN_ENOENT */
int envs_secret_get(struct db *db, int64_t env_id, const char *name, struct buf *box, struct buf *err);

/* ---- deployments ---- */

/*
 * States: waiting (protection rules not yet met), queued (rules met,
 * waiting for an earlier deployment of the environment to finish),
 * in_progress, then success, failure, cancelled, rejected (by a reviewer or
 * a branch rule), timed_out (no review in time), error.
 */
struct deploy_row {
	int64_t id;
	char repo[256], environment[256];
	int64_t run_id, job_id;
	char job[256];
	char ref[256], sha[64];
	char actor[128];      /* who triggered the run */
	int64_t commit_ms;    /* the deployed commit's committer time (0 unknown) */
	char state[16];
	char reason[512];
	char approved_by[128];
	char release_app[128];
	int64_t release_id;   /* the deploy controller's release (kiln/deploy), 0 none */
	int64_t created_ms, started_ms, finished_ms;
};

struct deploy_new {
	const char *repo, *environment;
	int64_t run_id, job_id;
	const char *job, *ref, *sha, *actor;
	int64_t commit_ms;
};
/* the deployment of (run_id, job_id), created in state waiting when new;
 * *created says which */
int deploys_ensure(struct db *db, const struct deploy_new *d, int64_t now_ms, struct deploy_row *out,
		   int *created, struct buf *err);
int deploys_get(struct db *db, int64_t id, struct deploy_row *out, struct buf *err);
/* set state (and reason, approved_by when not NULL); started_at is set on
 * in_progress, finished_at on a final state. KILN_ENOENT when the row is
 * not in one of the states listed in `from` (comma-separated) */
int deploys_set_state(struct db *db, int64_t id, const char *from, const char *state,
		      const char *reason, const char *approved_by, int64_t now_ms, struct buf *err);
int deploys_set_release(struct db *db, int64_t id, const char *app, int64_t release_id,
			struct buf *err);
/* the oldest deployment of repo/environment, other than `except`, that is
 * in_progress, or queued and older than except; 0 or KILN_ENOENT */
int deploys_blocking(struct db *db, const char *repo, const char *environment, int64_t except,
		     struct deploy_row *out, struct buf *err);

struct deploy_filter {
	const char *repo, *environment; /* NULL: any */
	const char *state;              /* NULL: any */
	int64_t run_id;                 /* > 0: one run */
	int64_t since_ms;               /* > 0: created at or after */
	int limit;                      /* <= 0: no limit */
};
/* newest first; *out malloc'd */
int deploys_list(struct db *db, const struct deploy_filter *f, struct deploy_row **out, size_t *n,
		 struct buf *err);

/* deployments counted by repository, environment and state: rows of
 * "REPO\tENV\tSTATE\tCOUNT" into out, ordered */
int deploys_counts(struct db *db, struct strvec *out, struct buf *err);

/* reviews of deployments (approve/reject with a comment) */
int deploys_add_review(struct db *db, int64_t deployment_id, const char *user, const char *decision,
		       const char *comment, int64_t now_ms, struct buf *err);

#endif
