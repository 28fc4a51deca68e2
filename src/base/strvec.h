/*
 * strvec: a NULL-terminated, owned array of strings (git's strvec), used for
 * argv and environment lists.
 */
#ifndef KILN_STRVEC_H
#define KILN_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v; /* always NULL-terminated once anything was pushed */
	size_t nr, alloc;
};

#define STRVEC_INIT { NULL, 0, 0 }

void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* take ownership of an allocated string */
void strvec_push_nodup(struct strvec *sv, char *s);
void strvec_clear(struct strvec *sv);
/* index of s in sv, or -1 */
long strvec_find(const struct strvec *sv, const char *s);
/* environment helper: replace or add NAME=VALUE */
void strvec_setenv(struct strvec *env, const char *name, const char *value);
/* value of NAME in a NAME=VALUE list, or NULL */
const char *strvec_getenv(const struct strvec *env, const char *name);

#endif
