/*
 * slot: the supervisor of one app's instances and of the HAProxy servers in
 * front of them: start (own process group, logs captured), probe, restart
 * with back-off, drain, stop, and the level-triggered sync to HAProxy.
 */
#include "base/kiln.h"
#include "deploy/ctl.h"
#include "deploy/dstore.h"
#include "deploy/haproxy.h"
#include "deploy/probe.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

const char *slot_role_name(enum slot_role r)
{
	switch (r) {
	case ROLE_FREE: return "free";
	case ROLE_STANDBY: return "standby";
	case ROLE_ACTIVE: return "active";
	case ROLE_DRAIN: return "drain";
	case ROLE_STOP: return "stop";
	}
	return "?";
}

enum slot_role slot_role_parse(const char *s)
{
	for (int r = ROLE_FREE; r <= ROLE_STOP; r++)
		if (!strcmp(s, slot_role_name((enum slot_role)r)))
			return (enum slot_role)r;
	return ROLE_FREE;
}

/* a free loopback port (the kernel's choice; the instance binds it next) */
static int pick_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int port = -1;
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* expand $NAME and ${NAME} from env; unknown names stay as written */
static char *expand(const char *s, const struct strvec *env)
{
	struct buf b = BUF_INIT;
	for (const char *p = s; *p;) {
		if (*p != '$') {
			buf_addch(&b, *p++);
			continue;
		}
		const char *q = p + 1;
		int brace = *q == '{';
		if (brace)
			q++;
		const char *n = q;
		while (isalnum((unsigned char)*q) || *q == '_')
			q++;
		if (q == n || (brace && *q != '}')) {
			buf_addch(&b, *p++);
			continue;
		}
		char *name = xstrndup(n, (size_t)(q - n));
		const char *v = strvec_getenv(env, name);
		free(name);
		if (brace)
			q++;
		if (v)
			buf_addstr(&b, v);
		else
			buf_add(&b, p, (size_t)(q - p));
		p = q;
	}
	return buf_detach(&b, NULL);
}

static void instance_env(struct slot *s, struct strvec *env)
{
	const struct app *a = s->da->app;
	for (char **e = environ; *e; e++)
		strvec_push(env, *e);
	for (size_t i = 0; i < a->env.nr; i++)
		strvec_push(env, a->env.v[i]);
	char port[16];
	snprintf(port, sizeof(port), "%d", s->port);
	strvec_setenv(env, "PORT", port);
	strvec_setenv(env, "KILN_RELEASE", s->version);
	strvec_setenv(env, "KILN_APP", a->name);
	char idx[16];
	snprintf(idx, sizeof(idx), "%d", s->idx);
	strvec_setenv(env, "KILN_INSTANCE", idx);
}

/* the instance's working directory, or NULL with err */
static char *instance_dir(struct slot *s, const struct strvec *env, struct buf *err)
{
	const struct app *a = s->da->app;
	char *dir = a->dir ? expand(a->dir, env) : xstrdup(".");
	char *full = dir[0] == '/' ? xstrdup(dir) : xstrfmt("%s/%s", a->root, dir);
	free(dir);
	struct stat st;
	if (stat(full, &st) < 0 || !S_ISDIR(st.st_mode)) {
		buf_addf(err, "release directory '%s' does not exist", full);
		free(full);
		return NULL;
	}
	return full;
}

int deploy__release_dir_ok(struct dapp *da, const char *version, struct buf *err)
{
	if (da->app->ctr.image)
		return 0; /* the image is pulled when the instance starts */
	if (deploy_digest_ok(version)) {
		buf_addf(err, "'%s' is an image digest, but %s is not an image app", version, da->app->name);
		return -1;
	}
	struct slot fake = { .da = da, .version = (char *)version };
	struct strvec env = STRVEC_INIT;
	instance_env(&fake, &env);
	char *dir = instance_dir(&fake, &env, err);
	strvec_clear(&env);
	free(dir);
	return dir ? 0 : -1;
}

static char *log_path(const struct slot *s)
{
	return xstrfmt("%s/logs/%s/s%d-%s.log", s->da->d->state_dir, s->da->app->name, s->idx, s->version);
}

static int open_log(struct slot *s)
{
	struct deployd *d = s->da->d;
	char *dir = xstrfmt("%s/logs/%s", d->state_dir, s->da->app->name);
	mkdir(dir, 0755);
	char *path = log_path(s);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	free(path);
	free(dir);
	return fd;
}

static void on_instance_exit(void *data, int status);

static int spawn(struct slot *s, struct buf *err)
{
	struct strvec env = STRVEC_INIT, argv = STRVEC_INIT;
	char *cwd = NULL;
	if (s->da->app->ctr.image) {
		if (deploy__ctr_cmd(s, &argv, &env, err) < 0) {
			strvec_clear(&env);
			strvec_clear(&argv);
			return -1;
		}
		cwd = xstrdup(s->da->d->state_dir);
	} else {
		instance_env(s, &env);
		cwd = instance_dir(s, &env, err);
		if (!cwd) {
			strvec_clear(&env);
			return -1;
		}
		for (size_t i = 0; i < s->da->app->command.nr; i++)
			strvec_push_nodup(&argv, expand(s->da->app->command.v[i], &env));
	}
	int fd = open_log(s);
	struct child_opts o = { argv.v, env.v, cwd, fd, 0 };
	s->child = child_start(s->da->d->loop, &o, on_instance_exit, s, err);
	if (fd >= 0)
		close(fd);
	free(cwd);
	strvec_clear(&env);
	strvec_clear(&argv);
	if (!s->child)
		return -1;
	s->pid = s->child->pid;
	s->alive = 1;
	s->healthy = 0;
	s->succ = s->fail = 0;
	s->probing = 0;
	s->check[0] = '\0';
	s->gen++;
	s->next_probe_ns = now_ns() + (uint64_t)s->da->app->health.initial_delay_ms * 1000000u;
	deploy__log(s->da, "s%d: started %s (pid %d, port %d)", s->idx, s->version, s->pid, s->port);
	return 0;
}

void deploy__slot_persist(struct slot *s)
{
	struct db *db = s->da->d->db;
	if (s->role == ROLE_FREE) {
		dstore_slot_clear(db, s->da->app->name, s->idx);
		return;
	}
	struct dslot ds = { .slot = s->idx, .release_id = s->release_id, .port = s->port, .pid = s->pid };
	snprintf(ds.version, sizeof(ds.version), "%s", s->version ? s->version : "");
	snprintf(ds.role, sizeof(ds.role), "%s", slot_role_name(s->role));
	dstore_slot_save(db, s->da->app->name, &ds);
}

int deploy__slot_start(struct slot *s, long release_id, const char *version, enum slot_role r,
		       struct buf *err)
{
	free(s->version);
	s->version = xstrdup(version);
	s->release_id = release_id;
	s->role = r;
	s->weight = 100;
	s->restarts = 0;
	s->restart_ns = s->drain_ns = s->stop_ns = s->retire_ns = 0;
	s->stop_after_drain = 0;
	s->port = pick_port();
	if (s->port < 0 || spawn(s, err) < 0) {
		if (s->port < 0)
			buf_addstr(err, "no free port");
		s->role = ROLE_FREE;
		free(s->version);
		s->version = NULL;
		return -1;
	}
	deploy__slot_persist(s);
	return 0;
}

static void slot_free(struct slot *s)
{
	s->role = ROLE_FREE;
	s->alive = s->healthy = 0;
	s->child = NULL;
	s->pid = 0;
	deploy__slot_persist(s);
	free(s->version);
	s->version = NULL;
	s->release_id = 0;
	s->port = 0;
}

static void on_instance_exit(void *data, int status)
{
	struct slot *s = data;
	struct dapp *da = s->da;
	s->child = NULL;
	s->alive = s->healthy = 0;
	s->probing = 0;
	s->gen++;
	if (s->role == ROLE_STOP || s->role == ROLE_FREE || s->role == ROLE_DRAIN) {
		deploy__log(da, "s%d: %s stopped (status %d)", s->idx, s->version, status);
		slot_free(s);
	} else {
		uint64_t backoff = 250ull << (s->restarts < 7 ? s->restarts : 7);
		s->restarts++;
		s->restart_ns = now_ns() + backoff * 1000000u;
		struct buf why = BUF_INIT;
		if (da->app->ctr.image) {
			char *lp = log_path(s);
			deploy__ctr_reason(s, lp, status, &why);
			free(lp);
		} else
			buf_addf(&why, "exited with status %d", status);
		if (da->app->ctr.image && status == 125) /* podman's own failure: a pull, not a crash */
			snprintf(s->reason, sizeof(s->reason), "%s (%d attempt(s))", why.buf, s->restarts);
		else if (s->restarts >= 3)
			snprintf(s->reason, sizeof(s->reason), "crash loop (%d restarts): %s", s->restarts, why.buf);
		else
			snprintf(s->reason, sizeof(s->reason), "%s", why.buf);
		buf_release(&why);
		deploy__log(da, "s%d: %s exited unexpectedly (status %d: %s); restart in %s", s->idx, s->version,
			    status, s->reason, duration_str((double)backoff).s);
		dstore_audit(da->d->db, da->app->name, s->release_id, "instance-crashed",
			     "slot s%d version %s pid %d exited with status %d", s->idx, s->version, s->pid, status);
	}
	deploy__sync(da);
}

void deploy__slot_stop(struct slot *s)
{
	if (s->role == ROLE_FREE)
		return;
	s->role = ROLE_STOP;
	deploy__sync(s->da);
	deploy__slot_persist(s);
	if (!s->alive) {
		slot_free(s);
		return;
	}
	s->stop_ns = now_ns();
	if (s->child)
		child_kill(s->child, SIGTERM);
	else if (s->pid > 0)
		kill(-s->pid, SIGTERM);
}

void deploy__slot_retire(struct slot *s, uint64_t keep_ms)
{
	if (s->role == ROLE_FREE || s->role == ROLE_STOP)
		return;
	s->role = ROLE_DRAIN;
	s->drain_ns = now_ns();
	s->stop_after_drain = keep_ms == 0;
	s->retire_ns = keep_ms ? s->drain_ns + keep_ms * 1000000u : 0;
	deploy__slot_persist(s);
}

struct slot *deploy__free_slot(struct dapp *da)
{
	for (int i = 0; i < da->nslots; i++)
		if (da->slots[i].role == ROLE_FREE && !da->slots[i].alive)
			return &da->slots[i];
	return NULL;
}

/* ---- HAProxy sync ---- */

static void desired(const struct slot *s, const char **state, int *weight)
{
	*weight = s->weight;
	if (s->alive && s->healthy && s->role == ROLE_ACTIVE)
		*state = "ready";
	else if (s->alive && s->role == ROLE_DRAIN)
		*state = "drain";
	else
		*state = "maint";
}

/* the preview shows the new color while one waits (standby), else the live one */
static int preview_ready(const struct dapp *da, const struct slot *s)
{
	int standby = 0;
	for (int i = 0; i < da->nslots; i++)
		standby |= da->slots[i].role == ROLE_STANDBY && da->slots[i].alive && da->slots[i].healthy;
	return s->alive && s->healthy && s->role == (standby ? ROLE_STANDBY : ROLE_ACTIVE);
}

static void preview_cmds(struct dapp *da, struct buf *up, struct buf *down)
{
	const char *name = da->app->name;
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		int ready = preview_ready(da, s);
		if (ready && s->port != s->hap_pport)
			buf_addf(up, "set server %s" HAP_PREVIEW "/s%d addr 127.0.0.1 port %d;", name, s->idx, s->port);
		if (ready && strcmp(s->hap_pstate, "ready"))
			buf_addf(up, "set server %s" HAP_PREVIEW "/s%d state ready;", name, s->idx);
		else if (!ready && strcmp(s->hap_pstate, "maint"))
			buf_addf(down, "set server %s" HAP_PREVIEW "/s%d state maint;", name, s->idx);
	}
}

int deploy__sync(struct dapp *da)
{
	struct deployd *d = da->d;
	if (d->stopping)
		return 0; /* HAProxy stops with the controller */
	struct buf addr = BUF_INIT, up = BUF_INIT, drain = BUF_INIT, down = BUF_INIT;
	const char *name = da->app->name;
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		const char *st;
		int w;
		desired(s, &st, &w);
		if (s->port && s->port != s->hap_port && strcmp(st, "maint"))
			buf_addf(&addr, "set server %s/s%d addr 127.0.0.1 port %d;", name, s->idx, s->port);
		if (!strcmp(st, "ready")) {
			if (w != s->hap_weight || strcmp(s->hap_state, "ready"))
				buf_addf(&up, "set server %s/s%d weight %d;", name, s->idx, w);
			if (strcmp(s->hap_state, "ready"))
				buf_addf(&up, "set server %s/s%d state ready;", name, s->idx);
		} else if (!strcmp(st, "drain") && strcmp(s->hap_state, "drain")) {
			buf_addf(&drain, "set server %s/s%d state drain;", name, s->idx);
		} else if (!strcmp(st, "maint") && strcmp(s->hap_state, "maint")) {
			buf_addf(&down, "set server %s/s%d state maint;", name, s->idx);
		}
	}
	if (da->preview)
		preview_cmds(da, &up, &down);
	/* new capacity first, then drains, then removals: never zero servers */
	buf_add(&addr, up.buf, up.len);
	buf_add(&addr, drain.buf, drain.len);
	buf_add(&addr, down.buf, down.len);
	int r = 0;
	if (addr.len) {
		buf_setlen(&addr, addr.len - 1);
		struct buf err = BUF_INIT;
		r = hap_set(d->hap_sock, addr.buf, &err);
		if (r < 0)
			deploy__log(da, "haproxy: %s", err.buf);
		buf_release(&err);
		for (int i = 0; i < da->nslots && !r; i++) {
			struct slot *s = &da->slots[i];
			const char *st;
			int w;
			desired(s, &st, &w);
			if (s->port && strcmp(st, "maint"))
				s->hap_port = s->port;
			if (!strcmp(st, "ready")) {
				s->hap_weight = w;
				if (w > 0)
					deploy__rollout_note_ready(da, s->release_id);
			}
			snprintf(s->hap_state, sizeof(s->hap_state), "%s", st);
			if (da->preview) {
				int ready = preview_ready(da, s);
				if (ready)
					s->hap_pport = s->port;
				snprintf(s->hap_pstate, sizeof(s->hap_pstate), "%s", ready ? "ready" : "maint");
			}
		}
	}
	buf_release(&addr);
	buf_release(&up);
	buf_release(&drain);
	buf_release(&down);
	return r;
}

/* ---- probes ---- */

struct pctx {
	struct dapp *da;
	int idx;                 /* the slot by index: deploy__slots_grow moves them */
	unsigned gen;
	uint64_t t0;
	char **env;
	struct strvec envv;
};

static void on_probe(void *data, int ok, const char *detail)
{
	struct pctx *p = data;
	struct slot *s = &p->da->slots[p->idx - 1];
	strvec_clear(&p->envv);
	s->da->probes--;
	if (p->gen != s->gen || !s->alive) {
		/* the instance it probed is gone; a new one has its own probes */
		free(p);
		return;
	}
	snprintf(s->check, sizeof(s->check), "%s in %s", detail, duration_str((double)(now_ns() - p->t0) / 1e6).s);
	free(p);
	s->probing = 0;
	const struct probe_spec *h = &s->da->app->health;
	if (ok) {
		s->succ++;
		s->fail = 0;
		if (!s->healthy && s->succ >= h->success_threshold) {
			s->healthy = 1;
			s->restarts = 0;
			s->reason[0] = '\0';
			deploy__log(s->da, "s%d: %s is healthy (%s)", s->idx, s->version, s->check);
			deploy__sync(s->da);
		}
	} else {
		s->fail++;
		s->succ = 0;
		if (s->healthy && s->fail >= h->failure_threshold) {
			s->healthy = 0;
			deploy__log(s->da, "s%d: %s is unhealthy (%s)", s->idx, s->version, s->check);
			deploy__sync(s->da);
		}
	}
}

static void start_probe(struct slot *s, uint64_t now)
{
	const struct app *a = s->da->app;
	struct pctx *p = xcalloc(1, sizeof(*p));
	p->da = s->da;
	p->idx = s->idx;
	p->gen = s->gen;
	p->t0 = now;
	s->probing = 1;
	s->da->probes++;
	s->next_probe_ns = now + (uint64_t)a->health.interval_ms * 1000000u;
	if (a->health.kind == PROBE_EXEC && a->ctr.image) {
		/* exec probes of an image app run in its container */
		struct probe_spec h = a->health;
		struct strvec argv = STRVEC_INIT;
		deploy__ctr_exec_argv(s, &a->health.command, &argv);
		h.command = argv;
		for (char **e = environ; *e; e++)
			strvec_push(&p->envv, *e);
		podman_setenv(&s->da->d->pm, &p->envv);
		probe_start(s->da->d->loop, &h, s->port, p->envv.v, a->root, on_probe, p);
		strvec_clear(&argv);
		return;
	}
	if (a->health.kind == PROBE_EXEC)
		instance_env(s, &p->envv);
	probe_start(s->da->d->loop, &a->health, s->port, p->envv.v, a->root, on_probe, p);
}

/* ---- per tick ---- */

static void check_drains(struct dapp *da, uint64_t now)
{
	int need = 0;
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (s->role == ROLE_DRAIN && s->retire_ns && now >= s->retire_ns) {
			s->retire_ns = 0;
			s->stop_after_drain = 1;
			s->drain_ns = now;
		}
		need |= s->role == ROLE_DRAIN && s->stop_after_drain;
	}
	if (!need)
		return;
	struct hap_stat *rows = NULL;
	struct buf err = BUF_INIT;
	long n = hap_show_stat(da->d->hap_sock, &rows, &err);
	buf_release(&err);
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (s->role != ROLE_DRAIN || !s->stop_after_drain)
			continue;
		char sv[16];
		snprintf(sv, sizeof(sv), "s%d", s->idx);
		const struct hap_stat *r = n > 0 ? hap_find(rows, (size_t)n, da->app->name, sv) : NULL;
		int timed_out = now - s->drain_ns > (uint64_t)da->app->drain_timeout_ms * 1000000u;
		if ((r && r->scur == 0) || timed_out) {
			deploy__log(da, "s%d: %s drained%s; stopping", s->idx, s->version,
				    timed_out ? " (timeout)" : "");
			deploy__slot_stop(s);
		}
	}
	free(rows);
}

void deploy__slots_tick(struct dapp *da, uint64_t now)
{
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (s->alive && !s->child && !pid_alive(s->pid)) {
			/* an instance adopted from a previous controller died */
			on_instance_exit(s, -1);
			continue;
		}
		if (s->alive && s->role == ROLE_STOP && now - s->stop_ns >
		    (uint64_t)da->app->stop_timeout_ms * 1000000u) {
			kill(-s->pid, SIGKILL);
			s->stop_ns = now;
			if (da->app->ctr.image)
				deploy__ctr_remove(s); /* podman died; its container would not */
		}
		if (!s->alive && s->restart_ns && now >= s->restart_ns &&
		    (s->role == ROLE_ACTIVE || s->role == ROLE_STANDBY)) {
			struct buf err = BUF_INIT;
			s->restart_ns = 0;
			if (spawn(s, &err) < 0) {
				deploy__log(da, "s%d: restart failed: %s", s->idx, err.buf);
				s->restart_ns = now + 5000000000ull;
			} else
				deploy__slot_persist(s);
			buf_release(&err);
		}
		if (s->alive && !s->probing && s->role != ROLE_STOP && now >= s->next_probe_ns)
			start_probe(s, now);
	}
	check_drains(da, now);
}

void deploy__converge(struct dapp *da)
{
	if (!da->stable_id || !da->stable_version || da->ro)
		return;
	int have = 0, ready = 0;
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (s->release_id != da->stable_id || s->role != ROLE_ACTIVE)
			continue;
		have++;
		ready += s->alive && s->healthy;
	}
	for (; have < da->app->instances; have++) {
		struct slot *s = deploy__free_slot(da);
		struct buf err = BUF_INIT;
		if (!s)
			break;
		if (deploy__slot_start(s, da->stable_id, da->stable_version, ROLE_ACTIVE, &err) < 0) {
			deploy__log(da, "cannot start stable %s: %s", da->stable_version, err.buf);
			buf_release(&err);
			break;
		}
		buf_release(&err);
	}
	if (ready < da->app->instances)
		return;
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (s->release_id != da->stable_id && (s->role == ROLE_ACTIVE || s->role == ROLE_STANDBY)) {
			deploy__slot_retire(s, 0);
			deploy__sync(da);
		}
	}
}
