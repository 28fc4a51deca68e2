/*
 * fuzz_form: libFuzzer target for the web UI's form bodies
 * (application/x-www-form-urlencoded, src/ui/session.c ui_form_parse).
 * A body that parses has no NUL byte and at most 64 fields, each
 * NAME=VALUE; encoded again and parsed, it gives the same fields; every
 * value is also asked ui_next_ok (the sign-in redirect check), which never
 * passes "//host".
 */
#include "base/kiln.h"
#include "ui/session.h"

#include <ctype.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void encode(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '_' || c == '.') {
			buf_addch(out, (char)c);
		} else if (c == ' ') {
			buf_addch(out, '+');
		} else {
			buf_addch(out, '%');
			buf_addch(out, hex[c >> 4]);
			buf_addch(out, hex[c & 15]);
		}
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct strvec f = STRVEC_INIT, again = STRVEC_INIT;
	struct buf body = BUF_INIT;
	if (ui_form_parse((const char *)data, size, &f))
		goto out;
	if (memchr(data, 0, size)) /* a NUL byte would cut a field short */
		abort();
	if (f.nr > 64)
		abort();
	for (size_t i = 0; i < f.nr; i++) {
		const char *eq = strchr(f.v[i], '=');
		if (!eq)
			abort();
		if (i)
			buf_addch(&body, '&');
		encode(&body, f.v[i], (size_t)(eq - f.v[i]));
		buf_addch(&body, '=');
		encode(&body, eq + 1, strlen(eq + 1));
		int ok = ui_next_ok(eq + 1);
		if (ok && (eq[1] != '/' || eq[2] == '/' || eq[2] == '\\'))
			abort();
	}
	/* the fields again: the same, in the same order */
	if (ui_form_parse(body.buf, body.len, &again) || again.nr != f.nr)
		abort();
	for (size_t i = 0; i < f.nr; i++)
		if (strcmp(f.v[i], again.v[i]))
			abort();
out:
	strvec_clear(&f);
	strvec_clear(&again);
	buf_release(&body);
	return 0;
}
