/*
 * html: escaping, a printf whose %s escapes, URL components, and the
 * {{name}} templates of web/ (see html.h).
 */
#include "base/kiln.h"
#include "ui/html.h"

#include <stdarg.h>

/* a broken invariant of the page code (not of input): stop loudly */
static void __attribute__((noreturn, format(printf, 1, 2))) bug(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("BUG: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

void html_esc_n(struct buf *out, const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		buf_add(out, s + start, i - start);
		buf_addstr(out, rep);
		start = i + 1;
	}
	buf_add(out, s + start, n - start);
}

void html_esc(struct buf *out, const char *s)
{
	if (s)
		html_esc_n(out, s, strlen(s));
}

void html_url(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf_addch(out, *p);
		} else {
			buf_addch(out, '%');
			buf_addch(out, hex[*p >> 4]);
			buf_addch(out, hex[*p & 15]);
		}
	}
}

void html_vaddf(struct buf *out, const char *fmt, va_list ap)
{
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			const char *q = strchr(p, '%');
			size_t n = q ? (size_t)(q - p) : strlen(p);
			buf_add(out, p, n);
			p += n - 1;
			continue;
		}
		switch (*++p) {
		case 's': html_esc(out, va_arg(ap, const char *)); break;
		case 'S': {
			const char *s = va_arg(ap, const char *);
			if (s)
				buf_addstr(out, s);
			break;
		}
		case 'U': html_url(out, va_arg(ap, const char *)); break;
		case 'd': buf_addf(out, "%d", va_arg(ap, int)); break;
		case 'D': buf_addf(out, "%lld", (long long)va_arg(ap, int64_t)); break;
		case '%': buf_addch(out, '%'); break;
		default: bug("html_addf: unknown conversion %%%c in \"%s\"", *p ? *p : '0', fmt);
		}
	}
}

void html_addf(struct buf *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	html_vaddf(out, fmt, ap);
	va_end(ap);
}

static const char *var_value(const struct tmpl_var *vars, size_t n, const char *name, size_t len,
			     const char *tmpl)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(vars[i].name) == len && !memcmp(vars[i].name, name, len))
			return vars[i].value ? vars[i].value : "";
	bug("template variable '%.*s' not given (template starts \"%.40s\")", (int)len, name, tmpl);
}

void tmpl_render(struct buf *out, const char *tmpl, const struct tmpl_var *vars, size_t n)
{
	const char *p = tmpl;
	for (;;) {
		const char *open = strstr(p, "{{");
		if (!open) {
			buf_addstr(out, p);
			return;
		}
		buf_add(out, p, (size_t)(open - p));
		int raw = open[2] == '{';
		const char *name = open + 2 + raw;
		const char *close = strstr(name, raw ? "}}}" : "}}");
		if (!close)
			bug("unclosed template variable in \"%.40s\"", tmpl);
		const char *v = var_value(vars, n, name, (size_t)(close - name), tmpl);
		if (raw)
			buf_addstr(out, v);
		else
			html_esc(out, v);
		p = close + 2 + raw;
	}
}
