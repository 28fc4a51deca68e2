/*
 * unit tests for src/engine/mask: a corpus of leak attempts, each checked
 * whole and cut at every read boundary (every split point, one-byte writes,
 * pseudo-random chunks), plus streaming bounds and ::add-mask:: mid-stream.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>

#include "base/kiln.h"
#include "engine/mask.h"

struct mcase {
	const char *name;
	const char *secrets[5]; /* NULL-terminated */
	const char *in;
	const char *want; /* exact output, or NULL for leak checks only */
};

#define B64 "aHVudGVyMi1zZWNyZXQ="
static const struct mcase corpus[] = {
	{ "middle", { "s3cr3t-value" }, "a s3cr3t-value b", "a *** b" },
	{ "start", { "s3cr3t-value" }, "s3cr3t-value b", "*** b" },
	{ "end", { "s3cr3t-value" }, "a s3cr3t-value", "a ***" },
	{ "whole", { "s3cr3t-value" }, "s3cr3t-value", "***" },
	{ "twice touching", { "ABCD1234" }, "ABCD1234ABCD1234", "***" },
	{ "twice apart", { "ABCD1234" }, "ABCD1234 ABCD1234", "*** ***" },
	{ "many on a line", { "tok-123" }, "tok-123,tok-123;tok-123.", "***,***;***." },
	{ "multiline 2nd line", { "line-one\nline-two" }, "x line-two y", "x *** y" },
	{ "multiline 1st line", { "line-one\nline-two" }, "[line-one]", "[***]" },
	{ "multiline whole", { "line-one\nline-two" }, "<line-one\nline-two>", "<***>" },
	{ "multiline crlf", { "alpha-1\r\nbeta-22" }, "beta-22\r\n", "***\r\n" },
	{ "multiline empty line", { "a-first\n\nc-third" }, "c-third a-first", "*** ***" },
	{ "trailing newline", { "value123\n" }, "got value123 ok", "got *** ok" },
	{ "json quote backslash", { "pa\"ss\\word" }, "{\"p\":\"pa\\\"ss\\\\word\"}", "{\"p\":\"***\"}" },
	{ "json newline", { "a1b2\nc3d4" }, "{\"v\":\"a1b2\\nc3d4\"}", "{\"v\":\"***\"}" },
	{ "json tab", { "tab\tsecret" }, "\"tab\\tsecret\"", "\"***\"" },
	{ "json slash", { "http://x/y/z" }, "\"http:\\/\\/x\\/y\\/z\"", "\"***\"" },
	{ "json unicode", { "p\xc3\xa4ssw\xc3\xb6rt" }, "\"p\\u00e4ssw\\u00f6rt\"", "\"***\"" },
	{ "json astral", { "key\xf0\x9f\x94\x91secret" }, "\"key\\ud83d\\udd11secret\"", "\"***\"" },
	{ "json control", { "bell\x07ring" }, "\"bell\\u0007ring\"", "\"***\"" },
	{ "base64 offset 0", { "hunter2-secret" }, B64, "***Q=" },
	{ "base64 offset 1", { "hunter2-secret" }, "eGh1bnRlcjItc2VjcmV0", "eG***" },
	{ "base64 offset 2", { "hunter2-secret" }, "eHlodW50ZXIyLXNlY3JldA==", "eHl***A==" },
	{ "base64 with tail", { "hunter2-secret" }, "aHVudGVyMi1zZWNyZXR0YWls", "***R0YWls" },
	{ "base64 of json", { "hunter2-secret" }, "eyJrIjoiaHVudGVyMi1zZWNyZXQifQ==", NULL },
	{ "base64 multiline", { "ml-line-1\nml-line-2" }, "bWwtbGluZS0xCm1sLWxpbmUtMg==", "***g==" },
	{ "all forms", { "mixed-Secret-99" }, "mixed-Secret-99 \"mixed-Secret-99\" bWl4ZWQtU2VjcmV0LTk5",
	  "*** \"***\" ***" },
	{ "overlap", { "abcdef12", "ef12ghij" }, "abcdef12ghij", "***" },
	{ "overlap reversed", { "ef12ghij", "abcdef12" }, "--abcdef12ghij--", "--***--" },
	{ "prefix of another", { "token", "token-extended" }, "token-extended token", "*** ***" },
	{ "suffix of another", { "extended-token", "token" }, "extended-token token", "*** ***" },
	{ "inside another", { "xxsecretxx", "secret" }, "xxsecretxx secret", "*** ***" },
	{ "chain of overlaps", { "ab12cd", "cd34ef", "ef56gh" }, "ab12cd34ef56gh!", "***!" },
	{ "nested fail links", { "abxdy", "ab", "d" }, "abxdyz", "***z" },
	{ "unicode raw", { "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e-key" }, "k=\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e-key.",
	  "k=***." },
	{ "unicode emoji", { "\xf0\x9f\x94\x91\xf0\x9f\x94\x91" }, "a\xf0\x9f\x94\x91\xf0\x9f\x94\x91" "b", "a***b" },
	{ "regex metachars", { ".*[](){}^$" }, "x.*[](){}^$x", "x***x" },
	{ "spaces", { "my secret value" }, "is my secret value!", "is ***!" },
	{ "one byte", { "x" }, "axbxc", "a***b***c" },
	{ "two bytes", { "zq" }, "zzqq", "z***q" },
	{ "three bytes", { "k9!" }, "k9k9!", "k9***" },
	{ "short and long", { "ab", "longer-secret" }, "ab longer-secret", "*** ***" },
	{ "self overlap", { "aaaa" }, "aaaaaaa", "***" },
	{ "periodic", { "abab" }, "abababab", "***" },
	{ "partial only", { "secretvalue" }, "secretvalu", "secretvalu" },
	{ "partial then full", { "secretvalue" }, "secretvalusecretvalue", "secretvalu***" },
	{ "case differs", { "Secret-Key" }, "secret-key", "secret-key" },
	{ "adjacent different", { "AAAA1111", "BBBB2222" }, "AAAA1111BBBB2222", "***" },
	{ "ansi colored", { "colored-secret" }, "\x1b[31mcolored-secret\x1b[0m", "\x1b[31m***\x1b[0m" },
	{ "in url", { "s3cretpass" }, "https://user:s3cretpass@host/", "https://user:***@host/" },
	{ "in env dump", { "dbpass-42" }, "DB_PASSWORD=dbpass-42\nOTHER=1\n", "DB_PASSWORD=***\nOTHER=1\n" },
	{ "near miss prefix", { "abcdefgh" }, "abcdefgabcdefgh", "abcdefg***" },
	{ "leading partials", { "aab1" }, "aaaab1", "aa***" },
	{ "long window", { "0123456789abcdefghijklmnop" }, "__0123456789abcdefghijklmnop__", "__***__" },
	{ "several lengths", { "wxyz", "0123456789abcdefghij", "mid-len-secret" },
	  "wxyz 0123456789abcdefghij mid-len-secret", "*** *** ***" },
	{ "url rfc3986 upper", { "p@ss w/rd&1!" }, "?t=p%40ss%20w%2Frd%261%21&x", "?t=***&x" },
	{ "url rfc3986 lower", { "p@ss w/rd&1!" }, "?t=p%40ss%20w%2frd%261%21&x", "?t=***&x" },
	{ "url component", { "p@ss w/rd&1!" }, "?t=p%40ss%20w%2Frd%261!&x", "?t=***&x" },
	{ "url form plus", { "p@ss w/rd&1!" }, "t=p%40ss+w%2Frd%261%21", "t=***" },
	{ "url form plus lower", { "p@ss w/rd&1!" }, "t=p%40ss+w%2frd%261%21", "t=***" },
	{ "url encodeURI", { "p@ss w/rd&1!" }, "/p@ss%20w/rd&1!/", "/***/" },
	{ "url utf-8", { "p\xc3\xa4ss-word" }, "u=p%C3%A4ss-word u=p%c3%a4ss-word", "u=*** u=***" },
	{ "url sub-delims", { "a(b)*c'~d" }, "a%28b%29%2Ac%27~d a%28b%29%2ac%27~d a(b)*c'~d", "*** *** ***" },
	{ "url in userinfo", { "s3c:r3t@x" }, "https://u:s3c%3Ar3t%40x@host/", "https://u:***@host/" },
	{ "hex lower", { "hunter2-secret" }, "0x68756e746572322d736563726574;", "0x***;" },
	{ "hex upper", { "hunter2-secret" }, "68756E746572322D736563726574", "***" },
	{ "hex both", { "hunter2-secret" }, "68756e746572322d736563726574 68756E746572322D736563726574",
	  "*** ***" },
	{ "hex utf-8", { "p\xc3\xa4ss-word" }, "[70c3a473732d776f7264]", "[***]" },
	{ "empty input", { "secret" }, "", "" },
	{ "no secrets", { NULL }, "plain text", "plain text" },
};

static struct masker *make(const struct mcase *c)
{
	struct masker *m = mask_new();
	for (int i = 0; c->secrets[i]; i++)
		mask_add(m, c->secrets[i], strlen(c->secrets[i]));
	return m;
}

/* no secret, and no line of a multi-line secret, appears in out */
static void assert_no_leak(const struct mcase *c, const struct buf *out)
{
	for (int i = 0; c->secrets[i]; i++) {
		const char *s = c->secrets[i];
		const char *p = s;
		while (*p) {
			size_t l = strcspn(p, "\r\n");
			if (l && memmem(out->buf, out->len, p, l)) {
				print_error("case '%s': '%.*s' leaked in '%s'\n", c->name, (int)l, p, out->buf);
				fail();
			}
			p += l;
			p += strspn(p, "\r\n");
		}
	}
}

/* stream `in` in writes cut by `cuts` (sizes, cycled) */
static void stream_cut(const struct masker *m, const char *in, size_t len, const size_t *cuts,
		       size_t ncuts, struct buf *out)
{
	struct mask_stream *s = mask_stream_new(m);
	size_t off = 0, k = 0;
	while (off < len) {
		size_t n = cuts[k++ % ncuts];
		if (n > len - off)
			n = len - off;
		mask_stream_write(s, in + off, n, out);
		off += n;
	}
	mask_stream_flush(s, out);
	mask_stream_free(s);
}

static void check_case(const struct mcase *c)
{
	struct masker *m = make(c);
	size_t len = strlen(c->in);
	struct buf whole = BUF_INIT, part = BUF_INIT;
	mask_apply(m, c->in, len, &whole);
	if (c->want && strcmp(whole.buf, c->want)) {
		print_error("case '%s': got '%s' want '%s'\n", c->name, whole.buf, c->want);
		fail();
	}
	assert_no_leak(c, &whole);
	/* every split point into two writes */
	for (size_t at = 0; at <= len; at++) {
		size_t cuts[2] = { at ? at : 1, len ? len : 1 };
		buf_reset(&part);
		stream_cut(m, c->in, len, cuts, 2, &part);
		if (strcmp(part.buf, whole.buf)) {
			print_error("case '%s' split at %zu: got '%s' want '%s'\n", c->name, at, part.buf,
				    whole.buf);
			fail();
		}
	}
	/* one byte at a time, and pseudo-random sizes */
	size_t one = 1, rnd[7] = { 3, 1, 5, 2, 7, 1, 4 };
	buf_reset(&part);
	stream_cut(m, c->in, len, &one, 1, &part);
	assert_string_equal(part.buf, whole.buf);
	buf_reset(&part);
	stream_cut(m, c->in, len, rnd, 7, &part);
	assert_string_equal(part.buf, whole.buf);
	buf_release(&whole);
	buf_release(&part);
	mask_free(m);
}

static void test_corpus(void **state)
{
	(void)state;
	assert_true(ARRAY_SIZE(corpus) >= 70);
	for (size_t i = 0; i < ARRAY_SIZE(corpus); i++)
		check_case(&corpus[i]);
}

/* an encoder written independently of mask.c: percent-encode every byte
 * that is not alphanumeric or in `keep`, hex digits from `hex` */
static void enc_url(const char *v, const char *keep, const char *hex, int plus, struct buf *out)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (isalnum(*p) || strchr(keep, *p))
			buf_addch(out, (char)*p);
		else if (*p == ' ' && plus)
			buf_addch(out, '+');
		else
			buf_addf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
}

static void enc_hex(const char *v, const char *hex, struct buf *out)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		buf_addf(out, "%c%c", hex[*p >> 4], hex[*p & 15]);
}

/* every URL-encoded and hex form of secrets with reserved, sub-delim,
 * space, control and UTF-8 bytes, embedded in text, masked whole and cut
 * at every split position, one byte at a time and in random chunks */
static void test_encoded_forms(void **state)
{
	(void)state;
	static const char *const secrets[] = {
		"p@ss w/rd&1!", "tok/en+with=pad==", "a(b)*c'~d", "ghp_AbC123xyz",
		"s\xc3\xa9\x63r\xc3\xa8t %%42", "line\nbreak#?", "K9:x;y,z$",
	};
	static const char *const keeps[] = { "-._~", "-._~!'()*", "-._~!'()*;,/?:@&=+$#" };
	static const char *const hexes[] = { "0123456789ABCDEF", "0123456789abcdef" };
	size_t checked = 0;
	for (size_t i = 0; i < ARRAY_SIZE(secrets); i++) {
		struct buf forms[16];
		size_t nf = 0;
		for (size_t k = 0; k < ARRAY_SIZE(keeps); k++)
			for (size_t h = 0; h < 2; h++)
				for (int plus = 0; plus <= (k < 2); plus++) {
					buf_init(&forms[nf], 0);
					enc_url(secrets[i], keeps[k], hexes[h], plus, &forms[nf++]);
				}
		for (size_t h = 0; h < 2; h++) {
			buf_init(&forms[nf], 0);
			enc_hex(secrets[i], hexes[h], &forms[nf++]);
		}
		for (size_t f = 0; f < nf; f++) {
			struct buf in = BUF_INIT, want = BUF_INIT;
			buf_addf(&in, "GET /x?a=1&token=%s&b=%s HTTP/1.1", forms[f].buf, forms[f].buf);
			buf_addstr(&want, "GET /x?a=1&token=***&b=*** HTTP/1.1");
			struct mcase c = { "encoded form", { secrets[i] }, in.buf, want.buf };
			check_case(&c);
			checked++;
			buf_release(&in);
			buf_release(&want);
			buf_release(&forms[f]);
		}
	}
	assert_int_equal(checked, ARRAY_SIZE(secrets) * 12);
}

/* 100 random secrets in 200 KB of text, streamed in odd chunk sizes */
static void test_many_secrets(void **state)
{
	(void)state;
	struct masker *m = mask_new();
	char sec[100][24];
	uint32_t x = 12345;
	for (int i = 0; i < 100; i++) {
		for (int j = 0; j < 20; j++) {
			x = x * 1103515245u + 12345u;
			sec[i][j] = "abcdefghijklmnopqrstuvwxyz0123456789"[(x >> 16) % 36];
		}
		sec[i][20] = '\0';
		mask_add(m, sec[i], 20);
	}
	assert_true(mask_count(m) >= 400);
	struct buf in = BUF_INIT, out = BUF_INIT;
	for (int r = 0; r < 2000; r++)
		buf_addf(&in, "line %d of the log with %s inside and some more text\n", r, sec[r % 100]);
	size_t cuts[3] = { 4093, 17, 65536 };
	stream_cut(m, in.buf, in.len, cuts, 3, &out);
	for (int i = 0; i < 100; i++)
		assert_null(memmem(out.buf, out.len, sec[i], 20));
	assert_non_null(strstr(out.buf, "line 1999 of the log with *** inside"));
	buf_release(&in);
	buf_release(&out);
	mask_free(m);
}

/* the stream holds back no more than the longest pattern, and nothing when
 * the tail cannot start a secret */
static void test_held_bytes(void **state)
{
	(void)state;
	struct masker *m = mask_new();
	mask_add_literal(m, "aaab", 4);
	struct mask_stream *s = mask_stream_new(m);
	struct buf out = BUF_INIT;
	for (int i = 0; i < 10000; i++) {
		mask_stream_write(s, "aaaaaaa", 7, &out);
		assert_true(mask_stream_held(s) <= 3);
	}
	mask_stream_write(s, "b xyz", 5, &out);
	assert_int_equal(mask_stream_held(s), 0);
	assert_true(str_ends_with(out.buf, "a*** xyz"));
	assert_int_equal(out.len, 70000 - 3 + 3 + 4);
	mask_stream_flush(s, &out);
	mask_stream_free(s);
	buf_release(&out);
	mask_free(m);
}

/* an endless chain of overlapping matches is masked once, in bounded memory */
static void test_long_overlap_chain(void **state)
{
	(void)state;
	struct masker *m = mask_new();
	mask_add_literal(m, "zz", 2);
	struct mask_stream *s = mask_stream_new(m);
	struct buf out = BUF_INIT;
	for (int i = 0; i < 100000; i++) {
		mask_stream_write(s, "zzzz", 4, &out);
		assert_true(mask_stream_held(s) <= 2);
	}
	mask_stream_write(s, "!", 1, &out);
	mask_stream_flush(s, &out);
	assert_string_equal(out.buf, "***!");
	mask_stream_free(s);
	buf_release(&out);
	mask_free(m);
}

/* ::add-mask:: in the middle of a stream masks bytes not yet released */
static void test_add_mask_midstream(void **state)
{
	(void)state;
	struct masker *m = mask_new();
	mask_add(m, "first-secret", 12);
	mask_add(m, "late-other", 10);
	struct mask_stream *s = mask_stream_new(m);
	struct buf out = BUF_INIT;
	mask_stream_write(s, "first-secret then late-", 23, &out);
	assert_int_equal(mask_stream_held(s), 5); /* "late-" may begin late-other */
	mask_add(m, "late-value", 10);
	mask_stream_write(s, "value and late-value\n", 21, &out);
	mask_add(m, "after", 5);
	mask_stream_write(s, "after", 5, &out);
	mask_stream_flush(s, &out);
	assert_string_equal(out.buf, "*** then *** and ***\n***");
	mask_stream_free(s);
	buf_release(&out);
	mask_free(m);
}

/* a secret at every offset of a long line, with every chunk size up to 33 */
static void test_every_offset(void **state)
{
	(void)state;
	struct masker *m = mask_new();
	mask_add(m, "Zq9-secret-Zq9", 14);
	for (size_t off = 0; off < 40; off++) {
		struct buf in = BUF_INIT, out = BUF_INIT;
		for (size_t i = 0; i < off; i++)
			buf_addch(&in, "Zq9-secre"[i % 9]);
		buf_addstr(&in, "Zq9-secret-Zq9");
		buf_addstr(&in, "-tail");
		for (size_t cut = 1; cut <= 33; cut++) {
			buf_reset(&out);
			stream_cut(m, in.buf, in.len, &cut, 1, &out);
			assert_null(memmem(out.buf, out.len, "secret", 6));
			assert_true(str_ends_with(out.buf, "***-tail"));
		}
		buf_release(&in);
		buf_release(&out);
	}
	mask_free(m);
}

static void test_count_and_forms(void **state)
{
	(void)state;
	struct masker *m = mask_new();
	mask_add(m, "", 0);
	assert_int_equal(mask_count(m), 0);
	mask_add(m, "abc", 3); /* derived forms under 4 bytes are skipped */
	assert_int_equal(mask_count(m), 3); /* "abc", base64 "YWJj", hex "616263" */
	mask_add(m, "abc", 3);
	assert_int_equal(mask_count(m), 3);
	struct buf out = BUF_INIT;
	mask_apply(m, "YWJj abc ab 616263", 18, &out);
	assert_string_equal(out.buf, "*** *** ab ***");
	buf_release(&out);
	mask_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_encoded_forms),
		cmocka_unit_test(test_many_secrets),
		cmocka_unit_test(test_held_bytes),
		cmocka_unit_test(test_long_overlap_chain),
		cmocka_unit_test(test_add_mask_midstream),
		cmocka_unit_test(test_every_offset),
		cmocka_unit_test(test_count_and_forms),
	};
	return cmocka_run_group_tests_name("mask", tests, NULL, NULL);
}
