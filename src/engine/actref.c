/*
 * actref: the cache of remote actions and reusable workflows (see
 * actref.h). Lock-free reads: a ref found in `refs` whose `commits/<sha>`
 * exists needs nothing else. Anything that writes (fetch, refs update,
 * extraction) holds `lock` (flock) of that repository's cache directory.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/actref.h"
#include "engine/runctx.h"
#include "git/fetch.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* refs a cache entry remembers (a cap on what `refs` may grow to) */
#define REFS_MAX_BYTES (1 << 20)

struct actref_fail {
	char *key, *msg;
	int rc;
};

struct actref_cache {
	char *base;    /* base URL or path, no trailing '/' */
	char *token;   /* owned copy, or NULL */
	char *dir;     /* <data>/actions */
	char *keydir;  /* <dir>/<base key> */
	char *dir_err; /* why there is no dir (no data directory), or NULL */
	int offline, pull;
	struct actref_src **memo; /* resolved this run (owned) */
	char **keys;              /* parallel: "owner/repo@ref" lower-cased repo */
	size_t nr, alloc;
	struct actref_fail *fail; /* prefetches that failed: the same error again */
	size_t nfail, afail;
};

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* a directory name for the base URL: readable, plus a hash against collisions */
static char *base_key(const char *base)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	struct buf b = BUF_INIT;
	for (const char *p = base; *p; p++) {
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		if (b.len < 48)
			buf_addch(&b, isalnum((unsigned char)*p) || *p == '.' || *p == '-' ? *p : '_');
	}
	buf_addf(&b, "-%08x", (unsigned)(h ^ (h >> 32)));
	return buf_detach(&b, NULL);
}

int actref_cache_new(const struct actref_opts *o, struct actref_cache **out, struct buf *err)
{
	struct actref_cache *c = xcalloc(1, sizeof(*c));
	const char *base = o->base_url && *o->base_url ? o->base_url : ACTREF_DEFAULT_BASE;
	size_t n = strlen(base);
	while (n > 1 && base[n - 1] == '/')
		n--;
	c->base = xstrndup(base, n);
	if (!strstr(c->base, "://") && c->base[0] != '/') {
		/* a relative mirror path: one cache key wherever kiln runs */
		char *abs = realpath(c->base, NULL);
		if (abs) {
			free(c->base);
			c->base = abs;
		}
	}
	c->token = o->token && *o->token ? xstrdup(o->token) : NULL;
	c->offline = o->offline;
	c->pull = o->pull;
	if (o->cache_dir) {
		c->dir = xstrdup(o->cache_dir);
	} else {
		/* no data directory: an error only for a run that needs the cache */
		struct buf d = BUF_INIT, derr = BUF_INIT;
		if (kiln_data_path("actions", &d, &derr) < 0)
			c->dir_err = buf_detach(&derr, NULL);
		else
			c->dir = buf_detach(&d, NULL);
		buf_release(&d);
		buf_release(&derr);
	}
	char *abs = c->dir ? realpath(c->dir, NULL) : NULL; /* libgit2 needs absolute paths */
	if (abs) {
		free(c->dir);
		c->dir = abs;
	}
	char *k = base_key(c->base);
	c->keydir = c->dir ? xstrfmt("%s/%s", c->dir, k) : NULL;
	free(k);
	(void)err;
	*out = c;
	return 0;
}

static void src_free(struct actref_src *s)
{
	if (!s)
		return;
	free(s->repo);
	free(s->ref);
	free(s->dir);
	free(s->repo_dir);
	free(s);
}

void actref_cache_free(struct actref_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr; i++) {
		src_free(c->memo[i]);
		free(c->keys[i]);
	}
	free(c->memo);
	free(c->keys);
	for (size_t i = 0; i < c->nfail; i++) {
		free(c->fail[i].key);
		free(c->fail[i].msg);
	}
	free(c->fail);
	if (c->token) /* do not leave the token in freed memory */
		memset(c->token, 0, strlen(c->token));
	free(c->token);
	free(c->base);
	free(c->dir);
	free(c->keydir);
	free(c->dir_err);
	free(c);
}

/* ---- parsing ---- */

/* GitHub: owner [A-Za-z0-9-], repository [A-Za-z0-9._-]; mirrors may use '_' */
static int name_ok(const char *s, size_t n)
{
	if (!n || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

int actref_parse(const char *uses, struct actref *out, struct buf *err)
{
	memset(out, 0, sizeof(*out));
	const char *at = strrchr(uses, '@');
	const char *s1 = strchr(uses, '/');
	if (!at || !s1 || s1 > at || !at[1]) {
		buf_addf(err, "'%s' is not an action reference (owner/repo[/path]@ref)", uses);
		return -1;
	}
	const char *s2 = memchr(s1 + 1, '/', (size_t)(at - s1 - 1));
	const char *rend = s2 ? s2 : at;
	if (!name_ok(uses, (size_t)(s1 - uses)) || !name_ok(s1 + 1, (size_t)(rend - s1 - 1))) {
		buf_addf(err, "'%s' is not an action reference: bad owner or repository name", uses);
		return -1;
	}
	const char *path = s2 ? s2 + 1 : at;
	size_t plen = (size_t)(at - path);
	/* no way out of the repository's tree */
	for (const char *p = path; p < at;) {
		const char *e = memchr(p, '/', (size_t)(at - p));
		size_t l = e ? (size_t)(e - p) : (size_t)(at - p);
		if ((l == 2 && p[0] == '.' && p[1] == '.') || (l == 0 && e && e + 1 < at)) {
			buf_addf(err, "'%s' is not an action reference: bad path", uses);
			return -1;
		}
		p += l + 1;
	}
	while (plen && path[plen - 1] == '/')
		plen--;
	out->repo = xstrndup(uses, (size_t)(rend - uses));
	out->path = xstrndup(path, plen);
	out->ref = xstrdup(at + 1);
	return 0;
}

void actref_release(struct actref *r)
{
	free(r->repo);
	free(r->path);
	free(r->ref);
	memset(r, 0, sizeof(*r));
}

int actref_is_self(const char *uses, const char **path)
{
	if (uses[0] != '$' || uses[1] != '/')
		return 0;
	if (path)
		*path = uses + 2;
	return 1;
}

/* ---- the cache on disk ---- */

static int is_full_sha(const char *s)
{
	size_t n = strlen(s);
	if (n != 40)
		return 0;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* the commit `ref` maps to in the refs file, into sha; 0 or -1 */
static int refs_get(const char *file, const char *ref, char sha[REPO_OID_HEX])
{
	struct buf b = BUF_INIT;
	int r = -1;
	if (buf_read_file(&b, file) < 0)
		goto out;
	size_t rl = strlen(ref);
	for (char *line = b.buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *tab = strrchr(line, '\t');
		if (tab && (size_t)(tab - line) == rl && !memcmp(line, ref, rl) &&
		    is_full_sha(tab + 1)) {
			memcpy(sha, tab + 1, REPO_OID_HEX);
			r = 0;
		}
		line = nl ? nl + 1 : NULL;
	}
out:
	buf_release(&b);
	return r;
}

/* set ref -> sha in the refs file (atomic replace; under the lock) */
static int refs_set(const char *file, const char *ref, const char *sha, struct buf *err)
{
	struct buf old = BUF_INIT, nw = BUF_INIT;
	size_t rl = strlen(ref);
	buf_read_file(&old, file);
	for (char *line = old.buf; line && *line;) {
		char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		if (!(l > rl && line[rl] == '\t' && !memcmp(line, ref, rl)) &&
		    nw.len + l < REFS_MAX_BYTES) {
			buf_add(&nw, line, l);
			buf_addch(&nw, '\n');
		}
		line = nl ? nl + 1 : NULL;
	}
	buf_addf(&nw, "%s\t%s\n", ref, sha);
	int r = write_file_atomic(file, nw.buf, nw.len, 0644);
	if (r < 0)
		buf_addf(err, "cannot write '%s': %s", file, strerror(-r));
	buf_release(&old);
	buf_release(&nw);
	return r < 0 ? KILN_EIO : 0;
}

static int lock_dir(const char *dir, struct buf *err)
{
	char *f = xstrfmt("%s/lock", dir);
	int fd = open(f, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		buf_addf(err, "cannot lock '%s': %s", f, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(f);
	return fd;
}

/* write tree `path` of `sha` from r into `dest` unless there: aside, then renamed */
static int extract(struct repo *r, const char *sha, const char *path, const char *parent,
		   const char *dest, struct buf *err)
{
	if (is_dir(dest))
		return 0;
	int mr = mkdir_p(parent, 0755);
	if (mr < 0) {
		buf_addf(err, "cannot create '%s': %s", parent, strerror(-mr));
		return KILN_EIO;
	}
	char *tmp = xstrfmt("%s/tmp.XXXXXX", parent);
	if (!mkdtemp(tmp)) {
		buf_addf(err, "cannot create a directory in '%s': %s", parent, strerror(errno));
		free(tmp);
		return KILN_EIO;
	}
	int rc = fetch_write_tree(r, sha, path, tmp, err);
	if (rc == 0 && rename(tmp, dest) < 0 && !is_dir(dest)) {
		buf_addf(err, "cannot rename into '%s': %s", dest, strerror(errno));
		rc = KILN_EIO;
	}
	/* lost a race with another process, or failed: ours goes */
	runctx_rmtree(tmp);
	free(tmp);
	return rc;
}

/* the server URL of owner/repo; a path mirror may keep it as repo.git */
static char *repo_url(const struct actref_cache *c, const char *repo)
{
	char *url = xstrfmt("%s/%s", c->base, repo);
	if (!strstr(c->base, "://") && !is_dir(url)) {
		char *git = xstrfmt("%s.git", url);
		if (is_dir(git)) {
			free(url);
			return git;
		}
		free(git);
	}
	return url;
}

static struct actref_src *memo_find(struct actref_cache *c, const char *key)
{
	for (size_t i = 0; i < c->nr; i++)
		if (!strcmp(c->keys[i], key))
			return c->memo[i];
	return NULL;
}

static void memo_add(struct actref_cache *c, char *key, struct actref_src *s)
{
	if (c->nr == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 8;
		c->memo = xrealloc(c->memo, c->alloc * sizeof(*c->memo));
		c->keys = xrealloc(c->keys, c->alloc * sizeof(*c->keys));
	}
	c->memo[c->nr] = s;
	c->keys[c->nr++] = key;
}

static char *lower(const char *s)
{
	char *d = xstrdup(s);
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* the network part, under the lock: resolve, fetch, record, extract */
static int fetch_locked(const struct actref_cache *c, const char *rdir, const char *repo,
			const char *ref, char sha[REPO_OID_HEX], struct buf *err)
{
	char *gitdir = xstrfmt("%s/git", rdir), *refs = xstrfmt("%s/refs", rdir);
	char *cdir = xstrfmt("%s/commits", rdir);
	struct repo *r = NULL;
	char *url = NULL, *dest = NULL;
	int rc = fetch_open_bare(gitdir, &r, err);
	if (rc < 0)
		goto out;
	int full = is_full_sha(ref);
	if (full && fetch_has_commit(r, sha)) {
		/* nothing to ask the server */
	} else {
		url = repo_url(c, repo);
		if (!strstr(url, "://") && !is_dir(url)) {
			buf_addf(err, "no repository at '%s'", url);
			rc = KILN_ENOENT;
			goto out;
		}
		char got[REPO_OID_HEX];
		rc = fetch_resolve(r, url, c->token, ref, got, err);
		if (rc < 0)
			goto out;
		if (full && strcmp(got, sha)) {
			char *shown = url_redact(url);
			buf_addf(err, "'%s' has no commit '%s'", shown, ref);
			free(shown);
			rc = KILN_ENOENT;
			goto out;
		}
		memcpy(sha, got, REPO_OID_HEX);
	}
	/* the files first, then the ref: a crash in between leaves no ref
	 * pointing at a commit that is not on disk */
	dest = xstrfmt("%s/%s", cdir, sha);
	rc = extract(r, sha, "", cdir, dest, err);
	if (rc == 0 && !full)
		rc = refs_set(refs, ref, sha, err);
out:
	repo_close(r);
	free(gitdir);
	free(refs);
	free(cdir);
	free(url);
	free(dest);
	return rc;
}

/* commit sha's files written again from the cache's objects, no network */
static int from_objects(const char *rdir, const char *sha, char **dest)
{
	char *gitdir = xstrfmt("%s/git", rdir), *cdir = xstrfmt("%s/commits", rdir);
	char *d = xstrfmt("%s/%s", cdir, sha);
	struct buf err = BUF_INIT;
	struct repo *r = NULL;
	int rc = -1, fd = -1;
	if (access(gitdir, F_OK) == 0 && (fd = lock_dir(rdir, &err)) >= 0 &&
	    repo_open_bare(gitdir, &r, &err) == 0 && fetch_has_commit(r, sha) &&
	    extract(r, sha, "", cdir, d, &err) == 0) {
		*dest = d;
		d = NULL;
		rc = 0;
	}
	repo_close(r);
	if (fd >= 0)
		close(fd);
	buf_release(&err);
	free(gitdir);
	free(cdir);
	free(d);
	return rc;
}

/*
 * repo@ref to a commit directory on disk (sha, *dest owned), from the cache
 * or, with network, from the server. Reads only what never changes in c:
 * safe on several threads at once (actref_prefetch).
 */
static int locate(const struct actref_cache *c, const char *repo, const char *ref, int network,
		  char sha[REPO_OID_HEX], char **dest, struct buf *err)
{
	char *lrepo = lower(repo), *rdir = NULL, *refs = NULL;
	int rc = 0, fd = -1;
	struct buf perr = BUF_INIT;
	struct actref parsed;
	char *whole = xstrfmt("%s@%s", repo, ref);
	rc = actref_parse(whole, &parsed, &perr);
	free(whole);
	int badpath = rc == 0 && *parsed.path;
	actref_release(&parsed);
	*dest = NULL;
	*sha = '\0';
	if (rc < 0 || badpath) {
		buf_addf(err, "%s", perr.len ? perr.buf : "bad repository name");
		rc = KILN_EINVAL;
		goto out;
	}
	if (!c->dir) {
		buf_addf(err, "no cache for action '%s@%s': %s", repo, ref, c->dir_err);
		rc = KILN_EIO;
		goto out;
	}
	rdir = xstrfmt("%s/%s", c->keydir, lrepo);
	refs = xstrfmt("%s/refs", rdir);
	if (is_full_sha(ref)) {
		char *l = lower(ref);
		memcpy(sha, l, REPO_OID_HEX);
		free(l);
	} else if (!c->pull || !network || c->offline) {
		refs_get(refs, ref, sha);
	}
	if (*sha) {
		*dest = xstrfmt("%s/commits/%s", rdir, sha);
		if (!is_dir(*dest)) {
			free(*dest);
			*dest = NULL;
		}
	}
	if (*dest)
		goto out;
	if (!network || c->offline) {
		/* the objects may still be there (files removed by hand) */
		if (*sha && from_objects(rdir, sha, dest) == 0)
			goto out;
		buf_addf(err, "action '%s@%s' is not in the cache (%s)", repo, ref,
			 c->offline ? "--offline" : "not fetched");
		rc = KILN_ENOENT;
		goto out;
	}
	int mr = mkdir_p(rdir, 0755);
	if (mr < 0) {
		buf_addf(err, "cannot create '%s': %s", rdir, strerror(-mr));
		rc = KILN_EIO;
		goto out;
	}
	fd = lock_dir(rdir, err);
	if (fd < 0) {
		rc = KILN_EIO;
		goto out;
	}
	struct buf ferr = BUF_INIT;
	rc = fetch_locked(c, rdir, repo, ref, sha, &ferr);
	if (rc < 0)
		buf_addf(err, "cannot resolve action '%s@%s': %s", repo, ref, ferr.buf);
	else
		*dest = xstrfmt("%s/commits/%s", rdir, sha);
	buf_release(&ferr);
out:
	if (fd >= 0)
		close(fd);
	buf_release(&perr);
	free(lrepo);
	free(rdir);
	free(refs);
	return rc;
}

static struct actref_src *src_new(const char *repo, const char *ref, const char *sha, char *dir)
{
	struct actref_src *s = xcalloc(1, sizeof(*s));
	s->repo = xstrdup(repo);
	s->ref = xstrdup(ref);
	memcpy(s->sha, sha, REPO_OID_HEX);
	s->dir = dir;
	return s;
}

static const struct actref_fail *fail_find(const struct actref_cache *c, const char *key)
{
	for (size_t i = 0; i < c->nfail; i++)
		if (!strcmp(c->fail[i].key, key))
			return &c->fail[i];
	return NULL;
}

int actref_get(struct actref_cache *c, const char *repo, const char *ref, int network,
	       const struct actref_src **out, struct buf *err)
{
	char *lrepo = lower(repo);
	char *key = xstrfmt("%s@%s", lrepo, ref);
	free(lrepo);
	struct actref_src *s = memo_find(c, key);
	const struct actref_fail *f = s ? NULL : fail_find(c, key);
	int rc = 0;
	if (s) {
		*out = s;
	} else if (f) { /* a prefetch already failed: same answer, no second try */
		buf_addstr(err, f->msg);
		rc = f->rc;
	} else {
		char sha[REPO_OID_HEX], *dest;
		rc = locate(c, repo, ref, network, sha, &dest, err);
		if (rc == 0) {
			*out = s = src_new(repo, ref, sha, dest);
			memo_add(c, key, s);
			key = NULL;
		}
	}
	free(key);
	return rc;
}

/* ---- resolving many references at once ---- */

/* fetching several repositories at once: the round trips overlap */
#define PREFETCH_THREADS 8

struct pf_item {
	const char *repo, *ref;
	char *key;
	char sha[REPO_OID_HEX];
	char *dest;
	int rc;
	struct buf err;
};

struct pf_pool {
	const struct actref_cache *c;
	struct pf_item *v;
	size_t n, next;
	pthread_mutex_t mu;
};

static void *pf_worker(void *arg)
{
	struct pf_pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->mu);
		if (i == p->n)
			return NULL;
		struct pf_item *it = &p->v[i];
		it->rc = locate(p->c, it->repo, it->ref, 1, it->sha, &it->dest, &it->err);
	}
}

void actref_prefetch(struct actref_cache *c, const struct actref *refs, size_t n)
{
	struct pf_pool p = { .c = c };
	p.v = xcalloc(n ? n : 1, sizeof(*p.v));
	for (size_t i = 0; i < n; i++) {
		char *lrepo = lower(refs[i].repo);
		char *key = xstrfmt("%s@%s", lrepo, refs[i].ref);
		free(lrepo);
		int dup = memo_find(c, key) || fail_find(c, key);
		for (size_t k = 0; k < p.n && !dup; k++)
			dup = !strcmp(p.v[k].key, key);
		if (dup) {
			free(key);
			continue;
		}
		struct pf_item *it = &p.v[p.n++];
		it->repo = refs[i].repo;
		it->ref = refs[i].ref;
		it->key = key;
		buf_init(&it->err, 0);
	}
	pthread_t th[PREFETCH_THREADS];
	size_t nth = p.n < PREFETCH_THREADS ? p.n : PREFETCH_THREADS, started = 0;
	pthread_mutex_init(&p.mu, NULL);
	/* one item alone needs no thread; a thread that cannot start is done inline */
	for (size_t i = 0; nth > 1 && i < nth; i++)
		if (pthread_create(&th[started], NULL, pf_worker, &p) == 0)
			started++;
	pf_worker(&p);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	for (size_t i = 0; i < p.n; i++) {
		struct pf_item *it = &p.v[i];
		if (it->rc == 0) {
			memo_add(c, it->key, src_new(it->repo, it->ref, it->sha, it->dest));
		} else {
			if (c->nfail == c->afail) {
				c->afail = c->afail ? 2 * c->afail : 4;
				c->fail = xrealloc(c->fail, c->afail * sizeof(*c->fail));
			}
			c->fail[c->nfail++] = (struct actref_fail){ it->key, buf_detach(&it->err, NULL),
								    it->rc };
		}
		buf_release(&it->err);
	}
	free(p.v);
}

/* a path inside a repository: relative, no '..' segment */
static int path_ok(const char *p, struct buf *err)
{
	const char *s = p;
	while (*s) {
		size_t l = strcspn(s, "/");
		if (l == 2 && s[0] == '.' && s[1] == '.') {
			buf_addf(err, "path '%s' leaves the repository", p);
			return 0;
		}
		s += l;
		s += *s == '/';
	}
	if (*p == '/') {
		buf_addf(err, "path '%s' must be relative to the repository", p);
		return 0;
	}
	return 1;
}

/* ---- $/ : the run's own repository ---- */

int actref_self(struct actref_cache *c, const char *repo_dir, const char *repo,
		const char *sha, const struct actref_src **out, struct buf *err)
{
	char *key = xstrfmt("$/%s@%s", repo_dir, sha);
	struct actref_src *s = memo_find(c, key);
	if (s) {
		free(key);
		*out = s;
		return 0;
	}
	if (!is_full_sha(sha)) {
		buf_addf(err, "'$/' needs the run's commit, and the repository has none");
		free(key);
		return KILN_ENOENT;
	}
	s = xcalloc(1, sizeof(*s));
	s->repo = xstrdup(repo);
	s->ref = xstrdup(sha);
	memcpy(s->sha, sha, REPO_OID_HEX);
	s->repo_dir = xstrdup(repo_dir);
	memo_add(c, key, s);
	*out = s;
	return 0;
}

int actref_dir(struct actref_cache *c, const struct actref_src *src, const char *path, char **dir,
	       struct buf *err)
{
	size_t pl = strlen(path);
	while (pl && path[pl - 1] == '/')
		pl--;
	*dir = NULL;
	if (!path_ok(path, err))
		return KILN_EINVAL;
	if (src->dir) {
		*dir = pl ? xstrfmt("%s/%.*s", src->dir, (int)pl, path) : xstrdup(src->dir);
		if (!is_dir(*dir)) {
			buf_addf(err, "'%s@%s' has no directory '%.*s'", src->repo, src->ref, (int)pl,
				 path);
			free(*dir);
			*dir = NULL;
			return KILN_ENOENT;
		}
		return 0;
	}
	/* the run's own repository: only the sub-tree, once per tree id */
	if (!c->dir) {
		buf_addf(err, "no cache for '$/%s': %s", path, c->dir_err);
		return KILN_EIO;
	}
	struct repo *r = NULL;
	char tree[REPO_OID_HEX];
	char *p = xstrndup(path, pl);
	int rc = repo_open(src->repo_dir, &r, err);
	if (rc == 0)
		rc = fetch_tree_id(r, src->sha, p, tree, err);
	if (rc == 0) {
		char *parent = xstrfmt("%s/self", c->dir);
		char *dest = xstrfmt("%s/%s", parent, tree);
		rc = extract(r, src->sha, p, parent, dest, err);
		if (rc == 0)
			*dir = dest;
		else
			free(dest);
		free(parent);
	}
	repo_close(r);
	free(p);
	return rc;
}

int actref_read(struct actref_cache *c, const struct actref_src *src, const char *path,
		struct buf *out, struct buf *err)
{
	(void)c;
	if (!path_ok(path, err))
		return KILN_EINVAL;
	if (src->dir) {
		char *f = xstrfmt("%s/%s", src->dir, path);
		int r = buf_read_file(out, f);
		free(f);
		if (r < 0) {
			buf_addf(err, "'%s@%s' has no file '%s'", src->repo, src->ref, path);
			return r == -ENOENT ? KILN_ENOENT : KILN_EIO;
		}
		return 0;
	}
	struct repo *r = NULL;
	int rc = repo_open(src->repo_dir, &r, err);
	if (rc == 0)
		rc = fetch_read_blob(r, src->sha, path, out, err);
	repo_close(r);
	return rc;
}
