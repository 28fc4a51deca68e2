/*
 * schedule: `on: schedule` triggers of every repository, as GitHub runs
 * them: the workflows of the default branch's latest commit (as the mirror
 * last fetched it) are read each minute and every cron that matches the
 * minute (UTC) queues a `schedule` event for that workflow. The delivery id
 * is REPO:FILE:CRON:MINUTE, so a restart within the minute does not fire
 * twice; minutes the server was down are not caught up (GitHub neither).
 */
#ifndef KILN_SCHEDULE_H
#define KILN_SCHEDULE_H

#include <stdint.h>

struct srv;
struct scheduler;

struct scheduler *scheduler_new(struct srv *s);
/* the work of one minute (epoch seconds of its start): events queued */
int scheduler_tick(struct scheduler *sc, int64_t minute);
void scheduler_free(struct scheduler *sc);

#endif
