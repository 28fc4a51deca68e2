/*
 * html: building HTML safely. html_addf is the one way pages put text into
 * markup: every %s is escaped for text and attribute values, so a branch
 * name or a log line containing "<script>" stays text. Trusted markup
 * (built by these same functions) goes in with %S.
 */
#ifndef KILN_UI_HTML_H
#define KILN_UI_HTML_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* append s escaped for HTML text and quoted attributes (& < > " ') */
void html_esc(struct buf *out, const char *s);
void html_esc_n(struct buf *out, const char *s, size_t n);
/* append s percent-encoded for one URL path segment or query value
 * (RFC 3986 unreserved characters kept) */
void html_url(struct buf *out, const char *s);

/*
 * printf-like, with its own conversions (no others: BUG):
 *   %s  a string, HTML-escaped (NULL prints nothing)
 *   %S  a string of trusted markup, as is
 *   %U  a string percent-encoded for a URL component
 *   %d  int      %D  int64_t     %%  '%'
 */
void html_addf(struct buf *out, const char *fmt, ...);
void html_vaddf(struct buf *out, const char *fmt, va_list ap);

/* one named value for tmpl_render */
struct tmpl_var {
	const char *name;
	const char *value; /* NULL renders as "" */
};

/*
 * Fill a template (an embedded web/NAME.html): {{name}} is replaced by the
 * value escaped, {{{name}}} by the value as is (trusted markup). A name
 * that is not in vars is a programming error (BUG).
 */
void tmpl_render(struct buf *out, const char *tmpl, const struct tmpl_var *vars, size_t n);

#endif
