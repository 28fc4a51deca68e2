/*
 * hookrecv: one signed webhook delivery per connection. See hookrecv.h.
 * The request is parsed by picohttpparser (shipped inside libh2o, which
 * the server links already); the signature check and the payload parsing
 * are the server's (hook_verify, hook_parse).
 */
#include "base/kiln.h"
#include "deploy/hookrecv.h"
#include "server/hook.h"

#include <strings.h>

/* picohttpparser's API (h2o exports it; its header is not installed) */
struct phr_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path,
		      size_t *path_len, int *minor_version, struct phr_header *headers, size_t *num_headers,
		      size_t last_len);

#define HEAD_MAX (16 * 1024)
#define BODY_MAX (1024 * 1024)
#define REQ_TIMEOUT_MS 10000
#define NHEADERS 64

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	struct hookrecv *h;
	struct buf in;
	char *reply;
	int nopen, done;
	struct conn *next, *prev;
};

struct hookrecv {
	uv_tcp_t tcp;
	const char *secret;
	size_t secret_len;
	hookrecv_fn fn;
	void *arg;
	int port, closing, listener_open;
	struct conn *conns;
};

static void maybe_free(struct hookrecv *h)
{
	if (h->closing && !h->listener_open && !h->conns)
		free(h);
}

static void conn_closed(uv_handle_t *hd)
{
	struct conn *c = hd->data;
	if (--c->nopen)
		return;
	struct hookrecv *h = c->h;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	buf_release(&c->in);
	free(c->reply);
	free(c);
	maybe_free(h);
}

static void conn_close(struct conn *c)
{
	if (c->done)
		return;
	c->done = 1;
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
	uv_close((uv_handle_t *)&c->timer, conn_closed);
}

static void on_written(uv_write_t *w, int status)
{
	(void)status;
	conn_close(w->data);
}

static void reply(struct conn *c, int status, const char *text)
{
	const char *reason = status == 202 ? "Accepted" : status == 200 ? "OK" : status == 401 ? "Unauthorized"
			     : status == 413 ? "Payload Too Large" : "Bad Request";
	c->reply = xstrfmt("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			   "Connection: close\r\n\r\n%s\n",
			   status, reason, strlen(text) + 1, text);
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_buf_t b = uv_buf_init(c->reply, (unsigned)strlen(c->reply));
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0)
		conn_close(c);
}

static const char *header(const struct phr_header *hs, size_t n, const char *name, char *tmp, size_t tmpn)
{
	for (size_t i = 0; i < n; i++)
		if (hs[i].name_len == strlen(name) && !strncasecmp(hs[i].name, name, hs[i].name_len)) {
			snprintf(tmp, tmpn, "%.*s", (int)hs[i].value_len, hs[i].value);
			return tmp;
		}
	return NULL;
}

/* the whole request is in: check and act */
static void handle(struct conn *c, const struct phr_header *hs, size_t nh, const char *method, size_t mlen,
		   const char *body, size_t blen)
{
	struct hookrecv *h = c->h;
	char ev[64], sig[256], alt[256], del[128];
	struct hook_in in = { .body = body, .len = blen };
	if (mlen != 4 || memcmp(method, "POST", 4)) {
		reply(c, 400, "only POST webhook deliveries are accepted here");
		return;
	}
	if ((in.event = header(hs, nh, "x-github-event", ev, sizeof(ev)))) {
		in.forge = FORGE_GITHUB;
		in.signature = header(hs, nh, "x-hub-signature-256", sig, sizeof(sig));
		in.delivery = header(hs, nh, "x-github-delivery", del, sizeof(del));
	} else if ((in.event = header(hs, nh, "x-gitea-event", ev, sizeof(ev))) ||
		   (in.event = header(hs, nh, "x-forgejo-event", ev, sizeof(ev)))) {
		in.forge = FORGE_GITEA;
		in.signature = header(hs, nh, "x-gitea-signature", sig, sizeof(sig));
		if (!in.signature)
			in.signature = header(hs, nh, "x-hub-signature-256", alt, sizeof(alt));
		in.delivery = header(hs, nh, "x-gitea-delivery", del, sizeof(del));
	} else if ((in.event = header(hs, nh, "x-gitlab-event", ev, sizeof(ev)))) {
		in.forge = FORGE_GITLAB;
		in.signature = header(hs, nh, "x-gitlab-token", sig, sizeof(sig));
		in.delivery = header(hs, nh, "x-gitlab-event-uuid", del, sizeof(del));
	} else {
		reply(c, 400, "not a GitHub, Gitea or GitLab delivery (no event header)");
		return;
	}
	if (!hook_verify(&in, h->secret, h->secret_len)) {
		reply(c, 401, "bad or missing signature");
		return;
	}
	struct hook_event e;
	struct buf err = BUF_INIT;
	if (hook_parse(&in, &e, &err) < 0) {
		reply(c, 400, err.buf);
		buf_release(&err);
		return;
	}
	buf_release(&err);
	if (e.kind && !strcmp(e.kind, "push") && !e.deleted) {
		h->fn(h->arg, e.ref);
		reply(c, 202, "fetching the config repository");
	} else
		reply(c, 200, "ignored (not a push)");
	hook_event_release(&e);
}

static void on_alloc(uv_handle_t *hd, size_t hint, uv_buf_t *b)
{
	struct conn *c = hd->data;
	(void)hint;
	buf_grow(&c->in, 16384);
	b->base = c->in.buf + c->in.len;
	b->len = 16384;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = s->data;
	(void)b;
	if (n < 0) {
		conn_close(c);
		return;
	}
	buf_setlen(&c->in, c->in.len + (size_t)n);
	struct phr_header hs[NHEADERS];
	size_t nh = NHEADERS, mlen, plen;
	const char *method, *path;
	int minor;
	int hl = phr_parse_request(c->in.buf, c->in.len, &method, &mlen, &path, &plen, &minor, hs, &nh, 0);
	if (hl == -1) {
		reply(c, 400, "malformed request");
		return;
	}
	if (hl == -2) {
		if (c->in.len > HEAD_MAX)
			reply(c, 413, "request head too large");
		return;
	}
	char cl[32];
	const char *v = header(hs, nh, "content-length", cl, sizeof(cl));
	char *end = NULL;
	unsigned long len = v ? strtoul(v, &end, 10) : 0;
	if (!v || *end || len > BODY_MAX) {
		reply(c, v ? 413 : 400, v ? "body too large" : "a Content-Length is required");
		return;
	}
	if (c->in.len < (size_t)hl + len)
		return;
	handle(c, hs, nh, method, mlen, c->in.buf + hl, len);
}

static void on_timeout(uv_timer_t *t)
{
	conn_close(t->data);
}

static void on_conn(uv_stream_t *srv, int status)
{
	struct hookrecv *h = srv->data;
	if (status < 0 || h->closing)
		return;
	struct conn *c = xcalloc(1, sizeof(*c));
	c->h = h;
	uv_tcp_init(srv->loop, &c->tcp);
	uv_timer_init(srv->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->nopen = 2;
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	if (uv_accept(srv, (uv_stream_t *)&c->tcp) < 0) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_timeout, REQ_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void listener_closed(uv_handle_t *hd)
{
	struct hookrecv *h = hd->data;
	h->listener_open = 0;
	maybe_free(h);
}

int hookrecv_start(uv_loop_t *loop, const char *addr, const char *secret, size_t secret_len, hookrecv_fn fn,
		   void *arg, struct hookrecv **out, struct buf *err)
{
	const char *colon = strrchr(addr, ':');
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || !end || *end || port < 0 || port > 65535) {
		buf_addf(err, "webhook address '%s' is not HOST:PORT", addr);
		return -1;
	}
	char *host = colon == addr ? xstrdup("0.0.0.0") : xstrndup(addr, (size_t)(colon - addr));
	struct sockaddr_storage ss;
	int r = strchr(host, ':') ? uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&ss)
				  : uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&ss);
	free(host);
	if (r < 0) {
		buf_addf(err, "webhook address '%s': %s", addr, uv_strerror(r));
		return -1;
	}
	struct hookrecv *h = xcalloc(1, sizeof(*h));
	h->secret = secret;
	h->secret_len = secret_len;
	h->fn = fn;
	h->arg = arg;
	uv_tcp_init(loop, &h->tcp);
	h->tcp.data = h;
	h->listener_open = 1;
	if ((r = uv_tcp_bind(&h->tcp, (struct sockaddr *)&ss, 0)) < 0 ||
	    (r = uv_listen((uv_stream_t *)&h->tcp, 64, on_conn)) < 0) {
		buf_addf(err, "cannot listen on %s: %s", addr, uv_strerror(r));
		h->closing = 1;
		uv_close((uv_handle_t *)&h->tcp, listener_closed);
		return -1;
	}
	struct sockaddr_storage bound;
	int blen = sizeof(bound);
	if (!uv_tcp_getsockname(&h->tcp, (struct sockaddr *)&bound, &blen))
		h->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
							    : ((struct sockaddr_in *)&bound)->sin_port);
	*out = h;
	return 0;
}

int hookrecv_port(const struct hookrecv *h)
{
	return h ? h->port : 0;
}

void hookrecv_close(struct hookrecv *h)
{
	if (!h || h->closing)
		return;
	h->closing = 1;
	for (struct conn *c = h->conns; c; c = c->next)
		conn_close(c);
	uv_close((uv_handle_t *)&h->tcp, listener_closed);
}
