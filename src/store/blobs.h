/*
 * blobs: content-addressed files kept in the store itself (tables blobs and
 * blob_chunks, migration 24), so that every `kiln serve` replica on one
 * database reads what another one wrote: the run sources agents download
 * and the artifacts agents upload (data directories are per replica). A
 * blob is named by the BLAKE2b-256 of its bytes (hex, as src/cas), kept in
 * chunks keyed by their byte offset; its row in blobs is written last,
 * once every chunk is in and the digest checked, so a blob without a row
 * is an upload in progress (or abandoned: the sweep removes it).
 */
#ifndef KILN_STORE_BLOBS_H
#define KILN_STORE_BLOBS_H

#include "store/sql.h"
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* the largest chunk blobs_put_file writes */
#define BLOB_CHUNK (1024 * 1024)

/* what a blob is for (blobs.kind): the sweep keeps each kind its own way */
#define BLOB_SOURCE "source"     /* a run's files for agents: while a job needs them */
#define BLOB_ARTIFACT "artifact" /* an upload-artifact blob: while an artifact names it */
#define BLOB_CACHE "cache"       /* an agent job's cache: while a caches row names it */
/* (a blob of either kind is kept while an artifact or a cache names it) */

/* 1 when the blob is complete in the store (*size its bytes), 0 when not,
 * -1 with err */
int blobs_stat(struct db *db, const char *digest, int64_t *size, struct buf *err);
/*
 * Keep the file at path, whose BLAKE2b-256 is digest, as a blob of kind;
 * when the store has it already only its use time is renewed. 0, or -1
 * with err (a file that does not hash to digest is refused).
 */
int blobs_put_file(struct db *db, const char *digest, const char *kind, const char *path,
		   struct buf *err);
/*
 * An upload in parts (an agent's artifact): *size is how many bytes of
 * blob digest the store has so far, contiguous from 0 (its full size when
 * complete). 0 or -1 with err.
 */
int blobs_part_size(struct db *db, const char *digest, int64_t *size, struct buf *err);
/* store n bytes at offset (the part size): 0 or -1 with err; another
 * uploader of the same blob storing the same chunk first is fine */
int blobs_add_chunk(struct db *db, const char *digest, int64_t offset, const void *p, size_t n,
		    struct buf *err);
/* the upload is complete: its chunks must hash to digest. 0 (the blob is
 * kept as kind), 1 (they do not: the chunks are dropped) or -1 with err */
int blobs_seal(struct db *db, const char *digest, const char *kind, struct buf *err);
/*
 * Who uploads a blob (table blob_uploads): per blob and run, the agent job
 * and how many bytes it sent so far, from 0 (each checked against what the
 * store has: blobs_range_eq). A digest is not a capability: an artifact of
 * an agent job is recorded only for a blob its run uploaded whole.
 */
int blobs_upload_size(struct db *db, const char *digest, int64_t run_id, int64_t *size,
		      struct buf *err);
int blobs_upload_note(struct db *db, const char *digest, int64_t run_id, int64_t job_id,
		      int64_t size, struct buf *err);
/* 1 when run_id uploaded the whole complete blob, 0 when not, -1 with err */
int blobs_uploaded(struct db *db, const char *digest, int64_t run_id, struct buf *err);
/* 1 when the stored chunks cover [off, off + n) with exactly these bytes,
 * 0 when not (a byte differs, or a gap), -1 with err */
int blobs_range_eq(struct db *db, const char *digest, int64_t off, const void *p, size_t n,
		   struct buf *err);
/* the complete blob's bytes appended to out: 0, KILN_ENOENT or -1 */
int blobs_read(struct db *db, const char *digest, struct buf *out, struct buf *err);
/* the complete blob written to the open file descriptor fd: 0, KILN_ENOENT
 * or -1 (a chunk at a time: an artifact may be large) */
int blobs_write_fd(struct db *db, const char *digest, int fd, struct buf *err);
/*
 * Drop what nothing needs: source blobs no open agent job uses and no run
 * touched for keep_ms, artifact and cache blobs that no unexpired artifact
 * and no cache entry names older than keep_ms, incomplete uploads older
 * than keep_ms. *n: blobs dropped.
 * 0 or -1 with err.
 */
int blobs_sweep(struct db *db, int64_t now_ms, int64_t keep_ms, int64_t *n, struct buf *err);

#endif
