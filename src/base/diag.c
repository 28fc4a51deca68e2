/* diag: positioned diagnostics. */
#include "base/diag.h"
#include "base/buf.h"
#include "base/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diags_release(struct diags *d)
{
	for (size_t i = 0; i < d->nr; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static void vadd(struct diags *d, enum diag_level lvl, const char *file, int line, int col,
		 const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	buf_vaddf(&b, fmt, ap);
	ALLOC_GROW(d->v, d->nr + 1, d->alloc);
	struct diag *x = &d->v[d->nr++];
	x->level = lvl;
	x->file = xstrdup(file ? file : "");
	x->line = line;
	x->col = col;
	x->msg = buf_detach(&b, NULL);
	if (lvl == DIAG_ERROR)
		d->errors++;
}

void diag_add(struct diags *d, enum diag_level lvl, const char *file, int line, int col,
	      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vadd(d, lvl, file, line, col, fmt, ap);
	va_end(ap);
}

int diag_err(struct diags *d, const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vadd(d, DIAG_ERROR, file, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

static int cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x < y ? -1 : (x > y); /* keep insertion order */
}

void diags_sort(struct diags *d)
{
	if (d->nr > 1)
		qsort(d->v, d->nr, sizeof(*d->v), cmp);
}

const char *diag_level_name(enum diag_level lvl)
{
	switch (lvl) {
	case DIAG_ERROR: return "error";
	case DIAG_WARNING: return "warning";
	case DIAG_NOTE: return "note";
	}
	return "error";
}

void diags_print(const struct diags *d, FILE *out)
{
	for (size_t i = 0; i < d->nr; i++) {
		const struct diag *x = &d->v[i];
		if (x->line > 0)
			fprintf(out, "%s:%d:%d: %s: %s\n", x->file, x->line, x->col,
				diag_level_name(x->level), x->msg);
		else
			fprintf(out, "%s: %s: %s\n", x->file, diag_level_name(x->level), x->msg);
	}
}
