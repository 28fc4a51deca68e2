/*
 * logstream: GET /api/v1/jobs/{id}/logs/stream — a job's log, live, as
 * Server-Sent Events: one event per log line (already masked when kiln run
 * recorded it), its 1-based line number as the id, so a client that
 * reconnects with Last-Event-ID: N gets line N+1 onwards — no gap, no
 * duplicate; then `event: end` with the job's conclusion.
 *
 * One tailer per followed job, however many followers: it reads the store
 * every LOGSTREAM_TICK_MS (kiln run makes its lines durable per loop
 * turn), keeps the lines so far in memory, and writes each new batch once
 * per follower; a follower that falls LOGSTREAM_MAX_BUFFERED behind is
 * dropped (it reconnects and resumes; a log longer than that from its
 * start is read with GET /api/v1/runs/{id}/logs). The tailer goes with its
 * last follower.
 */
#ifndef KILN_LOGSTREAM_H
#define KILN_LOGSTREAM_H

#include <stddef.h>

#define LOGSTREAM_TICK_MS 250
#define LOGSTREAM_MAX_BUFFERED (8 * 1024 * 1024)

struct srv;
struct logstreams;

struct logstreams *logstreams_new(struct srv *s);
void logstreams_register(struct srv *s);
/* end every stream (shutdown) and free */
void logstreams_free(struct logstreams *ls);

#endif
