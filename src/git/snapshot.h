/*
 * snapshot: the repository's work tree as the user has it, copied into a
 * directory — what `git stash create -u` would capture: every file the
 * index tracks as it is in the work tree now (uncommitted changes
 * included, deleted files absent), plus the untracked files no ignore
 * rule (.gitignore, .git/info/exclude, core.excludesFile) excludes.
 * Nothing is written into the repository (no objects, no index).
 */
#ifndef KILN_GIT_SNAPSHOT_H
#define KILN_GIT_SNAPSHOT_H

#include <stddef.h>

#include "base/buf.h"
#include "git/repo.h"

/*
 * Copy the work tree of `r` into `dest` (created; it should be empty).
 * Submodules become empty directories (as a checkout without
 * `submodules:`); files that vanish while the copy runs are left out.
 * *nfiles (if not NULL) receives the number of files copied.
 * Returns 0, KILN_EINVAL for a bare repository, or KILN_EIO, with err set.
 */
int repo_snapshot_worktree(struct repo *r, const char *dest, size_t *nfiles, struct buf *err);

#endif
