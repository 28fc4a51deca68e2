/*
 * route: the router of `kiln serve`: method + path pattern (":name" is
 * one path segment) -> handler, with authentication by role before the
 * handler runs. Linear in the number of routes (they are few, and the
 * match is a few string compares).
 */
#include "base/kiln.h"
#include "server/http-int.h"

static int valid_pattern(const char *p)
{
	if (p[0] != '/')
		return 0;
	size_t params = 0;
	for (const char *s = p; *s; s++)
		if (*s == ':' && s[-1] == '/')
			params++;
	return params <= HTTP_MAX_PARAMS;
}

int http_route(struct srv *srv, const char *method, const char *pattern, enum role min_role,
	       http_handler_fn fn)
{
	struct http *h = srv_http(srv);
	if (h->nroutes == HTTP_MAX_ROUTES || !valid_pattern(pattern))
		return -1;
	h->routes[h->nroutes++] = (struct route){ method, pattern, min_role, fn };
	return 0;
}

/* does path match pattern? parameters go into q (pool copies) */
static int match(const char *pat, const char *path, struct http_req *q)
{
	q->nparams = 0;
	while (*pat && *path) {
		if (*pat == ':') {
			const char *pe = strchr(pat, '/'), *se = strchr(path, '/');
			size_t pn = pe ? (size_t)(pe - pat) : strlen(pat);
			size_t sn = se ? (size_t)(se - path) : strlen(path);
			if (!sn)
				return 0;
			char *name = h2o_mem_alloc_pool(&q->r->pool, pn);
			memcpy(name, pat + 1, pn - 1);
			name[pn - 1] = '\0';
			char *val = h2o_mem_alloc_pool(&q->r->pool, sn + 1);
			memcpy(val, path, sn);
			val[sn] = '\0';
			q->param_names[q->nparams] = name;
			q->param_values[q->nparams++] = val;
			pat += pn;
			path += sn;
			continue;
		}
		if (*pat != *path)
			return 0;
		pat++;
		path++;
	}
	return !*pat && !*path;
}

void http__dispatch(struct http *h, struct http_req *q)
{
	const struct route *found = NULL;
	int path_matched = 0;
	for (size_t i = 0; i < h->nroutes && !found; i++) {
		const struct route *rt = &h->routes[i];
		if (!match(rt->pattern, q->path, q))
			continue;
		path_matched = 1;
		if (!strcmp(rt->method, q->method) ||
		    (!strcmp(rt->method, "GET") && !strcmp(q->method, "HEAD")))
			found = rt;
	}
	if (!found) {
		if (path_matched)
			http_reply_error(q, 405, "method_not_allowed", "%s is not allowed on %s",
					 q->method, q->path);
		else
			http_reply_error(q, 404, "not_found", "no such endpoint: %s", q->path);
		return;
	}
	if (found->min_role != ROLE_NONE) {
		const char *authz = http_req_header(q, "authorization");
		if (!authz) {
			http_reply_header(q, "WWW-Authenticate", "Bearer realm=\"kiln\"");
			http_reply_error(q, 401, "unauthenticated", "this endpoint needs a token "
				"(Authorization: Bearer TOKEN)");
			return;
		}
		if (srv_authenticate(h->srv, authz, &q->who) < 0) {
			http_reply_header(q, "WWW-Authenticate", "Bearer realm=\"kiln\", error=\"invalid_token\"");
			http_reply_error(q, 401, "bad_token", "the token is unknown, revoked or expired");
			return;
		}
		q->who_set = 1;
		if (q->who.role < found->min_role) {
			http_reply_error(q, 403, "forbidden", "this needs the %s role (you are %s)",
					 role_name(found->min_role), role_name(q->who.role));
			principal_release(&q->who);
			q->who_set = 0;
			return;
		}
	}
	found->fn(h->srv, q);
	if (q->who_set) {
		principal_release(&q->who);
		q->who_set = 0;
	}
}
