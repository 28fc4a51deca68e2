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
	size_t slen;       /* T_STRING: length of the value ('' is one quote) */
};

/* the lexer's state: tokens are read one at a time, as the parser asks */
struct lexer {
	const char *s;
	size_t len, off, start;
	enum tok_type last; /* type of the token read last (T_EOF before the first) */
	struct tok *out;    /* where the token being read goes */
	int got;            /* a token was read into out */
	struct buf *err;
	size_t *err_off;
};

/* start reading s, which must be followed by a NUL byte (s[len] == 0: the
 * identifier scan stops there); -1 and GitHub's message when s is too long */
int expr__lex_init(struct lexer *lx, const char *s, size_t len, struct buf *err,
		   size_t *err_off);
/* the next token into *t (T_EOF at the end, again and again); -1 and a
 * message on a lexing error */
int expr__lex_next(struct lexer *lx, struct tok *t);
/* a T_STRING token's value (t->slen bytes, '' unescaped) into out */
void expr__unquote(const char *src, const struct tok *t, char *out);
/* 1-based position as GitHub reports it (UTF-16 units) of byte offset off */
size_t expr__js_pos(const char *src, size_t off);

#endif
