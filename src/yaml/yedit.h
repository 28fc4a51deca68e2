/*
 * yedit: change one scalar of a YAML document in place, the way a person
 * would with an editor: the bytes of that scalar are replaced and nothing
 * else moves (comments, key order, quoting of the rest, blank lines stay).
 * Used by `kiln/gitops` and `kiln rollback` to bump a release in a config
 * repository (seed 003's `yq -i '.image.tag = "..."'`).
 */
#ifndef KILN_YEDIT_H
#define KILN_YEDIT_H

#include "base/buf.h"

/*
 * Set the scalar at `path` (".image.tag", "version": mapping keys from
 * the root, dot-separated, a leading dot optional) of the document
 * text/len to value, writing the whole new document to out. The
 * scalar keeps its quoting style (a plain one becomes double-quoted when
 * value would not read back as the same string). 0, or -1 with err: the
 * document does not parse, a key is missing, the node is not a one-line
 * scalar.
 */
int yedit_set(const char *file, const char *text, size_t len, const char *path, const char *value,
	      struct buf *out, struct buf *err);
/* the scalar at path into out; 0 or -1 with err (as above) */
int yedit_get(const char *file, const char *text, size_t len, const char *path, struct buf *out,
	      struct buf *err);

#endif
