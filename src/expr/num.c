/*
 * num: numbers exactly as the reference evaluator (JavaScript) converts
 * them: Number(string) for coercion and number literals, Number#toString
 * for output, and GitHub's 15-decimal rounding when a number becomes a
 * string (NumberData.coerceString: (+x.toFixed(15)).toString()).
 */
#include "base/kiln.h"
#include "expr/expr-int.h"

#include <math.h>

static int is_digit_in(int c, int radix)
{
	if (radix == 16)
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	return c >= '0' && c < '0' + radix;
}

/* 0x / 0o / 0b literal (digits after the prefix), correctly rounded via a hex strtod */
static double radix_num(const char *s, size_t len, int radix)
{
	if (len == 0)
		return NAN;
	for (size_t i = 0; i < len; i++)
		if (!is_digit_in((unsigned char)s[i], radix))
			return NAN;
	struct buf hex = BUF_INIT;
	buf_addstr(&hex, "0x");
	if (radix == 16) {
		buf_add(&hex, s, len);
	} else {
		/* regroup the bits into hex digits, most significant first */
		int bits = radix == 8 ? 3 : 1;
		size_t total = len * bits;
		size_t lead = total % 4 ? 4 - total % 4 : 0;
		unsigned acc = 0;
		size_t nb = lead;
		for (size_t i = 0; i < len; i++) {
			unsigned d = (unsigned)(s[i] - '0');
			for (int b = bits - 1; b >= 0; b--) {
				acc = (acc << 1) | ((d >> b) & 1);
				if (++nb == 4) {
					buf_addch(&hex, "0123456789abcdef"[acc]);
					acc = 0, nb = 0;
				}
			}
		}
	}
	double d = strtod(hex.buf, NULL);
	buf_release(&hex);
	return d;
}

/* StrDecimalLiteral: [+-] (Infinity | digits [. digits] [exp] | . digits [exp]) */
static double decimal_num(const char *s, size_t len)
{
	size_t i = 0;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if (len - i == 8 && !memcmp(s + i, "Infinity", 8))
		return s[0] == '-' ? -INFINITY : INFINITY;
	size_t int_digits = 0, frac_digits = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, int_digits++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, frac_digits++;
	}
	if (!int_digits && !frac_digits)
		return NAN;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t exp_digits = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, exp_digits++;
		if (!exp_digits)
			return NAN;
	}
	if (i != len)
		return NAN;
	if (int_digits == len - (s[0] == '+' || s[0] == '-') && int_digits <= 15) {
		/* a plain integer of at most 15 digits is exact in a double:
		 * what strtod gives, without its cost */
		int64_t v = 0;
		for (size_t k = len - int_digits; k < len; k++)
			v = v * 10 + (s[k] - '0');
		return s[0] == '-' ? -(double)v : (double)v;
	}
	char small[64];
	char *tmp = len < sizeof(small) ? small : xmalloc(len + 1);
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	double d = strtod(tmp, NULL);
	if (tmp != small)
		free(tmp);
	return d;
}

double expr__str_to_num(const char *s, size_t len)
{
	size_t b = 0, e = len, n;
	while (b < e && expr__is_js_space(s, e, b, &n))
		b += n;
	/* trim the end: step back over whole UTF-8 sequences */
	while (e > b) {
		size_t k = e - 1;
		while (k > b && ((unsigned char)s[k] & 0xc0) == 0x80)
			k--;
		if (!expr__is_js_space(s, e, k, &n) || k + n != e)
			break;
		e = k;
	}
	s += b, len = e - b;
	if (len == 0)
		return 0;
	if (len > 2 && s[0] == '0') {
		switch (s[1]) {
		case 'x': case 'X': return radix_num(s + 2, len - 2, 16);
		case 'o': case 'O': return radix_num(s + 2, len - 2, 8);
		case 'b': case 'B': return radix_num(s + 2, len - 2, 2);
		}
	}
	return decimal_num(s, len);
}

/* shortest digits that round-trip: digits into d (no dot), returns the
 * decimal exponent n such that value = 0.d * 10^n */
static int shortest(double x, char *d, int *nd)
{
	char tmp[40];
	for (int p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, x);
		if (strtod(tmp, NULL) == x || p == 17) {
			int k = 0;
			char *q = tmp;
			for (; *q && *q != 'e'; q++)
				if (*q >= '0' && *q <= '9')
					d[k++] = *q;
			while (k > 1 && d[k - 1] == '0')
				k--;
			d[k] = '\0';
			*nd = k;
			return (int)strtol(q + 1, NULL, 10) + 1;
		}
	}
	return 0; /* not reached */
}

void expr__num_js(struct buf *out, double x)
{
	if (x != x) {
		buf_addstr(out, "NaN");
		return;
	}
	if (x == 0) {
		buf_addch(out, '0');
		return;
	}
	if (isinf(x)) {
		buf_addstr(out, x < 0 ? "-Infinity" : "Infinity");
		return;
	}
	if (x < 0) {
		buf_addch(out, '-');
		x = -x;
	}
	if (x < 9007199254740992.0 && x == floor(x)) {
		char t[24];
		size_t i = sizeof(t);
		uint64_t u = (uint64_t)x;
		do {
			t[--i] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		buf_add(out, t + i, sizeof(t) - i);
		return;
	}
	char d[32];
	int k, n = shortest(x, d, &k);
	if (k <= n && n <= 21) {
		buf_add(out, d, k);
		for (int i = k; i < n; i++)
			buf_addch(out, '0');
	} else if (0 < n && n <= 21) {
		buf_add(out, d, n);
		buf_addch(out, '.');
		buf_add(out, d + n, k - n);
	} else if (-6 < n && n <= 0) {
		buf_addstr(out, "0.");
		for (int i = 0; i < -n; i++)
			buf_addch(out, '0');
		buf_add(out, d, k);
	} else {
		buf_addch(out, d[0]);
		if (k > 1) {
			buf_addch(out, '.');
			buf_add(out, d + 1, k - 1);
		}
		buf_addf(out, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
}

/*
 * x.toFixed(15): the exact decimal value rounded half away from zero at 15
 * decimals. printf gives the exact expansion; we round it ourselves because
 * printf rounds ties to even.
 */
static double to_fixed15(double x)
{
	char small[1200];
	int neg = x < 0;
	int n = snprintf(small, sizeof(small), "%.1100f", fabs(x));
	if (n <= 0 || (size_t)n >= sizeof(small))
		return x;
	char *dot = strchr(small, '.');
	size_t keep = (size_t)(dot - small) + 1 + 15;
	int up = small[keep] >= '5';
	small[keep] = '\0';
	double r = strtod(small, NULL);
	if (up) {
		/* add one unit in the 15th decimal, on the decimal string */
		char *p = small + keep - 1;
		for (;;) {
			if (*p == '.') {
				p--;
				continue;
			}
			if (*p == '9') {
				*p = '0';
				if (p == small) {
					memmove(small + 1, small, strlen(small) + 1);
					small[0] = '1';
					break;
				}
				p--;
				continue;
			}
			(*p)++;
			break;
		}
		r = strtod(small, NULL);
	}
	return neg ? -r : r;
}

void expr__num_coerce(struct buf *out, double x)
{
	if (x == 0) {
		buf_addch(out, '0');
		return;
	}
	if (x != x || isinf(x) || fabs(x) >= 1e21 ||
	    (fabs(x) < 9007199254740992.0 && x == floor(x))) {
		expr__num_js(out, x);
		return;
	}
	expr__num_js(out, to_fixed15(x));
}
