/* open: the default SQLite store in the data directory. */
#include "base/kiln.h"
#include "base/fs.h"
#include "store/db.h"
#include "store/open.h"
#include "store/recover.h"

void store_location(const char *dir, struct buf *out)
{
	const char *env = getenv("KILN_DB");
	if (env && *env)
		buf_addstr(out, env);
	else
		buf_addf(out, "%s/kiln.db", dir);
}

int store_open_default(struct db **db, struct buf *datadir, struct buf *err)
{
	struct buf dir = BUF_INIT, path = BUF_INIT, rerr = BUF_INIT;
	int r = kiln_data_dir(&dir, err) < 0 ? KILN_ENOENT : 0;
	if (!r) {
		store_location(dir.buf, &path);
		r = db_open(path.buf, db, err);
	}
	/*
	 * Every command that opens the store first closes the runs of kiln
	 * processes that died. A damaged store fails the open (with the
	 * recovery hint); another failure (full disk) only warns: reading
	 * the history must still work.
	 */
	if (!r && store_recover(*db, &rerr) < 0) {
		if (strstr(rerr.buf, "\nhint: ")) {
			buf_addf(err, "cannot open the store '%s': %s", path.buf,
				 str_starts_with(rerr.buf, "sqlite: ") ? rerr.buf + 8 : rerr.buf);
			db_close(*db);
			*db = NULL;
			r = -1;
		} else {
			fprintf(stderr, "kiln: warning: cannot close the runs of dead kiln processes: %s\n",
				rerr.buf);
		}
	}
	if (!r)
		store_sweep_run_dirs();
	if (!r && db_is_url(path.buf))
		buf_reset(&path); /* never printed: it may hold a password */
	if (!r && datadir)
		buf_add(datadir, dir.buf, dir.len);
	buf_release(&dir);
	buf_release(&path);
	buf_release(&rerr);
	return r;
}
