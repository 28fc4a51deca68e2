/*
 * ynode: a YAML document as a generic tree that remembers where every node
 * came from (1-based line and column, as GitHub reports them). Built from
 * libyaml's event stream; the workflow and app loaders walk it.
 */
#ifndef KILN_YNODE_H
#define KILN_YNODE_H

#include <stddef.h>

#include "base/diag.h"

/* aliases (*name) are resolved while loading: the tree holds a copy of the
 * anchored node wherever an alias stood (GitHub has accepted anchors and
 * aliases in workflows since 2025-09) */
enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

enum ynode_style {
	YSTYLE_ANY,
	YSTYLE_PLAIN,
	YSTYLE_SINGLE,
	YSTYLE_DOUBLE,
	YSTYLE_LITERAL,
	YSTYLE_FOLDED,
	YSTYLE_FLOW, /* flow collection [..] / {..} */
};

struct ynode {
	enum ynode_kind kind;
	enum ynode_style style;
	int line, col;      /* 1-based start position */
	int end_line, end_col; /* 1-based end position */
	char *tag;          /* explicit tag as written (e.g. "!!str"), or NULL */
	char *anchor;       /* &anchor name written on this node, or NULL (not on alias copies) */
	char *str;          /* scalar text (NUL-terminated), NULL otherwise */
	size_t len;         /* scalar length in bytes */
	/* children: a sequence's items, or a mapping's keys and values
	 * interleaved (items[2i] key, items[2i+1] value) */
	struct ynode **items;
	size_t nr, alloc;
};

/* YAML documents larger than this are refused (bytes) */
#define YAML_MAX_SIZE (4u << 20)
/* nesting deeper than this is refused */
#define YAML_MAX_DEPTH 128
/* aliases may add at most this many nodes in all (no "billion laughs") */
#define YAML_MAX_ALIAS_NODES 100000

/*
 * Parse one YAML document. On success *out holds the root (NULL for an
 * empty document) and 0 is returned; on error a diagnostic naming `file`
 * is added to `d` and -1 is returned. Only the first document is read;
 * more than one is an error.
 */
int yaml_load(const char *file, const char *data, size_t len, struct ynode **out,
	      struct diags *d);
void ynode_free(struct ynode *n);

/* mapping helpers */
static inline size_t ynode_map_size(const struct ynode *m) { return m->nr / 2; }
static inline struct ynode *ynode_map_key(const struct ynode *m, size_t i) { return m->items[2 * i]; }
static inline struct ynode *ynode_map_val(const struct ynode *m, size_t i) { return m->items[2 * i + 1]; }
/* value for a scalar key, or NULL (exact, case-sensitive) */
struct ynode *ynode_get(const struct ynode *map, const char *key);

/* is this a plain scalar that YAML 1.2 core schema reads as null? */
int ynode_is_null(const struct ynode *n);
const char *ynode_kind_name(const struct ynode *n);
/* dump as indented text for `kiln debug yaml` */
void ynode_dump(const struct ynode *n, int indent, FILE *out);

#endif
