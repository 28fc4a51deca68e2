/* client: HTTP calls of the agent on the thread pool (see client.h). */
#include "base/kiln.h"
#include "agent/client.h"
#include "deploy/webhook.h"

static size_t to_file(const char *data, size_t len, void *arg)
{
	return fwrite(data, 1, len, arg);
}

static void call_work(uv_work_t *w)
{
	struct acall *c = w->data;
	struct webhook_req r = { c->method, c->url, c->token, c->body, NULL, c->timeout_ms,
				 c->out ? to_file : NULL, c->out };
	c->status = webhook_fetch(&r, &c->resp, c->err, sizeof(c->err));
}

static void call_done(uv_work_t *w, int status)
{
	struct acall *c = w->data;
	c->busy = 0;
	if (status) {
		c->status = -1;
		snprintf(c->err, sizeof(c->err), "%s", uv_strerror(status));
	}
	c->cb(c);
}

int acall_start(uv_loop_t *loop, struct acall *c, const char *method, char *url, char *body,
		long timeout_ms, acall_cb cb, void *arg)
{
	c->method = method;
	c->url = url;
	c->body = body;
	c->timeout_ms = timeout_ms;
	c->cb = cb;
	c->arg = arg;
	c->status = 0;
	c->err[0] = '\0';
	buf_reset(&c->resp);
	c->work.data = c;
	c->busy = 1;
	int r = uv_queue_work(loop, &c->work, call_work, call_done);
	if (r)
		c->busy = 0;
	return r;
}

void acall_reset(struct acall *c)
{
	free(c->url);
	free(c->body);
	c->url = c->body = NULL;
	buf_release(&c->resp);
	c->out = NULL;
}
