/* jobref: a job's run (see jobref.h). */
#include "base/kiln.h"
#include "store/jobref.h"

int jobref_run(struct db *db, int64_t job_id, int64_t *run_id, struct buf *err)
{
	const char *what = "cannot read job";
	int r = sql_one_i64(db, sql_prep(db, err, what, "SELECT run_id FROM jobs WHERE id = ?1", "i",
					 job_id),
			    err, what, run_id);
	return r < 0 ? -1 : r ? 0 : KILN_ENOENT;
}
