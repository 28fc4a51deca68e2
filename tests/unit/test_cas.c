/*
 * unit tests for src/cas on real files in a temp dir: pack/unpack round
 * trip with globs and excludes, key and restore-keys matching (newest
 * first), immutability, LRU eviction, the unchanged-tree fast path and
 * crash leftovers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "cas/cas.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct fx {
	char dir[64];
	char *ws;
	struct cas c;
};

static void sh(const char *fmt, ...)
{
	va_list ap;
	struct buf b = BUF_INIT;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (system(b.buf) != 0) {
		print_error("command failed: %s\n", b.buf);
		fail();
	}
	buf_release(&b);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-cas-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->ws = xstrfmt("%s/ws", f->dir);
	struct buf err = BUF_INIT;
	assert_int_equal(cas_open(&f->c, f->dir, &err), 0);
	buf_release(&err);
	sh("mkdir -p %s/node_modules/a/b %s/build/obj %s/src && cd %s && "
	   "echo one >node_modules/a/x.js && echo two >node_modules/a/b/y.js && "
	   "echo o >build/obj/m.o && echo c >build/obj/m.c && echo s >src/main.c && "
	   "ln -s x.js node_modules/a/link",
	   f->ws, f->ws, f->ws, f->ws);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	cas_close(&f->c);
	sh("rm -rf '%s'", f->dir);
	free(f->ws);
	free(f);
	return 0;
}

static struct strvec list(const char *a, const char *b, const char *c)
{
	struct strvec v = STRVEC_INIT;
	if (a)
		strvec_push(&v, a);
	if (b)
		strvec_push(&v, b);
	if (c)
		strvec_push(&v, c);
	return v;
}

static void test_roundtrip_globs(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	struct strvec p = list("node_modules", "build/**/*.o", "!node_modules/a/b/**");
	struct cas_entry e;
	assert_int_equal(cas_save(&f->c, "npm-1", &p, f->ws, &e, &err), 0);
	assert_true(e.size > 0);
	assert_int_equal(cas_save(&f->c, "npm-1", &p, f->ws, &e, &err), CAS_EXISTS);
	sh("cd %s && rm -rf node_modules build src", f->ws);
	int exact;
	assert_int_equal(cas_restore(&f->c, "npm-1", NULL, &p, f->ws, &e, &exact, &err), 0);
	assert_true(exact);
	sh("cd %s && test \"$(cat node_modules/a/x.js)\" = one && test -f build/obj/m.o && "
	   "test ! -e build/obj/m.c && test ! -e node_modules/a/b/y.js && test ! -e src && "
	   "test \"$(readlink node_modules/a/link)\" = x.js",
	   f->ws);
	/* a different path list is a different version: no match */
	struct strvec q = list("node_modules", NULL, NULL);
	assert_int_equal(cas_restore(&f->c, "npm-1", NULL, &q, f->ws, &e, &exact, &err), KILN_ENOENT);
	/* nothing matched: nothing saved */
	struct strvec none = list("does-not-exist/**", NULL, NULL);
	assert_int_equal(cas_save(&f->c, "none", &none, f->ws, &e, &err), KILN_ENOENT);
	strvec_clear(&p);
	strvec_clear(&q);
	strvec_clear(&none);
	buf_release(&err);
}

static void test_restore_keys(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	struct strvec p = list("src", NULL, NULL);
	struct cas_entry e;
	assert_int_equal(cas_save(&f->c, "deps-linux-aaa", &p, f->ws, &e, &err), 0);
	usleep(5000);
	sh("echo newer >%s/src/main.c", f->ws);
	assert_int_equal(cas_save(&f->c, "deps-linux-bbb", &p, f->ws, &e, &err), 0);
	usleep(5000);
	assert_int_equal(cas_save(&f->c, "deps-mac-ccc", &p, f->ws, &e, &err), 0);
	struct strvec rk = list("deps-linux-", "deps-", NULL);
	int exact;
	char version[65];
	cas_version(&p, version);
	/* newest prefix match of the first restore key that matches */
	assert_int_equal(cas_lookup(&f->c, "deps-linux-zzz", &rk, version, &e, &exact, &err), 0);
	assert_string_equal(e.key, "deps-linux-bbb");
	assert_false(exact);
	/* an exact key wins */
	assert_int_equal(cas_lookup(&f->c, "deps-linux-aaa", &rk, version, &e, &exact, &err), 0);
	assert_string_equal(e.key, "deps-linux-aaa");
	assert_true(exact);
	/* a restore key that equals a key exactly beats a newer prefix match */
	struct strvec rk2 = list("deps-linux-aaa", NULL, NULL);
	assert_int_equal(cas_lookup(&f->c, "x", &rk2, version, &e, &exact, &err), 0);
	assert_string_equal(e.key, "deps-linux-aaa");
	struct strvec rk3 = list("deps-win-", NULL, NULL);
	assert_int_equal(cas_lookup(&f->c, "x", &rk3, version, &e, &exact, &err), KILN_ENOENT);
	/* restoring through a restore key gives that content */
	sh("rm -rf %s/src", f->ws);
	assert_int_equal(cas_restore(&f->c, "deps-linux-zzz", &rk, &p, f->ws, &e, &exact, &err), 0);
	sh("test \"$(cat %s/src/main.c)\" = newer", f->ws);
	size_t removed;
	assert_int_equal(cas_remove(&f->c, "deps-linux-", 1, &removed, &err), 0);
	assert_int_equal(removed, 2);
	struct cas_entry *v;
	size_t n;
	assert_int_equal(cas_list(&f->c, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].key, "deps-mac-ccc");
	free(v);
	strvec_clear(&p);
	strvec_clear(&rk);
	strvec_clear(&rk2);
	strvec_clear(&rk3);
	buf_release(&err);
}

static void test_lru_eviction(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	struct strvec p = list("big", NULL, NULL);
	struct cas_entry e;
	uint64_t one = 0;
	for (int i = 0; i < 4; i++) {
		sh("mkdir -p %s/big && head -c 200000 /dev/urandom >%s/big/f", f->ws, f->ws);
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(cas_save(&f->c, key, &p, f->ws, &e, &err), 0);
		one = e.size;
		usleep(3000);
	}
	/* touch k0 so k1 is the least recently used */
	int exact;
	assert_int_equal(cas_restore(&f->c, "k0", NULL, &p, f->ws, &e, &exact, &err), 0);
	size_t removed;
	uint64_t freed;
	assert_int_equal(cas_prune(&f->c, 3 * one + one / 2, &removed, &freed, &err), 0);
	assert_int_equal(removed, 1);
	assert_true(freed >= one);
	struct cas_entry *v;
	size_t n;
	assert_int_equal(cas_list(&f->c, &v, &n, &err), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(v[i].key, "k1");
	assert_string_equal(v[0].key, "k0"); /* most recently used first */
	free(v);
	/* the blob of the evicted entry is gone: 3 blobs + 3 manifests */
	sh("test $(ls %s/cache/blobs | wc -l) = 6", f->dir);
	/* the limit applies on save too */
	f->c.limit = one + one / 2;
	sh("head -c 200000 /dev/urandom >%s/big/f", f->ws);
	assert_int_equal(cas_save(&f->c, "k9", &p, f->ws, &e, &err), 0);
	assert_int_equal(cas_list(&f->c, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].key, "k9");
	free(v);
	strvec_clear(&p);
	buf_release(&err);
}

static void test_unchanged_fast_path(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	struct strvec p = list("node_modules", NULL, NULL);
	struct cas_entry e;
	assert_int_equal(cas_save(&f->c, "k", &p, f->ws, &e, &err), 0);
	int unchanged;
	assert_int_equal(cas_unpack(&f->c, e.blob, f->ws, &unchanged, &err), 0);
	assert_true(unchanged);
	/* hide the blob: the fast path must not need it */
	sh("mv %s/cache/blobs/%s.tzst %s/saved.tzst", f->dir, e.blob, f->dir);
	assert_int_equal(cas_unpack(&f->c, e.blob, f->ws, &unchanged, &err), 0);
	assert_true(unchanged);
	sh("mv %s/saved.tzst %s/cache/blobs/%s.tzst", f->dir, f->dir, e.blob);
	/* a changed file is restored */
	sh("echo changed >%s/node_modules/a/x.js", f->ws);
	assert_int_equal(cas_unpack(&f->c, e.blob, f->ws, &unchanged, &err), 0);
	assert_false(unchanged);
	sh("test \"$(cat %s/node_modules/a/x.js)\" = one", f->ws);
	/* a corrupt blob is an error, not a crash */
	sh("rm -rf %s/node_modules && head -c 1000 /dev/urandom >%s/cache/blobs/%s.tzst", f->ws, f->dir,
	   e.blob);
	assert_int_equal(cas_unpack(&f->c, e.blob, f->ws, &unchanged, &err), CAS_CORRUPT);
	assert_non_null(strstr(err.buf, "damaged"));
	sh("test ! -e %s/node_modules", f->ws); /* nothing restored */
	strvec_clear(&p);
	buf_release(&err);
}

/* a cache's blob is not fsync'd: what a power loss can leave (an empty or
 * cut blob, a cut manifest) is a miss that removes the entry, never a
 * partial restore */
static void test_damaged_cache(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	struct strvec p = list("node_modules", "build", NULL);
	struct cas_entry e, e2, hit;
	int exact, unchanged;
	assert_int_equal(cas_save(&f->c, "k", &p, f->ws, &e, &err), 0);
	/* the same tree under another key: the same blob, the file kept */
	struct stat st1, st2;
	struct buf bp = BUF_INIT;
	buf_addf(&bp, "%s/cache/blobs/%s.tzst", f->dir, e.blob);
	assert_int_equal(stat(bp.buf, &st1), 0);
	assert_int_equal(cas_save(&f->c, "k2", &p, f->ws, &e2, &err), 0);
	assert_string_equal(e.blob, e2.blob);
	assert_int_equal(stat(bp.buf, &st2), 0);
	assert_true(st1.st_ino == st2.st_ino);
	/* a manifest cut at a record boundary does not claim the tree is
	 * there: a removed file comes back */
	sh("cd %s/cache/blobs && head -z -n 2 %s.manifest >m && mv m %s.manifest", f->dir, e.blob,
	   e.blob);
	sh("rm %s/node_modules/a/x.js", f->ws);
	assert_int_equal(cas_unpack(&f->c, e.blob, f->ws, &unchanged, &err), 0);
	assert_false(unchanged);
	sh("test \"$(cat %s/node_modules/a/x.js)\" = one", f->ws);
	/* a cut blob (its first half): nothing restored, both entries and
	 * the blob gone, a miss */
	sh("cd %s/cache/blobs && head -c $(($(stat -c %%s %s.tzst) / 2)) %s.tzst >t && mv t %s.tzst",
	   f->dir, e.blob, e.blob, e.blob);
	sh("rm -rf %s/node_modules %s/build", f->ws, f->ws);
	buf_reset(&err);
	assert_int_equal(cas_restore(&f->c, "k", NULL, &p, f->ws, &hit, &exact, &err), CAS_CORRUPT);
	assert_non_null(strstr(err.buf, "damaged"));
	sh("test ! -e %s/node_modules && test ! -e %s/build", f->ws, f->ws);
	sh("test ! -e %s", bp.buf);
	struct cas_entry *v;
	size_t n;
	assert_int_equal(cas_list(&f->c, &v, &n, &err), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(cas_restore(&f->c, "k2", NULL, &p, f->ws, &hit, &exact, &err), KILN_ENOENT);
	/* an empty blob, as a power loss right after the save leaves it */
	sh("mkdir -p %s/node_modules && echo one >%s/node_modules/x", f->ws, f->ws);
	assert_int_equal(cas_save(&f->c, "k3", &p, f->ws, &e, &err), 0);
	sh(": >%s/cache/blobs/%s.tzst && rm -rf %s/node_modules", f->dir, e.blob, f->ws);
	assert_int_equal(cas_restore(&f->c, "k3", NULL, &p, f->ws, &hit, &exact, &err), CAS_CORRUPT);
	sh("test ! -e %s/node_modules", f->ws);
	/* saved again, it restores */
	sh("mkdir -p %s/node_modules && echo one >%s/node_modules/x", f->ws, f->ws);
	assert_int_equal(cas_save(&f->c, "k3", &p, f->ws, &e, &err), 0);
	sh("rm -rf %s/node_modules", f->ws);
	assert_int_equal(cas_restore(&f->c, "k3", NULL, &p, f->ws, &hit, &exact, &err), 0);
	sh("test \"$(cat %s/node_modules/x)\" = one", f->ws);
	buf_release(&bp);
	strvec_clear(&p);
	buf_release(&err);
}

static void test_crash_leftovers(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	/* a half-written blob and entry from a crashed save */
	sh("cd %s/cache && head -c 5000 /dev/urandom >blobs/.tmp-abcdef && echo '{\"key\":' "
	   ">entries/0000000000000000000000000000000000000000000000000000000000000000.json.tmp.x && "
	   "touch -d '2 hours ago' blobs/.tmp-abcdef",
	   f->dir);
	struct cas_entry *v;
	size_t n;
	assert_int_equal(cas_list(&f->c, &v, &n, &err), 0);
	assert_int_equal(n, 0); /* not visible */
	free(v);
	size_t removed;
	uint64_t freed;
	assert_int_equal(cas_prune(&f->c, CAS_DEFAULT_LIMIT, &removed, &freed, &err), 0);
	sh("test ! -e %s/cache/blobs/.tmp-abcdef", f->dir);
	assert_true(freed >= 5000);
	uint64_t s;
	assert_int_equal(cas_parse_size("10G", &s), 0);
	assert_true(s == 10ull << 30);
	assert_int_equal(cas_parse_size("500M", &s), 0);
	assert_true(s == 500ull << 20);
	assert_int_equal(cas_parse_size("12", &s), 0);
	assert_true(s == 12);
	assert_int_equal(cas_parse_size("1X", &s), -1);
	assert_int_equal(cas_parse_size("-1", &s), -1);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_globs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lru_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_fast_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_leftovers, setup, teardown),
	};
	return cmocka_run_group_tests_name("cas", tests, NULL, NULL);
}
