/* jobref: which run a job (by its id alone) belongs to — the API names jobs
 * by id (/api/v1/jobs/{id}/...), the run history by run. */
#ifndef KILN_STORE_JOBREF_H
#define KILN_STORE_JOBREF_H

#include "store/sql.h"
#include <stdint.h>

#include "base/buf.h"

/* 0 and *run_id, KILN_ENOENT, or -1 with err */
int jobref_run(struct db *db, int64_t job_id, int64_t *run_id, struct buf *err);

#endif
