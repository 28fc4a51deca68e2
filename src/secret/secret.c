/*
 * secret: the encrypted secret store: key file handling and sealing rows of
 * the `secrets` table with crypto_secretbox.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "secret/secret.h"
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "kiln-secret-v1"

struct secret_store {
	struct db *db;   /* borrowed */
	char *keypath; /* owned */
	unsigned char key[crypto_secretbox_KEYBYTES];
	int have_key;
};

int secret_store_open(struct secret_store **out, struct db *db, const char *datadir, struct buf *err)
{
	if (sodium_init() < 0) {
		buf_addstr(err, "libsodium failed to initialise");
		return -1;
	}
	struct secret_store *s = xcalloc(1, sizeof(*s));
	s->db = db;
	s->keypath = xstrfmt("%s/secret.key", datadir);
	*out = s;
	return 0;
}

void secret_store_close(struct secret_store *s)
{
	if (!s)
		return;
	sodium_memzero(s->key, sizeof(s->key));
	free(s->keypath);
	free(s);
}

/* read the key; ENOENT is reported as -ENOENT so callers can create it */
static int read_key(struct secret_store *s, struct buf *err)
{
	int fd = open(s->keypath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		buf_addf(err, "cannot open secret key file '%s': %s", s->keypath, strerror(errno));
		return -1;
	}
	struct stat st;
	int r = -1;
	if (fstat(fd, &st) < 0) {
		buf_addf(err, "cannot stat secret key file '%s': %s", s->keypath, strerror(errno));
	} else if (st.st_mode & 077) {
		buf_addf(err, "secret key file '%s' is readable by others (mode %03o); run: chmod 600 '%s'",
			 s->keypath, (unsigned)(st.st_mode & 0777), s->keypath);
	} else if (st.st_size != (off_t)sizeof(s->key)) {
		buf_addf(err, "secret key file '%s' is corrupt (%lld bytes, expected %zu)", s->keypath,
			 (long long)st.st_size, sizeof(s->key));
	} else if (read(fd, s->key, sizeof(s->key)) != (ssize_t)sizeof(s->key)) {
		buf_addf(err, "cannot read secret key file '%s'", s->keypath);
	} else {
		s->have_key = 1;
		r = 0;
	}
	close(fd);
	return r;
}

/* a new random key, written 0600 to a temp file then linked into place so
 * two processes racing both end up with the same key */
static int create_key(struct secret_store *s, struct buf *err)
{
	struct buf tmp = BUF_INIT;
	buf_addf(&tmp, "%s.tmp.XXXXXX", s->keypath);
	int fd = mkostemp(tmp.buf, O_CLOEXEC);
	int r = -1;
	if (fd < 0) {
		buf_addf(err, "cannot create secret key file '%s': %s", s->keypath, strerror(errno));
		goto out;
	}
	unsigned char key[crypto_secretbox_KEYBYTES];
	crypto_secretbox_keygen(key);
	if (fchmod(fd, 0600) < 0 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
	    fsync(fd) < 0) {
		buf_addf(err, "cannot write secret key file '%s': %s", s->keypath, strerror(errno));
		close(fd);
		goto unlink;
	}
	close(fd);
	if (link(tmp.buf, s->keypath) < 0 && errno != EEXIST) {
		buf_addf(err, "cannot create secret key file '%s': %s", s->keypath, strerror(errno));
		goto unlink;
	}
	r = 0;
unlink:
	sodium_memzero(key, sizeof(key));
	unlink(tmp.buf);
out:
	buf_release(&tmp);
	return r;
}

static int need_key(struct secret_store *s, int create, struct buf *err)
{
	if (s->have_key)
		return 0;
	int r = read_key(s, err);
	if (r == -ENOENT && create) {
		if (create_key(s, err) < 0)
			return -1;
		r = read_key(s, err);
	}
	if (r == -ENOENT) {
		buf_addf(err, "secret key file '%s' is missing; stored secrets cannot be decrypted "
			      "(restore the key, or remove the secrets and set them again)",
			 s->keypath);
		return -1;
	}
	return r;
}

/* the sealed plaintext: MAGIC \0 env \0 name \0 value */
static void plaintext(struct buf *pt, const char *env, const char *name, const char *v, size_t len)
{
	buf_add(pt, MAGIC, sizeof(MAGIC));
	buf_add(pt, env, strlen(env) + 1);
	buf_add(pt, name, strlen(name) + 1);
	buf_add(pt, v, len);
}

static void upper(char *dst, const char *src, size_t n)
{
	size_t i = 0;
	for (; src[i] && i + 1 < n; i++)
		dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 32 : src[i]);
	dst[i] = '\0';
}

static int sql_err(struct secret_store *s, struct buf *err, const char *what)
{
	db_fail(s->db, err, what);
	return -1;
}

int secret_set(struct secret_store *s, const char *env, const char *name, const char *value,
	       size_t len, struct buf *err)
{
	char uname[256];
	if (secret_check_name(name, err) < 0 || secret_check_env(env, err) < 0)
		return -1;
	if (len > SECRET_MAX_VALUE) {
		buf_addf(err, "secret '%s' is too large (%zu bytes, the limit is %d)", name, len,
			 SECRET_MAX_VALUE);
		return -1;
	}
	if (need_key(s, 1, err) < 0)
		return -1;
	upper(uname, name, sizeof(uname));
	struct buf pt = BUF_INIT;
	plaintext(&pt, env, uname, value, len);
	unsigned char nonce[crypto_secretbox_NONCEBYTES];
	randombytes_buf(nonce, sizeof(nonce));
	size_t blen = pt.len + crypto_secretbox_MACBYTES;
	unsigned char *box = xmalloc(blen);
	crypto_secretbox_easy(box, (unsigned char *)pt.buf, pt.len, nonce, s->key);
	sodium_memzero(pt.buf, pt.len);
	buf_release(&pt);
	char now[32];
	now_iso8601(now, sizeof(now));
	struct dbstmt *st = NULL;
	int r = -1;
	if (db_prepare(s->db,
			       "INSERT INTO secrets (env, name, nonce, box, updated_at) "
			       "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (env, name) DO UPDATE SET"
			       " nonce = excluded.nonce, box = excluded.box, updated_at = excluded.updated_at",
			       &st) != DB_OK) {
		sql_err(s, err, "cannot store secret");
		goto out;
	}
	dbs_bind_text(st, 1, env);
	dbs_bind_text(st, 2, uname);
	dbs_bind_blob(st, 3, nonce, sizeof(nonce));
	dbs_bind_blob(st, 4, box, blen);
	dbs_bind_text(st, 5, now);
	if (dbs_step(st) != DB_DONE)
		sql_err(s, err, "cannot store secret");
	else
		r = 0;
out:
	dbs_finalize(st);
	free(box);
	return r;
}

int secret_remove(struct secret_store *s, const char *env, const char *name, struct buf *err)
{
	char uname[256];
	upper(uname, name, sizeof(uname));
	struct dbstmt *st;
	if (db_prepare(s->db, "DELETE FROM secrets WHERE env = ?1 AND name = ?2", &st) != DB_OK)
		return sql_err(s, err, "cannot remove secret");
	dbs_bind_text(st, 1, env);
	dbs_bind_text(st, 2, uname);
	int rc = dbs_step(st);
	dbs_finalize(st);
	if (rc != DB_DONE)
		return sql_err(s, err, "cannot remove secret");
	return db_changes(s->db) ? 0 : KILN_ENOENT;
}

int secret_list(struct secret_store *s, const char *env, struct secret_info **out, size_t *n,
		struct buf *err)
{
	struct dbstmt *st;
	*out = NULL;
	*n = 0;
	if (db_prepare(s->db,
			       "SELECT env, name, updated_at FROM secrets WHERE ?1 IS NULL OR env = ?1 "
			       "ORDER BY env, name", &st) != DB_OK)
		return sql_err(s, err, "cannot list secrets");
	if (env)
		dbs_bind_text(st, 1, env);
	size_t alloc = 0;
	int rc;
	while ((rc = dbs_step(st)) == DB_ROW) {
		ALLOC_GROW(*out, *n + 1, alloc);
		struct secret_info *i = &(*out)[(*n)++];
		snprintf(i->env, sizeof(i->env), "%s", dbs_col_text(st, 0));
		snprintf(i->name, sizeof(i->name), "%s", dbs_col_text(st, 1));
		snprintf(i->updated, sizeof(i->updated), "%s", dbs_col_text(st, 2));
	}
	dbs_finalize(st);
	if (rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return sql_err(s, err, "cannot list secrets");
	}
	return 0;
}

/* open one row into m; -1 with err when it does not authenticate */
static int open_row(struct secret_store *s, struct dbstmt *st, struct secret_map *m, struct buf *err)
{
	const char *env = dbs_col_text(st, 0);
	const char *name = dbs_col_text(st, 1);
	const void *nonce = dbs_col_blob(st, 2);
	int nlen = dbs_col_bytes(st, 2);
	const unsigned char *box = dbs_col_blob(st, 3);
	int blen = dbs_col_bytes(st, 3);
	if (nlen != crypto_secretbox_NONCEBYTES || blen < (int)crypto_secretbox_MACBYTES) {
		buf_addf(err, "secret '%s' (environment '%s') is corrupt in the store", name, env);
		return -1;
	}
	size_t plen = (size_t)blen - crypto_secretbox_MACBYTES;
	unsigned char *pt = xmalloc(plen + 1);
	int r = -1;
	struct buf want = BUF_INIT;
	plaintext(&want, env, name, "", 0);
	if (crypto_secretbox_open_easy(pt, box, (size_t)blen, nonce, s->key) < 0 || plen < want.len ||
	    memcmp(pt, want.buf, want.len)) {
		buf_addf(err, "secret '%s' (environment '%s') cannot be decrypted: wrong key file '%s' or "
			      "corrupt data",
			 name, env, s->keypath);
	} else {
		secret_map_set(m, name, (char *)pt + want.len, plen - want.len);
		r = 0;
	}
	sodium_memzero(pt, plen);
	free(pt);
	buf_release(&want);
	return r;
}

int secret_load(struct secret_store *s, const char *env, struct secret_map *m, struct buf *err)
{
	struct dbstmt *st;
	if (!env)
		env = "";
	/* repository-level first so the environment's values override them */
	if (db_prepare(s->db,
			       "SELECT env, name, nonce, box FROM secrets WHERE env = '' OR env = ?1 "
			       "ORDER BY env <> '', name", &st) != DB_OK)
		return sql_err(s, err, "cannot read secrets");
	dbs_bind_text(st, 1, env);
	int rc, r = 0;
	while (!r && (rc = dbs_step(st)) == DB_ROW) {
		if (need_key(s, 0, err) < 0 || open_row(s, st, m, err) < 0)
			r = -1;
	}
	if (!r && rc != DB_DONE)
		r = sql_err(s, err, "cannot read secrets");
	dbs_finalize(st);
	return r;
}

int secret_seal(struct secret_store *s, const char *context, const char *value, size_t len,
		struct buf *out, struct buf *err)
{
	if (need_key(s, 1, err) < 0)
		return -1;
	struct buf pt = BUF_INIT;
	plaintext(&pt, context, "", value, len);
	unsigned char nonce[crypto_secretbox_NONCEBYTES];
	randombytes_buf(nonce, sizeof(nonce));
	size_t blen = pt.len + crypto_secretbox_MACBYTES;
	buf_add(out, nonce, sizeof(nonce));
	buf_grow(out, blen);
	crypto_secretbox_easy((unsigned char *)out->buf + out->len, (unsigned char *)pt.buf, pt.len,
			      nonce, s->key);
	buf_setlen(out, out->len + blen);
	sodium_memzero(pt.buf, pt.len);
	buf_release(&pt);
	return 0;
}

int secret_unseal(struct secret_store *s, const char *context, const void *blob, size_t len,
		  struct buf *out, struct buf *err)
{
	if (need_key(s, 0, err) < 0)
		return -1;
	const unsigned char *b = blob;
	struct buf want = BUF_INIT;
	plaintext(&want, context, "", "", 0);
	if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + want.len) {
		buf_addf(err, "sealed value for '%s' is corrupt", context);
		buf_release(&want);
		return -1;
	}
	size_t blen = len - crypto_secretbox_NONCEBYTES, plen = blen - crypto_secretbox_MACBYTES;
	unsigned char *pt = xmalloc(plen + 1);
	int r = -1;
	if (crypto_secretbox_open_easy(pt, b + crypto_secretbox_NONCEBYTES, blen, b, s->key) < 0 ||
	    memcmp(pt, want.buf, want.len)) {
		buf_addf(err, "sealed value for '%s' cannot be opened: wrong key file '%s' or corrupt data",
			 context, s->keypath);
	} else {
		buf_add(out, pt + want.len, plen - want.len);
		r = 0;
	}
	sodium_memzero(pt, plen);
	free(pt);
	buf_release(&want);
	return r;
}
