/*
 * rollout: one release going out: pre hooks, the strategy (rolling,
 * blue-green, canary steps), analysis of the new servers' HAProxy stats,
 * post hooks, and the way back (rollback keeps the stable instances
 * running until promotion, so going back is one runtime API call).
 */
#include "base/kiln.h"
#include "deploy/ctl.h"
#include "deploy/dstore.h"
#include "deploy/haproxy.h"
#include "deploy/scrape.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

enum phase { PH_PRE, PH_START, PH_WAIT, PH_PROMOTE_WAIT, PH_STEPS, PH_ROLL, PH_POST };

static const char *phase_name(enum phase p)
{
	static const char *const n[] = { "pre-hooks", "starting", "waiting for health", "waiting for promote",
		"canary steps", "rolling", "post-hooks" };
	return n[p];
}

struct rollout {
	struct dapp *da;
	struct strategy_spec spec; /* shallow copy; steps belong to da->app */
	long id;
	char *version, *user;
	int manual;
	int sync;          /* a gitops sync (cfg_commit recorded, outcome reported) */
	char *cfg_commit;  /* the config commit it applies, or NULL */
	char cfg_hash[17]; /* hash of the config repository file it was read from, "" = none */
	long prev_id;
	char *prev_version;
	enum phase phase;
	size_t step;
	uint64_t start_ns, step_ns, progress_ns;
	int weight;        /* canary weight now applied */
	int promote;       /* `kiln promote` received */
	int announced;     /* the current wait was reported */
	int last_ready;    /* new instances healthy at the last tick */
	int served;        /* HAProxy was told to send the new release traffic */
	/* analysis */
	uint64_t an_next;
	int an_init, an_fail, an_pass, an_pass_step, an_round;
	int an_inc;          /* inconclusive rounds */
	int an_rec_kind;     /* the verdict last audited ('o', 'x', '?'), 0 none */
	uint64_t an_rec_ns;  /* and when */
	long an_tot, an_5xx;
	struct scrape *sc; /* analysis.latency from the instances' /metrics, or NULL */
	/* hooks */
	const struct strvec *hooks;
	size_t hook_i;
	int hook_running, hook_status;
	/* --wait clients */
	struct client **waiters;
	size_t nw, aw;
	double switch_ms;
};

/* ---- reporting ---- */

static void progress(struct rollout *ro, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(struct rollout *ro, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	deploy__log(ro->da, "%s: %s", ro->version, b.buf);
	for (size_t i = 0; i < ro->nw; i++)
		deploy__client_progress(ro->waiters[i], b.buf);
	buf_release(&b);
}

/* one canary step as the plan and the web UI name it: "setWeight 20",
 * "pause", "pause 30s", "analysis 3" */
static void step_text(const struct canary_step *st, struct buf *out)
{
	if (st->kind == STEP_WEIGHT)
		buf_addf(out, "setWeight %d", st->weight);
	else if (st->kind == STEP_PAUSE && st->duration_ms < 0)
		buf_addstr(out, "pause");
	else if (st->kind == STEP_PAUSE)
		buf_addf(out, "pause %s", duration_str(st->duration_ms).s);
	else
		buf_addf(out, "analysis %d", st->intervals);
}

/* the audit log's "plan" of a rollout, which the web UI draws:
 * "canary: setWeight 20, pause, ..." | "rolling: N instances, maxSurge S,
 * maxUnavailable U" | "blueGreen: N instances, autoPromote on|off" */
static void plan_text(const struct rollout *ro, struct buf *out)
{
	const struct strategy_spec *sp = &ro->spec;
	int n = ro->da->app->instances;
	buf_addf(out, "%s: ", strategy_name(sp->kind));
	if (sp->kind == STRAT_CANARY) {
		for (size_t i = 0; i < sp->nsteps; i++) {
			if (i)
				buf_addstr(out, ", ");
			step_text(&sp->steps[i], out);
		}
		if (!sp->nsteps)
			buf_addstr(out, "no steps");
	} else if (sp->kind == STRAT_ROLLING) {
		buf_addf(out, "%d instances, maxSurge %d, maxUnavailable %d", n, sp->max_surge,
			 sp->max_unavailable);
	} else {
		buf_addf(out, "%d instances, autoPromote %s", n, sp->auto_promote ? "on" : "off");
	}
}

/* a canary step begins: "step 2/4: pause" */
static void audit_step(struct rollout *ro)
{
	struct buf b = BUF_INIT;
	step_text(&ro->spec.steps[ro->step], &b);
	dstore_audit(ro->da->d->db, ro->da->app->name, ro->id, "step", "step %zu/%zu: %s", ro->step + 1,
		     ro->spec.nsteps, b.buf);
	buf_release(&b);
}

void deploy__rollout_note_ready(struct dapp *da, long release_id)
{
	if (da->ro && da->ro->id == release_id)
		da->ro->served = 1;
}

void deploy__rollout_drop_waiter(struct dapp *da, struct client *c)
{
	struct rollout *ro = da->ro;
	for (size_t i = 0; ro && i < ro->nw; i++)
		if (ro->waiters[i] == c) {
			ro->waiters[i] = ro->waiters[--ro->nw];
			return;
		}
}

static void rollout_free(struct rollout *ro)
{
	free(ro->version);
	free(ro->user);
	free(ro->prev_version);
	free(ro->cfg_commit);
	free(ro->waiters);
	scrape_free(ro->sc);
	free(ro);
}

/* the release is over: record, notify, answer the waiters */
static void finish(struct rollout *ro, const char *outcome, int exit_code, const char *reason)
{
	struct dapp *da = ro->da;
	double secs = (double)(now_ns() - ro->start_ns) / 1e9;
	dstore_release_finish(da->d->db, ro->id, outcome, reason, (long)(secs * 1000));
	dstore_audit(da->d->db, da->app->name, ro->id, outcome, "%s in %s: %s", ro->version,
		     duration_str(secs * 1000).s, reason ? reason : "");
	if (!strcmp(outcome, "succeeded")) {
		da->stable_id = ro->id;
		free(da->stable_version);
		da->stable_version = xstrdup(ro->version);
		dstore_app_set(da->d->db, da->app->name, da->stable_id, da->stable_version, da->maintenance);
	}
	struct buf msg = BUF_INIT;
	buf_addf(&msg, "release %ld (%s) %s after %s", ro->id, ro->version, outcome, duration_str(secs * 1000).s);
	if (reason && *reason)
		buf_addf(&msg, ": %s", reason);
	deploy__log(da, "%s", msg.buf);
	deploy__notify(da, outcome, msg.buf);
	if (da->g)
		deploy__gitops_done(da, ro->cfg_hash, ro->cfg_commit, ro->sync, outcome, reason);
	for (size_t i = 0; i < ro->nw; i++)
		deploy__client_done(ro->waiters[i], exit_code, msg.buf);
	buf_release(&msg);
	da->ro = NULL;
	rollout_free(ro);
	deploy__converge(da);
}

/* ---- hooks ---- */

static void on_hook(void *data, int status)
{
	struct rollout *ro = data;
	ro->hook_running = 0;
	ro->hook_status = status;
}

/* run hooks one by one; returns 1 when all passed, 0 while running, -1 on failure */
static int run_hooks(struct rollout *ro, const struct strvec *hooks, struct buf *why)
{
	struct dapp *da = ro->da;
	if (ro->hooks != hooks) {
		ro->hooks = hooks;
		ro->hook_i = 0;
		ro->hook_status = -1;
	}
	if (ro->hook_running)
		return 0;
	if (ro->hook_status > 0) {
		buf_addf(why, "hook '%s' failed with status %d", hooks->v[ro->hook_i - 1], ro->hook_status);
		return -1;
	}
	if (ro->hook_i >= hooks->nr)
		return 1;
	char *sh_argv[] = { "/bin/sh", "-c", hooks->v[ro->hook_i], NULL };
	struct strvec env = STRVEC_INIT;
	extern char **environ;
	for (char **e = environ; *e; e++)
		strvec_push(&env, *e);
	strvec_setenv(&env, "KILN_APP", da->app->name);
	strvec_setenv(&env, "KILN_RELEASE", ro->version);
	strvec_setenv(&env, "KILN_PREVIOUS_RELEASE", ro->prev_version ? ro->prev_version : "");
	char *log = xstrfmt("%s/logs/%s/hooks.log", da->d->state_dir, da->app->name);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	free(log);
	struct child_opts o = { sh_argv, env.v, da->app->root, fd, da->app->progress_deadline_ms };
	struct buf err = BUF_INIT;
	progress(ro, "running hook: %s", hooks->v[ro->hook_i]);
	ro->hook_i++;
	ro->hook_status = -1;
	if (child_start(da->d->loop, &o, on_hook, ro, &err))
		ro->hook_running = 1;
	else
		ro->hook_status = 127;
	if (fd >= 0)
		close(fd);
	buf_release(&err);
	strvec_clear(&env);
	return 0;
}

/* ---- traffic moves ---- */

static int is_new(const struct rollout *ro, const struct slot *s)
{
	return s->role != ROLE_FREE && s->release_id == ro->id;
}

static int is_stable(const struct rollout *ro, const struct slot *s)
{
	return s->role != ROLE_FREE && s->role != ROLE_STOP && ro->prev_id && s->release_id == ro->prev_id;
}

static double timed_sync(struct dapp *da)
{
	uint64_t t0 = now_ns();
	deploy__sync(da);
	return (double)(now_ns() - t0) / 1e6;
}

/* return traffic to the stable release and stop the new instances */
static void rollback(struct rollout *ro, const char *outcome, const char *reason)
{
	struct dapp *da = ro->da;
	uint64_t t0 = now_ns();
	int stable_ready = 0;
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (is_stable(ro, s) && s->alive) {
			s->role = ROLE_ACTIVE;
			s->weight = 100;
			s->retire_ns = 0;
			s->stop_after_drain = 0;
			stable_ready += s->healthy;
		}
	}
	/* rolling may have stopped stable instances already: healthy new ones
	 * keep serving until converge() has the stable release back */
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (!is_new(ro, s))
			continue;
		if (ro->spec.kind == STRAT_ROLLING && !stable_ready && s->alive && s->healthy &&
		    s->role == ROLE_ACTIVE)
			continue;
		s->role = ROLE_STOP;
	}
	deploy__sync(da);
	double ms = (double)(now_ns() - t0) / 1e6;
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		deploy__slot_persist(s);
		if (is_new(ro, s) && s->role == ROLE_STOP)
			deploy__slot_stop(s);
	}
	struct buf r = BUF_INIT;
	if (ro->phase == PH_PRE)
		buf_addstr(&r, reason); /* nothing started, nothing moved */
	else if (!ro->served)
		buf_addf(&r, "%s; no traffic reached %s%s%s%s", reason, ro->version,
			 ro->prev_version ? " (" : "", ro->prev_version ? ro->prev_version : "",
			 ro->prev_version ? " kept serving)" : "");
	else
		buf_addf(&r, "%s; traffic back on %s in %s", reason,
			 ro->prev_version ? ro->prev_version : "nothing", duration_str(ms).s);
	dstore_audit(da->d->db, da->app->name, ro->id, "incident", "%s", r.buf);
	finish(ro, outcome, 1, r.buf);
	buf_release(&r);
}

static void set_canary_weight(struct rollout *ro, int w)
{
	struct dapp *da = ro->da;
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (is_new(ro, s) && s->role != ROLE_STOP) {
			s->role = w > 0 ? ROLE_ACTIVE : ROLE_STANDBY;
			s->weight = w;
		} else if (is_stable(ro, s) && s->role == ROLE_ACTIVE) {
			s->weight = 100 - w;
		}
	}
	double ms = timed_sync(da);
	/* HAProxy's response times are sliding averages over a server's last
	 * 1024 requests, and slots are reused: start every server's figures
	 * afresh so canary and stable are compared over the same window */
	struct buf err = BUF_INIT;
	if (hap_set(da->d->hap_sock, "clear counters all", &err) < 0)
		deploy__log(da, "%s", err.buf);
	buf_release(&err);
	ro->weight = w;
	ro->an_init = 0;
	ro->an_next = now_ns();
	dstore_audit(da->d->db, da->app->name, ro->id, "set-weight", "canary %d%%, stable %d%% (%s)", w,
		     100 - w, duration_str(ms).s);
	progress(ro, "setWeight %d: canary %d%%, stable %d%% (applied in %s)", w, w, 100 - w, duration_str(ms).s);
}

/* all traffic to the new release; the stable one drains (and is kept for keep_ms) */
static void switch_all(struct rollout *ro, uint64_t keep_ms)
{
	struct dapp *da = ro->da;
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (is_new(ro, s) && s->role != ROLE_STOP) {
			s->role = ROLE_ACTIVE;
			s->weight = 100;
		} else if (s->release_id != ro->id && (s->role == ROLE_ACTIVE || s->role == ROLE_STANDBY)) {
			deploy__slot_retire(s, keep_ms);
		}
	}
	ro->switch_ms = timed_sync(da);
	for (int i = 0; i < da->nslots; i++)
		deploy__slot_persist(&da->slots[i]);
	dstore_audit(da->d->db, da->app->name, ro->id, "switch", "100%% to %s in %s", ro->version,
		     duration_str(ro->switch_ms).s);
	progress(ro, "switched 100%% of traffic to %s in %s", ro->version, duration_str(ro->switch_ms).s);
	ro->phase = PH_POST;
}

/* ---- analysis ---- */

struct figures {
	long tot, x5;
	double crt, brt; /* avg response time of canary / stable servers, ms */
};

static void collect(struct rollout *ro, const struct hap_stat *rows, size_t n, struct figures *f)
{
	struct dapp *da = ro->da;
	int nc = 0, nb = 0;
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		char sv[16];
		snprintf(sv, sizeof(sv), "s%d", s->idx);
		const struct hap_stat *r = hap_find(rows, n, da->app->name, sv);
		if (!r)
			continue;
		if (is_new(ro, s)) {
			f->tot += hap_responses(r);
			f->x5 += r->hrsp[5];
			f->crt += (double)r->rtime;
			nc++;
		} else if (is_stable(ro, s) && s->role == ROLE_ACTIVE && hap_responses(r) > 0) {
			f->brt += (double)r->rtime;
			nb++;
		}
	}
	f->crt = nc ? f->crt / nc : 0;
	f->brt = nb ? f->brt / nb : -1;
}

/*
 * analysis.latency: judge the scrape round that completed since the last
 * interval, then start the next one over every canary and stable
 * instance. -1 inconclusive, 0 passed, 1 failed (reason in why).
 */
static int metrics_check(struct rollout *ro, struct buf *why, struct buf *note)
{
	struct dapp *da = ro->da;
	if (!da->app->analysis.latency.enabled)
		return 0;
	if (!ro->sc)
		ro->sc = scrape_new(da);
	int verdict = -1;
	struct scrape_result r;
	if (scrape_take(ro->sc, &r)) {
		verdict = scrape_verdict(&da->app->analysis, &r, why, note);
		scrape_result_release(&r);
	} else {
		buf_addf(note, "p%g inconclusive: no completed scrape of %s yet", da->app->analysis.latency.quantile * 100,
			 da->app->analysis.latency.path);
	}
	int *group = xcalloc((size_t)da->nslots, sizeof(*group));
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (is_new(ro, s))
			group[i] = SCRAPE_CANARY;
		else if (is_stable(ro, s) && s->role == ROLE_ACTIVE)
			group[i] = SCRAPE_STABLE;
	}
	scrape_round(ro->sc, group);
	free(group);
	return verdict;
}

/*
 * One analysis round into the audit log (the web UI's analysis row):
 * every failure, every change of verdict, and a repeated verdict once a
 * minute at most — an indefinite pause analysed every second must not
 * grow the append-only log by a row a second. Each row carries the
 * running totals, so the skipped rounds are still counted.
 */
static void audit_round(struct rollout *ro, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void audit_round(struct rollout *ro, int kind, const char *fmt, ...)
{
	uint64_t now = now_ns();
	if (kind != 'x' && kind == ro->an_rec_kind && now - ro->an_rec_ns < 60ull * 1000000000u)
		return;
	ro->an_rec_kind = kind;
	ro->an_rec_ns = now;
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	dstore_audit(ro->da->d->db, ro->da->app->name, ro->id, "analysis",
		     "round %d (ok %d, failed %d, inconclusive %d): %s", ro->an_round, ro->an_pass,
		     ro->an_fail, ro->an_inc, b.buf);
	buf_release(&b);
}

static void analyse(struct rollout *ro, uint64_t now)
{
	struct dapp *da = ro->da;
	const struct analysis_spec *an = &da->app->analysis;
	if (ro->weight <= 0 || now < ro->an_next)
		return;
	ro->an_next = now + (uint64_t)an->interval_ms * 1000000u;
	struct hap_stat *rows = NULL;
	struct buf err = BUF_INIT;
	long n = hap_show_stat(da->d->hap_sock, &rows, &err);
	buf_release(&err);
	if (n < 0)
		return;
	struct figures f;
	collect(ro, rows, (size_t)n, &f);
	free(rows);
	struct buf why = BUF_INIT, note = BUF_INIT;
	if (!ro->an_init) {
		ro->an_init = 1;
		ro->an_tot = f.tot;
		ro->an_5xx = f.x5;
		metrics_check(ro, &why, &note); /* the baseline scrape */
		buf_release(&why);
		buf_release(&note);
		return;
	}
	long dt = f.tot - ro->an_tot, d5 = f.x5 - ro->an_5xx;
	ro->an_tot = f.tot;
	ro->an_5xx = f.x5;
	ro->an_round++;
	int mv = metrics_check(ro, &why, &note);
	if (dt < an->min_requests) {
		ro->an_inc++;
		audit_round(ro, '?', "inconclusive: %ld request(s) < minimum %d", dt, an->min_requests);
		progress(ro, "analysis %d: inconclusive, %ld request(s) < minimum %d", ro->an_round, dt,
			 an->min_requests);
		buf_release(&why);
		buf_release(&note);
		return;
	}
	double er = (double)d5 / (double)dt;
	double base = f.brt < 1 ? 1 : f.brt;
	/* mv > 0: why already holds the quantile's verdict */
	if (mv <= 0 && er > an->max_error_rate)
		buf_addf(&why, "error rate %.1f%% > %.1f%% (%ld of %ld responses 5xx)", er * 100,
			 an->max_error_rate * 100, d5, dt);
	else if (mv <= 0 && an->max_latency_ratio > 0 && f.brt >= 0 && f.crt > an->max_latency_ratio * base &&
		 f.crt - f.brt >= an->min_latency_delta_ms)
		buf_addf(&why, "latency %s > %.1fx stable's %s", duration_str(f.crt).s, an->max_latency_ratio,
			 duration_str(f.brt).s);
	if (why.len) {
		ro->an_fail++;
		audit_round(ro, 'x', "failed at canary weight %d%%: %s", ro->weight, why.buf);
		progress(ro, "analysis %d: FAILED: %s", ro->an_round, why.buf);
		if (ro->an_fail >= an->failure_limit) {
			struct buf r = BUF_INIT;
			buf_addf(&r, "analysis failed at canary weight %d%%: %s", ro->weight, why.buf);
			rollback(ro, "rolled-back", r.buf);
			buf_release(&r);
		}
	} else if (mv < 0) {
		ro->an_inc++;
		audit_round(ro, '?', "inconclusive: error rate %.1f%% (%ld/%ld), %s", er * 100, d5, dt,
			    note.buf);
		progress(ro, "analysis %d: inconclusive: error rate %.1f%% (%ld/%ld), %s", ro->an_round, er * 100, d5,
			 dt, note.buf);
	} else {
		ro->an_pass++;
		audit_round(ro, 'o', "ok at canary weight %d%%: error rate %.1f%% (%ld/%ld), latency %s vs "
			    "stable %s", ro->weight, er * 100, d5, dt, duration_str(f.crt).s,
			    duration_str(f.brt).s);
		progress(ro, "analysis %d: ok: error rate %.1f%% (%ld/%ld), latency %s vs stable %s%s%s",
			 ro->an_round, er * 100, d5, dt, duration_str(f.crt).s, duration_str(f.brt).s,
			 note.len ? ", " : "", note.buf);
	}
	buf_release(&why);
	buf_release(&note);
}

/* ---- strategies ---- */

/* free slots, plus slots that will be free once their instance exits */
static int count_free(struct dapp *da, int *stopping)
{
	int n = 0;
	*stopping = 0;
	for (int i = 0; i < da->nslots; i++) {
		n += da->slots[i].role == ROLE_FREE && !da->slots[i].alive;
		*stopping += da->slots[i].role == ROLE_STOP ||
			     (da->slots[i].role == ROLE_DRAIN && da->slots[i].stop_after_drain);
	}
	return n;
}

/* a new release supersedes the color kept for instant rollback */
static int reclaim(struct rollout *ro)
{
	struct dapp *da = ro->da;
	int n = 0;
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (s->role == ROLE_DRAIN && !s->stop_after_drain) {
			s->stop_after_drain = 1;
			s->retire_ns = 0;
			s->drain_ns = now_ns();
			progress(ro, "stopping retained s%d (%s) to make room", s->idx, s->version);
			n++;
		}
	}
	return n;
}

/* start count new instances: 0 done, 1 wait for slots to free up, -1 failed */
static int start_new(struct rollout *ro, enum slot_role role, int count)
{
	struct dapp *da = ro->da;
	int stopping;
	if (count_free(da, &stopping) < count) {
		if (reclaim(ro) || stopping)
			return 1;
	}
	for (int k = 0; k < count; k++) {
		struct slot *s = deploy__free_slot(da);
		struct buf err = BUF_INIT;
		if (!s) {
			rollback(ro, "failed", "no free server slot");
			return -1;
		}
		if (deploy__slot_start(s, ro->id, ro->version, role, &err) < 0) {
			struct buf r = BUF_INIT;
			buf_addf(&r, "cannot start instance: %s", err.buf);
			rollback(ro, "failed", r.buf);
			buf_release(&r);
			buf_release(&err);
			return -1;
		}
		buf_release(&err);
	}
	return 0;
}

static int new_ready(struct rollout *ro)
{
	int n = 0;
	for (int i = 0; i < ro->da->nslots; i++) {
		struct slot *s = &ro->da->slots[i];
		n += is_new(ro, s) && s->alive && s->healthy && s->role != ROLE_STOP;
	}
	return n;
}

/* an old instance on its way out (draining to stop, or stopping): the
 * rollout waits for its process to exit, bounded by drainTimeout and
 * stopTimeout, and that wait is progress */
static int old_leaving(const struct rollout *ro)
{
	for (int i = 0; i < ro->da->nslots; i++) {
		const struct slot *s = &ro->da->slots[i];
		if (!is_new(ro, s) && s->alive &&
		    (s->role == ROLE_STOP || (s->role == ROLE_DRAIN && s->stop_after_drain)))
			return 1;
	}
	return 0;
}

static void roll_tick(struct rollout *ro)
{
	struct dapp *da = ro->da;
	int n = da->app->instances;
	int new_total = 0, nready = 0, old_active = 0, old_ready = 0, procs = 0;
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		/* every instance whose process lives or is about to (re)start,
		 * draining and stopping ones included until they have exited */
		procs += s->role != ROLE_FREE || s->alive;
		if (s->role != ROLE_ACTIVE)
			continue;
		if (s->release_id == ro->id) {
			new_total++;
			nready += s->alive && s->healthy;
		} else {
			old_active++;
			old_ready += s->alive && s->healthy;
		}
	}
	if (new_total < n && procs < n + ro->spec.max_surge) {
		if (start_new(ro, ROLE_ACTIVE, 1) == 0) {
			dstore_audit(da->d->db, da->app->name, ro->id, "rolling",
				     "new %d of %d, old %d: started instance %d", new_total + 1, n, old_active,
				     new_total + 1);
			progress(ro, "rolling: started instance %d of %d", new_total + 1, n);
		}
		return;
	}
	int excess = nready + old_ready - (n - ro->spec.max_unavailable);
	for (int i = 0; i < da->nslots && excess > 0; i++) {
		struct slot *s = &da->slots[i];
		if (s->role == ROLE_ACTIVE && s->release_id != ro->id) {
			deploy__slot_retire(s, 0);
			deploy__sync(da);
			excess--;
			old_active--;
			dstore_audit(da->d->db, da->app->name, ro->id, "rolling",
				     "new %d of %d, old %d: draining s%d (%s)", new_total, n, old_active, s->idx,
				     s->version);
			progress(ro, "rolling: draining s%d (%s)", s->idx, s->version);
		}
	}
	if (nready == n && !old_active) {
		progress(ro, "rolling: all %d instance(s) run %s", n, ro->version);
		ro->phase = PH_POST;
	}
}

static void steps_tick(struct rollout *ro, uint64_t now)
{
	struct dapp *da = ro->da;
	analyse(ro, now);
	if (da->ro != ro)
		return; /* rolled back: ro is gone */
	if (ro->step >= ro->spec.nsteps) {
		switch_all(ro, 0);
		return;
	}
	const struct canary_step *st = &ro->spec.steps[ro->step];
	int next = 0;
	switch (st->kind) {
	case STEP_WEIGHT:
		set_canary_weight(ro, st->weight);
		next = 1;
		break;
	case STEP_PAUSE:
		if (ro->promote || (st->duration_ms >= 0 && now - ro->step_ns >= (uint64_t)st->duration_ms * 1000000u))
			next = 1;
		else if (!ro->announced && st->duration_ms < 0)
			progress(ro, "paused at canary weight %d%%: run 'kiln promote %s' to continue", ro->weight,
				 ro->da->app->name);
		else if (!ro->announced)
			progress(ro, "pause %s at canary weight %d%%", duration_str(st->duration_ms).s, ro->weight);
		ro->announced = 1;
		break;
	case STEP_ANALYSIS:
		if (ro->weight <= 0 || ro->an_pass - ro->an_pass_step >= st->intervals)
			next = 1;
		break;
	}
	if (next) {
		ro->promote = 0;
		ro->announced = 0;
		ro->step++;
		ro->step_ns = now;
		ro->progress_ns = now;
		ro->an_pass_step = ro->an_pass;
		if (ro->step < ro->spec.nsteps)
			audit_step(ro);
	}
}

static void wait_tick(struct rollout *ro)
{
	struct dapp *da = ro->da;
	if (new_ready(ro) < da->app->instances)
		return;
	progress(ro, "all %d new instance(s) healthy", da->app->instances);
	if (ro->spec.kind == STRAT_CANARY && ro->prev_id) {
		ro->phase = PH_STEPS;
		ro->step = 0;
		ro->step_ns = now_ns();
		if (ro->spec.nsteps)
			audit_step(ro);
		return;
	}
	if (ro->spec.kind == STRAT_BLUEGREEN && !ro->spec.auto_promote && !ro->promote) {
		ro->phase = PH_PROMOTE_WAIT;
		progress(ro, "new color ready: run 'kiln promote %s' to switch", da->app->name);
		return;
	}
	switch_all(ro, ro->spec.kind == STRAT_BLUEGREEN ? (uint64_t)ro->spec.scale_down_delay_ms : 0);
}

/* why a new instance died, the first one that did: a wrong tag, a crash */
static void new_reason(struct rollout *ro, struct buf *why)
{
	struct dapp *da = ro->da;
	for (int i = 0; i < da->nslots; i++)
		if (is_new(ro, &da->slots[i]) && da->slots[i].reason[0]) {
			buf_addf(why, " (s%d: %s)", da->slots[i].idx, da->slots[i].reason);
			return;
		}
}

static int deadline_passed(struct rollout *ro, uint64_t now)
{
	int r = new_ready(ro);
	if (r != ro->last_ready) {
		ro->last_ready = r;
		ro->progress_ns = now;
	}
	return now - ro->progress_ns > (uint64_t)ro->da->app->progress_deadline_ms * 1000000u;
}

void deploy__rollout_tick(struct dapp *da, uint64_t now)
{
	struct rollout *ro = da->ro;
	if (!ro)
		return;
	struct buf why = BUF_INIT;
	int r;
	switch (ro->phase) {
	case PH_PRE:
		r = run_hooks(ro, &da->app->pre_hooks, &why);
		if (r < 0) {
			buf_addstr(&why, "; no traffic moved");
			rollback(ro, "failed", why.buf);
		} else if (r > 0) {
			ro->phase = PH_START;
			ro->progress_ns = now;
		}
		break;
	case PH_START:
		if (ro->spec.kind == STRAT_ROLLING && ro->prev_id) {
			ro->phase = PH_ROLL;
		} else if (deadline_passed(ro, now)) {
			rollback(ro, "failed", "no free server slots within progressDeadline");
		} else if (!start_new(ro, ROLE_STANDBY, da->app->instances)) {
			ro->phase = PH_WAIT;
			progress(ro, "started %d instance(s), waiting for health", da->app->instances);
		}
		break;
	case PH_WAIT:
	case PH_ROLL:
		if (ro->phase == PH_ROLL && old_leaving(ro))
			ro->progress_ns = now;
		if (deadline_passed(ro, now)) {
			buf_addf(&why, "%d of %d new instance(s) healthy after progressDeadline %s", new_ready(ro),
				 da->app->instances, duration_str(da->app->progress_deadline_ms).s);
			new_reason(ro, &why);
			rollback(ro, "failed", why.buf);
		} else if (ro->phase == PH_WAIT)
			wait_tick(ro);
		else
			roll_tick(ro);
		break;
	case PH_PROMOTE_WAIT:
		if (ro->promote)
			switch_all(ro, (uint64_t)ro->spec.scale_down_delay_ms);
		break;
	case PH_STEPS:
		steps_tick(ro, now);
		break;
	case PH_POST:
		r = run_hooks(ro, &da->app->post_hooks, &why);
		if (r < 0)
			rollback(ro, "rolled-back", why.buf);
		else if (r > 0) {
			char msg[96] = "";
			if (ro->switch_ms > 0)
				snprintf(msg, sizeof(msg), "switch took %s", duration_str(ro->switch_ms).s);
			finish(ro, "succeeded", 0, msg);
		}
		break;
	}
	buf_release(&why);
}

int deploy__rollout_start(struct dapp *da, const struct deploy_req *rq, struct client *waiter,
			  struct buf *err)
{
	if (da->ro) {
		buf_addf(err, "a rollout of %s is in progress (release %ld); 'kiln abort %s' first",
			 da->ro->version, da->ro->id, da->app->name);
		return EXIT_USAGE;
	}
	if (!deploy_version_ok(rq->version)) {
		buf_addf(err, "'%s' is not a valid version (letters, digits, '.', '_', '-'; or an image digest "
			 "sha256:<64 hex digits>)", rq->version);
		return EXIT_USAGE;
	}
	struct diags d = DIAGS_INIT;
	/* a config repository app is what git says now, else the app file */
	struct app *a = da->g ? deploy__gitops_app(da, &d) : app_load_named(da->d->apps_dir, da->app->name, &d);
	if (!a) {
		diags_sort(&d);
		for (size_t i = 0; i < d.nr; i++)
			buf_addf(err, "%s%s:%d:%d: %s: %s", i ? "\n" : "", d.v[i].file, d.v[i].line, d.v[i].col,
				 diag_level_name(d.v[i].level), d.v[i].msg);
		diags_release(&d);
		return EXIT_USAGE;
	}
	diags_release(&d);
	if (deploy__reshape_needed(da, a)) {
		/* a new listen address or more instances: HAProxy reloaded seamlessly */
		struct buf why = BUF_INIT;
		if (deploy__reshape(da, a, &why) < 0) {
			buf_addf(err, "%s: HAProxy could not be reloaded with its new listen/instances: %s", a->file,
				 why.buf);
			buf_release(&why);
			app_free(a);
			return EXIT_USAGE;
		}
		buf_release(&why);
	}
	app_free(da->app);
	da->app = a;
	if (deploy__release_dir_ok(da, rq->version, err) < 0)
		return EXIT_USAGE;
	struct rollout *ro = xcalloc(1, sizeof(*ro));
	ro->da = da;
	ro->spec = *app_strategy(a, rq->strategy);
	ro->version = xstrdup(rq->version);
	ro->user = xstrdup(rq->user ? rq->user : "");
	ro->manual = rq->manual_rollback;
	ro->sync = rq->sync;
	ro->cfg_commit = rq->cfg_commit ? xstrdup(rq->cfg_commit) : NULL;
	snprintf(ro->cfg_hash, sizeof(ro->cfg_hash), "%s", deploy__gitops_hash(da));
	ro->prev_id = da->stable_id;
	ro->prev_version = da->stable_version ? xstrdup(da->stable_version) : NULL;
	ro->start_ns = ro->progress_ns = now_ns();
	ro->hook_status = -1;
	char strat[48];
	snprintf(strat, sizeof(strat), "%s%s", rq->manual_rollback ? "rollback:" : "", strategy_name(ro->spec.kind));
	ro->id = dstore_release_begin(da->d->db, a->name, ro->version, strat, ro->user, ro->cfg_commit,
				      ro->cfg_hash[0] ? ro->cfg_hash : NULL);
	if (ro->id < 0) {
		buf_addstr(err, "cannot record the release in the store");
		rollout_free(ro);
		return EXIT_INTERNAL;
	}
	da->ro = ro;
	if (waiter) {
		ALLOC_GROW(ro->waiters, ro->nw + 1, ro->aw);
		ro->waiters[ro->nw++] = waiter;
	}
	dstore_audit(da->d->db, a->name, ro->id, "deploy-start", "%s by %s with %s (stable: %s)", ro->version,
		     *ro->user ? ro->user : "-", strat, ro->prev_version ? ro->prev_version : "none");
	struct buf plan = BUF_INIT;
	plan_text(ro, &plan);
	dstore_audit(da->d->db, a->name, ro->id, "plan", "%s", plan.buf);
	buf_release(&plan);
	struct buf msg = BUF_INIT;
	buf_addf(&msg, "release %ld: deploying %s to %s with %s", ro->id, ro->version, a->name, strat);
	deploy__notify(da, "started", msg.buf);
	progress(ro, "%s", msg.buf);
	buf_release(&msg);
	return 0;
}

int deploy__promote(struct dapp *da, struct buf *msg)
{
	struct rollout *ro = da->ro;
	if (!ro) {
		buf_addf(msg, "no rollout of %s in progress", da->app->name);
		return EXIT_USAGE;
	}
	if (ro->phase == PH_STEPS && (ro->step >= ro->spec.nsteps || ro->spec.steps[ro->step].kind != STEP_PAUSE))
		ro->step = ro->spec.nsteps; /* not paused: promote fully */
	ro->promote = 1;
	dstore_audit(da->d->db, da->app->name, ro->id, "promote", "requested in phase %s", phase_name(ro->phase));
	buf_addf(msg, "promoting release %ld (%s)", ro->id, ro->version);
	return 0;
}

int deploy__abort(struct dapp *da, const char *reason, struct buf *msg)
{
	struct rollout *ro = da->ro;
	if (!ro) {
		buf_addf(msg, "no rollout of %s in progress", da->app->name);
		return EXIT_USAGE;
	}
	buf_addf(msg, "aborted release %ld (%s); traffic on %s", ro->id, ro->version,
		 ro->prev_version ? ro->prev_version : "nothing");
	rollback(ro, "aborted", reason);
	return 0;
}

/* the retired instances of `version` that can take traffic back at once */
static int retained(struct dapp *da, const char *version)
{
	int n = 0;
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		n += s->role == ROLE_DRAIN && !s->stop_after_drain && s->alive && s->healthy && s->version &&
		     !strcmp(s->version, version);
	}
	return n;
}

int deploy__rollback(struct dapp *da, const char *version, const char *user, struct client *waiter,
		     struct buf *msg)
{
	if (da->ro) {
		buf_addf(msg, "a rollout of %s is in progress; use 'kiln abort %s'", da->ro->version, da->app->name);
		return EXIT_USAGE;
	}
	struct buf target = BUF_INIT;
	long prev_id = 0;
	if (version)
		buf_addstr(&target, version);
	else if (dstore_previous_good(da->d->db, da->app->name, da->stable_version, &target, &prev_id) < 0) {
		buf_addf(msg, "%s has no earlier successful release to roll back to", da->app->name);
		buf_release(&target);
		return EXIT_USAGE;
	}
	int kept = retained(da, target.buf);
	if (kept < da->app->instances) {
		/* nothing to switch back to at once: a blue-green deploy of the
		 * target, and until it is healthy traffic stays where it is */
		struct buf why = BUF_INIT;
		if (kept)
			buf_addf(&why, "only %d of %d %s instance(s) retained", kept, da->app->instances, target.buf);
		else if (da->app->strategy.kind == STRAT_BLUEGREEN)
			buf_addf(&why, "scale-down delay %s passed, no %s instance retained",
				 duration_str(da->app->strategy.scale_down_delay_ms).s, target.buf);
		else
			buf_addf(&why, "no %s instance retained", target.buf);
		struct deploy_req rq = { target.buf, STRAT_BLUEGREEN, user, 1, 0, NULL };
		char *from = xstrdup(da->stable_version ? da->stable_version : "nothing");
		int r = deploy__rollout_start(da, &rq, waiter, msg);
		if (!r) {
			buf_reset(msg);
			buf_addf(msg, "rolling back %s to %s: redeploying %s as release %ld (%s); traffic stays on %s "
				 "until %s is healthy, then moves; use --wait to follow it", da->app->name, target.buf,
				 target.buf, da->ro->id, why.buf, from, target.buf);
			progress(da->ro, "%s", msg->buf);
		}
		free(from);
		buf_release(&why);
		buf_release(&target);
		return r < 0 ? EXIT_INTERNAL : r;
	}
	/* instant: the previous color still runs, drained */
	long id = dstore_release_begin(da->d->db, da->app->name, target.buf, "rollback:instant", user, NULL, NULL);
	uint64_t t0 = now_ns();
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (s->role == ROLE_ACTIVE || s->role == ROLE_STANDBY)
			deploy__slot_retire(s, (uint64_t)da->app->alt[STRAT_BLUEGREEN].scale_down_delay_ms);
		else if (s->role == ROLE_DRAIN && !s->stop_after_drain && s->alive && s->version &&
			 !strcmp(s->version, target.buf)) {
			s->role = ROLE_ACTIVE;
			s->weight = 100;
			s->retire_ns = 0;
			s->release_id = id;
		}
	}
	deploy__sync(da);
	double ms = (double)(now_ns() - t0) / 1e6;
	for (int i = 0; i < da->nslots; i++)
		deploy__slot_persist(&da->slots[i]);
	char reason[160];
	snprintf(reason, sizeof(reason), "manual rollback from %s: switched to the retained instances in %s",
		 da->stable_version ? da->stable_version : "-", duration_str(ms).s);
	dstore_release_finish(da->d->db, id, "succeeded", reason, (long)(ms + 0.5));
	dstore_audit(da->d->db, da->app->name, id, "rollback", "%s", reason);
	da->stable_id = id;
	free(da->stable_version);
	da->stable_version = buf_detach(&target, NULL);
	dstore_app_set(da->d->db, da->app->name, id, da->stable_version, da->maintenance);
	deploy__notify(da, "rollback", reason);
	buf_addf(msg, "release %ld (%s): %s", id, da->stable_version, reason);
	if (waiter)
		deploy__client_done(waiter, 0, msg->buf);
	return waiter ? -1 : 0;
}

void deploy__abort_stale(struct dapp *da)
{
	long *ids;
	size_t n = dstore_running_releases(da->d->db, da->app->name, &ids);
	for (size_t k = 0; k < n; k++) {
		int moved = 0;
		for (int i = 0; i < da->nslots; i++) {
			struct slot *s = &da->slots[i];
			if (s->role != ROLE_FREE && s->release_id == ids[k]) {
				s->role = ROLE_STOP;
				moved++;
			} else if (s->role != ROLE_FREE && s->release_id == da->stable_id && s->role != ROLE_STOP) {
				s->role = ROLE_ACTIVE;
				s->weight = 100;
				s->retire_ns = 0;
				s->stop_after_drain = 0;
			}
		}
		deploy__sync(da);
		for (int i = 0; i < da->nslots; i++)
			if (da->slots[i].role == ROLE_STOP)
				deploy__slot_stop(&da->slots[i]);
		char reason[160];
		snprintf(reason, sizeof(reason), "controller restarted during the rollout; %d new instance(s) "
			 "stopped, traffic on stable %s", moved, da->stable_version ? da->stable_version : "-");
		dstore_release_finish(da->d->db, ids[k], "aborted", reason, -1);
		dstore_audit(da->d->db, da->app->name, ids[k], "aborted", "%s", reason);
		deploy__log(da, "release %ld: %s", ids[k], reason);
	}
	free(ids);
}

void deploy__rollout_describe(struct dapp *da, struct buf *out)
{
	struct rollout *ro = da->ro;
	if (!ro) {
		buf_addstr(out, "rollout: none\n");
		return;
	}
	buf_addf(out, "rollout: release %ld %s (%s), phase %s", ro->id, ro->version, strategy_name(ro->spec.kind),
		 phase_name(ro->phase));
	if (ro->phase == PH_STEPS)
		buf_addf(out, ", step %zu/%zu, canary weight %d%%, analysis %d ok / %d failed", ro->step + 1,
			 ro->spec.nsteps, ro->weight, ro->an_pass, ro->an_fail);
	buf_addch(out, '\n');
}
