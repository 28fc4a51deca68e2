/*
 * unit tests for src/secret: the run's name -> value map, -s and dotenv
 * parsing, and the encrypted store on a real SQLite database in a temp dir.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "secret/secret.h"
#include "store/db.h"

#include <sys/stat.h>
#include <unistd.h>

static void test_map(void **state)
{
	(void)state;
	struct secret_map m = SECRET_MAP_INIT;
	secret_map_set(&m, "token", "a", 1);
	secret_map_set(&m, "TOKEN", "bb", 2);
	secret_map_set(&m, "Other", "c", 1);
	assert_int_equal(m.nr, 2);
	assert_string_equal(secret_map_get(&m, "Token")->value, "bb");
	assert_string_equal(secret_map_get(&m, "other")->name, "OTHER");
	assert_null(secret_map_get(&m, "nope"));
	secret_map_release(&m);
	assert_int_equal(m.nr, 0);
}

static void test_names(void **state)
{
	(void)state;
	struct buf err = BUF_INIT;
	assert_int_equal(secret_check_name("API_KEY_2", &err), 0);
	assert_int_equal(secret_check_name("_x", &err), 0);
	assert_int_equal(secret_check_name("2X", &err), -1);
	assert_int_equal(secret_check_name("A-B", &err), -1);
	assert_int_equal(secret_check_name("", &err), -1);
	buf_reset(&err);
	assert_int_equal(secret_check_name("github_sha", &err), -1);
	assert_non_null(strstr(err.buf, "GITHUB_"));
	/* the one GITHUB_ secret GitHub itself provides */
	assert_int_equal(secret_check_name("GITHUB_TOKEN", &err), 0);
	assert_int_equal(secret_check_env("prod-eu.1", &err), 0);
	assert_int_equal(secret_check_env("a b", &err), -1);
	buf_release(&err);
}

static void test_assign(void **state)
{
	(void)state;
	struct secret_map m = SECRET_MAP_INIT;
	struct buf err = BUF_INIT;
	assert_int_equal(secret_parse_assign("A=x=y", &m, &err), 0);
	assert_string_equal(secret_map_get(&m, "A")->value, "x=y");
	assert_int_equal(secret_parse_assign("EMPTY=", &m, &err), 0);
	assert_int_equal(secret_map_get(&m, "EMPTY")->len, 0);
	assert_int_equal(secret_parse_assign("hunter2", &m, &err), -1);
	assert_null(strstr(err.buf, "hunter2")); /* never echo what may be a value */
	assert_int_equal(secret_parse_assign("=v", &m, &err), -1);
	secret_map_release(&m);
	buf_release(&err);
}

static void test_dotenv(void **state)
{
	(void)state;
	const char *text = "# comment\n"
			   "\n"
			   "PLAIN=value with spaces   # trailing comment\n"
			   "export EXPORTED=yes\n"
			   "SINGLE='lit $x \\n #'\n"
			   "DOUBLE=\"a\\nb \\\"q\\\" \\\\\"\n"
			   "MULTI=\"line1\n"
			   "line2\"\n"
			   "HASH=a#b\n"
			   "  SPACED = v \r\n"
			   "EMPTY=\n";
	struct secret_map m = SECRET_MAP_INIT;
	struct buf err = BUF_INIT;
	assert_int_equal(secret_parse_dotenv("s.env", text, strlen(text), &m, &err), 0);
	assert_string_equal(err.buf, "");
	assert_string_equal(secret_map_get(&m, "PLAIN")->value, "value with spaces");
	assert_string_equal(secret_map_get(&m, "EXPORTED")->value, "yes");
	assert_string_equal(secret_map_get(&m, "SINGLE")->value, "lit $x \\n #");
	assert_string_equal(secret_map_get(&m, "DOUBLE")->value, "a\nb \"q\" \\");
	assert_string_equal(secret_map_get(&m, "MULTI")->value, "line1\nline2");
	assert_string_equal(secret_map_get(&m, "HASH")->value, "a#b");
	assert_string_equal(secret_map_get(&m, "SPACED")->value, "v");
	assert_string_equal(secret_map_get(&m, "EMPTY")->value, "");
	assert_int_equal(m.nr, 8);
	secret_map_release(&m);
	buf_release(&err);
}

static void dotenv_fails(const char *text, const char *want)
{
	struct secret_map m = SECRET_MAP_INIT;
	struct buf err = BUF_INIT;
	assert_int_equal(secret_parse_dotenv("f.env", text, strlen(text), &m, &err), -1);
	if (!strstr(err.buf, want)) {
		print_error("got '%s', want '%s'\n", err.buf, want);
		fail();
	}
	secret_map_release(&m);
	buf_release(&err);
}

static void test_dotenv_errors(void **state)
{
	(void)state;
	dotenv_fails("A=1\nnot a line\n", "f.env:2:5: error: expected NAME=VALUE");
	dotenv_fails("A=\"open\nB=2\n", "f.env:1:3: error: unterminated double-quoted value");
	dotenv_fails("A='x\n", "f.env:1:3: error: unterminated single-quoted value");
	dotenv_fails("GITHUB_X=1\n", "f.env:1:1: error: invalid secret name");
	dotenv_fails("A=\"x\" y\n", "f.env:1:7: error: unexpected text after the closing quote");
}

struct fx {
	char dir[64];
	struct db *db;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-secret-XXXXXX");
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

static void test_store_roundtrip(void **state)
{
	struct fx *f = *state;
	struct secret_store *s;
	struct buf err = BUF_INIT;
	assert_int_equal(secret_store_open(&s, f->db, f->dir, &err), 0);
	/* nothing stored: loading needs no key */
	struct secret_map m = SECRET_MAP_INIT;
	assert_int_equal(secret_load(s, "prod", &m, &err), 0);
	assert_int_equal(m.nr, 0);
	assert_int_equal(secret_set(s, "", "token", "repo-level-value", 16, &err), 0);
	assert_int_equal(secret_set(s, "prod", "TOKEN", "prod-value", 10, &err), 0);
	assert_int_equal(secret_set(s, "prod", "ONLY_PROD", "x\ny", 3, &err), 0);
	assert_int_equal(secret_set(s, "", "bad-name", "v", 1, &err), -1);
	buf_reset(&err);
	/* key file created 0600 */
	char *kp = xstrfmt("%s/secret.key", f->dir);
	struct stat st;
	assert_int_equal(stat(kp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);

	assert_int_equal(secret_load(s, "prod", &m, &err), 0);
	assert_int_equal(m.nr, 2);
	assert_string_equal(secret_map_get(&m, "TOKEN")->value, "prod-value");
	assert_string_equal(secret_map_get(&m, "ONLY_PROD")->value, "x\ny");
	secret_map_release(&m);
	assert_int_equal(secret_load(s, NULL, &m, &err), 0);
	assert_int_equal(m.nr, 1);
	assert_string_equal(secret_map_get(&m, "TOKEN")->value, "repo-level-value");
	secret_map_release(&m);

	struct secret_info *v;
	size_t n;
	assert_int_equal(secret_list(s, NULL, &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].env, "");
	assert_string_equal(v[0].name, "TOKEN");
	assert_string_equal(v[2].name, "TOKEN");
	free(v);
	assert_int_equal(secret_remove(s, "prod", "only_prod", &err), 0);
	assert_int_equal(secret_remove(s, "prod", "only_prod", &err), KILN_ENOENT);
	assert_int_equal(secret_list(s, "prod", &v, &n, &err), 0);
	assert_int_equal(n, 1);
	free(v);
	secret_store_close(s);

	/* no value in clear in the database files */
	char *cmd = xstrfmt("cat '%s'/kiln.db* | grep -a -q -e prod-value -e repo-level-value", f->dir);
	assert_int_not_equal(system(cmd), 0);
	free(cmd);
	free(kp);
	buf_release(&err);
}

static void test_store_errors(void **state)
{
	struct fx *f = *state;
	struct secret_store *s;
	struct buf err = BUF_INIT;
	struct secret_map m = SECRET_MAP_INIT;
	assert_int_equal(secret_store_open(&s, f->db, f->dir, &err), 0);
	assert_int_equal(secret_set(s, "", "A", "alpha-value", 11, &err), 0);
	secret_store_close(s);
	char *kp = xstrfmt("%s/secret.key", f->dir);

	/* insecure permissions */
	assert_int_equal(chmod(kp, 0644), 0);
	assert_int_equal(secret_store_open(&s, f->db, f->dir, &err), 0);
	assert_int_equal(secret_load(s, "", &m, &err), -1);
	assert_non_null(strstr(err.buf, "chmod 600"));
	secret_store_close(s);
	assert_int_equal(chmod(kp, 0600), 0);

	/* a row moved to another name does not decrypt */
	buf_reset(&err);
	assert_int_equal(db_exec(f->db, "UPDATE secrets SET name = 'B'", &err), 0);
	assert_int_equal(secret_store_open(&s, f->db, f->dir, &err), 0);
	assert_int_equal(secret_load(s, "", &m, &err), -1);
	assert_non_null(strstr(err.buf, "secret 'B' (environment '') cannot be decrypted"));
	secret_store_close(s);
	assert_int_equal(db_exec(f->db, "UPDATE secrets SET name = 'A'", &err), 0);

	/* corrupt ciphertext */
	buf_reset(&err);
	assert_int_equal(db_exec(f->db, "UPDATE secrets SET box = zeroblob(40)", &err), 0);
	assert_int_equal(secret_store_open(&s, f->db, f->dir, &err), 0);
	assert_int_equal(secret_load(s, "", &m, &err), -1);
	assert_non_null(strstr(err.buf, "cannot be decrypted"));
	secret_store_close(s);

	/* missing key */
	buf_reset(&err);
	assert_int_equal(unlink(kp), 0);
	assert_int_equal(secret_store_open(&s, f->db, f->dir, &err), 0);
	assert_int_equal(secret_load(s, "", &m, &err), -1);
	assert_non_null(strstr(err.buf, "is missing"));
	secret_store_close(s);

	/* truncated key */
	buf_reset(&err);
	FILE *fp = fopen(kp, "w");
	fputs("short", fp);
	fclose(fp);
	assert_int_equal(chmod(kp, 0600), 0);
	assert_int_equal(secret_store_open(&s, f->db, f->dir, &err), 0);
	assert_int_equal(secret_load(s, "", &m, &err), -1);
	assert_non_null(strstr(err.buf, "is corrupt"));
	secret_store_close(s);
	assert_int_equal(m.nr, 0);
	free(kp);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_assign),
		cmocka_unit_test(test_dotenv),
		cmocka_unit_test(test_dotenv_errors),
		cmocka_unit_test_setup_teardown(test_store_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_errors, setup, teardown),
	};
	return cmocka_run_group_tests_name("secret", tests, NULL, NULL);
}
