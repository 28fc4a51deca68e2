/*
 * value: expression values (null, boolean, number, string, array, object),
 * immutable once built and reference-counted. null/true/false are static
 * and never counted. Objects keep insertion order and match keys
 * case-insensitively; big objects get a hash index.
 */
#include "base/kiln.h"
#include "expr/expr-int.h"

#include <math.h>

static struct ev ev_null_v = { EV_IMMORTAL, EV_NULL, 0, 0, 0, { 0 } };
static struct ev ev_true_v = { EV_IMMORTAL, EV_BOOL, 0, 0, 0, { .b = 1 } };
static struct ev ev_false_v = { EV_IMMORTAL, EV_BOOL, 0, 0, 0, { .b = 0 } };

static void ev_bug(const char *what)
{
	fprintf(stderr, "BUG: %s\n", what);
	abort();
}

/*
 * Small values come from per-thread free lists in two sizes: glibc's
 * malloc + free cost ~130 instructions a pair, and an evaluation makes a
 * value per function result, filter, and per string and container that
 * fromJSON reads. A value's `inl` says which list (EV_POOL_*) it goes back
 * to; one made from other memory (ev__strbuf_finish: a buf's) goes to
 * free(). Each list keeps at most POOL_KEEP blocks (a thread that ends
 * leaves at most that much behind). Under ASan the lists are off, so a use
 * after free is still caught.
 */
#define POOL_KEEP 64

#if defined(__SANITIZE_ADDRESS__)
#define EV_NO_POOL 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EV_NO_POOL 1
#endif
#endif

#ifndef EV_NO_POOL
static const size_t pool_size[2] = { 64, 128 };
struct pool_block {
	struct pool_block *next;
};
static _Thread_local struct pool_block *pool_head[2];
static _Thread_local unsigned pool_n[2];
#endif

static struct ev *ev_alloc(enum ev_kind k, size_t extra)
{
	size_t size = sizeof(struct ev) + extra;
	struct ev *v;
	uint8_t flags = 0;
#ifndef EV_NO_POOL
	if (size <= pool_size[1]) {
		int c = size > pool_size[0];
		struct pool_block *b = pool_head[c];
		if (b) {
			pool_head[c] = b->next;
			pool_n[c]--;
		} else {
			b = xmalloc(pool_size[c]);
		}
		v = (struct ev *)(void *)b;
		flags = c ? EV_POOL_BIG : EV_POOL_SMALL;
	} else
#endif
		v = xmalloc(size);
	memset(v, 0, sizeof(*v));
	v->refs = 1;
	v->kind = (uint8_t)k;
	v->inl = flags;
	return v;
}

/* the memory of a value whose count reached 0 */
static void ev_release(struct ev *v)
{
#ifndef EV_NO_POOL
	if (v->inl & (EV_POOL_SMALL | EV_POOL_BIG)) {
		int c = !!(v->inl & EV_POOL_BIG);
		if (pool_n[c] < POOL_KEEP) {
			struct pool_block *b = (struct pool_block *)(void *)v;
			b->next = pool_head[c];
			pool_head[c] = b;
			pool_n[c]++;
			return;
		}
	}
#endif
	free(v);
}

struct ev *ev_null(void) { return &ev_null_v; }
struct ev *ev_bool(int b) { return b ? &ev_true_v : &ev_false_v; }

/* the integers 0..255 as static values: numbers have no identity (== compares
 * them by value), so these are shared instead of allocated */
#define SMALL_INTS 256
#define N1(i) { EV_IMMORTAL, EV_NUMBER, 0, 0, 0, { .n = (i) } }
#define N4(i) N1(i), N1((i) + 1), N1((i) + 2), N1((i) + 3)
#define N16(i) N4(i), N4((i) + 4), N4((i) + 8), N4((i) + 12)
#define N64(i) N16(i), N16((i) + 16), N16((i) + 32), N16((i) + 48)
static struct ev small_ints[SMALL_INTS] = { N64(0), N64(64), N64(128), N64(192) };

struct ev *ev_number(double d)
{
	if (d >= 0 && d < SMALL_INTS && d == (double)(int)d && !(d == 0 && signbit(d)))
		return &small_ints[(int)d];
	struct ev *v = ev_alloc(EV_NUMBER, 0);
	v->u.n = d;
	return v;
}

static int all_ascii(const char *s, size_t len)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ull)
			return 0;
	}
	for (; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

struct ev *ev_string(const char *s, size_t len)
{
	struct ev *v = ev_alloc(EV_STRING, len + 1);
	v->u.str.s = (char *)(v + 1);
	memcpy(v->u.str.s, s, len);
	v->u.str.s[len] = '\0';
	v->u.str.len = len;
	v->ascii = (uint8_t)all_ascii(s, len);
	return v;
}

struct ev *ev_cstr(const char *s) { return ev_string(s, strlen(s)); }

struct ev *ev__string_fixed(void *mem, size_t len)
{
	struct ev *v = mem;
	memset(v, 0, sizeof(*v));
	v->refs = EV_IMMORTAL;
	v->kind = EV_STRING;
	v->u.str.s = (char *)mem + EV_STRHDR;
	v->u.str.s[len] = '\0';
	v->u.str.len = len;
	v->ascii = (uint8_t)all_ascii(v->u.str.s, len);
	return v;
}

struct ev *ev__string_take(struct buf *b)
{
	struct ev *v = ev_string(b->buf, b->len);
	buf_release(b);
	return v;
}

void ev__strbuf_init(struct buf *b, size_t hint)
{
	buf_init(b, EV_STRHDR + hint);
	buf_setlen(b, EV_STRHDR);
}

struct ev *ev__strbuf_finish(struct buf *b)
{
	size_t len = ev__strbuf_len(b), need = EV_STRHDR + len + 1;
	int shrink = b->alloc > need + 256;
	char *mem = buf_detach(b, NULL);
	if (shrink)
		mem = xrealloc(mem, need);
	struct ev *v = (struct ev *)(void *)mem; /* malloc's alignment suits struct ev */
	memset(v, 0, sizeof(*v));
	v->refs = 1;
	v->kind = EV_STRING;
	v->u.str.s = mem + EV_STRHDR;
	v->u.str.len = len;
	v->ascii = (uint8_t)all_ascii(v->u.str.s, len);
	return v;
}

struct ev *ev_array(void) { return ev_alloc(EV_ARRAY, 0); }

struct ev *ev__filtered(void)
{
	struct ev *v = ev_alloc(EV_ARRAY, 0);
	v->filtered = 1;
	return v;
}

struct ev *ev_object(void) { return ev_alloc(EV_OBJECT, 0); }

struct ev *ev__array_sized(size_t cap, int filtered)
{
	struct ev *v = ev_alloc(EV_ARRAY, cap * sizeof(struct ev *));
	v->filtered = (uint8_t)!!filtered;
	if (cap) {
		v->u.arr.v = (struct ev **)(void *)(v + 1);
		v->u.arr.alloc = cap;
		v->inl |= EV_INL;
	}
	return v;
}

struct ev *ev__object_sized(size_t cap)
{
	struct ev *v = ev_alloc(EV_OBJECT, cap * sizeof(struct ev_kv));
	if (cap) {
		v->u.obj.kv = (struct ev_kv *)(void *)(v + 1);
		v->u.obj.alloc = cap;
		v->inl |= EV_INL;
	}
	return v;
}

/* before growing a container's element array past its capacity: move
 * elements kept in the value's own allocation to a malloc'd array */
static void *own_elems(struct ev *v, void *elems, size_t size, size_t nr)
{
	if (!(v->inl & EV_INL))
		return elems;
	void *p = xmalloc((nr ? nr : 1) * size);
	memcpy(p, elems, nr * size);
	v->inl &= (uint8_t)~EV_INL;
	return p;
}

struct ev *ev_ref(const struct ev *cv)
{
	struct ev *v = (struct ev *)cv;
	if (v && v->refs != EV_IMMORTAL)
		v->refs++;
	return v;
}

void ev_unref(struct ev *v)
{
	if (!v || v->refs == EV_IMMORTAL || --v->refs)
		return;
	if (v->kind == EV_ARRAY) {
		for (size_t i = 0; i < v->u.arr.nr; i++)
			ev_unref(v->u.arr.v[i]);
		if (!(v->inl & EV_INL))
			free(v->u.arr.v);
	} else if (v->kind == EV_OBJECT) {
		for (size_t i = 0; i < v->u.obj.nr; i++) {
			ev_unref(v->u.obj.kv[i].key);
			ev_unref(v->u.obj.kv[i].val);
		}
		if (!(v->inl & EV_INL))
			free(v->u.obj.kv);
		free(v->u.obj.index);
	}
	ev_release(v);
}

enum ev_kind ev_kind(const struct ev *v) { return (enum ev_kind)v->kind; }
int ev_get_bool(const struct ev *v) { return v->kind == EV_BOOL && v->u.b; }
double ev_get_number(const struct ev *v) { return v->kind == EV_NUMBER ? v->u.n : 0; }

const char *ev_get_str(const struct ev *v, size_t *len)
{
	if (v->kind != EV_STRING) {
		if (len)
			*len = 0;
		return "";
	}
	if (len)
		*len = v->u.str.len;
	return v->u.str.s;
}

size_t ev_len(const struct ev *v)
{
	if (v->kind == EV_ARRAY)
		return v->u.arr.nr;
	if (v->kind == EV_OBJECT)
		return v->u.obj.nr;
	return 0;
}

const struct ev *ev_array_at(const struct ev *a, size_t i)
{
	return a->kind == EV_ARRAY && i < a->u.arr.nr ? a->u.arr.v[i] : NULL;
}

void ev_array_push(struct ev *a, struct ev *v)
{
	if (a->kind != EV_ARRAY)
		ev_bug("ev_array_push on a non-array");
	if (a->u.arr.nr == a->u.arr.alloc)
		a->u.arr.v = own_elems(a, a->u.arr.v, sizeof(*a->u.arr.v), a->u.arr.nr);
	ALLOC_GROW(a->u.arr.v, a->u.arr.nr + 1, a->u.arr.alloc);
	a->u.arr.v[a->u.arr.nr++] = v;
}

/* ---- objects ---- */

#define INDEX_MIN 9 /* objects with at least this many keys get a hash index */
#define SLOT_EMPTY UINT32_MAX

static void index_put(struct ev *o, size_t i)
{
	size_t mask = o->u.obj.icap - 1;
	size_t h = o->u.obj.kv[i].hash & mask;
	while (o->u.obj.index[h] != SLOT_EMPTY)
		h = (h + 1) & mask;
	o->u.obj.index[h] = (uint32_t)i;
}

static void index_rebuild(struct ev *o)
{
	size_t cap = 16;
	while (cap < o->u.obj.nr * 2)
		cap *= 2;
	free(o->u.obj.index);
	o->u.obj.index = xmalloc(cap * sizeof(uint32_t));
	o->u.obj.icap = cap;
	for (size_t i = 0; i < cap; i++)
		o->u.obj.index[i] = SLOT_EMPTY;
	for (size_t i = 0; i < o->u.obj.nr; i++)
		index_put(o, i);
}

static inline int key_match(const struct ev *k, const char *key, size_t len, int ascii)
{
	if (ascii && k->ascii) {
		if (k->u.str.len != len)
			return 0;
		const unsigned char *a = (const unsigned char *)k->u.str.s;
		const unsigned char *b = (const unsigned char *)key;
		if (!memcmp(a, b, len)) /* the usual case: spelled the same */
			return 1;
		for (size_t i = 0; i < len; i++)
			if (a[i] != b[i] && ((a[i] | 32) != (b[i] | 32) || (unsigned)((a[i] | 32) - 'a') > 25))
				return 0;
		return 1;
	}
	return expr__key_eq(k->u.str.s, k->u.str.len, key, len);
}

/* the whole lookup, for keys ev__object_getkey's fast path cannot decide */
static __attribute__((noinline)) const struct ev *
getkey_slow(const struct ev *o, const char *s, size_t len, int ascii, uint32_t hash)
{
	if (o->u.obj.index) {
		size_t mask = o->u.obj.icap - 1;
		for (size_t h = hash & mask;; h = (h + 1) & mask) {
			uint32_t slot = o->u.obj.index[h];
			if (slot == SLOT_EMPTY)
				return NULL;
			const struct ev_kv *kv = &o->u.obj.kv[slot];
			if (kv->hash == hash && key_match(kv->key, s, len, ascii))
				return kv->val;
		}
	}
	for (size_t i = 0; i < o->u.obj.nr; i++) {
		const struct ev_kv *kv = &o->u.obj.kv[i];
		if (kv->hash == hash && key_match(kv->key, s, len, ascii))
			return kv->val;
	}
	return NULL;
}

/* the key is stored spelled exactly as asked (byte for byte) */
static inline int same_bytes(const struct ev *k, const char *key, size_t len)
{
	if (k->u.str.len != len)
		return 0;
	const char *a = k->u.str.s;
	for (; len >= 8; a += 8, key += 8, len -= 8) { /* words, never past either end */
		uint64_t x, y;
		memcpy(&x, a, 8);
		memcpy(&y, key, 8);
		if (x != y)
			return 0;
	}
	if (len >= 4) { /* 4..7 bytes: the first four and the last four */
		uint32_t x0, y0, x1, y1;
		memcpy(&x0, a, 4);
		memcpy(&y0, key, 4);
		memcpy(&x1, a + len - 4, 4);
		memcpy(&y1, key + len - 4, 4);
		return x0 == y0 && x1 == y1;
	}
	for (size_t i = 0; i < len; i++)
		if (a[i] != key[i])
			return 0;
	return 1;
}

const struct ev *ev__object_getk(const struct ev *o, const struct ev *key, uint32_t hash)
{
	return ev__object_getkey(o, key->u.str.s, key->u.str.len, key->ascii, hash);
}

/*
 * The usual lookup finds its key spelled the same as it is stored at the
 * first entry of the same hash; everything else (another spelling, a hash
 * collision) is left to getkey_slow, so this path calls nothing and saves
 * no registers.
 */
const struct ev *ev__object_getkey(const struct ev *o, const char *s, size_t len, int ascii,
				   uint32_t hash)
{
	if (o->u.obj.index) {
		size_t mask = o->u.obj.icap - 1;
		for (size_t h = hash & mask;; h = (h + 1) & mask) {
			uint32_t slot = o->u.obj.index[h];
			if (slot == SLOT_EMPTY)
				return NULL;
			const struct ev_kv *kv = &o->u.obj.kv[slot];
			if (kv->hash == hash) {
				if (same_bytes(kv->key, s, len))
					return kv->val;
				return getkey_slow(o, s, len, ascii, hash);
			}
		}
	}
	for (size_t i = 0; i < o->u.obj.nr; i++) {
		const struct ev_kv *kv = &o->u.obj.kv[i];
		if (kv->hash == hash) {
			if (same_bytes(kv->key, s, len))
				return kv->val;
			return getkey_slow(o, s, len, ascii, hash);
		}
	}
	return NULL;
}

static long find_keyh(const struct ev *o, const char *key, size_t len, uint32_t hash)
{
	if (o->u.obj.index) {
		size_t mask = o->u.obj.icap - 1;
		size_t h = hash & mask;
		for (;;) {
			uint32_t slot = o->u.obj.index[h];
			if (slot == SLOT_EMPTY)
				return -1;
			const struct ev_kv *kv = &o->u.obj.kv[slot];
			if (kv->hash == hash &&
			    expr__key_eq(kv->key->u.str.s, kv->key->u.str.len, key, len))
				return slot;
			h = (h + 1) & mask;
		}
	}
	for (size_t i = 0; i < o->u.obj.nr; i++) {
		const struct ev_kv *kv = &o->u.obj.kv[i];
		if (kv->hash == hash && expr__key_eq(kv->key->u.str.s, kv->key->u.str.len, key, len))
			return (long)i;
	}
	return -1;
}

static long find_key(const struct ev *o, const char *key, size_t len)
{
	return find_keyh(o, key, len, expr__key_hash(key, len));
}

const struct ev *ev__object_geth(const struct ev *o, const char *key, size_t len, uint32_t hash)
{
	long i = find_keyh(o, key, len, hash);
	return i < 0 ? NULL : o->u.obj.kv[i].val;
}

static void append_kvh(struct ev *o, struct ev *key, struct ev *val, uint32_t hash)
{
	if (o->u.obj.nr == o->u.obj.alloc)
		o->u.obj.kv = own_elems(o, o->u.obj.kv, sizeof(*o->u.obj.kv), o->u.obj.nr);
	ALLOC_GROW(o->u.obj.kv, o->u.obj.nr + 1, o->u.obj.alloc);
	size_t i = o->u.obj.nr++;
	o->u.obj.kv[i].key = key;
	o->u.obj.kv[i].val = val;
	o->u.obj.kv[i].hash = hash;
	if (o->u.obj.index && o->u.obj.nr * 2 <= o->u.obj.icap)
		index_put(o, i);
	else if (o->u.obj.nr >= INDEX_MIN)
		index_rebuild(o);
}

static void append_kv(struct ev *o, struct ev *key, struct ev *val)
{
	append_kvh(o, key, val, expr__key_hash(key->u.str.s, key->u.str.len));
}

const struct ev *ev__object_getn(const struct ev *o, const char *key, size_t len)
{
	if (o->kind != EV_OBJECT)
		return NULL;
	long i = find_key(o, key, len);
	return i < 0 ? NULL : o->u.obj.kv[i].val;
}

const struct ev *ev_object_get(const struct ev *o, const char *key)
{
	return ev__object_getn(o, key, strlen(key));
}

const char *ev_object_key_at(const struct ev *o, size_t i)
{
	return o->kind == EV_OBJECT && i < o->u.obj.nr ? o->u.obj.kv[i].key->u.str.s : NULL;
}

const struct ev *ev_object_val_at(const struct ev *o, size_t i)
{
	return o->kind == EV_OBJECT && i < o->u.obj.nr ? o->u.obj.kv[i].val : NULL;
}

void ev_object_set(struct ev *o, const char *key, struct ev *v)
{
	if (o->kind != EV_OBJECT)
		ev_bug("ev_object_set on a non-object");
	size_t len = strlen(key);
	long i = find_key(o, key, len);
	if (i >= 0) {
		ev_unref(o->u.obj.kv[i].val);
		o->u.obj.kv[i].val = v;
		return;
	}
	append_kv(o, ev_string(key, len), v);
}

int ev__object_add_first(struct ev *o, struct ev *key, struct ev *val)
{
	if (find_key(o, key->u.str.s, key->u.str.len) >= 0) {
		ev_unref(key);
		ev_unref(val);
		return 0;
	}
	append_kv(o, key, val);
	return 1;
}

/* ---- GitHub's conversions ---- */

int ev_truthy(const struct ev *v)
{
	switch (v->kind) {
	case EV_NULL:
		return 0;
	case EV_BOOL:
		return v->u.b;
	case EV_NUMBER:
		return !(v->u.n == 0 || v->u.n != v->u.n);
	case EV_STRING:
		return v->u.str.len != 0;
	default:
		return 1;
	}
}

void ev_to_string(const struct ev *v, struct buf *out)
{
	switch (v->kind) {
	case EV_NULL:
		break;
	case EV_BOOL:
		buf_addstr(out, v->u.b ? "true" : "false");
		break;
	case EV_NUMBER:
		expr__num_coerce(out, v->u.n);
		break;
	case EV_STRING:
		buf_add(out, v->u.str.s, v->u.str.len);
		break;
	case EV_ARRAY:
		buf_addstr(out, "Array");
		break;
	case EV_OBJECT:
		buf_addstr(out, "Object");
		break;
	}
}

void ev__object_json_put(struct ev *o, struct ev *key, struct ev *val)
{
	ev__object_json_puth(o, key, val, expr__key_hash(key->u.str.s, key->u.str.len));
}

void ev__object_json_puth(struct ev *o, struct ev *key, struct ev *val, uint32_t hash)
{
	long i = find_keyh(o, key->u.str.s, key->u.str.len, hash);
	if (i < 0) {
		append_kvh(o, key, val, hash);
		return;
	}
	const struct ev *k = o->u.obj.kv[i].key;
	if (k->u.str.len == key->u.str.len && !memcmp(k->u.str.s, key->u.str.s, k->u.str.len)) {
		ev_unref(o->u.obj.kv[i].val);
		o->u.obj.kv[i].val = val;
	} else {
		ev_unref(val);
	}
	ev_unref(key);
}
