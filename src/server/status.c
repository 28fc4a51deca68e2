/* status: commit statuses back to the forge (see status.h). */
#include "base/kiln.h"
#include "deploy/webhook.h"
#include "secret/secret.h"
#include "server/srv.h"
#include "server/status.h"
#include "store/repos.h"

#include <ctype.h>
#include <sodium.h>

struct statuses {
	struct srv *s;
	struct webhook_sender *sender;
};

struct status_job {
	struct statuses *st;
	char *url, *token, *forge, *context;
	int pending_inflight; /* "pending" not delivered or given up yet */
	int ended;            /* status_end was called */
	char *final_body;     /* waiting for "pending" to be done */
};

struct statuses *statuses_new(struct srv *s, int max_attempts, uint64_t backoff_ms)
{
	char e[256];
	if (webhook_init(e, sizeof(e)) < 0) {
		fprintf(stderr, "kiln serve: warning: no commit statuses: %s\n", e);
		return NULL;
	}
	struct statuses *st = xcalloc(1, sizeof(*st));
	st->s = s;
	st->sender = webhook_sender_new(s->loop, max_attempts, backoff_ms);
	return st;
}

static void job_free(struct status_job *j)
{
	if (j->token) {
		sodium_memzero(j->token, strlen(j->token));
		free(j->token);
	}
	free(j->url);
	free(j->forge);
	free(j->context);
	free(j->final_body);
	free(j);
}

/* GitLab's states differ: running, failed, canceled */
static const char *state_for(const char *forge, const char *state)
{
	if (strcmp(forge, "gitlab"))
		return state;
	if (!strcmp(state, "pending"))
		return "running";
	if (!strcmp(state, "failure"))
		return "failed";
	if (!strcmp(state, "error"))
		return "canceled";
	return state;
}

static char *body_for(const struct status_job *j, const char *state, const char *desc)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "state", state_for(j->forge, state),
			      strcmp(j->forge, "gitlab") ? "context" : "name", j->context,
			      "description", desc);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static void final_done(void *arg, int ok, int attempts, const char *error)
{
	struct status_job *j = arg;
	if (!ok)
		fprintf(stderr, "kiln serve: commit status not delivered after %d attempt%s: %s\n",
			attempts, attempts == 1 ? "" : "s", error ? error : "?");
	job_free(j);
}

static void send_final(struct status_job *j)
{
	char *body = j->final_body;
	j->final_body = NULL;
	webhook_sender_post_token(j->st->sender, j->url, j->token, body, final_done, j);
	free(body);
}

static void pending_done(void *arg, int ok, int attempts, const char *error)
{
	struct status_job *j = arg;
	j->pending_inflight = 0;
	if (!ok)
		fprintf(stderr, "kiln serve: commit status not delivered after %d attempt%s: %s\n",
			attempts, attempts == 1 ? "" : "s", error ? error : "?");
	if (j->ended && (!j->final_body || (error && !strcmp(error, "stopping"))))
		job_free(j); /* dropped, or the server is stopping: nothing more is sent */
	else if (j->ended)
		send_final(j);
}

/* "owner/name" -> "owner%2Fname" (GitLab's project id in a path) */
static void path_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.')
			buf_addch(b, c);
		else
			buf_addf(b, "%%%02X", c);
	}
}

struct status_job *status_start(struct statuses *st, const struct repo_row *repo,
				const struct event_row *ev)
{
	if (!st || !repo->status_forge || !*repo->status_forge || st->sender == NULL)
		return NULL;
	struct buf token = BUF_INIT, err = BUF_INIT, url = BUF_INIT, ctx = BUF_INIT;
	buf_addf(&ctx, "status:%s", repo->name);
	if (repo->status_token_box.len &&
	    secret_unseal(st->s->secrets, ctx.buf, repo->status_token_box.buf,
			  repo->status_token_box.len, &token, &err)) {
		fprintf(stderr, "kiln serve: commit statuses of %s: %s\n", repo->name, err.buf);
		buf_release(&ctx);
		buf_release(&err);
		return NULL;
	}
	const char *api = repo->status_api;
	size_t n = strlen(api);
	while (n && api[n - 1] == '/')
		n--;
	buf_add(&url, api, n);
	if (!strcmp(repo->status_forge, "gitlab")) {
		buf_addstr(&url, "/projects/");
		path_escape(&url, repo->status_project);
	} else {
		buf_addf(&url, "/repos/%s", repo->status_project);
	}
	buf_addf(&url, "/statuses/%s", ev->sha);
	struct status_job *j = xcalloc(1, sizeof(*j));
	j->st = st;
	j->url = buf_detach(&url, NULL);
	j->token = token.len ? xstrdup(token.buf) : NULL;
	j->forge = xstrdup(repo->status_forge);
	j->context = xstrfmt("kiln/%s", ev->kind);
	if (token.len)
		sodium_memzero(token.buf, token.len);
	buf_release(&token);
	buf_release(&ctx);
	buf_release(&err);
	char *body = body_for(j, "pending", "running");
	j->pending_inflight = 1;
	webhook_sender_post_token(st->sender, j->url, j->token, body, pending_done, j);
	free(body);
	return j;
}

void status_end(struct status_job *j, const char *state, const char *description)
{
	if (!j)
		return;
	j->ended = 1;
	j->final_body = body_for(j, state, description);
	if (!j->pending_inflight)
		send_final(j);
}

void status_drop(struct status_job *j)
{
	if (!j)
		return;
	j->ended = 1;
	if (!j->pending_inflight)
		job_free(j);
}

void statuses_close(struct statuses *st, void (*closed)(void *arg), void *arg)
{
	if (!st) {
		if (closed)
			closed(arg);
		return;
	}
	struct webhook_sender *sender = st->sender;
	free(st);
	webhook_sender_close(sender, closed, arg);
}
