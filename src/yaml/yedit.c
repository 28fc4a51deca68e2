/*
 * yedit: one scalar replaced at its byte range. See yedit.h.
 */
#include "base/kiln.h"
#include "yaml/yedit.h"
#include "yaml/ynode.h"

#include <ctype.h>

/* the byte offset of 1-based (line, col); col counts characters (libyaml) */
static size_t offset_of(const char *text, size_t len, int line, int col)
{
	size_t i = 0;
	for (int l = 1; l < line && i < len; i++)
		if (text[i] == '\n')
			l++;
	for (int c = 1; c < col && i < len && text[i] != '\n'; c++) {
		i++;
		while (i < len && ((unsigned char)text[i] & 0xc0) == 0x80)
			i++;
	}
	return i;
}

/* the node at path, or NULL with err */
static const struct ynode *find(const char *file, const struct ynode *root, const char *path, struct buf *err)
{
	const struct ynode *n = root;
	const char *p = path[0] == '.' ? path + 1 : path;
	while (*p) {
		size_t k = strcspn(p, ".");
		char *key = xstrndup(p, k);
		const struct ynode *next = n && n->kind == YNODE_MAP ? ynode_get(n, key) : NULL;
		if (!next) {
			buf_addf(err, "%s: no key '%.*s' (of %s)", file, (int)(p - path + k), path, path);
			free(key);
			return NULL;
		}
		free(key);
		n = next;
		p += k;
		if (*p == '.')
			p++;
	}
	if (!n || n->kind != YNODE_SCALAR || n->line != n->end_line || n->style == YSTYLE_LITERAL ||
	    n->style == YSTYLE_FOLDED) {
		buf_addf(err, "%s:%d:%d: %s is not a one-line scalar", file, n ? n->line : 0, n ? n->col : 0, path);
		return NULL;
	}
	return n;
}

static int load(const char *file, const char *text, size_t len, struct ynode **root, struct buf *err)
{
	struct diags d = DIAGS_INIT;
	if (yaml_load(file, text, len, root, &d) < 0 || !*root) {
		if (d.nr)
			buf_addf(err, "%s:%d:%d: %s", d.v[0].file, d.v[0].line, d.v[0].col, d.v[0].msg);
		else
			buf_addf(err, "%s: empty document", file);
		diags_release(&d);
		return -1;
	}
	diags_release(&d);
	return 0;
}

int yedit_get(const char *file, const char *text, size_t len, const char *path, struct buf *out,
	      struct buf *err)
{
	struct ynode *root = NULL;
	if (load(file, text, len, &root, err) < 0)
		return -1;
	const struct ynode *n = find(file, root, path, err);
	if (n)
		buf_add(out, n->str, n->len);
	ynode_free(root);
	return n ? 0 : -1;
}

/* would value read back as the same string when written plain? */
static int plain_ok(const char *v)
{
	static const char *const special[] = { "null", "Null", "NULL", "~", "true", "True", "TRUE",
		"false", "False", "FALSE", "yes", "no", "on", "off", ".inf", ".nan" };
	if (!*v || strchr("-?:,[]{}#&*!|>'\"%@` .", v[0]))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(special); i++)
		if (!strcmp(v, special[i]))
			return 0;
	int numeric = 1;
	for (const char *p = v; *p; p++) {
		/* ':' inside (an image reference, host:port/x@sha256:...) is
		 * plain; only ": " or a final ':' would start a mapping */
		if (*p == ':' && !p[1])
			return 0;
		if (!isalnum((unsigned char)*p) && !strchr("._-/+:@", *p))
			return 0;
		numeric &= isdigit((unsigned char)*p) || strchr(".-+eE_xXoO:", *p) != NULL;
	}
	return !numeric;
}

int yedit_set(const char *file, const char *text, size_t len, const char *path, const char *value,
	      struct buf *out, struct buf *err)
{
	if (strpbrk(value, "\n\r")) {
		buf_addf(err, "%s: the new value of %s has a line break", file, path);
		return -1;
	}
	struct ynode *root = NULL;
	if (load(file, text, len, &root, err) < 0)
		return -1;
	const struct ynode *n = find(file, root, path, err);
	if (!n) {
		ynode_free(root);
		return -1;
	}
	size_t a = offset_of(text, len, n->line, n->col), b = offset_of(text, len, n->end_line, n->end_col);
	enum ynode_style style = n->style;
	ynode_free(root);
	buf_add(out, text, a);
	if (style == YSTYLE_SINGLE) {
		buf_addch(out, '\'');
		for (const char *p = value; *p; p++) {
			if (*p == '\'')
				buf_addch(out, '\'');
			buf_addch(out, *p);
		}
		buf_addch(out, '\'');
	} else if (style == YSTYLE_DOUBLE || !plain_ok(value)) {
		buf_addch(out, '"');
		for (const char *p = value; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addch(out, '\\');
			buf_addch(out, *p);
		}
		buf_addch(out, '"');
	} else
		buf_addstr(out, value);
	buf_add(out, text + b, len - b);
	return 0;
}
