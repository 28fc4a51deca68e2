/* auth: users, passwords, tokens, roles and login back-off (see auth.h). */
#include "base/kiln.h"
#include "base/fs.h"
#include "server/auth.h"
#include "store/audit.h"
#include "store/users.h"

#include <ctype.h>
#include <sodium.h>
#include <strings.h>
#include <time.h>

#define PW_OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PW_MEM crypto_pwhash_MEMLIMIT_INTERACTIVE
#define PW_MIN 8
#define PW_MAX 1024
#define TOUCH_GAP_MS (60 * 1000)

static const char *const role_names[] = { "none", "viewer", "developer", "deployer", "admin" };

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *role_name(enum role r)
{
	return (unsigned)r < ARRAY_SIZE(role_names) ? role_names[r] : "none";
}

int role_parse(const char *name, enum role *out)
{
	for (size_t i = ROLE_VIEWER; i < ARRAY_SIZE(role_names); i++)
		if (name && !strcmp(name, role_names[i])) {
			*out = (enum role)i;
			return 0;
		}
	return KILN_EINVAL;
}

void principal_release(struct principal *p)
{
	free(p->name);
	*p = (struct principal)PRINCIPAL_INIT;
}

int auth_check_user_name(const char *name, struct buf *err)
{
	size_t n = strlen(name);
	if (!n || n > 64) {
		buf_addf(err, "bad user name: must be 1 to 64 characters");
		return KILN_EINVAL;
	}
	if (name[0] == '.' || name[0] == '-') {
		buf_addf(err, "bad user name '%s': must not start with '%c'", name, name[0]);
		return KILN_EINVAL;
	}
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p)) {
			buf_addf(err, "bad user name '%s': only letters, digits, '.', '_' and '-'", name);
			return KILN_EINVAL;
		}
	return 0;
}

static int check_password(const char *pw, struct buf *err)
{
	size_t n = strlen(pw);
	if (n < PW_MIN || n > PW_MAX) {
		buf_addf(err, "password must be %d to %d bytes long", PW_MIN, PW_MAX);
		return KILN_EINVAL;
	}
	return 0;
}

static int sodium_ready(struct buf *err)
{
	if (sodium_init() < 0) {
		buf_addstr(err, "libsodium failed to initialise");
		return -1;
	}
	return 0;
}

int auth_password_hash(const char *password, struct buf *out, struct buf *err)
{
	char s[crypto_pwhash_STRBYTES];
	if (sodium_ready(err) < 0)
		return -1;
	if (crypto_pwhash_str_alg(s, password, strlen(password), PW_OPS, PW_MEM,
				  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		buf_addstr(err, "cannot hash password: out of memory");
		return -1;
	}
	buf_addstr(out, s);
	return 0;
}

int auth_password_verify(const char *stored, const char *password)
{
	if (sodium_init() < 0 || !stored)
		return 0;
	return crypto_pwhash_str_verify(stored, password, strlen(password)) == 0;
}

void auth_token_hash(const char *token, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(out, 65, h, sizeof(h));
	sodium_memzero(h, sizeof(h));
}

/* ---- savepoints: nest inside a caller's transaction ---- */

static int sp_begin(struct db *db, struct buf *err)
{
	return sql_savepoint(db, "auth", err);
}

/* commit when r == 0, roll back otherwise; returns r (or -1 if commit fails) */
static int sp_end(struct db *db, int r, struct buf *err)
{
	if (r == 0)
		return sql_release(db, "auth", err);
	sql_rollback_to(db, "auth");
	sql_release(db, "auth", NULL);
	return r;
}

/* ---- bearer tokens ---- */

static int token_well_formed(const char *t)
{
	size_t pl = strlen(AUTH_TOKEN_PREFIX);
	if (strncmp(t, AUTH_TOKEN_PREFIX, pl) || strlen(t) != AUTH_TOKEN_LEN)
		return 0;
	for (const char *p = t + pl; *p; p++)
		if (!isalnum((unsigned char)*p))
			return 0;
	return 1;
}

int auth_bearer(struct db *db, const char *header, struct principal *out)
{
	*out = (struct principal)PRINCIPAL_INIT;
	if (!header)
		return KILN_EINVAL;
	while (*header == ' ')
		header++;
	if (strncasecmp(header, "Bearer ", 7))
		return KILN_EINVAL;
	const char *tok = header + 7;
	while (*tok == ' ')
		tok++;
	char t[AUTH_TOKEN_LEN + 1];
	size_t n = strcspn(tok, " \t\r\n");
	if (n != AUTH_TOKEN_LEN || tok[n + strspn(tok + n, " \t")] != '\0')
		return KILN_EINVAL;
	memcpy(t, tok, n);
	t[n] = '\0';
	if (!token_well_formed(t)) {
		sodium_memzero(t, sizeof(t));
		return KILN_EINVAL;
	}
	char hash[65];
	auth_token_hash(t, hash);
	sodium_memzero(t, sizeof(t));

	struct buf err = BUF_INIT;
	struct token_row row;
	int r = tokens_get_by_hash(db, hash, &row, &err);
	if (r == KILN_ENOENT || (r == 0 && sodium_memcmp(row.hash, hash, 64) != 0)) {
		r = KILN_ENOENT;
		goto out;
	}
	if (r < 0) {
		r = KILN_EIO;
		goto out;
	}
	int64_t now = wall_ms();
	enum role role;
	if (row.revoked_ms || (row.expires_ms && row.expires_ms <= now) || row.user_disabled ||
	    role_parse(row.user_role, &role) < 0) {
		r = KILN_ENOENT;
		goto out;
	}
	/* a failed last-used write must not refuse an otherwise valid call */
	tokens_touch(db, row.id, now, TOUCH_GAP_MS, &err);
	out->user_id = row.user_id;
	out->name = xstrdup(row.user);
	out->role = role;
	out->token_id = row.id;
	r = 0;
out:
	sodium_memzero(&row, sizeof(row));
	buf_release(&err);
	return r;
}

void auth_random_token(const char *prefix, struct buf *out)
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	buf_addstr(out, prefix);
	/* uniform base62 digits: 43 * log2(62) = 256.03 bits */
	for (size_t i = 0; i < AUTH_TOKEN_CHARS; i++)
		buf_addch(out, b62[randombytes_uniform(62)]);
}

static void random_token(char out[AUTH_TOKEN_LEN + 1])
{
	struct buf b = BUF_INIT;
	auth_random_token(AUTH_TOKEN_PREFIX, &b);
	memcpy(out, b.buf, AUTH_TOKEN_LEN + 1);
	sodium_memzero(b.buf, b.len);
	buf_release(&b);
}

int auth_token_create(struct db *db, const char *actor, int64_t user_id, const char *name,
		      int64_t ttl_ms, struct buf *token_out, int64_t *token_id, struct buf *err)
{
	if (sodium_ready(err) < 0)
		return -1;
	if (!name || !*name || strlen(name) > 100) {
		buf_addstr(err, "a token needs a name of 1 to 100 characters");
		return KILN_EINVAL;
	}
	if (ttl_ms < 0) {
		buf_addstr(err, "a token's lifetime must be positive");
		return KILN_EINVAL;
	}
	struct user_row u;
	int r = users_get_id(db, user_id, &u, err);
	if (r == KILN_ENOENT)
		buf_addf(err, "no user with id %lld", (long long)user_id);
	if (r)
		return r;
	char tok[AUTH_TOKEN_LEN + 1], hash[65], prefix[16];
	random_token(tok);
	auth_token_hash(tok, hash);
	snprintf(prefix, sizeof(prefix), "%.*s", (int)strlen(AUTH_TOKEN_PREFIX) + 4, tok);
	int64_t id = 0;
	if (sp_begin(db, err) < 0)
		goto wipe;
	r = tokens_insert(db, user_id, name, hash, prefix, ttl_ms ? wall_ms() + ttl_ms : 0, &id, err);
	if (!r) {
		char *target = xstrfmt("%lld", (long long)id);
		char *detail = xstrfmt("user %s, name '%s', prefix %s%s", u.name, name, prefix,
				       ttl_ms ? ", expires" : ", no expiry");
		r = audit_append(db, actor, "token.create", NULL, target, detail, err);
		free(target);
		free(detail);
	}
	if ((r = sp_end(db, r, err)) == 0) {
		buf_addstr(token_out, tok);
		if (token_id)
			*token_id = id;
	}
wipe:
	sodium_memzero(tok, sizeof(tok));
	return r;
}

int auth_token_revoke(struct db *db, const char *actor, int64_t token_id, struct buf *err)
{
	if (sp_begin(db, err) < 0)
		return -1;
	int r = tokens_revoke(db, token_id, wall_ms(), err);
	if (r == KILN_ENOENT)
		buf_addf(err, "no live token with id %lld", (long long)token_id);
	if (!r) {
		char *target = xstrfmt("%lld", (long long)token_id);
		r = audit_append(db, actor, "token.revoke", NULL, target, NULL, err);
		free(target);
	}
	return sp_end(db, r, err);
}

/* ---- users ---- */

int auth_user_add(struct db *db, const char *actor, const char *name, const char *password,
		  enum role role, int64_t *id, struct buf *err)
{
	struct buf h = BUF_INIT;
	int r = auth_check_user_name(name, err);
	if (!r && (role <= ROLE_NONE || role > ROLE_ADMIN)) {
		buf_addstr(err, "a user needs a role: viewer, developer, deployer or admin");
		r = KILN_EINVAL;
	}
	if (!r && password && !(r = check_password(password, err)))
		r = auth_password_hash(password, &h, err);
	if (r)
		goto out;
	if (sp_begin(db, err) < 0) {
		r = -1;
		goto out;
	}
	r = users_insert(db, name, password ? h.buf : NULL, role_name(role), id, err);
	if (!r) {
		char *detail = xstrfmt("role %s%s", role_name(role), password ? "" : ", no password");
		r = audit_append(db, actor, "user.add", NULL, name, detail, err);
		free(detail);
	}
	r = sp_end(db, r, err);
out:
	buf_release(&h);
	return r;
}

/* look a user up by name with a clear "no user" message */
static int find_user(struct db *db, const char *name, struct user_row *u, struct buf *err)
{
	int r = users_get(db, name, u, NULL, err);
	if (r == KILN_ENOENT)
		buf_addf(err, "no user '%s'", name);
	return r;
}

int auth_user_passwd(struct db *db, const char *actor, const char *name, const char *password,
		     struct buf *err)
{
	struct user_row u;
	struct buf h = BUF_INIT;
	int r = find_user(db, name, &u, err);
	if (!r)
		r = check_password(password, err);
	if (!r)
		r = auth_password_hash(password, &h, err);
	if (!r && !(r = sp_begin(db, err))) {
		r = users_set_password(db, u.id, h.buf, err);
		/* a reset password unlocks the user at every address */
		char *prefix = xstrfmt("%s\n", name);
		if (!r)
			r = login_failures_clear_prefix(db, prefix, err);
		free(prefix);
		if (!r)
			r = audit_append(db, actor, "user.passwd", NULL, name, NULL, err);
		r = sp_end(db, r, err);
	}
	buf_release(&h);
	return r;
}

int auth_user_set_role(struct db *db, const char *actor, const char *name, enum role role,
		       struct buf *err)
{
	struct user_row u;
	int r = find_user(db, name, &u, err);
	if (r)
		return r;
	if (role <= ROLE_NONE || role > ROLE_ADMIN) {
		buf_addstr(err, "bad role");
		return KILN_EINVAL;
	}
	if ((r = sp_begin(db, err)))
		return r;
	r = users_set_role(db, u.id, role_name(role), err);
	if (!r) {
		char *detail = xstrfmt("%s -> %s", u.role, role_name(role));
		r = audit_append(db, actor, "user.role", NULL, name, detail, err);
		free(detail);
	}
	return sp_end(db, r, err);
}

int auth_user_disable(struct db *db, const char *actor, const char *name, int disabled,
		      struct buf *err)
{
	struct user_row u;
	int r = find_user(db, name, &u, err);
	if (r)
		return r;
	if ((r = sp_begin(db, err)))
		return r;
	r = users_set_disabled(db, u.id, disabled, err);
	if (!r && disabled)
		r = tokens_revoke_user(db, u.id, wall_ms(), err);
	if (!r)
		r = audit_append(db, actor, disabled ? "user.disable" : "user.enable", NULL, name, NULL,
				 err);
	return sp_end(db, r, err);
}

/* ---- login ---- */

/* the back-off after the n-th consecutive failure (0 while still free) */
static int64_t lock_ms(int64_t failures)
{
	if (failures < AUTH_FREE_FAILURES)
		return 0;
	int64_t shift = failures - AUTH_FREE_FAILURES;
	if (shift > 20)
		return AUTH_MAX_LOCK_MS;
	int64_t ms = (int64_t)1000 << shift;
	return ms < AUTH_MAX_LOCK_MS ? ms : AUTH_MAX_LOCK_MS;
}

int auth_login(struct db *db, const char *user, const char *password, const char *address,
	       int64_t now, struct principal *out, struct buf *token_out, int64_t *retry_after_ms,
	       struct buf *err)
{
	*out = (struct principal)PRINCIPAL_INIT;
	*retry_after_ms = 0;
	if (sodium_ready(err) < 0)
		return -1;
	/* the key separates user and address with a byte neither can hold */
	char *key = xstrfmt("%s\n%s", user, address ? address : "");
	struct login_failure f;
	struct user_row u;
	char *stored = NULL;
	int r = login_failures_get(db, key, &f, err);
	if (r < 0)
		goto out;
	if (f.failures && now - f.last_ms > AUTH_FAILURE_WINDOW_MS)
		f = (struct login_failure){ 0, 0, 0 };
	if (f.locked_until_ms > now) {
		*retry_after_ms = f.locked_until_ms - now;
		r = AUTH_LOGIN_THROTTLED;
		goto out;
	}
	int found = users_get(db, user, &u, &stored, err);
	if (found < 0 && found != KILN_ENOENT) {
		r = -1;
		goto out;
	}
	int ok;
	if (found == 0 && stored) {
		ok = auth_password_verify(stored, password);
	} else {
		/* the same Argon2id cost for an unknown user or one without a password */
		struct buf dummy = BUF_INIT;
		auth_password_hash(password, &dummy, err);
		buf_release(&dummy);
		ok = 0;
	}
	enum role role = ROLE_NONE;
	if (ok && (u.disabled || role_parse(u.role, &role) < 0))
		ok = 0;
	if (!ok) {
		f.failures++;
		f.last_ms = now;
		f.locked_until_ms = now + lock_ms(f.failures);
		r = login_failures_put(db, key, &f, err) < 0 ? -1 : AUTH_LOGIN_DENIED;
		goto out;
	}
	if (crypto_pwhash_str_needs_rehash(stored, PW_OPS, PW_MEM) != 0) {
		struct buf h = BUF_INIT;
		if (!auth_password_hash(password, &h, err))
			users_set_password(db, u.id, h.buf, err);
		buf_release(&h);
	}
	if (login_failures_clear(db, key, err) < 0 ||
	    auth_token_create(db, user, u.id, "login", AUTH_LOGIN_TOKEN_TTL_MS, token_out,
			      &out->token_id, err) != 0) {
		r = -1;
		goto out;
	}
	out->user_id = u.id;
	out->name = xstrdup(u.name);
	out->role = role;
	r = AUTH_LOGIN_OK;
out:
	if (stored)
		sodium_memzero(stored, strlen(stored));
	free(stored);
	free(key);
	return r;
}

int auth_bootstrap(struct db *db, const char *name, const char *password, struct buf *token_out,
		   struct buf *err)
{
	int64_t n, id;
	if (users_count(db, &n, err) < 0)
		return -1;
	if (n > 0)
		return 0;
	/* one transaction: a crash leaves either nothing or the admin with its token */
	if (sql_begin(db, err) < 0)
		return -1;
	/* another process may have won the race between the count and the lock */
	int r = users_count(db, &n, err);
	if (!r && n > 0) {
		sql_rollback(db);
		return 0;
	}
	struct buf tok = BUF_INIT;
	if (!r)
		r = auth_user_add(db, NULL, name, password, ROLE_ADMIN, &id, err);
	if (!r)
		r = auth_token_create(db, NULL, id, "bootstrap", 0, &tok, NULL, err);
	if (!r && sql_commit(db, err) < 0)
		r = -1;
	if (r) {
		sql_rollback(db);
	} else {
		buf_add(token_out, tok.buf, tok.len);
	}
	sodium_memzero(tok.buf, tok.len);
	buf_release(&tok);
	return r ? r : 1;
}

int auth_first_start(struct db *db, const char *data_dir, FILE *log, struct buf *err)
{
	struct buf tok = BUF_INIT;
	int r = auth_bootstrap(db, "admin", NULL, &tok, err);
	if (r == 1) {
		char *path = xstrfmt("%s/initial-admin-token", data_dir);
		buf_addch(&tok, '\n');
		int w = write_file_atomic(path, tok.buf, tok.len, 0600);
		if (w < 0) {
			buf_addf(err, "cannot write '%s': %s", path, strerror(-w));
			r = -1;
		} else if (log) {
			fprintf(log,
				"kiln serve: created user 'admin' (role admin); its API token is in %s"
				" (shown nowhere else: keep it, then delete the file)\n",
				path);
		}
		free(path);
	}
	sodium_memzero(tok.buf, tok.len);
	buf_release(&tok);
	return r;
}
