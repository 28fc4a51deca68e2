/*
 * debug-mask: `kiln debug mask` pipes stdin through a masker to stdout, for
 * the leak corpus and bench/mask.sh. Secrets come from -s VALUE (repeatable,
 * "\n" escapes allowed) and --secrets-file FILE (one per line); --chunk N cuts
 * the input into N-byte writes to exercise read boundaries.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "engine/mask.h"

#include <errno.h>
#include <unistd.h>

static const char *const usage[] = {
	"kiln debug mask [-s VALUE]... [--secrets-file FILE] [--chunk N] [--literal]", NULL
};

/* "\n" and "\\" escapes so tests can pass multi-line values as arguments */
static void unescape(const char *s, struct buf *out)
{
	for (; *s; s++) {
		if (*s == '\\' && s[1] == 'n') {
			buf_addch(out, '\n');
			s++;
		} else if (*s == '\\' && s[1] == '\\') {
			buf_addch(out, '\\');
			s++;
		} else {
			buf_addch(out, *s);
		}
	}
}

static int load_secrets_file(struct masker *m, const char *path, int literal)
{
	struct buf b = BUF_INIT;
	int r = buf_read_file(&b, path);
	if (r < 0) {
		fprintf(stderr, "kiln: error: cannot read '%s': %s\n", path, strerror(-r));
		return -1;
	}
	char *p = b.buf, *end = b.buf + b.len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (literal)
			mask_add_literal(m, p, l);
		else
			mask_add(m, p, l);
		p += l + 1;
	}
	buf_release(&b);
	return 0;
}

int debug_mask(int argc, char **argv)
{
	struct strvec vals = STRVEC_INIT;
	const char *file = NULL;
	int chunk = 1 << 20, literal = 0, ret = EXIT_OK;
	const struct opt opts[] = {
		{ OPT_LIST, 's', "secret", &vals, "VALUE", "a value to mask" },
		{ OPT_STRING, 0, "secrets-file", &file, "FILE", "values to mask, one per line" },
		{ OPT_INT, 0, "chunk", &chunk, "N", "bytes per write (default 1 MiB)" },
		{ OPT_BOOL, 0, "literal", &literal, NULL, "register values without derived forms" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	if (n < 0 || n > 0 || chunk < 1) {
		strvec_clear(&vals);
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	}
	struct masker *m = mask_new();
	for (size_t i = 0; i < vals.nr; i++) {
		struct buf v = BUF_INIT;
		unescape(vals.v[i], &v);
		if (literal)
			mask_add_literal(m, v.buf, v.len);
		else
			mask_add(m, v.buf, v.len);
		buf_release(&v);
	}
	if (file && load_secrets_file(m, file, literal) < 0) {
		ret = EXIT_USAGE;
		goto out;
	}
	struct mask_stream *s = mask_stream_new(m);
	char *in = xmalloc((size_t)chunk);
	struct buf o = BUF_INIT;
	for (;;) {
		ssize_t r = read(0, in, (size_t)chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "kiln: error: read: %s\n", strerror(errno));
			ret = EXIT_INTERNAL;
			break;
		}
		if (r == 0)
			mask_stream_flush(s, &o);
		else
			mask_stream_write(s, in, (size_t)r, &o);
		if (fs_write_all(1, o.buf, o.len) < 0) {
			ret = EXIT_INTERNAL;
			break;
		}
		buf_reset(&o);
		if (r == 0)
			break;
	}
	buf_release(&o);
	free(in);
	mask_stream_free(s);
out:
	mask_free(m);
	strvec_clear(&vals);
	return ret;
}
