/*
 * hooks: notification webhooks of the server in the store (migration 7),
 * configured per repository, optionally for one environment. The URL is
 * kept sealed (a Slack incoming-webhook URL is a credential); only its host
 * is stored in clear, for listings.
 */
#ifndef KILN_STORE_HOOKS_H
#define KILN_STORE_HOOKS_H

#include "store/sql.h"
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct hook_row {
	int64_t id;
	char repo[256];
	char environment[256]; /* "" = every environment and plain runs */
	char kind[16];         /* "slack" or "json" */
	char events[256];      /* comma-separated event names, "" = all */
	char host[256];        /* the URL's host, for people */
	struct buf box;        /* the sealed URL (hooks_list leaves it empty) */
	int64_t created_ms;
};

#define HOOK_ROW_INIT { 0, "", "", "", "", "", BUF_INIT, 0 }
void hook_row_release(struct hook_row *h);

int hooks_insert(struct db *db, const struct hook_row *h, int64_t *id, struct buf *err);
/* 0 or KILN_ENOENT */
int hooks_delete(struct db *db, const char *repo, int64_t id, struct buf *err);
/* repo's hooks (repo NULL: all) without the sealed URL; release each */
int hooks_list(struct db *db, const char *repo, struct hook_row **out, size_t *n, struct buf *err);
/* the hooks that want (repo, environment) with their sealed URLs: those of
 * the repository for every environment plus those of `environment` */
int hooks_for(struct db *db, const char *repo, const char *environment, struct hook_row **out,
	      size_t *n, struct buf *err);

#endif
