/* notify: payloads, webhook configuration and delivery (see notify.h). */
#include "base/kiln.h"
#include "deploy/webhook.h"
#include "engine/mask.h"
#include "secret/secret.h"
#include "server/notify.h"
#include "store/audit.h"
#include "store/hooks.h"

#include <sodium.h>
#include <strings.h>

static const char *const event_names[NOTIFY_NEVENTS] = {
	"run.success", "run.failure", "approval.waiting", "deploy.success", "deploy.failure",
	"deploy.rollback",
};

const char *notify_event_name(enum notify_event e)
{
	return (unsigned)e < NOTIFY_NEVENTS ? event_names[e] : "unknown";
}

int notify_event_parse(const char *name, enum notify_event *out)
{
	for (int i = 0; i < NOTIFY_NEVENTS; i++)
		if (!strcmp(name, event_names[i])) {
			*out = (enum notify_event)i;
			return 0;
		}
	return KILN_EINVAL;
}

/* ---- payloads ---- */

static const char *short_ref(const char *ref)
{
	if (!ref)
		return NULL;
	if (str_starts_with(ref, "refs/heads/"))
		return ref + 11;
	if (str_starts_with(ref, "refs/tags/"))
		return ref + 10;
	return ref;
}

/* Slack mrkdwn: &, < and > are control characters (api.slack.com,
 * "Formatting text for app surfaces": escaping) */
static void mrkdwn(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '&')
			buf_addstr(b, "&amp;");
		else if (*s == '<')
			buf_addstr(b, "&lt;");
		else if (*s == '>')
			buf_addstr(b, "&gt;");
		else
			buf_addch(b, *s);
	}
}

static const char *headline(enum notify_event e)
{
	switch (e) {
	case NOTIFY_RUN_SUCCESS: return "run succeeded";
	case NOTIFY_RUN_FAILURE: return "run failed";
	case NOTIFY_APPROVAL: return "deployment waiting for approval";
	case NOTIFY_DEPLOY_SUCCESS: return "deployed";
	case NOTIFY_DEPLOY_FAILURE: return "deployment failed";
	case NOTIFY_ROLLBACK: return "deployment rolled back";
	default: return "event";
	}
}

/* one line for people: "[kiln] shop: deployment failed to production (run 12, CI, main, abc1234, by alice): reason" */
static void text_line(struct buf *t, const struct notify_msg *m, int slack)
{
	void (*add)(struct buf *, const char *) = slack ? mrkdwn : buf_addstr;
	buf_addstr(t, "[kiln] ");
	add(t, m->repo);
	buf_addstr(t, ": ");
	buf_addstr(t, headline(m->event));
	if (m->environment && *m->environment) {
		buf_addstr(t, m->event == NOTIFY_APPROVAL || m->event == NOTIFY_DEPLOY_SUCCESS ? " to "
											    : " in ");
		add(t, m->environment);
	}
	buf_addstr(t, " (");
	int first = 1;
	if (m->run_id) {
		buf_addf(t, "run %lld", (long long)m->run_id);
		first = 0;
	}
	const char *parts[] = { m->workflow, short_ref(m->ref), NULL };
	for (size_t i = 0; parts[i] || i < 2; i++) {
		if (!parts[i] || !*parts[i])
			continue;
		buf_addstr(t, first ? "" : ", ");
		add(t, parts[i]);
		first = 0;
	}
	if (m->sha && *m->sha) {
		buf_addf(t, "%s%.7s", first ? "" : ", ", m->sha);
		first = 0;
	}
	if (m->actor && *m->actor) {
		buf_addf(t, "%sby ", first ? "" : ", ");
		add(t, m->actor);
		first = 0;
	}
	if (first)
		buf_setlen(t, t->len - 2);
	else
		buf_addch(t, ')');
	if (m->reason && *m->reason) {
		buf_addstr(t, ": ");
		add(t, m->reason);
	}
}

static json_t *slack_body(const struct notify_msg *m)
{
	struct buf plain = BUF_INIT, md = BUF_INIT;
	text_line(&plain, m, 0);
	text_line(&md, m, 1);
	json_t *blocks = json_array();
	json_array_append_new(blocks, json_pack("{s:s,s:{s:s,s:s}}", "type", "section", "text", "type",
						"mrkdwn", "text", md.buf));
	if (m->link && *m->link) {
		struct buf l = BUF_INIT;
		buf_addstr(&l, "<");
		mrkdwn(&l, m->link);
		buf_addstr(&l, "|open the run>");
		json_array_append_new(blocks,
				      json_pack("{s:s,s:[{s:s,s:s}]}", "type", "context", "elements",
						"type", "mrkdwn", "text", l.buf));
		buf_release(&l);
	}
	json_t *o = json_pack("{s:s,s:o}", "text", plain.buf, "blocks", blocks);
	buf_release(&plain);
	buf_release(&md);
	return o;
}

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v && *v ? json_string(v) : json_null());
}

static json_t *json_body(const struct notify_msg *m)
{
	struct buf plain = BUF_INIT;
	text_line(&plain, m, 0);
	json_t *o = json_object();
	json_object_set_new(o, "event", json_string(notify_event_name(m->event)));
	set_str(o, "repo", m->repo);
	set_str(o, "environment", m->environment);
	set_str(o, "workflow", m->workflow);
	json_object_set_new(o, "run_id", m->run_id ? json_integer(m->run_id) : json_null());
	set_str(o, "ref", m->ref);
	set_str(o, "sha", m->sha);
	set_str(o, "actor", m->actor);
	set_str(o, "reason", m->reason);
	set_str(o, "url", m->link);
	json_object_set_new(o, "at", json_integer(m->at_ms));
	json_object_set_new(o, "text", json_string(plain.buf));
	buf_release(&plain);
	return o;
}

char *notify_body(enum notify_kind kind, const struct notify_msg *msg, const struct masker *m)
{
	json_t *o = kind == NOTIFY_SLACK ? slack_body(msg) : json_body(msg);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!m)
		return s;
	/* the whole document: mask_add registered the JSON-escaped forms */
	struct buf out = BUF_INIT;
	mask_apply(m, s, strlen(s), &out);
	free(s);
	return buf_detach(&out, NULL);
}

/* ---- configuration ---- */

static char *seal_context(const char *repo)
{
	return xstrfmt("notify-hook:%s", repo);
}

/* the host of an http(s) URL into host; 0 or KILN_EINVAL */
static int url_host(const char *url, char *host, size_t n, struct buf *err)
{
	const char *p = str_starts_with(url, "https://") ? url + 8
		      : str_starts_with(url, "http://")  ? url + 7 : NULL;
	if (!p || !*p) {
		buf_addstr(err, "a webhook URL must start with http:// or https://");
		return KILN_EINVAL;
	}
	size_t len = strcspn(p, "/?#");
	const char *at = memchr(p, '@', len);
	if (at) { /* never keep credentials in clear */
		len -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	if (!len || len >= n || strlen(url) > 2048 || strpbrk(url, " \t\r\n")) {
		buf_addstr(err, "bad webhook URL");
		return KILN_EINVAL;
	}
	memcpy(host, p, len);
	host[len] = '\0';
	return 0;
}

static int check_events(const char *events, struct buf *err)
{
	if (!events || !*events)
		return 0;
	char *copy = xstrdup(events);
	int r = 0;
	for (char *s = copy, *comma; s && !r; s = comma ? comma + 1 : NULL) {
		comma = strchr(s, ',');
		if (comma)
			*comma = '\0';
		enum notify_event e;
		if (notify_event_parse(s, &e)) {
			buf_addf(err,
				 "unknown event '%s' (run.success, run.failure, approval.waiting,"
				 " deploy.success, deploy.failure, deploy.rollback)",
				 s);
			r = KILN_EINVAL;
		}
	}
	free(copy);
	return r;
}

int notify_hook_add(struct db *db, struct secret_store *secrets, const char *actor, const char *repo,
		    const char *environment, const char *kind, const char *events, const char *url,
		    int64_t *id, struct buf *err)
{
	struct hook_row h = HOOK_ROW_INIT;
	if (strcmp(kind, "slack") && strcmp(kind, "json")) {
		buf_addf(err, "unknown webhook kind '%s' (slack or json)", kind);
		return KILN_EINVAL;
	}
	int r = url_host(url, h.host, sizeof(h.host), err);
	if (!r)
		r = check_events(events, err);
	if (r)
		return r;
	snprintf(h.repo, sizeof(h.repo), "%s", repo);
	snprintf(h.environment, sizeof(h.environment), "%s", environment ? environment : "");
	snprintf(h.kind, sizeof(h.kind), "%s", kind);
	snprintf(h.events, sizeof(h.events), "%s", events ? events : "");
	char *ctx = seal_context(repo);
	r = secret_seal(secrets, ctx, url, strlen(url), &h.box, err);
	free(ctx);
	if (!r && sql_savepoint(db, "hook", err) < 0)
		r = -1;
	if (!r) {
		int64_t nid = 0;
		r = hooks_insert(db, &h, &nid, err);
		if (!r) {
			char *target = xstrfmt("hook %lld", (long long)nid);
			char *detail = xstrfmt("%s to %s%s%s, events %s", kind, h.host,
					       *h.environment ? ", environment " : "", h.environment,
					       *h.events ? h.events : "all");
			r = audit_append(db, actor, "notify.add", repo, target, detail, err);
			free(target);
			free(detail);
		}
		if (id)
			*id = nid;
		if (r) {
			sql_rollback_to(db, "hook");
			sql_release(db, "hook", NULL);
		} else {
			r = sql_release(db, "hook", err);
		}
	}
	hook_row_release(&h);
	return r;
}

int notify_hook_remove(struct db *db, const char *actor, const char *repo, int64_t id,
		       struct buf *err)
{
	int r = hooks_delete(db, repo, id, err);
	if (r == KILN_ENOENT)
		buf_addf(err, "repository '%s' has no webhook %lld", repo, (long long)id);
	if (!r) {
		char *target = xstrfmt("hook %lld", (long long)id);
		r = audit_append(db, actor, "notify.remove", repo, target, NULL, err);
		free(target);
	}
	return r;
}

json_t *notify_hooks_json(struct db *db, const char *repo, struct buf *err)
{
	struct hook_row *v;
	size_t n;
	if (hooks_list(db, repo, &v, &n, err) < 0)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:I}", "id", (json_int_t)v[i].id, "repo",
				      v[i].repo, "kind", v[i].kind, "host", v[i].host, "created_at",
				      (json_int_t)v[i].created_ms);
		set_str(o, "environment", v[i].environment);
		json_t *ev = json_array();
		if (*v[i].events) {
			char *copy = xstrdup(v[i].events);
			for (char *s = copy, *c; s; s = c ? c + 1 : NULL) {
				c = strchr(s, ',');
				if (c)
					*c = '\0';
				json_array_append_new(ev, json_string(s));
			}
			free(copy);
		}
		json_object_set_new(o, "events", ev);
		json_array_append_new(a, o);
		hook_row_release(&v[i]);
	}
	free(v);
	return a;
}

/* ---- sending ---- */

struct notifier {
	struct db *db;                   /* borrowed */
	struct secret_store *secrets;  /* borrowed */
	struct webhook_sender *sender;
	uint64_t delivered, failed;
	void (*closed)(void *arg);
	void *closed_arg;
};

struct sent {
	struct notifier *n;
	int64_t hook_id;
	char host[256];
};

int notifier_new(uv_loop_t *loop, struct db *db, struct secret_store *secrets, int max_attempts,
		 uint64_t backoff_ms, struct notifier **out, struct buf *err)
{
	char e[256];
	if (webhook_init(e, sizeof(e)) < 0) {
		buf_addstr(err, e);
		return -1;
	}
	struct notifier *n = xcalloc(1, sizeof(*n));
	n->db = db;
	n->secrets = secrets;
	n->sender = webhook_sender_new(loop, max_attempts, backoff_ms);
	*out = n;
	return 0;
}

static int wants(const struct hook_row *h, enum notify_event e)
{
	if (!*h->events)
		return 1;
	const char *name = notify_event_name(e);
	size_t len = strlen(name);
	for (const char *p = h->events; (p = strstr(p, name)); p += len)
		if ((p == h->events || p[-1] == ',') && (p[len] == ',' || !p[len]))
			return 1;
	return 0;
}

static void on_done(void *arg, int ok, int attempts, const char *error)
{
	struct sent *s = arg;
	if (ok) {
		s->n->delivered++;
	} else {
		s->n->failed++;
		/* the host only: the URL may carry a token */
		fprintf(stderr, "kiln serve: notification webhook %lld (%s) failed after %d attempt%s: %s\n",
			(long long)s->hook_id, s->host, attempts, attempts == 1 ? "" : "s", error);
	}
	free(s);
}

int notify_emit(struct notifier *n, const struct notify_msg *msg, const struct masker *m,
		struct buf *err)
{
	struct hook_row *v;
	size_t nv;
	if (hooks_for(n->db, msg->repo, msg->environment, &v, &nv, err) < 0)
		return -1;
	char *ctx = seal_context(msg->repo);
	int started = 0, r = 0;
	for (size_t i = 0; i < nv; i++) {
		if (!r && wants(&v[i], msg->event)) {
			struct buf url = BUF_INIT;
			if (secret_unseal(n->secrets, ctx, v[i].box.buf, v[i].box.len, &url, err) < 0) {
				r = -1;
			} else {
				char *body = notify_body(strcmp(v[i].kind, "slack") ? NOTIFY_JSON : NOTIFY_SLACK,
							 msg, m);
				struct sent *s = xcalloc(1, sizeof(*s));
				s->n = n;
				s->hook_id = v[i].id;
				snprintf(s->host, sizeof(s->host), "%s", v[i].host);
				webhook_sender_post(n->sender, url.buf, body, on_done, s);
				free(body);
				started++;
			}
			sodium_memzero(url.buf, url.len);
			buf_release(&url);
		}
		hook_row_release(&v[i]);
	}
	free(v);
	free(ctx);
	return r ? -1 : started;
}

void notifier_counts(const struct notifier *n, uint64_t *delivered, uint64_t *failed)
{
	*delivered = n->delivered;
	*failed = n->failed;
}

static void sender_closed(void *arg)
{
	struct notifier *n = arg;
	void (*cb)(void *) = n->closed;
	void *cb_arg = n->closed_arg;
	free(n);
	if (cb)
		cb(cb_arg);
}

void notifier_close(struct notifier *n, void (*closed)(void *arg), void *arg)
{
	n->closed = closed;
	n->closed_arg = arg;
	webhook_sender_close(n->sender, sender_closed, n);
}
