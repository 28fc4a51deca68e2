/*
 * repo: opening a repository and reading HEAD, tags, origin and commit
 * metadata through libgit2 (no `git` processes).
 */
#include "base/kiln.h"
#include "git/gitlib.h"
#include "git/repo.h"

#include <git2.h>
#include <git2/sys/repository.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

struct repo {
	git_repository *g;
};

/* append libgit2's last error message to err */
static int git_fail(struct buf *err, int code, const char *what)
{
	const git_error *e = git_error_last();
	if (err)
		buf_addf(err, "%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
	return code;
}

/*
 * libgit2's global state is initialised once and kept for the life of the
 * process (git/gitlib.c): an init/shutdown pair per open would dominate
 * `kiln run`'s start-up.
 */
static void lib_once(void)
{
	gitlib_init();
}

/*
 * The work tree above `dir` (itself included) that has a .git but is owned
 * by another user, or NULL. libgit2 refuses such a repository (git's
 * safe.directory check, CVE-2022-24765) with GIT_EOWNER, but 1.5 reports
 * it as "not found", so kiln looks for itself, as git does: the owner of
 * the directory holding .git. Root-owned ones are accepted, as libgit2 does.
 */
static char *foreign_worktree(const char *dir, uid_t *owner)
{
	char *p = realpath(dir, NULL);
	while (p && *p) {
		char *git = xstrfmt("%s/.git", p);
		struct stat st;
		int found = lstat(git, &st) == 0;
		free(git);
		if (found) {
			if (stat(p, &st) == 0 && st.st_uid != geteuid() && st.st_uid != 0) {
				*owner = st.st_uid;
				return p;
			}
			break;
		}
		char *slash = strrchr(p, '/');
		if (!slash || slash == p)
			break;
		*slash = '\0';
	}
	free(p);
	return NULL;
}

int repo_open(const char *dir, struct repo **out, struct buf *err)
{
	lib_once();
	git_repository *g = NULL;
	int rc = git_repository_open_ext(&g, dir, 0, NULL);
	if (rc < 0) {
		uid_t owner = 0;
		char *top = rc == GIT_ENOTFOUND || rc == GIT_EOWNER ? foreign_worktree(dir, &owner)
								     : NULL;
		if (top) {
			if (err)
				buf_addf(err, "repository '%s' is owned by another user (uid %u): git's "
					 "ownership check (safe.directory) refuses it; if you trust it: "
					 "git config --global --add safe.directory '%s'",
					 top, (unsigned)owner, top);
			free(top);
			return KILN_EINVAL;
		}
		if (rc == GIT_ENOTFOUND) {
			if (err)
				buf_addf(err, "not a git repository (or any parent): '%s'", dir);
			return KILN_ENOENT;
		}
		return git_fail(err, KILN_EIO, "cannot open repository");
	}
	/*
	 * Read the configuration once: libgit2 stats every config file
	 * (the repository's, ~/.gitconfig twice, XDG's, /etc/gitconfig) before
	 * each value it reads from a live one — ~100 stat calls in a one-step
	 * `kiln run`. kiln never writes a work tree's configuration, and a
	 * change made during the command is not seen either way.
	 */
	git_config *cfg = NULL;
	if (git_repository_config_snapshot(&cfg, g) == 0) {
		git_repository_set_config(g, cfg);
		git_config_free(cfg);
	}
	struct repo *r = xcalloc(1, sizeof(*r));
	r->g = g;
	*out = r;
	return 0;
}

int repo_open_bare(const char *gitdir, struct repo **out, struct buf *err)
{
	lib_once();
	git_repository *g = NULL;
	int rc = git_repository_open_bare(&g, gitdir);
	if (rc < 0)
		return git_fail(err, rc == GIT_ENOTFOUND ? KILN_ENOENT : KILN_EIO,
				"cannot open repository");
	struct repo *r = xcalloc(1, sizeof(*r));
	r->g = g;
	*out = r;
	return 0;
}

void repo_close(struct repo *r)
{
	if (!r)
		return;
	git_repository_free(r->g);
	free(r);
}

struct git_repository *repo_git(struct repo *r)
{
	return r->g;
}

static char *dupnull(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* ISO-8601 with the commit's own UTC offset, as GitHub prints timestamps */
static void format_time(char *out, size_t n, int64_t t, int tz_minutes)
{
	time_t local = (time_t)(t + (int64_t)tz_minutes * 60);
	struct tm tm;
	gmtime_r(&local, &tm);
	char date[24];
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	int off = tz_minutes < 0 ? -tz_minutes : tz_minutes;
	snprintf(out, n, "%s%c%02d:%02d", date, tz_minutes < 0 ? '-' : '+', off / 60, off % 60);
}

static void fill_commit(const git_commit *gc, struct repo_commit *c)
{
	git_oid_tostr(c->sha, sizeof(c->sha), git_commit_id(gc));
	git_oid_tostr(c->tree, sizeof(c->tree), git_commit_tree_id(gc));
	c->message = xstrdup(git_commit_message(gc) ? git_commit_message(gc) : "");
	const git_signature *a = git_commit_author(gc);
	const git_signature *m = git_commit_committer(gc);
	c->author_name = xstrdup(a && a->name ? a->name : "");
	c->author_email = xstrdup(a && a->email ? a->email : "");
	c->committer_name = xstrdup(m && m->name ? m->name : "");
	c->committer_email = xstrdup(m && m->email ? m->email : "");
	c->time = (int64_t)git_commit_time(gc);
	c->tz_minutes = git_commit_time_offset(gc);
	format_time(c->timestamp, sizeof(c->timestamp), c->time, c->tz_minutes);
	unsigned np = git_commit_parentcount(gc);
	for (unsigned i = 0; i < np; i++) {
		char hex[REPO_OID_HEX];
		git_oid_tostr(hex, sizeof(hex), git_commit_parent_id(gc, i));
		strvec_push(&c->parents, hex);
	}
}

void repo_commit_release(struct repo_commit *c)
{
	free(c->message);
	free(c->author_name);
	free(c->author_email);
	free(c->committer_name);
	free(c->committer_email);
	strvec_clear(&c->parents);
	struct repo_commit z = REPO_COMMIT_INIT;
	*c = z;
}

void repo_commit_subject(const struct repo_commit *c, struct buf *out)
{
	buf_reset(out);
	const char *m = c->message ? c->message : "";
	size_t n = strcspn(m, "\n");
	buf_add(out, m, n);
	buf_rtrim(out);
}

static int lookup_commit(struct repo *r, const char *rev, git_commit **out, struct buf *err)
{
	git_object *obj = NULL;
	if (git_revparse_single(&obj, r->g, rev) < 0) {
		if (err)
			buf_addf(err, "unknown revision '%s'", rev);
		return KILN_ENOENT;
	}
	git_object *peeled = NULL;
	int rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (rc < 0) {
		if (err)
			buf_addf(err, "revision '%s' is not a commit", rev);
		return KILN_ENOENT;
	}
	*out = (git_commit *)peeled;
	return 0;
}

int repo_resolve(struct repo *r, const char *rev, char out[REPO_OID_HEX], struct buf *err)
{
	git_commit *gc;
	int rc = lookup_commit(r, rev, &gc, err);
	if (rc < 0)
		return rc;
	git_oid_tostr(out, REPO_OID_HEX, git_commit_id(gc));
	git_commit_free(gc);
	return 0;
}

int repo_commit_get(struct repo *r, const char *rev, struct repo_commit *c, struct buf *err)
{
	git_commit *gc;
	int rc = lookup_commit(r, rev, &gc, err);
	if (rc < 0)
		return rc;
	fill_commit(gc, c);
	git_commit_free(gc);
	return 0;
}

/* strip a trailing ".git" and slashes, in place */
static void trim_repo_suffix(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	if (n > 4 && !strcmp(s + n - 4, ".git"))
		s[n - 4] = '\0';
}

int repo_parse_remote(const char *url, char **owner, char **name)
{
	char *u = xstrdup(url);
	trim_repo_suffix(u);
	/* the path part: after "scheme://host" or "user@host:" */
	char *path = u;
	char *scheme = strstr(u, "://");
	if (scheme) {
		path = strchr(scheme + 3, '/');
		path = path ? path : scheme + strlen(scheme);
	} else if (u[0] != '/' && u[0] != '.') {
		char *colon = strchr(u, ':');
		if (colon && (!strchr(u, '/') || colon < strchr(u, '/')))
			path = colon + 1;
	}
	char *last = strrchr(path, '/');
	const char *n = last ? last + 1 : path;
	if (!*n) {
		free(u);
		return -1;
	}
	const char *o = NULL;
	if (last) {
		*last = '\0';
		char *prev = strrchr(path, '/');
		o = prev ? prev + 1 : path;
		if (!*o)
			o = NULL;
	}
	*owner = xstrdup(o ? o : "local");
	*name = xstrdup(n);
	free(u);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every tag ref whose target (peeled) is the commit `head` */
static void tags_at(git_repository *g, const git_oid *head, struct strvec *out)
{
	git_reference_iterator *it = NULL;
	if (git_reference_iterator_glob_new(&it, g, "refs/tags/*") < 0)
		return;
	git_reference *ref;
	while (git_reference_next(&ref, it) == 0) {
		git_object *obj = NULL;
		if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0) {
			if (git_oid_equal(git_object_id(obj), head))
				strvec_push(out, git_reference_name(ref) + strlen("refs/tags/"));
			git_object_free(obj);
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	if (out->nr > 1)
		qsort(out->v, out->nr, sizeof(*out->v), cmp_str);
}

static void fill_head(git_repository *g, struct repo_info *info)
{
	git_reference *head = NULL;
	int rc = git_repository_head(&head, g);
	if (rc == GIT_EUNBORNBRANCH || rc < 0) {
		/* unborn: HEAD still names a branch */
		git_reference *sym = NULL;
		if (git_reference_lookup(&sym, g, "HEAD") == 0) {
			const char *t = git_reference_symbolic_target(sym);
			if (t && str_starts_with(t, "refs/heads/")) {
				info->ref = xstrdup(t);
				info->branch = xstrdup(t + strlen("refs/heads/"));
			}
			git_reference_free(sym);
		}
		return;
	}
	info->detached = git_repository_head_detached(g) == 1;
	if (!info->detached) {
		info->ref = xstrdup(git_reference_name(head));
		const char *nm = git_reference_name(head);
		info->branch = xstrdup(str_starts_with(nm, "refs/heads/") ? nm + 11 : nm);
	}
	git_object *obj = NULL;
	if (git_reference_peel(&obj, head, GIT_OBJECT_COMMIT) == 0) {
		info->has_commit = 1;
		git_oid_tostr(info->sha, sizeof(info->sha), git_object_id(obj));
		fill_commit((git_commit *)obj, &info->head);
		tags_at(g, git_object_id(obj), &info->tags);
		git_object_free(obj);
	}
	git_reference_free(head);
}

static void fill_names(git_repository *g, struct repo_info *info)
{
	/* read remote.origin.url from a config snapshot: git_remote_lookup
	 * in libgit2 1.5 leaks pcre2 match data on every call */
	git_config *cfg = NULL;
	if (git_repository_config_snapshot(&cfg, g) == 0) {
		const char *url = NULL;
		if (git_config_get_string(&url, cfg, "remote.origin.url") == 0)
			info->origin_url = dupnull(url);
		git_config_free(cfg);
	}
	if (!info->origin_url || repo_parse_remote(info->origin_url, &info->owner, &info->name) < 0) {
		char *dir = xstrdup(info->workdir);
		trim_repo_suffix(dir);
		const char *slash = strrchr(dir, '/');
		info->owner = xstrdup("local");
		info->name = xstrdup(slash && slash[1] ? slash + 1 : "repo");
		free(dir);
	}
	info->repository = xstrfmt("%s/%s", info->owner, info->name);
}

int repo_get_info(struct repo *r, struct repo_info *info, struct buf *err)
{
	const char *wd = git_repository_workdir(r->g);
	if (!wd)
		wd = git_repository_path(r->g);
	info->workdir = xstrdup(wd);
	size_t n = strlen(info->workdir);
	while (n > 1 && info->workdir[n - 1] == '/')
		info->workdir[--n] = '\0';
	fill_head(r->g, info);
	fill_names(r->g, info);
	return 0;
}

int repo_info_load(const char *dir, struct repo_info *info, struct buf *err)
{
	struct repo *r;
	int rc = repo_open(dir, &r, err);
	if (rc < 0)
		return rc;
	rc = repo_get_info(r, info, err);
	repo_close(r);
	return rc;
}

void repo_info_release(struct repo_info *info)
{
	free(info->workdir);
	free(info->ref);
	free(info->branch);
	strvec_clear(&info->tags);
	free(info->origin_url);
	free(info->owner);
	free(info->name);
	free(info->repository);
	repo_commit_release(&info->head);
	struct repo_info z = REPO_INFO_INIT;
	*info = z;
}
