/*
 * workspace: the directory a job runs in (GITHUB_WORKSPACE). A run takes
 * one snapshot of the repository's files (workspace_snapshot: the work
 * tree as the user has it, or a commit's tree) and every job gets its own
 * copy of it (workspace_create), so all jobs see the same files even when
 * the user keeps editing, and a job writing a file changes no other job's
 * view. Without a snapshot (kiln debug job, a server without a work tree)
 * the commit is checked out with libgit2 straight into the job's directory.
 */
#ifndef KILN_WORKSPACE_H
#define KILN_WORKSPACE_H

#include "base/buf.h"

struct repo;

/*
 * Materialize the run's files into `dir` (created): the tree of commit
 * `rev` of the repository at or above `repo_dir`, or, when `rev` is NULL,
 * its work tree as `git stash create -u` would capture it (tracked files
 * with their uncommitted changes, untracked files not ignored, deleted
 * files absent; git/snapshot.h). Returns 0, or a negative KILN_E* code
 * with a message in err.
 */
int workspace_snapshot(const char *repo_dir, const char *rev, const char *dir, struct buf *err);
/* the same with the repository already open (`repo` is that of repo_dir) */
int workspace_snapshot_repo(struct repo *repo, const char *repo_dir, const char *rev,
			    const char *dir, struct buf *err);

/*
 * Populate `dest` (created if missing) for one job: a copy of the run's
 * `snapshot` directory when not NULL, else the tree of commit `rev` (the
 * run's github.sha; NULL or "" = HEAD) of the repository at or above
 * `repo_dir`. Returns 0, or a negative KILN_E* code with a message in err
 * ("repository has no commit ...").
 */
int workspace_create(const char *repo_dir, const char *rev, const char *snapshot,
		     const char *dest, struct buf *err);

/*
 * An extra reference on libgit2's global state (they nest). Since the first
 * workspace_create initialises libgit2 for the life of the process (its
 * init+shutdown cost ~10 ms each), these are only needed by code that uses
 * libgit2 before any workspace exists.
 */
void workspace_lib_hold(void);
void workspace_lib_release(void);

#endif
