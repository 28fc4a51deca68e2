/*
 * matrix: check `strategy.matrix` and count the jobs it expands to with
 * GitHub's rules (docs: "Using a matrix for your jobs"): the cross product
 * of the vectors, minus every combination an `exclude` entry partially
 * matches, plus each `include` entry that extends no combination without
 * overwriting an original value. More than 256 jobs is an error.
 */
#include "workflow/wf-int.h"

#define MATRIX_MAX_JOBS 256
/* combinations we are willing to enumerate to apply exclude/include */
#define MATRIX_ENUM_MAX 65536

struct vec {
	const char *key;
	const struct ynode *vals; /* sequence */
};

static int node_equal(const struct ynode *a, const struct ynode *b)
{
	if (a->kind != b->kind || a->nr != b->nr)
		return 0;
	if (a->kind == YNODE_SCALAR)
		return !strcmp(a->str, b->str);
	if (a->kind == YNODE_SEQ) {
		for (size_t i = 0; i < a->nr; i++)
			if (!node_equal(a->items[i], b->items[i]))
				return 0;
		return 1;
	}
	if (a->kind != YNODE_MAP)
		return 0;
	for (size_t i = 0; i < ynode_map_size(a); i++) {
		const struct ynode *bv = ynode_get(b, ynode_map_key(a, i)->str);
		if (!bv || !node_equal(ynode_map_val(a, i), bv))
			return 0;
	}
	return 1;
}

static long vec_index(const struct vec *v, size_t nv, const char *key)
{
	for (size_t i = 0; i < nv; i++)
		if (!strcmp(v[i].key, key))
			return (long)i;
	return -1;
}

/* combination `c` (mixed-radix index) value of vector i */
static const struct ynode *combo_val(const struct vec *v, size_t nv, size_t c, size_t i)
{
	for (size_t j = nv; j-- > i + 1;)
		c /= v[j].vals->nr;
	return v[i].vals->items[c % v[i].vals->nr];
}

/* does a filter entry (exclude, or include's original keys) match combination c? */
static int entry_matches(const struct ynode *e, const struct vec *v, size_t nv, size_t c,
			 int only_original)
{
	for (size_t k = 0; k < ynode_map_size(e); k++) {
		const struct ynode *key = ynode_map_key(e, k);
		long i = vec_index(v, nv, key->str);
		if (i < 0) {
			if (only_original)
				continue;
			return 0;
		}
		if (!node_equal(combo_val(v, nv, c, (size_t)i), ynode_map_val(e, k)))
			return 0;
	}
	return 1;
}

/* include/exclude: a sequence of mappings; NULL when it holds expressions */
static const struct ynode *check_filter(struct wf__ld *ld, const struct ynode *f,
					const char *name, int *dynamic)
{
	if (!f)
		return NULL;
	if (f->kind == YNODE_SCALAR && wf__is_whole_expr(f)) {
		*dynamic = 1;
		return NULL;
	}
	if (f->kind != YNODE_SEQ) {
		wf__err(ld, f, "matrix '%s' must be a sequence of mappings, not %s", name,
			wf__kind_desc(f));
		return NULL;
	}
	for (size_t i = 0; i < f->nr; i++) {
		const struct ynode *e = f->items[i];
		if (e->kind == YNODE_SCALAR && wf__is_whole_expr(e)) {
			*dynamic = 1;
			continue;
		}
		if (e->kind != YNODE_MAP) {
			wf__err(ld, e, "a matrix '%s' entry must be a mapping, not %s", name,
				wf__kind_desc(e));
			return NULL;
		}
	}
	return *dynamic ? NULL : f;
}

/*
 * What GitHub checks when it expands the matrix (and the scheduler at run
 * time): an exclude entry names only vector keys, no entry is empty.
 * Reported at the offending key or entry.
 */
static void check_filter_keys(struct wf__ld *ld, const struct vec *v, size_t nv,
			      const struct ynode *inc, const struct ynode *exc)
{
	for (size_t i = 0; inc && i < inc->nr; i++)
		if (!ynode_map_size(inc->items[i]))
			wf__err(ld, inc->items[i], "matrix include mapping does not contain any values");
	for (size_t i = 0; exc && i < exc->nr; i++) {
		const struct ynode *e = exc->items[i];
		if (!ynode_map_size(e))
			wf__err(ld, e, "matrix exclude filter must not be empty");
		for (size_t k = 0; k < ynode_map_size(e); k++) {
			const struct ynode *key = ynode_map_key(e, k);
			if (vec_index(v, nv, key->str) < 0)
				wf__err(ld, key, "matrix exclude key '%s' does not match any key "
						 "within the matrix", key->str);
		}
	}
}

static long count_jobs(const struct vec *v, size_t nv, size_t product, const struct ynode *inc,
		       const struct ynode *exc)
{
	long total = 0;
	size_t ninc = inc ? inc->nr : 0;
	char *used = xcalloc(ninc ? ninc : 1, 1);
	for (size_t c = 0; nv && c < product; c++) {
		int excluded = 0;
		for (size_t e = 0; exc && e < exc->nr && !excluded; e++)
			excluded = entry_matches(exc->items[e], v, nv, c, 0);
		if (excluded)
			continue;
		total++;
		for (size_t i = 0; i < ninc; i++)
			if (!used[i] && entry_matches(inc->items[i], v, nv, c, 1))
				used[i] = 1;
	}
	for (size_t i = 0; i < ninc; i++)
		total += !used[i];
	free(used);
	return total;
}

void wf__check_matrix(struct wf__ld *ld, struct wf_job *job, const struct ynode *strategy)
{
	const struct ynode *m = wf__get(strategy, "matrix");
	job->matrix_jobs = 1;
	if (!m)
		return;
	if (m->kind != YNODE_MAP) {
		job->matrix_jobs = -1; /* ${{ fromJSON(...) }} */
		return;
	}
	size_t n = ynode_map_size(m), nv = 0;
	struct vec *v = xcalloc(n ? n : 1, sizeof(*v));
	const struct ynode *inc = NULL, *exc = NULL;
	int dynamic = 0, bad = 0;
	double product = 1;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *k = ynode_map_key(m, i), *val = ynode_map_val(m, i);
		if (k->kind != YNODE_SCALAR)
			continue;
		if (wf__is_insert(k)) {
			/* vectors merged in at run time (a mapping or an expression) */
			dynamic = 1;
			continue;
		}
		if (wf__has_expr(k))
			dynamic = 1; /* the vector's name is known at run time */
		if (!strcmp(k->str, "include")) {
			inc = check_filter(ld, val, "include", &dynamic);
			continue;
		}
		if (!strcmp(k->str, "exclude")) {
			exc = check_filter(ld, val, "exclude", &dynamic);
			continue;
		}
		if (val->kind == YNODE_SCALAR && wf__is_whole_expr(val)) {
			dynamic = 1;
			continue;
		}
		if (val->kind != YNODE_SEQ) {
			wf__err(ld, val, "matrix vector '%s' must be a sequence, not %s", k->str,
				wf__kind_desc(val));
			bad = 1;
			continue;
		}
		if (!val->nr) {
			wf__err(ld, val, "matrix vector '%s' has no values", k->str);
			bad = 1;
			continue;
		}
		v[nv++] = (struct vec){ k->str, val };
		product *= (double)val->nr;
	}
	if (!nv && !inc && !dynamic && !bad)
		wf__err(ld, m, "the matrix of job '%s' defines no vector and no 'include'",
			job->id.s);
	if (dynamic || bad) {
		job->matrix_jobs = -1;
		free(v);
		return;
	}
	if (product > MATRIX_ENUM_MAX) {
		wf__err(ld, m, "the matrix of job '%s' expands to %.0f jobs, more than the %d allowed",
			job->id.s, product, MATRIX_MAX_JOBS);
		job->matrix_jobs = -1;
		free(v);
		return;
	}
	check_filter_keys(ld, v, nv, inc, exc);
	long total = count_jobs(v, nv, (size_t)product, inc, exc);
	if (total > MATRIX_MAX_JOBS)
		wf__err(ld, m, "the matrix of job '%s' expands to %ld jobs, more than the %d allowed",
			job->id.s, total, MATRIX_MAX_JOBS);
	job->matrix_jobs = total;
	free(v);
}
