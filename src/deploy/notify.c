/*
 * notify: deploy notifications. POST a JSON payload ({"text": ...} so Slack
 * accepts it, plus app/event/release fields for generic receivers) to each
 * webhook on the libuv thread pool, with retries and back-off. Nothing here
 * can delay a rollback: the loop thread only queues the work.
 */
#include "base/kiln.h"
#include "deploy/ctl.h"

#include "deploy/webhook.h"
#include <unistd.h>

struct note {
	uv_work_t work;
	struct strvec urls;
	char *body;
	char *app;
	int delivered;
};

static void work(uv_work_t *w)
{
	struct note *n = w->data;
	for (size_t i = 0; i < n->urls.nr; i++)
		for (int attempt = 0; attempt < 4; attempt++) {
			if (!webhook_post(n->urls.v[i], n->body)) {
				n->delivered++;
				break;
			}
			usleep(200000u << attempt);
		}
}

static void after(uv_work_t *w, int status)
{
	struct note *n = w->data;
	if ((size_t)n->delivered < n->urls.nr)
		fprintf(stderr, "deployd: %s: %zu of %zu webhook(s) could not be notified\n", n->app,
			n->urls.nr - (size_t)n->delivered, n->urls.nr);
	strvec_clear(&n->urls);
	free(n->body);
	free(n->app);
	free(n);
}

void deploy__notify(struct dapp *da, const char *event, const char *text)
{
	const struct app *a = da->app;
	if (!a->webhooks.nr)
		return;
	struct note *n = xcalloc(1, sizeof(*n));
	for (size_t i = 0; i < a->webhooks.nr; i++)
		strvec_push(&n->urls, a->webhooks.v[i]);
	struct buf b = BUF_INIT;
	struct buf t = BUF_INIT;
	buf_addf(&t, "[kiln] %s: %s", a->name, text);
	buf_addstr(&b, "{\"text\":");
	buf_add_json_str(&b, t.buf, t.len);
	buf_addstr(&b, ",\"app\":");
	buf_add_json_str(&b, a->name, strlen(a->name));
	buf_addstr(&b, ",\"event\":");
	buf_add_json_str(&b, event, strlen(event));
	buf_addstr(&b, ",\"stable\":");
	const char *st = da->stable_version ? da->stable_version : "";
	buf_add_json_str(&b, st, strlen(st));
	buf_addch(&b, '}');
	buf_release(&t);
	n->body = buf_detach(&b, NULL);
	n->app = xstrdup(a->name);
	n->work.data = n;
	uv_queue_work(da->d->loop, &n->work, work, after);
}
