/*
 * expr-int: what the files of src/expr share and nobody else sees: the
 * value layout, the AST, UTF-8 / case-folding helpers and JS-compatible
 * number conversions (GitHub's reference evaluator is @actions/expressions,
 * so numbers and strings convert exactly as JavaScript does).
 */
#ifndef KILN_EXPR_INT_H
#define KILN_EXPR_INT_H

#include <stdint.h>
#include <string.h>

#include "expr/expr.h"

#define EV_IMMORTAL UINT32_MAX /* refs of static values: never counted */
#define EV_INL 1        /* struct ev's inl bits */
#define EV_POOL_SMALL 2
#define EV_POOL_BIG 4

struct ev_kv {
	struct ev *key; /* EV_STRING, original spelling */
	struct ev *val;
	uint32_t hash;  /* expr__key_hash of key */
};

struct ev {
	uint32_t refs;
	uint8_t kind;     /* enum ev_kind */
	uint8_t filtered; /* array made by `.*` / `[*]` (GitHub's FilteredArray) */
	uint8_t ascii;    /* string: every byte < 0x80 */
	uint8_t inl;      /* EV_INL: array / object elements live in the value's
			   * own allocation (not freed on their own); EV_POOL_*:
			   * the memory goes back to a free list (value.c) */
	union {
		int b;
		double n;
		struct {
			size_t len;
			char *s; /* NUL-terminated; points just past the struct */
		} str;
		struct {
			struct ev **v;
			size_t nr, alloc;
		} arr;
		struct {
			struct ev_kv *kv;
			size_t nr, alloc;
			uint32_t *index; /* open addressing over kv, NULL while small */
			size_t icap;     /* slots in index, a power of two */
		} obj;
	} u;
};

/* object: add key unless present (case-insensitively); consumes key and val.
 * Returns 1 when added, 0 when dropped. */
int ev__object_add_first(struct ev *o, struct ev *key, struct ev *val);
/* object lookup by a string of given length; NULL when absent */
/* lookup with the key's expr__key_hash computed beforehand (o an object) */
const struct ev *ev__object_geth(const struct ev *o, const char *key, size_t len, uint32_t hash);
/* lookup by key bytes whose expr__key_hash is known */
const struct ev *ev__object_getkey(const struct ev *o, const char *key, size_t len, int ascii,
				   uint32_t hash);
/* lookup by a string value whose expr__key_hash is known */
const struct ev *ev__object_getk(const struct ev *o, const struct ev *key, uint32_t hash);
const struct ev *ev__object_getn(const struct ev *o, const char *key, size_t len);
/* object: JSON.parse's rule for a repeated key (exact repeat replaces the
 * value, a case variant is dropped); consumes key and val */
void ev__object_json_put(struct ev *o, struct ev *key, struct ev *val);
/* the same with the key's expr__key_hash computed beforehand */
void ev__object_json_puth(struct ev *o, struct ev *key, struct ev *val, uint32_t hash);
struct ev *ev__string_take(struct buf *b); /* consumes b's bytes */
/*
 * A string value built in place, without a copy at the end: the buf's
 * first EV_STRHDR bytes are reserved for the value's header. Append the
 * text with the buf functions after ev__strbuf_init; ev__strbuf_len is the
 * text's length; ev__strbuf_finish consumes the buf into a new string.
 */
#define EV_STRHDR sizeof(struct ev)
void ev__strbuf_init(struct buf *b, size_t hint);
static inline size_t ev__strbuf_len(const struct buf *b) { return b->len - EV_STRHDR; }
struct ev *ev__strbuf_finish(struct buf *b);
struct ev *ev__filtered(void);             /* new empty filtered array */
/* a string value in memory the caller owns (EV_STRHDR + len + 1 bytes, the
 * text already after the header), never counted: no reference may outlive
 * the memory (string literals in an expression's arena) */
struct ev *ev__string_fixed(void *mem, size_t len);
/* new empty array (filtered when asked) or object with room for cap
 * elements in the value's own allocation: one malloc for a container whose
 * size is known or bounded beforehand (pushing past cap still works) */
struct ev *ev__array_sized(size_t cap, int filtered);
struct ev *ev__object_sized(size_t cap);

/* ---- unicode helpers (utf8.c, casemap.c) ---- */
struct expr__casemap {
	uint32_t from, to;
};
extern const struct expr__casemap expr__upper[];
extern const size_t expr__upper_nr;
extern const struct expr__casemap expr__lower[];
extern const size_t expr__lower_nr;

/* decode one UTF-8 sequence at s[*i] (advancing *i); invalid bytes give U+FFFD */
uint32_t expr__utf8_next(const char *s, size_t len, size_t *i);
void expr__utf8_put(struct buf *b, uint32_t cp);
uint32_t expr__upper_cp(uint32_t cp);
uint32_t expr__lower_cp(uint32_t cp);
/* length in UTF-16 code units (JS string length) of s[0..len) */
size_t expr__utf16_len(const char *s, size_t len);
/* GitHub string equality / ordering: compare upper-cased, ordinal by UTF-16 units */
int expr__str_cmp_ci(const char *a, size_t alen, const char *b, size_t blen);
int expr__str_eq_ci(const char *a, size_t alen, const char *b, size_t blen);
/* key equality for objects (JS toLowerCase on both sides) */
int expr__key_eq(const char *a, size_t alen, const char *b, size_t blen);
uint32_t expr__key_hash(const char *s, size_t len);
/* ASCII texts equal with letters compared in either case, over exactly len
 * bytes (a NUL is a byte like another: strncasecmp would stop there);
 * equal words are skipped whole */
static inline int expr__ascii_ieq(const char *a, const char *b, size_t len)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			break;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)a[i], d = (unsigned char)b[i];
		if (c != d && ((c | 32) != (d | 32) || (unsigned)((c | 32) - 'a') > 25))
			return 0;
	}
	return 1;
}
/* fold s with the upper (or lower) mapping into out */
void expr__fold(struct buf *out, const char *s, size_t len, int upper);
/* JS \s: boundary whitespace of the lexer; *n gets the byte length */
int expr__is_js_space(const char *s, size_t len, size_t i, size_t *n);

/* ---- numbers (num.c) ---- */
/* JavaScript Number(string) */
double expr__str_to_num(const char *s, size_t len);
/* JavaScript Number.prototype.toString() */
void expr__num_js(struct buf *out, double d);
/* GitHub's number-to-string coercion: at most 15 decimals, then JS toString */
void expr__num_coerce(struct buf *out, double d);

/* ---- AST (parse.c) ---- */
enum node_kind {
	N_LIT,   /* literal value */
	N_CTX,   /* named context */
	N_INDEX, /* a[i] / a.b ; kids[1] NULL means `*` */
	N_NOT,
	N_CMP,   /* op: == != < <= > >= */
	N_AND,   /* kids: operands */
	N_OR,
	N_CALL,  /* fn: function id */
	N_KEY,   /* a property name after `.` (only as N_INDEX's index) */
};

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

enum fn_id {
	FN_CONTAINS, FN_STARTSWITH, FN_ENDSWITH, FN_FORMAT, FN_JOIN, FN_TOJSON,
	FN_FROMJSON, FN_CASE, FN_HASHFILES, FN_SUCCESS, FN_FAILURE, FN_CANCELLED,
	FN_ALWAYS,
};

struct node { /* 64 bytes: a cache line; the source is < 2^32 bytes (EXPR_MAX_LENGTH) */
	enum node_kind kind;
	int op;           /* enum cmp_op or enum fn_id */
	uint32_t pos;     /* byte offset in the source */
	uint32_t hash;    /* string literals, keys and context names: expr__key_hash */
	uint32_t klen;
	uint16_t nkids, kalloc; /* an expression has < 2^15 kids anywhere (its length) */
	struct ev *lit;   /* N_LIT value; N_CTX name (string) */
	struct node **kids;
	const char *key;  /* N_CTX, N_KEY: the name, inside the expression's source */
	union {
		struct node *kid2[2];  /* the first two kids live here (kids points at it) */
		struct node *next_lit; /* N_LIT (never has kids): the expression's previous
					* literal (freeing) */
	};
};
_Static_assert(sizeof(struct node) == 64, "struct node is one cache line");

/* bump allocator owning an expression's nodes */
struct arena {
	struct arena *next;
	size_t used, cap;
	/* bytes follow */
};

struct expr {
	struct arena *arena; /* every node and kids array (the last chunk is inline) */
	struct node *lits;   /* the N_LIT nodes (through next_lit), whose values it owns */
	struct node *root;   /* NULL for the empty expression (evaluates to null) */
	unsigned ctx_used;   /* EXPR_CTX_* */
	unsigned fn_used;    /* EXPR_FN_* */
	int uses_status;
	int block;           /* EXPR_BLOCK bytes, reused (parse.c) */
	char *src;           /* the source text, for messages */
	size_t len;
};


/* ---- limits (GitHub's) ---- */
#define EXPR_MAX_LENGTH 21000  /* characters in one expression */
#define EXPR_MAX_DEPTH 50      /* parser nesting, counted as GitHub does */
#define EXPR_MAX_MEMORY (1024 * 1024) /* bytes an evaluation may create */
#define EXPR_MAX_JSON_DEPTH 512 /* fromJSON / --ctx nesting */

/* name of a standard context bit, and the bit of a name (0 when unknown) */
unsigned expr__ctx_bit(const char *name, size_t len);

#endif
