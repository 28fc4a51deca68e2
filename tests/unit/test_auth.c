/* unit tests for src/server/auth and src/store/users, audit: against a real SQLite store */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "server/auth.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/users.h"

#include <unistd.h>

struct fx {
	char dir[64];
	struct db *db;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-auth-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char *path = xstrfmt("%s/kiln.db", f->dir);
	struct buf err = BUF_INIT;
	assert_int_equal(db_open(path, &f->db, &err), 0);
	free(path);
	buf_release(&err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	db_close(f->db);
	char *cmd = xstrfmt("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

/* count rows of a query with one int column */
static int64_t scalar(struct db *db, const char *sql)
{
	struct dbstmt *st;
	assert_int_equal(db_prepare(db, sql, &st), DB_OK);
	int64_t v = dbs_step(st) == DB_ROW ? dbs_col_i64(st, 0) : -1;
	dbs_finalize(st);
	return v;
}

static void test_roles(void **state)
{
	(void)state;
	enum role r;
	assert_int_equal(role_parse("deployer", &r), 0);
	assert_int_equal(r, ROLE_DEPLOYER);
	assert_string_equal(role_name(ROLE_ADMIN), "admin");
	assert_string_equal(role_name(ROLE_VIEWER), "viewer");
	assert_int_equal(role_parse("root", &r), KILN_EINVAL);
	assert_int_equal(role_parse("none", &r), KILN_EINVAL);
	assert_true(ROLE_VIEWER < ROLE_DEVELOPER && ROLE_DEVELOPER < ROLE_DEPLOYER &&
		    ROLE_DEPLOYER < ROLE_ADMIN);
}

static void test_users(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	int64_t id;
	assert_int_equal(auth_user_add(f->db, "root", "alice", "correct horse", ROLE_DEVELOPER, &id, &err), 0);
	assert_true(id > 0);
	/* the stored password is an Argon2id string with the documented parameters */
	struct user_row u;
	char *pw = NULL;
	assert_int_equal(users_get(f->db, "alice", &u, &pw, &err), 0);
	assert_non_null(pw);
	assert_true(str_starts_with(pw, "$argon2id$v=19$m=65536,t=2,p=1$"));
	assert_null(strstr(pw, "correct horse"));
	assert_true(auth_password_verify(pw, "correct horse"));
	assert_false(auth_password_verify(pw, "correct horsf"));
	free(pw);
	assert_string_equal(u.role, "developer");
	assert_int_equal(u.has_password, 1);

	buf_reset(&err);
	assert_int_equal(auth_user_add(f->db, "root", "alice", "another one", ROLE_VIEWER, NULL, &err),
			 KILN_EINVAL);
	assert_non_null(strstr(err.buf, "already exists"));
	buf_reset(&err);
	assert_int_equal(auth_user_add(f->db, "root", "bob", "short", ROLE_VIEWER, NULL, &err), KILN_EINVAL);
	assert_non_null(strstr(err.buf, "password must be"));
	buf_reset(&err);
	assert_int_equal(auth_user_add(f->db, "root", "b o b", NULL, ROLE_VIEWER, NULL, &err), KILN_EINVAL);
	buf_reset(&err);
	assert_int_equal(auth_user_add(f->db, "root", "-bob", NULL, ROLE_VIEWER, NULL, &err), KILN_EINVAL);
	buf_reset(&err);
	assert_int_equal(auth_user_add(f->db, "root", "bob", NULL, ROLE_NONE, NULL, &err), KILN_EINVAL);
	buf_reset(&err);
	assert_int_equal(auth_user_add(f->db, "root", "bot", NULL, ROLE_VIEWER, NULL, &err), 0);
	assert_int_equal(auth_user_set_role(f->db, "root", "bot", ROLE_DEPLOYER, &err), 0);
	assert_int_equal(auth_user_set_role(f->db, "root", "nobody", ROLE_DEPLOYER, &err), KILN_ENOENT);

	struct user_row *v;
	size_t n;
	assert_int_equal(users_list(f->db, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "alice");
	assert_string_equal(v[1].name, "bot");
	assert_string_equal(v[1].role, "deployer");
	assert_int_equal(v[1].has_password, 0);
	free(v);

	/* groups for required reviewers */
	assert_int_equal(groups_add_member(f->db, "release-managers", id, &err), 0);
	assert_int_equal(groups_add_member(f->db, "release-managers", id, &err), 0);
	assert_int_equal(groups_is_member(f->db, "release-managers", id, &err), 1);
	assert_int_equal(groups_is_member(f->db, "ops", id, &err), 0);
	assert_int_equal(groups_remove_member(f->db, "release-managers", id, &err), 0);
	assert_int_equal(groups_is_member(f->db, "release-managers", id, &err), 0);
	buf_release(&err);
}

static void test_tokens(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT, tok = BUF_INIT, hdr = BUF_INIT;
	int64_t uid, tid;
	assert_int_equal(auth_user_add(f->db, NULL, "ci-bot", NULL, ROLE_DEVELOPER, &uid, &err), 0);
	assert_int_equal(auth_token_create(f->db, "admin", uid, "laptop", 0, &tok, &tid, &err), 0);
	assert_int_equal(tok.len, AUTH_TOKEN_LEN);
	assert_true(str_starts_with(tok.buf, "kiln_"));

	/* only the hash is stored */
	char *q = xstrfmt("SELECT COUNT(*) FROM api_tokens WHERE hash = '%s' OR prefix = '%s'"
			  " OR name = '%s'", tok.buf, tok.buf, tok.buf);
	assert_int_equal(scalar(f->db, q), 0);
	free(q);
	char h[65];
	auth_token_hash(tok.buf, h);
	q = xstrfmt("SELECT COUNT(*) FROM api_tokens WHERE hash = '%s'", h);
	assert_int_equal(scalar(f->db, q), 1);
	free(q);

	struct principal p;
	buf_addf(&hdr, "Bearer %s", tok.buf);
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), 0);
	assert_int_equal(p.user_id, uid);
	assert_string_equal(p.name, "ci-bot");
	assert_int_equal(p.role, ROLE_DEVELOPER);
	assert_int_equal(p.token_id, tid);
	principal_release(&p);
	assert_null(p.name);
	assert_true(scalar(f->db, "SELECT COUNT(*) FROM api_tokens WHERE last_used_at > 0") == 1);

	/* the scheme is case-insensitive */
	buf_reset(&hdr);
	buf_addf(&hdr, "bearer  %s", tok.buf);
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), 0);
	principal_release(&p);

	/* malformed: missing, other scheme, wrong length, bad characters, trailing junk */
	assert_int_equal(auth_bearer(f->db, NULL, &p), KILN_EINVAL);
	assert_int_equal(auth_bearer(f->db, "", &p), KILN_EINVAL);
	buf_reset(&hdr);
	buf_addf(&hdr, "Basic %s", tok.buf);
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), KILN_EINVAL);
	buf_reset(&hdr);
	buf_addf(&hdr, "Bearer %sx", tok.buf);
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), KILN_EINVAL);
	buf_reset(&hdr);
	buf_addf(&hdr, "Bearer %s extra", tok.buf);
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), KILN_EINVAL);
	buf_reset(&hdr);
	buf_addf(&hdr, "Bearer %.*s-", (int)tok.len - 1, tok.buf);
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), KILN_EINVAL);

	/* well-formed but unknown: one character changed */
	buf_reset(&hdr);
	buf_addf(&hdr, "Bearer %s", tok.buf);
	hdr.buf[hdr.len - 1] = hdr.buf[hdr.len - 1] == 'a' ? 'b' : 'a';
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), KILN_ENOENT);

	/* revoked */
	buf_reset(&hdr);
	buf_addf(&hdr, "Bearer %s", tok.buf);
	assert_int_equal(auth_token_revoke(f->db, "admin", tid, &err), 0);
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), KILN_ENOENT);
	assert_int_equal(auth_token_revoke(f->db, "admin", tid, &err), KILN_ENOENT);

	/* expired */
	buf_reset(&tok);
	assert_int_equal(auth_token_create(f->db, "admin", uid, "short", 1, &tok, &tid, &err), 0);
	usleep(20 * 1000);
	buf_reset(&hdr);
	buf_addf(&hdr, "Bearer %s", tok.buf);
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), KILN_ENOENT);

	/* a disabled user's tokens stop working, and stay revoked when re-enabled */
	buf_reset(&tok);
	assert_int_equal(auth_token_create(f->db, "admin", uid, "ci", 3600 * 1000, &tok, &tid, &err), 0);
	buf_reset(&hdr);
	buf_addf(&hdr, "Bearer %s", tok.buf);
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), 0);
	principal_release(&p);
	assert_int_equal(auth_user_disable(f->db, "admin", "ci-bot", 1, &err), 0);
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), KILN_ENOENT);
	assert_int_equal(auth_user_disable(f->db, "admin", "ci-bot", 0, &err), 0);
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), KILN_ENOENT);

	/* two tokens are different */
	struct buf t2 = BUF_INIT;
	assert_int_equal(auth_token_create(f->db, "admin", uid, "a", 0, &t2, NULL, &err), 0);
	assert_string_not_equal(t2.buf, tok.buf);

	struct token_row *v;
	size_t n;
	assert_int_equal(tokens_list(f->db, uid, &v, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].name, "a");
	assert_int_equal(strlen(v[0].prefix), 9);
	assert_true(str_starts_with(t2.buf, v[0].prefix));
	assert_string_equal(v[0].hash, "");
	assert_true(v[1].revoked_ms > 0);
	free(v);

	assert_int_equal(auth_token_create(f->db, "admin", 999, "x", 0, &t2, NULL, &err), KILN_ENOENT);
	buf_release(&t2);
	buf_release(&tok);
	buf_release(&hdr);
	buf_release(&err);
}

static void test_login_backoff(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT, tok = BUF_INIT;
	struct principal p;
	int64_t retry;
	assert_int_equal(auth_user_add(f->db, NULL, "carol", "s3cret-pass", ROLE_DEPLOYER, NULL, &err), 0);
	int64_t t0 = 1700000000000;
	assert_int_equal(auth_login(f->db, "carol", "s3cret-pass", "10.0.0.1", t0, &p, &tok, &retry, &err),
			 AUTH_LOGIN_OK);
	assert_string_equal(p.name, "carol");
	assert_int_equal(p.role, ROLE_DEPLOYER);
	principal_release(&p);
	/* the login token works as a bearer token */
	struct buf hdr = BUF_INIT;
	buf_addf(&hdr, "Bearer %s", tok.buf);
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), 0);
	assert_string_equal(p.name, "carol");
	principal_release(&p);

	/* failures 1..4 are free; the 5th locks for 1 s, the 6th for 2 s */
	for (int i = 1; i <= 5; i++) {
		buf_reset(&tok);
		assert_int_equal(auth_login(f->db, "carol", "wrong", "10.0.0.1", t0 + i, &p, &tok, &retry,
					    &err),
				 AUTH_LOGIN_DENIED);
		assert_int_equal(tok.len, 0);
	}
	/* locked: even the right password is not checked */
	assert_int_equal(auth_login(f->db, "carol", "s3cret-pass", "10.0.0.1", t0 + 500, &p, &tok, &retry,
				    &err),
			 AUTH_LOGIN_THROTTLED);
	assert_int_equal(retry, 505);
	/* another address is not locked by these failures */
	assert_int_equal(auth_login(f->db, "carol", "wrong", "10.0.0.2", t0 + 500, &p, &tok, &retry, &err),
			 AUTH_LOGIN_DENIED);
	/* after the lock: a 6th failure doubles it */
	assert_int_equal(auth_login(f->db, "carol", "wrong", "10.0.0.1", t0 + 1100, &p, &tok, &retry, &err),
			 AUTH_LOGIN_DENIED);
	assert_int_equal(auth_login(f->db, "carol", "s3cret-pass", "10.0.0.1", t0 + 3000, &p, &tok, &retry,
				    &err),
			 AUTH_LOGIN_THROTTLED);
	assert_int_equal(retry, 100);
	/* then the right password works and clears the count */
	assert_int_equal(auth_login(f->db, "carol", "s3cret-pass", "10.0.0.1", t0 + 3200, &p, &tok, &retry,
				    &err),
			 AUTH_LOGIN_OK);
	principal_release(&p);
	assert_int_equal(auth_login(f->db, "carol", "wrong", "10.0.0.1", t0 + 3300, &p, &tok, &retry, &err),
			 AUTH_LOGIN_DENIED);
	assert_int_equal(auth_login(f->db, "carol", "s3cret-pass", "10.0.0.1", t0 + 3301, &p, &tok, &retry,
				    &err),
			 AUTH_LOGIN_OK);
	principal_release(&p);

	/* the back-off is capped at 15 minutes */
	for (int i = 0; i < 30; i++) {
		int64_t now = t0 + 10000 + (int64_t)i * 20 * 60 * 1000;
		assert_int_equal(auth_login(f->db, "dave", "x", "", now, &p, &tok, &retry, &err),
				 AUTH_LOGIN_DENIED);
	}
	struct login_failure lf;
	assert_int_equal(login_failures_get(f->db, "dave\n", &lf, &err), 0);
	assert_int_equal(lf.failures, 30);
	assert_int_equal(lf.locked_until_ms - lf.last_ms, AUTH_MAX_LOCK_MS);

	/* unknown users, disabled users and token-only users are denied */
	assert_int_equal(auth_user_add(f->db, NULL, "tokenonly", NULL, ROLE_VIEWER, NULL, &err), 0);
	assert_int_equal(auth_login(f->db, "tokenonly", "", "", t0, &p, &tok, &retry, &err),
			 AUTH_LOGIN_DENIED);
	assert_int_equal(auth_user_disable(f->db, NULL, "carol", 1, &err), 0);
	assert_int_equal(auth_login(f->db, "carol", "s3cret-pass", "10.0.0.9", t0, &p, &tok, &retry, &err),
			 AUTH_LOGIN_DENIED);

	/* a new password unlocks every address */
	assert_int_equal(login_failures_get(f->db, "carol\n10.0.0.2", &lf, &err), 0);
	assert_int_equal(lf.failures, 1);
	assert_int_equal(auth_user_passwd(f->db, "admin", "carol", "new-password", &err), 0);
	assert_int_equal(login_failures_get(f->db, "carol\n10.0.0.2", &lf, &err), 0);
	assert_int_equal(lf.failures, 0);
	buf_release(&hdr);
	buf_release(&tok);
	buf_release(&err);
}

static void test_bootstrap_and_audit(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT, tok = BUF_INIT;
	assert_int_equal(auth_bootstrap(f->db, "admin", NULL, &tok, &err), 1);
	assert_int_equal(tok.len, AUTH_TOKEN_LEN);
	struct buf hdr = BUF_INIT;
	buf_addf(&hdr, "Bearer %s", tok.buf);
	struct principal p;
	assert_int_equal(auth_bearer(f->db, hdr.buf, &p), 0);
	assert_string_equal(p.name, "admin");
	assert_int_equal(p.role, ROLE_ADMIN);
	principal_release(&p);
	struct buf tok2 = BUF_INIT;
	assert_int_equal(auth_bootstrap(f->db, "admin2", NULL, &tok2, &err), 0);
	assert_int_equal(tok2.len, 0);

	/* audited, and the audit log refuses changes */
	struct audit_row *v;
	size_t n;
	struct audit_filter af = { NULL, NULL, 0, 0 };
	assert_int_equal(audit_list(f->db, &af, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].action, "token.create");
	assert_string_equal(v[1].action, "user.add");
	assert_string_equal(v[1].actor, "kiln");
	assert_string_equal(v[1].target, "admin");
	assert_null(strstr(v[0].detail, tok.buf));
	free(v);
	af.action = "user.";
	assert_int_equal(audit_list(f->db, &af, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	free(v);
	buf_reset(&err);
	assert_int_equal(db_exec(f->db, "UPDATE audit_log SET actor = 'x'", &err), -1);
	assert_non_null(strstr(err.buf, "append-only"));
	assert_int_equal(db_exec(f->db, "DELETE FROM audit_log", NULL), -1);
	assert_int_equal(scalar(f->db, "SELECT COUNT(*) FROM audit_log"), 2);
	buf_release(&hdr);
	buf_release(&tok);
	buf_release(&tok2);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_and_audit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
