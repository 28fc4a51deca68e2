/*
 * http-int: what http.c (h2o glue) and route.c (the router) share. Only
 * these two files include h2o.
 */
#ifndef KILN_HTTP_INT_H
#define KILN_HTTP_INT_H

#include <h2o.h>

#include "server/http.h"

/*
 * libh2o is loaded with dlopen (h2o_dl.c): h2o_dl_load before any h2o
 * call (0, or -1 with err); the token table behind H2O_TOKEN_* is the
 * library's, reached through a pointer set at load.
 */
int h2o_dl_load(struct buf *err);
extern h2o_token_t *h2o_dl_tokens;
#ifndef H2O_DL_IMPL
#define h2o__tokens h2o_dl_tokens
#endif

#define HTTP_MAX_ROUTES 256
#define HTTP_MAX_PARAMS 6

struct route {
	const char *method;
	const char *pattern; /* "/api/v1/runs/:id" */
	enum role min_role;
	http_handler_fn fn;
};

struct http_req {
	h2o_req_t *r;
	struct http *h;
	const char *method, *path;       /* NUL-terminated copies in r->pool */
	struct buf body;                 /* borrowed (alloc 0): r->pool */
	const char *param_names[HTTP_MAX_PARAMS];
	const char *param_values[HTTP_MAX_PARAMS];
	size_t nparams;
	struct principal who;
	int who_set;
	int replied;
	int status;
	struct http_later *later; /* http_defer: the answer comes later */
};

struct http_stream;

struct http {
	uv_loop_t *loop;
	struct srv *srv;
	struct http_limits lim;
	h2o_globalconf_t conf;
	h2o_context_t ctx;
	h2o_accept_ctx_t actx;
	uv_tcp_t listener;
	uv_timer_t grace;          /* shutdown: polls for the last connection */
	struct route routes[HTTP_MAX_ROUTES];
	size_t nroutes;
	size_t nconns;             /* open connections */
	struct http_stream *streams; /* live streams */
	size_t nstreams;
	uint64_t requests;         /* handled, for metrics */
	int failed;                /* listen failed: listener already closing */
	int stopping;
	uint64_t deadline_ns;
	void (*done)(void *arg);
	void *done_arg;
};

/* route.c: find the handler for q (or answer 404/405/401/403) and run it */
void http__dispatch(struct http *h, struct http_req *q);

#endif
