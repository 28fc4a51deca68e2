/*
 * secret: encrypted secrets at rest and the secrets of one run.
 *
 * Stored secrets live in the store's `secrets` table, each value sealed
 * with libsodium's crypto_secretbox (XSalsa20-Poly1305) under a 32-byte key
 * in <data dir>/secret.key (created 0600, refused when group/other can read
 * it). The sealed plaintext binds the environment and the name, so a row
 * copied to another name does not decrypt. Values are never written in
 * clear and are wiped from memory when a map is released.
 *
 * Names follow GitHub: [A-Za-z_][A-Za-z0-9_]*, not starting with GITHUB_,
 * case-insensitive (kept upper-case). Environment "" holds repository-level
 * secrets; a named environment's secrets override them for jobs that use it.
 */
#ifndef KILN_SECRET_H
#define KILN_SECRET_H

#include "store/sql.h"
#include <stddef.h>

#include "base/buf.h"

#define SECRET_MAX_VALUE (48 * 1024) /* GitHub's limit */

/* ---- name -> value map for one run ---- */
struct secret_kv {
	char *name;  /* owned, upper-case */
	char *value; /* owned, NUL-terminated, wiped on release */
	size_t len;
};

struct secret_map {
	struct secret_kv *v; /* owned array */
	size_t nr, alloc;
};

#define SECRET_MAP_INIT { NULL, 0, 0 }

/* set (replacing) name -> value; the name is upper-cased */
void secret_map_set(struct secret_map *m, const char *name, const char *value, size_t len);
/* the entry for name (case-insensitive), or NULL */
const struct secret_kv *secret_map_get(const struct secret_map *m, const char *name);
/* wipe every value and free */
void secret_map_release(struct secret_map *m);

/* 0 when name is a valid secret name, else -1 with the reason in err */
int secret_check_name(const char *name, struct buf *err);
/* 0 when env is a valid environment name ("" allowed), else -1 */
int secret_check_env(const char *env, struct buf *err);

/* `-s NAME=VALUE`: adds to m; -1 with a message in err when malformed */
int secret_parse_assign(const char *arg, struct secret_map *m, struct buf *err);
/*
 * `--secret-file FILE` in dotenv format: NAME=VALUE lines, optional
 * `export `, # comments, blank lines, 'single' (literal) and "double"
 * (\n \t \" \\ escapes, may span lines) quoted values, unquoted values
 * trimmed with ` #` comments removed. Errors are `file:line:col: error: ...`
 * in err; returns 0 or -1.
 */
int secret_parse_dotenv(const char *path, const char *text, size_t len, struct secret_map *m,
			struct buf *err);
int secret_load_dotenv(const char *path, struct secret_map *m, struct buf *err);

/* ---- the encrypted store ---- */
struct secret_store;

/* secrets in db, key file in datadir; returns 0 or -1 with err. The key is
 * created on the first secret_set, only read otherwise. */
int secret_store_open(struct secret_store **out, struct db *db, const char *datadir, struct buf *err);
void secret_store_close(struct secret_store *s);
/* store (replace) a value; 0 or -1 with err */
int secret_set(struct secret_store *s, const char *env, const char *name, const char *value,
	       size_t len, struct buf *err);
/* remove; 0, KILN_ENOENT when absent, or -1 with err */
int secret_remove(struct secret_store *s, const char *env, const char *name, struct buf *err);

struct secret_info {
	char env[256];
	char name[256];
	char updated[32]; /* ISO-8601 UTC */
};
/* names (never values) of env's secrets, or of every env when env is NULL;
 * *out is malloc'd; 0 or -1 with err */
int secret_list(struct secret_store *s, const char *env, struct secret_info **out, size_t *n,
		struct buf *err);
/*
 * Decrypt the secrets a job in environment env sees (repository-level ones,
 * then env's overriding them; env NULL or "" for repository-level only)
 * into m. Returns 0 or -1 with err (missing key, wrong key, corrupt row).
 */
int secret_load(struct secret_store *s, const char *env, struct secret_map *m, struct buf *err);

/*
 * Seal a value kept elsewhere than the secrets table (a repository's
 * webhook secret) under the same key, bound to `context` (e.g.
 * "webhook:REPO") so a sealed blob moved to another context does not open.
 * The blob (nonce + box) is appended to out. 0 or -1 with err.
 */
int secret_seal(struct secret_store *s, const char *context, const char *value, size_t len,
		struct buf *out, struct buf *err);
/* open a blob of secret_seal into out (appended; wipe it after use); 0 or -1 with err */
int secret_unseal(struct secret_store *s, const char *context, const void *blob, size_t len,
		  struct buf *out, struct buf *err);

#endif
