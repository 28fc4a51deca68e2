/*
 * recover: what the next kiln does after a kiln died in the middle of a
 * run (SIGKILL, crash, power loss, or a history it could not write): runs
 * still in_progress whose owner process (owner.h) is gone are closed as
 * failed with the reason, their jobs' leftover processes are killed, and
 * run directories of dead kiln processes are removed.
 */
#ifndef KILN_STORE_RECOVER_H
#define KILN_STORE_RECOVER_H

#include "store/sql.h"

#include "base/buf.h"

/* close the runs of dead owners and kill their processes; returns how many
 * runs were closed, or -1 with a message in err */
int store_recover(struct db *db, struct buf *err);
/* close the in_progress runs of server event event_id (its `kiln run` died
 * with another server replica) with reason; how many, or -1 with err; the
 * ids of the runs closed in *runs (the caller frees it) when runs is not NULL */
int store_recover_event(struct db *db, int64_t event_id, const char *reason, int64_t **runs,
			struct buf *err);
/* 1 when server event event_id has recorded a run (0: none, -1 with err):
 * a lost event none of whose runs was left open had finished them all */
int store_event_has_runs(struct db *db, int64_t event_id, struct buf *err);
/*
 * End lost event l (store_event_lost, repos.h) as failure with reason, in
 * one transaction with what follows: its open runs closed, and (retry_max >
 * 0, attempt <= retry_max, not every run of it ended) its next attempt
 * queued, one event per run closed (or one for the whole event), audited.
 * A crash anywhere leaves the event running, found lost again at the next
 * sweep. KILN_ENOENT when it no longer runs on the replica found lost;
 * 0 with the attempts queued in *out (lost_retry_release), or -1 with err.
 */
struct lost_event;
struct lost_retry {
	int closed;       /* runs closed */
	int64_t *ids;     /* the events queued ... */
	int *attempts;    /* ... and their attempts */
	size_t n, alloc, alloc_attempts;
};
int store_event_fail_lost(struct db *db, const struct lost_event *l, const char *reason,
			  int retry_max, struct lost_retry *out, struct buf *err);
void lost_retry_release(struct lost_retry *r);
/* remove $TMPDIR/kiln-run-PID.START-* directories whose kiln is gone;
 * returns how many were removed */
int store_sweep_run_dirs(void);

#endif
