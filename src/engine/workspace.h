/*
 * workspace: the directory a job runs in (GITHUB_WORKSPACE): the files of
 * the repository's HEAD commit, checked out with libgit2 straight into the
 * directory (no subprocess, the repository's index untouched).
 */
#ifndef KILN_WORKSPACE_H
#define KILN_WORKSPACE_H

#include "base/buf.h"

/*
 * Populate `dest` (created if missing) with the tree of HEAD of the
 * repository at or above `repo_dir`. Returns 0, or a negative KILN_E* code
 * with a message in err ("repository has no commit at HEAD", ...).
 */
int workspace_create(const char *repo_dir, const char *dest, struct buf *err);

/*
 * Keep libgit2 initialised between workspaces. libgit2's global init and
 * shutdown cost ~10 ms each; a run that creates many workspaces holds one
 * reference for its whole duration (call hold once at the start and
 * release once at the end; they nest).
 */
void workspace_lib_hold(void);
void workspace_lib_release(void);

/* mkdir -p; returns 0 or -errno */
int workspace_mkdirs(const char *path, int mode);

#endif
