/* api: shared helpers of the JSON handlers (see api.h). */
#include "base/kiln.h"
#include "server/api.h"
#include "server/srv.h"
#include "store/repos.h"

void api_register(struct srv *s)
{
	api_access_register(s);
	api_env_register(s);
	api_apps_register(s);
	api_runs_register(s);
	api_artifacts_register(s);
}

json_t *api__body(struct http_req *q)
{
	const struct buf *b = http_req_body(q);
	json_error_t je;
	json_t *o = json_loadb(b->buf, b->len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		http_reply_error(q, 400, "bad_json", "malformed JSON at line %d, column %d: %s",
				 je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		http_reply_error(q, 400, "bad_json", "the body must be a JSON object");
		return NULL;
	}
	return o;
}

int api__repo(struct srv *s, struct http_req *q, char *out, size_t n)
{
	const char *owner = http_req_param(q, "owner"), *repo = http_req_param(q, "repo");
	if (owner)
		snprintf(out, n, "%s/%s", owner, repo);
	else
		snprintf(out, n, "%s", repo ? repo : "");
	struct repo_row r;
	struct buf err = BUF_INIT;
	memset(&r, 0, sizeof(r));
	int rc = store_repo_get(s->db, out, &r, &err);
	if (!rc)
		repo_row_release(&r);
	if (rc == KILN_ENOENT)
		http_reply_error(q, 404, "unknown_repository", "no repository '%s'", out);
	else if (rc)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	buf_release(&err);
	return rc ? -1 : 0;
}

void api__fail(struct http_req *q, int code, const struct buf *err)
{
	if (code == KILN_EINVAL)
		http_reply_error(q, 400, "invalid", "%s", err->buf);
	else if (code == KILN_ENOENT)
		http_reply_error(q, 404, "not_found", "%s", err->len ? err->buf : "not found");
	else
		http_reply_error(q, 500, "internal", "%s", err->len ? err->buf : "internal error");
}

const char *api__actor(struct http_req *q)
{
	const struct principal *p = http_req_who(q);
	return p ? p->name : NULL;
}

int64_t api__int(const char *s)
{
	if (!s || !*s)
		return 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	return *end || v <= 0 ? 0 : (int64_t)v;
}
