/*
 * open: the default store, <data dir>/kiln.db (see base/fs.h for the data
 * directory), opened and migrated.
 */
#ifndef KILN_STORE_OPEN_H
#define KILN_STORE_OPEN_H

#include "store/sql.h"

#include "base/buf.h"

/* open the default store, closing the runs of dead kiln processes
 * (recover.h); datadir (may be NULL) receives the data directory; returns
 * 0, KILN_ENOENT when there is no store and none can be made (so it holds
 * nothing), or -1 for a store that cannot be read; err names the file
 * (and, for a damaged file, says how to recover) */
int store_open_default(struct db **db, struct buf *datadir, struct buf *err);

#endif
