/* open: the default SQLite store in the data directory. */
#include "base/kiln.h"
#include "base/fs.h"
#include "store/db.h"
#include "store/open.h"

int store_open_default(sqlite3 **db, struct buf *datadir, struct buf *err)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	int r = kiln_data_dir(&dir, err);
	if (!r) {
		buf_addf(&path, "%s/kiln.db", dir.buf);
		r = db_open(path.buf, db, err);
	}
	if (!r && datadir)
		buf_add(datadir, dir.buf, dir.len);
	buf_release(&dir);
	buf_release(&path);
	return r;
}
