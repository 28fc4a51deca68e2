/*
 * http: h2o (libuv build) glue: the listener, connections, limits, the
 * request accessors, replies and streams. The router (route.c) decides
 * which handler answers; this file is the only one that sees h2o types.
 */
#include "base/kiln.h"
#include "server/http-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

/* a broken invariant of the handler contract: report and abort */
#define HTTP_BUG(...) \
	do { \
		fprintf(stderr, "kiln: BUG: " __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} while (0)

/* one accepted connection; h2o owns the socket, we count it */
struct conn {
	uv_tcp_t tcp;
	struct http *h;
};

struct root_handler {
	h2o_handler_t super;
	struct http *h;
};

static const char *reason_of(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return status < 400 ? "OK" : "Error";
	}
}

/* a NUL-terminated copy in the request's pool */
static const char *pool_str(h2o_req_t *r, const char *s, size_t len)
{
	char *p = h2o_mem_alloc_pool(&r->pool, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

const char *http_req_path(const struct http_req *q) { return q->path; }
const struct buf *http_req_body(const struct http_req *q) { return &q->body; }
const struct principal *http_req_who(const struct http_req *q) { return q->who_set ? &q->who : NULL; }

const char *http_req_param(const struct http_req *q, const char *name)
{
	for (size_t i = 0; i < q->nparams; i++)
		if (!strcmp(q->param_names[i], name))
			return q->param_values[i];
	return NULL;
}

const char *http_req_header(const struct http_req *q, const char *name)
{
	size_t n = strlen(name);
	const h2o_headers_t *hs = &q->r->headers;
	for (size_t i = 0; i < hs->size; i++) {
		const h2o_iovec_t *k = hs->entries[i].name;
		if (k->len == n && h2o_lcstris(k->base, k->len, name, n))
			return pool_str(q->r, hs->entries[i].value.base, hs->entries[i].value.len);
	}
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* application/x-www-form-urlencoded decoding of s[0..len) into the pool */
static const char *url_decode(h2o_req_t *r, const char *s, size_t len)
{
	char *p = h2o_mem_alloc_pool(&r->pool, len + 1), *o = p;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%' && i + 2 < len && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
			 (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return p;
}

const char *http_req_query(const struct http_req *q, const char *name)
{
	h2o_req_t *r = q->r;
	if (r->query_at == SIZE_MAX)
		return NULL;
	const char *s = r->path.base + r->query_at + 1, *end = r->path.base + r->path.len;
	size_t n = strlen(name);
	while (s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *e = amp ? amp : end;
		const char *eq = memchr(s, '=', (size_t)(e - s));
		const char *kend = eq ? eq : e;
		if ((size_t)(kend - s) == n && !memcmp(s, name, n))
			return eq ? url_decode(r, eq + 1, (size_t)(e - eq - 1)) : "";
		s = e + 1;
	}
	return NULL;
}

const char *http_req_peer(const struct http_req *q)
{
	struct sockaddr_storage ss;
	char *out = h2o_mem_alloc_pool(&q->r->pool, INET6_ADDRSTRLEN);
	socklen_t n = q->r->conn->callbacks->get_peername(q->r->conn, (struct sockaddr *)&ss);
	out[0] = '\0';
	if (n && ss.ss_family == AF_INET)
		uv_ip4_name((struct sockaddr_in *)&ss, out, INET6_ADDRSTRLEN);
	else if (n && ss.ss_family == AF_INET6)
		uv_ip6_name((struct sockaddr_in6 *)&ss, out, INET6_ADDRSTRLEN);
	return out;
}

void http_reply_header(struct http_req *q, const char *name, const char *value)
{
	h2o_req_t *r = q->r;
	size_t n = strlen(name), v = strlen(value);
	char *lname = h2o_mem_alloc_pool(&r->pool, n);
	for (size_t i = 0; i < n; i++)
		lname[i] = (char)h2o_tolower(name[i]);
	h2o_add_header_by_str(&r->pool, &r->res.headers, lname, n, 0, NULL, pool_str(r, value, v), v);
}

static void begin(struct http_req *q, int status, const char *content_type)
{
	h2o_req_t *r = q->r;
	if (q->replied)
		HTTP_BUG("http: second reply to %s %s", q->method, q->path);
	q->replied = 1;
	q->status = status;
	r->res.status = status;
	r->res.reason = reason_of(status);
	h2o_add_header(&r->pool, &r->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
		       strlen(content_type));
	/* no-store unless the handler chose (static files of the UI) */
	if (h2o_find_header_by_str(&r->res.headers, H2O_STRLIT("cache-control"), -1) == -1)
		h2o_add_header(&r->pool, &r->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
			       H2O_STRLIT("no-store"));
}

void http_reply_raw(struct http_req *q, int status, const char *content_type, const void *data,
		    size_t len)
{
	begin(q, status, content_type);
	h2o_send_inline(q->r, data, len);
}

void http_reply_json(struct http_req *q, int status, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (!s) {
		http_reply_error(q, 500, "internal", "cannot encode the answer");
		return;
	}
	size_t n = strlen(s);
	begin(q, status, "application/json");
	char *nl = h2o_mem_alloc_pool(&q->r->pool, n + 1);
	memcpy(nl, s, n);
	nl[n] = '\n';
	free(s);
	h2o_send_inline(q->r, nl, n + 1);
}

void http_reply_error(struct http_req *q, int status, const char *code, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	json_t *o = json_pack("{s:{s:s,s:s%}}", "error", "code", code, "message", msg.buf, msg.len);
	buf_release(&msg);
	http_reply_json(q, status, o);
}

/* --- streams ---------------------------------------------------------- */

struct http_stream {
	h2o_generator_t gen;   /* first: h2o hands it back */
	h2o_req_t *r;
	struct http *h;
	struct buf pending;    /* written, not yet handed to h2o */
	struct buf sending;    /* handed to h2o, valid until proceed */
	size_t max_buffered;
	int inflight;          /* waiting for proceed */
	int ending;            /* end requested: FINAL after pending */
	int failed;            /* over the buffer limit: ERROR at proceed */
	void (*closed)(void *arg);
	void (*drained)(void *arg); /* the client took everything: write more */
	void *arg;
	struct http_stream *prev, *next; /* h->streams */
};

static void stream_unlink_free(struct http_stream *st)
{
	struct http *h = st->h;
	if (st->prev)
		st->prev->next = st->next;
	else
		h->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	h->nstreams--;
	buf_release(&st->pending);
	buf_release(&st->sending);
	free(st);
}

/* the stream is over (ended, failed or the client left): tell the owner once */
static void stream_finish(struct http_stream *st)
{
	void (*closed)(void *) = st->closed;
	void *arg = st->arg;
	stream_unlink_free(st);
	if (closed)
		closed(arg);
}

static void stream_flush(struct http_stream *st)
{
	if (st->inflight)
		return;
	if (st->failed) {
		h2o_send(st->r, NULL, 0, H2O_SEND_STATE_ERROR);
		stream_finish(st);
		return;
	}
	if (st->pending.len) {
		struct buf t = st->sending;
		st->sending = st->pending;
		st->pending = t;
		buf_reset(&st->pending);
		h2o_iovec_t v = h2o_iovec_init(st->sending.buf, st->sending.len);
		st->inflight = 1;
		h2o_send(st->r, &v, 1, H2O_SEND_STATE_IN_PROGRESS);
		return;
	}
	if (st->ending) {
		h2o_send(st->r, NULL, 0, H2O_SEND_STATE_FINAL);
		stream_finish(st);
	}
}

static void stream_proceed(h2o_generator_t *g, h2o_req_t *r)
{
	struct http_stream *st = (struct http_stream *)g;
	st->inflight = 0;
	buf_reset(&st->sending);
	if (!st->pending.len && !st->ending && !st->failed && st->drained) {
		st->drained(st->arg); /* it writes (now or later) or ends the stream */
		return;
	}
	stream_flush(st);
}

static void stream_stop(h2o_generator_t *g, h2o_req_t *r)
{
	stream_finish((struct http_stream *)g);
}

static struct http_stream *stream_new(struct http_req *q, int status, const char *content_type,
				      size_t max_buffered, void (*closed)(void *arg),
				      void (*drained)(void *arg), void *arg, int64_t length)
{
	struct http_stream *st = xcalloc(1, sizeof(*st));
	struct http *h = q->h;
	st->gen.proceed = stream_proceed;
	st->gen.stop = stream_stop;
	st->r = q->r;
	st->h = h;
	st->max_buffered = max_buffered;
	st->closed = closed;
	st->drained = drained;
	st->arg = arg;
	buf_init(&st->pending, 0);
	buf_init(&st->sending, 0);
	st->next = h->streams;
	if (h->streams)
		h->streams->prev = st;
	h->streams = st;
	h->nstreams++;
	begin(q, status, content_type);
	if (length >= 0)
		q->r->res.content_length = (size_t)length;
	h2o_start_response(q->r, &st->gen);
	/* send the head now so the client sees the stream open */
	st->inflight = 1;
	h2o_send(q->r, NULL, 0, H2O_SEND_STATE_IN_PROGRESS);
	return st;
}

struct http_stream *http_stream_start(struct http_req *q, int status, const char *content_type,
				      size_t max_buffered, void (*closed)(void *arg), void *arg)
{
	return stream_new(q, status, content_type, max_buffered, closed, NULL, arg, -1);
}

int http_stream_write(struct http_stream *st, const void *data, size_t len)
{
	if (st->failed || st->ending)
		return -1;
	if (st->pending.len + len > st->max_buffered) {
		st->failed = 1;
		stream_flush(st);
		return -1;
	}
	buf_add(&st->pending, data, len);
	stream_flush(st);
	return 0;
}

void http_stream_end(struct http_stream *st)
{
	st->closed = NULL; /* the owner knows */
	st->ending = 1;
	stream_flush(st);
}

/* --- files ------------------------------------------------------------- */

#define FILE_CHUNK (256 * 1024)

/* a file answered as a stream: one chunk read on the thread pool each
 * time the client took the last one, so memory stays at one chunk per
 * download and the loop never waits for the disk */
struct file_reply {
	uv_fs_t req;
	uv_loop_t *loop;
	struct http_stream *st; /* NULL once the stream is over */
	int fd;
	char *chunk;
	int64_t off, size;
	int reading;            /* a read is on the thread pool */
	int want;               /* drained while reading: read again after */
};

static void file_free(struct file_reply *f)
{
	close(f->fd);
	free(f->chunk);
	free(f);
}

static void file_read_done(uv_fs_t *req);

static void file_drained(void *arg)
{
	struct file_reply *f = arg;
	if (f->reading) {
		f->want = 1;
		return;
	}
	if (f->off >= f->size) {
		http_stream_end(f->st);
		file_free(f);
		return;
	}
	size_t n = f->size - f->off < FILE_CHUNK ? (size_t)(f->size - f->off) : FILE_CHUNK;
	uv_buf_t b = uv_buf_init(f->chunk, (unsigned)n);
	f->req.data = f;
	f->reading = 1;
	int rc = uv_fs_read(f->loop, &f->req, f->fd, &b, 1, f->off, file_read_done);
	if (rc < 0) {
		f->reading = 0;
		fprintf(stderr, "kiln serve: cannot read a file being sent: %s\n", uv_strerror(rc));
		http_stream_end(f->st); /* short of Content-Length: the client sees it */
		file_free(f);
	}
}

static void file_read_done(uv_fs_t *req)
{
	struct file_reply *f = req->data;
	ssize_t n = req->result;
	uv_fs_req_cleanup(req);
	if (f->st && n > 0) {
		f->off += n;
		http_stream_write(f->st, f->chunk, (size_t)n); /* may call file_closed */
	} else if (f->st) {
		fprintf(stderr, "kiln serve: cannot read a file being sent: %s\n",
			n < 0 ? uv_strerror((int)n) : "it became shorter");
		http_stream_end(f->st);
		f->st = NULL;
	}
	f->reading = 0;
	if (!f->st) {
		file_free(f);
	} else if (f->want) {
		f->want = 0;
		file_drained(f);
	}
}

static void file_closed(void *arg)
{
	struct file_reply *f = arg;
	f->st = NULL; /* the client left (or the server stops) */
	if (!f->reading)
		file_free(f);
}

int http_reply_file(struct http_req *q, int status, const char *content_type, const char *path,
		    struct buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		buf_addf(err, "cannot open '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		buf_addf(err, "'%s' is not a regular file", path);
		close(fd);
		return -1;
	}
	struct file_reply *f = xcalloc(1, sizeof(*f));
	f->loop = q->h->loop;
	f->fd = fd;
	f->size = sb.st_size;
	f->chunk = xmalloc(FILE_CHUNK);
	/* the first proceed (the head sent) asks for the first chunk */
	f->st = stream_new(q, status, content_type, 2 * FILE_CHUNK, file_closed, file_drained, f,
			   f->size);
	return 0;
}

/* --- the handler h2o calls -------------------------------------------- */

static size_t head_size(const h2o_req_t *r)
{
	size_t n = r->method.len + r->path.len + 16;
	for (size_t i = 0; i < r->headers.size; i++)
		n += r->headers.entries[i].name->len + r->headers.entries[i].value.len + 4;
	return n;
}

static int on_req(h2o_handler_t *self, h2o_req_t *r)
{
	struct http *h = ((struct root_handler *)self)->h;
	struct http_req *q = h2o_mem_alloc_pool(&r->pool, sizeof(*q));
	memset(q, 0, sizeof(*q));
	q->r = r;
	q->h = h;
	q->method = pool_str(r, r->method.base, r->method.len);
	q->path = pool_str(r, r->path_normalized.base, r->path_normalized.len);
	/* the body is borrowed from h2o's buffer (valid for the request) */
	q->body.buf = r->entity.base ? r->entity.base : (char *)"";
	q->body.len = r->entity.base ? r->entity.len : 0;
	q->body.alloc = 0;
	h->requests++;
	if (head_size(r) > h->lim.max_head) {
		http_reply_error(q, 431, "head_too_large", "request head over %zu bytes",
				 h->lim.max_head);
		return 0;
	}
	if (r->entity.base && memchr(r->entity.base, '\0', r->entity.len)) {
		/* bodies are text (JSON, forms): a NUL would cut them short */
		http_reply_error(q, 400, "bad_body", "request body contains a NUL byte");
		return 0;
	}
	if (r->entity.base) {
		/* NUL-terminate inside the pool so handlers may treat it as a string */
		char *copy = h2o_mem_alloc_pool(&r->pool, r->entity.len + 1);
		memcpy(copy, r->entity.base, r->entity.len);
		copy[r->entity.len] = '\0';
		q->body.buf = copy;
	}
	http__dispatch(h, q);
	if (!q->replied && !q->later)
		HTTP_BUG("http: %s %s got no reply", q->method, q->path);
	return 0;
}

/* --- deferred answers ------------------------------------------------- */

struct http_later {
	struct http_req *q; /* NULL once h2o disposed the request */
	int released;       /* the owner is done with it */
};

/* h2o disposes the request (answered, or the client went away) */
static void later_disposed(void *p)
{
	struct http_later *l = *(struct http_later **)p;
	l->q = NULL;
	if (l->released)
		free(l);
}

struct http_later *http_defer(struct http_req *q)
{
	if (q->replied || q->later)
		HTTP_BUG("http: %s %s deferred after a reply", q->method, q->path);
	struct http_later *l = xcalloc(1, sizeof(*l));
	l->q = q;
	/* linked to the request's pool: later_disposed runs when h2o clears it */
	struct http_later **ref = h2o_mem_alloc_shared(&q->r->pool, sizeof(*ref), later_disposed);
	*ref = l;
	q->later = l;
	return l;
}

struct http_req *http_later_req(struct http_later *l)
{
	return l->q && !l->q->replied ? l->q : NULL;
}

void http_later_release(struct http_later *l)
{
	if (l->released)
		HTTP_BUG("http: deferred answer released twice");
	if (l->q && !l->q->replied)
		HTTP_BUG("http: %s %s: deferred answer released without a reply", l->q->method,
			 l->q->path);
	l->released = 1;
	if (!l->q)
		free(l);
}

/* --- connections ------------------------------------------------------ */

static void conn_closed(uv_handle_t *handle)
{
	struct conn *c = (struct conn *)handle;
	c->h->nconns--;
	free(c);
}

static void on_accept(uv_stream_t *listener, int status)
{
	struct http *h = listener->data;
	if (status != 0 || h->stopping)
		return;
	struct conn *c = xcalloc(1, sizeof(*c));
	c->h = h;
	uv_tcp_init(listener->loop, &c->tcp);
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
		uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	h->nconns++;
	h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, conn_closed);
	h2o_accept(&h->actx, sock);
}

static int parse_addr(const char *addr, struct sockaddr_storage *ss, struct buf *err)
{
	const char *colon = strrchr(addr, ':');
	if (!colon || !colon[1])
		goto bad;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		goto bad;
	char host[256];
	size_t hl = (size_t)(colon - addr);
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		if (uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)ss))
			goto bad;
		return 0;
	}
	if (!hl) {
		uv_ip4_addr("0.0.0.0", (int)port, (struct sockaddr_in *)ss);
		return 0;
	}
	if (!uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss))
		return 0;
bad:
	buf_addf(err, "bad listen address '%s' (expected HOST:PORT, e.g. 127.0.0.1:8420)", addr);
	return -1;
}

int http_new(uv_loop_t *loop, struct srv *srv, const char *addr, const struct http_limits *lim,
	     struct http **out, struct buf *err)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (parse_addr(addr, &ss, err) || h2o_dl_load(err))
		return -1;
	struct http *h = xcalloc(1, sizeof(*h));
	h->loop = loop;
	h->srv = srv;
	h->lim = *lim;
	h2o_config_init(&h->conf);
	h->conf.server_name = h2o_iovec_init(H2O_STRLIT("kiln"));
	h->conf.max_request_entity_size = lim->max_body;
	h->conf.http1.req_timeout = lim->request_timeout_ms;
	h->conf.http1.upgrade_to_http2 = 0;
	h->conf.http2.idle_timeout = lim->request_timeout_ms;
	h2o_hostconf_t *host =
		h2o_config_register_host(&h->conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
	struct root_handler *rh = (struct root_handler *)h2o_create_handler(pc, sizeof(*rh));
	rh->super.on_req = on_req;
	rh->h = h;
	h2o_context_init(&h->ctx, loop, &h->conf);
	h->actx.ctx = &h->ctx;
	h->actx.hosts = h->conf.hosts;

	uv_tcp_init(loop, &h->listener);
	h->listener.data = h;
	int r = uv_tcp_bind(&h->listener, (struct sockaddr *)&ss, 0);
	if (!r)
		r = uv_listen((uv_stream_t *)&h->listener, 511, on_accept);
	if (r) {
		buf_addf(err, "cannot listen on %s: %s", addr, uv_strerror(r));
		uv_close((uv_handle_t *)&h->listener, NULL);
		h->failed = 1;
		*out = h;
		return -1;
	}
	*out = h;
	return 0;
}

int http_port(const struct http *h)
{
	struct sockaddr_storage ss;
	int n = sizeof(ss);
	if (uv_tcp_getsockname(&h->listener, (struct sockaddr *)&ss, &n))
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

size_t http_connections(const struct http *h) { return h->nconns; }

static void shutdown_check(uv_timer_t *t)
{
	struct http *h = t->data;
	if (h->nconns && now_ns() < h->deadline_ns)
		return;
	uv_timer_stop(t);
	if (h->done) {
		void (*done)(void *) = h->done;
		h->done = NULL;
		done(h->done_arg);
	}
}

void http_shutdown(struct http *h, uint64_t grace_ms, void (*done)(void *arg), void *arg)
{
	if (h->stopping)
		return;
	h->stopping = 1;
	h->done = done;
	h->done_arg = arg;
	h->deadline_ns = now_ns() + grace_ms * 1000000ull;
	if (!h->failed)
		uv_close((uv_handle_t *)&h->listener, NULL);
	/* end every stream; its owner hears of it through `closed` (after
	 * which it must not touch the stream) */
	for (struct http_stream *st = h->streams, *next; st; st = next) {
		next = st->next;
		void (*closed)(void *) = st->closed;
		void *owner = st->arg;
		http_stream_end(st);
		if (closed)
			closed(owner);
	}
	h2o_context_request_shutdown(&h->ctx);
	uv_timer_init(h->loop, &h->grace);
	h->grace.data = h;
	uv_timer_start(&h->grace, shutdown_check, 0, 20);
}

static void grace_closed(uv_handle_t *handle)
{
	struct http *h = handle->data;
	/* request_shutdown armed HTTP/2's graceful-shutdown timer; dispose
	 * asserts that no timer is pending */
	if (h2o_timeout_is_linked(&h->ctx.http2._graceful_shutdown_timeout))
		h2o_timeout_unlink(&h->ctx.http2._graceful_shutdown_timeout);
	if (!h->nconns) {
		/* h2o's context owns timers on the loop; dispose closes them */
		h2o_context_dispose(&h->ctx);
		h2o_config_dispose(&h->conf);
		free(h);
	}
	/* connections left after the grace period: the process exits with
	 * them; h2o's state stays reachable (no leak report), never freed
	 * under a live socket */
}

void http_free(struct http *h)
{
	if (!h)
		return;
	if (!h->stopping) {
		if (!h->failed)
			uv_close((uv_handle_t *)&h->listener, NULL);
		h2o_context_dispose(&h->ctx);
		h2o_config_dispose(&h->conf);
		free(h);
		return;
	}
	uv_close((uv_handle_t *)&h->grace, grace_closed);
}
