/* util: error strings, string similarity, clocks. */
#include "base/util.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *kiln_strerror(int code)
{
	switch (code) {
	case KILN_OK: return "success";
	case KILN_EINVAL: return "invalid input";
	case KILN_EIO: return "input/output error";
	case KILN_ENOENT: return "not found";
	case KILN_ETOOBIG: return "input too large";
	case KILN_ECANCELED: return "cancelled";
	}
	return "unknown error";
}

size_t str_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 128 || lb > 128)
		return la > lb ? la : lb;
	size_t row[129];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

const char *did_you_mean(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1;
	size_t len = strlen(word);
	size_t limit = len < 4 ? 1 : len / 3 + 1;
	for (size_t i = 0; i < n; i++) {
		size_t d = str_distance(word, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return bestd <= limit ? best : NULL;
}

int str_starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int str_ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && !memcmp(s + ls - lx, suffix, lx);
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void now_iso8601(char *out, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* "%.<prec>f" without trailing zeros (and without a trailing '.') */
static void trimmed(char *out, size_t n, double v, int prec, const char *unit)
{
	int l = snprintf(out, n, "%.*f", prec, v);
	if (prec > 0 && l > 0 && (size_t)l < n) {
		while (l > 0 && out[l - 1] == '0')
			l--;
		if (l > 0 && out[l - 1] == '.')
			l--;
		out[l] = '\0';
	}
	size_t used = strlen(out);
	snprintf(out + used, n - used, "%s", unit);
}

struct duration_str duration_str(double ms)
{
	struct duration_str d;
	if (!(ms >= 0)) {
		snprintf(d.s, sizeof(d.s), "-");
		return d;
	}
	if (ms < 1)
		trimmed(d.s, sizeof(d.s), ms < 0.005 && ms > 0 ? 0.01 : ms, 2, "ms");
	else if (ms < 10)
		trimmed(d.s, sizeof(d.s), ms, 1, "ms");
	else if (ms < 999.5)
		trimmed(d.s, sizeof(d.s), ms, 0, "ms");
	else if (ms < 59995)
		trimmed(d.s, sizeof(d.s), ms / 1000, ms < 10000 ? 2 : 1, "s");
	else {
		unsigned long long s = (unsigned long long)(ms / 1000 + 0.5);
		unsigned long long h = s / 3600, m = s / 60 % 60, sec = s % 60;
		int l = 0;
		if (h)
			l = snprintf(d.s, sizeof(d.s), "%lluh", h);
		if (m || (h && sec))
			l += snprintf(d.s + l, sizeof(d.s) - (size_t)l, "%llum", m);
		if (sec)
			snprintf(d.s + l, sizeof(d.s) - (size_t)l, "%llus", sec);
	}
	return d;
}

char *url_redact(const char *url)
{
	const char *auth = strstr(url, "://");
	if (!auth)
		return xstrdup(url);
	auth += 3;
	size_t alen = strcspn(auth, "/?#");
	const char *at = NULL;
	for (const char *p = auth; p < auth + alen; p++)
		if (*p == '@')
			at = p; /* the last '@': a password may hold one */
	if (!at)
		return xstrdup(url);
	return xstrfmt("%.*s***%s", (int)(auth - url), url, at);
}
