/*
 * session: cookies, CSRF tokens and form bodies of the web UI (see
 * session.h). Pure functions over strings; the handlers are in ui.c.
 */
#include "base/kiln.h"
#include "ui/session.h"

#include <sodium.h>

int ui_cookie_get(const char *header, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			size_t vl = len - nl - 1;
			while (vl && (p[nl + 1 + vl - 1] == ' ' || p[nl + 1 + vl - 1] == '\t'))
				vl--;
			if (!vl || vl >= n) /* empty (deleted) or too long */
				return 0;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return 1;
		}
		p += len;
	}
	return 0;
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void ui_csrf_token(const char *secret, char out[UI_CSRF_LEN + 1])
{
	static const char msg[] = "kiln-ui-csrf-v1";
	unsigned char h[UI_CSRF_LEN / 2];
	size_t kl = strlen(secret);
	if (kl > crypto_generichash_KEYBYTES_MAX)
		kl = crypto_generichash_KEYBYTES_MAX;
	if (kl < crypto_generichash_KEYBYTES_MIN) {
		/* not a real secret: a token that matches nothing the
		 * browser could send */
		memset(out, 'x', UI_CSRF_LEN);
		out[UI_CSRF_LEN] = '\0';
		return;
	}
	crypto_generichash(h, sizeof(h), (const unsigned char *)msg, sizeof(msg) - 1,
			   (const unsigned char *)secret, kl);
	to_hex(h, sizeof(h), out);
}

int ui_csrf_check(const char *secret, const char *given)
{
	char want[UI_CSRF_LEN + 1];
	if (!secret || !given || strlen(given) != UI_CSRF_LEN)
		return 0;
	ui_csrf_token(secret, want);
	if (want[0] == 'x')
		return 0;
	return sodium_memcmp(want, given, UI_CSRF_LEN) == 0;
}

void ui_random_hex(char out[65])
{
	unsigned char b[32];
	randombytes_buf(b, sizeof(b));
	to_hex(b, sizeof(b), out);
}

void ui_cookie_set(struct buf *out, const char *name, const char *value, long max_age_s,
		   int secure)
{
	buf_addf(out, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s", name, value,
		 max_age_s, secure ? "; Secure" : "");
}

static int unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* decode one name or value (s, n) into out; 0 or KILN_EINVAL */
static int form_decode(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			buf_addch(out, ' ');
		} else if (s[i] == '%') {
			if (i + 2 >= n)
				return KILN_EINVAL;
			int hi = unhex(s[i + 1]), lo = unhex(s[i + 2]);
			/* NUL would cut the C string short */
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return KILN_EINVAL;
			buf_addch(out, hi * 16 + lo);
			i += 2;
		} else if (!s[i]) {
			return KILN_EINVAL; /* a raw NUL cuts it short too (fuzz_form) */
		} else {
			buf_addch(out, s[i]);
		}
	}
	return 0;
}

int ui_form_parse(const char *body, size_t len, struct strvec *out)
{
	struct buf name = BUF_INIT, val = BUF_INIT;
	size_t fields = 0;
	int ret = 0;
	for (size_t i = 0; i < len;) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t flen = amp ? (size_t)(amp - (body + i)) : len - i;
		const char *eq = memchr(body + i, '=', flen);
		size_t nlen = eq ? (size_t)(eq - (body + i)) : flen;
		buf_reset(&name);
		buf_reset(&val);
		if (flen && (++fields > 64 || form_decode(body + i, nlen, &name) ||
			     (eq && form_decode(eq + 1, flen - nlen - 1, &val)))) {
			ret = KILN_EINVAL;
			break;
		}
		if (flen)
			strvec_pushf(out, "%s=%s", name.buf, val.buf);
		i += flen + 1;
	}
	buf_release(&name);
	buf_release(&val);
	return ret;
}

int ui_next_ok(const char *next)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\')
		return 0;
	for (const char *p = next; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '\\')
			return 0;
	return 1;
}
