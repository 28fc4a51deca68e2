/*
 * envfile: the file commands a step writes to $GITHUB_OUTPUT, $GITHUB_ENV,
 * $GITHUB_STATE (`NAME=VALUE` lines and the multi-line `NAME<<DELIMITER`
 * form) and $GITHUB_PATH (one directory per line). Semantics and error
 * texts follow actions/runner's FileCommandManager.
 */
#ifndef KILN_ENVFILE_H
#define KILN_ENVFILE_H

#include <stddef.h>

#include "base/buf.h"

/* files larger than this are refused (bytes) */
#define ENVFILE_MAX (16u << 20)

/* called for each pair in file order; value is not NUL-terminated
 * inside the text but `vlen` bytes long (a copy is NUL-terminated) */
typedef void (*envfile_pair_cb)(void *arg, const char *name, const char *value, size_t vlen);

/*
 * Parse key/value file-command text. Returns 0, or -1 with GitHub's message
 * in `err` ("Invalid format 'x'", "Invalid value. Matching delimiter not
 * found 'EOF'", ...); pairs before the error have been delivered.
 */
int envfile_parse(const char *text, size_t len, envfile_pair_cb cb, void *arg, struct buf *err);

/* GITHUB_PATH: each non-empty line, in order */
typedef void (*envfile_line_cb)(void *arg, const char *line, size_t len);
void envfile_parse_path(const char *text, size_t len, envfile_line_cb cb, void *arg);

#endif
