/*
 * open: the default store, <data dir>/kiln.db (see base/fs.h for the data
 * directory), opened and migrated.
 */
#ifndef KILN_STORE_OPEN_H
#define KILN_STORE_OPEN_H

#include "store/sql.h"

#include "base/buf.h"

/*
 * Where the store of data directory `dir` is: $KILN_DB when set (a
 * postgres:// URL, or a file), else <dir>/kiln.db. `kiln serve --db URL`
 * sets KILN_DB for itself and the `kiln run` children it starts, so they
 * record into the same database.
 */
void store_location(const char *dir, struct buf *out);
/* open the default store, closing the runs of dead kiln processes
 * (recover.h); datadir (may be NULL) receives the data directory; returns
 * 0, KILN_ENOENT when there is no store and none can be made (so it holds
 * nothing), or -1 for a store that cannot be read; err names the file
 * (and, for a damaged file, says how to recover) */
int store_open_default(struct db **db, struct buf *datadir, struct buf *err);

#endif
