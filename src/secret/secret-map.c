/*
 * secret-map: the name -> value map of one run, name checks, and the
 * `-s NAME=VALUE` / dotenv `--secret-file` parsers.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "secret/secret.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <strings.h>

static char *upper_dup(const char *s, size_t n)
{
	char *u = xstrndup(s, n);
	for (char *p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

static void wipe_free(char *p, size_t n)
{
	if (!p)
		return;
	sodium_memzero(p, n);
	free(p);
}

void secret_map_set(struct secret_map *m, const char *name, const char *value, size_t len)
{
	char *v = xmalloc(len + 1);
	memcpy(v, value, len);
	v[len] = '\0';
	for (size_t i = 0; i < m->nr; i++) {
		if (!strcasecmp(m->v[i].name, name)) {
			wipe_free(m->v[i].value, m->v[i].len);
			m->v[i].value = v;
			m->v[i].len = len;
			return;
		}
	}
	ALLOC_GROW(m->v, m->nr + 1, m->alloc);
	m->v[m->nr].name = upper_dup(name, strlen(name));
	m->v[m->nr].value = v;
	m->v[m->nr].len = len;
	m->nr++;
}

const struct secret_kv *secret_map_get(const struct secret_map *m, const char *name)
{
	for (size_t i = 0; i < m->nr; i++)
		if (!strcasecmp(m->v[i].name, name))
			return &m->v[i];
	return NULL;
}

void secret_map_release(struct secret_map *m)
{
	for (size_t i = 0; i < m->nr; i++) {
		free(m->v[i].name);
		wipe_free(m->v[i].value, m->v[i].len);
	}
	free(m->v);
	m->v = NULL;
	m->nr = m->alloc = 0;
}

int secret_check_name(const char *name, struct buf *err)
{
	size_t n = strlen(name);
	if (!n) {
		buf_addstr(err, "secret name is empty");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!(isalpha(c) || c == '_' || (i && isdigit(c)))) {
			buf_addf(err, "invalid secret name '%s': use letters, digits and '_', not starting with a digit",
				 name);
			return -1;
		}
	}
	/* GITHUB_TOKEN is the one GITHUB_ secret: GitHub provides it, and kiln
	 * uses it for private actions (as act's -s GITHUB_TOKEN) */
	if (n > 255 || (!strncasecmp(name, "GITHUB_", 7) && strcasecmp(name, "GITHUB_TOKEN"))) {
		buf_addf(err, "invalid secret name '%s': %s", name,
			 n > 255 ? "longer than 255 characters" : "names must not start with GITHUB_");
		return -1;
	}
	return 0;
}

int secret_check_env(const char *env, struct buf *err)
{
	size_t n = strlen(env);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)env[i];
		if (!(isalnum(c) || c == '_' || c == '-' || c == '.')) {
			buf_addf(err, "invalid environment name '%s': use letters, digits, '_', '-' and '.'", env);
			return -1;
		}
	}
	if (n > 255) {
		buf_addf(err, "invalid environment name '%.40s...': longer than 255 characters", env);
		return -1;
	}
	return 0;
}

int secret_parse_assign(const char *arg, struct secret_map *m, struct buf *err)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg) {
		/* never echo arg: it may be the value itself */
		buf_addstr(err, "expected NAME=VALUE (the argument is not shown, it may be a secret)");
		return -1;
	}
	char *name = xstrndup(arg, (size_t)(eq - arg));
	int r = secret_check_name(name, err);
	if (!r)
		secret_map_set(m, name, eq + 1, strlen(eq + 1));
	free(name);
	return r;
}

struct dotenv {
	const char *path, *p, *end;
	int line;
	const char *bol; /* start of the current line, for columns */
	struct buf *err;
};

static int dotenv_err(struct dotenv *d, const char *at, const char *msg)
{
	buf_addf(d->err, "%s:%d:%d: error: %s", d->path, d->line, (int)(at - d->bol) + 1, msg);
	return -1;
}

static void skip_blank(struct dotenv *d)
{
	while (d->p < d->end && (*d->p == ' ' || *d->p == '\t'))
		d->p++;
}

/* "double quoted": escapes, may span lines */
static int read_double(struct dotenv *d, struct buf *v)
{
	const char *open = d->p++, *open_bol = d->bol;
	int open_line = d->line;
	while (d->p < d->end && *d->p != '"') {
		char c = *d->p++;
		if (c == '\n') {
			d->line++;
			d->bol = d->p;
		}
		if (c == '\\' && d->p < d->end) {
			char e = *d->p++;
			c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
			if (e != 'n' && e != 't' && e != 'r' && e != '"' && e != '\\' && e != '$') {
				buf_addch(v, '\\');
				c = e;
			}
		}
		buf_addch(v, c);
	}
	if (d->p >= d->end) {
		d->line = open_line;
		d->bol = open_bol;
		return dotenv_err(d, open, "unterminated double-quoted value");
	}
	d->p++;
	return 0;
}

static int read_single(struct dotenv *d, struct buf *v)
{
	const char *open = d->p++;
	const char *q = memchr(d->p, '\'', (size_t)(d->end - d->p));
	const char *nl = memchr(d->p, '\n', (size_t)(d->end - d->p));
	if (!q || (nl && nl < q))
		return dotenv_err(d, open, "unterminated single-quoted value");
	buf_add(v, d->p, (size_t)(q - d->p));
	d->p = q + 1;
	return 0;
}

static void read_bare(struct dotenv *d, struct buf *v)
{
	const char *s = d->p;
	while (d->p < d->end && *d->p != '\n') {
		if (*d->p == '#' && d->p > s && (d->p[-1] == ' ' || d->p[-1] == '\t'))
			break;
		d->p++;
	}
	const char *e = d->p;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	buf_add(v, s, (size_t)(e - s));
	while (d->p < d->end && *d->p != '\n')
		d->p++;
}

static int dotenv_line(struct dotenv *d, struct secret_map *m)
{
	skip_blank(d);
	if (d->p >= d->end || *d->p == '\n' || *d->p == '#' || *d->p == '\r') {
		while (d->p < d->end && *d->p != '\n')
			d->p++;
		return 0;
	}
	if ((size_t)(d->end - d->p) > 7 && !memcmp(d->p, "export ", 7)) {
		d->p += 7;
		skip_blank(d);
	}
	const char *ns = d->p;
	while (d->p < d->end && (isalnum((unsigned char)*d->p) || *d->p == '_'))
		d->p++;
	const char *ne = d->p;
	skip_blank(d);
	if (ne == ns || d->p >= d->end || *d->p != '=')
		return dotenv_err(d, ne == ns ? ns : d->p, "expected NAME=VALUE");
	char *name = xstrndup(ns, (size_t)(ne - ns));
	struct buf msg = BUF_INIT;
	if (secret_check_name(name, &msg) < 0) {
		int r = dotenv_err(d, ns, msg.buf);
		buf_release(&msg);
		free(name);
		return r;
	}
	d->p++;
	skip_blank(d);
	struct buf v = BUF_INIT;
	int r = 0;
	if (d->p < d->end && *d->p == '"')
		r = read_double(d, &v);
	else if (d->p < d->end && *d->p == '\'')
		r = read_single(d, &v);
	else
		read_bare(d, &v);
	if (!r) {
		skip_blank(d);
		if (d->p < d->end && *d->p != '\n' && *d->p != '#' && *d->p != '\r')
			r = dotenv_err(d, d->p, "unexpected text after the closing quote");
	}
	if (!r)
		secret_map_set(m, name, v.buf, v.len);
	while (d->p < d->end && *d->p != '\n')
		d->p++;
	if (v.alloc)
		sodium_memzero(v.buf, v.alloc);
	buf_release(&v);
	buf_release(&msg);
	free(name);
	return r;
}

int secret_parse_dotenv(const char *path, const char *text, size_t len, struct secret_map *m,
			struct buf *err)
{
	struct dotenv d = { path, text, text + len, 1, text, err };
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		/* a secret must reach steps as a C string (environment, arguments) */
		for (const char *p = text; p < nul; p++)
			if (*p == '\n') {
				d.line++;
				d.bol = p + 1;
			}
		return dotenv_err(&d, nul, "a NUL byte: secrets cannot contain NUL");
	}
	while (d.p < d.end) {
		if (dotenv_line(&d, m) < 0)
			return -1;
		if (d.p < d.end) {
			d.p++; /* the newline */
			d.line++;
			d.bol = d.p;
		}
	}
	return 0;
}

int secret_load_dotenv(const char *path, struct secret_map *m, struct buf *err)
{
	struct buf b = BUF_INIT, why = BUF_INIT;
	int r = fs_read_input(path, FS_INPUT_MAX, &b, &why);
	if (r < 0) {
		buf_addf(err, "cannot read secret file '%s': %s", path, why.buf);
		buf_release(&why);
		buf_release(&b);
		return -1;
	}
	r = secret_parse_dotenv(path, b.buf, b.len, m, err);
	if (b.alloc)
		sodium_memzero(b.buf, b.alloc);
	buf_release(&b);
	return r;
}
