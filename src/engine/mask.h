/*
 * mask: replaces secret values with *** in everything kiln prints or
 * stores. A masker holds the set of values (secrets, ::add-mask:: values,
 * and their JSON-escaped / base64 forms); text passes through it on its
 * way to every sink.
 *
 * Contract used by the executor and every log sink. The implementation
 * may change (streaming multi-pattern matching); the API stays.
 */
#ifndef KILN_MASK_H
#define KILN_MASK_H

#include <stddef.h>

#include "base/buf.h"

struct masker;

struct masker *mask_new(void);
void mask_free(struct masker *m);
/* register a value; multi-line values also register each line. Values
 * shorter than 1 byte are ignored. */
void mask_add(struct masker *m, const char *value, size_t len);
/* number of registered patterns */
size_t mask_count(const struct masker *m);
/* append `len` bytes of `in` to `out` with every registered value
 * replaced by "***" (whole-text form: the input is one complete unit, such
 * as a line) */
void mask_apply(const struct masker *m, const char *in, size_t len, struct buf *out);

#endif
