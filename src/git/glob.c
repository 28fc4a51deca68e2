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

/* picomatch (dorny/paths-filter) class: [abc] [a-z] [!x] [^x]; unclosed = literal '[' */
static long parse_pm_class(const char *p, size_t i, struct glob_tok *t)
{
	size_t j = i + 1;
	int neg = p[j] == '!' || p[j] == '^';
	if (neg)
		j++;
	size_t first = j;
	while (p[j] && (p[j] != ']' || j == first)) {
		unsigned char lo = (unsigned char)p[j], hi = lo;
		if (p[j + 1] == '-' && p[j + 2] && p[j + 2] != ']') {
			hi = (unsigned char)p[j + 2];
			j += 2;
		}
		for (unsigned x = lo; x <= hi; x++)
			set_add(t->set, x);
		j++;
	}
	if (p[j] != ']') {
		memset(t->set, 0, sizeof(t->set));
		return -1;
	}
	t->kind = TOK_CLASS;
	if (neg)
		for (size_t k = 0; k < sizeof(t->set); k++)
			t->set[k] = (unsigned char)~t->set[k];
	t->set['/' >> 3] &= (unsigned char)~(1u << ('/' & 7));
	return (long)j + 1;
}

static int compile_picomatch(struct glob *g, const char *p)
{
	size_t alloc = 0, i = 0;
	while (p[i]) {
		char c = p[i];
		struct glob_tok *t = push_tok(g, &alloc);
		int seg_start = i == 0 || p[i - 1] == '/';
		long next;
		if (c == '*' && p[i + 1] == '*' && seg_start && (p[i + 2] == '/' || !p[i + 2])) {
			t->kind = p[i + 2] == '/' ? TOK_DSTAR_SLASH : TOK_DSTAR;
			i += p[i + 2] == '/' ? 3 : 2;
		} else if (c == '*') {
			t->kind = TOK_STAR;
			while (p[i] == '*')
				i++;
		} else if (c == '?') {
			t->kind = TOK_CLASS;
			memset(t->set, 0xff, sizeof(t->set));
			t->set['/' >> 3] &= (unsigned char)~(1u << ('/' & 7));
			i++;
		} else if (c == '[' && (next = parse_pm_class(p, i, t)) > 0) {
			i = (size_t)next;
		} else {
			if (c == '\\' && p[i + 1])
				i++;
			t->kind = TOK_CHAR;
			t->ch = (unsigned char)p[i++];
		}
	}
	return 0;
}

int glob_compile_syntax(struct glob *g, const char *pattern, enum glob_syntax syntax,
			struct buf *err)
{
	if (syntax == GLOB_GITHUB)
		return glob_compile(g, pattern, err);
	struct glob z = GLOB_INIT;
	*g = z;
	g->src = xstrdup(pattern);
	g->negate = pattern[0] == '!' && pattern[1];
	return compile_picomatch(g, pattern + (g->negate ? 1 : 0));
}

/* ---- brace expansion (picomatch): {a,b}, nested, {1..3}, {a..c} ---- */

/* index of the '}' closing the '{' at p[i], with a top-level ',' or ".."
 * inside; -1 when this brace is literal */
static long brace_end(const char *p, size_t i, long *comma)
{
	int depth = 0;
	*comma = -1;
	for (size_t j = i; p[j]; j++) {
		if (p[j] == '\\' && p[j + 1]) {
			j++;
		} else if (p[j] == '{') {
			depth++;
		} else if (p[j] == '}') {
			if (--depth == 0)
				return (long)j;
		} else if (p[j] == ',' && depth == 1 && *comma < 0) {
			*comma = (long)j;
		}
	}
	return -1;
}

static void expand_into(const char *pat, struct strvec *out, size_t cap);

/* {lo..hi}: numbers or single letters; returns 1 when it was a range */
static int expand_range(const char *pre, size_t npre, const char *body, size_t nbody,
			const char *post, struct strvec *out, size_t cap)
{
	char tmp[64];
	if (nbody >= sizeof(tmp))
		return 0;
	memcpy(tmp, body, nbody);
	tmp[nbody] = '\0';
	char *dots = strstr(tmp, "..");
	if (!dots)
		return 0;
	*dots = '\0';
	const char *a = tmp, *b = dots + 2;
	char *ea, *eb;
	long lo = strtol(a, &ea, 10), hi = strtol(b, &eb, 10);
	int letters = 0;
	if (!*a || !*b || *ea || *eb) {
		if (strlen(a) != 1 || strlen(b) != 1)
			return 0;
		lo = (unsigned char)*a;
		hi = (unsigned char)*b;
		letters = 1;
	}
	long step = lo <= hi ? 1 : -1;
	for (long v = lo;; v += step) {
		if (out->nr >= cap)
			break;
		char *s = letters ? xstrfmt("%.*s%c%s", (int)npre, pre, (int)v, post) :
				    xstrfmt("%.*s%ld%s", (int)npre, pre, v, post);
		expand_into(s, out, cap);
		free(s);
		if (v == hi)
			break;
	}
	return 1;
}

static void expand_into(const char *pat, struct strvec *out, size_t cap)
{
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] == '\\' && pat[i + 1]) {
			i++;
			continue;
		}
		if (pat[i] != '{')
			continue;
		long comma;
		long end = brace_end(pat, i, &comma);
		if (end < 0)
			continue;
		const char *post = pat + end + 1;
		if (comma < 0) {
			if (expand_range(pat, i, pat + i + 1, (size_t)end - i - 1, post, out, cap))
				return;
			continue; /* "{a}" is literal */
		}
		/* split the top level on ',' */
		size_t start = i + 1;
		int depth = 0;
		for (size_t j = i + 1; (long)j <= end; j++) {
			if (pat[j] == '\\' && pat[j + 1]) {
				j++;
				continue;
			}
			if (pat[j] == '{')
				depth++;
			else if (pat[j] == '}' && depth > 0 && (long)j != end)
				depth--;
			if ((pat[j] == ',' && depth == 0) || (long)j == end) {
				char *s = xstrfmt("%.*s%.*s%s", (int)i, pat, (int)(j - start),
						  pat + start, post);
				if (out->nr < cap)
					expand_into(s, out, cap);
				free(s);
				start = j + 1;
			}
		}
		return;
	}
	if (out->nr < cap)
		strvec_push(out, pat);
}

void glob_expand_braces(const char *pattern, struct strvec *out, size_t cap)
{
	expand_into(pattern, out, cap);
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
