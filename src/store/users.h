/*
 * users: the server's local users, groups, API tokens and failed-login
 * counters in the store (migration 5). Pure storage: hashing, roles and
 * policies live in src/server/auth.c. Roles are stored by name ("viewer",
 * "developer", "deployer", "admin"); token hashes as lowercase hex SHA-256.
 * Times are unix milliseconds. Functions return 0, KILN_ENOENT where
 * stated, or -1 with a message in err.
 */
#ifndef KILN_STORE_USERS_H
#define KILN_STORE_USERS_H

#include "store/sql.h"
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct user_row {
	int64_t id;
	char name[128];
	char role[16];
	int disabled;       /* 1: cannot log in, tokens refused */
	int has_password;   /* 0: token-only user */
	int64_t created_ms;
};

/* a new user; pwhash NULL for a token-only user; KILN_EINVAL (and err)
 * when the name is taken */
int users_insert(struct db *db, const char *name, const char *pwhash, const char *role,
		 int64_t *id, struct buf *err);
/* by name; *pwhash (if not NULL) receives the malloc'd password string or
 * NULL; 0 or KILN_ENOENT */
int users_get(struct db *db, const char *name, struct user_row *out, char **pwhash, struct buf *err);
int users_get_id(struct db *db, int64_t id, struct user_row *out, struct buf *err);
/* every user by name; *out malloc'd */
int users_list(struct db *db, struct user_row **out, size_t *n, struct buf *err);
int users_count(struct db *db, int64_t *n, struct buf *err);
/* 0 or KILN_ENOENT for each */
int users_set_password(struct db *db, int64_t id, const char *pwhash, struct buf *err);
int users_set_role(struct db *db, int64_t id, const char *role, struct buf *err);
int users_set_disabled(struct db *db, int64_t id, int disabled, struct buf *err);

/* groups (required reviewers may name a group) */
int groups_add_member(struct db *db, const char *group, int64_t user_id, struct buf *err);
/* KILN_ENOENT when the user was not a member */
int groups_remove_member(struct db *db, const char *group, int64_t user_id, struct buf *err);
/* 1 when user_id is in group, 0 when not, -1 on error */
int groups_is_member(struct db *db, const char *group, int64_t user_id, struct buf *err);

struct token_row {
	int64_t id;
	int64_t user_id;
	char user[128];      /* owner's name */
	char user_role[16];  /* owner's role */
	int user_disabled;
	char name[128];      /* what the token is for */
	char prefix[16];     /* shown in listings: "kiln_" + 4 characters */
	char hash[65];       /* hex SHA-256 of the whole token */
	int64_t created_ms, expires_ms, last_used_ms, revoked_ms; /* 0 = none */
};

int tokens_insert(struct db *db, int64_t user_id, const char *name, const char *hash_hex,
		  const char *prefix, int64_t expires_ms, int64_t *id, struct buf *err);
/* by hash (with its owner); 0 or KILN_ENOENT */
int tokens_get_by_hash(struct db *db, const char *hash_hex, struct token_row *out, struct buf *err);
int tokens_get(struct db *db, int64_t id, struct token_row *out, struct buf *err);
/* record a use at now_ms unless one was recorded in the last min_gap_ms
 * (keeps every API call from writing) */
int tokens_touch(struct db *db, int64_t id, int64_t now_ms, int64_t min_gap_ms, struct buf *err);
/* 0, or KILN_ENOENT when no such token or already revoked */
int tokens_revoke(struct db *db, int64_t id, int64_t now_ms, struct buf *err);
/* revoke every live token of a user; 0 */
int tokens_revoke_user(struct db *db, int64_t user_id, int64_t now_ms, struct buf *err);
/* a user's tokens (user_id > 0) or everyone's (0), newest first; the hash
 * is not filled in */
int tokens_list(struct db *db, int64_t user_id, struct token_row **out, size_t *n, struct buf *err);

/* failed logins for one key (user + address) */
struct login_failure {
	int64_t failures;
	int64_t last_ms;
	int64_t locked_until_ms;
};
/* zeroes when unknown */
int login_failures_get(struct db *db, const char *key, struct login_failure *out, struct buf *err);
int login_failures_put(struct db *db, const char *key, const struct login_failure *f,
		       struct buf *err);
int login_failures_clear(struct db *db, const char *key, struct buf *err);
/* every key starting with prefix (a user's "name\n" for all addresses) */
int login_failures_clear_prefix(struct db *db, const char *prefix, struct buf *err);

#endif
