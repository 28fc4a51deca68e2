/*
 * runctx: what one `kiln run` knows before any job starts: the per-run
 * directory, the repository facts (HEAD sha, ref, owner/name), the event
 * and its payload, and from those the `github` context and GitHub's
 * default environment (CI, GITHUB_*, RUNNER_*) for every step.
 *
 * Per-job variables that need the job's directories (GITHUB_WORKSPACE,
 * RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_ENV, GITHUB_JOB, ...) are the
 * executor's; this module sets what is the same for the whole run.
 */
#ifndef KILN_RUNCTX_H
#define KILN_RUNCTX_H

#include <stdint.h>

#include "base/buf.h"
#include "base/strvec.h"
#include "expr/expr.h"
#include "engine/trigsel.h"
#include "secret/secret.h"
#include "workflow/workflow.h"

struct runctx {
	char *repo_dir;       /* absolute working tree of the repository */
	char *run_dir;        /* per-run scratch directory (owned, removed unless keep) */
	const char *snapshot_dir; /* the run's files, once per `kiln run` (cli/run.c owns
				     it; workspace.h), or NULL */
	struct jobdir_pool *jobdirs; /* finished job directories to reuse (jobdir.h;
					freed by runctx_release), or NULL */
	int snapshot_take;    /* the run's one job may take snapshot_dir as its
				 workspace (moved, not copied): nothing reads the
				 snapshot after that job starts (cli/run.c) */
	int keep;             /* keep run_dir at the end */
	char *event_name;     /* push, pull_request, workflow_dispatch, ... */
	char *event_path;     /* <run_dir>/event.json */
	struct ev *event;     /* github.event payload (object) */
	char sha[41];         /* HEAD commit, "" when the repository has none */
	char *ref;            /* refs/heads/main, refs/tags/v1, refs/pull/N/merge */
	char *ref_name;       /* main, v1, N/merge */
	const char *ref_type; /* "branch" or "tag" */
	char *head_ref;       /* pull requests only, else "" */
	char *base_ref;       /* pull requests only, else "" */
	char *repository;     /* owner/name */
	char *owner;
	char *actor;
	char *server_url;     /* https://github.com unless GITHUB_SERVER_URL is set */
	char *api_url;
	uint64_t run_id;
	uint64_t run_number;
	int run_attempt;      /* github.run_attempt: 1, more for a re-run */
	struct strvec env;    /* process env + run-wide defaults (the base for steps) */
	struct ev *vars;      /* vars context (from KILN_VAR_* / --var), object */
	struct ev *secrets;   /* secrets context, object */
	struct ev *env_secrets; /* environment name -> secrets object for jobs with
				   that `environment:` (stored), or NULL */
	struct ev *env_vars;    /* environment name -> vars object for jobs with that
				   `environment:` (kiln serve's runs), or NULL */
	struct ev *inputs;    /* inputs context (workflow_dispatch inputs of the event) */
	const struct trigsel *ts; /* the repository and the derived event (borrowed) */
	int event_from_file;      /* github.event came from -e */
	const struct action_resolver *actions; /* remote actions (cli/run.c owns it), or NULL */
};

/* options of runctx_init */
struct runctx_opts {
	const struct trigsel *ts; /* repository and event (trigsel_init), borrowed */
	const struct ev *event;  /* -e payload for github.event (runctx_read_event), or NULL */
	int keep;                /* keep the run directory */
	const struct strvec *vars;    /* NAME=VALUE */
	const struct secret_map *secrets; /* -s / --secret-file values */
	int attempt;             /* github.run_attempt (a re-run's); 0 = 1 */
};

/*
 * Set up a run for the event `opts->ts` derived (github.event: the -e
 * payload if given, else the derived one), make the run directory (with
 * event.json) and build the run-wide environment.
 * Returns 0, KILN_EINVAL (bad event file: message in err, exit 2) or
 * KILN_EIO (exit 3).
 */
int runctx_init(struct runctx *rc, const struct runctx_opts *opts, struct buf *err);
/*
 * Read an event payload file (-e): 0 and *out (a JSON object, new
 * reference), or KILN_EINVAL with "FILE: error: ..." in err.
 */
int runctx_read_event(const char *file, struct ev **out, struct buf *err);
/* remove the run directory (unless keep) and free everything */
void runctx_release(struct runctx *rc);
/*
 * Remove the tree at `path` (best effort, read-only directories made
 * writable first); safe to call from a libuv worker thread.
 */
void runctx_rmtree(const char *path);

/*
 * The contexts every job of workflow `wf` starts from: an object with
 * github (workflow, workflow_ref, job unset), vars, secrets, inputs and
 * env (the workflow's `env:`, evaluated). github.event is the event's
 * payload for this workflow (trigsel_payload: dispatch inputs, schedule),
 * or the -e file; `inputs` (workflow_dispatch, resolved per workflow)
 * replaces rc->inputs when not NULL; run_number is the workflow's number in
 * the run history (github.run_number). NULL with a message in err when
 * the workflow env does not evaluate.
 */
struct ev *runctx_workflow_contexts(struct runctx *rc, const struct workflow *wf,
				    const struct ev *inputs, int run_number, struct buf *err);
/* a copy of the workflow contexts' github object with `job` set, and
 * `workspace` when not NULL */
struct ev *runctx_job_github(const struct ev *wf_contexts, const char *job_id,
			     const char *workspace);
/* the base environment for the jobs of workflow `wf` (run env +
 * GITHUB_WORKFLOW, GITHUB_WORKFLOW_REF, GITHUB_WORKFLOW_SHA, and
 * GITHUB_RUN_NUMBER from the contexts' github.run_number) into `out`
 * (cleared first); the executor adds GITHUB_JOB and the per-job paths */
void runctx_workflow_env(const struct runctx *rc, const struct workflow *wf,
			 const struct ev *wf_contexts, struct strvec *out);
/* the workflow's name: `name:` or its path relative to the repository */
const char *runctx_workflow_name(const struct runctx *rc, const struct workflow *wf);

#endif
