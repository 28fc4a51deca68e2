/* audit: the append-only server audit log (see audit.h). */
#include "base/kiln.h"
#include "store/audit.h"
#include "store/sql.h"

#include <time.h>

int audit_append(struct db *db, const char *actor, const char *action, const char *repo,
		 const char *target, const char *detail, struct buf *err)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return sql_run(db, err, "cannot append to the audit log",
		       "INSERT INTO audit_log (at, actor, action, repo, target, detail)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		       "ittttt", at, actor ? actor : "kiln", action, repo ? repo : "",
		       target ? target : "", detail ? detail : "") < 0
		       ? -1
		       : 0;
}

int audit_list(struct db *db, const struct audit_filter *f, struct audit_row **out, size_t *n,
	       struct buf *err)
{
	*out = NULL;
	*n = 0;
	char *prefix = NULL;
	/* "run." selects a family of actions; anything else is exact */
	if (f->action && str_ends_with(f->action, "."))
		prefix = xstrfmt("%s%%", f->action);
	struct dbstmt *st = sql_prep(
		db, err, "cannot read the audit log",
		"SELECT id, at, actor, action, repo, target, detail FROM audit_log"
		" WHERE (?1 IS NULL OR repo = ?1) AND (?2 IS NULL OR action = ?2)"
		" AND (?3 IS NULL OR action LIKE ?3) AND (?4 <= 0 OR id < ?4)"
		" ORDER BY id DESC LIMIT ?5",
		"tttii", f->repo, prefix ? NULL : f->action, prefix, f->before_id,
		(int64_t)(f->limit > 0 ? f->limit : 100));
	free(prefix);
	if (!st)
		return -1;
	size_t alloc = 0;
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW) {
		ALLOC_GROW(*out, *n + 1, alloc);
		struct audit_row *a = &(*out)[(*n)++];
		a->id = dbs_col_i64(st, 0);
		a->at_ms = dbs_col_i64(st, 1);
		sql_col_text(st, 2, a->actor, sizeof(a->actor));
		sql_col_text(st, 3, a->action, sizeof(a->action));
		sql_col_text(st, 4, a->repo, sizeof(a->repo));
		sql_col_text(st, 5, a->target, sizeof(a->target));
		sql_col_text(st, 6, a->detail, sizeof(a->detail));
	}
	dbs_finalize(st);
	if (rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return sql_fail(db, err, "cannot read the audit log");
	}
	return 0;
}
