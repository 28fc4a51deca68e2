/*
 * cron: parsing five-field cron expressions into bit sets and finding the
 * next matching minutes, in UTC, with our own calendar arithmetic (no
 * time zone, no libc time state).
 */
#include "base/kiln.h"
#include "workflow/cron.h"

#include <ctype.h>
#include <errno.h>

/* one field's description */
struct field {
	const char *name;
	int lo, hi;               /* accepted numeric range */
	const char *const *names; /* names for lo.. (JAN.., SUN..), or NULL */
};

static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
					   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL };
static const char *const wday_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL };

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day-of-week", 0, 7, wday_names },
};

/* parse a number or a name at *p; advances *p; -1 on error */
static int parse_value(const char **p, const struct field *f)
{
	const char *s = *p;
	if (isdigit((unsigned char)*s)) {
		long v = 0;
		while (isdigit((unsigned char)*s) && v < 1000)
			v = v * 10 + (*s++ - '0');
		if (isdigit((unsigned char)*s))
			return -1;
		*p = s;
		return (int)v;
	}
	if (!f->names)
		return -1;
	for (int i = 0; f->names[i]; i++) {
		if (!strncasecmp(s, f->names[i], 3) && !isalpha((unsigned char)s[3])) {
			*p = s + 3;
			return f->lo + i;
		}
	}
	return -1;
}

static int field_error(struct buf *err, const char *expr, const struct field *f,
		       const char *item, size_t len, const char *what)
{
	if (err) {
		buf_addf(err, "invalid cron expression '%s': %s '%.*s' %s", expr, f->name, (int)len,
			 item, what);
		if (!strcmp(what, "is out of range"))
			buf_addf(err, " %d-%d", f->lo, f->hi);
	}
	return KILN_EINVAL;
}

/* one comma-separated item: * | v | a-b, optionally /step; sets bits in *bits */
static int parse_item(const char *item, size_t len, const struct field *f, uint64_t *bits,
		      const char *expr, struct buf *err)
{
	char tmp[64];
	if (len == 0 || len >= sizeof(tmp))
		return field_error(err, expr, f, item, len, len ? "is too long" : "has an empty list item");
	memcpy(tmp, item, len);
	tmp[len] = '\0';
	const char *p = tmp;
	int lo, hi, step = 1, single = 0;
	if (*p == '*') {
		lo = f->lo;
		hi = f->hi == 7 ? 6 : f->hi;
		p++;
	} else {
		lo = parse_value(&p, f);
		if (lo < 0)
			return field_error(err, expr, f, item, len, "is not a number");
		hi = lo;
		single = 1;
		if (*p == '-') {
			p++;
			hi = parse_value(&p, f);
			if (hi < 0)
				return field_error(err, expr, f, item, len, "has a bad range end");
			single = 0;
		}
	}
	if (*p == '/') {
		p++;
		const char *q = p;
		struct field num = { f->name, 0, 0, NULL };
		step = parse_value(&p, &num);
		if (step <= 0 || p == q)
			return field_error(err, expr, f, item, len, "has a bad step (must be 1 or more)");
		if (single)
			hi = f->hi == 7 ? 6 : f->hi; /* a/n: from a to the maximum */
	}
	if (*p)
		return field_error(err, expr, f, item, len, "is not a valid value, range or step");
	if (lo < f->lo || lo > f->hi || hi < f->lo || hi > f->hi)
		return field_error(err, expr, f, item, len, "is out of range");
	if (lo > hi)
		return field_error(err, expr, f, item, len, "is a backwards range");
	for (int v = lo; v <= hi; v += step)
		*bits |= 1ull << (f == &fields[4] && v == 7 ? 0 : v);
	return 0;
}

static int parse_field(const char *s, size_t len, const struct field *f, uint64_t *bits,
		       const char *expr, struct buf *err)
{
	*bits = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == ',') {
			if (parse_item(s + start, i - start, f, bits, expr, err) < 0)
				return KILN_EINVAL;
			start = i + 1;
		}
	}
	return 0;
}

int cron_parse(const char *expr, struct cron *c, struct buf *err)
{
	memset(c, 0, sizeof(*c));
	const char *tok[6];
	size_t toklen[6], n = 0;
	const char *p = expr;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (n < 6) {
			tok[n] = start;
			toklen[n] = (size_t)(p - start);
		}
		n++;
	}
	if (n != 5) {
		if (err)
			buf_addf(err, "invalid cron expression '%s': expected 5 fields "
				      "(minute hour day-of-month month day-of-week), got %zu", expr, n);
		return KILN_EINVAL;
	}
	uint64_t bits[5];
	for (int i = 0; i < 5; i++)
		if (parse_field(tok[i], toklen[i], &fields[i], &bits[i], expr, err) < 0)
			return KILN_EINVAL;
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->mday = (uint32_t)bits[2];
	c->month = (uint16_t)bits[3];
	c->wday = (uint8_t)bits[4];
	c->mday_star = tok[2][0] == '*';
	c->wday_star = tok[4][0] == '*';
	return 0;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static int day_matches(const struct cron *c, int64_t days)
{
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (!((c->month >> m) & 1))
		return 0;
	unsigned wd = (unsigned)((days % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
	int dom = (c->mday >> d) & 1, dow = (c->wday >> wd) & 1;
	if (!c->mday_star && !c->wday_star)
		return dom || dow;
	return dom && dow;
}

int cron_matches(const struct cron *c, int64_t t)
{
	int64_t days = floor_div(t, 86400);
	int64_t sec = t - days * 86400;
	int h = (int)(sec / 3600), mi = (int)(sec % 3600 / 60);
	return day_matches(c, days) && ((c->hour >> h) & 1) && ((c->minute >> mi) & 1);
}

int64_t cron_next(const struct cron *c, int64_t after)
{
	int64_t t = floor_div(after, 60) * 60 + 60;
	int64_t days = floor_div(t, 86400);
	int64_t limit = days + 28 * 366;
	int start_min = (int)((t - days * 86400) / 60);
	for (; days <= limit; days++, start_min = 0) {
		if (!day_matches(c, days))
			continue;
		for (int m = start_min; m < 24 * 60; m++) {
			if (!((c->hour >> (m / 60)) & 1)) {
				m = (m / 60) * 60 + 59; /* skip the rest of this hour */
				continue;
			}
			if ((c->minute >> (m % 60)) & 1)
				return days * 86400 + (int64_t)m * 60;
		}
	}
	return -1;
}

void cron_format_time(int64_t t, char *out, size_t n)
{
	int64_t days = floor_div(t, 86400);
	int64_t sec = t - days * 86400;
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, n, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, (int)(sec / 3600),
		 (int)(sec % 3600 / 60), (int)(sec % 60));
}

int cron_parse_time(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, se = 0, used = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &used) != 5)
		return KILN_EINVAL;
	const char *rest = s + used;
	if (*rest == ':') {
		int u2 = 0;
		if (sscanf(rest, ":%2d%n", &se, &u2) != 1)
			return KILN_EINVAL;
		rest += u2;
	}
	if (*rest == 'Z')
		rest++;
	if (*rest || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59 ||
	    h < 0 || mi < 0 || se < 0)
		return KILN_EINVAL;
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}
