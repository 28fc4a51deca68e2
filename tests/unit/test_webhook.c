/* unit tests for src/deploy/webhook.c's sender: retries with back-off on a
 * real loop against a closed loopback port, and closing with a retry pending */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "deploy/webhook.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

struct seen {
	int done, ok, attempts;
	char error[128];
	uint64_t at_ns;
};

static void on_done(void *arg, int ok, int attempts, const char *error)
{
	struct seen *s = arg;
	s->done++;
	s->ok = ok;
	s->attempts = attempts;
	snprintf(s->error, sizeof(s->error), "%s", error ? error : "");
	s->at_ns = now_ns();
}

/* a loopback port nothing listens on (bound, then closed) */
static int dead_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static int setup(void **state)
{
	char err[256];
	(void)state;
	if (webhook_init(err, sizeof(err)) < 0)
		skip(); /* libcurl is a build dependency; say so when it is missing */
	return 0;
}

static void closed(void *arg)
{
	*(int *)arg = 1;
}

static void test_retries_then_gives_up(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct webhook_sender *s = webhook_sender_new(&loop, 3, 50);
	struct seen seen = { 0 };
	char *url = xstrfmt("http://127.0.0.1:%d/hook", dead_port());
	uint64_t t0 = now_ns();
	webhook_sender_post(s, url, "{}", on_done, &seen);
	assert_int_equal(webhook_sender_pending(s), 1);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(seen.done, 1);
	assert_int_equal(seen.ok, 0);
	assert_int_equal(seen.attempts, 3);
	assert_true(strlen(seen.error) > 0);
	/* back-off 50 ms then 100 ms between the three attempts */
	assert_true(seen.at_ns - t0 >= 150 * 1000000ull);
	assert_int_equal(webhook_sender_pending(s), 0);
	int c = 0;
	webhook_sender_close(s, closed, &c);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(c, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(url);
}

static void stop_cb(uv_timer_t *t)
{
	webhook_sender_close(t->data, NULL, NULL);
	uv_close((uv_handle_t *)t, NULL);
}

static void test_close_drops_a_pending_retry(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	/* the second attempt would come 10 s later: closing must not wait for it */
	struct webhook_sender *s = webhook_sender_new(&loop, 5, 10000);
	struct seen seen = { 0 };
	char *url = xstrfmt("http://127.0.0.1:%d/hook", dead_port());
	webhook_sender_post(s, url, "{}", on_done, &seen);
	uv_timer_t t;
	uv_timer_init(&loop, &t);
	t.data = s;
	uv_timer_start(&t, stop_cb, 300, 0);
	uint64_t t0 = now_ns();
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_true(now_ns() - t0 < 5000 * 1000000ull);
	assert_int_equal(seen.done, 1);
	assert_int_equal(seen.ok, 0);
	assert_string_equal(seen.error, "stopping");
	assert_int_equal(uv_loop_close(&loop), 0);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_retries_then_gives_up, setup),
		cmocka_unit_test_setup(test_close_drops_a_pending_retry, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
