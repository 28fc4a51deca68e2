/*
 * status: commit statuses reported back to the forge for each event's run
 * (GitHub and Gitea `POST /repos/{owner}/{repo}/statuses/{sha}`, GitLab
 * `POST /projects/{id}/statuses/{sha}`), with the repository's token as a
 * Bearer token, sent on the thread pool and retried with back-off
 * (deploy/webhook's sender): a forge that is down never blocks or fails a
 * run. The final state is sent after the "pending" one has been delivered
 * (or given up), so it cannot be overtaken.
 */
#ifndef KILN_STATUS_H
#define KILN_STATUS_H

#include <uv.h>

#include "base/buf.h"

struct srv;
struct repo_row;
struct event_row;
struct statuses;
struct status_job;

/* NULL (with a warning printed) when libcurl cannot be loaded */
struct statuses *statuses_new(struct srv *s, int max_attempts, uint64_t backoff_ms);
/* the run of ev started: "pending"; NULL when the repository reports none */
struct status_job *status_start(struct statuses *st, const struct repo_row *repo,
				const struct event_row *ev);
/* the run ended: state success, failure or error (cancelled, could not run);
 * job is then owned by the module (freed once sent) */
void status_end(struct status_job *job, const char *state, const char *description);
/* the run's end is another's to tell (its event was taken for lost by
 * another replica): nothing more is sent; job is then owned by the module */
void status_drop(struct status_job *job);
/* give up retries, wait for requests in flight, free, then closed(arg) */
void statuses_close(struct statuses *st, void (*closed)(void *arg), void *arg);

#endif
