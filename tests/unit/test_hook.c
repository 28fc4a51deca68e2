/* unit tests for src/server/hook (signatures, payload normalization) and
 * src/server/poll's ref diff */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "server/hook.h"
#include "server/poll.h"
#include "store/repos.h"

#define SHA "0123456789abcdef0123456789abcdef01234567"
#define ZERO "0000000000000000000000000000000000000000"

static struct hook_in in_of(enum forge f, const char *event, const char *body)
{
	struct hook_in in = { .forge = f, .event = event, .body = body, .len = strlen(body) };
	return in;
}

static void test_github_signature(void **state)
{
	const char *body = "{\"zen\":\"x\"}";
	struct hook_in in = in_of(FORGE_GITHUB, "ping", body);
	struct buf sig = BUF_INIT;
	hook_sign(FORGE_GITHUB, "s3cret", body, strlen(body), &sig);
	/* RFC 2104 HMAC-SHA256, checked against Python's hmac for this input */
	assert_true(str_starts_with(sig.buf, "sha256="));
	in.signature = sig.buf;
	assert_int_equal(hook_verify(&in, "s3cret", 6), 1);
	assert_int_equal(hook_verify(&in, "s3creT", 6), 0);
	assert_int_equal(hook_verify(&in, "", 0), 0);
	in.signature = sig.buf + strlen("sha256="); /* GitHub needs the prefix */
	assert_int_equal(hook_verify(&in, "s3cret", 6), 0);
	in.signature = NULL;
	assert_int_equal(hook_verify(&in, "s3cret", 6), 0);
	in.signature = "sha256=abc";
	assert_int_equal(hook_verify(&in, "s3cret", 6), 0);
	/* upper-case hex is accepted */
	struct buf up = BUF_INIT;
	for (size_t i = 0; i < sig.len; i++)
		buf_addch(&up, i < 7 ? sig.buf[i] : (sig.buf[i] >= 'a' && sig.buf[i] <= 'f' ? sig.buf[i] - 32 : sig.buf[i]));
	in.signature = up.buf;
	assert_int_equal(hook_verify(&in, "s3cret", 6), 1);
	buf_release(&up);
	buf_release(&sig);
}

static void test_known_hmac(void **state)
{
	/* RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?" */
	const char *data = "what do ya want for nothing?";
	struct buf sig = BUF_INIT;
	hook_sign(FORGE_GITEA, "Jefe", data, strlen(data), &sig);
	assert_string_equal(sig.buf, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	buf_release(&sig);
}

static void test_gitlab_token(void **state)
{
	struct hook_in in = in_of(FORGE_GITLAB, "Push Hook", "{}");
	in.signature = "tok";
	assert_int_equal(hook_verify(&in, "tok", 3), 1);
	assert_int_equal(hook_verify(&in, "tokx", 4), 0);
	assert_int_equal(hook_verify(&in, "to", 2), 0);
}

static void test_github_push(void **state)
{
	const char *body = "{\"ref\":\"refs/heads/main\",\"before\":\"" ZERO "\",\"after\":\"" SHA "\","
			   "\"repository\":{\"full_name\":\"o/r\",\"clone_url\":\"https://h/o/r.git\"},"
			   "\"sender\":{\"login\":\"al\"}}";
	struct hook_in in = in_of(FORGE_GITHUB, "push", body);
	struct hook_event ev;
	struct buf err = BUF_INIT;
	assert_int_equal(hook_parse(&in, &ev, &err), 0);
	assert_string_equal(ev.kind, "push");
	assert_string_equal(ev.ref, "refs/heads/main");
	assert_string_equal(ev.sha, SHA);
	assert_string_equal(ev.before, ""); /* a new branch */
	assert_string_equal(ev.actor, "al");
	assert_string_equal(ev.repo_full_name, "o/r");
	assert_int_equal(ev.deleted, 0);
	assert_non_null(ev.payload);
	hook_event_release(&ev);
	buf_release(&err);
}

static void test_deletion_and_errors(void **state)
{
	struct hook_event ev;
	struct buf err = BUF_INIT;
	const char *del = "{\"ref\":\"refs/tags/v1\",\"before\":\"" SHA "\",\"after\":\"" ZERO "\"}";
	struct hook_in in = in_of(FORGE_GITEA, "push", del);
	assert_int_equal(hook_parse(&in, &ev, &err), 0);
	assert_int_equal(ev.deleted, 1);
	hook_event_release(&ev);

	const char *bad[] = { "", "{", "[]", "{\"ref\":1,\"after\":\"x\"}", "{\"ref\":\"r\"}",
			      "{\"a\":1,\"a\":2}" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		in = in_of(FORGE_GITHUB, "push", bad[i]);
		buf_reset(&err);
		assert_int_equal(hook_parse(&in, &ev, &err), KILN_EINVAL);
		assert_true(err.len > 0);
		assert_null(ev.kind);
	}
	in = in_of(FORGE_GITHUB, NULL, "{}");
	buf_reset(&err);
	assert_int_equal(hook_parse(&in, &ev, &err), KILN_EINVAL);
	assert_non_null(strstr(err.buf, "X-GitHub-Event"));
	buf_release(&err);
}

/* found by fuzz_webhook: a GitLab push without "commits" leaked the array */
static void test_gitlab_push_no_commits(void **state)
{
	const char *body = "{\"ref\":\"refs/heads/x\",\"before\":\"" ZERO "\",\"after\":\"" SHA "\"}";
	struct hook_in in = in_of(FORGE_GITLAB, "Push Hook", body);
	struct hook_event ev;
	struct buf err = BUF_INIT;
	assert_int_equal(hook_parse(&in, &ev, &err), 0);
	assert_true(json_is_array(json_object_get(ev.payload, "commits")));
	assert_int_equal(ev.payload->refcount, 1);
	assert_int_equal(json_object_get(ev.payload, "commits")->refcount, 1);
	hook_event_release(&ev);
	buf_release(&err);
}

static void test_pull_requests(void **state)
{
	struct hook_event ev;
	struct buf err = BUF_INIT;
	const char *fork = "{\"action\":\"reopened\",\"number\":4,\"pull_request\":{\"merged\":false,"
			   "\"head\":{\"sha\":\"" SHA "\",\"repo\":{\"full_name\":\"m/r\"}},"
			   "\"base\":{\"repo\":{\"full_name\":\"o/r\"}}}}";
	struct hook_in in = in_of(FORGE_GITHUB, "pull_request", fork);
	assert_int_equal(hook_parse(&in, &ev, &err), 0);
	assert_string_equal(ev.kind, "pull_request");
	assert_string_equal(ev.action, "reopened");
	assert_string_equal(ev.ref, "refs/pull/4/merge");
	assert_int_equal(ev.fork, 1);
	hook_event_release(&ev);

	const char *labeled = "{\"action\":\"labeled\",\"number\":4,\"pull_request\":{}}";
	in = in_of(FORGE_GITHUB, "pull_request", labeled);
	assert_int_equal(hook_parse(&in, &ev, &err), 0);
	assert_null(ev.kind);
	hook_event_release(&ev);

	const char *mr = "{\"user\":{\"username\":\"u\"},\"project\":{\"path_with_namespace\":\"o/r\"},"
			 "\"object_attributes\":{\"iid\":2,\"action\":\"update\",\"oldrev\":\"" ZERO "\","
			 "\"source_project_id\":5,\"target_project_id\":6,\"last_commit\":{\"id\":\"" SHA "\"}}}";
	in = in_of(FORGE_GITLAB, "Merge Request Hook", mr);
	assert_int_equal(hook_parse(&in, &ev, &err), 0);
	assert_string_equal(ev.action, "synchronize");
	assert_int_equal(ev.fork, 1);
	assert_int_equal(ev.number, 2);
	assert_string_equal(json_string_value(json_object_get(ev.payload, "action")), "synchronize");
	hook_event_release(&ev);

	/* a GitLab update without new commits (title edit) starts nothing */
	const char *edit = "{\"object_attributes\":{\"iid\":2,\"action\":\"update\"}}";
	in = in_of(FORGE_GITLAB, "Merge Request Hook", edit);
	assert_int_equal(hook_parse(&in, &ev, &err), 0);
	assert_null(ev.kind);
	hook_event_release(&ev);
	buf_release(&err);
}

static void test_poll_diff(void **state)
{
	struct strvec old = STRVEC_INIT, now = STRVEC_INIT, payloads = STRVEC_INIT;
	strvec_push(&old, "refs/heads/a=1111");
	strvec_push(&old, "refs/heads/b=2222");
	strvec_push(&old, "refs/tags/v1=3333");
	strvec_push(&now, "refs/heads/a=1111");
	strvec_push(&now, "refs/heads/b=4444");
	strvec_push(&now, "refs/heads/c=5555");
	struct event_row *evs;
	size_t n;
	poll_diff(&old, &now, "o/r", "/x", 7, &evs, &n, &payloads);
	assert_int_equal(n, 3);
	assert_string_equal(evs[0].ref, "refs/heads/b");
	assert_string_equal(evs[0].before, "2222");
	assert_string_equal(evs[0].sha, "4444");
	assert_string_equal(evs[1].ref, "refs/heads/c");
	assert_string_equal(evs[1].before, "");
	assert_int_equal(evs[1].deleted, 0);
	assert_string_equal(evs[2].ref, "refs/tags/v1");
	assert_int_equal(evs[2].deleted, 1);
	assert_int_equal(evs[2].repo_id, 7);
	free(evs);
	strvec_clear(&old);
	strvec_clear(&now);
	strvec_clear(&payloads);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_github_signature),
		cmocka_unit_test(test_known_hmac),
		cmocka_unit_test(test_gitlab_token),
		cmocka_unit_test(test_github_push),
		cmocka_unit_test(test_deletion_and_errors),
		cmocka_unit_test(test_gitlab_push_no_commits),
		cmocka_unit_test(test_pull_requests),
		cmocka_unit_test(test_poll_diff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
