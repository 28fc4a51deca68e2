/*
 * mask: streaming multi-pattern masking. Patterns live in an Aho-Corasick
 * trie (failure links, longest-output per node); when every pattern is at
 * least 4 bytes a Wu-Manber skip table over hashed 3-byte blocks jumps over
 * text where no pattern can start, so the automaton only runs near
 * candidates. Streams mask the union of all occurrences and hold back only
 * the automaton's current depth (bytes that may still begin a pattern).
 */
#include "base/kiln.h"
#include "engine/mask.h"

#define ROOT 0
#define MIN_DERIVED 4 /* derived forms shorter than this are not registered */
#define FILTER_MIN 4  /* shortest pattern for which the skip filter is used */
#define WINDOW_CAP 16 /* longest window the skip filter looks at */
#define SHIFT_BITS 16

struct pat {
	char *s; /* owned */
	size_t len;
};

struct node {
	uint32_t fail;    /* node of the longest proper suffix in the trie */
	uint32_t out;     /* length of the longest pattern ending here, 0 none */
	uint32_t depth;   /* length of the prefix this node spells */
	uint32_t term;    /* nonzero when a pattern ends exactly here */
	uint32_t child;   /* first child, 0 none */
	uint32_t sibling; /* next child of the parent, 0 none */
	unsigned char c;  /* byte on the edge from the parent */
};

struct masker {
	struct pat *pats;
	size_t npats, apats;
	struct node *nodes; /* nodes[0] is the root */
	size_t nnodes, anodes;
	uint32_t root_next[256]; /* dense transitions out of the root */
	unsigned gen;            /* bumped on every change; streams resync */
	int dirty;               /* patterns added since the last build */
	int filter;              /* skip filter usable */
	size_t win;              /* skip window length */
	/* allocated by the first build that uses the filter: a masker without
	 * patterns (most jobs) does not zero 73 KB (two per job) */
	uint8_t *shift;  /* 1 << SHIFT_BITS entries */
	uint8_t *first2; /* bitmap of patterns' first two bytes, 1 << 16 bits */
};

struct ival {
	uint64_t s, e; /* masked range [s, e) in stream offsets */
};

struct mask_stream {
	const struct masker *m;
	unsigned gen;
	uint32_t state;
	uint64_t pos;     /* bytes consumed */
	uint64_t emitted; /* bytes before this are decided (written or masked) */
	struct buf hold;  /* consumed bytes [hold_base, chunk base) not yet final */
	uint64_t hold_base;
	const unsigned char *chunk; /* bytes of the current write */
	uint64_t base;              /* stream offset of chunk[0] */
	struct ival *iv;            /* pending masked ranges, sorted, disjoint */
	size_t niv, aiv;
	int head_printed; /* "***" for iv[0] already written */
	struct buf *out;
};

struct masker *mask_new(void)
{
	struct masker *m = xcalloc(1, sizeof(*m));
	m->nodes = xcalloc(1, sizeof(struct node));
	m->nnodes = m->anodes = 1;
	return m;
}

void mask_free(struct masker *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->npats; i++)
		free(m->pats[i].s);
	free(m->pats);
	free(m->nodes);
	free(m->shift);
	free(m->first2);
	free(m);
}

size_t mask_count(const struct masker *m)
{
	return m->npats;
}

static uint32_t child_of(const struct masker *m, uint32_t n, unsigned char c)
{
	if (n == ROOT)
		return m->root_next[c];
	for (uint32_t k = m->nodes[n].child; k; k = m->nodes[k].sibling)
		if (m->nodes[k].c == c)
			return k;
	return 0;
}

/* the automaton's transition: follow failure links until a child matches */
static inline uint32_t step(const struct masker *m, uint32_t s, unsigned char c)
{
	for (;;) {
		if (s == ROOT)
			return m->root_next[c];
		uint32_t k = child_of(m, s, c);
		if (k)
			return k;
		s = m->nodes[s].fail;
	}
}

static void trie_insert(struct masker *m, const unsigned char *p, size_t len)
{
	uint32_t n = ROOT;
	for (size_t i = 0; i < len; i++) {
		uint32_t k = child_of(m, n, p[i]);
		if (!k) {
			ALLOC_GROW(m->nodes, m->nnodes + 1, m->anodes);
			k = (uint32_t)m->nnodes++;
			struct node *nk = &m->nodes[k];
			memset(nk, 0, sizeof(*nk));
			nk->c = p[i];
			nk->depth = m->nodes[n].depth + 1;
			nk->sibling = m->nodes[n].child;
			m->nodes[n].child = k;
			if (n == ROOT)
				m->root_next[p[i]] = k;
		}
		n = k;
	}
	m->nodes[n].term = 1;
}

/* breadth-first: failure links and longest outputs */
static void link_failures(struct masker *m)
{
	uint32_t *queue = xmalloc(m->nnodes * sizeof(*queue));
	size_t head = 0, tail = 0;
	for (uint32_t k = m->nodes[ROOT].child; k; k = m->nodes[k].sibling) {
		m->nodes[k].fail = ROOT;
		m->nodes[k].out = m->nodes[k].term ? 1 : 0;
		queue[tail++] = k;
	}
	while (head < tail) {
		uint32_t u = queue[head++];
		for (uint32_t v = m->nodes[u].child; v; v = m->nodes[v].sibling) {
			uint32_t f = m->nodes[u].fail;
			unsigned char c = m->nodes[v].c;
			while (f != ROOT && !child_of(m, f, c))
				f = m->nodes[f].fail;
			f = child_of(m, f, c);
			m->nodes[v].fail = f;
			m->nodes[v].out = m->nodes[v].term ? m->nodes[v].depth : m->nodes[f].out;
			queue[tail++] = v;
		}
	}
	free(queue);
}

static inline uint32_t hash3(const unsigned char *p)
{
	uint32_t x = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
	return (x * 2654435761u) >> (32 - SHIFT_BITS);
}

/* Wu-Manber: shift[h] is how far the window may move when its last three
 * bytes hash to h without skipping a possible pattern start */
static void build_filter(struct masker *m)
{
	size_t minlen = SIZE_MAX;
	for (size_t i = 0; i < m->npats; i++)
		if (m->pats[i].len < minlen)
			minlen = m->pats[i].len;
	m->filter = m->npats && minlen >= FILTER_MIN;
	if (!m->filter)
		return;
	m->win = minlen < WINDOW_CAP ? minlen : WINDOW_CAP;
	if (!m->shift) {
		m->shift = xmalloc(1u << SHIFT_BITS);
		m->first2 = xmalloc((1u << 16) / 8);
	}
	memset(m->shift, (int)(m->win - 2), 1u << SHIFT_BITS);
	memset(m->first2, 0, (1u << 16) / 8);
	for (size_t i = 0; i < m->npats; i++) {
		const unsigned char *p = (const unsigned char *)m->pats[i].s;
		for (size_t j = 0; j + 3 <= m->win; j++) {
			uint32_t h = hash3(p + j);
			uint8_t v = (uint8_t)(m->win - 3 - j);
			if (m->shift[h] > v)
				m->shift[h] = v;
		}
		unsigned f2 = (unsigned)p[0] << 8 | p[1];
		m->first2[f2 >> 3] |= (uint8_t)(1u << (f2 & 7));
	}
}

static int add_pattern(struct masker *m, const char *s, size_t len)
{
	if (!len)
		return 0;
	for (size_t i = 0; i < m->npats; i++)
		if (m->pats[i].len == len && !memcmp(m->pats[i].s, s, len))
			return 0;
	ALLOC_GROW(m->pats, m->npats + 1, m->apats);
	m->pats[m->npats].s = xstrndup(s, len);
	m->pats[m->npats].len = len;
	m->npats++;
	trie_insert(m, (const unsigned char *)s, len);
	return 1;
}

/* patterns changed: links and filter are rebuilt lazily, once, at the next
 * use, so registering 100 secrets costs one build */
static void rebuild(struct masker *m)
{
	m->dirty = 1;
	m->gen++;
}

/* the build is a cache of the pattern set, so it may happen through a const
 * pointer (maskers are used from one thread) */
static void ensure_built(const struct masker *cm)
{
	if (!cm->dirty)
		return;
	struct masker *m = (struct masker *)cm;
	link_failures(m);
	build_filter(m);
	m->dirty = 0;
}

static void add_derived(struct masker *m, const struct buf *b)
{
	if (b->len >= MIN_DERIVED)
		add_pattern(m, b->buf, b->len);
}

/* decode one UTF-8 sequence at s (n bytes left); returns its length or 0 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t l = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (!l || l > n || s[0] > 0xf4)
		return 0;
	uint32_t v = s[0] & (0x3f >> (l - 1));
	for (size_t i = 1; i < l; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	*cp = v;
	return l;
}

/* the value as it appears inside a JSON string literal */
static int json_form(const char *v, size_t len, int esc_slash, int ascii, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	struct buf q = BUF_INIT;
	buf_add_json_str(&q, v, len);
	buf_reset(out);
	for (size_t i = 1; i + 1 < q.len; i++) {
		unsigned char c = (unsigned char)q.buf[i];
		uint32_t cp;
		size_t l;
		if (c == '/' && esc_slash) {
			buf_add(out, "\\/", 2);
		} else if (c >= 0x80 && ascii) {
			l = utf8_decode((unsigned char *)q.buf + i, q.len - 1 - i, &cp);
			if (!l) {
				buf_release(&q);
				return -1;
			}
			i += l - 1;
			uint32_t units[2] = { cp, 0 };
			int nu = 1;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				units[0] = 0xd800 + (cp >> 10);
				units[1] = 0xdc00 + (cp & 0x3ff);
				nu = 2;
			}
			for (int u = 0; u < nu; u++) {
				char e[6] = { '\\', 'u', hex[units[u] >> 12 & 15], hex[units[u] >> 8 & 15],
					      hex[units[u] >> 4 & 15], hex[units[u] & 15] };
				buf_add(out, e, 6);
			}
		} else {
			buf_addch(out, c);
		}
	}
	buf_release(&q);
	return 0;
}

/* the base64 characters that depend only on the value when it starts at
 * byte offset k (0..2) of the encoded data */
static void base64_form(const char *v, size_t n, size_t k, struct buf *out)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	buf_reset(out);
	if (8 * (k + n) < 6)
		return;
	unsigned char *t = xcalloc(k + n + 2, 1);
	memcpy(t + k, v, n);
	size_t lo = (8 * k + 5) / 6, hi = (8 * (k + n) - 6) / 6;
	for (size_t i = lo; i <= hi; i++) {
		size_t bit = 6 * i, byte = bit / 8, off = bit % 8;
		unsigned w = (unsigned)t[byte] << 8 | t[byte + 1];
		buf_addch(out, b64[(w >> (10 - off)) & 63]);
	}
	free(t);
}

/*
 * The value percent-encoded byte by byte (RFC 3986 2.1), every byte outside
 * `keep` (and outside A-Za-z0-9) as %XX in the given hex case; with
 * `space_plus`, a space as '+' (application/x-www-form-urlencoded).
 */
static void url_form(const char *v, size_t n, const char *keep, const char *hex, int space_plus,
		     struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c && strchr(keep, c))) {
			buf_addch(out, (char)c);
		} else if (c == ' ' && space_plus) {
			buf_addch(out, '+');
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			buf_add(out, e, 3);
		}
	}
}

/* the value's bytes as hex digits in the given case */
static void hex_form(const char *v, size_t n, const char *hex, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		char e[2] = { hex[c >> 4], hex[c & 15] };
		buf_add(out, e, 2);
	}
}

/*
 * URL-encoded forms: what encodeURIComponent, RFC 3986 (unreserved kept:
 * Python's quote(safe=""), curl --data-urlencode), encodeURI (reserved
 * kept) and form encoding (space as '+') make of the value, each with
 * upper- and lower-case hex digits. Identical forms are registered once.
 */
static void add_url_forms(struct masker *m, const char *v, size_t n, struct buf *f)
{
	static const char *const keeps[] = {
		"-._~",                        /* RFC 3986 unreserved */
		"-._~!'()*",                   /* encodeURIComponent */
		"-._~!'()*;,/?:@&=+$#",        /* encodeURI */
	};
	static const char *const hexes[] = { "0123456789ABCDEF", "0123456789abcdef" };
	int has_space = memchr(v, ' ', n) != NULL;
	for (size_t k = 0; k < ARRAY_SIZE(keeps); k++)
		for (size_t h = 0; h < ARRAY_SIZE(hexes); h++)
			for (int plus = 0; plus <= (has_space && k < 2); plus++) {
				url_form(v, n, keeps[k], hexes[h], plus, f);
				add_derived(m, f);
			}
}

void mask_add_literal(struct masker *m, const char *value, size_t len)
{
	if (add_pattern(m, value, len))
		rebuild(m);
}

void mask_add(struct masker *m, const char *value, size_t len)
{
	if (!len)
		return;
	add_pattern(m, value, len);
	const char *p = value, *end = value + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t t = l;
		if (t && p[t - 1] == '\r')
			t--;
		if (t && t < len)
			add_pattern(m, p, t);
		p += l + 1;
	}
	struct buf f = BUF_INIT;
	int has_slash = memchr(value, '/', len) != NULL, has_high = 0;
	for (size_t i = 0; i < len; i++)
		has_high |= (unsigned char)value[i] >= 0x80;
	if (!json_form(value, len, 0, 0, &f))
		add_derived(m, &f);
	if (has_slash && !json_form(value, len, 1, 0, &f))
		add_derived(m, &f);
	if (has_high && !json_form(value, len, 0, 1, &f))
		add_derived(m, &f);
	if (has_high && has_slash && !json_form(value, len, 1, 1, &f))
		add_derived(m, &f);
	for (size_t k = 0; k < 3; k++) {
		base64_form(value, len, k, &f);
		add_derived(m, &f);
	}
	add_url_forms(m, value, len, &f);
	hex_form(value, len, "0123456789abcdef", &f);
	add_derived(m, &f);
	hex_form(value, len, "0123456789ABCDEF", &f);
	add_derived(m, &f);
	buf_release(&f);
	rebuild(m);
}

/* ---- streams ---- */

static void stream_init(struct mask_stream *s, const struct masker *m)
{
	memset(s, 0, sizeof(*s));
	s->m = m;
	s->gen = m->gen;
	buf_init(&s->hold, 0);
}

static void stream_release(struct mask_stream *s)
{
	buf_release(&s->hold);
	free(s->iv);
}

struct mask_stream *mask_stream_new(const struct masker *m)
{
	struct mask_stream *s = xmalloc(sizeof(*s));
	stream_init(s, m);
	return s;
}

void mask_stream_free(struct mask_stream *s)
{
	if (!s)
		return;
	stream_release(s);
	free(s);
}

size_t mask_stream_held(const struct mask_stream *s)
{
	return (size_t)(s->pos - s->emitted);
}

/* write input bytes [emitted, to) unmasked */
static void emit_raw(struct mask_stream *s, uint64_t to)
{
	uint64_t from = s->emitted;
	if (to <= from)
		return;
	if (from < s->base) {
		uint64_t hend = to < s->base ? to : s->base;
		buf_add(s->out, s->hold.buf + (from - s->hold_base), (size_t)(hend - from));
		from = hend;
	}
	if (from < to)
		buf_add(s->out, s->chunk + (from - s->base), (size_t)(to - from));
	s->emitted = to;
}

/*
 * Every future match starts at or after f. Write what is final: text up to
 * f, and each pending range that can no longer grow backward ("***" once);
 * a range is closed when it ends before f (touching f could still merge).
 */
static void settle(struct mask_stream *s, uint64_t f)
{
	size_t k = 0;
	while (k < s->niv && s->iv[k].s <= f) {
		if (!s->head_printed) {
			emit_raw(s, s->iv[k].s);
			buf_add(s->out, MASK_REPLACEMENT, sizeof(MASK_REPLACEMENT) - 1);
			s->head_printed = 1;
		}
		if (s->emitted < s->iv[k].e)
			s->emitted = s->iv[k].e;
		if (s->iv[k].e >= f)
			break;
		k++;
		s->head_printed = 0;
	}
	if (k) {
		memmove(s->iv, s->iv + k, (s->niv - k) * sizeof(*s->iv));
		s->niv -= k;
	}
	if (!s->niv || !s->head_printed)
		emit_raw(s, f);
}

/* a match [st, e): merge with every pending range it overlaps or touches */
static void add_match(struct mask_stream *s, uint64_t st, uint64_t e)
{
	uint64_t ns = st;
	while (s->niv && s->iv[s->niv - 1].e >= st) {
		if (s->iv[s->niv - 1].s < ns)
			ns = s->iv[s->niv - 1].s;
		s->niv--;
	}
	ALLOC_GROW(s->iv, s->niv + 1, s->aiv);
	s->iv[s->niv].s = ns;
	s->iv[s->niv].e = e;
	s->niv++;
}

static void scan(struct mask_stream *s, const unsigned char *p, size_t n)
{
	const struct masker *m = s->m;
	uint32_t st = s->state;
	size_t i = 0;
	const size_t win = m->win;
	const int filter = m->filter;
	while (i < n) {
		if (st == ROOT && filter) {
			while (i + win <= n) {
				unsigned sh = m->shift[hash3(p + i + win - 3)];
				if (sh) {
					i += sh;
					continue;
				}
				unsigned f2 = (unsigned)p[i] << 8 | p[i + 1];
				if (m->first2[f2 >> 3] & (1u << (f2 & 7)))
					break;
				i++;
			}
			if (i >= n)
				break;
		}
		st = step(m, st, p[i++]);
		uint32_t o = m->nodes[st].out;
		if (o) {
			add_match(s, s->base + i - o, s->base + i);
			settle(s, s->base + i - m->nodes[st].depth);
		}
	}
	s->state = st;
	s->pos = s->base + n;
}

static void write_chunk(struct mask_stream *s, const unsigned char *p, size_t n)
{
	s->chunk = p;
	s->base = s->pos;
	s->hold_base = s->emitted;
	scan(s, p, n);
	settle(s, s->pos - s->m->nodes[s->state].depth);
	/* keep [emitted, pos) for the next write */
	if (s->emitted >= s->base) {
		buf_reset(&s->hold);
		buf_add(&s->hold, p + (s->emitted - s->base), (size_t)(s->pos - s->emitted));
	} else {
		size_t drop = (size_t)(s->emitted - s->hold_base);
		memmove(s->hold.buf, s->hold.buf + drop, s->hold.len - drop);
		buf_setlen(&s->hold, s->hold.len - drop);
		buf_add(&s->hold, p, n);
	}
	s->hold_base = s->emitted;
	s->chunk = NULL;
}

/* the masker changed under the stream: rescan the held bytes from the root
 * so new patterns apply to them; ranges not yet written are found again */
static void resync(struct mask_stream *s)
{
	struct buf old = s->hold;
	buf_init(&s->hold, 0);
	s->niv = s->head_printed ? 1 : 0;
	s->state = ROOT;
	s->pos = s->emitted;
	s->gen = s->m->gen;
	write_chunk(s, (const unsigned char *)old.buf, old.len);
	buf_release(&old);
}

void mask_stream_write(struct mask_stream *s, const char *in, size_t len, struct buf *out)
{
	s->out = out;
	ensure_built(s->m);
	if (s->gen != s->m->gen)
		resync(s);
	if (len)
		write_chunk(s, (const unsigned char *)in, len);
	s->out = NULL;
}

void mask_stream_flush(struct mask_stream *s, struct buf *out)
{
	s->out = out;
	ensure_built(s->m);
	if (s->gen != s->m->gen)
		resync(s);
	s->chunk = NULL;
	s->base = s->pos;
	s->hold_base = s->emitted;
	for (size_t k = 0; k < s->niv; k++) {
		if (!(k == 0 && s->head_printed)) {
			emit_raw(s, s->iv[k].s);
			buf_add(out, MASK_REPLACEMENT, sizeof(MASK_REPLACEMENT) - 1);
		}
		if (s->emitted < s->iv[k].e)
			s->emitted = s->iv[k].e;
	}
	emit_raw(s, s->pos);
	s->niv = 0;
	s->head_printed = 0;
	s->state = ROOT;
	buf_reset(&s->hold);
	s->hold_base = s->emitted;
	s->out = NULL;
}

void mask_apply(const struct masker *m, const char *in, size_t len, struct buf *out)
{
	if (!m->npats) {
		buf_add(out, in, len);
		return;
	}
	struct mask_stream s;
	stream_init(&s, m);
	mask_stream_write(&s, in, len, out);
	mask_stream_flush(&s, out);
	stream_release(&s);
}
