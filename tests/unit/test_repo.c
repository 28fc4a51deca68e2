/* unit tests for src/git/repo: HEAD, branch, tags, origin, commits, on real
 * repositories made with the git command in a temporary directory */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "git/repo.h"

#include <unistd.h>

struct fixture {
	char dir[64];
};

/* run a shell command in the fixture's directory; fail the test if it fails */
static void sh(const struct fixture *f, const char *fmt, ...)
{
	struct buf cmd = BUF_INIT;
	va_list ap;
	buf_addf(&cmd, "cd '%s' && (", f->dir);
	va_start(ap, fmt);
	buf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	buf_addstr(&cmd, ") >/dev/null 2>&1");
	int rc = system(cmd.buf);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd.buf);
	buf_release(&cmd);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-repo.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	setenv("HOME", f->dir, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "A U Thor", 1);
	setenv("GIT_AUTHOR_EMAIL", "author@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "C O Mitter", 1);
	setenv("GIT_COMMITTER_EMAIL", "committer@example.com", 1);
	setenv("GIT_AUTHOR_DATE", "2026-11-23T10:41:01+01:00", 1);
	setenv("GIT_COMMITTER_DATE", "2026-11-23T10:41:01+01:00", 1);
	*state = f;
	sh(f, "git init -q -b main work && cd work && echo hi >a.txt && git add a.txt && "
	      "git commit -q -m 'first line' -m 'body text'");
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct buf cmd = BUF_INIT;
	buf_addf(&cmd, "rm -rf '%s'", f->dir);
	int rc = system(cmd.buf);
	buf_release(&cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

static char *path(const struct fixture *f, const char *sub)
{
	return xstrfmt("%s/%s", f->dir, sub);
}

static void test_branch_head(void **state)
{
	struct fixture *f = *state;
	sh(f, "mkdir -p work/sub/deeper");
	char *p = path(f, "work/sub/deeper");
	struct repo_info info = REPO_INFO_INIT;
	struct buf err = BUF_INIT;
	assert_int_equal(repo_info_load(p, &info, &err), 0);
	char *wd = path(f, "work");
	assert_string_equal(info.workdir, wd);
	assert_true(info.has_commit);
	assert_false(info.detached);
	assert_string_equal(info.ref, "refs/heads/main");
	assert_string_equal(info.branch, "main");
	assert_int_equal(strlen(info.sha), 40);
	assert_string_equal(info.head.sha, info.sha);
	assert_string_equal(info.head.author_name, "A U Thor");
	assert_string_equal(info.head.committer_email, "committer@example.com");
	assert_string_equal(info.head.timestamp, "2026-11-23T10:41:01+01:00");
	assert_int_equal(info.head.tz_minutes, 60);
	assert_string_equal(info.head.message, "first line\n\nbody text\n");
	assert_int_equal(info.head.parents.nr, 0);
	struct buf subj = BUF_INIT;
	repo_commit_subject(&info.head, &subj);
	assert_string_equal(subj.buf, "first line");
	/* no origin: owner "local", name = directory */
	assert_null(info.origin_url);
	assert_string_equal(info.repository, "local/work");
	assert_int_equal(info.tags.nr, 0);
	buf_release(&subj);
	buf_release(&err);
	repo_info_release(&info);
	free(wd);
	free(p);
}

static void test_tags_detached_origin(void **state)
{
	struct fixture *f = *state;
	sh(f, "cd work && git tag v1.2.3 && git tag -a -m annotated v1.2.4 && "
	      "git remote add origin git@github.com:acme/rocket.git && "
	      "echo 2 >b.txt && git add b.txt && git commit -q -m second && git tag later && "
	      "git checkout -q HEAD~1");
	char *p = path(f, "work");
	struct repo_info info = REPO_INFO_INIT;
	assert_int_equal(repo_info_load(p, &info, NULL), 0);
	assert_true(info.detached);
	assert_null(info.ref);
	assert_null(info.branch);
	assert_int_equal(info.tags.nr, 2);
	assert_string_equal(info.tags.v[0], "v1.2.3");
	assert_string_equal(info.tags.v[1], "v1.2.4");
	assert_string_equal(info.origin_url, "git@github.com:acme/rocket.git");
	assert_string_equal(info.repository, "acme/rocket");

	struct repo *r;
	assert_int_equal(repo_open(p, &r, NULL), 0);
	char main_sha[REPO_OID_HEX], tag_sha[REPO_OID_HEX];
	assert_int_equal(repo_resolve(r, "main", main_sha, NULL), 0);
	assert_int_equal(repo_resolve(r, "v1.2.4", tag_sha, NULL), 0);
	assert_string_equal(tag_sha, info.sha);
	assert_string_not_equal(main_sha, info.sha);
	struct repo_commit c = REPO_COMMIT_INIT;
	assert_int_equal(repo_commit_get(r, "main", &c, NULL), 0);
	assert_int_equal(c.parents.nr, 1);
	assert_string_equal(c.parents.v[0], info.sha);
	assert_string_equal(c.message, "second\n");
	repo_commit_release(&c);
	struct buf err = BUF_INIT;
	assert_int_equal(repo_resolve(r, "no-such-branch", main_sha, &err), KILN_ENOENT);
	assert_non_null(strstr(err.buf, "no-such-branch"));
	buf_release(&err);
	repo_close(r);
	repo_info_release(&info);
	free(p);
}

static void test_not_a_repo(void **state)
{
	struct fixture *f = *state;
	sh(f, "mkdir -p plain");
	char *p = path(f, "plain");
	struct repo *r = NULL;
	struct buf err = BUF_INIT;
	/* /tmp itself is not in a repository */
	assert_int_equal(repo_open(p, &r, &err), KILN_ENOENT);
	assert_null(r);
	assert_non_null(strstr(err.buf, "not a git repository"));
	buf_release(&err);
	free(p);
}

static void test_unborn(void **state)
{
	struct fixture *f = *state;
	sh(f, "git init -q -b trunk empty");
	char *p = path(f, "empty");
	struct repo_info info = REPO_INFO_INIT;
	assert_int_equal(repo_info_load(p, &info, NULL), 0);
	assert_false(info.has_commit);
	assert_string_equal(info.sha, "");
	assert_string_equal(info.branch, "trunk");
	assert_string_equal(info.ref, "refs/heads/trunk");
	repo_info_release(&info);
	free(p);
}

static void test_parse_remote(void **state)
{
	(void)state;
	static const struct { const char *url, *owner, *name; } cases[] = {
		{ "https://github.com/acme/rocket.git", "acme", "rocket" },
		{ "https://github.com/acme/rocket", "acme", "rocket" },
		{ "https://github.com/acme/rocket/", "acme", "rocket" },
		{ "git@github.com:acme/rocket.git", "acme", "rocket" },
		{ "ssh://git@example.com:2222/team/svc.git", "team", "svc" },
		{ "https://gitlab.example.com/group/sub/proj.git", "sub", "proj" },
		{ "/srv/git/acme/rocket.git", "acme", "rocket" },
		{ "file:///srv/git/acme/rocket", "acme", "rocket" },
		{ "host:rocket.git", "local", "rocket" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *o = NULL, *n = NULL;
		assert_int_equal(repo_parse_remote(cases[i].url, &o, &n), 0);
		assert_string_equal(o, cases[i].owner);
		assert_string_equal(n, cases[i].name);
		free(o);
		free(n);
	}
	char *o = NULL, *n = NULL;
	assert_int_equal(repo_parse_remote("https://github.com/", &o, &n), -1);
	assert_null(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_branch_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tags_detached_origin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_repo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unborn, setup, teardown),
		cmocka_unit_test(test_parse_remote),
	};
	return cmocka_run_group_tests_name("git/repo", tests, NULL, NULL);
}
