/*
 * app: the model of one deployable application, loaded from
 * `.kiln/apps/<name>.yml` and validated with file:line:col diagnostics.
 * A loaded app is plain data owned by `struct app` (app_free releases it).
 */
#ifndef KILN_DEPLOY_APP_H
#define KILN_DEPLOY_APP_H

#include "base/kiln.h"

enum probe_kind { PROBE_HTTP, PROBE_TCP, PROBE_EXEC };
enum strategy_kind { STRAT_ROLLING, STRAT_BLUEGREEN, STRAT_CANARY, STRAT_NONE };

struct probe_spec {
	enum probe_kind kind;
	char *path;            /* http: request path */
	int status;            /* http: expected status (0 = any 2xx/3xx) */
	struct strvec command; /* exec: argv */
	int interval_ms, timeout_ms, initial_delay_ms;
	int failure_threshold; /* consecutive failures that make a ready instance unhealthy */
	int success_threshold; /* consecutive successes that make an instance healthy */
};

enum canary_step_kind { STEP_WEIGHT, STEP_PAUSE, STEP_ANALYSIS };

struct canary_step {
	enum canary_step_kind kind;
	int weight;      /* STEP_WEIGHT: percent 0..100 */
	int duration_ms; /* STEP_PAUSE: -1 = until `kiln promote` */
	int intervals;   /* STEP_ANALYSIS: successful analysis intervals to wait for */
};

struct strategy_spec {
	enum strategy_kind kind;
	int max_surge, max_unavailable;      /* rolling */
	int auto_promote, scale_down_delay_ms; /* blueGreen */
	int preview_port;                    /* blueGreen: 0 = none */
	struct canary_step *steps;           /* canary */
	size_t nsteps;
};

/* analysis.latency: a quantile of the instances' own Prometheus histogram */
struct metrics_spec {
	int enabled;            /* analysis.latency given */
	char *path;             /* scraped as GET http://127.0.0.1:<port><path> */
	char *metric;           /* histogram base name (without _bucket) */
	double quantile;        /* 0 < q < 1, e.g. 0.95 */
	double max_ratio;       /* canary quantile / stable quantile */
	int timeout_ms;         /* per scrape */
};

struct analysis_spec {
	int interval_ms;
	double max_error_rate;  /* fraction, e.g. 0.05 */
	double max_latency_ratio; /* canary avg response time / stable's; 0 = off */
	int min_latency_delta_ms; /* ignore latency differences smaller than this */
	int failure_limit;      /* failed intervals before rollback */
	int min_requests;       /* fewer requests in an interval = inconclusive */
	struct metrics_spec latency; /* optional: p95 (or any quantile) from /metrics */
};

/* image: instances are podman containers of REF:<version> */
struct container_spec {
	char *image;            /* REGISTRY/NAME without tag; NULL = a process app */
	int port;               /* the port the container listens on (published on the slot's) */
	struct strvec volumes;  /* podman -v values; relative host paths made absolute */
	char *memory;           /* --memory, e.g. 256m; NULL = none */
	char *cpus;             /* --cpus, e.g. 0.5; NULL = none */
	int pids;               /* --pids-limit; 0 = none */
};

/* the keys a config repository file adds (src/deploy/gitops.c) */
struct gitops_spec {
	char *version;          /* desired release: `version:`, `image.tag` or the image's :TAG / @DIGEST */
	int image_ref;          /* the release is part of `image:` (REF:TAG, REF@sha256:...) */
	int version_line, version_col; /* where it was written, for messages */
	int wave;               /* sync wave: lower first */
	int automated;          /* automated: sync without a person */
	int prune, self_heal;   /* automated.prune / automated.selfHeal */
};

struct app {
	char *name;
	char *file;             /* path it was loaded from */
	char *root;             /* directory relative paths resolve against */
	struct strvec command;  /* argv; $PORT, $KILN_RELEASE, ${VAR} expanded at start */
	struct strvec env;      /* NAME=VALUE */
	char *dir;              /* working directory template, or NULL = root */
	int instances;
	char *listen_addr;      /* HAProxy frontend bind, e.g. 127.0.0.1 */
	int listen_port;
	struct probe_spec health;
	struct strategy_spec strategy; /* the default strategy */
	struct strategy_spec alt[3];   /* settings per kind, for --strategy */
	struct analysis_spec analysis;
	struct strvec pre_hooks, post_hooks; /* each a command line run with /bin/sh -c */
	struct strvec webhooks;
	int progress_deadline_ms;
	int drain_timeout_ms;
	int stop_timeout_ms;
	struct container_spec ctr; /* ctr.image != NULL: a container app */
	struct gitops_spec git;    /* only from a config repository */
};

/* is `name` a valid app or version name ([A-Za-z0-9._-], no leading dot) */
int deploy_name_ok(const char *name);
/* is v an image digest: sha256: and 64 lowercase hex digits */
int deploy_digest_ok(const char *v);
/* a release's version: a name, or (image apps) a digest */
int deploy_version_ok(const char *v);
/* v for a table: a digest shortened to sha256: and 12 hex digits (as docker) */
const char *deploy_version_short(const char *v, char out[20]);
/* the image reference of release `version`: IMAGE:VERSION, or IMAGE@DIGEST */
void deploy_image_ref(const char *image, const char *version, struct buf *out);
/* REF without its :TAG or @DIGEST (returned, allocated); *release = the
 * tag or digest (allocated) or NULL when REF has none */
char *deploy_image_split(const char *ref, char **release);

/*
 * Load and validate one app file. `name` is the app's name (file stem),
 * `root` the directory relative `dir:` resolves against. On error every
 * problem is added to `d` and NULL is returned.
 */
struct app *app_load(const char *file, const char *name, const char *root, struct diags *d);
/*
 * The same for a file of a config repository: `version`, `wave` and
 * `automated` are allowed too. `text` is the file's content (from git,
 * not the disk); `display` the name used in messages.
 */
struct app *app_load_gitops(const char *display, const char *text, size_t len, const char *name,
			    const char *root, struct diags *d);
/* load `<appsdir>/<name>.yml` (or .yaml); root is appsdir/../.. */
struct app *app_load_named(const char *appsdir, const char *name, struct diags *d);
void app_free(struct app *a);

/* the strategy settings of `kind` (defaults when the file had none) */
const struct strategy_spec *app_strategy(const struct app *a, enum strategy_kind kind);

const char *strategy_name(enum strategy_kind k);
/* parse "rolling" | "blueGreen" | "canary" (also blue-green); STRAT_NONE if unknown */
enum strategy_kind strategy_parse(const char *s);
const char *probe_kind_name(enum probe_kind k);

/* write the plan a deploy of `a` with strategy `s` would follow (dry run) */
void app_describe_plan(const struct app *a, const struct strategy_spec *s, const char *version,
		       struct buf *out);

/* parse "1.5s", "200ms", "2m", "3" (seconds) into ms; -1 on error */
int parse_duration_ms(const char *s);

#endif
