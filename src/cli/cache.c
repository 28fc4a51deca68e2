/*
 * cache: `kiln cache list|rm|prune` over the cache store (src/cas), plus
 * `save` and `restore` (what actions/cache does, from the command line).
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "cas/cas.h"
#include "cli/cmds.h"
#include "cli/opt.h"

#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const usage[] = {
	"kiln cache list",
	"kiln cache rm KEY [--prefix]",
	"kiln cache prune [--max-size SIZE]",
	"kiln cache save KEY PATH... [-C DIR]",
	"kiln cache restore KEY PATH... [-C DIR] [--restore-key PREFIX]...",
	NULL,
};

static void human(uint64_t n, char *out, size_t len)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, len, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void when(int64_t ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static int do_list(struct cas *c, struct buf *err)
{
	struct cas_entry *v;
	size_t n;
	if (cas_list(c, &v, &n, err) < 0)
		return EXIT_INTERNAL;
	uint64_t total = 0;
	int w = 3; /* the KEY column is as wide as the longest key */
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i].key) > (size_t)w)
			w = (int)strlen(v[i].key);
	if (n)
		printf("%-*s %10s  %-20s  %s\n", w, "KEY", "SIZE", "LAST USED", "CREATED");
	for (size_t i = 0; i < n; i++) {
		char sz[32], u[32], cr[32];
		human(v[i].size, sz, sizeof(sz));
		when(v[i].used_ms, u, sizeof(u));
		when(v[i].created_ms, cr, sizeof(cr));
		printf("%-*s %10s  %-20s  %s\n", w, v[i].key, sz, u, cr);
		total += v[i].size;
	}
	char t[32], l[32];
	human(total, t, sizeof(t));
	human(c->limit, l, sizeof(l));
	fprintf(stderr, "%zu entr%s, %s of %s\n", n, n == 1 ? "y" : "ies", t, l);
	free(v);
	return EXIT_OK;
}

static int do_save(struct cas *c, int argc, char **argv, const char *dir, struct buf *err)
{
	struct strvec paths = STRVEC_INIT;
	for (int i = 2; i < argc; i++)
		strvec_push(&paths, argv[i]);
	struct cas_entry e;
	int r = cas_save(c, argv[1], &paths, dir, &e, err);
	strvec_clear(&paths);
	if (r == CAS_EXISTS) {
		fprintf(stderr, "cache entry '%s' already exists; not saved\n", argv[1]);
		return EXIT_OK;
	}
	if (r == KILN_ENOENT) {
		buf_addstr(err, "no files matched the cache paths; nothing saved");
		return EXIT_FAILED;
	}
	if (r < 0)
		return EXIT_INTERNAL;
	char sz[32];
	human(e.size, sz, sizeof(sz));
	fprintf(stderr, "saved cache '%s' (%s)\n", e.key, sz);
	return EXIT_OK;
}

static int do_restore(struct cas *c, int argc, char **argv, const char *dir,
		      const struct strvec *rkeys, struct buf *err)
{
	struct strvec paths = STRVEC_INIT;
	for (int i = 2; i < argc; i++)
		strvec_push(&paths, argv[i]);
	struct cas_entry e;
	int exact = 0;
	int r = cas_restore(c, argv[1], rkeys, &paths, dir, &e, &exact, err);
	strvec_clear(&paths);
	if (r == CAS_CORRUPT) {
		fprintf(stderr, "warning: %s; the entry was removed\n", err->buf);
		buf_reset(err);
		r = KILN_ENOENT;
	}
	if (r == KILN_ENOENT) {
		fprintf(stderr, "cache not found for key '%s'\n", argv[1]);
		printf("cache-hit=false\n");
		return EXIT_FAILED;
	}
	if (r < 0)
		return EXIT_INTERNAL;
	fprintf(stderr, "restored cache '%s'\n", e.key);
	printf("cache-hit=%s\ncache-matched-key=%s\n", exact ? "true" : "false", e.key);
	return EXIT_OK;
}

int cmd_cache(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	int prefix = 0;
	const char *max = NULL, *dir = NULL;
	struct strvec rkeys = STRVEC_INIT;
	const struct opt opts[] = {
		{ OPT_BOOL, 0, "prefix", &prefix, NULL, "rm: every key starting with KEY" },
		{ OPT_STRING, 0, "max-size", &max, "SIZE", "prune: shrink to SIZE (e.g. 500M; default: the limit)" },
		{ OPT_STRING, 'C', NULL, &dir, "DIR", "save/restore: paths are relative to DIR" },
		{ OPT_LIST, 0, "restore-key", &rkeys, "PREFIX", "restore: fallback key prefixes, in order" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	if (n < 0) {
		strvec_clear(&rkeys);
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	}
	const char *verb = n ? argv[1] : "";
	int ok = (!strcmp(verb, "list") && n == 1) || (!strcmp(verb, "rm") && n == 2) ||
		 (!strcmp(verb, "prune") && n == 1) ||
		 ((!strcmp(verb, "save") || !strcmp(verb, "restore")) && n >= 3);
	uint64_t limit = 0;
	if (ok && max && cas_parse_size(max, &limit) < 0) {
		fprintf(stderr, "kiln: error: bad size '%s' for --max-size (e.g. 500M, 2G)\n", max);
		strvec_clear(&rkeys);
		return EXIT_USAGE;
	}
	if (!ok) {
		opt_usage(stderr, opts, usage);
		strvec_clear(&rkeys);
		return EXIT_USAGE;
	}
	struct stat st;
	int e = !dir ? 0 : stat(dir, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (e) {
		/* not "no files matched": say the directory itself is wrong */
		fprintf(stderr, "kiln: error: -C '%s': %s\n", dir,
			e == ENOENT ? "the directory does not exist" : strerror(e));
		strvec_clear(&rkeys);
		return EXIT_USAGE;
	}
	struct buf err = BUF_INIT, data = BUF_INIT, cwd = BUF_INIT;
	struct cas c = CAS_INIT;
	int r = EXIT_OK;
	if (!dir) {
		char tmp[4096];
		buf_addstr(&cwd, getcwd(tmp, sizeof(tmp)) ? tmp : ".");
		dir = cwd.buf;
	}
	if (kiln_data_dir(&data, &err) < 0 || cas_open(&c, data.buf, &err) < 0) {
		r = EXIT_INTERNAL;
	} else if (!strcmp(verb, "list")) {
		r = do_list(&c, &err);
	} else if (!strcmp(verb, "rm")) {
		size_t removed;
		if (cas_remove(&c, argv[2], prefix, &removed, &err) < 0)
			r = EXIT_INTERNAL;
		else if (!removed)
			buf_addf(&err, "no cache entry '%s'%s", argv[2], prefix ? "*" : ""), r = EXIT_USAGE;
		else
			fprintf(stderr, "removed %zu entr%s\n", removed, removed == 1 ? "y" : "ies");
	} else if (!strcmp(verb, "prune")) {
		size_t removed;
		uint64_t freed;
		if (cas_prune(&c, max ? limit : c.limit, &removed, &freed, &err) < 0) {
			r = EXIT_INTERNAL;
		} else {
			char f[32];
			human(freed, f, sizeof(f));
			fprintf(stderr, "pruned %zu entr%s, freed %s\n", removed, removed == 1 ? "y" : "ies", f);
		}
	} else if (!strcmp(verb, "save")) {
		r = do_save(&c, n, argv + 1, dir, &err);
	} else {
		r = do_restore(&c, n, argv + 1, dir, &rkeys, &err);
	}
	if (err.len)
		fprintf(stderr, "kiln: error: %s\n", err.buf);
	cas_close(&c);
	strvec_clear(&rkeys);
	buf_release(&err);
	buf_release(&data);
	buf_release(&cwd);
	return r;
}
