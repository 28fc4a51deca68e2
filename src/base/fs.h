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
/*
 * The same without either fsync: readers see the old or the new content,
 * but after a crash (power loss) path may be empty or hold a part of it.
 * For data whose reader checks it and can do without it (cache entries).
 */
int write_file_replace(const char *path, const void *data, size_t len, mode_t mode);
/*
 * Write all n bytes to fd, retrying on EINTR and after short writes (pipes,
 * sockets). Returns 0, or -errno (errno is left set, -EIO when write makes
 * no progress).
 */
int fs_write_all(int fd, const void *data, size_t n);
/*
 * Read /proc/PID/stat into data (size bytes, 1024 is plenty) and return
 * where its third field (the state letter) starts, after the command name
 * that may hold spaces and parens; NULL when the process is gone.
 */
const char *fs_proc_stat(pid_t pid, char *data, size_t size);
/*
 * Does the environment of pid hold `entry` ("NAME=VALUE") exactly, or with
 * `prefix` an entry starting with it? 0 when it cannot be read (gone, or
 * another user's process).
 */
int fs_proc_environ_has(pid_t pid, const char *entry, int prefix);
/*
 * Connect a stream socket to the unix socket at path (close-on-exec).
 * Returns the fd, or -errno (-ENAMETOOLONG when path does not fit).
 */
int fs_connect_unix(const char *path);
/* fsync a directory (after a rename into it); returns 0 or -errno */
int fsync_dir(const char *dir);
/* remove path and everything under it (not following symlinks), also
 * read-only directories a job left; best effort, no error */
void rmtree(const char *path);

/* the size cap of fs_read_input for files a user hands kiln (YAML_MAX_SIZE) */
#define FS_INPUT_MAX (4u << 20)

/*
 * Read a whole file a user handed kiln (a workflow, an event or secrets
 * file, an app file, action.yml...) into `out`, at most `limit` bytes.
 * The type is checked before any read: the file is opened with O_NONBLOCK
 * (a FIFO does not block open) and anything but a regular file (FIFO,
 * device such as /dev/zero, directory, socket) is refused; the read stops
 * at limit + 1 bytes, so /proc files or a growing file cannot exhaust
 * memory either. Returns 0, or -errno (-EISDIR, -EINVAL for another
 * non-regular file, -EFBIG over the limit, or open/read's) with the
 * reason, ready to follow "cannot read 'x': ", appended to `why`.
 */
int fs_read_input(const char *path, size_t limit, struct buf *out, struct buf *why);

#endif
