/* jobref: a job's run (see jobref.h). */
#include "base/kiln.h"
#include "store/jobref.h"

int jobref_run(struct db *db, int64_t job_id, int64_t *run_id, struct buf *err)
{
	struct dbstmt *st = NULL;
	if (db_prepare(db, "SELECT run_id FROM jobs WHERE id = ?1", &st) !=
	    DB_OK) {
		buf_addf(err, "%s: cannot read job: %s", db_name(db), db_errmsg(db));
		return -1;
	}
	dbs_bind_i64(st, 1, job_id);
	int rc = dbs_step(st), ret = KILN_ENOENT;
	if (rc == DB_ROW) {
		*run_id = dbs_col_i64(st, 0);
		ret = 0;
	} else if (rc != DB_DONE) {
		buf_addf(err, "%s: cannot read job: %s", db_name(db), db_errmsg(db));
		ret = -1;
	}
	dbs_finalize(st);
	return ret;
}
