/*
 * parse: tokens -> AST, a port of GitHub's recursive-descent parser
 * (@actions/expressions Parser) including how it counts nesting depth
 * (max 50) and which token an error names. Precedence, loosest first:
 * ||, &&, == !=, < <= > >=, !, postfix [ ] and . (only after a context,
 * a call or a parenthesised expression).
 */
#include "base/kiln.h"
#include "expr/lex.h"

struct fn_def {
	const char *name; /* lower case */
	int id, min, max;
};

static const struct fn_def fns[] = {
	{ "contains", FN_CONTAINS, 2, 2 },
	{ "startswith", FN_STARTSWITH, 2, 2 },
	{ "endswith", FN_ENDSWITH, 2, 2 },
	{ "format", FN_FORMAT, 1, 255 },
	{ "join", FN_JOIN, 1, 2 },
	{ "tojson", FN_TOJSON, 1, 1 },
	{ "fromjson", FN_FROMJSON, 1, 1 },
	{ "case", FN_CASE, 3, 1 << 30 },
	{ "hashfiles", FN_HASHFILES, 1, 255 },
	/* job-level if: may name needed jobs: success('build', 'test')
	 * (GitHub's workflow parser: success(0,MAX), failure(0,MAX)) */
	{ "success", FN_SUCCESS, 0, 255 },
	{ "failure", FN_FAILURE, 0, 255 },
	{ "cancelled", FN_CANCELLED, 0, 0 },
	{ "always", FN_ALWAYS, 0, 0 },
};

static const char *const std_contexts[] = {
	"github", "env", "vars", "job", "jobs", "steps", "runner", "secrets",
	"strategy", "matrix", "needs", "inputs",
};

/* the first n bytes of a equal w's, ASCII letters in either case; stops at
 * the first difference (a's NUL included) */
static int ascii_ieq(const char *a, const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != w[i] && ((a[i] | 32) != (w[i] | 32) || (unsigned)((a[i] | 32) - 'a') > 25))
			return 0;
	return 1;
}

/* the standard context (index + 1) of a name by its length and first
 * letter: no two share both, so one comparison decides */
static const unsigned char ctx_by_len_letter[9][26] = {
	[6]['g' - 'a'] = 1, [3]['e' - 'a'] = 2, [4]['v' - 'a'] = 3, [3]['j' - 'a'] = 4,
	[4]['j' - 'a'] = 5, [5]['s' - 'a'] = 6, [6]['r' - 'a'] = 7, [7]['s' - 'a'] = 8,
	[8]['s' - 'a'] = 9, [6]['m' - 'a'] = 10, [5]['n' - 'a'] = 11, [6]['i' - 'a'] = 12
};

unsigned expr__ctx_bit(const char *name, size_t len)
{
	unsigned c = (unsigned)(((unsigned char)name[0] | 32) - 'a');
	if (len < 3 || len > 8 || c >= 26)
		return 0;
	unsigned i = ctx_by_len_letter[len][c];
	if (!i)
		return 0;
	const char *w = std_contexts[i - 1]; /* exactly len bytes */
	if (len >= 4) { /* spelled as listed: the first and the last four bytes */
		uint32_t x0, y0, x1, y1;
		memcpy(&x0, w, 4);
		memcpy(&y0, name, 4);
		memcpy(&x1, w + len - 4, 4);
		memcpy(&y1, name + len - 4, 4);
		if (x0 == y0 && x1 == y1)
			return 1u << (i - 1);
	}
	return ascii_ieq(w, name, len) ? 1u << (i - 1) : 0;
}

struct parser {
	const char *src;
	size_t len;
	struct lexer lx;
	struct tok *cur, *prev; /* the token at hand and the one before it */
	struct tok toks[2];     /* where cur and prev live (swapped, not copied) */
	int depth;
	const struct expr_parse_opts *o;
	struct expr *e;
	struct buf *err;
	size_t *err_off;
	int failed;
	int lex_failed; /* the lexer's message is the one reported */
};

/*
 * An expression is one allocation: the struct, its source and a first
 * arena chunk sized by the source's length (a node per few characters), so
 * the usual expression needs no second chunk. Those that fit EXPR_BLOCK
 * bytes get exactly that and are reused through a short per-thread free
 * list (glibc's malloc + free were ~135 of ~3,000 instructions a parse);
 * off under ASan, which must see every use after free.
 */
#define EXPR_BLOCK 2048
#define EXPR_KEEP 8 /* blocks the free list keeps */

#if defined(__SANITIZE_ADDRESS__)
#define EXPR_NO_POOL 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EXPR_NO_POOL 1
#endif
#endif

#ifndef EXPR_NO_POOL
static _Thread_local struct expr *expr_pool;
static _Thread_local unsigned expr_pool_n;
#endif

static struct expr *expr_alloc(size_t len)
{
	size_t head = (sizeof(struct expr) + len + 1 + 15) & ~(size_t)15;
	size_t arena = (512 + 12 * len + 15) & ~(size_t)15;
	size_t size = head + sizeof(struct arena) + arena;
	struct expr *e;
	int block = size <= EXPR_BLOCK;
	if (block) {
		size = EXPR_BLOCK;
#ifndef EXPR_NO_POOL
		if (expr_pool) {
			e = expr_pool;
			expr_pool = e->arena ? (struct expr *)(void *)e->arena : NULL;
			expr_pool_n--;
		} else
#endif
			e = xmalloc(size);
	} else {
		e = xmalloc(size);
	}
	memset(e, 0, sizeof(*e));
	e->block = block;
	e->src = (char *)(e + 1);
	e->arena = (struct arena *)((char *)e + head);
	e->arena->next = NULL;
	e->arena->used = 0;
	e->arena->cap = size - head - sizeof(struct arena);
	return e;
}

/* arena: nodes and kids arrays live until expr_free, so error paths just
 * return; the memory is not zeroed */
static __attribute__((noinline)) void *arena_chunk(struct expr *e, size_t n)
{
	size_t cap = n > 480 ? n : 480; /* small: stays out of malloc's large bins */
	struct arena *a = xmalloc(sizeof(*a) + cap);
	a->next = e->arena;
	a->used = n;
	a->cap = cap;
	e->arena = a;
	return a + 1;
}

static inline void *arena_alloc(struct expr *e, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct arena *a = e->arena;
	if (a->used + n > a->cap)
		return arena_chunk(e, n);
	void *p = (char *)(a + 1) + a->used;
	a->used += n;
	return p;
}

/* N_CTX / N_KEY: the name stays in the source (identifiers are ASCII);
 * the lexer hashed it */
static void set_key(struct node *n, const char *src, const struct tok *id)
{
	n->key = src + id->start;
	n->klen = id->end - id->start;
	n->hash = id->hash;
}

static inline __attribute__((always_inline)) struct node *
new_node(struct parser *p, enum node_kind k, size_t pos)
{
	struct node *n = arena_alloc(p->e, sizeof(*n));
	/* 64 zero bytes (four vector stores; a struct literal here compiled
	 * to `rep stos`, whose start-up cost was 14 % of parsing) */
	memset(n, 0, sizeof(*n));
	n->kind = k;
	n->pos = (uint32_t)pos;
	n->kids = n->kid2; /* a literal's next_lit shares them: it has no kids */
	n->kalloc = ARRAY_SIZE(n->kid2);
	return n;
}

/* n's kids array is full: a bigger one from the arena */
static __attribute__((noinline)) void grow_kids(struct parser *p, struct node *n)
{
	size_t na = n->kalloc * 2;
	struct node **k = arena_alloc(p->e, na * sizeof(*k));
	memcpy(k, n->kids, n->nkids * sizeof(*k));
	n->kids = k;
	n->kalloc = na;
}

static inline void add_kid(struct parser *p, struct node *n, struct node *kid)
{
	if (n->nkids == n->kalloc)
		grow_kids(p, n);
	n->kids[n->nkids++] = kid;
}

/* give a node its value (owned by the expression) */
static void set_lit(struct parser *p, struct node *n, struct ev *v)
{
	n->lit = v;
	n->next_lit = p->e->lits;
	p->e->lits = n;
}

/* a string literal's value lives in the expression's arena and is never
 * counted; expr_eval copies it when it is the result, so no reference to
 * it outlives the expression */
static struct ev *string_literal(struct parser *p, const struct tok *k)
{
	char *mem = arena_alloc(p->e, EV_STRHDR + k->slen + 1);
	expr__unquote(p->src, k, mem + EV_STRHDR);
	return ev__string_fixed(mem, k->slen);
}

static void add_unquoted(struct buf *b, const char *src, const struct tok *k)
{
	buf_grow(b, k->slen);
	expr__unquote(src, k, b->buf + b->len);
	buf_setlen(b, b->len + k->slen);
}

enum perr { E_SYMBOL, E_END, E_DEPTH, E_CONTEXT, E_FUNCTION, E_FEW, E_MANY, E_EVEN };

static struct node *fail(struct parser *p, enum perr kind, const struct tok *k)
{
	static const char *const desc[] = {
		[E_SYMBOL] = "Unexpected symbol", [E_END] = "Unexpected end of expression",
		[E_DEPTH] = "Exceeded max expression depth 50",
		[E_CONTEXT] = "Unrecognized named-value", [E_FUNCTION] = "Unrecognized function",
		[E_FEW] = "Too few parameters supplied", [E_MANY] = "Too many parameters supplied",
		[E_EVEN] = "Even number of parameters supplied, requires an odd number of parameters",
	};
	if (p->failed)
		return NULL;
	p->failed = 1;
	if (p->err_off)
		*p->err_off = k->start;
	if (kind == E_DEPTH) {
		buf_addstr(p->err, desc[kind]);
		return NULL;
	}
	buf_addf(p->err, "%s: '", desc[kind]);
	if (k->type == T_EOF)
		buf_addstr(p->err, "EOF");
	else if (k->type == T_STRING)
		add_unquoted(p->err, p->src, k);
	else
		buf_add(p->err, p->src + k->start, k->end - k->start);
	buf_addf(p->err, "'. Located at position %zu within expression: %.*s",
		 expr__js_pos(p->src, k->start), (int)p->len, p->src);
	return NULL;
}

static const struct tok *peek(const struct parser *p) { return p->cur; }
static const struct tok *previous(const struct parser *p) { return p->prev; }
static int at_end(const struct parser *p) { return p->cur->type == T_EOF; }
static int check(const struct parser *p, enum tok_type t) { return p->cur->type == t; }

/*
 * Read the next token. A lexing error ends the parse (as an end of input
 * the parser then stumbles on); its message is the one reported, since
 * GitHub tokenizes everything before parsing.
 */
static void advance(struct parser *p)
{
	struct tok *t = p->prev;
	p->prev = p->cur;
	p->cur = t;
	if (expr__lex_next(&p->lx, p->cur) < 0) {
		p->failed = p->lex_failed = 1; /* the lexer wrote the message */
		*p->cur = (struct tok){ .type = T_EOF, .start = p->len, .end = p->len };
	}
}

static int match(struct parser *p, enum tok_type t)
{
	if (!check(p, t))
		return 0;
	advance(p);
	return 1;
}

static int incr_depth(struct parser *p)
{
	if (++p->depth > EXPR_MAX_DEPTH) {
		fail(p, E_DEPTH, peek(p));
		return -1;
	}
	return 0;
}

static struct node *expression(struct parser *p);

static int name_allowed(struct parser *p, const struct tok *id)
{
	const char *w = p->src + id->start;
	size_t n = id->end - id->start;
	const struct expr_parse_opts *o = p->o;
	unsigned bit = expr__ctx_bit(w, n);
	p->e->ctx_used |= bit;
	if (o && o->names) {
		for (size_t i = 0; o->names[i]; i++)
			if ((o->names[i][0] | 32) == (w[0] | 32) && ascii_ieq(o->names[i], w, n) &&
			    !o->names[i][n])
				return 1; /* identifiers are ASCII: a byte-wise match is JS's */
		return 0;
	}
	if (!bit)
		return 0;
	return !o || !o->allowed || (o->allowed & bit);
}

static const struct fn_def *find_fn(const char *w, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(fns); i++)
		if (fns[i].name[0] == (w[0] | 32) && strlen(fns[i].name) == n &&
		    !strncasecmp(fns[i].name, w, n))
			return &fns[i];
	return NULL;
}

static int fn_allowed(const struct parser *p, const struct fn_def *f)
{
	unsigned need = 0;
	if (f->id >= FN_SUCCESS)
		need = EXPR_FN_STATUS;
	else if (f->id == FN_HASHFILES)
		need = EXPR_FN_HASHFILES;
	if (!need || !p->o)
		return 1;
	if (p->o->no_extensions)
		return 0;
	return !p->o->allowed_funcs || (p->o->allowed_funcs & need);
}

static struct node *call(struct parser *p, int *postfix)
{
	struct tok idt = *peek(p); /* an identifier: no string to own */
	const struct tok *id = &idt;
	advance(p);
	if (!match(p, T_LPAREN)) {
		if (!name_allowed(p, id))
			return fail(p, E_CONTEXT, id);
		struct node *n = new_node(p, N_CTX, id->start);
		set_key(n, p->src, id);
		*postfix = 1;
		return n;
	}
	struct node *n = new_node(p, N_CALL, id->start);
	while (!match(p, T_RPAREN)) {
		struct node *a = expression(p);
		if (!a)
			goto fail;
		add_kid(p, n, a);
		if (!check(p, T_RPAREN) && !match(p, T_COMMA)) {
			fail(p, E_SYMBOL, peek(p));
			goto fail;
		}
	}
	const struct fn_def *f = find_fn(p->src + id->start, id->end - id->start);
	if (!f || !fn_allowed(p, f)) {
		fail(p, E_FUNCTION, id);
		goto fail;
	}
	if ((int)n->nkids < f->min) {
		fail(p, E_FEW, id);
		goto fail;
	}
	if ((int)n->nkids > f->max) {
		fail(p, E_MANY, id);
		goto fail;
	}
	if (f->id == FN_CASE && n->nkids % 2 == 0) {
		fail(p, E_EVEN, id);
		goto fail;
	}
	n->op = f->id;
	if (f->id >= FN_SUCCESS) {
		p->e->uses_status = 1;
		p->e->fn_used |= EXPR_FN_STATUS;
	} else if (f->id == FN_HASHFILES) {
		p->e->fn_used |= EXPR_FN_HASHFILES;
	}
	*postfix = 1;
	return n;
fail:
	return NULL;
}

static struct node *literal(struct parser *p, const struct tok *k, struct ev *v)
{
	struct node *n = new_node(p, N_LIT, k->start);
	set_lit(p, n, v);
	return n;
}

static struct node *primary(struct parser *p, int *postfix)
{
	const struct tok *k = peek(p);
	struct ev *v = NULL;
	switch (k->type) {
	case T_FALSE: v = ev_bool(0); break;
	case T_TRUE: v = ev_bool(1); break;
	case T_NULL: v = ev_null(); break;
	case T_NUMBER: v = ev_number(k->num); break;
	case T_STRING: v = string_literal(p, k); break;
	case T_LPAREN: {
		advance(p);
		struct node *n = expression(p);
		if (!n)
			return NULL;
		if (at_end(p) || !match(p, T_RPAREN)) {
			if (at_end(p))
				fail(p, E_END, previous(p));
			else
				fail(p, E_SYMBOL, peek(p));
			return NULL;
		}
		*postfix = 1;
		return n;
	}
	case T_EOF:
		return fail(p, E_END, previous(p));
	default:
		return fail(p, E_SYMBOL, k);
	}
	struct node *n = literal(p, k, v);
	advance(p);
	return n;
}

static struct node *index_expr(struct parser *p)
{
	int postfix = 0;
	struct node *e = check(p, T_IDENT) ? call(p, &postfix) : primary(p, &postfix);
	int raised = 0;
	while (e && postfix) {
		size_t at = peek(p)->start;
		struct node *idx = NULL;
		if (match(p, T_LBRACKET)) {
			if (!match(p, T_STAR)) {
				idx = expression(p);
				if (!idx)
					goto fail;
				if (idx->kind == N_LIT && idx->lit->kind == EV_STRING) /* a['b'] */
					idx->hash = expr__key_hash(idx->lit->u.str.s, idx->lit->u.str.len);
			}
			if (!match(p, T_RBRACKET)) {
				fail(p, E_SYMBOL, peek(p));
				goto fail;
			}
			raised++;
			if (incr_depth(p) < 0) {
				goto fail;
			}
		} else if (match(p, T_DOT)) {
			raised++;
			if (incr_depth(p) < 0)
				goto fail;
			const struct tok *k = peek(p);
			if (check(p, T_IDENT)) {
				idx = new_node(p, N_KEY, k->start);
				set_key(idx, p->src, k);
				advance(p);
			} else if (!match(p, T_STAR)) {
				fail(p, E_SYMBOL, k);
				goto fail;
			}
		} else {
			break;
		}
		struct node *n = new_node(p, N_INDEX, at);
		add_kid(p, n, e);
		add_kid(p, n, idx);
		e = n;
	}
	p->depth -= raised;
	return e;
fail:
	p->depth -= raised;
	return NULL;
}

static struct node *unary(struct parser *p)
{
	if (match(p, T_BANG)) {
		size_t pos = previous(p)->start;
		if (incr_depth(p) < 0)
			return NULL;
		struct node *inner = unary(p);
		p->depth--;
		if (!inner)
			return NULL;
		struct node *n = new_node(p, N_NOT, pos);
		add_kid(p, n, inner);
		return n;
	}
	return index_expr(p);
}

/*
 * The binary levels: each reads its operand from the level below and
 * continues (the *_rest functions) only when its operator follows, so the
 * common operand without one passes through inlined checks, not calls.
 */
static int is_eq_op(enum tok_type t) { return t == T_EQ || t == T_NE; }
static int is_cmp_op(enum tok_type t) { return t == T_GT || t == T_GE || t == T_LT || t == T_LE; }

/* e (op r)*: == != or < <= > >= chains, left-associative */
static struct node *binary_rest(struct parser *p, struct node *e,
				struct node *(*sub)(struct parser *), int (*is_op)(enum tok_type))
{
	while (e) {
		enum tok_type t = peek(p)->type;
		if (!is_op(t))
			break;
		size_t pos = peek(p)->start;
		advance(p);
		struct node *r = sub(p);
		if (!r)
			return NULL;
		struct node *n = new_node(p, N_CMP, pos);
		n->op = t == T_EQ ? OP_EQ : t == T_NE ? OP_NE : t == T_LT ? OP_LT :
			t == T_LE ? OP_LE : t == T_GT ? OP_GT : OP_GE;
		add_kid(p, n, e);
		add_kid(p, n, r);
		e = n;
	}
	return e;
}

static inline __attribute__((always_inline)) struct node *comparison(struct parser *p)
{
	struct node *e = unary(p);
	return e && is_cmp_op(peek(p)->type) ? binary_rest(p, e, unary, is_cmp_op) : e;
}

static inline __attribute__((always_inline)) struct node *equality(struct parser *p)
{
	struct node *e = comparison(p);
	return e && is_eq_op(peek(p)->type) ? binary_rest(p, e, comparison, is_eq_op) : e;
}

/* e (op sub)+ as one node of kind; counts one level of depth */
static struct node *logical_rest(struct parser *p, struct node *e,
				 struct node *(*sub)(struct parser *), enum tok_type op,
				 enum node_kind kind)
{
	if (incr_depth(p) < 0)
		return NULL;
	struct node *n = new_node(p, kind, peek(p)->start);
	add_kid(p, n, e);
	while (match(p, op)) {
		struct node *r = sub(p);
		if (!r) {
			p->depth--;
			return NULL;
		}
		add_kid(p, n, r);
	}
	p->depth--;
	return n;
}

static inline __attribute__((always_inline)) struct node *logical_and(struct parser *p)
{
	struct node *e = equality(p);
	return e && check(p, T_AND) ? logical_rest(p, e, equality, T_AND, N_AND) : e;
}

static struct node *expression(struct parser *p)
{
	if (incr_depth(p) < 0)
		return NULL;
	struct node *n = logical_and(p);
	if (n && check(p, T_OR))
		n = logical_rest(p, n, logical_and, T_OR, N_OR);
	p->depth--;
	return n;
}

/* after a parse error: read the rest, where a lexing error wins (GitHub
 * tokenizes the whole expression before parsing) */
static void lex_rest(struct parser *p, size_t err_len)
{
	struct buf lexerr = BUF_INIT;
	size_t off = 0;
	p->lx.err = &lexerr;
	p->lx.err_off = &off;
	struct tok t = { .type = T_STRING };
	while (t.type != T_EOF) {
		if (expr__lex_next(&p->lx, &t) < 0) {
			buf_setlen(p->err, err_len);
			buf_add(p->err, lexerr.buf, lexerr.len);
			if (p->err_off)
				*p->err_off = off;
			break;
		}
	}
	buf_release(&lexerr);
}

struct expr *expr_parse_opts(const char *src, size_t len, const struct expr_parse_opts *o,
			     struct buf *err, size_t *err_off)
{
	size_t err_len = err->len;
	struct parser p;
	p.src = src, p.len = len, p.o = o, p.err = err, p.err_off = err_off;
	p.cur = &p.toks[0], p.prev = &p.toks[1];
	*p.prev = (struct tok){ .type = T_EOF };
	p.depth = p.failed = p.lex_failed = 0;
	p.e = NULL; /* fields set one by one: a struct literal is a `rep stos` */
	if (expr__lex_init(&p.lx, src, len, err, err_off) < 0)
		return NULL;
	/* the source may hold NUL bytes, so no xstrndup */
	struct expr *e = expr_alloc(len);
	memcpy(e->src, src, len);
	e->src[len] = '\0'; /* the lexer reads up to it */
	e->len = len;
	p.e = e;
	p.src = e->src; /* node keys point into the expression's own copy */
	p.lx.s = e->src;
	if (expr__lex_next(&p.lx, p.cur) < 0) {
		expr_free(e);
		return NULL;
	}
	if (!at_end(&p)) {
		e->root = expression(&p);
		if (e->root && !at_end(&p)) {
			fail(&p, E_SYMBOL, peek(&p));
			e->root = NULL;
		}
	}
	if (p.failed && !p.lex_failed)
		lex_rest(&p, err_len);
	if (p.failed) {
		expr_free(e);
		return NULL;
	}
	return e;
}

struct expr *expr_parse(const char *src, size_t len, struct buf *err, size_t *err_off)
{
	return expr_parse_opts(src, len, NULL, err, err_off);
}

void expr_free(struct expr *e)
{
	if (!e)
		return;
	for (struct node *n = e->lits; n; n = n->next_lit)
		ev_unref(n->lit);
	while (e->arena && e->arena->next) { /* the last chunk is inline */
		struct arena *a = e->arena;
		e->arena = a->next;
		free(a);
	}
#ifndef EXPR_NO_POOL
	if (e->block && expr_pool_n < EXPR_KEEP) {
		e->arena = (struct arena *)(void *)expr_pool; /* the list's link */
		expr_pool = e;
		expr_pool_n++;
		return;
	}
#endif
	free(e);
}

int expr_uses_status(const struct expr *e) { return e->uses_status; }
unsigned expr_contexts_used(const struct expr *e) { return e->ctx_used; }
