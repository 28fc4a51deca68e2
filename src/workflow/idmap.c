/*
 * idmap: a case-insensitive map from job id to index (open addressing,
 * FNV-1a over the ASCII-lowercased id). Job ids are unique ignoring case
 * and `needs` resolve ignoring case; with thousands of jobs a linear scan
 * per lookup would dominate the load time.
 */
#include "workflow/wf-int.h"

#include <ctype.h>
#include <strings.h>

static uint32_t hash_id(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint32_t)tolower((unsigned char)*s)) * 16777619u;
	return h;
}

void wf__idmap_init(struct wf__idmap *m, size_t n)
{
	size_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	m->cap = cap;
	m->keys = xcalloc(cap, sizeof(*m->keys));
	m->vals = xcalloc(cap, sizeof(*m->vals));
}

void wf__idmap_release(struct wf__idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

long wf__idmap_get(const struct wf__idmap *m, const char *id)
{
	if (!m->cap)
		return -1;
	for (size_t i = hash_id(id) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->keys[i])
			return -1;
		if (!strcasecmp(m->keys[i], id))
			return m->vals[i];
	}
}

long wf__idmap_put(struct wf__idmap *m, const char *id, long val)
{
	if (m->nr * 2 >= m->cap) {
		struct wf__idmap big;
		wf__idmap_init(&big, m->cap);
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i])
				wf__idmap_put(&big, m->keys[i], m->vals[i]);
		wf__idmap_release(m);
		*m = big;
	}
	size_t i = hash_id(id) & (m->cap - 1);
	for (; m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (!strcasecmp(m->keys[i], id))
			return m->vals[i];
	m->keys[i] = id;
	m->vals[i] = val;
	m->nr++;
	return -1;
}
