/*
 * server: the controller's unix socket. A client sends one JSON object on
 * one line: {"cmd":"deploy|status|promote|abort|rollback|maintenance|
 * shutdown|ping", "app":..., ...}; the answer is JSON lines: zero or more
 * {"event":"progress","msg":...}, then {"done":true,"exit":N,"msg":...}.
 */
#include "base/kiln.h"
#include "deploy/ctl.h"
#include "deploy/dstore.h"
#include "deploy/haproxy.h"

#include <errno.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#define REQ_MAX 65536

struct client {
	uv_pipe_t pipe;
	struct deployd *d;
	struct buf in;
	struct dapp *waiting; /* rollout this client waits for */
	int done, closing;
};

struct wreq {
	uv_write_t req;
	char *data;
	int close_after;
};

static void client_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	buf_release(&c->in);
	free(c);
}

static void client_close(struct client *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->waiting) {
		deploy__rollout_drop_waiter(c->waiting, c);
		deploy__gitops_drop_waiter(c->waiting, c);
	}
	c->waiting = NULL;
	uv_close((uv_handle_t *)&c->pipe, client_closed);
}

static void on_written(uv_write_t *w, int status)
{
	struct wreq *r = (struct wreq *)w;
	struct client *c = w->data;
	if (r->close_after || status < 0)
		client_close(c);
	free(r->data);
	free(r);
}

void deploy__client_send(struct client *c, const char *json, int done)
{
	if (c->closing || c->done)
		return;
	struct wreq *r = xcalloc(1, sizeof(*r));
	r->data = xstrfmt("%s\n", json);
	r->close_after = done;
	r->req.data = c;
	if (done) {
		c->done = 1;
		if (c->waiting)
			deploy__rollout_drop_waiter(c->waiting, c);
		c->waiting = NULL;
	}
	uv_buf_t b = uv_buf_init(r->data, (unsigned)strlen(r->data));
	if (uv_write(&r->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) < 0) {
		free(r->data);
		free(r);
		client_close(c);
	}
}

void deploy__client_progress(struct client *c, const char *msg)
{
	struct buf b = BUF_INIT;
	buf_addstr(&b, "{\"event\":\"progress\",\"msg\":");
	buf_add_json_str(&b, msg, strlen(msg));
	buf_addch(&b, '}');
	deploy__client_send(c, b.buf, 0);
	buf_release(&b);
}

void deploy__client_done(struct client *c, int exit_code, const char *msg)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "{\"done\":true,\"exit\":%d,\"msg\":", exit_code);
	buf_add_json_str(&b, msg, strlen(msg));
	buf_addch(&b, '}');
	deploy__client_send(c, b.buf, 1);
	buf_release(&b);
}

/* ---- requests ---- */

/*
 * HAProxy's server status: the controller does the health checks (HAProxy
 * is told ready/drain/maint), so HAProxy reports its servers as "no
 * check"; say what that means, the state traffic sees
 */
static const char *hap_state_name(const struct hap_stat *r)
{
	if (!r)
		return "?";
	if (!strcmp(r->status, "no check"))
		return "UP";
	if (str_starts_with(r->status, "DRAIN"))
		return "DRAIN";
	if (str_starts_with(r->status, "MAINT"))
		return "MAINT";
	return r->status;
}

static void status(struct dapp *da, struct buf *out)
{
	struct hap_stat *rows = NULL;
	struct buf err = BUF_INIT;
	long n = hap_show_stat(da->d->hap_sock, &rows, &err);
	buf_release(&err);
	buf_addf(out, "app %s: frontend %s:%d, stable %s (release %ld)%s\n", da->app->name, da->app->listen_addr,
		 da->app->listen_port, da->stable_version ? da->stable_version : "-", da->stable_id,
		 da->maintenance ? ", MAINTENANCE" : "");
	deploy__gitops_describe(da, out);
	deploy__rollout_describe(da, out);
	buf_addf(out, "%-5s %-16s %-8s %-7s %-6s %-8s %-7s %-6s %-9s %-9s %s\n", "SLOT", "VERSION", "ROLE", "PID",
		 "PORT", "HEALTH", "HAPROXY", "WEIGHT", "SESSIONS", "RESPONSES", "CHECK");
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (s->role == ROLE_FREE && !s->alive)
			continue;
		char sv[16];
		snprintf(sv, sizeof(sv), "s%d", s->idx);
		const struct hap_stat *r = n > 0 ? hap_find(rows, (size_t)n, da->app->name, sv) : NULL;
		char sh[20];
		buf_addf(out, "%-5s %-16s %-8s %-7d %-6d %-8s %-7s %-6ld %-9ld %-9ld %s\n", sv,
			 s->version ? deploy_version_short(s->version, sh) : "-", slot_role_name(s->role), s->pid, s->port,
			 !s->alive ? "dead" : s->healthy ? "healthy" : "unknown", hap_state_name(r),
			 r ? r->weight : 0, r ? r->scur : 0, r ? hap_responses(r) : 0,
			 !s->alive ? (s->reason[0] ? s->reason : "-")
				   : s->check[0] ? s->check : s->child ? "pending" : "adopted, pending");
	}
	free(rows);
}

static int maintenance(struct dapp *da, const char *mode, struct buf *msg)
{
	int on;
	if (!mode || (strcmp(mode, "on") && strcmp(mode, "off"))) {
		buf_addstr(msg, "maintenance takes 'on' or 'off'");
		return EXIT_USAGE;
	}
	on = !strcmp(mode, "on");
	char *cmd = xstrfmt("set server %s" HAP_MAINT "/on state %s", da->app->name, on ? "ready" : "maint");
	struct buf err = BUF_INIT;
	int r = hap_set(da->d->hap_sock, cmd, &err);
	free(cmd);
	if (r < 0) {
		buf_addstr(msg, err.buf);
		buf_release(&err);
		return EXIT_INTERNAL;
	}
	buf_release(&err);
	da->maintenance = on;
	dstore_app_set(da->d->db, da->app->name, da->stable_id, da->stable_version, on);
	dstore_audit(da->d->db, da->app->name, 0, "maintenance", "%s", mode);
	deploy__notify(da, "maintenance", on ? "maintenance mode on" : "maintenance mode off");
	buf_addf(msg, "%s: maintenance %s", da->app->name, mode);
	return 0;
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void handle(struct client *c, const char *line)
{
	struct deployd *d = c->d;
	json_error_t jerr;
	json_t *req = json_loads(line, 0, &jerr);
	struct buf msg = BUF_INIT;
	int code = EXIT_USAGE;
	const char *cmd = req ? jstr(req, "cmd") : NULL;
	const char *name = req ? jstr(req, "app") : NULL;
	struct dapp *da = name ? deploy__app(d, name) : NULL;
	if (!cmd) {
		buf_addstr(&msg, "bad request");
		goto answer;
	}
	if (!strcmp(cmd, "ping")) {
		buf_addstr(&msg, "pong");
		code = 0;
		goto answer;
	}
	if (!strcmp(cmd, "shutdown")) {
		buf_addstr(&msg, "shutting down");
		d->stopping = 1;
		code = 0;
		goto answer;
	}
	if (!strcmp(cmd, "apps")) {
		deploy__gitops_list(d, &msg, json_is_true(json_object_get(req, "json")));
		code = 0;
		goto answer;
	}
	if (!strcmp(cmd, "refresh")) {
		if (!d->git) {
			buf_addstr(&msg, "kiln deployd runs without --config-repo");
			goto answer;
		}
		deploy__gitops_refresh(d, "kiln sync --refresh");
		buf_addstr(&msg, "fetching the config repository");
		code = 0;
		goto answer;
	}
	if (!da) {
		buf_addf(&msg, "unknown app '%s'", name ? name : "");
		goto answer;
	}
	int wait = json_is_true(json_object_get(req, "wait"));
	if (!strcmp(cmd, "deploy")) {
		const char *strat = jstr(req, "strategy");
		struct deploy_req rq = { jstr(req, "version"), strat ? strategy_parse(strat) : STRAT_NONE,
					 jstr(req, "user"), 0, 0, NULL };
		if (!rq.version) {
			buf_addstr(&msg, "deploy needs a version");
			goto answer;
		}
		code = deploy__rollout_start(da, &rq, wait ? c : NULL, &msg);
		if (!code && wait) {
			c->waiting = da;
			goto out;
		}
		if (!code)
			buf_addf(&msg, "deploying %s to %s; 'kiln status %s' shows progress", rq.version, name, name);
	} else if (!strcmp(cmd, "status")) {
		status(da, &msg);
		code = 0;
	} else if (!strcmp(cmd, "promote")) {
		code = deploy__promote(da, &msg);
	} else if (!strcmp(cmd, "abort")) {
		code = deploy__abort(da, "aborted by 'kiln abort'", &msg);
	} else if (!strcmp(cmd, "rollback") && da->g && !jstr(req, "version")) {
		/* git is the source of truth: the rollback is a commit there */
		code = deploy__gitops_rollback(da, jstr(req, "user"), c, &msg);
		if (code == -1) {
			c->waiting = da;
			goto out;
		}
	} else if (!strcmp(cmd, "rollback")) {
		code = deploy__rollback(da, jstr(req, "version"), jstr(req, "user"), wait ? c : NULL, &msg);
		if (code == -1)
			goto out; /* answered */
		if (!code && wait && da->ro) {
			c->waiting = da;
			goto out;
		}
		if (!code && !msg.len)
			buf_addf(&msg, "rolling back %s", name);
	} else if (!strcmp(cmd, "sync")) {
		const char *user = jstr(req, "user");
		code = deploy__gitops_sync(da, user ? user : "unknown", wait ? c : NULL, &msg);
		if (!code && wait && da->ro) {
			c->waiting = da;
			goto out;
		}
	} else if (!strcmp(cmd, "maintenance")) {
		code = maintenance(da, jstr(req, "mode"), &msg);
	} else {
		buf_addf(&msg, "unknown request '%s'", cmd);
	}
answer:
	deploy__client_done(c, code, msg.buf);
out:
	buf_release(&msg);
	json_decref(req);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct client *c = h->data;
	buf_grow(&c->in, 4096);
	b->base = c->in.buf + c->in.len;
	b->len = 4096;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct client *c = s->data;
	if (n < 0) {
		client_close(c);
		return;
	}
	buf_setlen(&c->in, c->in.len + (size_t)n);
	if (c->done || c->waiting)
		return;
	char *nl = memchr(c->in.buf, '\n', c->in.len);
	if (!nl) {
		if (c->in.len > REQ_MAX)
			deploy__client_done(c, EXIT_USAGE, "request too large");
		return;
	}
	*nl = '\0';
	uv_read_stop(s);
	/* keep reading only to notice a client that goes away */
	handle(c, c->in.buf);
	buf_reset(&c->in);
	if (!c->closing && !c->done)
		uv_read_start(s, on_alloc, on_read);
}

static void on_conn(uv_stream_t *srv, int status)
{
	struct deployd *d = srv->data;
	if (status < 0)
		return;
	struct client *c = xcalloc(1, sizeof(*c));
	c->d = d;
	buf_init(&c->in, 0);
	uv_pipe_init(d->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(srv, (uv_stream_t *)&c->pipe) < 0) {
		client_close(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

int deploy__server_start(struct deployd *d, struct buf *err)
{
	unlink(d->ctl_sock);
	uv_pipe_init(d->loop, &d->server, 0);
	d->server.data = d;
	int r = uv_pipe_bind(&d->server, d->ctl_sock);
	/* only the owner may deploy */
	if (!r && chmod(d->ctl_sock, 0600) < 0)
		r = uv_translate_sys_error(errno);
	if (!r)
		r = uv_listen((uv_stream_t *)&d->server, 16, on_conn);
	if (r < 0) {
		buf_addf(err, "cannot listen on %s: %s", d->ctl_sock, uv_strerror(r));
		uv_close((uv_handle_t *)&d->server, NULL);
		return -1;
	}
	return 0;
}

void deploy__server_close(struct deployd *d)
{
	if (!uv_is_closing((uv_handle_t *)&d->server))
		uv_close((uv_handle_t *)&d->server, NULL);
	unlink(d->ctl_sock);
}
