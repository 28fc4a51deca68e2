/*
 * ynode: build a positioned node tree from libyaml events. We use the event
 * API rather than yaml_document_t because we want our own node type with
 * tags, styles and anchors preserved for the loaders' own validation.
 */
#include "base/kiln.h"
#include "yaml/ynode.h"

#include <yaml.h>

struct builder {
	const char *file;
	struct diags *d;
	struct ynode *stack[YAML_MAX_DEPTH + 1];
	int depth;
	struct ynode *root;
	int docs;
	struct ynode **anchors; /* anchored nodes, in document order (borrowed) */
	size_t nanchors, aanchors;
	size_t alias_nodes;     /* nodes added by alias copies so far */
};

static struct ynode *node_new(enum ynode_kind kind, const yaml_mark_t *m)
{
	struct ynode *n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nr; i++)
		ynode_free(n->items[i]);
	free(n->items);
	free(n->tag);
	free(n->anchor);
	free(n->str);
	free(n);
}

static int attach(struct builder *b, struct ynode *n);

/* the node most recently anchored as `name` (YAML: an alias refers to the
 * closest preceding anchor of that name), or NULL */
static struct ynode *find_anchor(const struct builder *b, const char *name)
{
	for (size_t i = b->nanchors; i-- > 0;)
		if (!strcmp(b->anchors[i]->anchor, name))
			return b->anchors[i];
	return NULL;
}

static void remember_anchor(struct builder *b, struct ynode *n)
{
	if (!n->anchor)
		return;
	ALLOC_GROW(b->anchors, b->nanchors + 1, b->aanchors);
	b->anchors[b->nanchors++] = n;
}

/* deep copy of an anchored node for an alias; NULL once the budget of
 * alias nodes is spent */
static struct ynode *copy_node(struct builder *b, const struct ynode *n)
{
	if (++b->alias_nodes > YAML_MAX_ALIAS_NODES)
		return NULL;
	struct ynode *c = xcalloc(1, sizeof(*c));
	c->kind = n->kind;
	c->style = n->style;
	c->line = n->line;
	c->col = n->col;
	c->end_line = n->end_line;
	c->end_col = n->end_col;
	c->tag = n->tag ? xstrdup(n->tag) : NULL;
	if (n->str) {
		c->str = xstrndup(n->str, n->len);
		c->len = n->len;
	}
	for (size_t i = 0; i < n->nr; i++) {
		struct ynode *k = copy_node(b, n->items[i]);
		if (!k) {
			ynode_free(c);
			return NULL;
		}
		ALLOC_GROW(c->items, c->nr + 1, c->alloc);
		c->items[c->nr++] = k;
	}
	return c;
}

static int alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	struct ynode *target = find_anchor(b, name);
	if (!target)
		return diag_err(b->d, b->file, line, col, "yaml: unknown alias '*%s'", name);
	for (int i = 0; i < b->depth; i++)
		if (b->stack[i] == target)
			return diag_err(b->d, b->file, line, col,
					"yaml: alias '*%s' refers to a node that contains it", name);
	struct ynode *c = copy_node(b, target);
	if (!c)
		return diag_err(b->d, b->file, line, col,
				"yaml: aliases expand to more than %d nodes", YAML_MAX_ALIAS_NODES);
	return attach(b, c);
}

static void set_end(struct ynode *n, const yaml_mark_t *m)
{
	n->end_line = (int)m->line + 1;
	n->end_col = (int)m->column + 1;
}

/* attach n to the current parent; returns -1 on depth overflow */
static int attach(struct builder *b, struct ynode *n)
{
	if (b->depth == 0) {
		if (b->root) {
			ynode_free(n);
			return 0;
		}
		b->root = n;
		return 0;
	}
	struct ynode *p = b->stack[b->depth - 1];
	ALLOC_GROW(p->items, p->nr + 1, p->alloc);
	p->items[p->nr++] = n;
	return 0;
}

static int push(struct builder *b, struct ynode *n, const yaml_mark_t *m)
{
	if (b->depth >= YAML_MAX_DEPTH) {
		diag_err(b->d, b->file, (int)m->line + 1, (int)m->column + 1,
			 "yaml nesting deeper than %d levels", YAML_MAX_DEPTH);
		ynode_free(n);
		return -1;
	}
	attach(b, n);
	b->stack[b->depth++] = n;
	return 0;
}

static enum ynode_style scalar_style(yaml_scalar_style_t s)
{
	switch (s) {
	case YAML_PLAIN_SCALAR_STYLE: return YSTYLE_PLAIN;
	case YAML_SINGLE_QUOTED_SCALAR_STYLE: return YSTYLE_SINGLE;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return YSTYLE_DOUBLE;
	case YAML_LITERAL_SCALAR_STYLE: return YSTYLE_LITERAL;
	case YAML_FOLDED_SCALAR_STYLE: return YSTYLE_FOLDED;
	default: return YSTYLE_ANY;
	}
}

static char *dup_opt(const yaml_char_t *s)
{
	return s ? xstrdup((const char *)s) : NULL;
}

/* a sequence or mapping opens: a node on the stack (tag NULL when implicit) */
static int start_collection(struct builder *b, enum ynode_kind kind, const yaml_mark_t *m, int flow,
			    const yaml_char_t *tag, const yaml_char_t *anchor)
{
	struct ynode *n = node_new(kind, m);
	n->style = flow ? YSTYLE_FLOW : YSTYLE_ANY;
	n->tag = dup_opt(tag);
	n->anchor = dup_opt(anchor);
	if (push(b, n, m) < 0)
		return -1;
	remember_anchor(b, n);
	return 0;
}

static int handle(struct builder *b, yaml_event_t *ev)
{
	struct ynode *n;
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->docs > 1)
			return diag_err(b->d, b->file, (int)ev->start_mark.line + 1,
					(int)ev->start_mark.column + 1,
					"only one yaml document is allowed");
		return 0;
	case YAML_SCALAR_EVENT:
		n = node_new(YNODE_SCALAR, &ev->start_mark);
		set_end(n, &ev->end_mark);
		n->style = scalar_style(ev->data.scalar.style);
		n->tag = dup_opt(ev->data.scalar.tag);
		if (n->tag && ev->data.scalar.plain_implicit) {
			free(n->tag); /* implicit resolution: not written by the user */
			n->tag = NULL;
		}
		n->anchor = dup_opt(ev->data.scalar.anchor);
		n->len = ev->data.scalar.length;
		n->str = xstrndup((const char *)ev->data.scalar.value, n->len);
		n->len = strlen(n->str); /* embedded NULs are cut */
		remember_anchor(b, n);
		return attach(b, n);
	case YAML_ALIAS_EVENT:
		return alias(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return start_collection(b, YNODE_SEQ, &ev->start_mark,
					ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE,
					ev->data.sequence_start.implicit ? NULL : ev->data.sequence_start.tag,
					ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return start_collection(b, YNODE_MAP, &ev->start_mark,
					ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE,
					ev->data.mapping_start.implicit ? NULL : ev->data.mapping_start.tag,
					ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0)
			set_end(b->stack[--b->depth], &ev->end_mark);
		return 0;
	default:
		return 0;
	}
}

int yaml_load(const char *file, const char *data, size_t len, struct ynode **out,
	      struct diags *d)
{
	struct builder b = { .file = file, .d = d };
	yaml_parser_t p;
	int ret = 0;

	*out = NULL;
	if (len > YAML_MAX_SIZE)
		return diag_err(d, file, 1, 1, "file is larger than %u bytes", YAML_MAX_SIZE);
	if (!yaml_parser_initialize(&p))
		return diag_err(d, file, 0, 0, "cannot initialise yaml parser");
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			const yaml_mark_t *m = &p.problem_mark;
			if (p.context)
				diag_err(d, file, (int)m->line + 1, (int)m->column + 1, "yaml: %s %s",
					 p.problem ? p.problem : "syntax error", p.context);
			else
				diag_err(d, file, (int)m->line + 1, (int)m->column + 1, "yaml: %s",
					 p.problem ? p.problem : "syntax error");
			ret = -1;
			break;
		}
		int done = ev.type == YAML_STREAM_END_EVENT;
		int r = handle(&b, &ev);
		yaml_event_delete(&ev);
		if (r < 0) {
			ret = -1;
			break;
		}
		if (done)
			break;
	}
	yaml_parser_delete(&p);
	free(b.anchors);
	if (ret < 0) {
		ynode_free(b.root);
		return -1;
	}
	*out = b.root;
	return 0;
}

struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < ynode_map_size(map); i++) {
		const struct ynode *k = ynode_map_key(map, i);
		if (k->kind == YNODE_SCALAR && !strcmp(k->str, key))
			return ynode_map_val(map, i);
	}
	return NULL;
}

int ynode_is_null(const struct ynode *n)
{
	if (!n)
		return 1;
	if (n->kind != YNODE_SCALAR || n->style != YSTYLE_PLAIN || n->tag)
		return 0;
	return !strcmp(n->str, "") || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

const char *ynode_kind_name(const struct ynode *n)
{
	if (!n)
		return "null";
	switch (n->kind) {
	case YNODE_SCALAR: return ynode_is_null(n) ? "null" : "string";
	case YNODE_SEQ: return "sequence";
	case YNODE_MAP: return "mapping";
	}
	return "node";
}

void ynode_dump(const struct ynode *n, int indent, FILE *out)
{
	if (!n) {
		fprintf(out, "%*snull\n", indent, "");
		return;
	}
	fprintf(out, "%*s%d:%d %s", indent, "", n->line, n->col, ynode_kind_name(n));
	if (n->tag)
		fprintf(out, " tag=%s", n->tag);
	if (n->anchor)
		fprintf(out, " anchor=%s", n->anchor);
	if (n->kind == YNODE_SCALAR)
		fprintf(out, " \"%s\"", n->str);
	fputc('\n', out);
	for (size_t i = 0; i < n->nr; i++)
		ynode_dump(n->items[i], indent + 2, out);
}
