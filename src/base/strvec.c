/* strvec: owned NULL-terminated string arrays. */
#include "base/strvec.h"
#include "base/buf.h"
#include "base/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void strvec_push_nodup(struct strvec *sv, char *s)
{
	ALLOC_GROW(sv->v, sv->nr + 2, sv->alloc);
	sv->v[sv->nr++] = s;
	sv->v[sv->nr] = NULL;
}

void strvec_push(struct strvec *sv, const char *s)
{
	strvec_push_nodup(sv, xstrdup(s));
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	strvec_push_nodup(sv, buf_detach(&b, NULL));
}

void strvec_clear(struct strvec *sv)
{
	for (size_t i = 0; i < sv->nr; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->nr = sv->alloc = 0;
}

long strvec_find(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return (long)i;
	return -1;
}

/* the entry NAME=...; n is strlen(name). The first bytes are compared
 * inline: a step's environment is ~100 entries, searched ~25 times per
 * step (strncmp per entry was 8 % of kiln's instructions on a DAG) */
static long env_index(const struct strvec *env, const char *name, size_t n)
{
	for (size_t i = 0; i < env->nr; i++) {
		const char *v = env->v[i];
		if (n && v[0] != name[0])
			continue;
		if (!strncmp(v, name, n) && v[n] == '=')
			return (long)i;
	}
	return -1;
}

void strvec_setenv(struct strvec *env, const char *name, const char *value)
{
	size_t n = strlen(name), vl = strlen(value);
	long i = env_index(env, name, n);
	char *kv = xmalloc(n + vl + 2); /* not xstrfmt: no printf per variable */
	memcpy(kv, name, n);
	kv[n] = '=';
	memcpy(kv + n + 1, value, vl + 1);
	if (i >= 0) {
		free(env->v[i]);
		env->v[i] = kv;
	} else {
		strvec_push_nodup(env, kv);
	}
}

const char *strvec_getenv(const struct strvec *env, const char *name)
{
	size_t n = strlen(name);
	long i = env_index(env, name, n);
	return i < 0 ? NULL : env->v[i] + n + 1;
}
