/*
 * copytree: copy a file or a directory tree (regular files with their
 * executable bit, symlinks as symlinks, directories) — the per-job copy of
 * a run's snapshot (engine/workspace.c). Tries a reflink (FICLONE) first,
 * then copy_file_range, then read/write, so a filesystem with shared
 * extents (btrfs, xfs) copies no data.
 */
#ifndef KILN_COPYTREE_H
#define KILN_COPYTREE_H

#include <sys/types.h>

#include "base/buf.h"

/*
 * Copy the regular file `src_fd` (its size `size`) into the new file `name`
 * relative to `dir_fd` with mode `mode` (O_EXCL: it must not exist).
 * Returns 0 or -errno.
 */
int copy_file_at(int src_fd, off_t size, int dir_fd, const char *name, mode_t mode);

/*
 * Copy the entry `name` of directory `src_dir_fd` (a file, a symlink or a
 * whole directory) into directory `dst_dir_fd` under the same name (it must
 * not exist there). Returns 0 or -errno.
 */
int copy_entry_at(int src_dir_fd, int dst_dir_fd, const char *name);

/*
 * Copy the tree at `src` into `dst` (created when missing; existing files
 * are an error). Other file types (FIFOs, sockets, devices) are skipped.
 * Returns 0, or KILN_EIO with "cannot copy 'path': reason" in err.
 */
int copy_tree(const char *src, const char *dst, struct buf *err);

#endif
