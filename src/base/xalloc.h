/*
 * xalloc: allocation that never returns NULL. Out of memory aborts the
 * process (git, redis, jq do the same), so callers never check.
 */
#ifndef KILN_XALLOC_H
#define KILN_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a freshly allocated string */
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* grow array `p` (of `nr` used, `alloc` allocated) to hold at least `need` */
#define ALLOC_GROW(p, need, alloc)                                          \
	do {                                                                \
		if ((size_t)(need) > (alloc)) {                             \
			size_t na_ = (alloc) < 8 ? 8 : (alloc) * 2;         \
			if (na_ < (size_t)(need))                           \
				na_ = (need);                               \
			(p) = xrealloc((p), na_ * sizeof(*(p)));            \
			(alloc) = na_;                                      \
		}                                                           \
	} while (0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
