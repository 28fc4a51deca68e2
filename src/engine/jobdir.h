/*
 * jobdir: a run's pool of finished job directories, reused by the jobs
 * that start after them. On a disk, making and removing a job's
 * directories and files costs more than a small job itself (ext4 skips
 * recently freed inodes when allocating one, and with `discard` every
 * freed directory block waits for the device): a finished job's
 * `<run_dir>/<key>` is renamed aside, and a later job's directory is that
 * one renamed back and reset — its workspace made equal to the run's
 * snapshot again (only entries that differ are rewritten, so a job's
 * writes never reach another job), temp/ emptied, anything else removed.
 * The command files are kept (the executor truncates them before each step).
 * Used on the loop thread only.
 */
#ifndef KILN_JOBDIR_H
#define KILN_JOBDIR_H

#include "base/buf.h"

struct jobdir_pool;

/* a pool for the job directories under `run_dir` whose workspace is a copy
 * of `snapshot` (both borrowed for the pool's life) */
struct jobdir_pool *jobdir_pool_new(const char *run_dir, const char *snapshot);
/* forget the kept directories (they stay under run_dir, removed with it) */
void jobdir_pool_free(struct jobdir_pool *p);

/*
 * The workspace of job `key`'s new directory was just copied from the
 * snapshot: remember when, so that its reset after the job compares only
 * files changed since (their ctime). jobdir_get stamps the directories it
 * resets itself.
 */
void jobdir_stamp(struct jobdir_pool *p, const char *key);

/*
 * The job `key` finished and nothing reads its directory any more: keep it
 * for reuse. Returns 0, or -1 when it is not kept (the caller removes it).
 */
int jobdir_put(struct jobdir_pool *p, const char *key);

/*
 * Make `<run_dir>/<key>` from a kept directory: 1 when done (workspace equal
 * to the snapshot, temp/ empty), 0 when none is kept (the caller makes a
 * new one), KILN_EIO with err set when the reset failed (the directory is
 * then removed; the caller may make a new one).
 */
int jobdir_get(struct jobdir_pool *p, const char *key, struct buf *err);

/*
 * Across runs (a loop of `kiln run` pays a run directory, a job directory,
 * temp/, event.json, five command files and a step script per run, ten
 * inodes made and freed): a finished run's directory is kept as
 * `$TMPDIR/.kiln-spare-UID` (jobdir_retire) and the next run's directory
 * is that one renamed (jobdir_take_spare), with one job directory in it
 * as `.skel` — no workspace, temp/ empty but for the emptied step
 * scripts, the command files empty — which the run's first new job
 * directory is (jobdir_take_skeleton).
 */

/*
 * tmpl ("<tmp>/kiln-run-TAG-XXXXXX", as for mkdtemp): rename the spare run
 * directory of <tmp> to tmpl with XXXXXX made unique, and check it is this
 * user's private directory. 0 when done, -1 (tmpl unchanged) when there is
 * no spare (the caller makes a new directory).
 */
int jobdir_take_spare(char *tmpl);
/* 1 when `<run_dir>/<key>` is the run's skeleton now (temp/ there, no
 * workspace), 0 when there is none (the caller makes the directory) */
int jobdir_take_skeleton(struct jobdir_pool *p, const char *key);
/*
 * The run is over, nothing reads run_dir: keep it as the spare (event.json
 * and one kept job directory as a skeleton, everything else removed), or
 * remove it when a spare is there already or it cannot be cleaned.
 */
void jobdir_retire(const char *run_dir);

#endif
