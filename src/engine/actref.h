/*
 * actref: remote action and reusable-workflow references — `owner/repo
 * [/path]@ref` and `$/path` — resolved to a commit and its files on disk.
 *
 * The cache lives under kiln's data directory (<data>/actions/), keyed by
 * (base URL, owner/repo, commit): `<base>/<owner>/<repo>/git` is a bare
 * repository holding the fetched objects, `refs` maps the refs used so far
 * to commits, `commits/<sha>/` holds the files of each commit used. A
 * reference resolved once is served from there without any network I/O
 * (unless `pull`); `$/` files come from the local repository's object
 * database into `self/<tree id>/`. Everything is created aside and renamed
 * into place, and the network part runs under a per-repository flock, so
 * concurrent kiln processes never see half a fetch.
 */
#ifndef KILN_ACTREF_H
#define KILN_ACTREF_H

#include "base/buf.h"
#include "git/repo.h"

/* GitHub: where actions come from unless configured */
#define ACTREF_DEFAULT_BASE "https://github.com"

struct actref_opts {
	const char *base_url;  /* URL, file:// URL or path of the server; NULL = github.com */
	const char *token;     /* HTTP basic auth token (GITHUB_TOKEN), or NULL */
	const char *cache_dir; /* NULL = <kiln data dir>/actions */
	int offline;           /* never use the network: the cache or an error */
	int pull;              /* ask the server again for refs (not for commit ids) */
};

/* one repository at one commit, its files on disk */
struct actref_src {
	char *repo;               /* owner/repo as written */
	char *ref;                /* ref as written (the commit id for `$/` of the run) */
	char sha[REPO_OID_HEX];   /* the commit */
	char *dir;                /* the commit's files (whole tree; read-only by convention),
				     NULL for the run's own repository */
	char *repo_dir;           /* the run's own repository (`$/` of a workflow), else NULL */
};

/* a parsed `owner/repo[/path]@ref` */
struct actref {
	char *repo;  /* owner/repo */
	char *path;  /* sub-directory or file, "" for the root */
	char *ref;
};

struct actref_cache;

int actref_cache_new(const struct actref_opts *o, struct actref_cache **out, struct buf *err);
void actref_cache_free(struct actref_cache *c);

/*
 * Split `uses` into its parts. Returns 0, or -1 with a message in err when
 * it does not have the shape (no '@', no owner/repo, an empty ref, a '..'
 * segment, characters GitHub does not allow in names).
 */
int actref_parse(const char *uses, struct actref *out, struct buf *err);
void actref_release(struct actref *r);

/* is `uses` a `$/path` self reference? (then *path is what follows "$/") */
int actref_is_self(const char *uses, const char **path);

/*
 * repo@ref to a commit whose files are on disk. Looked up in this process's
 * memo, then in the cache; then, when `network` is set and the cache is not
 * offline, on the server. *out stays valid until actref_cache_free.
 * Returns 0; KILN_ENOENT when the ref does not exist or (offline) is not
 * cached; KILN_EIO for an unreachable server or a disk failure. err names
 * `repo@ref` and never contains the token.
 */
int actref_get(struct actref_cache *c, const char *repo, const char *ref, int network,
	       const struct actref_src **out, struct buf *err);

/*
 * Resolve the references `refs` (repo and ref set) like actref_get with
 * network, several repositories at once on threads; each outcome is kept,
 * so the actref_get calls that follow answer from memory (a failure with
 * the same message, without a second try).
 */
void actref_prefetch(struct actref_cache *c, const struct actref *refs, size_t n);

/*
 * The run's own repository at commit `sha` as a source for `$/` (files
 * extracted lazily by actref_self_dir); repo is the `owner/name` shown in
 * GITHUB_ACTION_REPOSITORY. *out valid until actref_cache_free.
 */
int actref_self(struct actref_cache *c, const char *repo_dir, const char *repo,
		const char *sha, const struct actref_src **out, struct buf *err);

/*
 * The directory `path` of source `src` on disk, into *dir (owned): for a
 * remote source its files already are; for the run's own repository the
 * sub-tree is written into the cache once per tree id. 0, KILN_ENOENT,
 * KILN_EIO.
 */
int actref_dir(struct actref_cache *c, const struct actref_src *src, const char *path, char **dir,
	       struct buf *err);

/* the file `path` of source `src`, appended to out; 0, KILN_ENOENT, KILN_EIO */
int actref_read(struct actref_cache *c, const struct actref_src *src, const char *path,
		struct buf *out, struct buf *err);

#endif
