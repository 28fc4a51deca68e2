/*
 * webhook: JSON POSTs over libcurl, loaded with dlopen on first use, and a
 * sender that retries them with back-off off the loop (the deploy
 * controller's and the server's notifications).
 * libcurl pulls ~25 shared libraries (TLS, Kerberos, LDAP, ...) that cost
 * about 5 ms of dynamic linking at every kiln start; only the deploy
 * controller's notifications need it, so only they pay for it.
 */
#ifndef KILN_WEBHOOK_H
#define KILN_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"

/* load libcurl and initialise it (call once, from the loop thread, before
 * any webhook_post); 0, or -1 with a message in err when unavailable */
int webhook_init(char *err, unsigned long errlen);
/* POST body (JSON) to url; 0 on a 2xx answer, -1 otherwise. Thread-safe
 * after webhook_init succeeded. */
int webhook_post(const char *url, const char *body);
/* the same; on failure err receives why ("HTTP 500", curl's message) */
int webhook_post_err(const char *url, const char *body, char *err, size_t errlen);

/*
 * One HTTP request (the CLI's --server client): method, url, an optional
 * bearer token and JSON body. The answer's body goes to on_data when set
 * (streamed as it arrives: Server-Sent Events), else into resp. timeout_ms
 * 0 = none (streams). Returns the HTTP status (> 0), or -1 with err (no
 * answer: connection refused, time-out, TLS...). Blocking; not on a loop.
 */
struct webhook_req {
	const char *method, *url;
	const char *token;   /* sent as Authorization: Bearer; may be NULL */
	const char *body;    /* JSON, may be NULL */
	const char *accept;  /* Accept header, NULL for application/json */
	long timeout_ms;
	size_t (*on_data)(const char *data, size_t len, void *arg); /* return len to go on */
	void *arg;
};
long webhook_fetch(const struct webhook_req *r, struct buf *resp, char *err, size_t errlen);

/*
 * A sender: POSTs on the libuv thread pool (never blocking the loop) and
 * retries a failed delivery with exponential back-off driven by loop
 * timers (no pool thread sleeps): attempt k + 1 starts backoff_ms * 2^(k-1)
 * after attempt k failed, up to max_attempts. `done` runs on the loop once
 * per post: ok 1 delivered, 0 given up (error says why; "stopping" when
 * the sender was closed first). URLs are never logged by the sender (a
 * Slack webhook URL is a credential).
 */
struct webhook_sender;
typedef void (*webhook_done_fn)(void *arg, int ok, int attempts, const char *error);
/* webhook_init must have succeeded */
struct webhook_sender *webhook_sender_new(uv_loop_t *loop, int max_attempts, uint64_t backoff_ms);
/* copies url and body; not after webhook_sender_close */
void webhook_sender_post(struct webhook_sender *s, const char *url, const char *body,
			 webhook_done_fn done, void *arg);
/* the same with `Authorization: Bearer token` (commit statuses); token NULL
 * = none. The token is copied and never logged. */
void webhook_sender_post_token(struct webhook_sender *s, const char *url, const char *token,
			       const char *body, webhook_done_fn done, void *arg);
/* deliveries posted and not done yet */
size_t webhook_sender_pending(const struct webhook_sender *s);
/* give up pending retries (their done says "stopping"), wait for posts in
 * flight, then free the sender and call closed(arg) */
void webhook_sender_close(struct webhook_sender *s, void (*closed)(void *arg), void *arg);

#endif
