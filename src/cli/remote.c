/* remote: --server/--token, one JSON request, exit codes (see remote.h). */
#include "base/kiln.h"
#include "cli/remote.h"
#include "deploy/webhook.h"

#include <time.h>

int remote_resolve(struct remote *r)
{
	if (!r->server || !*r->server)
		r->server = getenv("KILN_SERVER");
	if (!r->token || !*r->token)
		r->token = getenv("KILN_TOKEN");
	return r->server && *r->server;
}

void remote_path_add(struct buf *b, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c) || (keep_slash && c == '/')) {
			buf_addch(b, (char)c);
		} else {
			buf_addch(b, '%');
			buf_addch(b, hex[c >> 4]);
			buf_addch(b, hex[c & 15]);
		}
	}
}

void remote_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", s ? s : "null");
	free(s);
}

void remote_fmt_time(int64_t ms, char *out, size_t n)
{
	if (ms <= 0) {
		snprintf(out, n, "-");
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

int remote_call(const struct remote *r, const char *cmd, const char *method, const char *path,
		json_t *body, json_t **out)
{
	if (out)
		*out = NULL;
	struct buf url = BUF_INIT, resp = BUF_INIT;
	buf_addstr(&url, r->server);
	while (url.len && url.buf[url.len - 1] == '/')
		buf_setlen(&url, url.len - 1);
	buf_addstr(&url, path);
	char *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	struct webhook_req req = { method, url.buf, r->token, b, NULL, 30000, NULL, NULL };
	char err[256];
	long status = webhook_fetch(&req, &resp, err, sizeof(err));
	int rc;
	if (b) {
		explicit_bzero(b, strlen(b)); /* may hold a secret value or a password */
		free(b);
	}
	json_error_t je;
	json_t *j = resp.len ? json_loadb(resp.buf, resp.len, 0, &je) : NULL;
	if (status < 0) {
		fprintf(stderr, "kiln %s: error: cannot reach %s: %s\n", cmd, r->server, err);
		rc = EXIT_INTERNAL;
	} else if (status >= 200 && status < 300) {
		rc = EXIT_OK;
		if (out) {
			*out = j;
			j = NULL;
		}
	} else {
		const json_t *e = json_object_get(j, "error");
		const char *msg = json_string_value(json_object_get(e, "message"));
		const char *code = json_string_value(json_object_get(e, "code"));
		fprintf(stderr, "kiln %s: error: %s (HTTP %ld%s%s)\n", cmd,
			msg ? msg : "unexpected answer", status, code ? " " : "", code ? code : "");
		if (status == 401 && !r->token)
			fprintf(stderr, "hint: pass --token or set KILN_TOKEN\n");
		rc = status == 400 || status == 422 ? EXIT_USAGE
		     : status >= 500 ? EXIT_INTERNAL : EXIT_FAILED;
	}
	json_decref(j);
	buf_release(&url);
	buf_release(&resp);
	return rc;
}
