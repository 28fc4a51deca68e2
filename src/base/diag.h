/*
 * diag: user-facing diagnostics with a source position, printed as
 * `file:line:col: error: message` (git's voice: lowercase, no final period).
 * A `struct diags` collects every problem of one input so lint can report
 * them all at once, sorted by position.
 */
#ifndef KILN_DIAG_H
#define KILN_DIAG_H

#include <stddef.h>
#include <stdio.h>

enum diag_level { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag {
	enum diag_level level;
	char *file;    /* owned */
	int line, col; /* 1-based; 0 when unknown */
	char *msg;     /* owned, no position prefix */
};

struct diags {
	struct diag *v; /* owned array */
	size_t nr, alloc;
	size_t errors; /* count of DIAG_ERROR entries */
};

#define DIAGS_INIT { NULL, 0, 0, 0 }

void diags_release(struct diags *d);
void diag_add(struct diags *d, enum diag_level lvl, const char *file, int line, int col,
	      const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* shorthand for an error; always returns -1 so `return diag_err(...)` works */
int diag_err(struct diags *d, const char *file, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* stable sort by file, line, col */
void diags_sort(struct diags *d);
/* print every diagnostic as file:line:col: level: msg */
void diags_print(const struct diags *d, FILE *out);
const char *diag_level_name(enum diag_level lvl);

#endif
