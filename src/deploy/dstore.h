/*
 * dstore: the deploy controller's state in SQLite: releases (history with
 * outcome and reason), the append-only audit log, the instances each app
 * runs (so a restarted controller knows them) and each app's stable release.
 */
#ifndef KILN_DEPLOY_DSTORE_H
#define KILN_DEPLOY_DSTORE_H

#include "store/sql.h"

#include "base/kiln.h"

/* a new release row in state 'running'; returns its id or -1. config_commit
 * and config_hash: what a config repository asked for (NULL = not gitops) */
long dstore_release_begin(struct db *db, const char *app, const char *version, const char *strategy,
			  const char *user, const char *config_commit, const char *config_hash);
/* the config commit and hash of release id ("" when none); 0 or -1 */
int dstore_release_config(struct db *db, long id, struct buf *commit, struct buf *hash);

/* the last sync of a config repository app */
struct dsync {
	char hash[24];      /* the app file's hash it applied */
	char commit[48];    /* the config commit */
	char outcome[16];   /* running, succeeded, failed, pruned */
	char reason[512];
};
int dstore_sync_save(struct db *db, const char *app, const struct dsync *s);
/* 0 when found, -1 when the app was never synced */
int dstore_sync_get(struct db *db, const char *app, struct dsync *s);
/* set outcome (succeeded|failed|rolled-back|aborted), reason, finish time */
int dstore_release_finish(struct db *db, long id, const char *outcome, const char *reason, long duration_ms);
/* releases still 'running' for app (ids into *ids, owned); returns count */
size_t dstore_running_releases(struct db *db, const char *app, long **ids);
/* version of release id into out; 0 or -1 */
int dstore_release_version(struct db *db, long id, struct buf *out);
/* the newest succeeded release of app whose version differs from `not` */
int dstore_previous_good(struct db *db, const char *app, const char *not, struct buf *version, long *id);

/* append to the audit log */
void dstore_audit(struct db *db, const char *app, long release_id, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* one instance slot as persisted */
struct dslot {
	int slot;
	long release_id;
	char version[80];
	int port, pid;
	char role[16];
};
int dstore_slot_save(struct db *db, const char *app, const struct dslot *s);
int dstore_slot_clear(struct db *db, const char *app, int slot);
/* every persisted slot of app; returns count, *out owned */
size_t dstore_slots_load(struct db *db, const char *app, struct dslot **out);

int dstore_app_set(struct db *db, const char *app, long stable_release, const char *stable_version,
		   int maintenance);
/* 0 when found, -1 when the app has no row yet */
int dstore_app_get(struct db *db, const char *app, long *stable_release, struct buf *stable_version,
		   int *maintenance);

/* one release as the history keeps it (the web UI's timeline) */
struct drelease {
	long id;
	char app[128], version[80], strategy[16], user[128];
	char started_at[40];  /* as stored: ISO 8601 UTC */
	char outcome[16];     /* running, succeeded, failed, rolled-back, aborted */
	long duration_ms;     /* -1 while running */
	char reason[512];
};
/* the newest releases first, of app or of every app (NULL), at most
 * limit; returns the count (0 on error), *out owned */
size_t dstore_releases(struct db *db, const char *app, int limit, struct drelease **out);

/* one row of the audit log */
struct daudit {
	char at[40];       /* ISO 8601 UTC (milliseconds since this kiln) */
	char event[32];    /* deploy-start, plan, step, set-weight, analysis, rolling,
			    * promote, switch, incident, succeeded, failed, ... */
	char detail[512];
};
/* the audit rows of one release of app in order (at most 5000); returns
 * the count, *out owned */
size_t dstore_audit_list(struct db *db, const char *app, long release_id, struct daudit **out);

/* print the release history (or as JSON lines) */
int dstore_print_releases(struct db *db, const char *app, int json, FILE *out);
/* print the audit log of app */
int dstore_print_audit(struct db *db, const char *app, FILE *out);

#endif
