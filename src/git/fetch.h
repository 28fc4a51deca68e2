/*
 * fetch: a remote repository's refs and objects with libgit2 (no `git`
 * process), into a bare repository kept as a cache, and a commit's files
 * written out of it. Transports are libgit2's: https/http (smart HTTP),
 * git://, ssh (when built in), file:// and plain paths.
 *
 * A token is given only through libgit2's credential callback, as HTTP
 * basic auth `x-access-token:TOKEN` (what GitHub expects from an
 * installation or Actions token): it never appears in a URL, and no message
 * of this module contains it.
 */
#ifndef KILN_GIT_FETCH_H
#define KILN_GIT_FETCH_H

#include "base/buf.h"
#include "git/repo.h"

/* open the bare repository at `dir`, creating it when missing (the caller
 * holds the cache's lock); 0 or KILN_EIO with err */
int fetch_open_bare(const char *dir, struct repo **out, struct buf *err);

/*
 * Resolve `ref` on the remote `url` to a commit and make sure the commit's
 * objects are in `r`: a tag (annotated tags peeled) or a branch by its short
 * name, a full ref (refs/...), else a full or abbreviated (7+ hex) commit
 * id, looked for among every branch and tag. Only what is missing is
 * fetched. Returns 0 with the commit in `sha`, KILN_ENOENT when the remote
 * has no such ref or commit, KILN_EIO when it cannot be reached or refuses
 * (message in err, never the token).
 */
int fetch_resolve(struct repo *r, const char *url, const char *token, const char *ref,
		  char sha[REPO_OID_HEX], struct buf *err);

/* is commit `sha` (full hex) in r's object database? */
int fetch_has_commit(struct repo *r, const char *sha);

/*
 * Write the tree of commit `sha` (or of its sub-directory `path`, "" for
 * the root) into the existing empty directory `dest`. Returns 0,
 * KILN_ENOENT (no such commit or path) or KILN_EIO, with err.
 */
int fetch_write_tree(struct repo *r, const char *sha, const char *path, const char *dest,
		     struct buf *err);

/*
 * The id of the tree at `path` of commit `sha` ("" = the root tree), into
 * `out`. 0, or KILN_ENOENT with err.
 */
int fetch_tree_id(struct repo *r, const char *sha, const char *path, char out[REPO_OID_HEX],
		  struct buf *err);

/* the blob at `path` of commit `sha` appended to out; 0, KILN_ENOENT */
int fetch_read_blob(struct repo *r, const char *sha, const char *path, struct buf *out,
		    struct buf *err);

#endif
