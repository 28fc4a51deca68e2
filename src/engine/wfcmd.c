/*
 * wfcmd: the workflow command line parser (see wfcmd.h). Follows
 * actions/runner's ActionCommand.TryParseV2: trim leading whitespace,
 * `::`, command info up to the next `::`, name up to the first space,
 * properties split on `,` then on the first `=` (empty pieces dropped),
 * the rest of the line is the data.
 */
#include "base/kiln.h"
#include "engine/wfcmd.h"

#include <ctype.h>
#include <strings.h>

struct esc {
	const char *code; /* 3 bytes */
	char ch;
};

static const struct esc data_esc[] = { { "%25", '%' }, { "%0D", '\r' }, { "%0A", '\n' } };
static const struct esc prop_esc[] = { { "%25", '%' }, { "%0D", '\r' }, { "%0A", '\n' },
				       { "%3A", ':' }, { "%2C", ',' } };

/* one left-to-right pass; equivalent to the runner's chain of Replace()
 * calls with %25 last, since no replacement can form a new code */
static void unescape(const char *s, size_t len, struct buf *out, const struct esc *tab, size_t n)
{
	for (size_t i = 0; i < len; i++) {
		size_t k = n;
		if (s[i] == '%' && i + 3 <= len)
			for (k = 0; k < n; k++)
				if (!memcmp(s + i, tab[k].code, 3))
					break;
		if (k < n) {
			buf_addch(out, tab[k].ch);
			i += 2;
		} else {
			buf_addch(out, s[i]);
		}
	}
}

static void escape(const char *s, size_t len, struct buf *out, const struct esc *tab, size_t n)
{
	for (size_t i = 0; i < len; i++) {
		size_t k;
		for (k = 0; k < n; k++)
			if (s[i] == tab[k].ch)
				break;
		if (k < n)
			buf_add(out, tab[k].code, 3);
		else
			buf_addch(out, s[i]);
	}
}

void wfcmd_unescape_data(const char *s, size_t len, struct buf *out)
{
	unescape(s, len, out, data_esc, ARRAY_SIZE(data_esc));
}

void wfcmd_unescape_prop(const char *s, size_t len, struct buf *out)
{
	unescape(s, len, out, prop_esc, ARRAY_SIZE(prop_esc));
}

void wfcmd_escape_data(const char *s, size_t len, struct buf *out)
{
	escape(s, len, out, data_esc, ARRAY_SIZE(data_esc));
}

void wfcmd_escape_prop(const char *s, size_t len, struct buf *out)
{
	escape(s, len, out, prop_esc, ARRAY_SIZE(prop_esc));
}

static const char *find2(const char *s, const char *end, const char *pat)
{
	for (; s + 1 < end; s++)
		if (s[0] == pat[0] && s[1] == pat[1])
			return s;
	return NULL;
}

static void add_prop(struct wfcmd *c, const char *p, size_t n)
{
	const char *eq = memchr(p, '=', n);
	if (!eq || eq == p)
		return; /* no '=' or empty key: dropped, as the runner does */
	const char *v = eq + 1;
	size_t vlen = n - (size_t)(v - p);
	/* Split('=', 2, RemoveEmptyEntries): "a=" yields one piece */
	if (!vlen)
		return;
	struct buf val = BUF_INIT;
	wfcmd_unescape_prop(v, vlen, &val);
	ALLOC_GROW(c->props, c->nprops + 1, c->alloc);
	c->props[c->nprops].key = xstrndup(p, (size_t)(eq - p));
	c->props[c->nprops].value = buf_detach(&val, NULL);
	c->nprops++;
}

static void parse_props(struct wfcmd *c, const char *p, const char *end)
{
	/* Trim() then split on ',' */
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		if (stop > p)
			add_prop(c, p, (size_t)(stop - p));
		p = comma ? comma + 1 : end;
	}
}

int wfcmd_parse(const char *line, size_t len, struct wfcmd *out)
{
	const char *p = line, *end = line + len;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (end - p < 4 || p[0] != ':' || p[1] != ':')
		return 0;
	const char *info = p + 2;
	const char *sep = find2(info, end, "::");
	if (!sep)
		return 0;
	const char *sp = memchr(info, ' ', (size_t)(sep - info));
	const char *name_end = sp ? sp : sep;
	if (name_end == info)
		return 0;

	struct wfcmd c = WFCMD_INIT;
	c.name = xstrndup(info, (size_t)(name_end - info));
	if (sp)
		parse_props(&c, sp + 1, sep);
	struct buf data = BUF_INIT;
	wfcmd_unescape_data(sep + 2, (size_t)(end - sep - 2), &data);
	c.data = buf_detach(&data, &c.data_len);
	*out = c;
	return 1;
}

void wfcmd_release(struct wfcmd *c)
{
	for (size_t i = 0; i < c->nprops; i++) {
		free(c->props[i].key);
		free(c->props[i].value);
	}
	free(c->props);
	free(c->name);
	free(c->data);
	struct wfcmd blank = WFCMD_INIT;
	*c = blank;
}

const char *wfcmd_prop(const struct wfcmd *c, const char *key)
{
	/* later duplicates win, as in the runner's dictionary */
	const char *v = NULL;
	for (size_t i = 0; i < c->nprops; i++)
		if (!strcasecmp(c->props[i].key, key))
			v = c->props[i].value;
	return v;
}
