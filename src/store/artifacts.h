/*
 * artifacts: what the run history keeps of each actions/upload-artifact
 * (table artifacts, migration 14): name, size, file count, digest (the
 * BLAKE2b-256 of the blob, <data>/artifacts/<digest>.tzst: tar + zstd) and
 * when it expires (retention-days). Expired rows stay, flagged, so the API
 * can say "expired" rather than "not found".
 */
#ifndef KILN_STORE_ARTIFACTS_H
#define KILN_STORE_ARTIFACTS_H

#include "store/sql.h"
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/strvec.h"

struct artifact_row {
	int64_t id, run_id, job_id;
	char name[256];
	char job[256];      /* the job that uploaded it, "" when unknown */
	int64_t size;       /* compressed bytes */
	int64_t files;
	char digest[65];
	int64_t created_ms, expires_ms;
	int expired;        /* its blob is gone */
};

/* record an upload of job job_id (its run's artifact `name` is replaced:
 * overwrite); 0 or -1 with err */
int artifacts_record(struct db *db, int64_t job_id, const char *name, int64_t size, int64_t files,
		     const char *digest, int64_t expires_ms, struct buf *err);
/* a run's artifacts by name; *out malloc'd */
int artifacts_list(struct db *db, int64_t run_id, struct artifact_row **out, size_t *n,
		   struct buf *err);
/* one; 0, KILN_ENOENT or -1 */
int artifacts_get(struct db *db, int64_t run_id, const char *name, struct artifact_row *out,
		  struct buf *err);
/* flag every artifact past its expiry (now_ms); the digests no unexpired
 * artifact uses any more are pushed to gone (their blobs may be removed);
 * 0 or -1 */
int artifacts_expire(struct db *db, int64_t now_ms, struct strvec *gone, struct buf *err);

#endif
