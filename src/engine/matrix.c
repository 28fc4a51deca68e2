/*
 * matrix: strategy.matrix expansion, following GitHub's MatrixBuilder
 * (actions/runner, WorkflowParser/Conversion/MatrixBuilder.cs): cross
 * product in key order, exclude filters, include filters with extras,
 * unmatched includes appended, display-name segments from the vector
 * values' scalar leaves.
 */
#include "base/kiln.h"
#include "engine/plan.h"

#include <strings.h>

/* how deep filters and names look into nested values */
#define MATRIX_MAX_DEPTH 64

/* one include / exclude entry, split into vector-key filter and extras */
struct filter {
	struct ev *filter; /* object of vector keys -> values (leaves compared) */
	struct ev *extra;  /* object of other keys (include only) */
	int matched;
};

static int is_vector_key(const struct ev *vectors, const char *key)
{
	return ev_object_get(vectors, key) != NULL;
}

/* does every scalar leaf of `f` equal the value at the same path in `m`?
 * (GitHub builds `matrix[path] == literal` expressions for each leaf) */
static int leaf_match(const struct ev *f, const struct ev *m, int depth)
{
	if (depth > MATRIX_MAX_DEPTH)
		return 0;
	enum ev_kind k = ev_kind(f);
	if (k == EV_OBJECT) {
		for (size_t i = 0; i < ev_len(f); i++) {
			const struct ev *sub = m && ev_kind(m) == EV_OBJECT ?
				ev_object_get(m, ev_object_key_at(f, i)) : NULL;
			if (!leaf_match(ev_object_val_at(f, i), sub, depth + 1))
				return 0;
		}
		return 1;
	}
	if (k == EV_ARRAY) {
		for (size_t i = 0; i < ev_len(f); i++) {
			const struct ev *sub = m && ev_kind(m) == EV_ARRAY && i < ev_len(m) ?
				ev_array_at(m, i) : NULL;
			if (!leaf_match(ev_array_at(f, i), sub, depth + 1))
				return 0;
		}
		return 1;
	}
	if (!m) {
		/* a missing value reads as null */
		struct ev *null = ev_null();
		int eq = plan_value_equal(f, null);
		ev_unref(null);
		return eq;
	}
	return plan_value_equal(f, m);
}

/* append the scalar leaves of v (keys omitted) as name segments */
static void add_segments(const struct ev *v, struct buf *out, int depth)
{
	if (depth > MATRIX_MAX_DEPTH)
		return;
	switch (ev_kind(v)) {
	case EV_OBJECT:
		for (size_t i = 0; i < ev_len(v); i++)
			add_segments(ev_object_val_at(v, i), out, depth + 1);
		return;
	case EV_ARRAY:
		for (size_t i = 0; i < ev_len(v); i++)
			add_segments(ev_array_at(v, i), out, depth + 1);
		return;
	case EV_NULL:
		return;
	case EV_BOOL:
	case EV_NUMBER:
	case EV_STRING: {
		struct buf s = BUF_INIT;
		ev_to_string(v, &s);
		if (s.len) {
			if (out->len)
				buf_addstr(out, ", ");
			buf_add(out, s.buf, s.len);
		}
		buf_release(&s);
		return;
	}
	}
}

static void add_combo(struct matrix_list *out, struct ev *m, const struct ev *named)
{
	ALLOC_GROW(out->v, out->nr + 1, out->alloc);
	struct buf b = BUF_INIT;
	if (named)
		add_segments(named, &b, 0);
	out->v[out->nr].matrix = m;
	out->v[out->nr].suffix = b.len ? buf_detach(&b, NULL) : NULL;
	buf_release(&b);
	out->nr++;
}

/* read include or exclude into filters; 0 or -1 with err */
static int read_filters(const struct ev *seq, const struct ev *vectors, int include,
			struct filter **out, size_t *nout, struct buf *err)
{
	const char *what = include ? "include" : "exclude";
	*out = NULL;
	*nout = 0;
	if (!seq || ev_kind(seq) == EV_NULL)
		return 0;
	if (ev_kind(seq) != EV_ARRAY) {
		buf_addf(err, "matrix %s must be a sequence", what);
		return -1;
	}
	size_t n = ev_len(seq);
	*out = xcalloc(n ? n : 1, sizeof(**out));
	for (size_t i = 0; i < n; i++) {
		const struct ev *item = ev_array_at(seq, i);
		if (ev_kind(item) != EV_OBJECT) {
			buf_addf(err, "matrix %s item must be a mapping", what);
			return -1;
		}
		if (!ev_len(item)) {
			buf_addf(err, include ? "matrix include mapping does not contain any values"
					      : "matrix exclude filter must not be empty");
			return -1;
		}
		struct filter *f = &(*out)[(*nout)++];
		f->filter = ev_object();
		f->extra = ev_object();
		for (size_t k = 0; k < ev_len(item); k++) {
			const char *key = ev_object_key_at(item, k);
			struct ev *val = ev_ref(ev_object_val_at(item, k));
			if (is_vector_key(vectors, key)) {
				ev_object_set(f->filter, key, val);
			} else if (include) {
				ev_object_set(f->extra, key, val);
			} else {
				ev_unref(val);
				buf_addf(err, "matrix exclude key '%s' does not match any key within the matrix",
					 key);
				return -1;
			}
		}
	}
	return 0;
}

static void free_filters(struct filter *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ev_unref(f[i].filter);
		ev_unref(f[i].extra);
	}
	free(f);
}

/* split the matrix object into vectors (object key -> array) */
static struct ev *read_vectors(const struct ev *matrix, const struct ev **inc,
			       const struct ev **exc, size_t *product, struct buf *err)
{
	struct ev *vectors = ev_object();
	*product = 0;
	for (size_t i = 0; i < ev_len(matrix); i++) {
		const char *key = ev_object_key_at(matrix, i);
		const struct ev *val = ev_object_val_at(matrix, i);
		if (!strcmp(key, "include")) {
			*inc = val;
			continue;
		}
		if (!strcmp(key, "exclude")) {
			*exc = val;
			continue;
		}
		if (ev_kind(val) != EV_ARRAY) {
			buf_addf(err, "matrix vector '%s' must be a sequence", key);
			goto bad;
		}
		if (!ev_len(val)) {
			buf_addf(err, "matrix vector '%s' does not contain any values", key);
			goto bad;
		}
		if (!*product)
			*product = 1;
		*product *= ev_len(val);
		/* the limit is checked on the result; this only bounds the work */
		if (*product > 65536) {
			buf_addf(err, "matrix expands to more than %d jobs", PLAN_MATRIX_MAX);
			goto bad;
		}
		ev_object_set(vectors, key, ev_ref(val));
	}
	return vectors;
bad:
	ev_unref(vectors);
	return NULL;
}

static int expand(const struct ev *matrix, struct matrix_list *out, struct buf *err)
{
	const struct ev *inc = NULL, *exc = NULL;
	size_t product;
	struct ev *vectors = read_vectors(matrix, &inc, &exc, &product, err);
	if (!vectors)
		return -1;
	struct filter *incs = NULL, *excs = NULL;
	size_t ninc = 0, nexc = 0;
	int ret = -1;
	if (read_filters(exc, vectors, 0, &excs, &nexc, err) < 0 ||
	    read_filters(inc, vectors, 1, &incs, &ninc, err) < 0)
		goto out;
	size_t nvec = ev_len(vectors);
	for (size_t idx = 0; idx < product; idx++) {
		/* first key varies slowest */
		struct ev *m = ev_object();
		size_t block = product;
		for (size_t v = 0; v < nvec; v++) {
			const struct ev *vec = ev_object_val_at(vectors, v);
			block /= ev_len(vec);
			size_t at = (idx / block) % ev_len(vec);
			ev_object_set(m, ev_object_key_at(vectors, v), ev_ref(ev_array_at(vec, at)));
		}
		int excluded = 0;
		for (size_t e = 0; e < nexc && !excluded; e++)
			excluded = leaf_match(excs[e].filter, m, 0);
		if (excluded) {
			ev_unref(m);
			continue;
		}
		/* extras of every matching include, later ones overwriting */
		struct ev *extra = NULL;
		for (size_t i = 0; i < ninc; i++) {
			if (!leaf_match(incs[i].filter, m, 0))
				continue;
			incs[i].matched = 1;
			if (!extra)
				extra = ev_object();
			for (size_t k = 0; k < ev_len(incs[i].extra); k++)
				ev_object_set(extra, ev_object_key_at(incs[i].extra, k),
					      ev_ref(ev_object_val_at(incs[i].extra, k)));
		}
		/* the name comes from the vector values only */
		struct ev *full = m;
		if (extra) {
			full = ev_object();
			for (size_t k = 0; k < ev_len(m); k++)
				ev_object_set(full, ev_object_key_at(m, k), ev_ref(ev_object_val_at(m, k)));
			for (size_t k = 0; k < ev_len(extra); k++)
				ev_object_set(full, ev_object_key_at(extra, k),
					      ev_ref(ev_object_val_at(extra, k)));
			ev_unref(extra);
		}
		add_combo(out, full, m);
		if (full != m)
			ev_unref(m);
		if (out->nr > PLAN_MATRIX_MAX)
			break;
	}
	/* includes that matched nothing are combinations of their own:
	 * filter keys first, then extras (as GitHub builds them) */
	for (size_t i = 0; i < ninc && out->nr <= PLAN_MATRIX_MAX; i++) {
		if (incs[i].matched)
			continue;
		struct ev *m = ev_object();
		for (size_t k = 0; k < ev_len(incs[i].filter); k++)
			ev_object_set(m, ev_object_key_at(incs[i].filter, k),
				      ev_ref(ev_object_val_at(incs[i].filter, k)));
		for (size_t k = 0; k < ev_len(incs[i].extra); k++)
			ev_object_set(m, ev_object_key_at(incs[i].extra, k),
				      ev_ref(ev_object_val_at(incs[i].extra, k)));
		add_combo(out, m, m);
	}
	if (out->nr > PLAN_MATRIX_MAX) {
		buf_addf(err, "matrix expands to more than %d jobs", PLAN_MATRIX_MAX);
		goto out;
	}
	ret = 0;
out:
	free_filters(incs, ninc);
	free_filters(excs, nexc);
	ev_unref(vectors);
	return ret;
}

int matrix_expand(const struct ev *matrix, struct matrix_list *out, struct buf *err)
{
	if (!matrix || ev_kind(matrix) == EV_NULL) {
		add_combo(out, ev_object(), NULL);
		return 0;
	}
	if (ev_kind(matrix) != EV_OBJECT) {
		buf_addstr(err, "strategy.matrix must be a mapping");
		return -1;
	}
	size_t before = out->nr;
	if (expand(matrix, out, err) < 0)
		goto bad;
	if (out->nr == before) {
		buf_addstr(err, "matrix has no combinations (no vector, or every combination excluded)");
		goto bad;
	}
	return 0;
bad:
	while (out->nr > before) {
		out->nr--;
		ev_unref(out->v[out->nr].matrix);
		free(out->v[out->nr].suffix);
	}
	return -1;
}

void matrix_list_release(struct matrix_list *l)
{
	for (size_t i = 0; i < l->nr; i++) {
		ev_unref(l->v[i].matrix);
		free(l->v[i].suffix);
	}
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}
