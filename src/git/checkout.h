/*
 * checkout: write a commit's files into a directory with libgit2 (no `git`
 * process; the repository's own index and work tree are left alone). Used
 * for job workspaces and the built-in actions/checkout.
 */
#ifndef KILN_GIT_CHECKOUT_H
#define KILN_GIT_CHECKOUT_H

#include "base/buf.h"
#include "git/repo.h"

/*
 * Write the tree of revision `rev` (NULL = HEAD) into `dest`, creating it
 * and missing parents. Existing files are overwritten; files the tree does
 * not have are left unless `clean` is set, in which case `dest` is emptied
 * first. File modes (executable bits) and symlinks are kept.
 * Returns 0, KILN_ENOENT (unknown revision) or KILN_EIO, with err set.
 */
int repo_checkout(struct repo *r, const char *rev, const char *dest, int clean, struct buf *err);

#endif
