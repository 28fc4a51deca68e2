/*
 * diff: which files changed between two commits (tree-to-tree, renames
 * detected), for `paths:` filters, paths-filter and event payloads; and
 * merge bases for pull-request style (three-dot) comparisons.
 */
#ifndef KILN_GIT_DIFF_H
#define KILN_GIT_DIFF_H

#include "base/buf.h"
#include "base/strvec.h"
#include "git/repo.h"

enum change_status {
	CHANGE_ADDED,
	CHANGE_MODIFIED,
	CHANGE_DELETED,
	CHANGE_RENAMED,
	CHANGE_COPIED,
	CHANGE_TYPECHANGE,
};

/* "added", "modified", "removed", "renamed", "copied", "changed" (GitHub's words) */
const char *change_status_name(enum change_status s);

struct change {
	enum change_status status;
	char *path;     /* the new path (the old one for deletions), owned */
	char *old_path; /* renames and copies: where it came from, else NULL (owned) */
};

struct changes {
	struct change *v; /* sorted by path (owned) */
	size_t nr, alloc;
};

#define CHANGES_INIT { NULL, 0, 0 }

/*
 * Files that differ between the trees of commits `base` and `head` (any
 * revisions). `base` NULL, "" or the all-zero id means the empty tree (every
 * file of head is added). Renames are detected (50% similarity, as git).
 * Returns 0, or KILN_ENOENT / KILN_EIO with a message in err.
 */
int repo_diff(struct repo *r, const char *base, const char *head, struct changes *out,
	      struct buf *err);
void changes_release(struct changes *c);
/* every path a filter should see: new paths, plus old paths of renames;
 * sorted, unique; appended to out */
void changes_paths(const struct changes *c, struct strvec *out);

/* the best common ancestor of a and b into out; KILN_ENOENT when none */
int repo_merge_base(struct repo *r, const char *a, const char *b, char out[REPO_OID_HEX],
		    struct buf *err);

/* is this the all-zero object id GitHub uses for "no commit"? */
int repo_oid_is_zero(const char *hex);

#endif
