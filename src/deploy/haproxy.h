/*
 * haproxy: the one HAProxy the deploy controller owns. Generates its
 * config once (a frontend and a backend per app with pre-declared, disabled
 * server slots) and drives every traffic change through the runtime API on
 * the admin unix socket; parses `show stat` for analysis.
 */
#ifndef KILN_DEPLOY_HAPROXY_H
#define KILN_DEPLOY_HAPROXY_H

#include "base/kiln.h"
#include "deploy/app.h"

/*
 * The names kiln derives from an app's name: the frontend fe_APP, the
 * backend APP and these suffixes. An app name is [A-Za-z0-9._-], so a
 * suffix with ':' (valid in HAProxy names) never equals another app's
 * backend: apps `web` and `web_maint` both work.
 */
#define HAP_MAINT ":maint"
#define HAP_PREVIEW ":preview"

/* slots per app backend: enough for two full sets of instances */
static inline int hap_slots(const struct app *a) { return 2 * a->instances; }

/* append the global/defaults sections; `sock` is the admin socket path,
 * `state` the server-state file a reload carries the runtime state in */
void hap_config_global(struct buf *cfg, const char *sock, const char *state);
/* append the frontend, backend (nslots servers) and maintenance backend of one app */
void hap_config_app(struct buf *cfg, const struct app *a, int nslots);

/*
 * Run one or more runtime API commands (joined with ';') on the admin
 * socket and read the whole answer into `out`. Returns 0, or -1 with a
 * message in err when the socket cannot be reached. Blocks at most ~2s; the
 * socket is local and HAProxy answers in microseconds.
 */
int hap_cmd(const char *sock, const char *cmd, struct buf *out, struct buf *err);
/* like hap_cmd for `set ...` commands: any non-blank answer is an error */
int hap_set(const char *sock, const char *cmd, struct buf *err);

/* one server (or BACKEND/FRONTEND) row of `show stat` */
struct hap_stat {
	char px[96], sv[64]; /* an app name is at most 64 bytes, plus a suffix */
	long scur;     /* current sessions */
	long stot;     /* total sessions */
	long hrsp[6];  /* responses by class: [1]=1xx .. [5]=5xx, [0]=other */
	long rtime;    /* avg response time of the last 1024 requests, ms */
	long weight;
	char status[24]; /* UP, DOWN, MAINT, DRAIN, no check ... */
};

/* parse `show stat` CSV; returns the number of rows put in *rows (owned) */
size_t hap_parse_stat(const char *csv, struct hap_stat **rows);
/* fetch and parse; returns row count or -1 */
long hap_show_stat(const char *sock, struct hap_stat **rows, struct buf *err);
/* the row for px/sv, or NULL */
const struct hap_stat *hap_find(const struct hap_stat *rows, size_t n, const char *px, const char *sv);
/* responses counted in a row (all classes) */
long hap_responses(const struct hap_stat *r);

#endif
