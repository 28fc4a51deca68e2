/*
 * cas: the content-addressed cache and artifact store under
 * <data dir>/cache:
 *
 *   blobs/<hash>.tzst       tar + zstd of a set of paths; <hash> is the
 *                           BLAKE2b-256 of the compressed bytes, so equal
 *                           content is stored once
 *   blobs/<hash>.manifest   the regular files in the blob (size, mtime,
 *                           mode, path) for the unchanged-tree fast path
 *   entries/<id>.json       one cache entry: key, version, blob, size,
 *                           created and last-used times; <id> hashes
 *                           version and key
 *
 * Every file is written to a temporary name and renamed, entries last, so
 * a reader never sees a part of one (orphan temp files and unreferenced
 * blobs are removed by cas_prune). Artifacts and run sources (cas_pack) are
 * fsync'd first; caches (cas_save, CAS_PACK_NOSYNC) are not — a cache may
 * lose an entry on power loss, but never serves a damaged one: a blob is
 * extracted only after its bytes hash to its name (else CAS_CORRUPT, and
 * cas_restore removes it and its entries: a miss), a manifest is used only
 * when it matches its own hash, an entry only when it parses.
 *
 * Matching follows actions/cache: a restore looks for the exact key, then
 * for each restore key in order the newest entry whose key starts with it;
 * only entries with the same version (the same path list) match. Entries
 * are immutable: saving an existing key is refused. Total size is bounded;
 * the least recently used entries are evicted first.
 */
#ifndef KILN_CAS_H
#define KILN_CAS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/strvec.h"

#define CAS_DEFAULT_LIMIT (10ull << 30) /* 10 GiB, GitHub's per-repository limit */
#define CAS_EXISTS 1                    /* cas_save: the key already exists */
#define CAS_CORRUPT (-10)               /* cas_unpack: the blob does not hash to its name */
#define CAS_PACK_NOSYNC 1u              /* cas_pack_flags: no fsync (a cache's blob) */
#define CAS_MANIFEST_MAGIC "kiln-manifest-2" /* first line: magic, BLAKE2b of the rest */

struct cas {
	char *dir;      /* <data dir>/cache (owned) */
	uint64_t limit; /* total bytes kept; from KILN_CACHE_LIMIT or the default */
};

#define CAS_INIT { NULL, 0 }

struct cas_entry {
	char id[65];      /* entry file name without .json */
	char key[512];
	char version[65]; /* hash of the path list */
	char blob[65];
	uint64_t size;    /* compressed bytes */
	int64_t created_ms, used_ms;
};

/* open (creating) the store under datadir; 0 or -1 with err */
int cas_open(struct cas *c, const char *datadir, struct buf *err);
void cas_close(struct cas *c);
/* parse "123", "10K", "500M", "2G" (powers of 1024); 0 or -1 */
int cas_parse_size(const char *s, uint64_t *out);
/* the version of a path list (order matters, as in actions/cache) */
void cas_version(const struct strvec *paths, char out[65]);

/*
 * Pack `paths` (files, directories, globs with *, **, ?, [..], {a,b};
 * a leading ! excludes; ~/ is $HOME; relative to cwd) into a blob.
 * Returns 0, KILN_ENOENT when nothing matched, or -1 with err.
 */
int cas_pack(struct cas *c, const struct strvec *paths, const char *cwd, char blob[65],
	     uint64_t *size, size_t *nfiles, struct buf *err);
/* the same with flags (CAS_PACK_NOSYNC) */
int cas_pack_flags(struct cas *c, const struct strvec *paths, const char *cwd, unsigned flags,
		   char blob[65], uint64_t *size, size_t *nfiles, struct buf *err);
/*
 * Unpack a blob; relative names land under cwd. When every file of the
 * manifest is already in place (same size and mtime) nothing is read.
 * Files whose size and mtime match are skipped. Otherwise the blob is
 * read once first: nothing is written unless its bytes hash to its name.
 * *unchanged (may be NULL) is set when the fast path applied. 0,
 * CAS_CORRUPT (nothing restored; the blob is left for the caller to
 * remove) or -1, with err.
 */
int cas_unpack(struct cas *c, const char *blob, const char *cwd, int *unchanged, struct buf *err);

/* save paths under key: 0, CAS_EXISTS, KILN_ENOENT (nothing to save), -1 */
int cas_save(struct cas *c, const char *key, const struct strvec *paths, const char *cwd,
	     struct cas_entry *out, struct buf *err);
/* find the entry restore would use: 0 (exact set when the key matched
 * exactly), KILN_ENOENT, or -1 */
int cas_lookup(struct cas *c, const char *key, const struct strvec *restore_keys,
	       const char *version, struct cas_entry *hit, int *exact, struct buf *err);
/* lookup + unpack + mark used: 0 on a hit, KILN_ENOENT on a miss, -1;
 * CAS_CORRUPT (a miss too) when the entry's blob was damaged: the blob and
 * every entry naming it are removed, err says so */
int cas_restore(struct cas *c, const char *key, const struct strvec *restore_keys,
		const struct strvec *paths, const char *cwd, struct cas_entry *hit, int *exact,
		struct buf *err);
/* every entry, most recently used first; *out malloc'd */
int cas_list(struct cas *c, struct cas_entry **out, size_t *n, struct buf *err);
/* remove entries whose key equals key (prefix match when prefix is set);
 * *removed counts them; 0 or -1 */
int cas_remove(struct cas *c, const char *key, int prefix, size_t *removed, struct buf *err);
/* evict least recently used entries until the total is within limit, then
 * delete unreferenced blobs and stale temp files; 0 or -1 */
int cas_prune(struct cas *c, uint64_t limit, size_t *removed, uint64_t *freed, struct buf *err);

#endif
