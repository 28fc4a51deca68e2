/* webhook: JSON POST through a lazily loaded libcurl (see webhook.h). */
#include "base/kiln.h"
#include "deploy/webhook.h"

#include <curl/curl.h>
#include <dlfcn.h>

struct curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	const char *(*easy_strerror)(CURLcode c);
};

/* immutable once webhook_init returned: the only global, read-only after */
static struct curl_api api;
static int loaded;

static int sym(void *h, const char *name, void *out)
{
	void *p = dlsym(h, name);
	memcpy(out, &p, sizeof(p));
	return p ? 0 : -1;
}

int webhook_init(char *err, unsigned long errlen)
{
	if (loaded)
		return 0;
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load libcurl: %s", dlerror());
		return -1;
	}
	if (sym(h, "curl_global_init", &api.global_init) || sym(h, "curl_easy_init", &api.easy_init) ||
	    sym(h, "curl_easy_setopt", &api.easy_setopt) ||
	    sym(h, "curl_easy_perform", &api.easy_perform) ||
	    sym(h, "curl_easy_getinfo", &api.easy_getinfo) ||
	    sym(h, "curl_easy_cleanup", &api.easy_cleanup) ||
	    sym(h, "curl_slist_append", &api.slist_append) ||
	    sym(h, "curl_slist_free_all", &api.slist_free_all) ||
	    sym(h, "curl_easy_strerror", &api.easy_strerror)) {
		snprintf(err, errlen, "libcurl lacks a needed function: %s", dlerror());
		dlclose(h);
		return -1;
	}
	api.global_init(CURL_GLOBAL_DEFAULT);
	loaded = 1;
	return 0;
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

int webhook_post(const char *url, const char *body)
{
	char err[8];
	return webhook_post_err(url, body, err, sizeof(err));
}

int webhook_post_err(const char *url, const char *body, char *err, size_t errlen)
{
	if (!loaded) {
		snprintf(err, errlen, "libcurl is not loaded");
		return -1;
	}
	CURL *c = api.easy_init();
	if (!c) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	struct curl_slist *h = api.slist_append(NULL, "Content-Type: application/json");
	api.easy_setopt(c, CURLOPT_URL, url);
	api.easy_setopt(c, CURLOPT_HTTPHEADER, h);
	api.easy_setopt(c, CURLOPT_POSTFIELDS, body);
	api.easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	api.easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	CURLcode r = api.easy_perform(c);
	long code = 0;
	api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	api.slist_free_all(h);
	api.easy_cleanup(c);
	if (r != CURLE_OK) {
		snprintf(err, errlen, "%s", api.easy_strerror(r));
		return -1;
	}
	if (code < 200 || code >= 300) {
		snprintf(err, errlen, "HTTP %ld", code);
		return -1;
	}
	return 0;
}

struct fetch_sink {
	const struct webhook_req *r;
	struct buf *resp;
};

static size_t fetch_write(char *p, size_t size, size_t n, void *ud)
{
	struct fetch_sink *fs = ud;
	if (fs->r->on_data)
		return fs->r->on_data(p, size * n, fs->r->arg);
	if (fs->resp->len + size * n > 64u * 1024 * 1024)
		return 0; /* over any answer the API gives */
	buf_add(fs->resp, p, size * n);
	return size * n;
}

long webhook_fetch(const struct webhook_req *r, struct buf *resp, char *err, size_t errlen)
{
	if (!loaded && webhook_init(err, errlen) < 0)
		return -1;
	CURL *c = api.easy_init();
	if (!c) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	struct curl_slist *h = api.slist_append(NULL, "Content-Type: application/json");
	char *accept = xstrfmt("Accept: %s", r->accept ? r->accept : "application/json");
	h = api.slist_append(h, accept);
	char *auth = r->token ? xstrfmt("Authorization: Bearer %s", r->token) : NULL;
	if (auth)
		h = api.slist_append(h, auth);
	struct fetch_sink fs = { r, resp };
	api.easy_setopt(c, CURLOPT_URL, r->url);
	api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	api.easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (r->body)
		api.easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
	else if (!strcmp(r->method, "GET"))
		api.easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (r->timeout_ms)
		api.easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	api.easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
	api.easy_setopt(c, CURLOPT_WRITEDATA, &fs);
	CURLcode rc = api.easy_perform(c);
	long code = 0;
	api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	api.slist_free_all(h);
	api.easy_cleanup(c);
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(accept);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && r->on_data && code)) {
		snprintf(err, errlen, "%s", api.easy_strerror(rc));
		return -1;
	}
	return code;
}

/* ---- the sender ---- */

struct delivery {
	uv_work_t work;
	uv_timer_t timer; /* closed before the delivery is freed */
	struct webhook_sender *s;
	struct delivery *next, *prev;
	char *url, *body;
	char *token;      /* Authorization: Bearer, or NULL */
	int attempts, ok, in_work;
	char error[256];
	webhook_done_fn done;
	void *arg;
};

struct webhook_sender {
	uv_loop_t *loop;
	int max_attempts;
	uint64_t backoff_ms;
	struct delivery *head;
	size_t pending;   /* deliveries not done */
	size_t live;      /* deliveries not freed (timer handles open) */
	int closing;
	void (*closed)(void *arg);
	void *closed_arg;
};

struct webhook_sender *webhook_sender_new(uv_loop_t *loop, int max_attempts, uint64_t backoff_ms)
{
	struct webhook_sender *s = xcalloc(1, sizeof(*s));
	s->loop = loop;
	s->max_attempts = max_attempts > 0 ? max_attempts : 1;
	s->backoff_ms = backoff_ms;
	return s;
}

size_t webhook_sender_pending(const struct webhook_sender *s)
{
	return s->pending;
}

static void maybe_closed(struct webhook_sender *s)
{
	if (s->closing && !s->live) {
		void (*cb)(void *) = s->closed;
		void *arg = s->closed_arg;
		free(s);
		if (cb)
			cb(arg);
	}
}

static void on_timer_closed(uv_handle_t *h)
{
	struct delivery *d = h->data;
	struct webhook_sender *s = d->s;
	free(d->url);
	free(d->body);
	if (d->token) {
		/* as webhook_fetch does with its header: no token left in freed memory */
		explicit_bzero(d->token, strlen(d->token));
		free(d->token);
	}
	free(d);
	s->live--;
	maybe_closed(s);
}

/* report once and release */
static void finish(struct delivery *d, int ok, const char *why)
{
	struct webhook_sender *s = d->s;
	if (d->prev)
		d->prev->next = d->next;
	else
		s->head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	s->pending--;
	if (d->done)
		d->done(d->arg, ok, d->attempts, why);
	uv_close((uv_handle_t *)&d->timer, on_timer_closed);
}

static void post_work(uv_work_t *w)
{
	struct delivery *d = w->data;
	if (!d->token) {
		d->ok = !webhook_post_err(d->url, d->body, d->error, sizeof(d->error));
		return;
	}
	struct webhook_req r = { .method = "POST", .url = d->url, .token = d->token,
				 .body = d->body, .timeout_ms = 10000 };
	struct buf resp = BUF_INIT;
	long code = webhook_fetch(&r, &resp, d->error, sizeof(d->error));
	d->ok = code >= 200 && code < 300;
	if (code > 0 && !d->ok)
		snprintf(d->error, sizeof(d->error), "HTTP %ld", code);
	buf_release(&resp);
}

static void retry_cb(uv_timer_t *t);
static void post_after(uv_work_t *w, int status);

static void start_attempt(struct delivery *d)
{
	d->in_work = 1;
	d->work.data = d;
	uv_queue_work(d->s->loop, &d->work, post_work, post_after);
}

static void post_after(uv_work_t *w, int status)
{
	struct delivery *d = w->data;
	d->in_work = 0;
	d->attempts++;
	if (status == UV_ECANCELED)
		snprintf(d->error, sizeof(d->error), "cancelled");
	if (d->ok) {
		finish(d, 1, NULL);
	} else if (d->s->closing) {
		finish(d, 0, "stopping");
	} else if (d->attempts >= d->s->max_attempts) {
		finish(d, 0, d->error);
	} else {
		uint64_t wait = d->s->backoff_ms << (d->attempts - 1 < 20 ? d->attempts - 1 : 20);
		uv_timer_start(&d->timer, retry_cb, wait, 0);
	}
}

static void retry_cb(uv_timer_t *t)
{
	start_attempt(t->data);
}

void webhook_sender_post(struct webhook_sender *s, const char *url, const char *body,
			 webhook_done_fn done, void *arg)
{
	webhook_sender_post_token(s, url, NULL, body, done, arg);
}

void webhook_sender_post_token(struct webhook_sender *s, const char *url, const char *token,
			       const char *body, webhook_done_fn done, void *arg)
{
	struct delivery *d = xcalloc(1, sizeof(*d));
	d->s = s;
	d->token = token ? xstrdup(token) : NULL;
	d->url = xstrdup(url);
	d->body = xstrdup(body);
	d->done = done;
	d->arg = arg;
	uv_timer_init(s->loop, &d->timer);
	d->timer.data = d;
	d->next = s->head;
	if (s->head)
		s->head->prev = d;
	s->head = d;
	s->pending++;
	s->live++;
	start_attempt(d);
}

void webhook_sender_close(struct webhook_sender *s, void (*closed)(void *arg), void *arg)
{
	s->closing = 1;
	s->closed = closed;
	s->closed_arg = arg;
	for (struct delivery *d = s->head, *next; d; d = next) {
		next = d->next;
		if (!d->in_work) {
			uv_timer_stop(&d->timer);
			finish(d, 0, "stopping");
		}
	}
	maybe_closed(s);
}
