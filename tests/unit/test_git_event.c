/*
 * unit tests for src/git diff, event and checkout on a real repository
 * made with the git command: changed files with renames, push and tag
 * payloads, pull requests against a moved base, checkout of old commits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "git/checkout.h"
#include "git/diff.h"
#include "git/event.h"

#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

struct fx {
	char dir[64];
	char *work;
	struct repo *r;
	struct repo_info info;
};

static void sh(const struct fx *f, const char *fmt, ...)
{
	struct buf cmd = BUF_INIT;
	va_list ap;
	buf_addf(&cmd, "cd '%s' && (", f->work);
	va_start(ap, fmt);
	buf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	buf_addstr(&cmd, ") >/dev/null 2>&1");
	int rc = system(cmd.buf);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd.buf);
	buf_release(&cmd);
}

/*
 * history on main:  c1 (a.txt, run.sh +x) - c2 (a.txt changed, b.txt added)
 *                   - c3 (b.txt renamed to c.txt, a.txt removed)  <- main, tag v1.2.3
 * feature branches from c2: f1 (svc/x.go added)
 */
static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-gitev.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->work = xstrfmt("%s/work", f->dir);
	setenv("HOME", f->dir, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "A U Thor", 1);
	setenv("GIT_AUTHOR_EMAIL", "author@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "C O Mitter", 1);
	setenv("GIT_COMMITTER_EMAIL", "committer@example.com", 1);
	mkdir(f->work, 0777);
	sh(f, "git init -q -b main && echo one >a.txt && printf '#!/bin/sh\\necho hi\\n' >run.sh && "
	      "chmod +x run.sh && git add . && git commit -q -m c1 && git tag c1 && "
	      "echo two >a.txt && seq 1 50 >b.txt && git add . && git commit -q -m c2 && git tag c2 && "
	      "git checkout -q -b feature && mkdir svc && echo x >svc/x.go && git add . && "
	      "git commit -q -m 'f1: add x' -m 'the body' && git checkout -q main && "
	      "git mv b.txt c.txt && git rm -q a.txt && git commit -q -m c3 && git tag -a -m rel v1.2.3");
	assert_int_equal(repo_open(f->work, &f->r, NULL), 0);
	struct repo_info z = REPO_INFO_INIT;
	f->info = z;
	assert_int_equal(repo_get_info(f->r, &f->info, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	repo_info_release(&f->info);
	repo_close(f->r);
	struct buf cmd = BUF_INIT;
	buf_addf(&cmd, "rm -rf '%s'", f->dir);
	int rc = system(cmd.buf);
	buf_release(&cmd);
	free(f->work);
	free(f);
	return rc == 0 ? 0 : -1;
}

static void test_diff_renames(void **state)
{
	struct fx *f = *state;
	struct changes ch = CHANGES_INIT;
	assert_int_equal(repo_diff(f->r, "c2", "main", &ch, NULL), 0);
	assert_int_equal(ch.nr, 2);
	assert_string_equal(ch.v[0].path, "a.txt");
	assert_string_equal(change_status_name(ch.v[0].status), "removed");
	assert_string_equal(ch.v[1].path, "c.txt");
	assert_int_equal(ch.v[1].status, CHANGE_RENAMED);
	assert_string_equal(ch.v[1].old_path, "b.txt");
	struct strvec paths = STRVEC_INIT;
	changes_paths(&ch, &paths);
	assert_int_equal(paths.nr, 3);
	assert_string_equal(paths.v[0], "a.txt");
	assert_string_equal(paths.v[1], "b.txt");
	assert_string_equal(paths.v[2], "c.txt");
	strvec_clear(&paths);
	changes_release(&ch);

	/* from nothing: every file added */
	assert_int_equal(repo_diff(f->r, NULL, "c1", &ch, NULL), 0);
	assert_int_equal(ch.nr, 2);
	assert_int_equal(ch.v[0].status, CHANGE_ADDED);
	changes_release(&ch);

	struct buf err = BUF_INIT;
	assert_int_equal(repo_diff(f->r, "nope", "main", &ch, &err), KILN_ENOENT);
	assert_non_null(strstr(err.buf, "unknown revision 'nope'"));
	buf_release(&err);
}

static json_t *payload(const struct event_info *e)
{
	json_error_t je;
	json_t *j = json_loads(e->payload, 0, &je);
	if (!j)
		fail_msg("payload is not JSON: %s", je.text);
	return j;
}

static const char *jstr(json_t *j, const char *path1, const char *path2)
{
	json_t *v = json_object_get(j, path1);
	if (path2)
		v = json_object_get(v, path2);
	return json_string_value(v);
}

static void test_push_branch(void **state)
{
	struct fx *f = *state;
	struct event_opts o = EVENT_OPTS_INIT;
	struct event_info e = EVENT_INFO_INIT;
	assert_int_equal(event_build(f->r, &f->info, &o, &e, NULL), 0);
	assert_string_equal(e.name, "push");
	assert_string_equal(e.ref, "refs/heads/main");
	assert_string_equal(e.ref_name, "main");
	assert_string_equal(e.ref_type, "branch");
	assert_string_equal(e.sha, f->info.sha);
	assert_string_equal(e.filter_ref, "refs/heads/main");
	assert_string_equal(e.default_branch, "main");
	assert_true(e.changed_known);
	assert_int_equal(e.changed.nr, 3);
	json_t *j = payload(&e);
	char c2[REPO_OID_HEX];
	assert_int_equal(repo_resolve(f->r, "c2", c2, NULL), 0);
	assert_string_equal(jstr(j, "before", NULL), c2);
	assert_string_equal(jstr(j, "after", NULL), f->info.sha);
	assert_true(json_is_false(json_object_get(j, "created")));
	assert_true(json_is_false(json_object_get(j, "forced")));
	assert_int_equal(json_array_size(json_object_get(j, "commits")), 1);
	assert_string_equal(jstr(j, "head_commit", "id"), f->info.sha);
	assert_string_equal(jstr(j, "head_commit", "message"), "c3\n");
	json_t *hc = json_object_get(j, "head_commit");
	assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "removed"), 0)),
			    "a.txt");
	assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "added"), 0)),
			    "c.txt");
	assert_string_equal(jstr(j, "repository", "full_name"), "local/work");
	assert_string_equal(jstr(j, "pusher", "name"), "A U Thor");
	json_decref(j);
	event_info_release(&e);

	/* --base c1: two commits, oldest first */
	o.base = "c1";
	assert_int_equal(event_build(f->r, &f->info, &o, &e, NULL), 0);
	j = payload(&e);
	json_t *commits = json_object_get(j, "commits");
	assert_int_equal(json_array_size(commits), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(commits, 0), "message")),
			    "c2\n");
	assert_int_equal(e.changed.nr, 2); /* c1..c3: a.txt removed, c.txt added */
	json_decref(j);
	event_info_release(&e);

	/* a base that is not an ancestor: forced */
	o.base = "feature";
	assert_int_equal(event_build(f->r, &f->info, &o, &e, NULL), 0);
	j = payload(&e);
	assert_true(json_is_true(json_object_get(j, "forced")));
	json_decref(j);
	event_info_release(&e);
}

static void test_push_tag(void **state)
{
	struct fx *f = *state;
	struct event_opts o = EVENT_OPTS_INIT;
	struct event_info e = EVENT_INFO_INIT;
	o.ref = "v1.2.3";
	assert_int_equal(event_build(f->r, &f->info, &o, &e, NULL), 0);
	assert_string_equal(e.ref, "refs/tags/v1.2.3");
	assert_string_equal(e.ref_name, "v1.2.3");
	assert_string_equal(e.ref_type, "tag");
	assert_string_equal(e.filter_ref, "refs/tags/v1.2.3");
	json_t *j = payload(&e);
	assert_string_equal(jstr(j, "before", NULL), "0000000000000000000000000000000000000000");
	assert_true(json_is_true(json_object_get(j, "created")));
	assert_int_equal(json_array_size(json_object_get(j, "commits")), 0);
	assert_string_equal(jstr(j, "base_ref", NULL), "refs/heads/main");
	json_decref(j);
	event_info_release(&e);

	/* detached at the tag: the tag is the pushed ref */
	sh(f, "git checkout -q v1.2.3");
	struct repo_info info = REPO_INFO_INIT;
	assert_int_equal(repo_get_info(f->r, &info, NULL), 0);
	struct event_opts o2 = EVENT_OPTS_INIT;
	assert_int_equal(event_build(f->r, &info, &o2, &e, NULL), 0);
	assert_string_equal(e.ref, "refs/tags/v1.2.3");
	event_info_release(&e);
	repo_info_release(&info);
}

static void test_pull_request(void **state)
{
	struct fx *f = *state;
	struct event_opts o = EVENT_OPTS_INIT;
	struct event_info e = EVENT_INFO_INIT;
	o.name = "pull_request";
	o.head = "feature";
	o.number = 7;
	assert_int_equal(event_build(f->r, &f->info, &o, &e, NULL), 0);
	assert_string_equal(e.ref, "refs/pull/7/merge");
	assert_string_equal(e.ref_name, "7/merge");
	assert_string_equal(e.base_ref, "main");
	assert_string_equal(e.head_ref, "feature");
	assert_string_equal(e.filter_ref, "refs/heads/main");
	/* three-dot: only what the branch changed since it forked */
	assert_int_equal(e.changed.nr, 1);
	assert_string_equal(e.changed.v[0], "svc/x.go");
	json_t *j = payload(&e);
	assert_string_equal(jstr(j, "action", NULL), "opened");
	assert_int_equal(json_integer_value(json_object_get(j, "number")), 7);
	json_t *pr = json_object_get(j, "pull_request");
	assert_string_equal(jstr(pr, "title", NULL), "f1: add x");
	assert_string_equal(jstr(pr, "body", NULL), "the body\n");
	assert_string_equal(json_string_value(json_object_get(json_object_get(pr, "head"), "ref")),
			    "feature");
	assert_string_equal(json_string_value(json_object_get(json_object_get(pr, "base"), "sha")),
			    f->info.sha);
	json_decref(j);
	event_info_release(&e);

	struct buf err = BUF_INIT;
	o.head = "no-such-branch";
	assert_int_equal(event_build(f->r, &f->info, &o, &e, &err), KILN_ENOENT);
	assert_non_null(strstr(err.buf, "no-such-branch"));
	event_info_release(&e);
	buf_release(&err);
}

static void test_checkout(void **state)
{
	struct fx *f = *state;
	char *dest = xstrfmt("%s/ws/deep", f->dir);
	struct buf err = BUF_INIT;
	assert_int_equal(repo_checkout(f->r, "c1", dest, 0, &err), 0);
	char *a = xstrfmt("%s/a.txt", dest), *run = xstrfmt("%s/run.sh", dest);
	struct buf b = BUF_INIT;
	assert_int_equal(buf_read_file(&b, a), 0);
	assert_string_equal(b.buf, "one\n");
	struct stat st;
	assert_int_equal(stat(run, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	/* the repository's own work tree and index are untouched */
	sh(f, "git status --porcelain >../status && test ! -s ../status");
	/* clean: files the tree lacks go away */
	char *extra = xstrfmt("%s/extra", dest);
	FILE *fp = fopen(extra, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(repo_checkout(f->r, "main", dest, 1, &err), 0);
	assert_int_equal(access(extra, F_OK), -1);
	assert_int_equal(access(a, F_OK), -1);
	char *c = xstrfmt("%s/c.txt", dest);
	assert_int_equal(access(c, F_OK), 0);
	assert_int_equal(repo_checkout(f->r, "bogus", dest, 0, &err), KILN_ENOENT);
	assert_non_null(strstr(err.buf, "unknown revision 'bogus'"));
	buf_release(&b);
	buf_release(&err);
	free(a);
	free(run);
	free(extra);
	free(c);
	free(dest);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_diff_renames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_branch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pull_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkout, setup, teardown),
	};
	return cmocka_run_group_tests_name("git/event", tests, NULL, NULL);
}
