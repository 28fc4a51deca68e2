/* jobref: a job's run (see jobref.h). */
#include "base/kiln.h"
#include "store/jobref.h"

int jobref_run(sqlite3 *db, int64_t job_id, int64_t *run_id, struct buf *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT run_id FROM jobs WHERE id = ?1", -1, &st, NULL) !=
	    SQLITE_OK) {
		buf_addf(err, "sqlite: cannot read job: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, job_id);
	int rc = sqlite3_step(st), ret = KILN_ENOENT;
	if (rc == SQLITE_ROW) {
		*run_id = sqlite3_column_int64(st, 0);
		ret = 0;
	} else if (rc != SQLITE_DONE) {
		buf_addf(err, "sqlite: cannot read job: %s", sqlite3_errmsg(db));
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}
