/*
 * buf: the one growable byte buffer (git's strbuf). Never NULL after
 * buf_init/BUF_INIT, always NUL-terminated, may hold NUL bytes.
 * Memory leaves a buf only through buf_detach().
 */
#ifndef KILN_BUF_H
#define KILN_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
	size_t alloc; /* bytes allocated; 0 means buf points at buf_empty */
	size_t len;   /* bytes used, not counting the terminating NUL */
	char *buf;    /* the bytes */
};

extern char buf_empty[];
#define BUF_INIT { 0, 0, buf_empty }

void buf_init(struct buf *b, size_t hint);
void buf_release(struct buf *b);
/* hand the string to the caller (who frees it); b is re-initialised */
char *buf_detach(struct buf *b, size_t *len);
/* make room for at least `extra` more bytes */
void buf_grow(struct buf *b, size_t extra);
void buf_setlen(struct buf *b, size_t len);
static inline void buf_reset(struct buf *b) { buf_setlen(b, 0); }

void buf_add_slow(struct buf *b, const void *data, size_t len);
void buf_addch_slow(struct buf *b, int c);
/* append bytes; inline while they fit (the common case of small appends) */
static inline void buf_add(struct buf *b, const void *data, size_t len)
{
	/* alloc 0 (buf_empty, a borrowed buffer) never takes the fast path */
	if (b->len < b->alloc && b->alloc - b->len > len) {
		if (len)
			memcpy(b->buf + b->len, data, len);
		b->len += len;
		b->buf[b->len] = '\0';
		return;
	}
	buf_add_slow(b, data, len);
}
static inline void buf_addch(struct buf *b, int c)
{
	if (b->len + 1 < b->alloc) {
		b->buf[b->len++] = (char)c;
		b->buf[b->len] = '\0';
		return;
	}
	buf_addch_slow(b, c);
}
void buf_addstr(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* append s as a JSON string literal, quotes included; bytes that are not
 * valid UTF-8 are written as U+FFFD (one per maximal invalid subpart, as
 * .NET and browsers decode them), so the output is always valid JSON */
void buf_add_json_str_slow(struct buf *b, const char *s, size_t len);
extern const unsigned char buf__json_special[256]; /* bytes JSON does not copy as they are */
static inline void buf_add_json_str(struct buf *b, const char *s, size_t len)
{
	/* short plain strings (keys, most values) while they fit: copied as
	 * they are checked, no call */
	if (len <= 16 && b->len < b->alloc && b->alloc - b->len > len + 2) {
		char *p = b->buf + b->len;
		size_t i = 0;
		for (; i < len; i++) {
			unsigned char c = (unsigned char)s[i];
			if (buf__json_special[c])
				break;
			p[1 + i] = (char)c;
		}
		if (i == len) {
			p[0] = '"';
			p[len + 1] = '"';
			p[len + 2] = '\0';
			b->len += len + 2;
			return;
		}
	}
	buf_add_json_str_slow(b, s, len);
}
/* remove trailing whitespace */
void buf_rtrim(struct buf *b);

/* read a whole file; returns 0 or -errno */
int buf_read_file(struct buf *b, const char *path);

#endif
