/*
 * audit: the server's append-only audit log (migration 5): who did what,
 * when — approvals, rejections, dispatches, cancels, deploys, user, token,
 * environment and secret changes. Triggers refuse every UPDATE and DELETE
 * of audit_log, as deploy_audit does. Never put a secret value or a token
 * in `detail`.
 */
#ifndef KILN_STORE_AUDIT_H
#define KILN_STORE_AUDIT_H

#include "store/sql.h"
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct audit_row {
	int64_t id;
	int64_t at_ms;     /* unix milliseconds */
	char actor[128];   /* user name, or "kiln" for the server itself */
	char action[64];   /* e.g. "user.add", "token.create", "run.approve" */
	char repo[256];    /* "" when not about one repository */
	char target[256];  /* what was acted on: a user, token id, run, environment */
	char detail[1024]; /* free text (truncated), e.g. the approval comment */
};

/* append one entry at the current time; 0 or -1 with err */
int audit_append(struct db *db, const char *actor, const char *action, const char *repo,
		 const char *target, const char *detail, struct buf *err);

struct audit_filter {
	const char *repo;   /* NULL: any */
	const char *action; /* NULL: any; "run." matches every action starting so */
	int64_t before_id;  /* > 0: only entries older than this id (paging) */
	int limit;          /* <= 0: 100 */
};
/* newest first; *out malloc'd; 0 or -1 */
int audit_list(struct db *db, const struct audit_filter *f, struct audit_row **out, size_t *n,
	       struct buf *err);

#endif
