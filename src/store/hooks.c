/* hooks: notification webhooks in the store (see hooks.h). */
#include "base/kiln.h"
#include "store/hooks.h"
#include "store/sql.h"

#include <time.h>

void hook_row_release(struct hook_row *h)
{
	buf_release(&h->box);
}

int hooks_insert(struct db *db, const struct hook_row *h, int64_t *id, struct buf *err)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct dbstmt *st = sql_prep(db, err, "cannot add webhook",
				    "INSERT INTO notify_hooks (repo, environment, kind, events, host,"
				    " url_box, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
				    "ttttt" "ti", h->repo, h->environment, h->kind, h->events, h->host, NULL,
				    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	if (!st)
		return -1;
	dbs_bind_blob(st, 6, h->box.buf, h->box.len);
	int64_t newid;
	int rc = dbs_step_id(st, &newid);
	dbs_finalize(st);
	if (rc != DB_DONE)
		return sql_fail(db, err, "cannot add webhook");
	if (id)
		*id = newid;
	return 0;
}

int hooks_delete(struct db *db, const char *repo, int64_t id, struct buf *err)
{
	int c = sql_run(db, err, "cannot remove webhook",
			"DELETE FROM notify_hooks WHERE id = ?1 AND repo = ?2", "it", id, repo);
	return c < 0 ? -1 : c ? 0 : KILN_ENOENT;
}

static int rows(struct db *db, struct dbstmt *st, int with_box, struct hook_row **out, size_t *n,
		struct buf *err)
{
	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	size_t alloc = 0;
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW) {
		ALLOC_GROW(*out, *n + 1, alloc);
		struct hook_row *h = &(*out)[(*n)++];
		*h = (struct hook_row)HOOK_ROW_INIT;
		h->id = dbs_col_i64(st, 0);
		sql_col_text(st, 1, h->repo, sizeof(h->repo));
		sql_col_text(st, 2, h->environment, sizeof(h->environment));
		sql_col_text(st, 3, h->kind, sizeof(h->kind));
		sql_col_text(st, 4, h->events, sizeof(h->events));
		sql_col_text(st, 5, h->host, sizeof(h->host));
		h->created_ms = dbs_col_i64(st, 6);
		if (with_box)
			buf_add(&h->box, dbs_col_blob(st, 7), (size_t)dbs_col_bytes(st, 7));
	}
	dbs_finalize(st);
	if (rc != DB_DONE) {
		for (size_t i = 0; i < *n; i++)
			hook_row_release(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
		return sql_fail(db, err, "cannot read webhooks");
	}
	return 0;
}

#define HOOK_COLS "id, repo, environment, kind, events, host, created_at, url_box"

int hooks_list(struct db *db, const char *repo, struct hook_row **out, size_t *n, struct buf *err)
{
	return rows(db,
		    sql_prep(db, err, "cannot read webhooks",
			     "SELECT " HOOK_COLS " FROM notify_hooks WHERE ?1 IS NULL OR repo = ?1"
			     " ORDER BY repo, id",
			     "t", repo),
		    0, out, n, err);
}

int hooks_for(struct db *db, const char *repo, const char *environment, struct hook_row **out,
	      size_t *n, struct buf *err)
{
	return rows(db,
		    sql_prep(db, err, "cannot read webhooks",
			     "SELECT " HOOK_COLS " FROM notify_hooks WHERE repo = ?1"
			     " AND (environment = '' OR environment = ?2) ORDER BY id",
			     "tt", repo, environment ? environment : ""),
		    1, out, n, err);
}
