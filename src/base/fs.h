/*
 * fs: the kiln data directory and crash-safe file writes shared by the
 * modules that keep state on disk (secrets, cache, run history).
 */
#ifndef KILN_FS_H
#define KILN_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"

/*
 * The data directory: $KILN_HOME, else $XDG_DATA_HOME/kiln, else
 * ~/.local/share/kiln. Creates it (0700) when missing. Appends the path to
 * out; returns 0 or -1 with a message in err.
 */
int kiln_data_dir(struct buf *out, struct buf *err);
/* kiln_data_dir + "/" + name */
int kiln_data_path(const char *name, struct buf *out, struct buf *err);
/* mkdir -p with mode for created directories; returns 0 or -errno */
int mkdir_p(const char *path, mode_t mode);
/*
 * Write a whole file atomically: a temporary file in the same directory,
 * fsync, rename over path, fsync of the directory. Readers see the old or
 * the new content, never a part. Returns 0 or -errno.
 */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* fsync a directory (after a rename into it); returns 0 or -errno */
int fsync_dir(const char *dir);
/* remove path and everything under it (not following symlinks), also
 * read-only directories a job left; best effort, no error */
void rmtree(const char *path);

#endif
