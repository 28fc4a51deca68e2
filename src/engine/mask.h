/*
 * mask: replaces secret values with *** in everything kiln prints or
 * stores. A masker holds the set of values (secrets, ::add-mask:: values,
 * and their JSON-escaped / base64 / URL-encoded / hex forms); text passes through it on its
 * way to every sink.
 *
 * Matching is Aho-Corasick over every registered pattern, with a
 * Wu-Manber style skip filter in front of it when every pattern is at
 * least 4 bytes long (see docs/internals/secrets.md). The union of all
 * occurrences is masked: overlapping or touching occurrences become one
 * "***", so a secret that overlaps another never leaks a fragment.
 *
 * Two ways to use it:
 *  - mask_apply: one complete unit of text (a line, a JSON document);
 *  - mask_stream_*: a byte stream cut at arbitrary read() boundaries. The
 *    stream holds back only the bytes that could still be the start of a
 *    secret (at most the longest pattern's length) and releases them as
 *    soon as they cannot.
 */
#ifndef KILN_MASK_H
#define KILN_MASK_H

#include <stddef.h>

#include "base/buf.h"

struct masker;
struct mask_stream;

/* the text every masked region is replaced with */
#define MASK_REPLACEMENT "***"

struct masker *mask_new(void);
/* frees the masker; every stream made from it must be freed first */
void mask_free(struct masker *m);
/*
 * Register a secret value. Also registers each line of a multi-line value
 * (without a trailing \r), its JSON-escaped forms (as inside a JSON string:
 * plain UTF-8, with "\/" for '/', and \uXXXX for non-ASCII), its base64
 * forms at the three byte alignments (the characters that depend only on
 * the value), its URL-encoded forms (encodeURIComponent, RFC 3986
 * unreserved kept, encodeURI, and '+' for space; %XX in upper and lower
 * case) and its hex forms (lower and upper case), when those are at least
 * 4 bytes long. Empty values are ignored. May be called while streams
 * exist (::add-mask::): it applies to
 * bytes those streams have not released yet and to everything after.
 */
void mask_add(struct masker *m, const char *value, size_t len);
/* register exactly these bytes, no derived forms */
void mask_add_literal(struct masker *m, const char *value, size_t len);
/* number of registered patterns (values, lines and derived forms) */
size_t mask_count(const struct masker *m);
/*
 * Append `len` bytes of `in` to `out` with every registered value replaced
 * by "***" (whole-text form: the input is one complete unit, such as a line).
 */
void mask_apply(const struct masker *m, const char *in, size_t len, struct buf *out);

/* a stream masking through m; m must outlive it */
struct mask_stream *mask_stream_new(const struct masker *m);
void mask_stream_free(struct mask_stream *s);
/*
 * Feed `len` bytes; appends to `out` every byte (or "***") that is now
 * final. Bytes that could still begin a secret are held back.
 */
void mask_stream_write(struct mask_stream *s, const char *in, size_t len, struct buf *out);
/* end of stream: appends everything held back; the stream can be reused */
void mask_stream_flush(struct mask_stream *s, struct buf *out);
/* number of input bytes currently held back (for tests) */
size_t mask_stream_held(const struct mask_stream *s);

#endif
