/*
 * pathsfilter: the logic of dorny/paths-filter (v3) without node — named
 * filters (YAML: a pattern, a list of patterns with `!negations`, YAML
 * anchors, or `added|modified: pattern` change-status rules) matched with
 * picomatch globs against changed files, and the action's outputs
 * (<filter>, <filter>_count, <filter>_files, changes, any_changed,
 * all_changed).
 *
 * The built-in action (src/actions) reads inputs and writes outputs; this
 * module is the part that decides.
 */
#ifndef KILN_PATHSFILTER_H
#define KILN_PATHSFILTER_H

#include "base/buf.h"
#include "base/strvec.h"
#include "git/diff.h"

/* change statuses as dorny names them (bits for rules) */
enum pf_status {
	PF_ADDED = 1 << 0,
	PF_COPIED = 1 << 1,
	PF_DELETED = 1 << 2,
	PF_MODIFIED = 1 << 3,
	PF_RENAMED = 1 << 4,
	PF_UNMERGED = 1 << 5,
};

/* one changed file as the action sees it (renames: added + deleted) */
struct pf_file {
	char *path;          /* owned */
	enum pf_status status;
};

struct pf_files {
	struct pf_file *v; /* owned */
	size_t nr, alloc;
};

#define PF_FILES_INIT { NULL, 0, 0 }

struct pf_rule;   /* compiled rule (pathsfilter.c) */

struct pf_filter {
	char *name;            /* owned */
	struct pf_rule *rules; /* owned */
	size_t nr, alloc;
};

struct paths_filter {
	struct pf_filter *v; /* in YAML order (owned) */
	size_t nr, alloc;
	int every;           /* predicate-quantifier: every (default some) */
};

#define PATHS_FILTER_INIT { NULL, 0, 0, 0 }

/*
 * Parse the `filters` input (YAML text). `every` selects
 * predicate-quantifier: every. Returns 0, or KILN_EINVAL with a message
 * ("invalid filter YAML format: ...") in err.
 */
int pf_parse(struct paths_filter *pf, const char *yaml, size_t len, int every, struct buf *err);
void pf_release(struct paths_filter *pf);

/* the action's view of a diff: renames and copies split as git diff
 * --no-renames shows them */
void pf_files_from_changes(const struct changes *ch, struct pf_files *out);
void pf_files_release(struct pf_files *f);
const char *pf_status_name(enum pf_status s);

/* does filter i match file f? */
int pf_filter_matches(const struct paths_filter *pf, size_t i, const struct pf_file *f);

/*
 * The action's outputs as NAME=VALUE strings appended to out, in the
 * action's order. `list_files` is none, csv, json, shell or escape
 * (KILN_EINVAL with a message in err otherwise).
 */
int pf_outputs(const struct paths_filter *pf, const struct pf_files *files, const char *list_files,
	       struct strvec *out, struct buf *err);

#endif
