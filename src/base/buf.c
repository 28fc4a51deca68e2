/* buf: growable NUL-terminated buffer. */
#include "base/buf.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char buf_empty[1];

void buf_init(struct buf *b, size_t hint)
{
	b->alloc = b->len = 0;
	b->buf = buf_empty;
	if (hint)
		buf_grow(b, hint);
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->buf);
	buf_init(b, 0);
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *s;
	if (len)
		*len = b->len;
	if (!b->alloc)
		s = xstrdup("");
	else
		s = b->buf;
	buf_init(b, 0);
	return s;
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need < b->len)
		abort();
	if (need <= b->alloc)
		return;
	size_t na = b->alloc ? b->alloc : 64;
	while (na < need)
		na *= 2;
	if (!b->alloc) {
		b->buf = xmalloc(na);
		b->buf[0] = '\0';
	} else {
		b->buf = xrealloc(b->buf, na);
	}
	b->alloc = na;
}

void buf_setlen(struct buf *b, size_t len)
{
	if (!b->alloc) {
		if (len)
			abort();
		return;
	}
	b->len = len;
	b->buf[len] = '\0';
}

void buf_add_slow(struct buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void buf_addstr(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch_slow(struct buf *b, int c)
{
	buf_grow(b, 1);
	b->buf[b->len++] = (char)c;
	b->buf[b->len] = '\0';
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n <= 0)
		return;
	buf_grow(b, (size_t)n);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

/*
 * The length of the valid UTF-8 sequence at s (1..4), or 0 when it is not
 * valid; *skip is then the maximal subpart to replace by one U+FFFD (the
 * Unicode recommendation, as .NET's and browsers' decoders do).
 */
static size_t utf8_valid(const unsigned char *s, size_t len, size_t *skip)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0; /* no overlong forms */
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* at most U+10FFFF */
	} else {
		*skip = 1;
		return 0;
	}
	size_t k = 1;
	for (; k < n && k < len; k++) {
		unsigned char b = s[k];
		if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80)
			break;
	}
	if (k == n)
		return n;
	*skip = k;
	return 0;
}

/* 8 bytes at s that JSON copies as they are: printable ASCII, no " or \ */
static inline int json_plain8(const char *s)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t x, q, bs;
	memcpy(&x, s, 8);
	q = x ^ (ones * '"');
	bs = x ^ (ones * '\\');
	/* a high bit, a byte < 0x20, a byte equal to " or \ (exact as a whole) */
	return !((x | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs);
}

/* bytes JSON does not copy as they are: controls, " and \, non-ASCII */
const unsigned char buf__json_special[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* a short string JSON copies as it is: printable ASCII without " or \ */
static int json_plain_short(const char *s, size_t len)
{
	if (len > 32)
		return 0;
	size_t i = 0;
	for (; i + 8 <= len; i += 8)
		if (!json_plain8(s + i))
			return 0;
	for (; i < len; i++)
		if (buf__json_special[(unsigned char)s[i]])
			return 0;
	return 1;
}

void buf_add_json_str_slow(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	buf_grow(b, len + 2);
	if (json_plain_short(s, len)) { /* keys and most values: one copy */
		char *p = b->buf + b->len;
		p[0] = '"';
		memcpy(p + 1, s, len);
		p[len + 1] = '"';
		p[len + 2] = '\0';
		b->len += len + 2;
		return;
	}
	buf_addch(b, '"');
	size_t run = 0; /* start of the bytes not yet copied */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			while (i + 9 <= len && json_plain8(s + i + 1))
				i += 8; /* whole words of plain bytes */
			continue;
		}
		if (c >= 0x80) {
			/* valid UTF-8 is copied; an invalid sequence becomes U+FFFD,
			 * so every line written is valid JSON text */
			size_t skip = 0, n = utf8_valid((const unsigned char *)s + i, len - i, &skip);
			if (n) {
				i += n - 1;
				continue;
			}
			buf_add(b, s + run, i - run);
			buf_add(b, "\xEF\xBF\xBD", 3);
			i += skip - 1;
			run = i + 1;
			continue;
		}
		buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\b': buf_add(b, "\\b", 2); break;
		case '\f': buf_add(b, "\\f", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			buf_add(b, u, 6);
		}
		}
	}
	buf_add(b, s + run, len - run);
	buf_addch(b, '"');
}

void buf_rtrim(struct buf *b)
{
	while (b->len && strchr(" \t\r\n", b->buf[b->len - 1]))
		b->len--;
	if (b->alloc)
		b->buf[b->len] = '\0';
}

int buf_read_file(struct buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		buf_grow(b, 8192);
		ssize_t n = read(fd, b->buf + b->len, b->alloc - b->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
		b->buf[b->len] = '\0';
	}
	close(fd);
	return 0;
}
