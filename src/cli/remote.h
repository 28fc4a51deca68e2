/*
 * remote: the CLI's side of `kiln serve`'s API — `--server URL` /
 * KILN_SERVER and `--token T` / KILN_TOKEN, one JSON request through the
 * dlopen'ed libcurl (src/deploy/webhook.c), errors printed in git's voice.
 * Exit codes: 0 a 2xx answer; 2 the server refused the input (400); 1 any
 * other refusal (401, 403, 404, 409, 429); 3 no answer or a 5xx.
 */
#ifndef KILN_CLI_REMOTE_H
#define KILN_CLI_REMOTE_H

#include <jansson.h>

#include "base/buf.h"

struct remote {
	const char *server; /* base URL, no trailing slash needed */
	const char *token;
};

/* flags over KILN_SERVER / KILN_TOKEN; 1 when a server is set, else 0 */
int remote_resolve(struct remote *r);
/*
 * METHOD the server's `path` (already escaped, see remote_path_add) with
 * body (stolen; NULL for none). *out (may be NULL) gets the parsed answer
 * of a 2xx. Returns the exit code; prints "kiln CMD: error: ..." otherwise.
 */
int remote_call(const struct remote *r, const char *cmd, const char *method, const char *path,
		json_t *body, json_t **out);
/* append one path segment percent-encoded; keep_slash keeps '/' (OWNER/NAME) */
void remote_path_add(struct buf *b, const char *segment, int keep_slash);
/* print JSON to stdout, indented */
void remote_print_json(const json_t *j);
/* "2026-12-06 03:14:15Z" from unix ms into out (>= 24 bytes); "-" for 0 */
void remote_fmt_time(int64_t ms, char *out, size_t n);

#endif
