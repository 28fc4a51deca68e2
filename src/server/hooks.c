/*
 * hooks: the webhook endpoints. A delivery is matched to a repository
 * (`?repo=NAME`, else the payload's repository name or clone URL), its
 * signature checked against that repository's secret, and its event
 * committed to the store before the 2xx answer: an acknowledged delivery
 * is durable. A delivery id seen before is acknowledged and creates
 * nothing. Bad or missing signatures are 401 and create nothing.
 * Deliveries of the GitOps config repository (/hooks/config/...) are
 * checked the same way and make its controller fetch.
 */
#include "base/kiln.h"
#include "secret/secret.h"
#include "server/controller.h"
#include "server/hook.h"
#include "server/queue.h"
#include "server/srv.h"
#include "store/repos.h"

#include <sodium.h>

const char *hook_result_name(enum hook_result r)
{
	static const char *const names[] = { "accepted", "duplicate", "ignored", "unauthorized",
					     "invalid", "unknown_repo", "error" };
	return r < HOOK_NRESULTS ? names[r] : "?";
}

int srv_repo_secret(struct srv *s, const char *repo_name, const struct buf *box, struct buf *out,
		    struct buf *err)
{
	struct buf ctx = BUF_INIT;
	buf_addf(&ctx, "webhook:%s", repo_name);
	int r = secret_unseal(s->secrets, ctx.buf, box->buf, box->len, out, err);
	buf_release(&ctx);
	return r;
}

/* "https://host/o/r.git/" and "https://host/o/r" are the same repository */
static int same_url(const char *a, const char *b)
{
	if (!*a || !*b)
		return 0;
	size_t na = strlen(a), nb = strlen(b);
	while (na && a[na - 1] == '/')
		na--;
	while (nb && b[nb - 1] == '/')
		nb--;
	if (na >= 4 && !memcmp(a + na - 4, ".git", 4))
		na -= 4;
	if (nb >= 4 && !memcmp(b + nb - 4, ".git", 4))
		nb -= 4;
	return na == nb && !memcmp(a, b, na);
}

/* the repository a delivery is for: 0, KILN_ENOENT, or -1 with err */
static int find_repo(struct srv *s, const char *name, const struct hook_event *ev,
		     struct repo_row *out, struct buf *err)
{
	if (name)
		return store_repo_get(s->db, name, out, err);
	struct repo_row *rows;
	size_t n;
	if (store_repo_list(s->db, &rows, &n, err))
		return -1;
	int r = KILN_ENOENT;
	for (size_t i = 0; i < n && r; i++) {
		if (!strcmp(rows[i].name, ev->repo_full_name) || same_url(rows[i].url, ev->clone_url) ||
		    same_url(rows[i].url, ev->html_url)) {
			*out = rows[i];
			memset(&rows[i], 0, sizeof(rows[i]));
			r = 0;
		}
	}
	store_repo_list_free(rows, n);
	return r;
}

static void count(struct srv *s, enum forge f, enum hook_result r)
{
	s->hooks[f][r]++;
}

/* the delivery's headers as the forge names them */
static void hook_in_of(struct http_req *q, enum forge f, struct hook_in *out)
{
	const struct buf *body = http_req_body(q);
	struct hook_in in = { .forge = f, .body = body->buf, .len = body->len };
	if (f == FORGE_GITHUB) {
		in.event = http_req_header(q, "x-github-event");
		in.delivery = http_req_header(q, "x-github-delivery");
		in.signature = http_req_header(q, "x-hub-signature-256");
	} else if (f == FORGE_GITEA) {
		in.event = http_req_header(q, "x-gitea-event");
		if (!in.event)
			in.event = http_req_header(q, "x-forgejo-event");
		in.delivery = http_req_header(q, "x-gitea-delivery");
		if (!in.delivery)
			in.delivery = http_req_header(q, "x-forgejo-delivery");
		in.signature = http_req_header(q, "x-gitea-signature");
		if (!in.signature)
			in.signature = http_req_header(q, "x-hub-signature-256");
	} else {
		in.event = http_req_header(q, "x-gitlab-event");
		in.delivery = http_req_header(q, "x-gitlab-event-uuid");
		if (!in.delivery)
			in.delivery = http_req_header(q, "idempotency-key");
		in.signature = http_req_header(q, "x-gitlab-token");
	}
	*out = in;
}

static void reply_unsigned(struct http_req *q, const struct hook_in *in, const char *whose)
{
	http_reply_error(q, 401, in->signature ? "bad_signature" : "missing_signature",
			 in->signature ? "the signature does not match the %s secret"
				       : "the delivery is not signed (set the webhook's secret)", whose);
}

static void handle(struct srv *s, struct http_req *q, enum forge f)
{
	struct hook_in in;
	hook_in_of(q, f, &in);
	struct hook_event ev;
	struct repo_row repo;
	struct buf err = BUF_INIT, secret = BUF_INIT;
	const char *name = http_req_query(q, "repo");
	int parsed = -1, r;
	memset(&ev, 0, sizeof(ev));
	memset(&repo, 0, sizeof(repo));
	/* with ?repo=NAME the signature is checked before the body is read;
	 * without, the body must name its repository first */
	if (!name && (parsed = hook_parse(&in, &ev, &err))) {
		count(s, f, HOOK_INVALID);
		http_reply_error(q, 400, "bad_payload", "%s", err.buf);
		goto out;
	}
	r = find_repo(s, name, &ev, &repo, &err);
	if (r == KILN_ENOENT) {
		count(s, f, HOOK_UNKNOWN_REPO);
		http_reply_error(q, 404, "unknown_repository",
				 "no repository matches this delivery (add it with `kiln repo add`, "
				 "or pass ?repo=NAME in the webhook URL)");
		goto out;
	}
	if (r < 0 || srv_repo_secret(s, repo.name, &repo.secret_box, &secret, &err)) {
		count(s, f, HOOK_ERROR);
		http_reply_error(q, 500, "internal", "%s", err.buf);
		goto out;
	}
	if (!hook_verify(&in, secret.buf, secret.len)) {
		count(s, f, HOOK_UNAUTHORIZED);
		reply_unsigned(q, &in, "repository's");
		goto out;
	}
	if (parsed && (parsed = hook_parse(&in, &ev, &err))) {
		count(s, f, HOOK_INVALID);
		http_reply_error(q, 400, "bad_payload", "%s", err.buf);
		goto out;
	}
	if (!ev.kind) {
		count(s, f, HOOK_IGNORED);
		http_reply_json(q, 202, json_pack("{s:s,s:s}", "status", "ignored", "event", in.event));
		goto out;
	}
	char *payload = json_dumps(ev.payload, JSON_COMPACT);
	struct event_row row = {
		.repo_id = repo.id, .source = forge_name(f), .delivery = in.delivery,
		.kind = ev.kind, .action = ev.action, .ref = ev.ref, .before = ev.before,
		.sha = ev.sha, .actor = ev.actor, .fork = ev.fork, .deleted = ev.deleted,
		.payload = payload,
	};
	int dup = 0;
	int64_t id = 0;
	r = store_event_add(s->db, &row, &dup, &id, &err);
	free(payload);
	if (r) {
		count(s, f, HOOK_ERROR);
		http_reply_error(q, 503, "store_unavailable", "the event was not stored: %s", err.buf);
		goto out;
	}
	count(s, f, dup ? HOOK_DUPLICATE : HOOK_ACCEPTED);
	if (!dup)
		queue_kick(s->queue);
	http_reply_json(q, dup ? 200 : 202,
			json_pack("{s:s,s:I,s:s,s:b}", "status", dup ? "duplicate" : "accepted", "event",
				  (json_int_t)id, "kind", ev.kind, "run",
				  !dup && !ev.deleted && strcmp(ev.kind, "ping")));
out:
	hook_event_release(&ev);
	if (secret.len)
		sodium_memzero(secret.buf, secret.len);
	buf_release(&secret);
	repo_row_release(&repo);
	buf_release(&err);
}

struct config_arg {
	enum forge f;
	char *delivery; /* claimed in the store, or NULL */
};

/* the controller took the refresh (or could not be reached) */
static void config_refreshed(struct srv *s, struct http_req *q, int code, const char *msg, void *arg)
{
	struct config_arg *a = arg;
	struct buf err = BUF_INIT;
	count(s, a->f, code ? HOOK_ERROR : HOOK_ACCEPTED);
	/* not acted on: the forge may deliver it again */
	if (code && a->delivery && store_config_delivery_forget(s->db, forge_name(a->f), a->delivery, &err) < 0)
		fprintf(stderr, "kiln serve: config webhook: %s\n", err.buf);
	buf_release(&err);
	free(a->delivery);
	free(a);
	if (!q)
		return;
	if (code)
		http_reply_error(q, 503, "controller_unavailable", "%s", msg);
	else
		http_reply_json(q, 202, json_pack("{s:s,s:s}", "status", "accepted", "message", msg));
}

/*
 * POST /hooks/config/{github,gitea,gitlab}: a push to the GitOps config
 * repository. Verified as a repository's delivery, against
 * gitops.webhook_secret_file; a push of the configured branch makes the
 * controller fetch at once (kiln sync --refresh). Only the delivery id
 * is stored (a replay does nothing): the fetch itself finds what changed.
 */
static void config_hook(struct srv *s, struct http_req *q, enum forge f)
{
	const struct buf *secret = NULL;
	struct hook_in in;
	struct hook_event ev;
	struct buf err = BUF_INIT, ref = BUF_INIT;
	memset(&ev, 0, sizeof(ev));
	hook_in_of(q, f, &in);
	if (controller_hook_secret(s->controller, &secret, &err) < 0) {
		/* rotated to a file that cannot be read: refuse, never the old one */
		count(s, f, HOOK_ERROR);
		fprintf(stderr, "kiln serve: config webhook: %s\n", err.buf);
		http_reply_error(q, 503, "config_secret_unreadable",
				 "the config webhook's secret file cannot be read (kiln serve's log says why)");
		goto out;
	}
	if (!secret) {
		count(s, f, HOOK_UNKNOWN_REPO);
		http_reply_error(q, 404, "no_config_webhook",
				 "no config repository webhook here (set gitops.repo and "
				 "gitops.webhook_secret_file in kiln serve's --config)");
		goto out;
	}
	if (!hook_verify(&in, secret->buf, secret->len)) {
		count(s, f, HOOK_UNAUTHORIZED);
		reply_unsigned(q, &in, "config repository's");
		goto out;
	}
	if (hook_parse(&in, &ev, &err)) {
		count(s, f, HOOK_INVALID);
		http_reply_error(q, 400, "bad_payload", "%s", err.buf);
		goto out;
	}
	buf_addf(&ref, "refs/heads/%s", controller_branch(s->controller));
	if (!ev.kind || strcmp(ev.kind, "push") || strcmp(ev.ref, ref.buf)) {
		count(s, f, HOOK_IGNORED);
		http_reply_json(q, 202, json_pack("{s:s,s:s}", "status", "ignored", "reason",
						  !ev.kind || strcmp(ev.kind, "push")
							  ? "not a push"
							  : "a push of another branch"));
		goto out;
	}
	/* a delivery id acted on before (a replay, a forge's redelivery of an
	 * acknowledged one) is acknowledged and does nothing, as for
	 * repository webhooks; claimed in the store, so replicas agree */
	if (in.delivery && *in.delivery) {
		int dup = store_config_delivery_add(s->db, forge_name(f), in.delivery, &err);
		if (dup < 0) {
			count(s, f, HOOK_ERROR);
			http_reply_error(q, 503, "store_unavailable", "the delivery was not recorded: %s", err.buf);
			goto out;
		}
		if (dup) {
			count(s, f, HOOK_DUPLICATE);
			http_reply_json(q, 200, json_pack("{s:s,s:s}", "status", "duplicate", "delivery", in.delivery));
			goto out;
		}
	}
	struct config_arg *a = xcalloc(1, sizeof(*a));
	a->f = f;
	a->delivery = in.delivery && *in.delivery ? xstrdup(in.delivery) : NULL;
	controller_ask(s, q, json_pack("{s:s}", "cmd", "refresh"), config_refreshed, a);
out:
	hook_event_release(&ev);
	buf_release(&ref);
	buf_release(&err);
}

static void on_config_github(struct srv *s, struct http_req *q) { config_hook(s, q, FORGE_GITHUB); }
static void on_config_gitea(struct srv *s, struct http_req *q) { config_hook(s, q, FORGE_GITEA); }
static void on_config_gitlab(struct srv *s, struct http_req *q) { config_hook(s, q, FORGE_GITLAB); }

static void on_github(struct srv *s, struct http_req *q) { handle(s, q, FORGE_GITHUB); }
static void on_gitea(struct srv *s, struct http_req *q) { handle(s, q, FORGE_GITEA); }
static void on_gitlab(struct srv *s, struct http_req *q) { handle(s, q, FORGE_GITLAB); }

void hooks_register(struct srv *s)
{
	http_route(s, "POST", "/hooks/github", ROLE_NONE, on_github);
	http_route(s, "POST", "/hooks/gitea", ROLE_NONE, on_gitea);
	http_route(s, "POST", "/hooks/gitlab", ROLE_NONE, on_gitlab);
	http_route(s, "POST", "/hooks/config/github", ROLE_NONE, on_config_github);
	http_route(s, "POST", "/hooks/config/gitea", ROLE_NONE, on_config_gitea);
	http_route(s, "POST", "/hooks/config/gitlab", ROLE_NONE, on_config_gitlab);
}
