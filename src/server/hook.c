/* hook: webhook deliveries of three forges, checked and normalized (see hook.h). */
#include "base/kiln.h"
#include "server/hook.h"

#include <sodium.h>

const char *forge_name(enum forge f)
{
	switch (f) {
	case FORGE_GITHUB: return "github";
	case FORGE_GITEA: return "gitea";
	case FORGE_GITLAB: return "gitlab";
	}
	return "?";
}

void hook_event_release(struct hook_event *ev)
{
	free(ev->kind);
	free(ev->action);
	free(ev->ref);
	free(ev->before);
	free(ev->sha);
	free(ev->actor);
	free(ev->repo_full_name);
	free(ev->clone_url);
	free(ev->html_url);
	json_decref(ev->payload);
	memset(ev, 0, sizeof(*ev));
}

/* the value at a dotted path ("pull_request.head.sha"), or NULL */
static json_t *at(json_t *o, const char *path)
{
	char key[64];
	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key) || !json_is_object(o))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path += n + (dot ? 1 : 0);
	}
	return o;
}

/* a string at path, "" when absent or not a string (owned copy) */
static char *str_at(json_t *o, const char *path)
{
	json_t *v = at(o, path);
	return xstrdup(json_is_string(v) ? json_string_value(v) : "");
}

static int is_zero_sha(const char *s)
{
	size_t n = strlen(s);
	if (n != 40 && n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '0')
			return 0;
	return 1;
}

/* hex of HMAC-SHA256(secret, body) */
static void hmac_hex(const char *secret, size_t slen, const char *body, size_t len,
		     char hex[crypto_auth_hmacsha256_BYTES * 2 + 1])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, slen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, crypto_auth_hmacsha256_BYTES * 2 + 1, mac, sizeof(mac));
}

void hook_sign(enum forge f, const char *secret, const char *body, size_t len, struct buf *out)
{
	char hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
	if (f == FORGE_GITLAB) {
		buf_addstr(out, secret);
		return;
	}
	hmac_hex(secret, strlen(secret), body, len, hex);
	buf_addf(out, "%s%s", f == FORGE_GITHUB ? "sha256=" : "", hex);
}

int hook_verify(const struct hook_in *in, const char *secret, size_t secret_len)
{
	if (sodium_init() < 0 || !in->signature || !secret_len)
		return 0;
	const char *sig = in->signature;
	if (in->forge == FORGE_GITLAB) {
		/* compare digests so the comparison is constant time whatever the lengths */
		unsigned char a[crypto_hash_sha256_BYTES], b[crypto_hash_sha256_BYTES];
		crypto_hash_sha256(a, (const unsigned char *)sig, strlen(sig));
		crypto_hash_sha256(b, (const unsigned char *)secret, secret_len);
		return !sodium_memcmp(a, b, sizeof(a));
	}
	if (str_starts_with(sig, "sha256="))
		sig += strlen("sha256=");
	else if (in->forge == FORGE_GITHUB)
		return 0;
	char want[crypto_auth_hmacsha256_BYTES * 2 + 1];
	char got[crypto_auth_hmacsha256_BYTES * 2 + 1];
	if (strlen(sig) != sizeof(got) - 1)
		return 0;
	/* lower-case the received hex (forges send lower case; be liberal) */
	for (size_t i = 0; i < sizeof(got) - 1; i++)
		got[i] = (char)(sig[i] >= 'A' && sig[i] <= 'F' ? sig[i] + 32 : sig[i]);
	got[sizeof(got) - 1] = '\0';
	hmac_hex(secret, secret_len, in->body, in->len, want);
	return !sodium_memcmp(want, got, sizeof(want) - 1);
}

/* GitHub-shaped repository object from a GitLab project */
static json_t *gitlab_repo(json_t *root)
{
	json_t *p = at(root, "project");
	char *full = str_at(p, "path_with_namespace"), *clone = str_at(p, "git_http_url");
	char *html = str_at(p, "web_url"), *def = str_at(p, "default_branch");
	json_t *r = json_pack("{s:s,s:s,s:s,s:s}", "full_name", full, "clone_url", clone, "html_url",
			      html, "default_branch", def);
	free(full);
	free(clone);
	free(html);
	free(def);
	return r;
}

static void fill_repo(struct hook_event *ev, json_t *repo)
{
	ev->repo_full_name = str_at(repo, "full_name");
	ev->clone_url = str_at(repo, "clone_url");
	ev->html_url = str_at(repo, "html_url");
}

/* GitHub and Gitea: the payload is GitHub-shaped already */
static int parse_github(const struct hook_in *in, json_t *root, struct hook_event *ev,
			struct buf *err)
{
	const char *e = in->event;
	fill_repo(ev, at(root, "repository"));
	if (!strcmp(e, "ping")) {
		ev->kind = xstrdup("ping");
		return 0;
	}
	if (!strcmp(e, "push")) {
		if (!json_is_string(at(root, "ref")) || !json_is_string(at(root, "after"))) {
			buf_addstr(err, "push payload without 'ref' and 'after'");
			return KILN_EINVAL;
		}
		ev->kind = xstrdup("push");
		ev->ref = str_at(root, "ref");
		ev->before = str_at(root, "before");
		ev->sha = str_at(root, "after");
		ev->deleted = json_is_true(at(root, "deleted")) || is_zero_sha(ev->sha);
		ev->actor = str_at(root, "sender.login");
		if (!*ev->actor) {
			free(ev->actor);
			ev->actor = str_at(root, "pusher.name");
		}
		if (is_zero_sha(ev->before))
			ev->before[0] = '\0';
		return 0;
	}
	if (!strcmp(e, "pull_request")) {
		json_t *pr = at(root, "pull_request");
		json_t *num = at(root, "number");
		if (!json_is_object(pr) || !json_is_integer(num) || !json_is_string(at(root, "action"))) {
			buf_addstr(err, "pull_request payload without 'action', 'number' and 'pull_request'");
			return KILN_EINVAL;
		}
		char *action = str_at(root, "action");
		/* Gitea says "synchronized" */
		if (!strcmp(action, "synchronized")) {
			free(action);
			action = xstrdup("synchronize");
			json_object_set_new(root, "action", json_string("synchronize"));
		}
		if (strcmp(action, "opened") && strcmp(action, "synchronize") &&
		    strcmp(action, "reopened") && strcmp(action, "closed")) {
			free(action); /* edited, labeled, ...: not acted on */
			return 0;
		}
		ev->kind = xstrdup("pull_request");
		ev->action = action;
		ev->number = (int)json_integer_value(num);
		ev->ref = xstrfmt("refs/pull/%d/merge", ev->number);
		ev->sha = str_at(pr, "head.sha");
		ev->before = str_at(root, "before");
		ev->merged = json_is_true(at(pr, "merged"));
		ev->actor = str_at(root, "sender.login");
		char *head = str_at(pr, "head.repo.full_name"), *base = str_at(pr, "base.repo.full_name");
		/* a head repository that is not the base (or is gone) is a fork */
		ev->fork = json_is_true(at(pr, "head.repo.fork")) || !*head || strcmp(head, base);
		free(head);
		free(base);
		return 0;
	}
	return 0; /* issues, stars, ...: acknowledged, not acted on */
}

static int parse_gitlab(const struct hook_in *in, json_t *root, struct hook_event *ev,
			struct buf *err)
{
	const char *e = in->event;
	json_t *repo = gitlab_repo(root);
	fill_repo(ev, repo);
	if (!strcmp(e, "Push Hook") || !strcmp(e, "Tag Push Hook")) {
		if (!json_is_string(at(root, "ref")) || !json_is_string(at(root, "after"))) {
			json_decref(repo);
			buf_addstr(err, "push payload without 'ref' and 'after'");
			return KILN_EINVAL;
		}
		ev->kind = xstrdup("push");
		ev->ref = str_at(root, "ref");
		ev->before = str_at(root, "before");
		ev->sha = str_at(root, "after");
		ev->deleted = is_zero_sha(ev->sha);
		ev->actor = str_at(root, "user_username");
		int created = is_zero_sha(ev->before);
		if (created)
			ev->before[0] = '\0';
		json_t *commits = json_is_array(at(root, "commits")) ? json_incref(at(root, "commits"))
								     : json_array();
		ev->payload = json_pack("{s:s,s:s,s:s,s:b,s:b,s:O,s:{s:s},s:{s:s},s:o}", "ref", ev->ref,
					"before", ev->before, "after", ev->sha, "created", created,
					"deleted", ev->deleted, "repository", repo, "pusher", "name",
					ev->actor, "sender", "login", ev->actor, "commits", commits);
		json_decref(repo);
		return 0;
	}
	if (!strcmp(e, "Merge Request Hook")) {
		json_t *oa = at(root, "object_attributes");
		if (!json_is_object(oa) || !json_is_integer(at(oa, "iid"))) {
			json_decref(repo);
			buf_addstr(err, "merge request payload without 'object_attributes.iid'");
			return KILN_EINVAL;
		}
		char *a = str_at(oa, "action");
		const char *action = NULL;
		if (!strcmp(a, "open"))
			action = "opened";
		else if (!strcmp(a, "reopen"))
			action = "reopened";
		else if (!strcmp(a, "update") && json_is_string(at(oa, "oldrev")))
			action = "synchronize"; /* an update that pushed commits */
		else if (!strcmp(a, "close") || !strcmp(a, "merge"))
			action = "closed";
		ev->merged = !strcmp(a, "merge");
		free(a);
		if (!action) {
			json_decref(repo);
			return 0;
		}
		ev->kind = xstrdup("pull_request");
		ev->action = xstrdup(action);
		ev->number = (int)json_integer_value(at(oa, "iid"));
		ev->ref = xstrfmt("refs/pull/%d/merge", ev->number);
		ev->sha = str_at(oa, "last_commit.id");
		ev->before = str_at(oa, "oldrev");
		ev->actor = str_at(root, "user.username");
		json_t *src = at(oa, "source_project_id"), *dst = at(oa, "target_project_id");
		ev->fork = !json_equal(src, dst);
		char *head_ref = str_at(oa, "source_branch"), *base_ref = str_at(oa, "target_branch");
		char *head_repo = str_at(oa, "source.path_with_namespace");
		ev->payload = json_pack(
			"{s:s,s:i,s:{s:i,s:b,s:{s:s,s:s,s:{s:s}},s:{s:s,s:{s:O}}},s:O,s:{s:s}}", "action",
			action, "number", ev->number, "pull_request", "number", ev->number, "merged",
			ev->merged, "head", "ref", head_ref, "sha", ev->sha, "repo", "full_name",
			*head_repo ? head_repo : ev->repo_full_name, "base", "ref", base_ref, "repo",
			"full_name", json_object_get(repo, "full_name"), "repository", repo, "sender",
			"login", ev->actor);
		free(head_ref);
		free(base_ref);
		free(head_repo);
		json_decref(repo);
		return 0;
	}
	json_decref(repo);
	return 0;
}

int hook_parse(const struct hook_in *in, struct hook_event *ev, struct buf *err)
{
	memset(ev, 0, sizeof(*ev));
	if (!in->event || !*in->event) {
		buf_addf(err, "missing event header (%s)",
			 in->forge == FORGE_GITHUB ? "X-GitHub-Event"
			 : in->forge == FORGE_GITEA ? "X-Gitea-Event" : "X-Gitlab-Event");
		return KILN_EINVAL;
	}
	json_error_t je;
	json_t *root = json_loadb(in->body, in->len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		buf_addf(err, "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
		return KILN_EINVAL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		buf_addstr(err, "the payload is not a JSON object");
		return KILN_EINVAL;
	}
	int r = in->forge == FORGE_GITLAB ? parse_gitlab(in, root, ev, err)
					  : parse_github(in, root, ev, err);
	if (!r && !ev->payload && ev->kind)
		ev->payload = json_incref(root);
	json_decref(root);
	if (r) {
		hook_event_release(ev);
		return r;
	}
	static const char *const empty = "";
	char **fields[] = { &ev->action, &ev->ref, &ev->before, &ev->sha, &ev->actor };
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (!*fields[i])
			*fields[i] = xstrdup(empty);
	if (ev->kind && strcmp(ev->kind, "ping") && !*ev->sha) {
		hook_event_release(ev);
		buf_addstr(err, "the event names no commit");
		return KILN_EINVAL;
	}
	return 0;
}
