/*
 * poll: polling of repositories that have an interval (`kiln repo add
 * --poll`): fetch the mirror on the libuv thread pool, diff its refs against
 * the refs last seen (in the store) and commit push events for what
 * changed, in one transaction with the new refs. A deleted branch or tag
 * is recorded but starts nothing. One fetch at a time.
 */
#ifndef KILN_POLL_H
#define KILN_POLL_H

#include <stdint.h>

#include "base/buf.h"
#include "base/strvec.h"

struct srv;
struct poller;
struct event_row;

/* tick_ms: how often due repositories are looked for; 0 or -1 with err */
int poller_new(struct srv *s, uint64_t tick_ms, struct poller **out, struct buf *err);
/* no new polls (a running fetch completes and commits) */
void poller_stop(struct poller *p);
void poller_free(struct poller *p);

/*
 * The push events between two ref lists (sorted "NAME=SHA" strings):
 * changed and new refs give pushes, vanished ones deletions. evs is
 * allocated (*n of them); its strings point into old/new and `payloads`
 * (which receives the JSON texts). Pure: unit-testable.
 */
void poll_diff(const struct strvec *old, const struct strvec *now, const char *repo_name,
	       const char *url, int64_t repo_id, struct event_row **evs, size_t *n,
	       struct strvec *payloads);

#endif
