/*
 * glob: compiling GitHub filter patterns to a token list and matching them
 * with a memoised backtracking matcher (time O(tokens x length), no regex
 * engine, no exponential blow-up on patterns like "*a*a*a*b").
 */
#include "base/kiln.h"
#include "git/glob.h"

enum tok_kind {
	TOK_CHAR,        /* one literal byte */
	TOK_CLASS,       /* one byte from a set */
	TOK_STAR,        /* any run of non-'/' bytes */
	TOK_DSTAR,       /* any run of bytes */
	TOK_DSTAR_SLASH, /* "**" + "/": nothing, or any run ending in '/' */
};

enum tok_quant { Q_ONE, Q_OPT, Q_PLUS };

struct glob_tok {
	enum tok_kind kind;
	enum tok_quant quant;   /* for TOK_CHAR / TOK_CLASS */
	unsigned char ch;       /* TOK_CHAR */
	unsigned char set[32];  /* TOK_CLASS: bitmap of accepted bytes */
};

static int pat_error(struct buf *err, const char *pattern, size_t pos, const char *what)
{
	if (err)
		buf_addf(err, "invalid pattern '%s': %s at offset %zu", pattern, what, pos);
	return KILN_EINVAL;
}

static void set_add(unsigned char *set, unsigned c)
{
	set[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static int set_has(const unsigned char *set, unsigned c)
{
	return (set[c >> 3] >> (c & 7)) & 1;
}

static int range_ok(unsigned char a, unsigned char b)
{
	if (a > b)
		return 0;
	return (a >= 'a' && b <= 'z') || (a >= 'A' && b <= 'Z') || (a >= '0' && b <= '9');
}

/* parse "[...]" starting at p[i] == '['; returns the index after ']' or <0 */
static long parse_class(const char *p, size_t i, struct glob_tok *t, const char *whole,
			struct buf *err)
{
	size_t start = ++i;
	if (p[i] == ']')
		return pat_error(err, whole, i, "empty brackets '[]'");
	t->kind = TOK_CLASS;
	while (p[i] && p[i] != ']') {
		unsigned char c = (unsigned char)p[i];
		if (p[i + 1] == '-' && p[i + 2] && p[i + 2] != ']') {
			unsigned char hi = (unsigned char)p[i + 2];
			if (!range_ok(c, hi))
				return pat_error(err, whole, i,
						 "ranges can only include a-z, A-Z and 0-9");
			for (unsigned x = c; x <= hi; x++)
				set_add(t->set, x);
			i += 3;
			continue;
		}
		if (c == '-' && i == start && p[i + 1] != ']') {
			/* a leading '-' is a range with no start */
			return pat_error(err, whole, i, "invalid range");
		}
		set_add(t->set, c);
		i++;
	}
	if (p[i] != ']')
		return pat_error(err, whole, start - 1, "missing ']' after '['");
	return (long)i + 1;
}

static struct glob_tok *push_tok(struct glob *g, size_t *alloc)
{
	ALLOC_GROW(g->toks, g->ntoks + 1, *alloc);
	struct glob_tok *t = &g->toks[g->ntoks++];
	memset(t, 0, sizeof(*t));
	return t;
}

/* '?' or '+' after the previous token; literal when nothing to repeat */
static int apply_quant(struct glob *g, char q, size_t *alloc)
{
	struct glob_tok *prev = g->ntoks ? &g->toks[g->ntoks - 1] : NULL;
	if (prev && (prev->kind == TOK_STAR || prev->kind == TOK_DSTAR ||
		     prev->kind == TOK_DSTAR_SLASH))
		return 0; /* "zero or one/more of any run" is the run itself */
	if (!prev || prev->quant != Q_ONE) {
		struct glob_tok *t = push_tok(g, alloc);
		t->kind = TOK_CHAR;
		t->ch = (unsigned char)q;
		return 0;
	}
	prev->quant = q == '?' ? Q_OPT : Q_PLUS;
	return 0;
}

static int compile_body(struct glob *g, const char *p, const char *whole, struct buf *err)
{
	size_t alloc = 0, i = 0;
	while (p[i]) {
		char c = p[i];
		if (c == '*') {
			struct glob_tok *t = push_tok(g, &alloc);
			if (p[i + 1] == '*') {
				t->kind = p[i + 2] == '/' ? TOK_DSTAR_SLASH : TOK_DSTAR;
				i += t->kind == TOK_DSTAR_SLASH ? 3 : 2;
			} else {
				t->kind = TOK_STAR;
				i++;
			}
		} else if (c == '?' || c == '+') {
			apply_quant(g, c, &alloc);
			i++;
		} else if (c == '[') {
			struct glob_tok *t = push_tok(g, &alloc);
			long next = parse_class(p, i, t, whole, err);
			if (next < 0)
				return KILN_EINVAL;
			i = (size_t)next;
		} else if (c == '\\') {
			if (!p[i + 1])
				return pat_error(err, whole, i, "missing character after '\\'");
			struct glob_tok *t = push_tok(g, &alloc);
			t->kind = TOK_CHAR;
			t->ch = (unsigned char)p[i + 1];
			i += 2;
		} else {
			struct glob_tok *t = push_tok(g, &alloc);
			t->kind = TOK_CHAR;
			t->ch = (unsigned char)c;
			i++;
		}
	}
	return 0;
}

int glob_compile(struct glob *g, const char *pattern, struct buf *err)
{
	struct glob z = GLOB_INIT;
	*g = z;
	g->src = xstrdup(pattern);
	g->negate = pattern[0] == '!';
	const char *body = pattern + (g->negate ? 1 : 0);
	if (compile_body(g, body, pattern, err) < 0) {
		glob_release(g);
		return KILN_EINVAL;
	}
	return 0;
}

void glob_release(struct glob *g)
{
	free(g->src);
	free(g->toks);
	struct glob z = GLOB_INIT;
	*g = z;
}

/* matcher state: the subject and a memo of (token, offset) pairs known to fail */
struct matcher {
	const struct glob_tok *toks;
	size_t ntoks;
	const char *s;
	size_t len;
	unsigned char *failed; /* bitmap (ntoks+1) x (len+1) */
};

static int atom_ok(const struct glob_tok *t, unsigned char c)
{
	return t->kind == TOK_CHAR ? t->ch == c : set_has(t->set, c);
}

static int match_at(struct matcher *m, size_t ti, size_t si);

static int try_at(struct matcher *m, size_t ti, size_t si)
{
	size_t bit = ti * (m->len + 1) + si;
	if ((m->failed[bit >> 3] >> (bit & 7)) & 1)
		return 0;
	if (match_at(m, ti, si))
		return 1;
	m->failed[bit >> 3] |= (unsigned char)(1u << (bit & 7));
	return 0;
}

static int match_at(struct matcher *m, size_t ti, size_t si)
{
	if (ti == m->ntoks)
		return si == m->len;
	const struct glob_tok *t = &m->toks[ti];
	const unsigned char *s = (const unsigned char *)m->s;
	switch (t->kind) {
	case TOK_STAR:
		for (size_t k = si;; k++) {
			if (try_at(m, ti + 1, k))
				return 1;
			if (k == m->len || s[k] == '/')
				return 0;
		}
	case TOK_DSTAR:
		for (size_t k = si; k <= m->len; k++)
			if (try_at(m, ti + 1, k))
				return 1;
		return 0;
	case TOK_DSTAR_SLASH:
		if (try_at(m, ti + 1, si))
			return 1;
		/* one or more bytes, then '/' */
		for (size_t k = si + 1; k < m->len; k++)
			if (s[k] == '/' && try_at(m, ti + 1, k + 1))
				return 1;
		return 0;
	case TOK_CHAR:
	case TOK_CLASS:
		break;
	}
	if (t->quant == Q_OPT && try_at(m, ti + 1, si))
		return 1;
	size_t k = si;
	while (k < m->len && atom_ok(t, s[k])) {
		k++;
		if (try_at(m, ti + 1, k))
			return 1;
		if (t->quant != Q_PLUS)
			break;
	}
	return 0;
}

int glob_match(const struct glob *g, const char *s)
{
	struct matcher m = { g->toks, g->ntoks, s, strlen(s), NULL };
	size_t bits = (m.ntoks + 1) * (m.len + 1);
	m.failed = xcalloc(bits / 8 + 1, 1);
	int r = match_at(&m, 0, 0);
	free(m.failed);
	return r;
}

int glob_list_add(struct glob_list *l, const char *pattern, struct buf *err)
{
	struct glob g;
	if (glob_compile(&g, pattern, err) < 0)
		return KILN_EINVAL;
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr++] = g;
	return 0;
}

void glob_list_release(struct glob_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		glob_release(&l->v[i]);
	free(l->v);
	struct glob_list z = GLOB_LIST_INIT;
	*l = z;
}

int glob_list_match(const struct glob_list *l, const char *s, long *decider)
{
	long which = -1;
	for (size_t i = l->nr; i-- > 0;) {
		if (glob_match(&l->v[i], s)) {
			which = (long)i;
			break;
		}
	}
	if (decider)
		*decider = which;
	return which >= 0 && !l->v[which].negate;
}
