/*
 * mask: the first, straightforward masker: leftmost-longest replacement by
 * scanning each registered value. The streaming multi-pattern matcher of
 * issue 5 replaces this implementation behind the same API.
 */
#include "base/kiln.h"
#include "engine/mask.h"

struct masker {
	char **v;   /* owned values, longest first */
	size_t *len;
	size_t nr, alloc, lalloc;
};

struct masker *mask_new(void)
{
	return xcalloc(1, sizeof(struct masker));
}

void mask_free(struct masker *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nr; i++)
		free(m->v[i]);
	free(m->v);
	free(m->len);
	free(m);
}

static void add_one(struct masker *m, const char *s, size_t len)
{
	if (!len)
		return;
	for (size_t i = 0; i < m->nr; i++)
		if (m->len[i] == len && !memcmp(m->v[i], s, len))
			return;
	ALLOC_GROW(m->v, m->nr + 1, m->alloc);
	ALLOC_GROW(m->len, m->nr + 1, m->lalloc);
	/* keep longest first so the longest match wins */
	size_t at = m->nr;
	while (at > 0 && m->len[at - 1] < len) {
		m->v[at] = m->v[at - 1];
		m->len[at] = m->len[at - 1];
		at--;
	}
	m->v[at] = xstrndup(s, len);
	m->len[at] = len;
	m->nr++;
}

void mask_add(struct masker *m, const char *value, size_t len)
{
	add_one(m, value, len);
	const char *p = value, *end = value + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (l && l < len) {
			size_t t = l;
			if (p[t - 1] == '\r')
				t--;
			add_one(m, p, t);
		}
		p += l + 1;
	}
}

size_t mask_count(const struct masker *m)
{
	return m->nr;
}

void mask_apply(const struct masker *m, const char *in, size_t len, struct buf *out)
{
	size_t i = 0;
	while (i < len) {
		size_t hit = 0;
		for (size_t k = 0; k < m->nr && !hit; k++)
			if (m->len[k] <= len - i && !memcmp(in + i, m->v[k], m->len[k]))
				hit = m->len[k];
		if (hit) {
			buf_add(out, "***", 3);
			i += hit;
		} else {
			buf_addch(out, in[i++]);
		}
	}
}
