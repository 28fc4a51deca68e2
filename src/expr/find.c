/*
 * find: locate `${{ ... }}` in template strings. Used by the loader (to
 * record every expression's position and report unclosed ones) and by
 * interpolation. GitHub's rule: the expression ends at the first `}}` that
 * is not inside a single-quoted string literal.
 */
#include "base/kiln.h"
#include "expr/expr.h"

long expr_find(const char *s, size_t len, size_t from, long *end)
{
	for (size_t i = from; i + 3 <= len; i++) {
		if (s[i] != '$' || s[i + 1] != '{' || s[i + 2] != '{')
			continue;
		int quoted = 0;
		for (size_t j = i + 3; j < len; j++) {
			if (s[j] == '\'') {
				quoted = !quoted; /* '' inside a literal toggles twice */
			} else if (!quoted && s[j] == '}' && j + 1 < len && s[j + 1] == '}') {
				*end = (long)(j + 2);
				return (long)i;
			}
		}
		*end = -1;
		return (long)i;
	}
	*end = -1;
	return -1;
}
