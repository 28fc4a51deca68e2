/*
 * controller: `kiln deployd --config-repo` supervised by kiln serve, and
 * requests to a controller on the thread pool (controller.h).
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "base/strvec.h"
#include "deploy/deployd.h"
#include "server/config.h"
#include "server/controller.h"
#include "server/srv.h"
#include "store/runs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define STOP_KILL_MS 30000

extern char **environ;

struct controller {
	struct srv *s;
	char *url;               /* the config repository as given: in the child's environment only */
	struct strvec args;      /* kiln deployd --state ... --config-repo ... */
	char *repo, *branch;     /* the config repository; its pushes of branch count */
	char *log;               /* <state>/deployd.log: the child's output */
	struct buf secret;       /* the webhook secret (empty: no webhook) */
	int has_secret;
	char *secret_file;       /* re-read when it changes (rotation) */
	struct stat secret_st;   /* the file as last read */
	uv_process_t proc;
	uv_timer_t timer;        /* restart back-off, then the stop's SIGKILL */
	int running, stopping, restarts;
	uint64_t backoff_ms;
	int64_t started_ms;
	char last_exit[128];     /* "exited with status 2 at ..." */
	void (*stopped)(void *);
	void *stopped_arg;
	int closing;             /* handles to close before free */
};

static void start(struct controller *c);

static void on_timer(uv_timer_t *t)
{
	struct controller *c = t->data;
	if (c->stopping) {
		if (c->running) {
			fprintf(stderr, "kiln serve: deployd did not stop in %d s: SIGKILL\n",
				STOP_KILL_MS / 1000);
			uv_process_kill(&c->proc, SIGKILL);
		}
		return;
	}
	start(c);
}

static void proc_closed(uv_handle_t *h)
{
	struct controller *c = h->data;
	if (c->stopping && c->stopped) {
		void (*done)(void *) = c->stopped;
		c->stopped = NULL;
		done(c->stopped_arg);
	}
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct controller *c = p->data;
	c->running = 0;
	if (sig)
		snprintf(c->last_exit, sizeof(c->last_exit), "killed by signal %d", sig);
	else
		snprintf(c->last_exit, sizeof(c->last_exit), "exited with status %d", (int)status);
	uv_close((uv_handle_t *)p, proc_closed);
	if (c->stopping) {
		uv_timer_stop(&c->timer);
		return;
	}
	/* a run of a minute was a good one: start over with a short wait */
	if (runs_now_ms() - c->started_ms > BACKOFF_MAX_MS)
		c->backoff_ms = BACKOFF_MIN_MS;
	fprintf(stderr, "kiln serve: deployd %s; restarting in %.0f s (its log: %s)\n", c->last_exit,
		c->backoff_ms / 1000.0, c->log);
	uv_timer_start(&c->timer, on_timer, c->backoff_ms, 0);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
	c->restarts++;
}

static void start(struct controller *c)
{
	struct strvec env = STRVEC_INIT;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "KILN_DIE_WITH=", 14) && strncmp(*e, "KILN_CONFIG_REPO=", 17))
			strvec_push(&env, *e);
	/* the URL may carry a token: in the environment (readable by this
	 * user only), not on the command line (`ps`, /proc/PID/cmdline) */
	strvec_pushf(&env, "KILN_CONFIG_REPO=%s", c->url);
	/* the controller dies with the server, even on kill -9 (cli/main.c);
	 * its instances and HAProxy do not: the next one adopts them */
	strvec_pushf(&env, "KILN_DIE_WITH=%ld", (long)getpid());
	int fd = open(c->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_IGNORE },
		{ .flags = fd < 0 ? UV_IGNORE : UV_INHERIT_FD, .data.fd = fd },
		{ .flags = fd < 0 ? UV_IGNORE : UV_INHERIT_FD, .data.fd = fd },
	};
	/* its own session: a terminal's ^C reaches the server, which stops it */
	uv_process_options_t po = {
		.exit_cb = on_exit_cb, .file = c->s->exe, .args = c->args.v, .env = env.v,
		.stdio_count = 3, .stdio = stdio, .flags = UV_PROCESS_DETACHED,
	};
	c->proc.data = c;
	int r = uv_spawn(c->s->loop, &c->proc, &po);
	if (fd >= 0)
		close(fd);
	strvec_clear(&env);
	c->started_ms = runs_now_ms();
	if (r) {
		snprintf(c->last_exit, sizeof(c->last_exit), "cannot start: %s", uv_strerror(r));
		fprintf(stderr, "kiln serve: deployd %s\n", c->last_exit);
		uv_close((uv_handle_t *)&c->proc, NULL);
		uv_timer_start(&c->timer, on_timer, c->backoff_ms, 0);
		c->restarts++;
		return;
	}
	c->running = 1;
	fprintf(stderr, "kiln serve: started kiln deployd (pid %d) for %s; its log: %s\n", c->proc.pid,
		c->repo, c->log);
}

static void add_opt(struct strvec *v, const char *flag, const char *val)
{
	if (val) {
		strvec_push(v, flag);
		strvec_push(v, val);
	}
}

/* c->secret from c->secret_file, c->secret_st what was read; -1 with err
 * (unreadable, empty: c->secret is empty then) */
static int read_secret(struct controller *c, struct buf *err)
{
	struct stat st;
	if (c->secret.len)
		sodium_memzero(c->secret.buf, c->secret.len);
	buf_reset(&c->secret);
	if (stat(c->secret_file, &st) < 0 || buf_read_file(&c->secret, c->secret_file) < 0) {
		buf_addf(err, "cannot read gitops.webhook_secret_file '%s': %s", c->secret_file, strerror(errno));
		buf_reset(&c->secret);
		return -1;
	}
	buf_rtrim(&c->secret);
	if (!c->secret.len) {
		buf_addf(err, "gitops.webhook_secret_file '%s' is empty", c->secret_file);
		return -1;
	}
	c->secret_st = st;
	return 0;
}

int controller_new(struct srv *s, const struct serve_gitops *g, const char *state_dir,
		   struct controller **out, struct buf *err)
{
	struct buf pong = BUF_INIT;
	/* two controllers on one state would fight over HAProxy and the instances */
	int running = deployd_request(state_dir, "{\"cmd\":\"ping\"}", NULL, &pong) == 0;
	buf_release(&pong);
	if (running) {
		buf_addf(err, "a kiln deployd already runs on '%s': stop it (kiln deployd --stop --state %s) "
			 "or give gitops.state another directory", state_dir, state_dir);
		return -1;
	}
	struct controller *c = xcalloc(1, sizeof(*c));
	c->s = s;
	buf_init(&c->secret, 0);
	if (g->secret_file) {
		c->secret_file = xstrdup(g->secret_file);
		if (read_secret(c, err) < 0) {
			buf_release(&c->secret);
			free(c->secret_file);
			free(c);
			return -1;
		}
		c->has_secret = 1;
	}
	strvec_push(&c->args, s->exe);
	strvec_push(&c->args, "deployd");
	strvec_push(&c->args, "--state");
	strvec_push(&c->args, state_dir);
	c->url = xstrdup(g->repo); /* KILN_CONFIG_REPO in its environment (start) */
	add_opt(&c->args, "--branch", g->branch);
	add_opt(&c->args, "--path", g->path);
	add_opt(&c->args, "--env", g->env);
	add_opt(&c->args, "--interval", g->interval);
	add_opt(&c->args, "--author", g->author);
	c->repo = url_redact(g->repo); /* only shown: without its credentials */
	c->branch = xstrdup(g->branch ? g->branch : "main");
	c->log = xstrfmt("%s/deployd.log", state_dir);
	c->backoff_ms = BACKOFF_MIN_MS;
	uv_timer_init(s->loop, &c->timer);
	c->timer.data = c;
	if (mkdir_p(state_dir, 0700) < 0) {
		buf_addf(err, "cannot create the controller's state directory '%s': %s", state_dir,
			 strerror(errno));
		controller_free(c);
		return -1;
	}
	*out = c;
	start(c);
	return 0;
}

void controller_stop(struct controller *c, void (*done)(void *), void *arg)
{
	c->stopping = 1;
	uv_timer_stop(&c->timer);
	if (!c->running) {
		done(arg);
		return;
	}
	c->stopped = done;
	c->stopped_arg = arg;
	/* SIGQUIT: the controller exits and leaves the apps serving (a
	 * restart or upgrade of the server is no outage); the next one adopts
	 * them. `kiln deployd --stop` stops them. */
	uv_process_kill(&c->proc, SIGQUIT);
	uv_timer_start(&c->timer, on_timer, STOP_KILL_MS, 0);
}

void controller_free(struct controller *c)
{
	if (!c)
		return;
	if (c->running) { /* the loop ended first (a start-up error) */
		uv_process_kill(&c->proc, SIGKILL);
		uv_close((uv_handle_t *)&c->proc, NULL);
	}
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, NULL);
	uv_run(c->s->loop, UV_RUN_NOWAIT);
	strvec_clear(&c->args);
	if (c->url)
		sodium_memzero(c->url, strlen(c->url));
	free(c->url);
	sodium_memzero(c->secret.buf, c->secret.len);
	buf_release(&c->secret);
	free(c->secret_file);
	free(c->repo);
	free(c->branch);
	free(c->log);
	free(c);
}

json_t *controller_json(const struct controller *c)
{
	if (!c)
		return json_pack("{s:b}", "supervised", 0);
	return json_pack("{s:b,s:s,s:I,s:i,s:s?}", "supervised", 1,
			 "state", c->running ? "running" : c->stopping ? "stopped" : "restarting",
			 "pid", (json_int_t)(c->running ? c->proc.pid : 0), "restarts", c->restarts,
			 "last_exit", c->last_exit[0] ? c->last_exit : NULL);
}

const char *controller_branch(const struct controller *c)
{
	return c ? c->branch : "main";
}

int controller_hook_secret(struct controller *c, const struct buf **secret, struct buf *err)
{
	*secret = NULL;
	if (!c || !c->has_secret)
		return 0;
	/* rotated (replaced or rewritten) since it was read: read again */
	struct stat st;
	const struct stat *o = &c->secret_st;
	int same = stat(c->secret_file, &st) == 0 && st.st_dev == o->st_dev && st.st_ino == o->st_ino &&
		   st.st_size == o->st_size && st.st_mtim.tv_sec == o->st_mtim.tv_sec &&
		   st.st_mtim.tv_nsec == o->st_mtim.tv_nsec && st.st_ctim.tv_sec == o->st_ctim.tv_sec &&
		   st.st_ctim.tv_nsec == o->st_ctim.tv_nsec;
	if (!same || !c->secret.len) {
		if (read_secret(c, err) < 0) {
			memset(&c->secret_st, 0, sizeof(c->secret_st));
			return -1;
		}
		fprintf(stderr, "kiln serve: config webhook: read the secret again from %s (it changed)\n",
			c->secret_file);
	}
	*secret = &c->secret;
	return 0;
}

/* ---- one request on the thread pool ---- */

struct ask {
	uv_work_t work;
	struct srv *s;
	struct http_later *later;
	char *state, *req;
	struct buf answer;
	int code;
	controller_cb *cb;
	void *arg;
};

static void ask_work(uv_work_t *w)
{
	struct ask *a = w->data;
	a->code = deployd_request(a->state, a->req, NULL, &a->answer);
}

static void ask_done(uv_work_t *w, int status)
{
	struct ask *a = w->data;
	if (status) {
		a->code = EXIT_INTERNAL;
		buf_reset(&a->answer);
		buf_addstr(&a->answer, "the request to the controller was cancelled");
	}
	a->cb(a->s, http_later_req(a->later), a->code, a->answer.buf, a->arg);
	http_later_release(a->later);
	buf_release(&a->answer);
	free(a->state);
	free(a->req);
	free(a);
}

void controller_ask(struct srv *s, struct http_req *q, json_t *req, controller_cb *cb, void *arg)
{
	struct ask *a = xcalloc(1, sizeof(*a));
	a->s = s;
	a->req = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	a->state = xstrdup(s->deploy_state);
	buf_init(&a->answer, 0);
	a->cb = cb;
	a->arg = arg;
	a->work.data = a;
	a->later = http_defer(q);
	if (uv_queue_work(s->loop, &a->work, ask_work, ask_done))
		ask_done(&a->work, UV_ECANCELED);
}
