/* lex: tokens of an expression (internal to src/expr) */
#ifndef KILN_EXPR_LEX_H
#define KILN_EXPR_LEX_H

#include "expr/expr-int.h"

enum tok_type {
	T_EOF, T_LPAREN, T_RPAREN, T_LBRACKET, T_RBRACKET, T_COMMA, T_DOT, T_BANG,
	T_NE, T_EQ, T_GT, T_GE, T_LT, T_LE, T_AND, T_OR, T_STAR, T_NUMBER, T_STRING,
	T_IDENT, T_TRUE, T_FALSE, T_NULL,
};

struct tok {
	enum tok_type type;
	size_t start, end; /* byte offsets of the lexeme */
	double num;        /* T_NUMBER */
	uint32_t hash;     /* T_IDENT: expr__key_hash of the name */
	struct ev *str;    /* T_STRING: the unescaped value (owned) */
};

/* tokenize all of s; the last token is T_EOF. -1 and a message on error.
 * On entry *out and *nr are a caller's buffer (used while it is big enough);
 * on success they hold the tokens and their count. */
int expr__lex(const char *s, size_t len, struct tok **out, size_t *nr, struct buf *err,
	      size_t *err_off);
/* release tokens; `stack` is the caller's buffer given to expr__lex */
void expr__toks_free(struct tok *t, size_t nr, const struct tok *stack);
/* 1-based position as GitHub reports it (UTF-16 units) of byte offset off */
size_t expr__js_pos(const char *src, size_t off);

#endif
