/*
 * utf8: UTF-8 decoding and GitHub's case-insensitive string rules. Strings
 * compare by their upper-cased form in UTF-16 code-unit order (what both
 * .NET's OrdinalIgnoreCase and the JS reference do); object keys match by
 * their lower-cased form (the JS reference's Dictionary).
 */
#include "base/kiln.h"
#include "expr/expr-int.h"

uint32_t expr__utf8_next(const char *s, size_t len, size_t *i)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k = *i;
	uint32_t c = p[k];
	if (c < 0x80) {
		*i = k + 1;
		return c;
	}
	int n;
	uint32_t min;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3, c &= 0x07, min = 0x10000;
	} else {
		*i = k + 1;
		return 0xfffd;
	}
	for (int j = 1; j <= n; j++) {
		if (k + j >= len || (p[k + j] & 0xc0) != 0x80) {
			*i = k + 1;
			return 0xfffd;
		}
		c = (c << 6) | (p[k + j] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
		*i = k + 1;
		return 0xfffd;
	}
	*i = k + n + 1;
	return c;
}

void expr__utf8_put(struct buf *b, uint32_t cp)
{
	char t[4];
	size_t n;
	if (cp < 0x80) {
		t[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		t[0] = (char)(0xc0 | (cp >> 6)), t[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		t[0] = (char)(0xe0 | (cp >> 12)), t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		t[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		t[0] = (char)(0xf0 | (cp >> 18)), t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		t[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), t[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	buf_add(b, t, n);
}

static uint32_t lookup(const struct expr__casemap *t, size_t nr, uint32_t cp)
{
	size_t lo = 0, hi = nr;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t[mid].from == cp)
			return t[mid].to;
		if (t[mid].from < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return cp;
}

uint32_t expr__upper_cp(uint32_t cp)
{
	if (cp < 0x80)
		return cp >= 'a' && cp <= 'z' ? cp - 32 : cp;
	return lookup(expr__upper, expr__upper_nr, cp);
}

uint32_t expr__lower_cp(uint32_t cp)
{
	if (cp < 0x80)
		return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
	return lookup(expr__lower, expr__lower_nr, cp);
}

size_t expr__utf16_len(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp = expr__utf8_next(s, len, &i);
		n += cp >= 0x10000 ? 2 : 1;
	}
	return n;
}

/* a code point's position in UTF-16 code-unit order (surrogates sort below U+E000) */
static uint32_t utf16_key(uint32_t cp)
{
	if (cp < 0xd800)
		return cp;
	if (cp >= 0x10000)
		return 0xd800 + ((cp - 0x10000) >> 10); /* high surrogate, then low */
	return cp;
}

static int cmp_cp(uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	uint32_t ka = utf16_key(a), kb = utf16_key(b);
	if (ka != kb)
		return ka < kb ? -1 : 1;
	return a < b ? -1 : 1; /* same high surrogate: low surrogate order = code point order */
}

static inline int up_ascii(int c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

int expr__str_cmp_ci(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;
	while (i < alen && j < blen) {
		unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[j];
		if (ca < 0x80 && cb < 0x80) {
			int ua = up_ascii(ca), ub = up_ascii(cb);
			if (ua != ub)
				return ua < ub ? -1 : 1;
			i++, j++;
			continue;
		}
		uint32_t x = expr__upper_cp(expr__utf8_next(a, alen, &i));
		uint32_t y = expr__upper_cp(expr__utf8_next(b, blen, &j));
		int c = cmp_cp(x, y);
		if (c)
			return c;
	}
	if (i < alen)
		return 1;
	if (j < blen)
		return -1;
	return 0;
}

int expr__str_eq_ci(const char *a, size_t alen, const char *b, size_t blen)
{
	return expr__str_cmp_ci(a, alen, b, blen) == 0;
}

int expr__key_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;
	while (i < alen && j < blen) {
		unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[j];
		if (ca < 0x80 && cb < 0x80) {
			if (ca != cb && up_ascii(ca) != up_ascii(cb))
				return 0;
			i++, j++;
			continue;
		}
		if (expr__lower_cp(expr__utf8_next(a, alen, &i)) !=
		    expr__lower_cp(expr__utf8_next(b, blen, &j)))
			return 0;
	}
	return i == alen && j == blen;
}

uint32_t expr__key_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a over lower-cased code points */
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		if (c < 0x80) {
			cp = c | ((unsigned)(c - 'A') < 26u) << 5; /* ASCII lower case, branch-free */
			i++;
		} else {
			cp = expr__lower_cp(expr__utf8_next(s, len, &i));
		}
		h = (h ^ cp) * 16777619u;
	}
	return h;
}

void expr__fold(struct buf *out, const char *s, size_t len, int upper)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			int f = upper ? up_ascii(c) : (c >= 'A' && c <= 'Z' ? c + 32 : c);
			buf_addch(out, f);
			i++;
			continue;
		}
		uint32_t cp = expr__utf8_next(s, len, &i);
		expr__utf8_put(out, upper ? expr__upper_cp(cp) : expr__lower_cp(cp));
	}
}

int expr__is_js_space(const char *s, size_t len, size_t i, size_t *n)
{
	unsigned char c = (unsigned char)s[i];
	*n = 1;
	if (c < 0x80)
		return c == ' ' || (c >= '\t' && c <= '\r');
	size_t j = i;
	uint32_t cp = expr__utf8_next(s, len, &j);
	*n = j - i;
	return cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}
