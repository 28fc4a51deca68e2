/*
 * lex: the expression lexer, a faithful port of GitHub's (the reference
 * @actions/expressions Lexer). Tokens are read as the parser asks for
 * them; GitHub tokenizes the whole input first, so after a parse error the
 * parser reads the rest and a lexing error anywhere wins. Numbers are read up
 * to a boundary character and converted with JavaScript's Number().
 */
#include "base/kiln.h"
#include "expr/lex.h"

#include <math.h>

/* [A-Za-z0-9_-] lower-cased, 0 for every other byte: what may follow an
 * identifier's first character (never a boundary), and how it hashes */
static const unsigned char id_low[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 45, 0, 0,
	48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 0, 0, 0, 0, 0, 0,
	0, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
	112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 0, 0, 0, 0, 95,
	0, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
	112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

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

static struct tok *add(struct lexer *lx, enum tok_type t)
{
	struct tok *k = lx->out;
	k->type = t;
	k->start = lx->start;
	k->end = lx->off;
	k->num = 0;
	k->slen = 0;
	k->hash = 0;
	lx->got = 1;
	lx->last = t;
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
	size_t pairs = 0; /* '' inside */
	for (;;) {
		const char *q = memchr(s + lx->off, '\'', lx->len - lx->off);
		if (!q)
			return fail_symbol(lx, lx->len);
		lx->off = (size_t)(q - s) + 1;
		if (lx->off < lx->len && s[lx->off] == '\'') {
			lx->off++;
			pairs++;
			continue;
		}
		break; /* past the closing quote */
	}
	/* '' is one quote; the live service unescapes every pair */
	add(lx, T_STRING)->slen = lx->off - lx->start - 2 - pairs;
	return 0;
}

void expr__unquote(const char *src, const struct tok *t, char *out)
{
	const char *b = src + t->start + 1, *e = src + t->end - 1;
	if (t->slen == (size_t)(e - b)) {
		memcpy(out, b, t->slen);
		return;
	}
	for (; b < e; b++) {
		*out++ = *b;
		if (*b == '\'')
			b++;
	}
}

/* true, false, null, NaN, Infinity (a literal unless right after a dot) */
static enum tok_type keyword(const char *w, size_t n, double *num)
{
	switch (n) {
	case 3:
		if (!memcmp(w, "NaN", 3))
			return *num = NAN, T_NUMBER;
		break;
	case 4:
		if (!memcmp(w, "true", 4))
			return T_TRUE;
		if (!memcmp(w, "null", 4))
			return T_NULL;
		break;
	case 5:
		if (!memcmp(w, "false", 5))
			return T_FALSE;
		break;
	case 8:
		if (!memcmp(w, "Infinity", 8))
			return *num = INFINITY, T_NUMBER;
		break;
	}
	return T_IDENT;
}

static int identifier(struct lexer *lx)
{
	const unsigned char *u = (const unsigned char *)lx->s;
	/* expr__key_hash of the name as it is scanned (ASCII: lower-cased
	 * bytes, FNV-1a); only a plain identifier keeps it */
	uint32_t h = (2166136261u ^ (u[lx->start] | ((unsigned)(u[lx->start] - 'A') < 26u) << 5)) *
		     16777619u;
	size_t off = lx->off, len = lx->len;
	unsigned char l;
	while ((l = id_low[u[off]])) { /* the source ends in a NUL: id_low[0] is 0 */
		h = (h ^ l) * 16777619u;
		off++;
	}
	lx->off = off;
	/* stopped at the end or at an ASCII boundary: every character after
	 * the first is [A-Za-z0-9_-], so only the first decides legality */
	int plain = off == len || (u[off] < 0x80 && is_boundary(lx->s, len, off));
	if (!plain)
		while (lx->off < len && !is_boundary(lx->s, len, lx->off))
			next_char(lx);
	const char *w = lx->s + lx->start;
	size_t n = lx->off - lx->start;
	double num = 0;
	enum tok_type t = lx->last != T_DOT ? keyword(w, n, &num) : T_IDENT;
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
		enum tok_type p = lx->last;
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

int expr__lex_init(struct lexer *lx, const char *s, size_t len, struct buf *err,
		   size_t *err_off)
{
	*lx = (struct lexer){ s, len, 0, 0, T_EOF, NULL, 0, err, err_off };
	/* UTF-16 units never outnumber UTF-8 bytes: count only long inputs */
	if (len > EXPR_MAX_LENGTH && expr__utf16_len(s, len) > EXPR_MAX_LENGTH) {
		buf_addf(err, "Exceeded max expression length %d", EXPR_MAX_LENGTH);
		if (err_off)
			*err_off = 0;
		return -1;
	}
	return 0;
}

/* the general loop: whitespace, operators, numbers, strings, errors */
static __attribute__((noinline)) int lex_rest(struct lexer *lx)
{
	while (!lx->got) {
		while (lx->off < lx->len && (unsigned char)lx->s[lx->off] <= ' ' &&
		       (lx->s[lx->off] == ' ' || lx->s[lx->off] == '\t' || lx->s[lx->off] == '\n' ||
			lx->s[lx->off] == '\r'))
			lx->off++; /* what lex_one skips, without a call per character */
		lx->start = lx->off;
		if (lx->off >= lx->len)
			add(lx, T_EOF);
		else if (lex_one(lx) < 0)
			return -1;
	}
	return 0;
}

/* an identifier (or keyword) starting at lx->off, after no whitespace */
static __attribute__((noinline)) int lex_identifier(struct lexer *lx)
{
	lx->start = lx->off++;
	return identifier(lx);
}

/*
 * The usual tokens right after the previous one (a name, `.`, `(`, `)`,
 * `,`) are read here without saving registers or calling anything but
 * identifier(); everything else goes through lex_rest.
 */
int expr__lex_next(struct lexer *lx, struct tok *t)
{
	lx->out = t;
	lx->got = 0;
	size_t off = lx->off;
	if (off < lx->len) {
		unsigned char c = (unsigned char)lx->s[off];
		if (id_low[c] > '9') /* a letter or _ (a digit or - is a number) */
			return lex_identifier(lx);
		enum tok_type k;
		switch (c) {
		case '(': k = T_LPAREN; break;
		case ')': k = T_RPAREN; break;
		case ',': k = T_COMMA; break;
		case '.': {
			enum tok_type p = lx->last;
			if (p != T_IDENT && p != T_RBRACKET && p != T_RPAREN && p != T_STAR)
				return lex_rest(lx); /* a number */
			k = T_DOT;
			break;
		}
		default:
			return lex_rest(lx);
		}
		lx->start = off;
		lx->off = off + 1;
		add(lx, k);
		return 0;
	}
	return lex_rest(lx);
}
