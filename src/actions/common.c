/*
 * common: helpers shared by the built-in actions (see actions.h).
 */
#include "base/kiln.h"
#include "actions/actions.h"

#include <stdarg.h>
#include <strings.h>

const char *act_input(const struct builtin_call *c, const char *name)
{
	const struct ev *v = c->with ? ev_object_get(c->with, name) : NULL;
	const char *s = v && ev_kind(v) == EV_STRING ? ev_get_str(v, NULL) : NULL;
	return s ? s : "";
}

int act_input_bool(const struct builtin_call *c, const char *name, int def, int *out,
		   struct buf *err)
{
	const char *s = act_input(c, name);
	if (!*s)
		*out = def;
	else if (!strcasecmp(s, "true"))
		*out = 1;
	else if (!strcasecmp(s, "false"))
		*out = 0;
	else {
		/* @actions/core getBooleanInput's wording */
		buf_addf(err,
			 "Input does not meet YAML 1.2 \"Core Schema\" specification: %s\n"
			 "Support boolean input list: `true | True | TRUE | false | False | FALSE`",
			 name);
		return KILN_EINVAL;
	}
	return 0;
}

void act_input_lines(const struct builtin_call *c, const char *name, struct strvec *out)
{
	const char *s = act_input(c, name);
	while (*s) {
		const char *nl = strchr(s, '\n');
		const char *end = nl ? nl : s + strlen(s);
		const char *b = s, *e = end;
		while (b < e && (*b == ' ' || *b == '\t' || *b == '\r'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (e > b) {
			char *line = xstrndup(b, (size_t)(e - b));
			strvec_push_nodup(out, line);
		}
		s = nl ? nl + 1 : end;
	}
}

static const char *ev_str_or_empty(const struct ev *v)
{
	const char *s = v && ev_kind(v) == EV_STRING ? ev_get_str(v, NULL) : NULL;
	return s ? s : "";
}

const char *act_github(const struct builtin_call *c, const char *key)
{
	const struct ev *g = c->contexts ? ev_object_get(c->contexts, "github") : NULL;
	return ev_str_or_empty(g && ev_kind(g) == EV_OBJECT ? ev_object_get(g, key) : NULL);
}

const char *act_event_str(const struct builtin_call *c, const char *dotted)
{
	const struct ev *g = c->contexts ? ev_object_get(c->contexts, "github") : NULL;
	const struct ev *v = g && ev_kind(g) == EV_OBJECT ? ev_object_get(g, "event") : NULL;
	struct buf key = BUF_INIT;
	const char *p = dotted;
	while (v && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		buf_reset(&key);
		buf_add(&key, p, n);
		v = ev_kind(v) == EV_OBJECT ? ev_object_get(v, key.buf) : NULL;
		p += n + (dot ? 1 : 0);
	}
	buf_release(&key);
	return ev_str_or_empty(v);
}

int act_path(const char *base, const char *rel, int confine, struct buf *out, struct buf *err)
{
	buf_reset(out);
	if (*rel == '/') {
		if (confine) {
			buf_addf(err, "path '%s' must be relative to the workspace", rel);
			return KILN_EINVAL;
		}
		buf_addstr(out, rel);
		return 0;
	}
	buf_addstr(out, base);
	size_t root = out->len;
	const char *p = rel;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if ((n == 1 && p[0] == '.') || n == 0) {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (out->len <= root && confine) {
				buf_addf(err, "path '%s' leaves the workspace", rel);
				return KILN_EINVAL;
			}
			char *s = out->len > 1 ? memrchr(out->buf, '/', out->len) : NULL;
			buf_setlen(out, s && s > out->buf ? (size_t)(s - out->buf) : 1);
		} else {
			if (out->len && out->buf[out->len - 1] != '/')
				buf_addch(out, '/');
			buf_add(out, p, n);
		}
		p += n + (slash ? 1 : 0);
	}
	return 0;
}

void act_logf(struct builtin_call *c, enum log_kind kind, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	c->log(c, kind, b.buf ? b.buf : "");
	buf_release(&b);
}

struct ev *act_outputs_from(const struct strvec *kv)
{
	struct ev *o = ev_object();
	for (size_t i = 0; i < kv->nr; i++) {
		const char *eq = strchr(kv->v[i], '=');
		if (!eq)
			continue;
		char *k = xstrndup(kv->v[i], (size_t)(eq - kv->v[i]));
		ev_object_set(o, k, ev_cstr(eq + 1));
		free(k);
	}
	return o;
}
