/*
 * hashfiles: hashFiles(patterns...) as the GitHub runner computes it: the
 * SHA-256 of the concatenated SHA-256 digests of every regular file under
 * the workspace that matches (globs with `*`, `?`, `[...]`, `**`, and `!`
 * exclusions, later patterns winning; dot files match), in the order the
 * runner's globber finds them (each include pattern's literal root in
 * pattern order, depth first, names in byte order); '' when nothing matches.
 */
#include "base/kiln.h"
#include "expr/eval.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES 200000
#define MAX_DEPTH 64

struct pat {
	struct strvec seg; /* path segments; "**" is a segment of its own */
	int negate;
};

static int match_segs(char **p, size_t np, char **s, size_t ns)
{
	if (!np)
		return ns == 0;
	if (!strcmp(p[0], "**")) {
		for (size_t k = 0; k <= ns; k++)
			if (match_segs(p + 1, np - 1, s + k, ns - k))
				return 1;
		return 0;
	}
	if (!ns || fnmatch(p[0], s[0], 0))
		return 0;
	return match_segs(p + 1, np - 1, s + 1, ns - 1);
}

static void split(struct strvec *out, const char *path)
{
	const char *b = path;
	for (const char *q = path;; q++) {
		if (*q == '/' || !*q) {
			if (q > b && !(q - b == 1 && *b == '.'))
				strvec_push_nodup(out, xstrndup(b, (size_t)(q - b)));
			if (!*q)
				break;
			b = q + 1;
		}
	}
}

static int selected(const struct pat *pats, size_t np, const char *rel)
{
	struct strvec s = STRVEC_INIT;
	split(&s, rel);
	int in = 0;
	for (size_t i = 0; i < np; i++)
		if (pats[i].negate == in && match_segs(pats[i].seg.v, pats[i].seg.nr, s.v, s.nr))
			in = !in;
	strvec_clear(&s);
	return in;
}

struct walk {
	const struct pat *pats;
	size_t np;
	struct strvec files; /* relative paths selected, in the order found */
	size_t seen;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void consider(struct walk *w, const char *root, const char *rel, int depth);

/* depth first, children in byte order: the order the runner's globber
 * (@actions/glob over libuv's sorted scandir) yields files in */
static void walk_dir(struct walk *w, const char *root, const char *rel, int depth)
{
	if (depth > MAX_DEPTH || w->seen > MAX_FILES)
		return;
	char *dir = *rel ? xstrfmt("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(dir);
	free(dir);
	if (!d)
		return;
	struct strvec names = STRVEC_INIT;
	struct dirent *de;
	while ((de = readdir(d)) && w->seen <= MAX_FILES) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		w->seen++;
		strvec_push(&names, de->d_name);
	}
	closedir(d);
	if (names.nr)
		qsort(names.v, names.nr, sizeof(char *), cmp_str);
	for (size_t i = 0; i < names.nr; i++) {
		char *r = *rel ? xstrfmt("%s/%s", rel, names.v[i]) : xstrdup(names.v[i]);
		consider(w, root, r, depth + 1);
		free(r);
	}
	strvec_clear(&names);
}

static void consider(struct walk *w, const char *root, const char *rel, int depth)
{
	char *full = *rel ? xstrfmt("%s/%s", root, rel) : xstrdup(root);
	struct stat lst, st;
	if (lstat(full, &lst) == 0) {
		if (S_ISDIR(lst.st_mode))
			walk_dir(w, root, rel, depth);
		else if (*rel && stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
			 selected(w->pats, w->np, rel))
			strvec_push(&w->files, rel);
	}
	free(full);
}

/* the literal directories before a pattern's first wildcard segment */
static char *search_root(const struct pat *p)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < p->seg.nr && !strpbrk(p->seg.v[i], "*?["); i++) {
		if (b.len)
			buf_addch(&b, '/');
		buf_addstr(&b, p->seg.v[i]);
	}
	return buf_detach(&b, NULL);
}

static int is_under(const char *path, const char *root)
{
	size_t n = strlen(root);
	return !n || (!strncmp(path, root, n) && (path[n] == '/' || !path[n]));
}

/* search every include pattern's root once, in pattern order; a root
 * inside another root is searched with it (as the runner's globber does) */
static void search(struct walk *w, const char *ws)
{
	struct strvec roots = STRVEC_INIT;
	for (size_t i = 0; i < w->np; i++)
		if (!w->pats[i].negate)
			strvec_push_nodup(&roots, search_root(&w->pats[i]));
	for (size_t i = 0; i < roots.nr; i++) {
		int skip = 0;
		for (size_t j = 0; j < roots.nr && !skip; j++)
			skip = j != i && is_under(roots.v[i], roots.v[j]) &&
			       (strcmp(roots.v[i], roots.v[j]) || j < i);
		if (!skip)
			consider(w, ws, roots.v[i], 0);
	}
	strvec_clear(&roots);
}

static int hash_file(const char *path, unsigned char *digest, struct buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		buf_addf(err, "hashFiles: cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	unsigned char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_addf(err, "hashFiles: cannot read '%s': %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (!n)
			break;
		crypto_hash_sha256_update(&h, chunk, (unsigned long long)n);
	}
	close(fd);
	crypto_hash_sha256_final(&h, digest);
	return 0;
}

static void add_pattern(struct pat **pats, size_t *np, size_t *alloc, const char *ws,
			const char *line, size_t len)
{
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	if (!len || *line == '#')
		return;
	ALLOC_GROW(*pats, *np + 1, *alloc);
	struct pat *p = &(*pats)[(*np)++];
	memset(p, 0, sizeof(*p));
	while (len && *line == '!')
		p->negate = !p->negate, line++, len--;
	char *s = xstrndup(line, len);
	size_t wl = strlen(ws);
	const char *rel = s;
	if (!strncmp(s, ws, wl) && (s[wl] == '/' || !s[wl]))
		rel = s + wl; /* absolute pattern inside the workspace */
	split(&p->seg, rel);
	free(s);
}

int expr__hash_files(const char *workspace, const struct ev *const *args, size_t n,
		     struct buf *out, struct buf *err)
{
	struct pat *pats = NULL;
	size_t np = 0, alloc = 0;
	for (size_t i = 0; i < n; i++) {
		struct buf s = BUF_INIT;
		ev_to_string(args[i], &s);
		const char *b = s.buf;
		for (const char *q = s.buf;; q++) {
			if (*q == '\n' || !*q) {
				add_pattern(&pats, &np, &alloc, workspace, b, (size_t)(q - b));
				if (!*q)
					break;
				b = q + 1;
			}
		}
		buf_release(&s);
	}
	struct walk w = { pats, np, STRVEC_INIT, 0 };
	search(&w, workspace);
	int ret = 0;
	if (w.files.nr) {
		crypto_hash_sha256_state all;
		crypto_hash_sha256_init(&all);
		for (size_t i = 0; i < w.files.nr && !ret; i++) {
			unsigned char d[crypto_hash_sha256_BYTES];
			char *full = xstrfmt("%s/%s", workspace, w.files.v[i]);
			ret = hash_file(full, d, err);
			free(full);
			crypto_hash_sha256_update(&all, d, sizeof(d));
		}
		unsigned char d[crypto_hash_sha256_BYTES];
		crypto_hash_sha256_final(&all, d);
		for (size_t i = 0; i < sizeof(d); i++)
			buf_addf(out, "%02x", d[i]);
	}
	strvec_clear(&w.files);
	for (size_t i = 0; i < np; i++)
		strvec_clear(&pats[i].seg);
	free(pats);
	return ret;
}
