/*
 * repo: read-only facts about a git repository through libgit2 — where it
 * is, what HEAD points at (branch or detached), tags at HEAD, the `origin`
 * remote as owner/repo, and commit metadata. This is what the `github`
 * context and the event payloads are built from.
 *
 * Names: struct repo is an opened repository (opaque); struct repo_info and
 * struct repo_commit are plain values owned by the caller (release them).
 */
#ifndef KILN_GIT_REPO_H
#define KILN_GIT_REPO_H

#include <stdint.h>

#include "base/buf.h"
#include "base/strvec.h"

/* hex object id length (SHA-1) plus NUL */
#define REPO_OID_HEX 41

/* one commit's metadata, as GitHub's head_commit / commits[] show it */
struct repo_commit {
	char sha[REPO_OID_HEX];   /* full hex id */
	char tree[REPO_OID_HEX];  /* hex id of its tree */
	char *message;            /* full message, as stored (owned) */
	char *author_name;        /* owned */
	char *author_email;       /* owned */
	char *committer_name;     /* owned */
	char *committer_email;    /* owned */
	int64_t time;             /* committer time, seconds since the epoch */
	int tz_minutes;           /* committer's UTC offset in minutes */
	char timestamp[48];       /* ISO-8601 with offset: 2026-11-23T10:41:01+01:00 */
	struct strvec parents;    /* hex ids of the parents, in order */
};

#define REPO_COMMIT_INIT { "", "", NULL, NULL, NULL, NULL, NULL, 0, 0, "", STRVEC_INIT }

/* where HEAD is and what the repository is called */
struct repo_info {
	char *workdir;          /* absolute working tree path, no trailing slash
				   (the git dir for a bare repository) */
	int has_commit;         /* 0 for an unborn HEAD (no commit yet) */
	char sha[REPO_OID_HEX]; /* HEAD commit, "" when unborn */
	char *ref;              /* "refs/heads/main"; NULL when HEAD is detached */
	char *branch;           /* "main"; NULL when detached */
	int detached;           /* 1 when HEAD points at a commit directly */
	struct strvec tags;     /* short names of tags pointing at HEAD, sorted */
	char *origin_url;       /* remote.origin.url, or NULL */
	char *owner;            /* parsed from origin, else "local" */
	char *name;             /* parsed from origin, else the directory name */
	char *repository;       /* "owner/name" */
	struct repo_commit head;/* HEAD commit (valid when has_commit) */
};

#define REPO_INFO_INIT { NULL, 0, "", NULL, NULL, 0, STRVEC_INIT, NULL, NULL, NULL, NULL, REPO_COMMIT_INIT }

struct repo; /* an opened repository */

/*
 * Open the repository containing `dir` (searching upwards, like git).
 * Returns 0, KILN_ENOENT when `dir` is not inside a repository, or
 * KILN_EIO; on error a message is appended to `err` (if not NULL).
 */
int repo_open(const char *dir, struct repo **out, struct buf *err);
void repo_close(struct repo *r);
/* open the git directory `gitdir` itself (a bare repository, no search);
 * 0, KILN_ENOENT or KILN_EIO with err */
int repo_open_bare(const char *gitdir, struct repo **out, struct buf *err);
/* libgit2's repository handle, for the other src/git files */
struct git_repository *repo_git(struct repo *r);

/* fill `info` (REPO_INFO_INIT'd) from the opened repository; 0 or <0 with `err` */
int repo_get_info(struct repo *r, struct repo_info *info, struct buf *err);
/* open `dir`, fill `info`, close: the one call most callers want */
int repo_info_load(const char *dir, struct repo_info *info, struct buf *err);
void repo_info_release(struct repo_info *info);

/*
 * Resolve a revision (sha, abbreviated sha, branch, tag, "HEAD~1",
 * "main^{commit}") to a commit id. Returns 0, KILN_ENOENT (with a message
 * in err) when it names nothing or not a commit.
 */
int repo_resolve(struct repo *r, const char *rev, char out[REPO_OID_HEX], struct buf *err);
/* metadata of the commit `rev` resolves to; `c` must be REPO_COMMIT_INIT'd */
int repo_commit_get(struct repo *r, const char *rev, struct repo_commit *c, struct buf *err);
void repo_commit_release(struct repo_commit *c);
/* first line of a commit message, into `out` (reset first) */
void repo_commit_subject(const struct repo_commit *c, struct buf *out);

/*
 * Parse a remote URL into owner and name: https://host/o/n(.git),
 * git@host:o/n.git, ssh://git@host:22/o/n.git, /path/o/n. Returns 0 and
 * sets allocated *owner / *name, or -1 when the URL has no repository part
 * (then owner and name are untouched).
 */
int repo_parse_remote(const char *url, char **owner, char **name);

#endif
