/*
 * lex: the expression lexer, a faithful port of GitHub's (the reference
 * @actions/expressions Lexer): the whole input is tokenized before parsing,
 * so a lexing error anywhere wins over a parse error. Numbers are read up
 * to a boundary character and converted with JavaScript's Number().
 */
#include "base/kiln.h"
#include "expr/lex.h"

#include <math.h>

/* [A-Za-z0-9_-]: never a boundary (the fast path of the scanning loop) */
static inline int id_char(unsigned char c)
{
	return (unsigned)((c | 32) - 'a') < 26u || (unsigned)(c - '0') < 10u || c == '_' || c == '-';
}

static inline int is_boundary(const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i];
	switch (c) {
	case '(': case '[': case ')': case ']': case ',': case '.': case '!':
	case '>': case '<': case '=': case '&': case '|': case ' ':
	case '\t': case '\n': case '\v': case '\f': case '\r':
		return 1;
	}
	if (c < 0x80)
		return 0;
	size_t n;
	return expr__is_js_space(s, len, i, &n);
}

static int legal_identifier(const char *s, size_t len)
{
	if (!len)
		return 0;
	char c = s[0];
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
		return 0;
	for (size_t i = 1; i < len; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* JS position: 1 + UTF-16 units before byte offset `off` */
size_t expr__js_pos(const char *src, size_t off)
{
	return expr__utf16_len(src, off) + 1;
}

struct lexer {
	const char *s;
	size_t len, off, start;
	struct tok *toks;
	size_t nr, alloc;
	struct tok *stack; /* the caller's buffer: never freed here */
	struct buf *err;
	size_t *err_off;
};

static enum tok_type prev_type(const struct lexer *lx)
{
	return lx->nr ? lx->toks[lx->nr - 1].type : T_EOF;
}

static struct tok *add(struct lexer *lx, enum tok_type t)
{
	if (lx->nr == lx->alloc) {
		size_t na = lx->alloc * 2;
		struct tok *nt = xmalloc(na * sizeof(*nt));
		memcpy(nt, lx->toks, lx->nr * sizeof(*nt));
		if (lx->toks != lx->stack)
			free(lx->toks);
		lx->toks = nt;
		lx->alloc = na;
	}
	struct tok *k = &lx->toks[lx->nr++];
	k->type = t;
	k->start = lx->start;
	k->end = lx->off;
	k->num = 0;
	k->str = NULL;
	k->hash = 0;
	return k;
}

static int fail_symbol(struct lexer *lx, size_t end)
{
	buf_addf(lx->err, "Unexpected symbol: '%.*s'. Located at position %zu within expression: %.*s",
		 (int)(end - lx->start), lx->s + lx->start, expr__js_pos(lx->s, lx->start),
		 (int)lx->len, lx->s);
	if (lx->err_off)
		*lx->err_off = lx->start;
	return -1;
}

/* advance over one character (a whole UTF-8 sequence) */
static void next_char(struct lexer *lx)
{
	if ((unsigned char)lx->s[lx->off] < 0x80)
		lx->off++;
	else
		expr__utf8_next(lx->s, lx->len, &lx->off);
}

static int number(struct lexer *lx)
{
	while (lx->off < lx->len && (!is_boundary(lx->s, lx->len, lx->off) || lx->s[lx->off] == '.'))
		next_char(lx);
	double d = expr__str_to_num(lx->s + lx->start, lx->off - lx->start);
	if (isnan(d))
		return fail_symbol(lx, lx->off);
	add(lx, T_NUMBER)->num = d;
	return 0;
}

static int string(struct lexer *lx)
{
	const char *s = lx->s;
	while (lx->off < lx->len) {
		if (s[lx->off] == '\'') {
			if (lx->off + 1 < lx->len && s[lx->off + 1] == '\'') {
				lx->off += 2;
				continue;
			}
			break;
		}
		lx->off++;
	}
	if (lx->off >= lx->len)
		return fail_symbol(lx, lx->len);
	lx->off++; /* closing quote */
	const char *body = s + lx->start + 1;
	size_t blen = lx->off - lx->start - 2;
	if (!memchr(body, '\'', blen)) {
		add(lx, T_STRING)->str = ev_string(body, blen);
		return 0;
	}
	struct buf v = BUF_INIT;
	for (size_t i = lx->start + 1; i < lx->off - 1; i++) {
		buf_addch(&v, s[i]);
		if (s[i] == '\'')
			i++; /* '' is one quote; the live service unescapes every pair */
	}
	add(lx, T_STRING)->str = ev__string_take(&v);
	return 0;
}

static int identifier(struct lexer *lx)
{
	const unsigned char *u = (const unsigned char *)lx->s;
	/* expr__key_hash of the name as it is scanned (ASCII: lower-cased
	 * bytes, FNV-1a); only a plain identifier keeps it */
	uint32_t h = (2166136261u ^ (u[lx->start] | ((unsigned)(u[lx->start] - 'A') < 26u) << 5)) *
		     16777619u;
	while (lx->off < lx->len && id_char(u[lx->off])) {
		unsigned char c = u[lx->off++];
		h = (h ^ (c | ((unsigned)(c - 'A') < 26u) << 5)) * 16777619u;
	}
	/* stopped at the end or at an ASCII boundary: every character after
	 * the first is [A-Za-z0-9_-], so only the first decides legality */
	int plain = lx->off == lx->len || (u[lx->off] < 0x80 && is_boundary(lx->s, lx->len, lx->off));
	while (lx->off < lx->len && !is_boundary(lx->s, lx->len, lx->off))
		next_char(lx);
	const char *w = lx->s + lx->start;
	size_t n = lx->off - lx->start;
	enum tok_type t = T_IDENT;
	double num = 0;
	if (prev_type(lx) != T_DOT) {
		if (n == 4 && !memcmp(w, "true", 4))
			t = T_TRUE;
		else if (n == 5 && !memcmp(w, "false", 5))
			t = T_FALSE;
		else if (n == 4 && !memcmp(w, "null", 4))
			t = T_NULL;
		else if (n == 3 && !memcmp(w, "NaN", 3))
			t = T_NUMBER, num = NAN;
		else if (n == 8 && !memcmp(w, "Infinity", 8))
			t = T_NUMBER, num = INFINITY;
	}
	unsigned char c0 = (unsigned char)w[0];
	int legal = plain ? (unsigned)((c0 | 32) - 'a') < 26u || c0 == '_' : legal_identifier(w, n);
	if (!legal)
		return fail_symbol(lx, lx->off);
	struct tok *k = add(lx, t);
	k->num = num;
	k->hash = plain ? h : expr__key_hash(w, n);
	return 0;
}

static int two(struct lexer *lx, char second, enum tok_type both, enum tok_type one)
{
	if (lx->off < lx->len && lx->s[lx->off] == second) {
		lx->off++;
		add(lx, both);
		return 0;
	}
	if (one == T_EOF)
		return identifier(lx); /* illegal lone = & |: read to a boundary, then fail */
	add(lx, one);
	return 0;
}

static int lex_one(struct lexer *lx)
{
	char c = lx->s[lx->off++];
	switch (c) {
	case '(': add(lx, T_LPAREN); return 0;
	case ')': add(lx, T_RPAREN); return 0;
	case '[': add(lx, T_LBRACKET); return 0;
	case ']': add(lx, T_RBRACKET); return 0;
	case ',': add(lx, T_COMMA); return 0;
	case '*': add(lx, T_STAR); return 0;
	case '.': {
		enum tok_type p = prev_type(lx);
		if (p != T_IDENT && p != T_RBRACKET && p != T_RPAREN && p != T_STAR)
			return number(lx);
		add(lx, T_DOT);
		return 0;
	}
	case '-': case '+': return number(lx);
	case '!': return two(lx, '=', T_NE, T_BANG);
	case '=': return two(lx, '=', T_EQ, T_EOF);
	case '<': return two(lx, '=', T_LE, T_LT);
	case '>': return two(lx, '=', T_GE, T_GT);
	case '&': return two(lx, '&', T_AND, T_EOF);
	case '|': return two(lx, '|', T_OR, T_EOF);
	case ' ': case '\r': case '\t': case '\n': return 0;
	case '\'': return string(lx);
	}
	if (c >= '0' && c <= '9')
		return number(lx);
	if ((unsigned char)c >= 0x80) {
		lx->off = lx->start;
		next_char(lx);
	}
	return identifier(lx);
}

void expr__toks_free(struct tok *t, size_t nr, const struct tok *stack)
{
	for (size_t i = 0; i < nr; i++)
		ev_unref(t[i].str);
	if (t != stack)
		free(t);
}

int expr__lex(const char *s, size_t len, struct tok **out, size_t *nr, struct buf *err,
	      size_t *err_off)
{
	struct lexer lx = { s, len, 0, 0, *out, 0, *nr, *out, err, err_off };
	/* UTF-16 units never outnumber UTF-8 bytes: count only long inputs */
	if (len > EXPR_MAX_LENGTH && expr__utf16_len(s, len) > EXPR_MAX_LENGTH) {
		buf_addf(err, "Exceeded max expression length %d", EXPR_MAX_LENGTH);
		if (err_off)
			*err_off = 0;
		return -1;
	}
	while (lx.off < len) {
		lx.start = lx.off;
		if (lex_one(&lx) < 0) {
			expr__toks_free(lx.toks, lx.nr, lx.stack);
			return -1;
		}
	}
	lx.start = lx.off;
	add(&lx, T_EOF);
	*out = lx.toks;
	*nr = lx.nr;
	return 0;
}
