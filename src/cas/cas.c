/*
 * cas: the cache index: entry files, key / restore-keys matching, LRU
 * eviction and pruning (see cas.h for the layout and guarantees).
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "cas/cas.h"
#include "cas/cas-int.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STALE_SECONDS 3600 /* temp files and orphan blobs older than this are garbage */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hash_hex(const void *data, size_t len, char out[65])
{
	static const char d[] = "0123456789abcdef";
	unsigned char h[32];
	crypto_generichash(h, sizeof(h), data, len, NULL, 0);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = d[h[i] >> 4];
		out[2 * i + 1] = d[h[i] & 15];
	}
	out[64] = '\0';
}

int cas_parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	int shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int cas_open(struct cas *c, const char *datadir, struct buf *err)
{
	if (sodium_init() < 0) {
		buf_addstr(err, "libsodium failed to initialise");
		return -1;
	}
	c->dir = xstrfmt("%s/cache", datadir);
	c->limit = CAS_DEFAULT_LIMIT;
	const char *lim = getenv("KILN_CACHE_LIMIT");
	if (lim && *lim && cas_parse_size(lim, &c->limit) < 0) {
		buf_addf(err, "bad KILN_CACHE_LIMIT '%s': expected a size such as 500M or 10G", lim);
		return -1;
	}
	struct buf p = BUF_INIT;
	int r = 0;
	const char *sub[] = { "blobs", "entries" };
	for (size_t i = 0; i < 2 && !r; i++) {
		buf_reset(&p);
		buf_addf(&p, "%s/%s", c->dir, sub[i]);
		int m = mkdir_p(p.buf, 0700);
		if (m < 0) {
			buf_addf(err, "cannot create '%s': %s", p.buf, strerror(-m));
			r = -1;
		}
	}
	buf_release(&p);
	return r;
}

void cas_close(struct cas *c)
{
	free(c->dir);
	c->dir = NULL;
}

void cas_version(const struct strvec *paths, char out[65])
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < paths->nr; i++)
		buf_addf(&b, "%s|", paths->v[i]);
	buf_addstr(&b, "zstd-tar-v1");
	hash_hex(b.buf, b.len, out);
	buf_release(&b);
}

static void entry_id(const char *version, const char *key, char out[65])
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s", version);
	buf_addch(&b, '\0');
	buf_addstr(&b, key);
	hash_hex(b.buf, b.len, out);
	buf_release(&b);
}

static void entry_path(struct cas *c, const char *id, struct buf *out)
{
	buf_reset(out);
	buf_addf(out, "%s/entries/%s.json", c->dir, id);
}

static int write_entry(struct cas *c, const struct cas_entry *e, struct buf *err)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "key", e->key, "version", e->version,
			      "blob", e->blob, "size", (json_int_t)e->size, "created_ms",
			      (json_int_t)e->created_ms, "used_ms", (json_int_t)e->used_ms);
	char *s = json_dumps(o, JSON_COMPACT);
	struct buf path = BUF_INIT;
	entry_path(c, e->id, &path);
	/* unsynced (a cache may lose an entry on power loss): a part of one
	 * does not parse, and read_entry skips it */
	int w = write_file_replace(path.buf, s, strlen(s), 0600);
	if (w < 0)
		buf_addf(err, "cannot write cache entry '%s': %s", path.buf, strerror(-w));
	free(s);
	json_decref(o);
	buf_release(&path);
	return w < 0 ? -1 : 0;
}

/* parse one entry file; -1 when it is not a valid entry */
static int read_entry(const char *path, const char *id, struct cas_entry *e)
{
	json_t *o = json_load_file(path, 0, NULL);
	const char *key, *ver, *blob;
	json_int_t size, created, used;
	int r = -1;
	if (o && !json_unpack(o, "{s:s, s:s, s:s, s:I, s:I, s:I}", "key", &key, "version", &ver, "blob",
			      &blob, "size", &size, "created_ms", &created, "used_ms", &used) &&
	    strlen(blob) == 64 && strlen(ver) == 64 && strlen(key) < sizeof(e->key)) {
		memset(e, 0, sizeof(*e));
		snprintf(e->id, sizeof(e->id), "%s", id);
		snprintf(e->key, sizeof(e->key), "%s", key);
		snprintf(e->version, sizeof(e->version), "%s", ver);
		snprintf(e->blob, sizeof(e->blob), "%s", blob);
		e->size = (uint64_t)size;
		e->created_ms = created;
		e->used_ms = used;
		r = 0;
	}
	json_decref(o);
	return r;
}

static int cmp_used_desc(const void *a, const void *b)
{
	const struct cas_entry *x = a, *y = b;
	return x->used_ms < y->used_ms ? 1 : x->used_ms > y->used_ms ? -1 : strcmp(x->id, y->id);
}

int cas_list(struct cas *c, struct cas_entry **out, size_t *n, struct buf *err)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	buf_addf(&dir, "%s/entries", c->dir);
	*out = NULL;
	*n = 0;
	DIR *d = opendir(dir.buf);
	if (!d) {
		buf_addf(err, "cannot read '%s': %s", dir.buf, strerror(errno));
		buf_release(&dir);
		return -1;
	}
	size_t alloc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l != 69 || !str_ends_with(de->d_name, ".json"))
			continue;
		char id[65];
		memcpy(id, de->d_name, 64);
		id[64] = '\0';
		buf_reset(&path);
		buf_addf(&path, "%s/%s", dir.buf, de->d_name);
		ALLOC_GROW(*out, *n + 1, alloc);
		if (read_entry(path.buf, id, &(*out)[*n]) == 0)
			(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_used_desc);
	buf_release(&dir);
	buf_release(&path);
	return 0;
}

int cas_lookup(struct cas *c, const char *key, const struct strvec *restore_keys,
	       const char *version, struct cas_entry *hit, int *exact, struct buf *err)
{
	struct cas_entry *v;
	size_t n;
	if (cas_list(c, &v, &n, err) < 0)
		return -1;
	int found = 0;
	*exact = 0;
	/* the key itself, then each restore key: exact first, else newest prefix */
	for (size_t k = 0; k <= (restore_keys ? restore_keys->nr : 0) && !found; k++) {
		const char *want = k ? restore_keys->v[k - 1] : key;
		const struct cas_entry *best = NULL;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(v[i].version, version))
				continue;
			if (!strcmp(v[i].key, want)) {
				best = &v[i];
				break;
			}
			if (k && str_starts_with(v[i].key, want) &&
			    (!best || v[i].created_ms > best->created_ms))
				best = &v[i];
		}
		if (best) {
			*hit = *best;
			*exact = k == 0;
			found = 1;
		}
	}
	free(v);
	return found ? 0 : KILN_ENOENT;
}

static void unlink_entry(struct cas *c, const char *id);

/* a damaged blob: remove every entry naming it, then the blob and its
 * manifest (an entry first: a reader never finds one without its blob) */
static void forget_blob(struct cas *c, const char *blob)
{
	struct cas_entry *v;
	size_t n;
	struct buf err = BUF_INIT, path = BUF_INIT;
	if (cas_list(c, &v, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!strcmp(v[i].blob, blob))
				unlink_entry(c, v[i].id);
		free(v);
	}
	buf_addf(&path, "%s/blobs/%s.tzst", c->dir, blob);
	unlink(path.buf);
	buf_reset(&path);
	buf_addf(&path, "%s/blobs/%s.manifest", c->dir, blob);
	unlink(path.buf);
	buf_release(&path);
	buf_release(&err);
}

int cas_restore(struct cas *c, const char *key, const struct strvec *restore_keys,
		const struct strvec *paths, const char *cwd, struct cas_entry *hit, int *exact,
		struct buf *err)
{
	char version[65];
	cas_version(paths, version);
	int r = cas_lookup(c, key, restore_keys, version, hit, exact, err);
	if (r)
		return r;
	r = cas_unpack(c, hit->blob, cwd, NULL, err);
	if (r == CAS_CORRUPT) {
		forget_blob(c, hit->blob);
		return CAS_CORRUPT;
	}
	if (r < 0)
		return -1;
	hit->used_ms = now_ms();
	return write_entry(c, hit, err);
}

int cas_save(struct cas *c, const char *key, const struct strvec *paths, const char *cwd,
	     struct cas_entry *out, struct buf *err)
{
	struct cas_entry e;
	memset(&e, 0, sizeof(e));
	if (!*key || strlen(key) >= sizeof(e.key) || strchr(key, ',')) {
		buf_addf(err, "invalid cache key '%.80s': it must be 1 to 511 characters without ','", key);
		return -1;
	}
	snprintf(e.key, sizeof(e.key), "%s", key);
	cas_version(paths, e.version);
	entry_id(e.version, key, e.id);
	struct buf path = BUF_INIT;
	entry_path(c, e.id, &path);
	int exists = access(path.buf, F_OK) == 0;
	buf_release(&path);
	if (exists)
		return CAS_EXISTS;
	int r = cas_pack_flags(c, paths, cwd, CAS_PACK_NOSYNC, e.blob, &e.size, NULL, err);
	if (r)
		return r;
	e.created_ms = e.used_ms = now_ms();
	if (write_entry(c, &e, err) < 0)
		return -1;
	if (out)
		*out = e;
	size_t removed;
	uint64_t freed;
	return cas_prune(c, c->limit, &removed, &freed, err);
}

static void unlink_entry(struct cas *c, const char *id)
{
	struct buf path = BUF_INIT;
	entry_path(c, id, &path);
	unlink(path.buf);
	buf_release(&path);
}

static int blob_used(const struct cas_entry *v, size_t n, const char *blob)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id[0] && !strcmp(v[i].blob, blob))
			return 1;
	return 0;
}

/* total of distinct live blobs */
static uint64_t total_size(const struct cas_entry *v, size_t n)
{
	uint64_t t = 0;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].id[0])
			continue;
		int first = 1;
		for (size_t j = 0; j < i && first; j++)
			if (v[j].id[0] && !strcmp(v[j].blob, v[i].blob))
				first = 0;
		if (first)
			t += v[i].size;
	}
	return t;
}

/* remove blob files no live entry uses: stale ones, and `only` (a blob
 * whose last entry was just removed) even when fresh; fresh orphans may
 * belong to a save in progress */
static uint64_t sweep_blobs(struct cas *c, const struct cas_entry *v, size_t n, const char *only)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	buf_addf(&dir, "%s/blobs", c->dir);
	uint64_t freed = 0;
	DIR *d = opendir(dir.buf);
	struct dirent *de;
	time_t now = time(NULL);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    !str_starts_with(de->d_name, ".tmp-"))
			continue;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		buf_reset(&path);
		buf_addf(&path, "%s/%s", dir.buf, de->d_name);
		struct stat st;
		if (lstat(path.buf, &st) < 0)
			continue;
		int stale = now - st.st_mtime > STALE_SECONDS;
		int tmp = str_starts_with(de->d_name, ".tmp-") || strstr(de->d_name, ".tmp.");
		char blob[65];
		snprintf(blob, sizeof(blob), "%.64s", de->d_name);
		int ours = only && !strcmp(blob, only);
		if (tmp ? stale : (!blob_used(v, n, blob) && (stale || ours))) {
			if (unlink(path.buf) == 0)
				freed += (uint64_t)st.st_size;
		}
	}
	if (d)
		closedir(d);
	buf_release(&dir);
	buf_release(&path);
	return freed;
}

int cas_remove(struct cas *c, const char *key, int prefix, size_t *removed, struct buf *err)
{
	struct cas_entry *v;
	size_t n;
	*removed = 0;
	if (cas_list(c, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (prefix ? str_starts_with(v[i].key, key) : !strcmp(v[i].key, key)) {
			unlink_entry(c, v[i].id);
			v[i].id[0] = '\0';
			(*removed)++;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!v[i].id[0] && !blob_used(v, n, v[i].blob))
			sweep_blobs(c, v, n, v[i].blob);
	free(v);
	return 0;
}

static int cmp_used_asc(const void *a, const void *b)
{
	return cmp_used_desc(b, a);
}

int cas_prune(struct cas *c, uint64_t limit, size_t *removed, uint64_t *freed, struct buf *err)
{
	struct cas_entry *v;
	size_t n;
	*removed = 0;
	*freed = 0;
	if (cas_list(c, &v, &n, err) < 0)
		return -1;
	if (n)
		qsort(v, n, sizeof(*v), cmp_used_asc);
	uint64_t total = total_size(v, n);
	for (size_t i = 0; i < n && total > limit; i++) {
		unlink_entry(c, v[i].id);
		v[i].id[0] = '\0'; /* dead */
		(*removed)++;
		if (!blob_used(v, n, v[i].blob)) {
			total -= v[i].size;
			*freed += sweep_blobs(c, v, n, v[i].blob);
		}
	}
	*freed += sweep_blobs(c, v, n, NULL);
	free(v);
	return 0;
}
