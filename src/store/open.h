/*
 * open: the default store, <data dir>/kiln.db (see base/fs.h for the data
 * directory), opened and migrated.
 */
#ifndef KILN_STORE_OPEN_H
#define KILN_STORE_OPEN_H

#include <sqlite3.h>

#include "base/buf.h"

/* open the default store; datadir (may be NULL) receives the data
 * directory; returns 0 or -1 with a message in err */
int store_open_default(sqlite3 **db, struct buf *datadir, struct buf *err);

#endif
