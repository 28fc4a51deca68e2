/*
 * promtext: parse one histogram out of the Prometheus text format, and
 * the arithmetic the canary p95 analysis does on it.
 */
#include "base/kiln.h"
#include "deploy/promtext.h"

#include <errno.h>
#include <math.h>

void prom_hist_release(struct prom_hist *h)
{
	free(h->le);
	free(h->cnt);
	memset(h, 0, sizeof(*h));
}

static void reserve(struct prom_hist *h, size_t n)
{
	if (n <= h->alloc)
		return;
	h->alloc = n < 16 ? 16 : n * 2;
	h->le = xrealloc(h->le, h->alloc * sizeof(*h->le));
	h->cnt = xrealloc(h->cnt, h->alloc * sizeof(*h->cnt));
}

void prom_hist_copy(struct prom_hist *dst, const struct prom_hist *src)
{
	prom_hist_release(dst);
	reserve(dst, src->n);
	if (src->n) {
		memcpy(dst->le, src->le, src->n * sizeof(*src->le));
		memcpy(dst->cnt, src->cnt, src->n * sizeof(*src->cnt));
	}
	dst->n = src->n;
	dst->count = src->count;
	dst->sum = src->sum;
	dst->found = src->found;
	dst->malformed = src->malformed;
}

/* add v to the bucket with bound le (inserted in order when new) */
static void add_bucket(struct prom_hist *h, double le, double v)
{
	size_t i = 0;
	while (i < h->n && h->le[i] < le)
		i++;
	if (i < h->n && h->le[i] == le) {
		h->cnt[i] += v;
		return;
	}
	reserve(h, h->n + 1);
	memmove(h->le + i + 1, h->le + i, (h->n - i) * sizeof(*h->le));
	memmove(h->cnt + i + 1, h->cnt + i, (h->n - i) * sizeof(*h->cnt));
	h->le[i] = le;
	h->cnt[i] = v;
	h->n++;
}

static int parse_num(const char *s, size_t len, double *out)
{
	char tmp[64];
	if (!len || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	if (!strcmp(tmp, "+Inf") || !strcmp(tmp, "Inf")) {
		*out = INFINITY;
		return 0;
	}
	char *end;
	errno = 0;
	double v = strtod(tmp, &end);
	if (errno || *end || isnan(v))
		return -1;
	*out = v;
	return 0;
}

/* the value of label `le` in "{a="x",le="0.5"}"; 1 found, 0 absent, -1 malformed */
static int find_le(const char *p, const char *end, double *le)
{
	int found = 0;
	p++; /* '{' */
	while (p < end && *p != '}') {
		while (p < end && (*p == ' ' || *p == ','))
			p++;
		if (p < end && *p == '}')
			break;
		const char *name = p;
		while (p < end && *p != '=' && *p != '}')
			p++;
		if (p + 1 >= end || *p != '=' || p[1] != '"')
			return -1;
		size_t nlen = (size_t)(p - name);
		while (nlen && name[nlen - 1] == ' ')
			nlen--;
		const char *val = p += 2;
		while (p < end && *p != '"') {
			if (*p == '\\' && p + 1 < end)
				p++;
			p++;
		}
		if (p >= end)
			return -1;
		if (nlen == 2 && !memcmp(name, "le", 2)) {
			if (parse_num(val, (size_t)(p - val), le) < 0)
				return -1;
			found = 1;
		}
		p++;
	}
	return p < end ? found : -1;
}

enum kind { K_NONE, K_BUCKET, K_COUNT, K_SUM };

static enum kind sample_kind(const char *line, const char *end, const char *metric, const char **rest)
{
	static const char *const suffix[] = { "_bucket", "_count", "_sum" };
	size_t ml = strlen(metric);
	if ((size_t)(end - line) <= ml || memcmp(line, metric, ml))
		return K_NONE;
	for (int k = 0; k < 3; k++) {
		size_t sl = strlen(suffix[k]);
		const char *p = line + ml;
		if ((size_t)(end - p) >= sl && !memcmp(p, suffix[k], sl) &&
		    (p + sl == end || p[sl] == '{' || p[sl] == ' ' || p[sl] == '\t')) {
			*rest = p + sl;
			return (enum kind)(k + 1);
		}
	}
	return K_NONE;
}

/* one line; 1 used, 0 not ours, -1 ours but malformed */
static int parse_line(const char *line, const char *end, const char *metric, struct prom_hist *h)
{
	const char *p;
	enum kind k = sample_kind(line, end, metric, &p);
	if (k == K_NONE)
		return 0;
	double le = 0;
	int has_le = 0;
	if (p < end && *p == '{') {
		const char *close = p;
		while (close < end && *close != '}') {
			if (*close == '"') /* skip quoted values, which may hold '}' */
				for (close++; close < end && *close != '"'; close++)
					if (*close == '\\')
						close++;
			close++;
		}
		if (close >= end)
			return -1;
		has_le = find_le(p, close + 1, &le);
		if (has_le < 0)
			return -1;
		p = close + 1;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	const char *v = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	double val;
	if (parse_num(v, (size_t)(p - v), &val) < 0 || val < 0 || (k == K_BUCKET && !has_le))
		return -1; /* a trailing timestamp after p is allowed and ignored */
	if (k == K_BUCKET)
		add_bucket(h, le, val);
	else if (k == K_COUNT)
		h->count += val;
	else
		h->sum += val;
	h->found = 1;
	return 1;
}

size_t promtext_parse(const char *text, size_t len, const char *metric, struct prom_hist *h)
{
	size_t used = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *e = le;
		if (e > p && e[-1] == '\r')
			e--;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p < e && *p != '#') {
			int r = parse_line(p, e, metric, h);
			if (r > 0)
				used++;
			else if (r < 0)
				h->malformed++;
		}
		p = nl ? nl + 1 : end;
	}
	return used;
}

/* cumulative count of h at bound le (a bound h lacks: the next lower one's) */
static double count_at(const struct prom_hist *h, double le)
{
	double c = 0;
	for (size_t i = 0; i < h->n && h->le[i] <= le; i++)
		c = h->cnt[i];
	return c;
}

void prom_hist_add(struct prom_hist *dst, const struct prom_hist *src)
{
	struct prom_hist sum = PROM_HIST_INIT;
	for (size_t i = 0; i < dst->n; i++)
		add_bucket(&sum, dst->le[i], 0);
	for (size_t i = 0; i < src->n; i++)
		add_bucket(&sum, src->le[i], 0);
	for (size_t i = 0; i < sum.n; i++)
		sum.cnt[i] = count_at(dst, sum.le[i]) + count_at(src, sum.le[i]);
	sum.count = dst->count + src->count;
	sum.sum = dst->sum + src->sum;
	sum.found = dst->found || src->found;
	sum.malformed = dst->malformed + src->malformed;
	prom_hist_release(dst);
	*dst = sum;
}

static int is_reset(const struct prom_hist *cur, const struct prom_hist *prev)
{
	if (cur->count < prev->count)
		return 1;
	for (size_t i = 0; i < cur->n; i++)
		if (cur->cnt[i] < count_at(prev, cur->le[i]))
			return 1;
	return 0;
}

void prom_hist_delta(const struct prom_hist *cur, const struct prom_hist *prev, struct prom_hist *out)
{
	prom_hist_copy(out, cur);
	if (is_reset(cur, prev))
		return;
	for (size_t i = 0; i < out->n; i++)
		out->cnt[i] -= count_at(prev, out->le[i]);
	out->count -= prev->count;
	out->sum -= prev->sum;
}

double prom_hist_total(const struct prom_hist *h)
{
	if (h->n && isinf(h->le[h->n - 1]))
		return h->cnt[h->n - 1];
	return h->count;
}

double prom_hist_quantile(double q, const struct prom_hist *h)
{
	if (h->n < 2 || !isinf(h->le[h->n - 1]) || !(q > 0 && q < 1))
		return NAN;
	double total = h->cnt[h->n - 1];
	if (total <= 0)
		return NAN;
	double rank = q * total;
	size_t b = 0;
	while (b < h->n - 1 && h->cnt[b] < rank)
		b++;
	if (b == h->n - 1)
		return h->le[h->n - 2];
	if (b == 0 && h->le[0] <= 0)
		return h->le[0];
	double start = 0, end = h->le[b], count = h->cnt[b];
	if (b > 0) {
		start = h->le[b - 1];
		count -= h->cnt[b - 1];
		rank -= h->cnt[b - 1];
	}
	if (count <= 0)
		return end;
	return start + (end - start) * (rank / count);
}
