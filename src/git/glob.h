/*
 * glob: GitHub Actions filter patterns for branches, tags and paths
 * (GitHub docs: workflow syntax → "Filter pattern cheat sheet"):
 *
 *   *      zero or more characters except '/'
 *   **     zero or more of any character; "**" followed by '/' also
 *          matches nothing at all ("**" + "/README.md" matches README.md)
 *   ?      zero or one of the preceding character (or [class])
 *   +      one or more of the preceding character (or [class])
 *   [...]  one character listed or in a range; ranges only a-z, A-Z, 0-9
 *   \c     the character c, literally
 *   !      as the FIRST character: a negative pattern
 *
 * A pattern must match the whole string. A list of patterns is checked in
 * order and the LAST pattern that matches decides: a positive one includes
 * the string, a negative one (re-)excludes it.
 */
#ifndef KILN_GIT_GLOB_H
#define KILN_GIT_GLOB_H

#include <stddef.h>

#include "base/buf.h"
#include "base/strvec.h"

struct glob_tok; /* compiled pattern element (glob.c) */

/* one compiled pattern */
struct glob {
	char *src;             /* the pattern as written, '!' included (owned) */
	int negate;            /* 1 for a leading '!' */
	struct glob_tok *toks; /* owned */
	size_t ntoks;
};

#define GLOB_INIT { NULL, 0, NULL, 0 }

/*
 * Compile `pattern`. Returns 0, or KILN_EINVAL with a message in `err`
 * (e.g. "invalid pattern 'v[': missing ']' after '['") and `g` left empty.
 */
int glob_compile(struct glob *g, const char *pattern, struct buf *err);
void glob_release(struct glob *g);
/* does the pattern (ignoring its '!') match the whole of `s`? */
int glob_match(const struct glob *g, const char *s);

/*
 * Pattern dialects: GitHub's filter patterns (above), or picomatch's globs
 * as dorny/paths-filter uses them (dot files match): `*` and `?` never
 * match '/', `**` as a whole path segment matches any number of segments
 * (including none), `[abc]` `[a-z]` `[!x]` `[^x]` classes, `\c` escapes;
 * `?` and `+` are not quantifiers there. Braces are expanded first with
 * glob_expand_braces(). A leading '!' sets `negate` in both dialects.
 */
enum glob_syntax { GLOB_GITHUB, GLOB_PICOMATCH };

int glob_compile_syntax(struct glob *g, const char *pattern, enum glob_syntax syntax,
			struct buf *err);
/* picomatch brace expansion: "a/{b,c{1..3}}" -> a/b, a/c1, a/c2, a/c3;
 * at most `cap` results are appended to out */
void glob_expand_braces(const char *pattern, struct strvec *out, size_t cap);

/* an ordered list of patterns, as in `branches:` or `paths:` */
struct glob_list {
	struct glob *v; /* owned */
	size_t nr, alloc;
};

#define GLOB_LIST_INIT { NULL, 0, 0 }

/* compile and append; 0 or KILN_EINVAL with a message in err */
int glob_list_add(struct glob_list *l, const char *pattern, struct buf *err);
void glob_list_release(struct glob_list *l);
/*
 * Evaluate the list on `s`: 1 when included (the last matching pattern is
 * positive), 0 when not. *decider (if not NULL) is set to the index of the
 * deciding pattern, or -1 when no pattern matched.
 */
int glob_list_match(const struct glob_list *l, const char *s, long *decider);

#endif
