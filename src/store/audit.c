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

static void read_audit(struct dbstmt *st, void *p)
{
	struct audit_row *a = p;
	a->id = dbs_col_i64(st, 0);
	a->at_ms = dbs_col_i64(st, 1);
	sql_col_text(st, 2, a->actor, sizeof(a->actor));
	sql_col_text(st, 3, a->action, sizeof(a->action));
	sql_col_text(st, 4, a->repo, sizeof(a->repo));
	sql_col_text(st, 5, a->target, sizeof(a->target));
	sql_col_text(st, 6, a->detail, sizeof(a->detail));
}

int audit_list(struct db *db, const struct audit_filter *f, struct audit_row **out, size_t *n,
	       struct buf *err)
{
	const char *what = "cannot read the audit log";
	char *prefix = NULL;
	/* "run." selects a family of actions; anything else is exact */
	if (f->action && str_ends_with(f->action, "."))
		prefix = xstrfmt("%s%%", f->action);
	struct dbstmt *st = sql_prep(
		db, err, what,
		"SELECT id, at, actor, action, repo, target, detail FROM audit_log"
		" WHERE (?1 IS NULL OR repo = ?1) AND (?2 IS NULL OR action = ?2)"
		" AND (?3 IS NULL OR action LIKE ?3) AND (?4 <= 0 OR id < ?4)"
		" ORDER BY id DESC LIMIT ?5",
		"tttii", f->repo, prefix ? NULL : f->action, prefix, f->before_id,
		(int64_t)(f->limit > 0 ? f->limit : 100));
	free(prefix);
	return sql_rows(db, st, err, what, sizeof(**out), read_audit, (void **)out, n);
}
