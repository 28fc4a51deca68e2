/*
 * probe: http and tcp checks over libuv TCP, exec checks through child.c.
 */
#include "base/kiln.h"
#include "deploy/child.h"
#include "deploy/probe.h"

struct probe {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t conn;
	uv_write_t wr;
	int nopen;
	int done;
	int connected;
	int http;
	int want_status;
	char req[512];
	struct buf resp;
	probe_cb cb;
	fetch_cb fcb; /* probe_fetch: read to EOF, hand over the body */
	void *data;
};

static void probe_closed(uv_handle_t *h)
{
	struct probe *p = h->data;
	if (--p->nopen == 0) {
		buf_release(&p->resp);
		free(p);
	}
}

/* probe_fetch's answer: status and body of the complete response */
static void fetch_result(struct probe *p, int ok, const char *detail)
{
	if (!ok) {
		p->fcb(p->data, 0, "", 0, detail);
		return;
	}
	const char *r = p->resp.buf;
	const char *hdr_end = strstr(r, "\r\n\r\n");
	size_t skip = 4;
	if (!hdr_end) {
		hdr_end = strstr(r, "\n\n");
		skip = 2;
	}
	int code = str_starts_with(r, "HTTP/1.") && p->resp.len > 12 ? (int)strtol(r + 9, NULL, 10) : 0;
	if (!code || !hdr_end) {
		p->fcb(p->data, 0, "", 0, "no http response");
		return;
	}
	const char *body = hdr_end + skip;
	p->fcb(p->data, code, body, p->resp.len - (size_t)(body - r), NULL);
}

/*
 * `code` is HAProxy's check status vocabulary (L4OK, L4CON, L4TOUT, L7OK,
 * L7STS, L7RSP, L7TOUT, SOCKERR), so a probe reads the same in kiln's log
 * and status as HAProxy's own checks would; probe_fetch reports only
 * `detail`.
 */
static void finish(struct probe *p, int ok, const char *code, const char *detail)
{
	if (p->done)
		return;
	p->done = 1;
	if (p->fcb) {
		fetch_result(p, ok, detail);
	} else {
		char d[96];
		snprintf(d, sizeof(d), "%s%s%s", code, *detail ? " " : "", detail);
		p->cb(p->data, ok, d);
	}
	uv_close((uv_handle_t *)&p->tcp, probe_closed);
	uv_close((uv_handle_t *)&p->timer, probe_closed);
}

static void on_timeout(uv_timer_t *t)
{
	struct probe *p = t->data;
	finish(p, 0, p->connected && p->http ? "L7TOUT" : "L4TOUT", "timed out");
}

static void check_status(struct probe *p, int eof)
{
	const char *nl = strchr(p->resp.buf, '\n');
	if (!nl && !eof && p->resp.len < 4096)
		return;
	int code = 0;
	if (str_starts_with(p->resp.buf, "HTTP/1.") && p->resp.len > 12)
		code = (int)strtol(p->resp.buf + 9, NULL, 10);
	char detail[32] = "no http status line";
	if (code)
		snprintf(detail, sizeof(detail), "%d", code);
	int ok = p->want_status ? code == p->want_status : code >= 200 && code < 400;
	finish(p, ok, !code ? "L7RSP" : ok ? "L7OK" : "L7STS", detail);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct probe *p = h->data;
	buf_grow(&p->resp, 1024);
	b->base = p->resp.buf + p->resp.len;
	b->len = 1024;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct probe *p = s->data;
	if (p->done)
		return;
	if (n > 0)
		buf_setlen(&p->resp, p->resp.len + (size_t)n);
	if (p->fcb) {
		if (n < 0)
			finish(p, n == UV_EOF, "", uv_strerror((int)n));
		else if (p->resp.len > PROBE_FETCH_MAX)
			finish(p, 0, "", "answer too large");
		return;
	}
	if (n > 0)
		check_status(p, 0);
	else if (n < 0)
		check_status(p, 1);
}

static void on_write(uv_write_t *w, int status)
{
	struct probe *p = w->data;
	if (status < 0)
		finish(p, 0, "SOCKERR", uv_strerror(status));
}

static void on_connect(uv_connect_t *c, int status)
{
	struct probe *p = c->data;
	if (p->done)
		return;
	if (status < 0) {
		finish(p, 0, "L4CON", uv_strerror(status));
		return;
	}
	p->connected = 1;
	if (!p->http && !p->fcb) {
		finish(p, 1, "L4OK", "");
		return;
	}
	uv_buf_t b = uv_buf_init(p->req, (unsigned)strlen(p->req));
	p->wr.data = p;
	if (uv_write(&p->wr, (uv_stream_t *)&p->tcp, &b, 1, on_write) < 0 ||
	    uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read) < 0)
		finish(p, 0, "SOCKERR", "cannot send request");
}

struct exec_probe {
	probe_cb cb;
	void *data;
};

static void exec_done(void *data, int status)
{
	struct exec_probe *e = data;
	char detail[48] = "PROCOK";
	if (status)
		snprintf(detail, sizeof(detail), "PROCERR exit %d", status);
	e->cb(e->data, status == 0, detail);
	free(e);
}

static void start_exec(uv_loop_t *loop, const struct probe_spec *spec, char **env, const char *cwd,
		       probe_cb cb, void *data)
{
	struct exec_probe *e = xmalloc(sizeof(*e));
	e->cb = cb;
	e->data = data;
	struct child_opts o = { spec->command.v, env, cwd, -1, spec->timeout_ms };
	struct buf err = BUF_INIT;
	if (!child_start(loop, &o, exec_done, e, &err)) {
		free(e);
		char d[96];
		snprintf(d, sizeof(d), "PROCERR %s", err.buf);
		cb(data, 0, d);
	}
	buf_release(&err);
}

static void connect_start(uv_loop_t *loop, struct probe *p, const char *path, int port, int timeout_ms);

void probe_start(uv_loop_t *loop, const struct probe_spec *spec, int port, char **env, const char *cwd,
		 probe_cb cb, void *data)
{
	if (spec->kind == PROBE_EXEC) {
		start_exec(loop, spec, env, cwd, cb, data);
		return;
	}
	struct probe *p = xcalloc(1, sizeof(*p));
	p->cb = cb;
	p->data = data;
	p->http = spec->kind == PROBE_HTTP;
	p->want_status = spec->status;
	connect_start(loop, p, spec->path, port, spec->timeout_ms);
}

void probe_fetch(uv_loop_t *loop, int port, const char *path, int timeout_ms, fetch_cb cb, void *data)
{
	struct probe *p = xcalloc(1, sizeof(*p));
	p->fcb = cb;
	p->data = data;
	p->http = 1;
	connect_start(loop, p, path, port, timeout_ms);
}

/* connect, send the GET (http), arm the time limit */
static void connect_start(uv_loop_t *loop, struct probe *p, const char *path, int port, int timeout_ms)
{
	buf_init(&p->resp, 0);
	snprintf(p->req, sizeof(p->req),
		 "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nUser-Agent: kiln-probe\r\nConnection: close\r\n\r\n",
		 path ? path : "/", port);
	uv_tcp_init(loop, &p->tcp);
	uv_timer_init(loop, &p->timer);
	p->tcp.data = p->timer.data = p->conn.data = p;
	p->nopen = 2;
	uv_timer_start(&p->timer, on_timeout, (uint64_t)timeout_ms, 0);
	struct sockaddr_in sa;
	uv_ip4_addr("127.0.0.1", port, &sa);
	int r = uv_tcp_connect(&p->conn, &p->tcp, (const struct sockaddr *)&sa, on_connect);
	if (r < 0)
		finish(p, 0, "L4CON", uv_strerror(r));
}
