/*
 * libarchive, loaded with dlopen on first use: only the cache (pack.c,
 * unpack.c) needs it, and linking it costs every kiln start-up ~11 more
 * shared libraries (libxml2, ICU, libstdc++, ...) to map and relocate.
 * Each function pack.c and unpack.c call is defined here with the
 * header's prototype and forwards to the library's symbol; when the
 * library cannot be loaded the calls fail (NULL / ARCHIVE_FATAL) and
 * archive_error_string says why.
 */
#include "base/kiln.h"
#include "base/dl.h"

#include <archive.h>
#include <archive_entry.h>
#include <pthread.h>

#define LA_SONAME "libarchive.so.13"

/* X(return type, name, (parameters), (arguments), value when not loaded) */
#define LA_FUNCS(X) \
	X(struct archive *, archive_read_new, (void), (), NULL) \
	X(struct archive *, archive_write_new, (void), (), NULL) \
	X(struct archive *, archive_write_disk_new, (void), (), NULL) \
	X(int, archive_read_free, (struct archive *a), (a), ARCHIVE_FATAL) \
	X(int, archive_write_free, (struct archive *a), (a), ARCHIVE_FATAL) \
	X(int, archive_write_close, (struct archive *a), (a), ARCHIVE_FATAL) \
	X(int, archive_write_finish_entry, (struct archive *a), (a), ARCHIVE_FATAL) \
	X(int, archive_write_set_format_pax, (struct archive *a), (a), ARCHIVE_FATAL) \
	X(int, archive_read_support_format_tar, (struct archive *a), (a), ARCHIVE_FATAL) \
	X(int, archive_read_support_filter_zstd, (struct archive *a), (a), ARCHIVE_FATAL) \
	X(int, archive_read_data_skip, (struct archive *a), (a), ARCHIVE_FATAL) \
	X(int, archive_write_set_bytes_per_block, (struct archive *a, int n), (a, n), ARCHIVE_FATAL) \
	X(int, archive_write_set_bytes_in_last_block, (struct archive *a, int n), (a, n), \
	  ARCHIVE_FATAL) \
	X(int, archive_write_disk_set_options, (struct archive *a, int f), (a, f), ARCHIVE_FATAL) \
	X(int, archive_write_header, (struct archive *a, struct archive_entry *e), (a, e), \
	  ARCHIVE_FATAL) \
	X(int, archive_read_next_header, (struct archive *a, struct archive_entry **e), (a, e), \
	  ARCHIVE_FATAL) \
	X(int, archive_write_open2, \
	  (struct archive *a, void *d, archive_open_callback *o, archive_write_callback *w, \
	   archive_close_callback *c, archive_free_callback *f), (a, d, o, w, c, f), ARCHIVE_FATAL) \
	X(int, archive_read_open_filename, (struct archive *a, const char *f, size_t b), (a, f, b), \
	  ARCHIVE_FATAL) \
	X(int, archive_read_open, \
	  (struct archive *a, void *d, archive_open_callback *o, archive_read_callback *r, \
	   archive_close_callback *c), (a, d, o, r, c), ARCHIVE_FATAL) \
	X(la_ssize_t, archive_write_data, (struct archive *a, const void *p, size_t n), (a, p, n), \
	  -1) \
	X(la_ssize_t, archive_write_data_block, \
	  (struct archive *a, const void *p, size_t n, la_int64_t o), (a, p, n, o), -1) \
	X(int, archive_read_data_block, \
	  (struct archive *a, const void **p, size_t *n, la_int64_t *o), (a, p, n, o), \
	  ARCHIVE_FATAL) \
	X(struct archive_entry *, archive_entry_new, (void), (), NULL) \
	X(struct archive_entry *, archive_entry_clear, (struct archive_entry *e), (e), NULL) \
	X(la_int64_t, archive_entry_size, (struct archive_entry *e), (e), 0) \
	X(const char *, archive_entry_pathname, (struct archive_entry *e), (e), NULL) \
	X(time_t, archive_entry_mtime, (struct archive_entry *e), (e), 0) \
	X(long, archive_entry_mtime_nsec, (struct archive_entry *e), (e), 0) \
	X(__LA_MODE_T, archive_entry_filetype, (struct archive_entry *e), (e), 0) \
	X(__LA_MODE_T, archive_entry_perm, (struct archive_entry *e), (e), 0)

#define LA_VOIDS(X) \
	X(archive_entry_free, (struct archive_entry *e), (e)) \
	X(archive_entry_copy_pathname, (struct archive_entry *e, const char *s), (e, s)) \
	X(archive_entry_copy_symlink, (struct archive_entry *e, const char *s), (e, s)) \
	X(archive_entry_set_uname, (struct archive_entry *e, const char *s), (e, s)) \
	X(archive_entry_set_gname, (struct archive_entry *e, const char *s), (e, s)) \
	X(archive_entry_copy_stat, (struct archive_entry *e, const struct stat *st), (e, st)) \
	X(archive_entry_unset_atime, (struct archive_entry *e), (e)) \
	X(archive_entry_unset_ctime, (struct archive_entry *e), (e))

/* the library's symbols, resolved once (immutable afterwards) */
static struct {
#define FIELD(ret, name, params, args, fail) ret (*name) params;
#define VFIELD(name, params, args) void (*name) params;
	LA_FUNCS(FIELD)
	LA_VOIDS(VFIELD)
	const char *(*archive_error_string)(struct archive *);
	int loaded;
	char why[256];
} la;
static pthread_once_t la_once = PTHREAD_ONCE_INIT;

static const struct dl_sym la_syms[] = {
#define SYM(ret, name, params, args, fail) { #name, (void **)&la.name },
#define VSYM(name, params, args) { #name, (void **)&la.name },
	LA_FUNCS(SYM) LA_VOIDS(VSYM) VSYM(archive_error_string, , )
};

static void la_load(void)
{
	la.loaded = !dl_load(LA_SONAME, la_syms, ARRAY_SIZE(la_syms), la.why, sizeof(la.why));
}

static int la_ready(void)
{
	pthread_once(&la_once, la_load);
	return la.loaded;
}

#define DEFINE(ret, name, params, args, fail) \
	ret name params \
	{ \
		return la_ready() ? la.name args : fail; \
	}
#define VDEFINE(name, params, args) \
	void name params \
	{ \
		if (la_ready()) \
			la.name args; \
	}
LA_FUNCS(DEFINE)
LA_VOIDS(VDEFINE)

const char *archive_error_string(struct archive *a)
{
	if (!la_ready())
		return la.why;
	return la.archive_error_string(a);
}
