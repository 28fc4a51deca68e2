/* caches: agent jobs' cache entries in the store (see caches.h). */
#include "base/kiln.h"
#include "store/blobs.h"
#include "store/caches.h"
#include "store/runs.h"

static void read_row(struct dbstmt *st, void *el)
{
	struct cache_row *c = el;
	sql_col_text(st, 0, c->key, sizeof(c->key));
	sql_col_text(st, 1, c->digest, sizeof(c->digest));
	c->size = dbs_col_i64(st, 2);
	c->created_ms = dbs_col_i64(st, 3);
}

/* the newest entry the statement selects: 0, KILN_ENOENT or -1 */
static int first_row(struct db *db, struct dbstmt *st, struct cache_row *out, struct buf *err)
{
	struct cache_row *v = NULL;
	size_t n = 0;
	if (sql_rows(db, st, err, "cannot look a cache up", sizeof(*v), read_row, (void **)&v, &n))
		return -1;
	if (n)
		*out = v[0];
	free(v);
	return n ? 0 : KILN_ENOENT;
}

#define COLS "SELECT key, digest, size, created_at FROM caches WHERE repo = ?1 AND version = ?2"

int caches_find(struct db *db, const char *repo, const char *key,
		const struct strvec *restore_keys, const char *version, struct cache_row *out,
		int *exact, struct buf *err)
{
	*exact = 1;
	int r = first_row(db, sql_prep(db, err, "cannot look a cache up", COLS " AND key = ?3",
				       "ttt", repo, version, key), out, err);
	*exact = 0;
	for (size_t i = 0; r == KILN_ENOENT && i < restore_keys->nr; i++) {
		const char *p = restore_keys->v[i];
		r = first_row(db, sql_prep(db, err, "cannot look a cache up",
					   COLS " AND substr(key, 1, length(?3)) = ?3"
					   " ORDER BY created_at DESC, id DESC LIMIT 1",
					   "ttt", repo, version, p),
			      out, err);
	}
	if (!r && !strcmp(out->key, key))
		*exact = 1;
	return r;
}

int caches_add(struct db *db, const char *repo, const char *key, const char *version,
	       const char *digest, int64_t size, struct buf *err)
{
	int n = sql_run(db, err, "cannot save a cache",
			"INSERT INTO caches (repo, key, version, digest, size, created_at)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (repo, key, version) DO NOTHING",
			"ttttii", repo, key, version, digest, size, runs_now_ms());
	return n < 0 ? -1 : n == 0 ? 1 : 0;
}

int caches_has_digest(struct db *db, const char *repo, const char *digest, struct buf *err)
{
	struct cache_row r;
	int rc = first_row(db, sql_prep(db, err, "cannot look a cache up",
					"SELECT key, digest, size, created_at FROM caches"
					" WHERE repo = ?1 AND digest = ?2 LIMIT 1", "tt", repo, digest),
			   &r, err);
	return rc == 0 ? 1 : rc == KILN_ENOENT ? 0 : -1;
}

int caches_blob_ok(struct db *db, const char *repo, const char *digest, int64_t *size,
		   struct buf *err)
{
	/* an uploaded cache blob no other repository's entry names: a digest
	 * is not a capability (an artifact's, a run's source or another
	 * repository's cache would be readable through the new entry) */
	const char *what = "cannot read the blob store";
	struct dbstmt *st = sql_prep(db, err, what,
				     "SELECT size FROM blobs WHERE digest = ?1 AND kind = ?3"
				     " AND NOT EXISTS (SELECT 1 FROM caches c WHERE c.digest = ?1"
				     " AND c.repo <> ?2)", "ttt", digest, repo, BLOB_CACHE);
	return sql_one_i64(db, st, err, what, size);
}
