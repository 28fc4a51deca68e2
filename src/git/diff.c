/*
 * diff: tree-to-tree comparison with libgit2 (rename detection on), and
 * merge bases.
 */
#include "base/kiln.h"
#include "git/diff.h"

#include <git2.h>

static const char *const status_names[] = {
	"added", "modified", "removed", "renamed", "copied", "changed",
};

const char *change_status_name(enum change_status s)
{
	return (size_t)s < ARRAY_SIZE(status_names) ? status_names[s] : "changed";
}

int repo_oid_is_zero(const char *hex)
{
	if (!hex || !*hex)
		return 0;
	for (; *hex; hex++)
		if (*hex != '0')
			return 0;
	return 1;
}

/* the tree of revision `rev`, or NULL (empty tree) for no revision */
static int tree_of(struct repo *r, const char *rev, git_tree **out, struct buf *err)
{
	*out = NULL;
	if (!rev || !*rev || repo_oid_is_zero(rev))
		return 0;
	git_object *obj = NULL;
	if (git_revparse_single(&obj, repo_git(r), rev) < 0) {
		if (err)
			buf_addf(err, "unknown revision '%s'", rev);
		return KILN_ENOENT;
	}
	git_object *tree = NULL;
	int rc = git_object_peel(&tree, obj, GIT_OBJECT_TREE);
	git_object_free(obj);
	if (rc < 0) {
		if (err)
			buf_addf(err, "revision '%s' has no tree", rev);
		return KILN_ENOENT;
	}
	*out = (git_tree *)tree;
	return 0;
}

static enum change_status map_status(git_delta_t s)
{
	switch (s) {
	case GIT_DELTA_ADDED: return CHANGE_ADDED;
	case GIT_DELTA_DELETED: return CHANGE_DELETED;
	case GIT_DELTA_RENAMED: return CHANGE_RENAMED;
	case GIT_DELTA_COPIED: return CHANGE_COPIED;
	case GIT_DELTA_TYPECHANGE: return CHANGE_TYPECHANGE;
	default: return CHANGE_MODIFIED;
	}
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp(((const struct change *)a)->path, ((const struct change *)b)->path);
}

static void collect(git_diff *diff, struct changes *out)
{
	size_t n = git_diff_num_deltas(diff);
	for (size_t i = 0; i < n; i++) {
		const git_diff_delta *dd = git_diff_get_delta(diff, i);
		if (dd->status == GIT_DELTA_UNMODIFIED)
			continue;
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		struct change *c = &out->v[out->nr++];
		c->status = map_status(dd->status);
		const char *p = dd->status == GIT_DELTA_DELETED ? dd->old_file.path : dd->new_file.path;
		c->path = xstrdup(p);
		c->old_path = (c->status == CHANGE_RENAMED || c->status == CHANGE_COPIED) ?
			xstrdup(dd->old_file.path) : NULL;
	}
	if (out->nr > 1)
		qsort(out->v, out->nr, sizeof(*out->v), cmp_change);
}

int repo_diff(struct repo *r, const char *base, const char *head, struct changes *out,
	      struct buf *err)
{
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	int rc = tree_of(r, base, &a, err);
	if (rc == 0)
		rc = tree_of(r, head && *head ? head : "HEAD", &b, err);
	if (rc < 0)
		goto out;
	git_diff_options opts;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	if (git_diff_tree_to_tree(&diff, repo_git(r), a, b, &opts) < 0) {
		rc = KILN_EIO;
		goto out;
	}
	git_diff_find_options fo;
	git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
	fo.flags = GIT_DIFF_FIND_RENAMES;
	if (git_diff_find_similar(diff, &fo) < 0) {
		rc = KILN_EIO;
		goto out;
	}
	collect(diff, out);
out:
	if (rc == KILN_EIO && err) {
		const git_error *e = git_error_last();
		buf_addf(err, "cannot diff '%s'..'%s': %s", base ? base : "", head ? head : "HEAD",
			 e && e->message ? e->message : "libgit2 error");
	}
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	return rc;
}

void changes_release(struct changes *c)
{
	for (size_t i = 0; i < c->nr; i++) {
		free(c->v[i].path);
		free(c->v[i].old_path);
	}
	free(c->v);
	struct changes z = CHANGES_INIT;
	*c = z;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void changes_paths(const struct changes *c, struct strvec *out)
{
	struct strvec all = STRVEC_INIT;
	for (size_t i = 0; i < c->nr; i++) {
		strvec_push(&all, c->v[i].path);
		if (c->v[i].old_path)
			strvec_push(&all, c->v[i].old_path);
	}
	if (all.nr > 1)
		qsort(all.v, all.nr, sizeof(*all.v), cmp_str);
	for (size_t i = 0; i < all.nr; i++)
		if (i == 0 || strcmp(all.v[i], all.v[i - 1]))
			strvec_push(out, all.v[i]);
	strvec_clear(&all);
}

int repo_merge_base(struct repo *r, const char *a, const char *b, char out[REPO_OID_HEX],
		    struct buf *err)
{
	char ha[REPO_OID_HEX], hb[REPO_OID_HEX];
	int rc = repo_resolve(r, a, ha, err);
	if (rc == 0)
		rc = repo_resolve(r, b, hb, err);
	if (rc < 0)
		return rc;
	git_oid oa, ob, base;
	git_oid_fromstr(&oa, ha);
	git_oid_fromstr(&ob, hb);
	if (git_merge_base(&base, repo_git(r), &oa, &ob) < 0) {
		if (err)
			buf_addf(err, "'%s' and '%s' have no common ancestor", a, b);
		return KILN_ENOENT;
	}
	git_oid_tostr(out, REPO_OID_HEX, &base);
	return 0;
}
