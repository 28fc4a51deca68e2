/*
 * workspace: the directory a job runs in (GITHUB_WORKSPACE): the files of
 * the repository's HEAD commit, checked out with libgit2 straight into the
 * directory (no subprocess, the repository's index untouched).
 */
#ifndef KILN_WORKSPACE_H
#define KILN_WORKSPACE_H

#include "base/buf.h"

/*
 * Populate `dest` (created if missing) with the tree of commit `rev` (the
 * run's github.sha: `--head`, an -e payload's `after`; NULL or "" = HEAD)
 * of the repository at or above `repo_dir`. Returns 0, or a negative
 * KILN_E* code with a message in err ("repository has no commit ...").
 */
int workspace_create(const char *repo_dir, const char *rev, const char *dest, struct buf *err);

/*
 * An extra reference on libgit2's global state (they nest). Since the first
 * workspace_create initialises libgit2 for the life of the process (its
 * init+shutdown cost ~10 ms each), these are only needed by code that uses
 * libgit2 before any workspace exists.
 */
void workspace_lib_hold(void);
void workspace_lib_release(void);

#endif
