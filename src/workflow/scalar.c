/*
 * scalar: how the loader reads YAML scalars (the YAML 1.2 core schema, as
 * GitHub's reader does: `yes`/`on` are strings, `0o10` is 8, `12_345` is a
 * string) and the generic checks driven by key tables: unknown keys with a
 * hint, duplicates, value kinds.
 */
#include "workflow/wf-int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>

#define TAG_PREFIX "tag:yaml.org,2002:"

static int is_null_text(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

static int is_bool_text(const char *s)
{
	return !strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") ||
	       !strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE");
}

/* core schema int: [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+ */
static int int_value(const char *s, double *out)
{
	const char *p = s;
	int neg = 0, base = 10;
	if (!strncmp(p, "0o", 2)) {
		base = 8;
		p += 2;
	} else if (!strncmp(p, "0x", 2)) {
		base = 16;
		p += 2;
	} else if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	if (!*p)
		return -1;
	double v = 0;
	for (; *p; p++) {
		int dgt;
		if (isdigit((unsigned char)*p))
			dgt = *p - '0';
		else if (base == 16 && isxdigit((unsigned char)*p))
			dgt = tolower((unsigned char)*p) - 'a' + 10;
		else
			return -1;
		if (dgt >= base)
			return -1;
		v = v * base + dgt;
	}
	*out = neg ? -v : v;
	return 0;
}

/* core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? | [-+]?\.inf | \.nan */
static int float_value(const char *s, double *out)
{
	const char *p = s;
	int neg = 0;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
		*out = neg ? -INFINITY : INFINITY;
		return 0;
	}
	if (p == s && (!strcmp(p, ".nan") || !strcmp(p, ".NaN") || !strcmp(p, ".NAN"))) {
		*out = NAN;
		return 0;
	}
	const char *q = p;
	size_t digits = 0;
	while (isdigit((unsigned char)*q)) {
		q++;
		digits++;
	}
	if (*q == '.') {
		q++;
		while (isdigit((unsigned char)*q)) {
			q++;
			digits++;
		}
	}
	if (!digits)
		return -1;
	if (*q == 'e' || *q == 'E') {
		q++;
		if (*q == '-' || *q == '+')
			q++;
		if (!isdigit((unsigned char)*q))
			return -1;
		while (isdigit((unsigned char)*q))
			q++;
	}
	if (*q)
		return -1;
	errno = 0;
	*out = strtod(s, NULL);
	return 0;
}

static const char *core_tag(const struct ynode *n)
{
	if (!n->tag || strncmp(n->tag, TAG_PREFIX, strlen(TAG_PREFIX)))
		return NULL;
	return n->tag + strlen(TAG_PREFIX);
}

enum wf__stype wf__scalar_type(const struct ynode *n)
{
	if (!n)
		return WT_NULL;
	const char *t = core_tag(n);
	if (t) {
		if (!strcmp(t, "null"))
			return WT_NULL;
		if (!strcmp(t, "bool"))
			return WT_BOOL;
		if (!strcmp(t, "int") || !strcmp(t, "float"))
			return WT_NUMBER;
		return WT_STRING;
	}
	if (n->kind != YNODE_SCALAR || n->style != YSTYLE_PLAIN || n->tag)
		return WT_STRING;
	double d;
	if (is_null_text(n->str))
		return WT_NULL;
	if (is_bool_text(n->str))
		return WT_BOOL;
	if (!int_value(n->str, &d) || !float_value(n->str, &d))
		return WT_NUMBER;
	return WT_STRING;
}

int wf__scalar_number(const struct ynode *n, double *out)
{
	if (wf__scalar_type(n) != WT_NUMBER)
		return -1;
	if (!int_value(n->str, out) || !float_value(n->str, out))
		return 0;
	return -1;
}

int wf__has_expr(const struct ynode *n)
{
	return n && n->kind == YNODE_SCALAR && strstr(n->str, "${{") != NULL;
}

int wf__is_whole_expr(const struct ynode *n)
{
	if (!wf__has_expr(n))
		return 0;
	const char *s = n->str;
	size_t len = n->len;
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	long end;
	long at = expr_find(s, len, 0, &end);
	return at == 0 && end == (long)len;
}

const char *wf__kind_desc(const struct ynode *n)
{
	if (!n)
		return "empty";
	switch (n->kind) {
	case YNODE_SEQ: return "a sequence";
	case YNODE_MAP: return "a mapping";
	case YNODE_SCALAR: break;
	}
	switch (wf__scalar_type(n)) {
	case WT_NULL: return "empty";
	case WT_BOOL: return "a boolean";
	case WT_NUMBER: return "a number";
	case WT_STRING: break;
	}
	return "a string";
}

static const char *kinds_desc(unsigned kinds, struct buf *b)
{
	static const struct { unsigned k; const char *name; } names[] = {
		{ K_MAP, "a mapping" }, { K_SEQ, "a sequence" }, { K_STR, "a string" },
		{ K_NUM, "a number" },  { K_BOOL, "a boolean" },
	};
	size_t n = 0, total = 0;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		total += !!(kinds & names[i].k);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(kinds & names[i].k))
			continue;
		if (n)
			buf_addstr(b, n + 1 == total ? " or " : ", ");
		buf_addstr(b, names[i].name);
		n++;
	}
	if (kinds & K_EXPR)
		buf_addstr(b, total ? " or an expression" : "an expression");
	return b->buf;
}

int wf__err(struct wf__ld *ld, const struct ynode *n, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	diag_add(ld->d, DIAG_ERROR, ld->file, n ? n->line : 1, n ? n->col : 1, "%s", b.buf);
	buf_release(&b);
	return -1;
}

int wf__check_kind(struct wf__ld *ld, const struct ynode *v, unsigned kinds, const char *key)
{
	if (!v)
		return 0; /* absent values are reported elsewhere */
	if ((v->kind == YNODE_MAP && !(kinds & K_MAP)) || (v->kind == YNODE_SEQ && !(kinds & K_SEQ))) {
		struct buf b = BUF_INIT;
		wf__err(ld, v, "'%s' must be %s, not %s", key, kinds_desc(kinds & ~K_NULL, &b),
			wf__kind_desc(v));
		buf_release(&b);
		return -1;
	}
	if (v->kind != YNODE_SCALAR)
		return 0;
	if ((kinds & K_EXPR) && wf__is_whole_expr(v))
		return 0;
	enum wf__stype t = wf__scalar_type(v);
	unsigned ok;
	switch (t) {
	case WT_NULL: ok = kinds & (K_NULL | K_STR); break;
	case WT_BOOL: ok = kinds & (K_BOOL | K_STR); break;
	case WT_NUMBER: ok = kinds & (K_NUM | K_STR); break;
	default: ok = kinds & K_STR; break;
	}
	if (ok)
		return 0;
	struct buf b = BUF_INIT;
	if (t == WT_NULL)
		wf__err(ld, v, "'%s' must not be empty", key);
	else
		wf__err(ld, v, "'%s' must be %s, not '%s'", key, kinds_desc(kinds & ~K_NULL, &b),
			v->str);
	buf_release(&b);
	return -1;
}

const struct ynode *wf__get(const struct ynode *map, const char *key)
{
	return ynode_get(map, key);
}

/* keys of the other levels, for a "belongs in" hint on a misplaced key */
static const struct { const char *key, *where; } belongs[] = {
	{ "runs-on", "a job" }, { "steps", "a job" }, { "needs", "a job" },
	{ "strategy", "a job" }, { "services", "a job" }, { "container", "a job" },
	{ "outputs", "a job" }, { "environment", "a job" },
	{ "run", "a step" }, { "uses", "a step or a job" }, { "with", "a step" },
	{ "shell", "a step or defaults.run" }, { "working-directory", "a step or defaults.run" },
	{ "jobs", "the top level of the workflow" }, { "on", "the top level of the workflow" },
	{ "matrix", "strategy" }, { "fail-fast", "strategy" }, { "max-parallel", "strategy" },
};

static void unknown_key(struct wf__ld *ld, const struct ynode *k, const struct wf__key *keys,
			size_t nkeys, const char *what)
{
	const char *names[64];
	size_t n = nkeys < ARRAY_SIZE(names) ? nkeys : ARRAY_SIZE(names);
	for (size_t i = 0; i < n; i++)
		names[i] = keys[i].name;
	const char *hint = did_you_mean(k->str, names, n);
	if (hint) {
		wf__err(ld, k, "unknown key '%s' in %s (did you mean '%s'?)", k->str, what, hint);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(belongs); i++)
		if (!strcmp(belongs[i].key, k->str)) {
			wf__err(ld, k, "key '%s' is not allowed in %s (it belongs in %s)", k->str,
				what, belongs[i].where);
			return;
		}
	wf__err(ld, k, "unknown key '%s' in %s", k->str, what);
}

static int check_keys(struct wf__ld *ld, const struct ynode *map, const struct wf__key *keys,
		      size_t nkeys, const char *what, int key_exprs)
{
	size_t before = ld->d->errors;
	/* known keys seen so far, for duplicates (unknown ones are errors anyway);
	 * linear in the mapping's size, whatever a hostile file holds */
	char *seen = xcalloc(nkeys ? nkeys : 1, 1);
	for (size_t i = 0; i < ynode_map_size(map); i++) {
		const struct ynode *k = ynode_map_key(map, i);
		if (k->kind != YNODE_SCALAR) {
			wf__err(ld, k, "a key in %s must be a string, not %s", what,
				wf__kind_desc(k));
			continue;
		}
		if (!*k->str || wf__scalar_type(k) == WT_NULL) {
			wf__err(ld, k, "empty key in %s", what);
			continue;
		}
		if (wf__has_expr(k)) {
			/* GitHub's reader: an expression key (or `${{ insert }}`) only
			 * in a mapping with contexts; its value is checked at run time */
			if (!key_exprs)
				wf__err(ld, k, "expressions are not allowed in keys (in %s)", what);
			continue;
		}
		const struct wf__key *spec = NULL;
		for (size_t j = 0; j < nkeys && !spec; j++)
			if (!strcmp(keys[j].name, k->str))
				spec = &keys[j];
		if (!spec) {
			unknown_key(ld, k, keys, nkeys, what);
			continue;
		}
		if (seen[spec - keys]++) {
			wf__err(ld, k, "key '%s' is defined twice in %s", k->str, what);
			continue;
		}
		wf__check_kind(ld, ynode_map_val(map, i), spec->kinds, k->str);
	}
	free(seen);
	return (int)(ld->d->errors - before);
}

int wf__check_keys(struct wf__ld *ld, const struct ynode *map, const struct wf__key *keys,
		   size_t nkeys, const char *what)
{
	return check_keys(ld, map, keys, nkeys, what, 0);
}

int wf__check_keys_ctx(struct wf__ld *ld, const struct ynode *map, const struct wf__key *keys,
		       size_t nkeys, const char *what)
{
	return check_keys(ld, map, keys, nkeys, what, 1);
}

void wf__str_set(struct wf_str *dst, const struct ynode *n)
{
	free(dst->s);
	dst->s = NULL;
	dst->line = dst->col = 0;
	if (!n || n->kind != YNODE_SCALAR || wf__scalar_type(n) == WT_NULL)
		return;
	dst->s = xstrdup(n->str);
	dst->line = n->line;
	dst->col = n->col;
}

const char *wf__id_problem(const char *id)
{
	if (!*id)
		return "an id must not be empty";
	if (!strncmp(id, "__", 2))
		return "ids starting with '__' are reserved";
	if (!isalpha((unsigned char)id[0]) && id[0] != '_')
		return "an id must start with a letter or '_'";
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return "an id may only contain letters, digits, '_' and '-'";
	if (strlen(id) >= 100)
		return "an id must be shorter than 100 characters";
	return NULL;
}

void wf__check_string_map(struct wf__ld *ld, const struct ynode *m, const char *what)
{
	if (!m || m->kind != YNODE_MAP)
		return;
	for (size_t i = 0; i < ynode_map_size(m); i++) {
		const struct ynode *k = ynode_map_key(m, i), *v = ynode_map_val(m, i);
		if (k->kind != YNODE_SCALAR || !*k->str) {
			wf__err(ld, k, "a key in '%s' must be a non-empty string", what);
			continue;
		}
		if (wf__is_insert(k)) {
			/* `${{ insert }}`: a mapping merged in, or an expression giving one */
			if (v->kind == YNODE_MAP)
				wf__check_string_map(ld, v, what);
			else if (v->kind == YNODE_SEQ || !wf__has_expr(v))
				wf__err(ld, v, "the value of '${{ insert }}' in '%s' must be a mapping "
					"or an expression giving one, not %s", what, wf__kind_desc(v));
			continue;
		}
		if (v->kind == YNODE_MAP || v->kind == YNODE_SEQ)
			wf__err(ld, v, "'%s.%s' must be a string, not %s", what, k->str,
				wf__kind_desc(v));
	}
}

void wf__check_min(struct wf__ld *ld, const struct ynode *n, const char *key, double min,
		   int inclusive)
{
	double d;
	if (!n || wf__has_expr(n) || wf__scalar_number(n, &d) < 0)
		return; /* absent, an expression, or already reported as not a number */
	if (inclusive ? !(d >= min) : !(d > min))
		wf__err(ld, n, "%s must be %s %g, not %s", key,
			inclusive ? "a number of at least" : "a number greater than", min, n->str);
}
