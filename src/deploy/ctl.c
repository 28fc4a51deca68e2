/*
 * ctl: the controller's life: load the apps, start or adopt HAProxy,
 * re-adopt the instances a previous controller left running (by pid and
 * port from the store), abort rollouts it left half-done, then tick.
 *
 * Instances and HAProxy run in their own process groups, so they outlive a
 * controller that dies; a restarted controller first puts every server
 * whose instance is gone into maintenance, before anything else.
 */
#include "base/kiln.h"
#include "deploy/ctl.h"
#include "deploy/deployd.h"
#include "deploy/dstore.h"
#include "deploy/haproxy.h"
#include "store/db.h"

#include "deploy/webhook.h"
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

void deploy__log(struct dapp *da, const char *fmt, ...)
{
	char ts[32];
	now_iso8601(ts, sizeof(ts));
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s deployd: %s%s%s\n", ts, da ? da->app->name : "", da ? ": " : "", b.buf);
	fflush(stderr);
	buf_release(&b);
}

struct dapp *deploy__app(struct deployd *d, const char *name)
{
	for (size_t i = 0; i < d->napps; i++)
		if (!strcmp(d->apps[i]->app->name, name))
			return d->apps[i];
	return NULL;
}

char *deployd_socket_path(const char *state_dir)
{
	return xstrfmt("%s/deployd.sock", state_dir);
}

/* da->slots with n slots (n >= nslots): the new ones free; an instance's
 * exit callback follows its slot (probes name theirs by index) */
static void slots_grow(struct dapp *da, int n)
{
	struct slot *old = da->slots;
	da->slots = xcalloc((size_t)n, sizeof(*da->slots));
	if (da->nslots)
		memcpy(da->slots, old, (size_t)da->nslots * sizeof(*old));
	for (int k = 0; k < n; k++) {
		struct slot *s = &da->slots[k];
		if (k < da->nslots) {
			if (s->child)
				s->child->data = s;
			continue;
		}
		s->da = da;
		s->idx = k + 1;
		snprintf(s->hap_state, sizeof(s->hap_state), "?");
		snprintf(s->hap_pstate, sizeof(s->hap_pstate), "?");
	}
	free(old);
	da->nslots = n;
}

struct dapp *deploy__dapp_add(struct deployd *d, struct app *a)
{
	struct dapp *da = xcalloc(1, sizeof(*da));
	da->d = d;
	da->app = a;
	da->preview = a->alt[STRAT_BLUEGREEN].preview_port > 0;
	slots_grow(da, hap_slots(a));
	ALLOC_GROW(d->apps, d->napps + 1, d->aapps);
	d->apps[d->napps++] = da;
	return da;
}

/* every .kiln/apps/NAME.yml; all must be valid */
static int load_apps(struct deployd *d)
{
	DIR *dir = opendir(d->apps_dir);
	if (!dir) {
		fprintf(stderr, "kiln: error: cannot open apps directory '%s': %s\n", d->apps_dir, strerror(errno));
		return EXIT_USAGE;
	}
	struct diags dg = DIAGS_INIT;
	struct dirent *e;
	struct strvec names = STRVEC_INIT;
	while ((e = readdir(dir))) {
		const char *n = e->d_name;
		size_t l = strlen(n);
		if (str_ends_with(n, ".yml") && l > 4)
			strvec_push_nodup(&names, xstrndup(n, l - 4));
		else if (str_ends_with(n, ".yaml") && l > 5)
			strvec_push_nodup(&names, xstrndup(n, l - 5));
	}
	closedir(dir);
	for (size_t i = 0; i < names.nr; i++) {
		struct app *a = app_load_named(d->apps_dir, names.v[i], &dg);
		if (a)
			deploy__dapp_add(d, a);
	}
	strvec_clear(&names);
	if (dg.errors) {
		diags_sort(&dg);
		diags_print(&dg, stderr);
		diags_release(&dg);
		return EXIT_USAGE;
	}
	diags_release(&dg);
	if (!d->napps) {
		fprintf(stderr, "kiln: error: no app definitions in '%s'\n", d->apps_dir);
		return EXIT_USAGE;
	}
	return 0;
}

static int read_pidfile(const char *path)
{
	struct buf b = BUF_INIT;
	int pid = 0;
	if (!buf_read_file(&b, path))
		pid = (int)strtol(b.buf, NULL, 10);
	buf_release(&b);
	return pid;
}

static int write_file_atomic(const char *path, const char *data, size_t len)
{
	char *tmp = xstrfmt("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	int r = -1;
	if (f) {
		r = fwrite(data, 1, len, f) == len ? 0 : -1;
		if (fclose(f) != 0)
			r = -1;
		if (!r)
			r = rename(tmp, path);
	}
	free(tmp);
	return r;
}

static void on_hap_exit(void *data, int status)
{
	struct deployd *d = data;
	d->hap = NULL;
	if (!d->stopping) {
		fprintf(stderr, "kiln: error: haproxy exited with status %d\n", status);
		d->exit_code = EXIT_INTERNAL;
		d->stopping = 1;
	}
}

/* HAProxy's pid as its admin socket says (`show info`), or -1 */
static int socket_pid(struct deployd *d)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	int pid = -1;
	if (!hap_cmd(d->hap_sock, "show info", &out, &err)) {
		const char *p = strstr(out.buf ? out.buf : "", "\nPid: ");
		pid = p ? (int)strtol(p + 6, NULL, 10) : 0;
	}
	buf_release(&out);
	buf_release(&err);
	return pid;
}

/* until the admin socket answers; from `pid` when it is > 0 (a reload:
 * the old process answers until the new one has taken the socket over) */
static int wait_socket(struct deployd *d, int pid, int ms)
{
	for (int i = 0; i < ms / 20; i++) {
		if (pid > 0 && !pid_alive(pid))
			return -1; /* it exited: a port taken, say (haproxy.log) */
		int p = socket_pid(d);
		if (p >= 0 && (pid <= 0 || p == pid))
			return 0;
		usleep(20000);
	}
	return -1;
}

/* the config of every app HAProxy serves */
static void gen_hap_config(struct deployd *d, struct buf *cfg)
{
	char *statepath = xstrfmt("%s/haproxy.state", d->state_dir);
	hap_config_global(cfg, d->hap_sock, statepath);
	free(statepath);
	for (size_t i = 0; i < d->napps; i++)
		if (!d->apps[i]->hap_off)
			hap_config_app(cfg, d->apps[i]->app, d->apps[i]->nslots);
}

/* ... written to cfgpath and checked by haproxy -c */
static int write_hap_config(struct deployd *d, const char *cfgpath, struct buf *err)
{
	struct buf cfg = BUF_INIT;
	gen_hap_config(d, &cfg);
	int r = -1;
	if (write_file_atomic(cfgpath, cfg.buf, cfg.len) < 0) {
		buf_addf(err, "cannot write %s: %s", cfgpath, strerror(errno));
	} else {
		char *check[] = { "haproxy", "-q", "-c", "-f", (char *)cfgpath, NULL };
		if (run_sync(check, NULL, NULL, 10000) != 0)
			buf_addf(err, "haproxy rejects the generated %s", cfgpath);
		else
			r = 0;
	}
	buf_release(&cfg);
	return r;
}

/* ": <its first [ALERT] line>" of process pid in haproxy.log, if any */
static void hap_log_alert(struct deployd *d, int pid, struct buf *err)
{
	char *logpath = xstrfmt("%s/haproxy.log", d->state_dir);
	char *tag = xstrfmt("(%d) : ", pid);
	struct buf b = BUF_INIT;
	if (!buf_read_file(&b, logpath) && b.len) {
		for (char *l = b.buf; l && *l;) {
			char *nl = strchr(l, '\n');
			if (nl)
				*nl = '\0';
			char *t = strstr(l, tag);
			if (str_starts_with(l, "[ALERT]") && t) {
				buf_addf(err, ": %s", t + strlen(tag));
				break;
			}
			l = nl ? nl + 1 : NULL;
		}
	}
	buf_release(&b);
	free(tag);
	free(logpath);
}

/*
 * start HAProxy on cfgpath; with old_pid > 0 a seamless reload: the new
 * process takes the listening sockets over from the old one's admin
 * socket (-x, expose-fd listeners) and then asks it to finish its
 * connections and exit (-sf), so no connection is refused
 */
static int spawn_haproxy(struct deployd *d, const char *cfgpath, int old_pid, struct buf *err)
{
	char *logpath = xstrfmt("%s/haproxy.log", d->state_dir);
	FILE *log = fopen(logpath, "a");
	free(logpath);
	char oldbuf[24];
	snprintf(oldbuf, sizeof(oldbuf), "%d", old_pid);
	char *argv[] = { "haproxy", "-db", "-f", (char *)cfgpath, "-x", d->hap_sock, "-sf", oldbuf, NULL };
	if (old_pid <= 0)
		argv[4] = NULL;
	struct child_opts o = { argv, NULL, NULL, log ? fileno(log) : -1, 0 };
	struct child *c = child_start(d->loop, &o, on_hap_exit, d, err);
	if (log)
		fclose(log);
	if (!c)
		return -1;
	if (wait_socket(d, c->pid, 10000) < 0) {
		buf_addf(err, "haproxy did not open its admin socket %s", d->hap_sock);
		hap_log_alert(d, c->pid, err);
		child_disown(c);
		child_kill(c, SIGKILL);
		return -1;
	}
	if (d->hap)
		child_disown(d->hap); /* the old one exits on its own (-sf) */
	d->hap_old_pid = old_pid;
	d->hap = c;
	d->hap_pid = c->pid;
	char *pidfile = xstrfmt("%s/haproxy.pid", d->state_dir);
	char pidbuf[32];
	int pl = snprintf(pidbuf, sizeof(pidbuf), "%d\n", d->hap_pid);
	write_file_atomic(pidfile, pidbuf, (size_t)pl);
	free(pidfile);
	return 0;
}

/* adopt a running HAProxy of a previous controller, or start ours */
static int start_haproxy(struct deployd *d)
{
	char *pidfile = xstrfmt("%s/haproxy.pid", d->state_dir);
	int pid = read_pidfile(pidfile);
	free(pidfile);
	char *cfgpath = xstrfmt("%s/haproxy.cfg", d->state_dir);
	if (pid > 0 && pid_alive(pid) && !wait_socket(d, 0, 100)) {
		d->hap_pid = pid;
		deploy__log(NULL, "adopted running haproxy (pid %d)", pid);
		/* a config other than ours (a previous kiln's backend names, apps
		 * changed meanwhile): a seamless reload, before any runtime command */
		struct buf now = BUF_INIT, was = BUF_INIT, err = BUF_INIT;
		gen_hap_config(d, &now);
		int r = 0;
		if (buf_read_file(&was, cfgpath) < 0 || was.len != now.len || memcmp(was.buf, now.buf, now.len)) {
			r = deploy__hap_reload(d, &err);
			if (r < 0)
				fprintf(stderr, "kiln: error: %s\n", err.buf);
		}
		buf_release(&now);
		buf_release(&was);
		buf_release(&err);
		free(cfgpath);
		return r < 0 ? EXIT_INTERNAL : 0;
	}
	char *statepath = xstrfmt("%s/haproxy.state", d->state_dir);
	struct buf err = BUF_INIT;
	int ret = EXIT_INTERNAL;
	unlink(d->hap_sock);
	/* a fresh HAProxy starts with every slot disabled: no stale state */
	if (write_file_atomic(statepath, "1\n", 2) < 0)
		buf_addf(&err, "cannot write %s: %s", statepath, strerror(errno));
	else if (!write_hap_config(d, cfgpath, &err) && !spawn_haproxy(d, cfgpath, 0, &err))
		ret = 0;
	if (ret)
		fprintf(stderr, "kiln: error: %s\n", err.buf);
	else
		deploy__log(NULL, "started haproxy (pid %d) with %s", d->hap_pid, cfgpath);
	buf_release(&err);
	free(statepath);
	free(cfgpath);
	return ret;
}

int deploy__hap_reload(struct deployd *d, struct buf *err)
{
	uint64_t t0 = now_ns();
	char *cfgpath = xstrfmt("%s/haproxy.cfg", d->state_dir);
	char *statepath = xstrfmt("%s/haproxy.state", d->state_dir);
	struct buf st = BUF_INIT;
	int old = d->hap_pid, r = -1;
	/* what the runtime API set (addresses, weights, states) carries over */
	if (hap_cmd(d->hap_sock, "show servers state", &st, err) < 0)
		goto out;
	if (write_file_atomic(statepath, st.buf ? st.buf : "", st.len) < 0) {
		buf_addf(err, "cannot write %s: %s", statepath, strerror(errno));
		goto out;
	}
	if (write_hap_config(d, cfgpath, err) < 0 || spawn_haproxy(d, cfgpath, old, err) < 0)
		goto out;
	size_t served = 0;
	for (size_t i = 0; i < d->napps; i++)
		served += !d->apps[i]->hap_off;
	deploy__log(NULL, "reloaded haproxy (pid %d, was %d) with %zu app(s) in %.1fms", d->hap_pid, old, served,
		    (double)(now_ns() - t0) / 1e6);
	r = 0;
out:
	buf_release(&st);
	free(statepath);
	free(cfgpath);
	return r;
}

int deploy__reshape_needed(const struct dapp *da, const struct app *a)
{
	return hap_slots(a) > da->nslots || a->listen_port != da->app->listen_port ||
	       strcmp(a->listen_addr, da->app->listen_addr) ||
	       a->alt[STRAT_BLUEGREEN].preview_port != da->app->alt[STRAT_BLUEGREEN].preview_port;
}

int deploy__reshape(struct dapp *da, struct app *a, struct buf *err)
{
	struct app *old = da->app;
	int n = da->nslots, preview = da->preview;
	if (hap_slots(a) > da->nslots)
		slots_grow(da, hap_slots(a));
	da->app = a; /* the config is generated from it */
	da->preview = a->alt[STRAT_BLUEGREEN].preview_port > 0;
	int r = deploy__hap_reload(da->d, err);
	da->app = old;
	if (r < 0) {
		/* the added slots are free and unknown to HAProxy: not used */
		da->nslots = n;
		da->preview = preview;
		return -1;
	}
	deploy__log(da, "haproxy: now %s:%d with %d server slot(s)%s", a->listen_addr, a->listen_port, da->nslots,
		    da->preview ? " and a preview frontend" : "");
	return 0;
}

/* what the store says this app runs: adopt the live instances */
void deploy__adopt(struct dapp *da)
{
	struct deployd *d = da->d;
	struct buf v = BUF_INIT;
	if (!dstore_app_get(d->db, da->app->name, &da->stable_id, &v, &da->maintenance) && v.len)
		da->stable_version = buf_detach(&v, NULL);
	buf_release(&v);
	struct dslot *rows;
	size_t n = dstore_slots_load(d->db, da->app->name, &rows);
	for (size_t i = 0; i < n; i++) {
		struct dslot *r = &rows[i];
		if (r->slot < 1 || r->slot > da->nslots)
			continue;
		struct slot *s = &da->slots[r->slot - 1];
		s->release_id = r->release_id;
		s->version = xstrdup(r->version);
		s->port = r->port;
		s->pid = r->pid;
		s->role = slot_role_parse(r->role);
		s->weight = 100;
		s->alive = pid_alive(r->pid);
		/* healthy until a probe says otherwise, so adopting does not
		 * flap traffic; dead ones leave HAProxy on the first sync */
		s->healthy = s->alive;
		s->succ = s->alive;
		if (s->role == ROLE_DRAIN)
			s->stop_after_drain = 1;
		deploy__log(da, "s%d: %s pid %d port %d is %s", s->idx, s->version, s->pid, s->port,
			    s->alive ? "alive: adopted" : "gone");
		if (!s->alive && s->role != ROLE_ACTIVE && s->role != ROLE_STANDBY) {
			s->role = ROLE_FREE;
			deploy__slot_persist(s);
			free(s->version);
			s->version = NULL;
		} else if (!s->alive) {
			s->restart_ns = now_ns();
		}
	}
	free(rows);
	/* the first thing HAProxy hears: dead instances out, all else as stored */
	deploy__sync(da);
	deploy__abort_stale(da);
	if (da->maintenance) {
		struct buf err = BUF_INIT;
		char *cmd = xstrfmt("set server %s" HAP_MAINT "/on state ready", da->app->name);
		hap_set(d->hap_sock, cmd, &err);
		free(cmd);
		buf_release(&err);
	}
}

static void on_tick(uv_timer_t *t)
{
	struct deployd *d = t->data;
	uint64_t now = now_ns();
	if (d->stopping) {
		uv_stop(d->loop);
		return;
	}
	for (size_t i = 0; i < d->napps; i++) {
		struct dapp *da = d->apps[i];
		deploy__slots_tick(da, now);
		deploy__rollout_tick(da, now);
		deploy__converge(da);
	}
	deploy__gitops_tick(d);
}

static void on_signal(uv_signal_t *s, int sig)
{
	struct deployd *d = s->data;
	/* a stop asked for first (SIGTERM) is not turned into a leave */
	d->leave_running = sig == SIGQUIT && (!d->stopping || d->leave_running);
	deploy__log(NULL, "signal %d: %s", sig,
		    d->leave_running ? "exiting, the apps keep running for the next controller"
				     : "shutting down");
	d->stopping = 1;
}

/*
 * stop every instance and haproxy; wait a bounded time for them. Every
 * slot is marked stopping first, so an instance's exit is a stop (not a
 * crash to restart and audit), and d->stopping keeps deploy__sync from
 * talking to the HAProxy that is going away with them.
 */
static void shutdown_all(struct deployd *d)
{
	for (size_t i = 0; i < d->napps; i++)
		for (int k = 0; k < d->apps[i]->nslots; k++) {
			struct slot *s = &d->apps[i]->slots[k];
			s->restart_ns = 0;
			if (s->role != ROLE_FREE)
				s->role = ROLE_STOP;
			if (s->alive && s->pid > 0)
				kill(-s->pid, SIGTERM);
		}
	if (d->hap_pid > 0)
		kill(d->hap_pid, SIGTERM);
	if (d->hap_old_pid > 0 && pid_alive(d->hap_old_pid))
		kill(d->hap_old_pid, SIGTERM); /* still finishing after a reload */
	/* our children are done when libuv has reaped them (their handles are
	 * then closed and freed); adopted processes when their pid is gone */
	for (int tries = 0; tries < 150; tries++) {
		int any = d->hap ? 1 : d->hap_pid > 0 && pid_alive(d->hap_pid);
		for (size_t i = 0; i < d->napps; i++) {
			any |= d->apps[i]->probes > 0;
			for (int k = 0; k < d->apps[i]->nslots; k++) {
				struct slot *s = &d->apps[i]->slots[k];
				any |= s->alive && (s->child ? 1 : pid_alive(s->pid));
			}
		}
		if (!any)
			break;
		uv_run(d->loop, UV_RUN_NOWAIT);
		usleep(20000);
	}
	for (size_t i = 0; i < d->napps; i++)
		for (int k = 0; k < d->apps[i]->nslots; k++) {
			struct slot *s = &d->apps[i]->slots[k];
			if (s->alive && s->pid > 0) {
				kill(-s->pid, SIGKILL);
				if (d->apps[i]->app->ctr.image)
					deploy__ctr_remove(s);
			}
			if (s->role != ROLE_FREE) {
				s->role = ROLE_FREE;
				deploy__slot_persist(s);
			}
		}
	if (d->hap_pid > 0 && pid_alive(d->hap_pid))
		kill(d->hap_pid, SIGKILL);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void deploy__dapp_free(struct dapp *da)
{
	for (int k = 0; k < da->nslots; k++)
		free(da->slots[k].version);
	free(da->slots);
	free(da->stable_version);
	app_free(da->app);
	free(da);
}

static void free_apps(struct deployd *d)
{
	for (size_t i = 0; i < d->napps; i++)
		deploy__dapp_free(d->apps[i]);
	free(d->apps);
}

int deployd_run(const struct deployd_opts *o)
{
	struct deployd d = { 0 };
	uv_loop_t loop;
	uv_loop_init(&loop);
	d.loop = &loop;
	char werr[256];
	if (webhook_init(werr, sizeof(werr)) < 0)
		fprintf(stderr, "kiln: warning: deploy notifications disabled: %s\n", werr);
	mkdir(o->state_dir, 0700);
	char *state = realpath(o->state_dir, NULL);
	char *apps = o->git ? xstrdup(o->apps_dir) : realpath(o->apps_dir, NULL);
	int ret = EXIT_USAGE;
	if (!state || !apps) {
		fprintf(stderr, "kiln: error: cannot use '%s': %s\n", !state ? o->state_dir : o->apps_dir,
			strerror(errno));
		free(state);
		free(apps);
		uv_loop_close(&loop);
		return EXIT_USAGE;
	}
	d.state_dir = state;
	d.apps_dir = apps;
	deploy__ctr_id(state, d.ctr_id);
	d.hap_sock = xstrfmt("%s/haproxy.sock", state);
	d.ctl_sock = deployd_socket_path(state);
	char *logs = xstrfmt("%s/logs", state);
	mkdir(logs, 0755);
	free(logs);
	char *dbpath = xstrfmt("%s/kiln.db", state);
	struct buf err = BUF_INIT;
	if ((ret = o->git ? deploy__gitops_init(&d, o->git) : load_apps(&d)))
		goto out;
	ret = EXIT_INTERNAL;
	if (db_open(dbpath, &d.db, &err) < 0) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		goto out;
	}
	if (o->git && o->git->webhook && deploy__gitops_webhook(&d, o->git->webhook, &err) < 0) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		ret = EXIT_USAGE;
		goto out;
	}
	if (deploy__server_start(&d, &err) < 0) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		goto out;
	}
	if ((ret = start_haproxy(&d)))
		goto out_server;
	for (size_t i = 0; i < d.napps; i++)
		deploy__adopt(d.apps[i]);
	deploy__gitops_start(&d, &err);
	uv_timer_init(&loop, &d.tick);
	d.tick.data = &d;
	uv_timer_start(&d.tick, on_tick, 0, DEPLOY_TICK_MS);
	uv_signal_init(&loop, &d.sigterm);
	uv_signal_init(&loop, &d.sigint);
	uv_signal_init(&loop, &d.sigquit);
	d.sigterm.data = d.sigint.data = d.sigquit.data = &d;
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	uv_signal_start(&d.sigquit, on_signal, SIGQUIT);
	signal(SIGPIPE, SIG_IGN);
	deploy__log(NULL, "ready: %zu app(s), state %s, socket %s", d.napps, state, d.ctl_sock);
	uv_run(&loop, UV_RUN_DEFAULT);
	ret = d.exit_code;
	deploy__gitops_close(&d);
	/* SIGQUIT leaves every slot as stored: the next controller adopts
	 * them as after a crash (a rollout under way is aborted then) */
	if (!d.leave_running || ret) {
		shutdown_all(&d);
	} else {
		/* they run on for the next controller: only our handles go */
		if (d.hap)
			child_leave(d.hap);
		d.hap = NULL;
		for (size_t i = 0; i < d.napps; i++)
			for (int k = 0; k < d.apps[i]->nslots; k++)
				if (d.apps[i]->slots[k].child) {
					child_leave(d.apps[i]->slots[k].child);
					d.apps[i]->slots[k].child = NULL;
				}
	}
out_server:
	deploy__server_close(&d);
out:
	deploy__gitops_close(&d);
	uv_walk(&loop, close_walk, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop))
		fprintf(stderr, "kiln: warning: event loop not empty at exit\n");
	if (ret != 0 && d.hap && d.hap_pid > 0)
		kill(d.hap_pid, SIGKILL);
	buf_release(&err);
	db_close(d.db);
	deploy__gitops_free(&d);
	free_apps(&d);
	podman_release(&d.pm);
	free(dbpath);
	free(d.hap_sock);
	free(d.ctl_sock);
	free(state);
	free(apps);
	return ret;
}
