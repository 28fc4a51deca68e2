/*
 * serve: `kiln serve`: one process, one libuv loop carrying HTTP (h2o),
 * webhooks, polling and (later) the queue and the executor. Owns struct
 * srv: opens the store in the data directory, registers the routes, and
 * stops gracefully on SIGTERM/SIGINT (no new connections, current requests
 * answered, then the loop ends).
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "secret/secret.h"
#include "server/agentd.h"
#include "server/api.h"
#include "server/config.h"
#include "server/controller.h"
#include "server/poll.h"
#include "server/logstream.h"
#include "server/queue.h"
#include "server/schedule.h"
#include "server/status.h"
#include "server/srv.h"
#include "store/db.h"
#include "store/open.h"
#include "store/runs.h"
#include "ui/ui.h"

#include <errno.h>
#include <signal.h>

struct http *srv_http(struct srv *s) { return s->http; }

int srv_authenticate(struct srv *s, const char *authorization, struct principal *out)
{
	return auth_bearer(s->db, authorization, out);
}

void srv_mirror_path(const char *data_dir, const char *name, struct buf *out)
{
	buf_addf(out, "%s/mirrors/", data_dir);
	/* owner/name -> owner%2Fname.git: one directory level per repository */
	for (const char *p = name; *p; p++) {
		if (*p == '/')
			buf_addstr(out, "%2F");
		else
			buf_addch(out, *p);
	}
	buf_addstr(out, ".git");
}

static void on_healthz(struct srv *s, struct http_req *q)
{
	struct dbstmt *st = NULL;
	int ok = db_prepare(s->db, "SELECT 1", &st) == DB_OK &&
		 dbs_step(st) == DB_ROW;
	dbs_finalize(st);
	json_t *o = json_pack("{s:s,s:s,s:I,s:I}", "status", ok ? "ok" : "degraded", "store",
			      ok ? "ok" : "unavailable", "uptime_ms",
			      (json_int_t)(runs_now_ms() - s->started_ms), "connections",
			      (json_int_t)http_connections(s->http));
	http_reply_json(q, ok ? 200 : 503, o);
}

/* http, the queue (and the controller) have all stopped: end the loop */
static void stopped(void *arg)
{
	struct srv *s = arg;
	if (--s->pending_stops == 0)
		uv_stop(s->loop);
}

/* runs are over: their last statuses are sent (or given up), then stop */
static void queue_stopped(void *arg)
{
	struct srv *s = arg;
	struct statuses *st = s->statuses;
	s->statuses = NULL;
	statuses_close(st, stopped, s);
}

static void on_signal(uv_signal_t *sig, int signum)
{
	struct srv *s = sig->data;
	if (s->stopping)
		return;
	s->stopping = 1;
	fprintf(stderr, "kiln serve: %s: stopping (finishing open requests)\n",
		signum == SIGTERM ? "SIGTERM" : "SIGINT");
	poller_stop(s->poller);
	scheduler_free(s->scheduler);
	s->scheduler = NULL;
	s->pending_stops = 2;
	if (s->controller) {
		s->pending_stops++;
		controller_stop(s->controller, stopped, s);
	}
	agentd_stop(s->agentd);
	queue_stop(s->queue, queue_stopped, s);
	http_shutdown(s->http, s->opts.grace_ms, stopped, s);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int serve_main(const struct serve_opts *o, struct buf *err)
{
	struct srv s;
	struct buf path = BUF_INIT;
	uv_loop_t loop;
	int ret = EXIT_INTERNAL;
	memset(&s, 0, sizeof(s));
	s.opts = *o;
	s.loop = &loop;
	s.started_ms = runs_now_ms();
	s.data_dir = xstrdup(o->data_dir);
	const char *ds = getenv("KILN_DEPLOY_STATE");
	s.deploy_state = xstrdup(o->gitops && o->gitops->state ? o->gitops->state
				 : ds && *ds ? ds : o->data_dir);
	s.exe = o->exe;
	uv_loop_init(&loop);
	signal(SIGPIPE, SIG_IGN);

	if (mkdir_p(s.data_dir, 0700) < 0) {
		buf_addf(err, "cannot create data directory '%s': %s", s.data_dir, strerror(errno));
		goto out;
	}
	store_location(s.data_dir, &path);
	s.db_where = xstrdup(path.buf);
	if (db_open(path.buf, &s.db, err))
		goto out;
	if (secret_store_open(&s.secrets, s.db, s.data_dir, err))
		goto out;
	/* first start: the admin and its token (server/auth.h) */
	if (auth_first_start(s.db, s.data_dir, stderr, err) < 0)
		goto out;
	if (http_new(&loop, &s, o->listen, &o->limits, &s.http, err)) {
		ret = EXIT_USAGE;
		goto out;
	}
	http_route(&s, "GET", "/healthz", ROLE_NONE, on_healthz);
	hooks_register(&s);
	metrics_register(&s);
	s.logstreams = logstreams_new(&s);
	logstreams_register(&s);
	api_register(&s);
	ui_register(&s);
	if (agentd_new(&s, &s.agentd, err))
		goto out;
	s.statuses = statuses_new(&s, 5, 1000);
	if (queue_new(&s, o->jobs, &s.queue, err) ||
	    poller_new(&s, o->poll_tick_ms, &s.poller, err))
		goto out;
	s.scheduler = scheduler_new(&s);
	if (o->gitops && controller_new(&s, o->gitops, s.deploy_state, &s.controller, err))
		goto out;

	uv_signal_init(&loop, &s.sigterm);
	uv_signal_init(&loop, &s.sigint);
	s.sigterm.data = s.sigint.data = &s;
	uv_signal_start(&s.sigterm, on_signal, SIGTERM);
	uv_signal_start(&s.sigint, on_signal, SIGINT);
	uv_unref((uv_handle_t *)&s.sigterm);
	uv_unref((uv_handle_t *)&s.sigint);

	/* the line tests and scripts wait for */
	fprintf(stderr, "kiln serve: listening on http://%s (port %d), data in %s\n", o->listen,
		http_port(s.http), s.data_dir);
	printf("listening %d\n", http_port(s.http));
	fflush(stdout);
	uv_run(&loop, UV_RUN_DEFAULT);
	ret = EXIT_OK;
out:
	controller_free(s.controller);
	poller_free(s.poller);
	scheduler_free(s.scheduler);
	logstreams_free(s.logstreams);
	queue_free(s.queue);
	agentd_free(s.agentd);
	if (s.statuses) /* a start-up error: nothing was sent */
		statuses_close(s.statuses, NULL, NULL);
	if (s.http) {
		http_free(s.http);
		uv_run(&loop, UV_RUN_NOWAIT); /* its close callbacks dispose h2o */
	}
	/* what is left: connections that outlived the grace period */
	uv_walk(&loop, close_walk, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	secret_store_close(s.secrets);
	db_close(s.db);
	free(s.data_dir);
	free(s.deploy_state);
	free(s.db_where);
	buf_release(&path);
	return ret;
}
