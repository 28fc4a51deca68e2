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
/* remove $TMPDIR/kiln-run-PID.START-* directories whose kiln is gone;
 * returns how many were removed */
int store_sweep_run_dirs(void);

#endif
