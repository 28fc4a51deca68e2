/*
 * ctl: the deploy controller's in-memory model, shared by the files of
 * src/deploy/ (deploy__* helpers). One `struct deployd` owns the loop's
 * handles, the store, the HAProxy process and every app's slots; a slot is
 * one HAProxy server (`<app>/s<N>`) with at most one instance behind it.
 *
 * Traffic is level-triggered: each slot has a desired role (standby,
 * active at a weight, drain, stop) and deploy__sync() sends HAProxy only
 * the difference between what it was last told and what the role, the
 * process state and the health allow -- a server is `ready` only while
 * its instance is alive AND its probe passes.
 */
#ifndef KILN_DEPLOY_CTL_H
#define KILN_DEPLOY_CTL_H

#include "store/sql.h"
#include <uv.h>

#include "base/kiln.h"
#include "deploy/app.h"
#include "deploy/child.h"
#include "deploy/gitops.h"
#include "engine/podman.h"

enum slot_role {
	ROLE_FREE,    /* no instance */
	ROLE_STANDBY, /* running, probed, no traffic (new release before switch) */
	ROLE_ACTIVE,  /* takes traffic at `weight` once healthy */
	ROLE_DRAIN,   /* no new traffic; retired color or on its way out */
	ROLE_STOP,    /* being stopped */
};
const char *slot_role_name(enum slot_role r);
enum slot_role slot_role_parse(const char *s);

struct dapp;

struct slot {
	struct dapp *da;
	int idx;                 /* 1-based: HAProxy server s<idx> */
	enum slot_role role;
	int weight;              /* HAProxy weight when active (0..256) */
	long release_id;
	char *version;
	int port;
	int pid;
	struct child *child;     /* NULL when adopted from a previous controller or dead */
	int alive, healthy;
	int succ, fail;          /* consecutive probe results */
	int probing;
	char check[64];          /* the last probe's result, "L7OK 200 in 2ms"; "" none yet */
	unsigned gen;            /* bumped at each (re)start; stale probe results are ignored */
	int restarts;
	char reason[256];        /* why the instance last died ("" = it did not) */
	int stop_after_drain;    /* drain, then stop when sessions reach 0 */
	uint64_t next_probe_ns, drain_ns, stop_ns, restart_ns, retire_ns;
	/* what HAProxy was last told */
	int hap_port, hap_weight;
	char hap_state[8];
	/* the same for the blue-green preview backend */
	int hap_pport;
	char hap_pstate[8];
};

struct rollout;

struct dapp {
	struct deployd *d;
	struct app *app;
	struct slot *slots;
	int nslots;
	long stable_id;          /* release serving when idle; 0 = none yet */
	char *stable_version;
	int maintenance;
	struct rollout *ro;      /* the rollout in progress, or NULL */
	int probes;              /* probes in flight (stale ones included) */
	int preview;             /* HAProxy has a <app>_preview backend */
	struct gapp *g;          /* from the config repository (gitops.c); NULL = .kiln/apps */
	int hap_off;             /* not in HAProxy's config (pruned, its instances gone) */
};

struct client;

struct deployd {
	uv_loop_t *loop;
	char *state_dir, *apps_dir;
	char *hap_sock;          /* HAProxy admin socket */
	char *ctl_sock;          /* where the CLI connects */
	struct db *db;
	struct dapp **apps;
	size_t napps, aapps;
	int hap_pid;
	struct child *hap;
	int hap_old_pid;         /* the HAProxy the last reload replaced (finishing its connections) */
	uv_pipe_t server;
	uv_timer_t tick;
	uv_signal_t sigterm, sigint, sigquit;
	int stopping;
	int leave_running;       /* SIGQUIT: exit, the instances and HAProxy go on for the next one */
	int exit_code;
	struct podman pm;        /* for image apps; pm.prog NULL until the first one starts */
	char ctr_id[17];         /* this state dir's hash: container names of two controllers differ */
	struct gitops *git;      /* the config repository, NULL without --config-repo */
};

/* the tick period: drives rollouts, drains, probes, restarts */
#define DEPLOY_TICK_MS 20

/* ---- ctl.c ---- */
struct dapp *deploy__app(struct deployd *d, const char *name);
/* a new app of the controller, owning `a` (its slots sized for HAProxy) */
struct dapp *deploy__dapp_add(struct deployd *d, struct app *a);
/* free an app that never ran anything (and is no longer in d->apps) */
void deploy__dapp_free(struct dapp *da);
/* what the store says da runs: adopt its live instances, tell HAProxy */
void deploy__adopt(struct dapp *da);
/* regenerate HAProxy's config for the current apps and reload it without
 * refusing a connection; the runtime state carries over (server-state file) */
int deploy__hap_reload(struct deployd *d, struct buf *err);
/* does a need another frontend or more server slots than da has */
int deploy__reshape_needed(const struct dapp *da, const struct app *a);
/* give da a's frontend (listen, preview) and slot count (grown, never
 * shrunk) by a seamless reload; da->app stays; -1 with HAProxy's reason
 * and nothing changed */
int deploy__reshape(struct dapp *da, struct app *a, struct buf *err);
/* log a line to the controller's log (stderr) */
void deploy__log(struct dapp *da, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- slot.c ---- */
/* start the instance of release/version in slot s with role r */
int deploy__slot_start(struct slot *s, long release_id, const char *version, enum slot_role r,
		       struct buf *err);
/* take the slot out of traffic now and stop its instance (SIGTERM, then SIGKILL) */
void deploy__slot_stop(struct slot *s);
/* drain, then stop once HAProxy reports no sessions (or drainTimeout) */
void deploy__slot_retire(struct slot *s, uint64_t keep_ms);
void deploy__slot_persist(struct slot *s);
/* does the working directory of `version` exist (message in err when not) */
int deploy__release_dir_ok(struct dapp *da, const char *version, struct buf *err);
/* a free slot, or NULL */
struct slot *deploy__free_slot(struct dapp *da);
/* bring HAProxy in line with every slot of da in one runtime API call */
int deploy__sync(struct dapp *da);
/* per tick: probes, restarts, drains, stop escalation, adopted pids */
void deploy__slots_tick(struct dapp *da, uint64_t now);
/* when idle: keep `instances` of the stable release active, retire others */
void deploy__converge(struct dapp *da);

/* ---- container.c ---- */
/* the 16 hex digits naming this controller's containers */
void deploy__ctr_id(const char *state_dir, char out[17]);
/* kiln-deploy-<id>-<app>-s<N> */
void deploy__ctr_name(const struct slot *s, struct buf *out);
/* the podman run command line of the slot's instance and podman's environment */
int deploy__ctr_cmd(struct slot *s, struct strvec *argv, struct strvec *penv, struct buf *err);
/* podman exec <container> cmd... (exec health probes of image apps) */
void deploy__ctr_exec_argv(const struct slot *s, const struct strvec *cmd, struct strvec *argv);
/* why the instance exited with status: a pull failure, a wrong tag, a crash */
void deploy__ctr_reason(const struct slot *s, const char *logpath, int status, struct buf *out);
/* podman rm -f the slot's container (after SIGKILL of its podman) */
void deploy__ctr_remove(struct slot *s);

/* ---- gitops.c ---- */
/* the first fetch (synchronous) and the repository's apps as dapps; 0 or an exit code */
int deploy__gitops_init(struct deployd *d, const struct gitops_opts *o);
/* after HAProxy runs and the apps are adopted: the poll timer, the webhook listener */
int deploy__gitops_start(struct deployd *d, struct buf *err);
/* listen for signed push webhooks on addr ("127.0.0.1:8470"); 0 or -1 with err */
int deploy__gitops_webhook(struct deployd *d, const char *addr, struct buf *err);
/* per tick: start the syncs that are due, lowest wave first */
void deploy__gitops_tick(struct deployd *d);
/* close the handles (shutdown) and free everything */
void deploy__gitops_close(struct deployd *d);
void deploy__gitops_free(struct deployd *d);
/* the definition a rollout of a config repository app uses, or NULL (errors in dg) */
struct app *deploy__gitops_app(struct dapp *da, struct diags *dg);
/* the hash of the definition deploy__gitops_app parsed ("" for other apps) */
const char *deploy__gitops_hash(struct dapp *da);
/* a rollout of a config repository app ended (sync: it was a sync) */
void deploy__gitops_done(struct dapp *da, const char *cfg_hash, const char *cfg_commit, int sync,
			 const char *outcome, const char *reason);
/* `kiln sync APP`: roll out what git says now; 0 or an exit code with msg */
int deploy__gitops_sync(struct dapp *da, const char *user, struct client *waiter, struct buf *msg);
/* fetch now (webhook, `kiln sync --refresh`) */
void deploy__gitops_refresh(struct deployd *d, const char *why);
/* `kiln rollback APP` of a config repository app: commit the previous good
 * release to the repository (or say which commit to revert); -1 = the
 * client is answered later, else an exit code with msg */
int deploy__gitops_rollback(struct dapp *da, const char *user, struct client *waiter, struct buf *msg);
/* a client waiting for that went away */
void deploy__gitops_drop_waiter(struct dapp *da, struct client *c);
/* the gitops lines of `kiln status APP` */
void deploy__gitops_describe(struct dapp *da, struct buf *out);
/* `kiln status` without an app: every app with sync and health */
void deploy__gitops_list(struct deployd *d, struct buf *out, int json);

/* ---- rollout.c ---- */
struct deploy_req {
	const char *version;
	enum strategy_kind strategy; /* STRAT_NONE = the app's default */
	const char *user;
	int manual_rollback;         /* record as a rollback */
	int sync;                    /* a gitops sync: record cfg_commit and the outcome */
	const char *cfg_commit;      /* the config commit it applies (sync) */
};
/* start a rollout; 0, or an exit code (1/2) with a message in err */
int deploy__rollout_start(struct dapp *da, const struct deploy_req *rq, struct client *waiter,
			  struct buf *err);
void deploy__rollout_tick(struct dapp *da, uint64_t now);
int deploy__promote(struct dapp *da, struct buf *msg);
int deploy__abort(struct dapp *da, const char *reason, struct buf *msg);
/* `kiln rollback`: instant switch to a retired color, or a blue-green deploy */
int deploy__rollback(struct dapp *da, const char *version, const char *user, struct client *waiter,
		     struct buf *msg);
/* the controller restarted: a rollout found running is aborted to stable */
void deploy__abort_stale(struct dapp *da);
/* describe the rollout for status */
void deploy__rollout_describe(struct dapp *da, struct buf *out);
/* HAProxy now sends traffic to a server of release_id (deploy__sync) */
void deploy__rollout_note_ready(struct dapp *da, long release_id);
/* a waiting client went away */
void deploy__rollout_drop_waiter(struct dapp *da, struct client *c);

/* ---- server.c ---- */
int deploy__server_start(struct deployd *d, struct buf *err);
/* send one JSON line to a client; done=1 closes it after writing */
void deploy__client_send(struct client *c, const char *json, int done);
/* send {"event":"progress","msg":...} */
void deploy__client_progress(struct client *c, const char *msg);
/* send the final {"done":true,"exit":N,"msg":...} and close */
void deploy__client_done(struct client *c, int exit_code, const char *msg);
void deploy__server_close(struct deployd *d);

/* ---- notify.c ---- */
/* POST {"text":..., "app":..., "event":...} to each webhook, on the thread pool, with retries */
void deploy__notify(struct dapp *da, const char *event, const char *text);

#endif
