/*
 * http: the HTTP side of `kiln serve`, library-agnostic. h2o (its libuv
 * build, Debian's libh2o-dev) parses and answers on the server's one libuv
 * loop; no h2o type leaks out of http.c. Handlers are registered with a
 * method and a path pattern (":name" matches one segment) and a minimum
 * role; the router authenticates `Authorization: Bearer` itself
 * (auth_bearer) and answers 401/403 before the handler runs.
 *
 * Replies: a handler answers exactly once, before it returns, with one of
 * the http_reply_* functions (webhooks commit to SQLite first, then reply:
 * an acknowledged event is durable) — or defers its answer (http_defer)
 * for work done off the loop (an Argon2id hash) and answers it later. Long-lived answers (Server-Sent
 * Events, downloads) use http_stream_*: the handler starts the stream and
 * keeps the handle; the stream outlives the handler until it is ended or
 * the client goes away (the `closed` callback, after which the handle is
 * invalid).
 *
 * Limits (struct http_limits): request head and body sizes and the time a
 * client may take to send a whole request (h2o 2.2 uses the same timer for
 * a keep-alive connection waiting for its next request). Over-size bodies
 * are refused with 413 before any handler runs, an over-size head with 431.
 */
#ifndef KILN_HTTP_H
#define KILN_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "base/buf.h"
#include "server/auth.h"

struct srv;      /* the server (serve.c) */
struct http_req; /* one request; valid until the reply (or stream start) */
struct http;     /* the listener, its connections and routes */

/* --- for handlers ----------------------------------------------------- */

const char *http_req_path(const struct http_req *);                    /* without query, decoded */
const char *http_req_param(const struct http_req *, const char *name); /* :name in pattern */
const char *http_req_query(const struct http_req *, const char *name); /* NULL if absent, decoded */
const char *http_req_header(const struct http_req *, const char *name); /* case-insensitive */
const struct buf *http_req_body(const struct http_req *);              /* size-capped by the layer */
const struct principal *http_req_who(const struct http_req *); /* NULL on unauthenticated routes */
/* the peer's address as text ("127.0.0.1"), for logs and rate limits */
const char *http_req_peer(const struct http_req *);

/* answers: JSON (jansson), errors as {"error":{"code":"...","message":"..."}} */
void http_reply_json(struct http_req *, int status, json_t *body /* stolen */);
void http_reply_error(struct http_req *, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void http_reply_raw(struct http_req *, int status, const char *content_type, const void *, size_t);
/* add a response header before replying (copied) */
void http_reply_header(struct http_req *, const char *name, const char *value);

/*
 * Deferred answers. A handler calls http_defer(q) and returns without a
 * reply; q (and its body, params and headers) stays valid until the
 * client goes away. Later, on the loop: http_later_req(l) is the request
 * to answer with one http_reply_* call, or NULL when the client is gone
 * (nothing to answer); then http_later_release(l), exactly once. Copy what
 * a thread-pool job needs from q before queuing it.
 */
struct http_later;
struct http_later *http_defer(struct http_req *q);
struct http_req *http_later_req(struct http_later *l);
void http_later_release(struct http_later *l);

typedef void (*http_handler_fn)(struct srv *, struct http_req *);

/* auth: ROLE_NONE = no token needed (webhooks, /healthz, login); otherwise
 * the router authenticates the Bearer token through auth_bearer() and
 * answers 401/403 itself. Returns 0, or -1 when the pattern is malformed
 * or the table is full. */
int http_route(struct srv *, const char *method, const char *pattern, enum role min_role,
	       http_handler_fn);

/* streamed answers (SSE): start with a status and content type; then
 * write chunks (buffered while the client is slow, up to max_buffered bytes
 * after which the client is dropped: `closed` is called); end finishes it.
 * `closed(arg)` is called once when the client goes away, the stream is
 * dropped (too slow) or the server shuts down — never for a stream the
 * owner ended with http_stream_end. */
struct http_stream;
struct http_stream *http_stream_start(struct http_req *, int status, const char *content_type,
				      size_t max_buffered, void (*closed)(void *arg), void *arg);
/* 0, or -1 when the stream is over its buffer limit (it is then closed) */
int http_stream_write(struct http_stream *, const void *data, size_t len);
void http_stream_end(struct http_stream *);

/*
 * Answer with a file's content, streamed: Content-Length from its size,
 * then one 256 KiB chunk at a time, each read on the libuv thread pool
 * once the client took the previous one (a download costs one chunk of
 * memory, whatever the file's size). Headers added before are sent. 0 once
 * the answer started; -1 with err when the file cannot be opened (nothing
 * was answered: the caller answers). A read error midway ends the answer
 * short of its Content-Length, which the client sees as a failure.
 */
int http_reply_file(struct http_req *q, int status, const char *content_type, const char *path,
		    struct buf *err);

/* --- for serve.c ------------------------------------------------------ */

struct http_limits {
	size_t max_head;           /* request line + headers, bytes */
	size_t max_body;           /* request body, bytes */
	uint64_t request_timeout_ms; /* a whole request (or the next one on a
				      keep-alive connection) must arrive within this */
};
#define HTTP_LIMITS_DEFAULT { 16 * 1024, 1024 * 1024, 10000 }

/*
 * Listen on `addr` ("127.0.0.1:8420", "[::1]:8420", ":8420" for every
 * address) on `loop`; handlers get `srv`. Returns 0, or -1 with a message
 * in err (bad address, port in use).
 */
int http_new(uv_loop_t *loop, struct srv *srv, const char *addr, const struct http_limits *lim,
	     struct http **out, struct buf *err);
/* the port actually bound (for ":0") */
int http_port(const struct http *h);
/* serve.c provides these to the router: the server's http, and the
 * authentication of an Authorization header (auth_bearer on its store) */
struct http *srv_http(struct srv *srv);
int srv_authenticate(struct srv *srv, const char *authorization, struct principal *out);
/* open connections and live streams */
size_t http_connections(const struct http *h);
/* graceful stop: no new connections, keep-alive ends after the current
 * request, streams are ended; `done` runs once every connection has closed
 * or after grace_ms (then the rest are dropped). */
void http_shutdown(struct http *h, uint64_t grace_ms, void (*done)(void *arg), void *arg);
/* free after http_shutdown's done (the loop must still run to close) */
void http_free(struct http *h);

#endif
