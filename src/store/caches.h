/*
 * caches: the cache entries `kiln agent` jobs save through the server
 * (actions/cache, cache/restore, cache/save on an agent; table caches,
 * migration 25), so a cache saved on one agent is restored on another. An
 * entry is scoped to a repository and names a blob (kind cache) of the
 * store's blobs (store/blobs.h).
 */
#ifndef KILN_STORE_CACHES_H
#define KILN_STORE_CACHES_H

#include "store/sql.h"
#include "base/strvec.h"
#include <stdint.h>

struct cache_row {
	char key[512];
	char digest[65];
	int64_t size, created_ms;
};

/*
 * As GitHub's cache service: the entry of repo with exactly key and
 * version (*exact 1), else the newest whose key starts with the first
 * restore key that matches one, then the next (*exact 0). 0 with *out,
 * KILN_ENOENT, or -1 with err.
 */
int caches_find(struct db *db, const char *repo, const char *key,
		const struct strvec *restore_keys, const char *version, struct cache_row *out,
		int *exact, struct buf *err);
/* register an entry: 0, 1 (the key and version exist: the first
 * writer wins, the entry is unchanged) or -1 with err */
int caches_add(struct db *db, const char *repo, const char *key, const char *version,
	       const char *digest, int64_t size, struct buf *err);
/* 1 when an entry of repo names blob digest, 0 when none, -1 with err */
int caches_has_digest(struct db *db, const char *repo, const char *digest, struct buf *err);

/*
 * Whether digest may become an entry of repo: a blob uploaded as a cache
 * (not an artifact's or a source's) that no other repository's entry
 * names. 1 with *size, 0, or -1 with err.
 */
int caches_blob_ok(struct db *db, const char *repo, const char *digest, int64_t *size,
		   struct buf *err);

#endif
