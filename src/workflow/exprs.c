/*
 * exprs: locate every `${{ }}` in the workflow's scalars (and bare `if:`
 * conditions), record each in wf->exprs with its source position, and
 * check it in one place, wf__check_expr(), which knows the key path the
 * expression stands under (for context-availability checks).
 */
#include "workflow/wf-int.h"

#include <ctype.h>
#include <strings.h>

/* GitHub refuses longer expressions ("Exceeded max expression length") */
#define EXPR_MAX_LEN 21000

/* [s, s+len) without surrounding blanks */
static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

/* byte offset in the source of (line, col), col counted in characters;
 * continues from the last position looked up when it is on the same line */
static size_t src_offset(const struct wf__ld *ld, int line, int col)
{
	const struct wf__cursor *c = &ld->cur;
	if (line < 1 || (size_t)line > ld->nlines)
		return ld->len;
	size_t off = ld->lines[line - 1];
	int at = 1;
	if (c->have_at && c->line == (size_t)line - 1 && c->col <= (size_t)col) {
		off = c->at;
		at = (int)c->col;
	}
	for (; at < col && off < ld->len && ld->data[off] != '\n'; at++) {
		off++;
		while (off < ld->len && ((unsigned char)ld->data[off] & 0xC0) == 0x80)
			off++;
	}
	return off;
}

static void offset_pos(struct wf__ld *ld, size_t off, int *line, int *col)
{
	struct wf__cursor *c = &ld->cur;
	size_t lo, from, chars;
	if (c->have_at && off >= c->at && c->line + 1 <= ld->nlines &&
	    (c->line + 1 == ld->nlines || ld->lines[c->line + 1] > off)) {
		/* same line as last time, further right: count from there */
		lo = c->line;
		from = c->at;
		chars = c->col - 1;
	} else {
		size_t hi = ld->nlines;
		lo = 0;
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;
			if (ld->lines[mid] <= off)
				lo = mid;
			else
				hi = mid;
		}
		from = ld->lines[lo];
		chars = 0;
	}
	chars += utf8_chars(ld->data + from, off - from);
	c->have_at = 1;
	c->at = off;
	c->line = lo;
	c->col = chars + 1;
	*line = (int)lo + 1;
	*col = (int)chars + 1;
}

static int hexval(const char *p, size_t n, unsigned long *cp)
{
	*cp = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return -1;
		*cp = *cp * 16 + (unsigned long)(isdigit((unsigned char)p[i])
					      ? p[i] - '0' : tolower((unsigned char)p[i]) - 'a' + 10);
	}
	return 0;
}

/*
 * A double-quoted scalar's escape at p ('\\' first, at most n bytes): its
 * decoded length in bytes (0 for an escaped line break) and its length in
 * the source. -1 when it is not a valid escape.
 */
static int dq_escape(const char *p, size_t n, size_t *dec, size_t *raw)
{
	if (n < 2)
		return -1;
	size_t hex = 0;
	*raw = 2;
	switch (p[1]) {
	case '0': case 'a': case 'b': case 't': case '\t': case 'n': case 'v': case 'f':
	case 'r': case 'e': case ' ': case '"': case '/': case '\\':
		*dec = 1;
		return 0;
	case 'N': case '_':
		*dec = 2;
		return 0;
	case 'L': case 'P':
		*dec = 3;
		return 0;
	case '\n': /* escaped line break: joins lines, drops the indentation */
		while (*raw < n && (p[*raw] == ' ' || p[*raw] == '\t'))
			(*raw)++;
		*dec = 0;
		return 0;
	case 'x': hex = 2; break;
	case 'u': hex = 4; break;
	case 'U': hex = 8; break;
	default: return -1;
	}
	unsigned long cp;
	if (n < 2 + hex || hexval(p + 2, hex, &cp) < 0)
		return -1;
	*raw = 2 + hex;
	*dec = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	return 0;
}

void wf__scalar_pos(struct wf__ld *ld, const struct ynode *n, size_t off, int *line, int *col)
{
	struct wf__cursor *c = &ld->cur;
	*line = n->line;
	*col = n->col;
	if (!ld->data || off > n->len)
		return;
	if (c->node != n || c->i > off) {
		size_t r = src_offset(ld, n->line, n->col);
		size_t end = src_offset(ld, n->end_line, n->end_col);
		if (end > ld->len || end < r)
			end = ld->len;
		switch (n->style) {
		case YSTYLE_SINGLE:
		case YSTYLE_DOUBLE:
			r++; /* the opening quote */
			break;
		case YSTYLE_LITERAL:
		case YSTYLE_FOLDED:
			while (r < end && ld->data[r] != '\n') /* the header line: | or > */
				r++;
			break;
		default:
			break;
		}
		c->node = n;
		c->i = 0;
		c->r = r;
		c->end = end;
	}
	/* walk the decoded text and the source together: source bytes that do
	 * not match (indentation, quotes, folded breaks) are skipped; escapes
	 * of double-quoted scalars stand for their decoded bytes */
	const char *s = n->str;
	size_t i = c->i, r = c->r, end = c->end;
	while (i < off && i < n->len && r < end) {
		size_t dec, raw;
		if (n->style == YSTYLE_DOUBLE && ld->data[r] == '\\' &&
		    dq_escape(ld->data + r, end - r, &dec, &raw) == 0) {
			if (dec && i + dec > off)
				break; /* the offset is inside this escape */
			i += dec;
			r += raw;
			continue;
		}
		if (ld->data[r] == s[i])
			i++;
		r++;
	}
	c->i = i;
	c->r = r;
	/* land on the source byte of decoded byte `off` */
	if (off < n->len && !(n->style == YSTYLE_DOUBLE && r < end && ld->data[r] == '\\')) {
		size_t r0 = r;
		while (r < end && ld->data[r] != s[off])
			r++;
		if (r >= end)
			r = r0;
	}
	if (r > end)
		r = end;
	offset_pos(ld, r, line, col);
}

/* where to report a problem at byte `off` of scalar n */
static void report_pos(struct wf__ld *ld, const struct ynode *n, size_t off, int *line,
		       int *col)
{
	if (ld->flags & WF_LOAD_GITHUB_POS) {
		*line = n->line;
		*col = n->col;
		return;
	}
	wf__scalar_pos(ld, n, off, line, col);
}

static void err_at(struct wf__ld *ld, const struct ynode *n, size_t off, const char *fmt,
		   const char *arg)
{
	int line, col;
	report_pos(ld, n, off, &line, &col);
	diag_add(ld->d, DIAG_ERROR, ld->file, line, col, fmt, arg);
}

static struct wf_expr *record(struct wf__ld *ld, const struct ynode *n, size_t off, size_t len,
			      const char *path)
{
	struct workflow *wf = ld->wf;
	ALLOC_GROW(wf->exprs, wf->nexprs + 1, wf->alloc_exprs);
	struct wf_expr *x = &wf->exprs[wf->nexprs++];
	memset(x, 0, sizeof(*x));
	x->node = n;
	x->off = off;
	x->len = len;
	x->path = path;
	wf__scalar_pos(ld, n, off, &x->line, &x->col);
	return x;
}

/* why a name or function that parses elsewhere is refused under `path` */
static void avail_hint(struct buf *msg, const char *path, const struct expr_avail *a)
{
	struct buf names = BUF_INIT;
	expr_avail_names(a->ctx, &names);
	buf_addf(msg, " (in '%s' only these contexts are available: %s", path, names.buf);
	buf_release(&names);
	if (a->funcs & EXPR_FN_STATUS)
		buf_addstr(msg, "; and success(), failure(), cancelled(), always()");
	if (a->funcs & EXPR_FN_HASHFILES)
		buf_addstr(msg, "; and hashFiles()");
	buf_addch(msg, ')');
}

/*
 * Parse with the contexts and functions GitHub allows under the key
 * (src/expr/avail.c); report a syntax error or an unavailable context at
 * its column inside the expression.
 */
void wf__check_expr(struct wf__ld *ld, const struct wf_expr *x)
{
	const char *src = x->node->str + x->off;
	if (x->len > EXPR_MAX_LEN) {
		err_at(ld, x->node, x->off, "expression is longer than %s characters", "21000");
		return;
	}
	struct expr_avail a;
	struct expr_parse_opts o;
	int restricted = x->path && !expr_avail_under(x->path, &a);
	if (restricted)
		expr_avail_opts(&a, &o);
	struct buf msg = BUF_INIT;
	size_t off = 0;
	struct expr *e = expr_parse_opts(src, x->len, restricted ? &o : NULL, &msg, &off);
	if (!e) {
		if (restricted) {
			/* fine with every context and function: an availability problem */
			struct buf err2 = BUF_INIT;
			size_t off2 = 0;
			struct expr *e2 = expr_parse(src, x->len, &err2, &off2);
			if (e2 || off2 != off)
				avail_hint(&msg, x->path, &a);
			expr_free(e2);
			buf_release(&err2);
		}
		int line, col;
		report_pos(ld, x->node, x->off + (off > x->len ? x->len : off), &line, &col);
		diag_add(ld->d, DIAG_ERROR, ld->file, line, col, "%s", msg.buf);
	} else if (expr_check_constants(e, &msg, &off) < 0) {
		int line, col;
		report_pos(ld, x->node, x->off + (off > x->len ? x->len : off), &line, &col);
		diag_add(ld->d, DIAG_ERROR, ld->file, line, col, "%s", msg.buf);
	}
	expr_free(e);
	buf_release(&msg);
}

static int blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

/* `${{ insert }}`: GitHub's directive, meaningful only as a whole mapping key */
static int is_directive(const char *s, size_t len)
{
	trim(&s, &len);
	return len == 6 && !memcmp(s, "insert", 6);
}

int wf__is_insert(const struct ynode *k)
{
	if (!k || k->kind != YNODE_SCALAR || !k->str)
		return 0;
	const char *t = k->str;
	size_t tl = k->len;
	trim(&t, &tl);
	long end;
	return expr_find(t, tl, 0, &end) == 0 && end == (long)tl && is_directive(t + 3, tl - 5);
}

static void scan_scalar(struct wf__ld *ld, const struct ynode *n, const char *path, int allowed)
{
	size_t from = 0;
	/* GitHub turns a value with expressions into one format() expression,
	 * which has the same length limit */
	if (allowed && n->len > EXPR_MAX_LEN && wf__has_expr(n)) {
		err_at(ld, n, 0, "a value with expressions must be shorter than %s characters",
		       "21000");
		return;
	}
	for (;;) {
		long end;
		long at = expr_find(n->str, n->len, from, &end);
		if (at < 0)
			return;
		if (!allowed) {
			/* jobs.<job_id>.steps.shell says 'shell'; top-level paths stay whole */
			const char *key = str_starts_with(path, "jobs.") ? strrchr(path, '.') : NULL;
			err_at(ld, n, (size_t)at, "expressions are not allowed in '%s'",
			       key ? key + 1 : path);
			return;
		}
		if (end < 0) {
			err_at(ld, n, (size_t)at, "'${{' is not closed by '}}'%s", "");
			return;
		}
		size_t off = (size_t)at + 3, len = (size_t)end - 2 - off;
		if (blank(n->str + off, len)) {
			err_at(ld, n, (size_t)at, "empty expression '${{ }}'%s", "");
		} else if (is_directive(n->str + off, len)) {
			err_at(ld, n, (size_t)at, "the 'insert' directive is only allowed as a whole "
						  "mapping key%s", "");
		} else {
			struct wf_expr *x = record(ld, n, off, len, path);
			wf__check_expr(ld, x);
		}
		from = (size_t)end;
	}
}

void wf__scan_exprs(struct wf__ld *ld, const struct ynode *n, const char *path, int allowed)
{
	if (!n)
		return;
	switch (n->kind) {
	case YNODE_SCALAR:
		scan_scalar(ld, n, path, allowed);
		return;
	case YNODE_SEQ:
		for (size_t i = 0; i < n->nr; i++)
			wf__scan_exprs(ld, n->items[i], path, allowed);
		return;
	case YNODE_MAP:
		for (size_t i = 0; i < ynode_map_size(n); i++) {
			const struct ynode *k = ynode_map_key(n, i);
			/* GitHub's reader: a key may be an expression (or the whole
			 * `${{ insert }}` directive) in a mapping whose definition has
			 * contexts, evaluated with the same contexts as its values */
			if (wf__has_expr(k) && !allowed)
				; /* wf__check_keys says so where the keys are known */
			else if (wf__has_expr(k) && !wf__is_insert(k))
				scan_scalar(ld, k, path, 1);
			wf__scan_exprs(ld, ynode_map_val(n, i), path, allowed);
		}
		return;
	}
}

void wf__scan_if(struct wf__ld *ld, const struct ynode *n, const char *path)
{
	if (!n || n->kind != YNODE_SCALAR || wf__scalar_type(n) == WT_NULL)
		return;
	if (wf__has_expr(n)) {
		scan_scalar(ld, n, path, 1);
		return;
	}
	size_t off = 0, len = n->len;
	while (off < len && isspace((unsigned char)n->str[off]))
		off++;
	while (len > off && isspace((unsigned char)n->str[len - 1]))
		len--;
	if (len == off)
		return;
	struct wf_expr *x = record(ld, n, off, len - off, path);
	x->bare_if = 1;
	wf__check_expr(ld, x);
}

/* does the expression call success(), failure(), cancelled() or always()? */
static int uses_status(const char *s, size_t len)
{
	static const char *const fns[] = { "success", "failure", "cancelled", "always" };
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\'') {
			for (i++; i < len && s[i] != '\''; i++)
				;
			continue;
		}
		if (!isalpha((unsigned char)s[i]) || (i && (isalnum((unsigned char)s[i - 1]) ||
						   s[i - 1] == '.' || s[i - 1] == '_')))
			continue;
		size_t j = i;
		while (j < len && (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '-'))
			j++;
		size_t k = j;
		while (k < len && isspace((unsigned char)s[k]))
			k++;
		for (size_t f = 0; f < ARRAY_SIZE(fns) && k < len && s[k] == '('; f++)
			if (j - i == strlen(fns[f]) && !strncasecmp(s + i, fns[f], j - i))
				return 1;
		i = j - 1;
	}
	return 0;
}

/* GitHub's template -> expression: "a ${{ x }} b" is format('a {0} b', x) */
static void template_expr(const char *s, size_t len, struct buf *out)
{
	struct buf fmt = BUF_INIT, args = BUF_INIT;
	size_t from = 0;
	int nargs = 0;
	for (;;) {
		long end;
		long at = expr_find(s, len, from, &end);
		size_t lit_end = at < 0 || end < 0 ? len : (size_t)at;
		for (size_t i = from; i < lit_end; i++) {
			if (s[i] == '\'')
				buf_addstr(&fmt, "''");
			else if (s[i] == '{')
				buf_addstr(&fmt, "{{");
			else if (s[i] == '}')
				buf_addstr(&fmt, "}}");
			else
				buf_addch(&fmt, s[i]);
		}
		if (at < 0 || end < 0)
			break;
		const char *e = s + at + 3;
		size_t el = (size_t)end - 2 - ((size_t)at + 3);
		while (el && isspace((unsigned char)*e)) {
			e++;
			el--;
		}
		while (el && isspace((unsigned char)e[el - 1]))
			el--;
		buf_addf(&fmt, "{%d}", nargs++);
		buf_addstr(&args, ", ");
		buf_add(&args, e, el);
		from = (size_t)end;
	}
	buf_addstr(out, "format('");
	buf_add(out, fmt.buf, fmt.len);
	buf_addch(out, '\'');
	buf_add(out, args.buf, args.len);
	buf_addch(out, ')');
	buf_release(&fmt);
	buf_release(&args);
}

char *wf__template_expr(const char *s)
{
	struct buf b = BUF_INIT;
	const char *t = s;
	size_t len = strlen(s), tl = len;
	trim(&t, &tl);
	long end;
	long at = expr_find(t, tl, 0, &end);
	if (at == 0 && end == (long)tl) {
		/* exactly one expression: its text, trimmed */
		const char *e = t + 3;
		size_t el = tl - 5;
		trim(&e, &el);
		buf_add(&b, e, el);
	} else {
		template_expr(s, len, &b);
	}
	return buf_detach(&b, NULL);
}

char *wf__if_expr(const char *cond)
{
	struct buf b = BUF_INIT;
	char *e;
	if (!cond || blank(cond, strlen(cond)))
		return xstrdup("success()");
	if (strstr(cond, "${{")) {
		e = wf__template_expr(cond);
	} else {
		size_t off = 0, len = strlen(cond);
		while (isspace((unsigned char)cond[off]))
			off++;
		while (len > off && isspace((unsigned char)cond[len - 1]))
			len--;
		e = xstrndup(cond + off, len - off);
	}
	if (uses_status(e, strlen(e))) {
		buf_addstr(&b, e);
	} else {
		buf_addstr(&b, "success() && (");
		buf_addstr(&b, e);
		buf_addch(&b, ')');
	}
	free(e);
	return buf_detach(&b, NULL);
}
