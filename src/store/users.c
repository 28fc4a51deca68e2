/* users: users, groups, API tokens and failed logins in the store (users.h). */
#include "base/kiln.h"
#include "store/sql.h"
#include "store/users.h"

#include <time.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 when st produced a row (read by fn), KILN_ENOENT when none, -1 on error */
static int one_row(struct db *db, struct dbstmt *st, struct buf *err, const char *what,
		   void (*fn)(struct dbstmt *, void *), void *out)
{
	if (!st)
		return -1;
	int rc = dbs_step(st), r = 0;
	if (rc == DB_ROW)
		fn(st, out);
	else if (rc == DB_DONE)
		r = KILN_ENOENT;
	else
		r = sql_fail(db, err, what);
	dbs_finalize(st);
	return r;
}

/* ---- users ---- */

#define USER_COLS "id, name, role, disabled, pwhash IS NOT NULL, created_at"

static void read_user(struct dbstmt *st, void *p)
{
	struct user_row *u = p;
	memset(u, 0, sizeof(*u));
	u->id = dbs_col_i64(st, 0);
	sql_col_text(st, 1, u->name, sizeof(u->name));
	sql_col_text(st, 2, u->role, sizeof(u->role));
	u->disabled = dbs_col_int(st, 3);
	u->has_password = dbs_col_int(st, 4);
	u->created_ms = dbs_col_i64(st, 5);
}

int users_insert(struct db *db, const char *name, const char *pwhash, const char *role,
		 int64_t *id, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot add user",
				    "INSERT INTO users (name, pwhash, role, created_at) VALUES (?1, ?2, ?3, ?4)"
				    " RETURNING id",
				    "ttti", name, pwhash, role, now_ms());
	if (!st)
		return -1;
	int64_t newid;
	int rc = dbs_step_id(st, &newid);
	dbs_finalize(st);
	if (rc == DB_CONSTRAINT) {
		buf_addf(err, "user '%s' already exists", name);
		return KILN_EINVAL;
	}
	if (rc != DB_DONE)
		return sql_fail(db, err, "cannot add user");
	if (id)
		*id = newid;
	return 0;
}

struct user_pw {
	struct user_row *u;
	char **pwhash;
};

static void read_user_pw(struct dbstmt *st, void *p)
{
	struct user_pw *up = p;
	read_user(st, up->u);
	if (up->pwhash)
		*up->pwhash = sql_col_strdup(st, 6);
}

int users_get(struct db *db, const char *name, struct user_row *out, char **pwhash, struct buf *err)
{
	struct user_pw up = { out, pwhash };
	if (pwhash)
		*pwhash = NULL;
	return one_row(db,
		       sql_prep(db, err, "cannot read user",
				"SELECT " USER_COLS ", pwhash FROM users WHERE name = ?1", "t", name),
		       err, "cannot read user", read_user_pw, &up);
}

int users_get_id(struct db *db, int64_t id, struct user_row *out, struct buf *err)
{
	return one_row(db,
		       sql_prep(db, err, "cannot read user",
				"SELECT " USER_COLS " FROM users WHERE id = ?1", "i", id),
		       err, "cannot read user", read_user, out);
}

int users_list(struct db *db, struct user_row **out, size_t *n, struct buf *err)
{
	const char *what = "cannot list users";
	return sql_rows(db, sql_prep(db, err, what, "SELECT " USER_COLS " FROM users ORDER BY name", ""),
			err, what, sizeof(**out), read_user, (void **)out, n);
}

int users_count(struct db *db, int64_t *n, struct buf *err)
{
	*n = 0;
	return sql_one_i64(db, sql_prep(db, err, "cannot count users", "SELECT COUNT(*) FROM users", ""),
			   err, "cannot count users", n) < 0 ? -1 : 0;
}

/* an UPDATE of one row: 0, KILN_ENOENT when nothing matched, -1 */
static int update_one(int changed)
{
	return changed < 0 ? -1 : changed == 0 ? KILN_ENOENT : 0;
}

int users_set_password(struct db *db, int64_t id, const char *pwhash, struct buf *err)
{
	return update_one(sql_run(db, err, "cannot set password",
				  "UPDATE users SET pwhash = ?2 WHERE id = ?1", "it", id, pwhash));
}

int users_set_role(struct db *db, int64_t id, const char *role, struct buf *err)
{
	return update_one(sql_run(db, err, "cannot set role", "UPDATE users SET role = ?2 WHERE id = ?1",
				  "it", id, role));
}

int users_set_disabled(struct db *db, int64_t id, int disabled, struct buf *err)
{
	return update_one(sql_run(db, err, "cannot disable user",
				  "UPDATE users SET disabled = ?2 WHERE id = ?1", "ii", id,
				  (int64_t)(disabled != 0)));
}

/* ---- groups ---- */

int groups_add_member(struct db *db, const char *group, int64_t user_id, struct buf *err)
{
	if (sql_run(db, err, "cannot add group",
		    "INSERT INTO user_groups (name, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
		    "ti", group, now_ms()) < 0 ||
	    sql_run(db, err, "cannot add group member",
		    "INSERT INTO user_group_members (group_name, user_id) VALUES (?1, ?2)"
		    " ON CONFLICT DO NOTHING",
		    "ti", group, user_id) < 0)
		return -1;
	return 0;
}

int groups_remove_member(struct db *db, const char *group, int64_t user_id, struct buf *err)
{
	return update_one(sql_run(db, err, "cannot remove group member",
				  "DELETE FROM user_group_members WHERE group_name = ?1 AND user_id = ?2",
				  "ti", group, user_id));
}

int groups_is_member(struct db *db, const char *group, int64_t user_id, struct buf *err)
{
	int64_t n = 0;
	int r = sql_one_i64(db,
			    sql_prep(db, err, "cannot read group",
				     "SELECT COUNT(*) FROM user_group_members WHERE group_name = ?1 AND user_id = ?2",
				     "ti", group, user_id),
			    err, "cannot read group", &n);
	return r < 0 ? -1 : n > 0;
}

/* ---- tokens ---- */

#define TOKEN_COLS                                                                            \
	"t.id, t.user_id, u.name, u.role, u.disabled, t.name, t.prefix, t.hash, t.created_at,"  \
	" COALESCE(t.expires_at, 0), COALESCE(t.last_used_at, 0), COALESCE(t.revoked_at, 0)"

static void read_token(struct dbstmt *st, void *p)
{
	struct token_row *t = p;
	memset(t, 0, sizeof(*t));
	t->id = dbs_col_i64(st, 0);
	t->user_id = dbs_col_i64(st, 1);
	sql_col_text(st, 2, t->user, sizeof(t->user));
	sql_col_text(st, 3, t->user_role, sizeof(t->user_role));
	t->user_disabled = dbs_col_int(st, 4);
	sql_col_text(st, 5, t->name, sizeof(t->name));
	sql_col_text(st, 6, t->prefix, sizeof(t->prefix));
	sql_col_text(st, 7, t->hash, sizeof(t->hash));
	t->created_ms = dbs_col_i64(st, 8);
	t->expires_ms = dbs_col_i64(st, 9);
	t->last_used_ms = dbs_col_i64(st, 10);
	t->revoked_ms = dbs_col_i64(st, 11);
}

int tokens_insert(struct db *db, int64_t user_id, const char *name, const char *hash_hex,
		  const char *prefix, int64_t expires_ms, int64_t *id, struct buf *err)
{
	struct dbstmt *st = sql_prep(db, err, "cannot store token",
				     "INSERT INTO api_tokens (user_id, name, hash, prefix, created_at,"
				     " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
				     "ittti" "I", user_id, name, hash_hex, prefix, now_ms(), expires_ms);
	if (!st)
		return -1;
	int64_t newid;
	int rc = dbs_step_id(st, &newid);
	dbs_finalize(st);
	if (rc != DB_DONE)
		return sql_fail(db, err, "cannot store token");
	if (id)
		*id = newid;
	return 0;
}

int tokens_get_by_hash(struct db *db, const char *hash_hex, struct token_row *out, struct buf *err)
{
	return one_row(db,
		       sql_prep(db, err, "cannot read token",
				"SELECT " TOKEN_COLS " FROM api_tokens t JOIN users u ON u.id = t.user_id"
				" WHERE t.hash = ?1",
				"t", hash_hex),
		       err, "cannot read token", read_token, out);
}

int tokens_get(struct db *db, int64_t id, struct token_row *out, struct buf *err)
{
	return one_row(db,
		       sql_prep(db, err, "cannot read token",
				"SELECT " TOKEN_COLS " FROM api_tokens t JOIN users u ON u.id = t.user_id"
				" WHERE t.id = ?1",
				"i", id),
		       err, "cannot read token", read_token, out);
}

int tokens_touch(struct db *db, int64_t id, int64_t now, int64_t min_gap_ms, struct buf *err)
{
	return sql_run(db, err, "cannot record token use",
		       "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1"
		       " AND (last_used_at IS NULL OR last_used_at <= ?3)",
		       "iii", id, now, now - min_gap_ms) < 0
		       ? -1
		       : 0;
}

int tokens_revoke(struct db *db, int64_t id, int64_t now, struct buf *err)
{
	return update_one(sql_run(db, err, "cannot revoke token",
				  "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
				  "ii", id, now));
}

int tokens_revoke_user(struct db *db, int64_t user_id, int64_t now, struct buf *err)
{
	return sql_run(db, err, "cannot revoke tokens",
		       "UPDATE api_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
		       "ii", user_id, now) < 0
		       ? -1
		       : 0;
}

int tokens_list(struct db *db, int64_t user_id, struct token_row **out, size_t *n, struct buf *err)
{
	const char *what = "cannot list tokens";
	int r = sql_rows(db,
			 sql_prep(db, err, what,
				  "SELECT " TOKEN_COLS " FROM api_tokens t JOIN users u ON u.id = t.user_id"
				  " WHERE ?1 <= 0 OR t.user_id = ?1 ORDER BY t.id DESC",
				  "i", user_id),
			 err, what, sizeof(**out), read_token, (void **)out, n);
	for (size_t i = 0; i < *n; i++)
		(*out)[i].hash[0] = '\0'; /* a list never hands out hashes */
	return r;
}

/* ---- failed logins ---- */

static void read_failure(struct dbstmt *st, void *p)
{
	struct login_failure *f = p;
	f->failures = dbs_col_i64(st, 0);
	f->last_ms = dbs_col_i64(st, 1);
	f->locked_until_ms = dbs_col_i64(st, 2);
}

int login_failures_get(struct db *db, const char *key, struct login_failure *out, struct buf *err)
{
	memset(out, 0, sizeof(*out));
	int r = one_row(db,
			sql_prep(db, err, "cannot read login failures",
				 "SELECT failures, last_at, locked_until FROM login_failures WHERE key = ?1",
				 "t", key),
			err, "cannot read login failures", read_failure, out);
	return r == KILN_ENOENT ? 0 : r;
}

int login_failures_put(struct db *db, const char *key, const struct login_failure *f,
		       struct buf *err)
{
	return sql_run(db, err, "cannot record login failure",
		       "INSERT INTO login_failures (key, failures, last_at, locked_until)"
		       " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET"
		       " failures = excluded.failures, last_at = excluded.last_at,"
		       " locked_until = excluded.locked_until",
		       "tiii", key, f->failures, f->last_ms, f->locked_until_ms) < 0
		       ? -1
		       : 0;
}

int login_failures_clear(struct db *db, const char *key, struct buf *err)
{
	return sql_run(db, err, "cannot clear login failures",
		       "DELETE FROM login_failures WHERE key = ?1", "t", key) < 0
		       ? -1
		       : 0;
}

int login_failures_clear_prefix(struct db *db, const char *prefix, struct buf *err)
{
	return sql_run(db, err, "cannot clear login failures",
		       "DELETE FROM login_failures WHERE substr(key, 1, length(?1)) = ?1", "t",
		       prefix) < 0
		       ? -1
		       : 0;
}
