/*
 * client: the agent's HTTP calls to the server, made on the libuv thread
 * pool (libcurl through deploy/webhook.c's loader: webhook_fetch) so the
 * agent's loop keeps running its jobs while a call waits. One call at a
 * time per struct acall; the callback runs on the loop.
 */
#ifndef KILN_AGENT_CLIENT_H
#define KILN_AGENT_CLIENT_H

#include <stdio.h>
#include <uv.h>

#include "base/buf.h"

struct acall;
typedef void (*acall_cb)(struct acall *c);

struct acall {
	uv_work_t work;
	/* in */
	const char *method;
	char *url;           /* owned */
	char *body;          /* owned, JSON or NULL */
	const char *token;   /* borrowed: lives as long as the agent */
	long timeout_ms;
	FILE *out;           /* set: the answer's body goes there (downloads) */
	/* out */
	long status;         /* HTTP status, or -1 (no answer: err) */
	struct buf resp;
	char err[256];
	acall_cb cb;
	void *arg;
	int busy;
};

/* start c (method, url and body are taken over); 0 or a libuv error */
int acall_start(uv_loop_t *loop, struct acall *c, const char *method, char *url, char *body,
		long timeout_ms, acall_cb cb, void *arg);
/* after the callback: free url, body, resp (the struct may be reused) */
void acall_reset(struct acall *c);

#endif
