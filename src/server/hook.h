/*
 * hook: webhook deliveries of GitHub, Gitea/Forgejo and GitLab, checked
 * and turned into one event shape. Pure functions (no I/O): the handlers
 * (hooks.c) and the fuzzer (fuzz/fuzz_webhook.c) call them.
 *
 * Signatures: GitHub X-Hub-Signature-256 "sha256=" + hex HMAC-SHA256 of the
 * body; Gitea X-Gitea-Signature (hex HMAC-SHA256, or X-Hub-Signature-256);
 * GitLab X-Gitlab-Token (the secret itself). Every comparison is constant
 * time (sodium_memcmp over fixed-size digests).
 */
#ifndef KILN_HOOK_H
#define KILN_HOOK_H

#include <jansson.h>
#include <stddef.h>

#include "base/buf.h"

enum forge { FORGE_GITHUB, FORGE_GITEA, FORGE_GITLAB };
const char *forge_name(enum forge f);

/* a delivery as the handler sees it (headers already looked up) */
struct hook_in {
	enum forge forge;
	const char *event;     /* X-GitHub-Event / X-Gitea-Event / X-Gitlab-Event */
	const char *delivery;  /* X-GitHub-Delivery / X-Gitea-Delivery / X-Gitlab-Event-UUID */
	const char *signature; /* X-Hub-Signature-256 / X-Gitea-Signature / X-Gitlab-Token */
	const char *body;
	size_t len;
};

/* the event, normalized (owned strings; "" when absent) */
struct hook_event {
	char *kind;        /* push, pull_request, ping; NULL = an event kind kiln ignores */
	char *action;      /* pull_request: opened, synchronize, reopened, closed */
	char *ref;         /* push: refs/heads/x or refs/tags/v; PR: refs/pull/N/merge */
	char *before, *sha;
	char *actor;
	char *repo_full_name; /* owner/name as the forge says */
	char *clone_url;      /* the forge's clone URLs, to match a repository */
	char *html_url;
	int deleted;       /* push deleting a branch or tag */
	int fork;          /* pull request whose head is another repository */
	int merged;        /* closed pull request that was merged */
	int number;        /* pull request number */
	json_t *payload;   /* github.event: the GitHub-shaped payload (owned) */
};
void hook_event_release(struct hook_event *ev);

/*
 * Parse a delivery. Returns 0 (ev filled; ev->kind NULL for an event kiln
 * does not act on), or KILN_EINVAL with a message in err (malformed JSON,
 * missing event header, fields of the wrong type).
 */
int hook_parse(const struct hook_in *in, struct hook_event *ev, struct buf *err);

/* 1 when the delivery's signature matches `secret`, else 0 (missing or bad) */
int hook_verify(const struct hook_in *in, const char *secret, size_t secret_len);

/* the signature header value a forge would send for body under secret (tests) */
void hook_sign(enum forge f, const char *secret, const char *body, size_t len, struct buf *out);

#endif
