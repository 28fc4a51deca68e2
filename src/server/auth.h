/*
 * auth: who is calling the server and what they may do — local users with
 * Argon2id passwords, API tokens, roles, failed-login back-off and the
 * first admin (`kiln serve --init`). Storage is src/store/users.c; the
 * router (http.h) calls auth_bearer() for every route whose role is above
 * ROLE_NONE and answers 401/403 itself.
 *
 * The store handle is the SQLite connection (struct db *) every src/store
 * module takes; a PostgreSQL back-end (issue 16) implements store/users.h.
 *
 * Tokens: "kiln_" + 43 base62 characters (256 random bits from
 * randombytes), shown once; the store keeps only SHA-256(token) in hex and
 * a display prefix ("kiln_" + 4 characters). A token has an optional
 * expiry, can be revoked, and records when it was last used (at most once
 * a minute). A fast hash is right here: the token has 256 bits of entropy,
 * so there is nothing to brute-force; passwords get Argon2id.
 *
 * Passwords: libsodium crypto_pwhash_str_alg, Argon2id v1.3 with
 * opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE (2 passes) and
 * memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE (64 MiB), 1 lane; a login
 * re-hashes a password stored with weaker parameters. One hash costs about
 * 0.1 s of CPU: call auth_login / auth_user_add / auth_user_passwd off the
 * event loop (uv_queue_work, with their own store connection).
 *
 * Failed logins: counted in the store (table login_failures, so the count
 * survives restarts and is shared by replicas) per user name + client
 * address; the first AUTH_FREE_FAILURES are free, then each further
 * failure locks that pair out for 2^(n - AUTH_FREE_FAILURES) seconds,
 * capped at AUTH_MAX_LOCK_MS; a success clears the count, a pair idle for
 * AUTH_FAILURE_WINDOW_MS starts again from zero. While locked, the
 * password is not even checked.
 *
 * Comparisons of secrets are constant-time (sodium_memcmp,
 * crypto_pwhash_str_verify); an unknown user costs one Argon2id hash like
 * a known one. Tokens and passwords are never logged nor put in errors.
 */
#ifndef KILN_SERVER_AUTH_H
#define KILN_SERVER_AUTH_H

#include "store/sql.h"
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"

/* ordered: a role may do everything the roles below it may */
enum role { ROLE_NONE = 0, ROLE_VIEWER, ROLE_DEVELOPER, ROLE_DEPLOYER, ROLE_ADMIN };

/* the authenticated caller of one request */
struct principal {
	int64_t user_id;
	char *name; /* owned */
	enum role role;
	int64_t token_id; /* the token used (0 when not by token) */
};

#define PRINCIPAL_INIT { 0, NULL, ROLE_NONE, 0 }

#define AUTH_TOKEN_PREFIX "kiln_"
#define AUTH_TOKEN_CHARS 43 /* base62 characters after the prefix: 256 bits */
#define AUTH_TOKEN_LEN (sizeof(AUTH_TOKEN_PREFIX) - 1 + AUTH_TOKEN_CHARS)

#define AUTH_FREE_FAILURES 5
#define AUTH_MAX_LOCK_MS (15 * 60 * 1000)
#define AUTH_FAILURE_WINDOW_MS (60 * 60 * 1000)
#define AUTH_LOGIN_TOKEN_TTL_MS (12 * 60 * 60 * 1000) /* tokens made by auth_login */

/*
 * `Authorization: Bearer <token>` (the scheme case-insensitive, the
 * header's value as given) → 0 and *out filled (release it), or
 * KILN_EINVAL (missing or malformed header), KILN_ENOENT (unknown,
 * revoked or expired token, or a disabled user), KILN_EIO (store error:
 * answer 503). Records the token's last use.
 */
int auth_bearer(struct db *db, const char *authorization_header, struct principal *out);
void principal_release(struct principal *p);

/* "viewer", ...; "none" for ROLE_NONE */
const char *role_name(enum role r);
/* 0 and *out, or KILN_EINVAL for an unknown name */
int role_parse(const char *name, enum role *out);

/* user names: 1-64 of [A-Za-z0-9._-], not starting with '.' or '-';
 * 0 or KILN_EINVAL with the reason in err */
int auth_check_user_name(const char *name, struct buf *err);

/* Argon2id string (crypto_pwhash_STRBYTES incl. NUL) into out; 0 or -1 */
int auth_password_hash(const char *password, struct buf *out, struct buf *err);
/* 1 when password matches the stored string, 0 when not */
int auth_password_verify(const char *stored, const char *password);

/*
 * Changes to users and tokens. `actor` is who does it (a user name, or
 * NULL for the server itself, "kiln"); each change is appended to the
 * audit log in the same transaction.
 */
/*
 * A new user. password NULL: the user has no password (tokens only).
 * Passwords must be 8 to 1024 bytes. 0, KILN_EINVAL (bad name, weak
 * password, name taken) or -1, with err.
 */
int auth_user_add(struct db *db, const char *actor, const char *name, const char *password,
		  enum role role, int64_t *id, struct buf *err);
/* 0, KILN_ENOENT, KILN_EINVAL or -1 */
int auth_user_passwd(struct db *db, const char *actor, const char *name, const char *password,
		     struct buf *err);
int auth_user_set_role(struct db *db, const char *actor, const char *name, enum role role,
		       struct buf *err);
/* disable (1: and revoke every token) or enable (0) a user */
int auth_user_disable(struct db *db, const char *actor, const char *name, int disabled,
		      struct buf *err);

/*
 * A new API token for user_id: the clear token (shown once, never stored)
 * is appended to token_out; ttl_ms 0 = no expiry. 0 or -1 with err.
 */
int auth_token_create(struct db *db, const char *actor, int64_t user_id, const char *name,
		      int64_t ttl_ms, struct buf *token_out, int64_t *token_id, struct buf *err);
/* 0, KILN_ENOENT (no such live token) or -1 */
int auth_token_revoke(struct db *db, const char *actor, int64_t token_id, struct buf *err);
/* prefix + AUTH_TOKEN_CHARS random base62 characters (256 bits), appended
 * to out (agent tokens use it too: server/agentd.h) */
void auth_random_token(const char *prefix, struct buf *out);
/* the hex SHA-256 the store keeps for a token (65 bytes with NUL) */
void auth_token_hash(const char *token, char out[65]);

enum auth_login_result {
	AUTH_LOGIN_OK = 0,
	AUTH_LOGIN_DENIED = 1,    /* unknown user, wrong password, disabled */
	AUTH_LOGIN_THROTTLED = 2, /* too many failures: *retry_after_ms */
};
/*
 * Check user's password from address (the client's IP, "" if unknown) at
 * now_ms. On AUTH_LOGIN_OK a token named "login" valid for
 * AUTH_LOGIN_TOKEN_TTL_MS is appended to token_out and *out is filled
 * (release it). Returns an auth_login_result, or -1 with err on a store
 * error. Blocking (one Argon2id hash).
 */
int auth_login(struct db *db, const char *user, const char *password, const char *address,
	       int64_t now_ms, struct principal *out, struct buf *token_out,
	       int64_t *retry_after_ms, struct buf *err);

/*
 * First start: when the store has no user, create admin `name` (role
 * admin, password if not NULL) and a token for it (appended to token_out,
 * to be printed once). Returns 1 when created, 0 when users already exist
 * (nothing done), -1 with err. Audited.
 */
int auth_bootstrap(struct db *db, const char *name, const char *password, struct buf *token_out,
		   struct buf *err);

/*
 * The server's first start in data_dir: auth_bootstrap("admin"); when it
 * created the admin, its token goes to <data_dir>/initial-admin-token
 * (mode 0600, never to a log) and one line on `log` says where. Returns 1
 * created, 0 nothing to do, -1 with err.
 */
int auth_first_start(struct db *db, const char *data_dir, FILE *log, struct buf *err);

#endif
