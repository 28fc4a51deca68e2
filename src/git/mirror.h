/*
 * mirror: the bare mirrors `kiln serve` keeps of its repositories
 * (libgit2): created once from a URL (a local path, file://, http(s)),
 * fetched with pruning, listed as refs, and read without a work tree
 * (files at a commit: the workflows of a pushed commit, as GitHub reads
 * them). Fetching blocks: the server calls it from the libuv thread pool.
 */
#ifndef KILN_MIRROR_H
#define KILN_MIRROR_H

#include "base/buf.h"
#include "base/strvec.h"

/* an empty bare repository at path (url noted in its config as kiln.url);
 * 0 or -1 with err */
int mirror_create(const char *path, const char *url, struct buf *err);
/* fetch every branch and tag of url into the mirror, pruning what the
 * remote deleted; 0 or -1 with err */
int mirror_fetch(const char *path, const char *url, struct buf *err);
/* branch and tag refs as "refs/heads/main=SHA" (SHA peeled to the commit),
 * sorted by name */
int mirror_refs(const char *path, struct strvec *out, struct buf *err);
/* the remote's default branch name ("main"), asking the remote; falls back
 * to main or master when it does not say; 0 or -1 with err */
int mirror_default_branch(const char *path, const char *url, struct buf *out, struct buf *err);
/* 1 when the mirror has commit sha (40 hex), else 0 */
int mirror_has_commit(const char *path, const char *sha);
/*
 * A work tree of commit sha at dest (created; must not exist): a non-bare
 * repository borrowing the mirror's objects (objects/info/alternates, no
 * copy), the mirror's branches and tags, HEAD detached at sha, the files
 * checked out, `ref` (a branch or tag, if not NULL or "") pointing at sha
 * and remote.origin.url = origin.
 * This is what a run sees as its repository. 0 or -1 with err.
 */
int mirror_worktree(const char *path, const char *sha, const char *ref, const char *origin,
		    const char *dest, struct buf *err);
/* the commit a branch, tag or full ref names in the mirror into sha (41
 * bytes) and its full ref name into ref_out; 0 or KILN_ENOENT */
int mirror_resolve(const char *path, const char *name, char sha[41], struct buf *ref_out);
/* every .yml/.yaml file directly under .github/workflows at commit sha:
 * fn(name, data, len, arg) for each (name without the directory), sorted;
 * 0, KILN_ENOENT (no such commit or directory) */
int mirror_workflows(const char *path, const char *sha,
		     void (*fn)(const char *name, const char *data, size_t len, void *arg),
		     void *arg);
/*
 * Every .yml/.yaml file under directory `dir` ("" = the root) at commit
 * sha, directly in it or one level below (apps/web.yml, apps/web/values.yaml):
 * fn(path, data, len, arg) with the path relative to `dir`, sorted; files
 * over `max` bytes are skipped. 0, or KILN_ENOENT (no such commit or dir).
 */
int mirror_files(const char *path, const char *sha, const char *dir, size_t max,
		 void (*fn)(const char *path, const char *data, size_t len, void *arg), void *arg);
/* is `url` acceptable (local directory, file://, http://, https://)? */
int mirror_url_ok(const char *url, struct buf *err);

#endif
