/*
 * event: deriving push / pull_request events and their webhook payloads
 * from the repository (libgit2 revwalk and tree diffs; JSON via jansson).
 * Payload shapes follow GitHub's webhook documentation; fields that only a
 * hosted service knows (urls, ids of users) are left out.
 */
#include "base/kiln.h"
#include "git/diff.h"
#include "git/event.h"

#include <git2.h>
#include <jansson.h>

static const char zero_sha[] = "0000000000000000000000000000000000000000";

static int ref_exists(struct repo *r, const char *name)
{
	git_reference *ref = NULL;
	if (git_reference_lookup(&ref, repo_git(r), name) < 0)
		return 0;
	git_reference_free(ref);
	return 1;
}

char *repo_default_branch(struct repo *r, const struct repo_info *info)
{
	git_reference *ref = NULL;
	if (git_reference_lookup(&ref, repo_git(r), "refs/remotes/origin/HEAD") == 0) {
		const char *t = git_reference_symbolic_target(ref);
		char *out = NULL;
		if (t && str_starts_with(t, "refs/remotes/origin/"))
			out = xstrdup(t + strlen("refs/remotes/origin/"));
		git_reference_free(ref);
		if (out)
			return out;
	}
	if (ref_exists(r, "refs/heads/main"))
		return xstrdup("main");
	if (ref_exists(r, "refs/heads/master"))
		return xstrdup("master");
	return xstrdup(info && info->branch ? info->branch : "main");
}

static json_t *person(const char *name, const char *email)
{
	return json_pack("{s:s, s:s, s:s}", "name", name, "email", email, "username", name);
}

static json_t *repository_json(const struct repo_info *info, const char *default_branch)
{
	json_t *owner = json_pack("{s:s, s:s}", "login", info->owner, "name", info->owner);
	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:b, s:s?}", "name", info->name, "full_name",
			 info->repository, "owner", owner, "default_branch", default_branch,
			 "master_branch", default_branch, "private", 1, "clone_url",
			 info->origin_url);
}

/* a commit as in push payloads' commits[] and head_commit */
static json_t *commit_json(struct repo *r, const struct repo_commit *c)
{
	json_t *added = json_array(), *removed = json_array(), *modified = json_array();
	struct changes ch = CHANGES_INIT;
	const char *parent = c->parents.nr ? c->parents.v[0] : NULL;
	if (repo_diff(r, parent, c->sha, &ch, NULL) == 0) {
		for (size_t i = 0; i < ch.nr; i++) {
			/* a rename is the new name added and the old one removed */
			enum change_status st = ch.v[i].status;
			json_t *list = st == CHANGE_ADDED || st == CHANGE_RENAMED || st == CHANGE_COPIED ?
				added : st == CHANGE_DELETED ? removed : modified;
			json_array_append_new(list, json_string(ch.v[i].path));
			if (ch.v[i].status == CHANGE_RENAMED)
				json_array_append_new(removed, json_string(ch.v[i].old_path));
		}
	}
	changes_release(&ch);
	return json_pack("{s:s, s:s, s:b, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", c->sha,
			 "tree_id", c->tree, "distinct", 1, "message", c->message, "timestamp",
			 c->timestamp, "author", person(c->author_name, c->author_email),
			 "committer", person(c->committer_name, c->committer_email), "added", added,
			 "removed", removed, "modified", modified);
}

/* commits reachable from `after` but not from `before`, oldest first */
static json_t *commits_between(struct repo *r, const char *before, const char *after)
{
	json_t *arr = json_array();
	git_revwalk *walk = NULL;
	if (git_revwalk_new(&walk, repo_git(r)) < 0)
		return arr;
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	git_oid oid;
	git_oid_fromstr(&oid, after);
	git_revwalk_push(walk, &oid);
	if (before && !repo_oid_is_zero(before)) {
		git_oid_fromstr(&oid, before);
		git_revwalk_hide(walk, &oid);
	}
	while (git_revwalk_next(&oid, walk) == 0) {
		char hex[REPO_OID_HEX];
		git_oid_tostr(hex, sizeof(hex), &oid);
		struct repo_commit c = REPO_COMMIT_INIT;
		if (repo_commit_get(r, hex, &c, NULL) == 0)
			json_array_append_new(arr, commit_json(r, &c));
		repo_commit_release(&c);
	}
	git_revwalk_free(walk);
	/* keep the newest EVENT_MAX_COMMITS */
	while (json_array_size(arr) > EVENT_MAX_COMMITS)
		json_array_remove(arr, 0);
	return arr;
}

/* full ref for a user-given name: tags win over branches, as git's rev rules */
static char *full_ref(struct repo *r, const char *name)
{
	if (str_starts_with(name, "refs/"))
		return xstrdup(name);
	char *tag = xstrfmt("refs/tags/%s", name);
	if (ref_exists(r, tag))
		return tag;
	free(tag);
	return xstrfmt("refs/heads/%s", name);
}

static void set_ref(struct event_info *out, char *ref)
{
	out->ref = ref;
	if (str_starts_with(ref, "refs/tags/")) {
		out->ref_type = "tag";
		out->ref_name = xstrdup(ref + strlen("refs/tags/"));
	} else {
		out->ref_type = "branch";
		const char *n = ref;
		if (str_starts_with(ref, "refs/heads/"))
			n = ref + strlen("refs/heads/");
		else if (str_starts_with(ref, "refs/pull/"))
			n = ref + strlen("refs/pull/"); /* GitHub: "7/merge" */
		out->ref_name = xstrdup(n);
	}
}

static void add_changed(struct repo *r, const char *base, const char *head, struct event_info *out)
{
	struct changes ch = CHANGES_INIT;
	if (repo_diff(r, base, head, &ch, NULL) == 0) {
		changes_paths(&ch, &out->changed);
		out->changed_known = 1;
	}
	changes_release(&ch);
}

static int build_push(struct repo *r, const struct repo_info *info, const struct event_opts *o,
		      struct event_info *out, json_t *root, struct buf *err)
{
	int rc = repo_resolve(r, o->head ? o->head : "HEAD", out->sha, err);
	if (rc < 0)
		return rc;
	if (o->ref)
		set_ref(out, full_ref(r, o->ref));
	else if (!info->detached && info->ref)
		set_ref(out, xstrdup(info->ref));
	else if (info->tags.nr)
		set_ref(out, xstrfmt("refs/tags/%s", info->tags.v[0]));
	else
		set_ref(out, xstrdup(""));
	struct repo_commit head = REPO_COMMIT_INIT;
	if ((rc = repo_commit_get(r, out->sha, &head, err)) < 0)
		return rc;
	int is_tag = !strcmp(out->ref_type, "tag");
	char before[REPO_OID_HEX];
	snprintf(before, sizeof(before), "%s", zero_sha);
	if (o->base) {
		if ((rc = repo_resolve(r, o->base, before, err)) < 0)
			goto out;
	} else if (!is_tag && head.parents.nr) {
		snprintf(before, sizeof(before), "%s", head.parents.v[0]);
	}
	int created = repo_oid_is_zero(before);
	int forced = 0;
	if (!created && strcmp(before, out->sha)) {
		git_oid a, b;
		git_oid_fromstr(&a, out->sha);
		git_oid_fromstr(&b, before);
		forced = git_graph_descendant_of(repo_git(r), &a, &b) != 1;
	}
	add_changed(r, is_tag && !o->base ? (head.parents.nr ? head.parents.v[0] : NULL) : before,
		    out->sha, out);
	json_t *commits = is_tag && !o->base ? json_array() : commits_between(r, before, out->sha);
	json_object_set_new(root, "ref", json_string(out->ref));
	json_object_set_new(root, "before", json_string(before));
	json_object_set_new(root, "after", json_string(out->sha));
	json_object_set_new(root, "created", json_boolean(created));
	json_object_set_new(root, "deleted", json_false());
	json_object_set_new(root, "forced", json_boolean(forced));
	json_object_set_new(root, "base_ref", is_tag && info->ref && !strcmp(info->sha, out->sha) ?
				json_string(info->ref) : json_null());
	json_object_set_new(root, "compare", json_string(""));
	json_object_set_new(root, "commits", commits);
	json_object_set_new(root, "head_commit", commit_json(r, &head));
	json_object_set_new(root, "pusher", json_pack("{s:s, s:s}", "name", head.author_name,
						      "email", head.author_email));
	out->filter_ref = xstrdup(out->ref);
out:
	repo_commit_release(&head);
	return rc;
}

static json_t *pr_side(const char *branch, const char *sha, const struct repo_info *info,
		       json_t *repo)
{
	char *label = xstrfmt("%s:%s", info->owner, branch);
	json_t *j = json_pack("{s:s, s:s, s:s, s:o}", "ref", branch, "sha", sha, "label", label,
			      "repo", repo);
	free(label);
	return j;
}

static int build_pull_request(struct repo *r, const struct repo_info *info,
			      const struct event_opts *o, struct event_info *out, json_t *root,
			      struct buf *err)
{
	const char *head = o->head ? o->head : (info->branch ? info->branch : "HEAD");
	const char *base = o->base ? o->base : out->default_branch;
	char base_sha[REPO_OID_HEX], mb[REPO_OID_HEX];
	int rc = repo_resolve(r, head, out->sha, err);
	if (rc == 0)
		rc = repo_resolve(r, base, base_sha, err);
	if (rc == 0)
		rc = repo_merge_base(r, base_sha, out->sha, mb, err);
	if (rc < 0)
		return rc;
	int number = o->number > 0 ? o->number : 1;
	const char *hname = o->head_name ? o->head_name : head;
	const char *bname = o->base_name ? o->base_name : base;
	if (str_starts_with(hname, "refs/heads/"))
		hname += 11;
	if (str_starts_with(bname, "refs/heads/"))
		bname += 11;
	set_ref(out, xstrfmt("refs/pull/%d/merge", number));
	out->base_ref = xstrdup(bname);
	out->head_ref = xstrdup(hname);
	out->filter_ref = xstrfmt("refs/heads/%s", bname);
	add_changed(r, mb, out->sha, out);
	struct repo_commit hc = REPO_COMMIT_INIT;
	if ((rc = repo_commit_get(r, out->sha, &hc, err)) < 0)
		return rc;
	struct buf title = BUF_INIT;
	repo_commit_subject(&hc, &title);
	const char *body = strchr(hc.message, '\n');
	json_t *pr = json_pack(
		"{s:i, s:s, s:s?, s:s, s:b, s:b, s:o, s:o, s:{s:s}, s:I, s:s}", "number", number,
		"title", title.buf, "body", body ? body + strspn(body, "\n") : NULL, "state", "open",
		"draft", 0, "merged", 0, "head",
		pr_side(hname, out->sha, info, repository_json(info, out->default_branch)), "base",
		pr_side(bname, base_sha, info, repository_json(info, out->default_branch)), "user",
		"login", info->owner, "changed_files", (json_int_t)out->changed.nr, "merge_base_sha",
		mb);
	json_object_set_new(root, "action", json_string(o->action ? o->action : "opened"));
	json_object_set_new(root, "number", json_integer(number));
	json_object_set_new(root, "pull_request", pr);
	buf_release(&title);
	repo_commit_release(&hc);
	if (o->name && !strcmp(o->name, "pull_request_target")) {
		/* GitHub (and act): the base branch's workflow and last commit run;
		 * GITHUB_REF is the base branch, GITHUB_SHA its commit */
		free(out->ref);
		free(out->ref_name);
		set_ref(out, xstrfmt("refs/heads/%s", bname));
		memcpy(out->sha, base_sha, sizeof(base_sha));
	}
	return 0;
}

/* any other event: HEAD's ref and sha, no changed files */
static int build_other(struct repo *r, const struct repo_info *info, const struct event_opts *o,
		       struct event_info *out, struct buf *err)
{
	int rc = repo_resolve(r, o->head ? o->head : "HEAD", out->sha, err);
	if (rc < 0)
		return rc;
	if (o->ref)
		set_ref(out, full_ref(r, o->ref));
	else if (info->ref)
		set_ref(out, xstrdup(info->ref));
	else
		set_ref(out, xstrfmt("refs/heads/%s", out->default_branch));
	out->filter_ref = xstrdup(out->ref);
	return 0;
}

int event_build(struct repo *r, const struct repo_info *info, const struct event_opts *o,
		struct event_info *out, struct buf *err)
{
	const char *name = o->name ? o->name : "push";
	out->name = xstrdup(name);
	out->default_branch = repo_default_branch(r, info);
	if (!info->has_commit) {
		buf_addf(err, "repository '%s' has no commit yet", info->workdir);
		return KILN_EINVAL;
	}
	json_t *root = json_object();
	int rc;
	if (!strcmp(name, "push"))
		rc = build_push(r, info, o, out, root, err);
	else if (!strcmp(name, "pull_request") || !strcmp(name, "pull_request_target"))
		rc = build_pull_request(r, info, o, out, root, err);
	else
		rc = build_other(r, info, o, out, err);
	if (rc == 0) {
		json_object_set_new(root, "repository", repository_json(info, out->default_branch));
		json_object_set_new(root, "sender", json_pack("{s:s}", "login", info->owner));
		out->payload = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	}
	json_decref(root);
	return rc;
}

void event_info_release(struct event_info *e)
{
	free(e->name);
	free(e->ref);
	free(e->ref_name);
	free(e->base_ref);
	free(e->head_ref);
	free(e->filter_ref);
	free(e->default_branch);
	strvec_clear(&e->changed);
	free(e->payload);
	struct event_info z = EVENT_INFO_INIT;
	*e = z;
}
