/*
 * queue: turns queued events into runs. Up to `capacity` events run at
 * once, oldest first; each gets a work tree of its commit (src/git/mirror:
 * the workflows are read from the pushed commit, as GitHub does) and one
 * `kiln run` child process supervised on the server's loop, which records
 * the run, its jobs, steps and masked logs in the same store (one history:
 * `kiln runs --all`, `kiln logs`). Pull requests from forks run with
 * --no-secrets. The child dies with the server (KILN_DIE_WITH: its main()
 * sets PR_SET_PDEATHSIG); at the next start, events that were running end as failure
 * "server restarted" and queued ones continue.
 */
#ifndef KILN_QUEUE_H
#define KILN_QUEUE_H

#include <stdint.h>

#include "base/buf.h"

struct srv;
struct queue;

/* recover what a crash left, then start taking events; 0 or -1 with err */
int queue_new(struct srv *s, unsigned capacity, struct queue **out, struct buf *err);
/* look for queued events now (after a webhook or a poll committed some) */
void queue_kick(struct queue *q);
/* cancel an event's run: 0, KILN_ENOENT (not running here) */
int queue_cancel(struct queue *q, int64_t event_id);
/* runs in progress */
unsigned queue_running(const struct queue *q);
/* stop taking events, cancel running ones (SIGTERM: kiln run cancels its
 * jobs, SIGKILL after its grace period); `done` once none is left */
void queue_stop(struct queue *q, void (*done)(void *arg), void *arg);
/* free after queue_stop's done */
void queue_free(struct queue *q);

#endif
