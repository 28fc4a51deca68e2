/*
 * event: a GitHub event as the local repository would have produced it —
 * the refs and sha for the `github` context (GITHUB_REF, GITHUB_SHA, ...),
 * the changed files for `paths:` filters, and the webhook-shaped JSON
 * payload for `github.event` (push: before/after, commits, head_commit,
 * created, forced; pull_request: number, base/head refs and shas).
 */
#ifndef KILN_GIT_EVENT_H
#define KILN_GIT_EVENT_H

#include "base/buf.h"
#include "base/strvec.h"
#include "git/repo.h"

/* GitHub sends at most this many commits in a push payload */
#define EVENT_MAX_COMMITS 2048

/* what to build (all borrowed; NULL fields take the defaults shown) */
struct event_opts {
	const char *name;   /* event name; NULL = "push" */
	const char *ref;    /* push: the ref pushed ("v1.2.3" or "refs/tags/v1.2.3",
			       "main" or "refs/heads/main"); NULL = HEAD's branch, or
			       the tag at HEAD when HEAD is detached */
	const char *base;   /* push: the commit before the push (NULL = the first parent
			       of head); pull_request: the base branch (NULL = the
			       repository's default branch) */
	const char *head;   /* the pushed commit / the PR's head branch; NULL = HEAD */
	const char *action; /* pull_request: NULL = "opened" */
	int number;         /* pull_request: number, 0 = 1 */
	/* pull_request: the branch names (head_ref, base_ref, filters) when they
	 * differ from the revisions above, e.g. an -e payload's branches that
	 * do not exist here; NULL = the names of head / base */
	const char *head_name, *base_name;
};

#define EVENT_OPTS_INIT { NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL }

struct event_info {
	char *name;            /* event name (owned) */
	char *ref;             /* GITHUB_REF: refs/heads/x, refs/tags/v1, refs/pull/1/merge,
				  "" when unknown (detached HEAD without a tag) */
	char *ref_name;        /* GITHUB_REF_NAME: x, v1, 1/merge */
	const char *ref_type;  /* GITHUB_REF_TYPE: "branch" or "tag" (static) */
	char sha[REPO_OID_HEX];/* GITHUB_SHA */
	char *base_ref;        /* pull_request: GITHUB_BASE_REF (branch name), else NULL */
	char *head_ref;        /* pull_request: GITHUB_HEAD_REF, else NULL */
	char *filter_ref;      /* the ref trigger branch/tag filters look at: the pushed
				  ref, or the PR's base (refs/heads/main) */
	char *default_branch;  /* the repository's default branch */
	int changed_known;     /* 1 when `changed` is meaningful (push, pull_request) */
	struct strvec changed; /* changed paths (renames: both names), sorted */
	char *payload;         /* github.event as JSON text (owned) */
};

#define EVENT_INFO_INIT { NULL, NULL, NULL, "branch", "", NULL, NULL, NULL, NULL, 0, STRVEC_INIT, NULL }

/*
 * Build the event for the repository `r` (info from repo_get_info). Returns
 * 0, or KILN_ENOENT / KILN_EINVAL / KILN_EIO with a message in err
 * (unknown revision, no commit yet, ...).
 */
int event_build(struct repo *r, const struct repo_info *info, const struct event_opts *o,
		struct event_info *out, struct buf *err);
void event_info_release(struct event_info *e);

/* the default branch: origin/HEAD's target, else main, else master, else
 * HEAD's branch, else "main" (allocated) */
char *repo_default_branch(struct repo *r, const struct repo_info *info);

#endif
