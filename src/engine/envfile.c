/*
 * envfile: parser for $GITHUB_OUTPUT / $GITHUB_ENV / $GITHUB_STATE and
 * $GITHUB_PATH (see envfile.h). Lines end at LF (a CR before it stays part
 * of the line, as on GitHub's Linux runners). For the heredoc form the
 * value is every line up to the one equal to the delimiter, joined with the
 * newlines between them (the last newline is not part of the value).
 */
#include "base/kiln.h"
#include "engine/envfile.h"

struct reader {
	const char *text;
	size_t len, pos;
};

/* next line without its LF; returns 0 at the end of the text.
 * *had_nl tells whether the line ended with a newline */
static int next_line(struct reader *r, const char **line, size_t *n, int *had_nl)
{
	if (r->pos >= r->len)
		return 0;
	const char *s = r->text + r->pos;
	const char *nl = memchr(s, '\n', r->len - r->pos);
	*line = s;
	if (nl) {
		*n = (size_t)(nl - s);
		r->pos += *n + 1;
		*had_nl = 1;
	} else {
		*n = r->len - r->pos;
		r->pos = r->len;
		*had_nl = 0;
	}
	return 1;
}

static const char *find_sub(const char *s, size_t n, const char *pat, size_t pn)
{
	for (size_t i = 0; i + pn <= n; i++)
		if (!memcmp(s + i, pat, pn))
			return s + i;
	return NULL;
}

static void deliver(envfile_pair_cb cb, void *arg, const char *name, size_t nlen,
		    const char *val, size_t vlen)
{
	char *k = xstrndup(name, nlen);
	char *v = xstrndup(val, vlen);
	cb(arg, k, v, vlen);
	free(k);
	free(v);
}

static int heredoc(struct reader *r, const char *line, size_t n, const char *lt,
		   envfile_pair_cb cb, void *arg, struct buf *err)
{
	const char *name = line, *delim = lt + 2;
	size_t nlen = (size_t)(lt - line), dlen = n - nlen - 2;
	if (!nlen || !dlen) {
		buf_addf(err, "Invalid format '%.*s'. Name must not be empty and delimiter must not be empty",
			 (int)n, line);
		return -1;
	}
	size_t start = r->pos, end = r->pos;
	const char *l;
	size_t ln;
	int nl;
	for (;;) {
		if (!next_line(r, &l, &ln, &nl)) {
			buf_addf(err, "Invalid value. Matching delimiter not found '%.*s'", (int)dlen,
				 delim);
			return -1;
		}
		if (ln == dlen && !memcmp(l, delim, dlen))
			break;
		end = (size_t)(l - r->text) + ln; /* value ends before this line's LF */
	}
	deliver(cb, arg, name, nlen, r->text + start, end > start ? end - start : 0);
	return 0;
}

int envfile_parse(const char *text, size_t len, envfile_pair_cb cb, void *arg, struct buf *err)
{
	struct reader r = { text, len, 0 };
	const char *line;
	size_t n;
	int nl;
	while (next_line(&r, &line, &n, &nl)) {
		if (!n)
			continue;
		const char *eq = memchr(line, '=', n);
		const char *lt = find_sub(line, n, "<<", 2);
		if (eq && (!lt || eq < lt)) {
			if (eq == line) {
				buf_addf(err, "Invalid format '%.*s'. Name must not be empty", (int)n,
					 line);
				return -1;
			}
			deliver(cb, arg, line, (size_t)(eq - line), eq + 1,
				n - (size_t)(eq - line) - 1);
		} else if (lt) {
			if (heredoc(&r, line, n, lt, cb, arg, err) < 0)
				return -1;
		} else {
			buf_addf(err, "Invalid format '%.*s'", (int)n, line);
			return -1;
		}
	}
	return 0;
}

void envfile_parse_path(const char *text, size_t len, envfile_line_cb cb, void *arg)
{
	struct reader r = { text, len, 0 };
	const char *line;
	size_t n;
	int nl;
	while (next_line(&r, &line, &n, &nl))
		if (n)
			cb(arg, line, n);
}
