/*
 * docker_meta_date: the `{{date 'FORMAT' tz='Zone'}}` helper of
 * docker/metadata-action (its meta.ts: moment-timezone's format()), for
 * type=schedule patterns and every other attribute's templates. Formats
 * are moment.js tokens; zones are read from the system's TZif files
 * (/usr/share/zoneinfo, Debian's tzdata: "fat" files list every
 * transition up to 2037, the last one holds after that).
 */
#include "base/kiln.h"
#include "actions/actions.h"
#include "base/fs.h"

#include <time.h>

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* the UTC offset (seconds) of zone tz at unix time t */
static int tz_offset(const char *tz, int64_t t, int *off, struct buf *err)
{
	*off = 0;
	if (!*tz || !strcmp(tz, "UTC") || !strcmp(tz, "Etc/UTC") || !strcmp(tz, "GMT"))
		return 0;
	if (strstr(tz, "..") || *tz == '/' || strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/") != strlen(tz)) {
		buf_addf(err, "unknown time zone '%s'", tz);
		return -1;
	}
	struct buf path = BUF_INIT, f = BUF_INIT, why = BUF_INIT;
	buf_addf(&path, "/usr/share/zoneinfo/%s", tz);
	int r = -1;
	if (fs_read_input(path.buf, 1 << 20, &f, &why) < 0 || f.len < 44 ||
	    memcmp(f.buf, "TZif", 4)) {
		buf_addf(err, "unknown time zone '%s' (no TZif file %s)", tz, path.buf);
		goto out;
	}
	const unsigned char *p = (const unsigned char *)f.buf, *end = p + f.len;
	int tsize = 4;
	for (int pass = 0; pass < 2; pass++) {
		if (end - p < 44)
			break;
		uint32_t isut = be32(p + 20), isstd = be32(p + 24), leap = be32(p + 28),
			 timecnt = be32(p + 32), typecnt = be32(p + 36), chars = be32(p + 40);
		size_t data = (size_t)timecnt * (size_t)tsize + timecnt + (size_t)typecnt * 6 +
			      chars + (size_t)leap * (size_t)(tsize + 4) + isstd + isut;
		if ((size_t)(end - p) < 44 + data || !typecnt) {
			buf_addf(err, "time zone file %s is damaged", path.buf);
			goto out;
		}
		if (pass == 0 && p[4] >= '2') { /* version 2+: the 64-bit block follows */
			p += 44 + data;
			tsize = 8;
			continue;
		}
		const unsigned char *times = p + 44, *idx = times + (size_t)timecnt * (size_t)tsize,
				    *types = idx + timecnt;
		size_t type = 0;
		for (size_t i = 0; i < typecnt; i++) /* before the first: the first standard type */
			if (!types[i * 6 + 4]) {
				type = i;
				break;
			}
		for (size_t i = 0; i < timecnt; i++) {
			int64_t at = tsize == 8 ? be64(times + i * 8) : (int32_t)be32(times + i * 4);
			if (at > t)
				break;
			type = idx[i] < typecnt ? idx[i] : type;
		}
		*off = (int32_t)be32(types + type * 6);
		r = 0;
		break;
	}
	if (r < 0 && !err->len)
		buf_addf(err, "time zone file %s is damaged", path.buf);
out:
	buf_release(&path);
	buf_release(&f);
	buf_release(&why);
	return r;
}

static const char *const months[] = { "January", "February", "March",     "April",
				      "May",     "June",     "July",      "August",
				      "September", "October", "November", "December" };
static const char *const days[] = { "Sunday",   "Monday", "Tuesday", "Wednesday",
				    "Thursday", "Friday", "Saturday" };

/* moment's tokens, longest first */
static const char *const tokens[] = { "YYYY", "MMMM", "dddd", "DDDD", "MMM", "ddd", "DDD",
				      "SSS",  "YY",   "MM",   "DD",   "Do",  "dd",  "HH",
				      "hh",   "mm",   "ss",   "SS",   "ZZ",  "M",   "D",
				      "d",    "H",    "h",    "m",    "s",   "S",   "A",
				      "a",    "Z",    "X",    "x",    "Q" };

static void token(const char *tk, const struct tm *tm, int64_t ms, int off, struct buf *o)
{
	int h12 = tm->tm_hour % 12 ? tm->tm_hour % 12 : 12;
	if (!strcmp(tk, "YYYY"))
		buf_addf(o, "%04d", tm->tm_year + 1900);
	else if (!strcmp(tk, "YY"))
		buf_addf(o, "%02d", (tm->tm_year + 1900) % 100);
	else if (!strcmp(tk, "Q"))
		buf_addf(o, "%d", tm->tm_mon / 3 + 1);
	else if (!strcmp(tk, "MMMM"))
		buf_addstr(o, months[tm->tm_mon]);
	else if (!strcmp(tk, "MMM"))
		buf_add(o, months[tm->tm_mon], 3);
	else if (!strcmp(tk, "MM"))
		buf_addf(o, "%02d", tm->tm_mon + 1);
	else if (!strcmp(tk, "M"))
		buf_addf(o, "%d", tm->tm_mon + 1);
	else if (!strcmp(tk, "DDDD"))
		buf_addf(o, "%03d", tm->tm_yday + 1);
	else if (!strcmp(tk, "DDD"))
		buf_addf(o, "%d", tm->tm_yday + 1);
	else if (!strcmp(tk, "DD"))
		buf_addf(o, "%02d", tm->tm_mday);
	else if (!strcmp(tk, "D"))
		buf_addf(o, "%d", tm->tm_mday);
	else if (!strcmp(tk, "Do")) {
		int d = tm->tm_mday;
		const char *sfx = d % 10 == 1 && d != 11 ? "st" : d % 10 == 2 && d != 12 ? "nd"
				: d % 10 == 3 && d != 13 ? "rd" : "th";
		buf_addf(o, "%d%s", d, sfx);
	} else if (!strcmp(tk, "dddd"))
		buf_addstr(o, days[tm->tm_wday]);
	else if (!strcmp(tk, "ddd"))
		buf_add(o, days[tm->tm_wday], 3);
	else if (!strcmp(tk, "dd"))
		buf_add(o, days[tm->tm_wday], 2);
	else if (!strcmp(tk, "d"))
		buf_addf(o, "%d", tm->tm_wday);
	else if (!strcmp(tk, "HH"))
		buf_addf(o, "%02d", tm->tm_hour);
	else if (!strcmp(tk, "H"))
		buf_addf(o, "%d", tm->tm_hour);
	else if (!strcmp(tk, "hh"))
		buf_addf(o, "%02d", h12);
	else if (!strcmp(tk, "h"))
		buf_addf(o, "%d", h12);
	else if (!strcmp(tk, "mm"))
		buf_addf(o, "%02d", tm->tm_min);
	else if (!strcmp(tk, "m"))
		buf_addf(o, "%d", tm->tm_min);
	else if (!strcmp(tk, "ss"))
		buf_addf(o, "%02d", tm->tm_sec);
	else if (!strcmp(tk, "s"))
		buf_addf(o, "%d", tm->tm_sec);
	else if (!strcmp(tk, "SSS"))
		buf_addf(o, "%03d", (int)(ms % 1000));
	else if (!strcmp(tk, "SS"))
		buf_addf(o, "%02d", (int)(ms % 1000 / 10));
	else if (!strcmp(tk, "S"))
		buf_addf(o, "%d", (int)(ms % 1000 / 100));
	else if (!strcmp(tk, "A"))
		buf_addstr(o, tm->tm_hour < 12 ? "AM" : "PM");
	else if (!strcmp(tk, "a"))
		buf_addstr(o, tm->tm_hour < 12 ? "am" : "pm");
	else if (!strcmp(tk, "Z") || !strcmp(tk, "ZZ")) {
		int a = off < 0 ? -off : off;
		buf_addf(o, tk[1] ? "%c%02d%02d" : "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600,
			 a / 60 % 60);
	} else if (!strcmp(tk, "X"))
		buf_addf(o, "%lld", (long long)(ms / 1000));
	else if (!strcmp(tk, "x"))
		buf_addf(o, "%lld", (long long)ms);
}

int act_meta_date(int64_t ms, const char *fmt, const char *tz, struct buf *out, struct buf *err)
{
	int off;
	if (tz_offset(tz ? tz : "UTC", ms / 1000, &off, err) < 0)
		return -1;
	time_t local = (time_t)(ms / 1000 + off);
	struct tm tm;
	if (!gmtime_r(&local, &tm)) {
		buf_addstr(err, "date out of range");
		return -1;
	}
	if (!fmt) /* moment's default format; UTC shows as Z */
		fmt = off ? "YYYY-MM-DDTHH:mm:ssZ" : "YYYY-MM-DDTHH:mm:ss[Z]";
	while (*fmt) {
		if (*fmt == '[') {
			const char *e = strchr(fmt, ']');
			if (e) {
				buf_add(out, fmt + 1, (size_t)(e - fmt - 1));
				fmt = e + 1;
				continue;
			}
		}
		size_t n = 0;
		for (size_t i = 0; i < ARRAY_SIZE(tokens) && !n; i++)
			if (!strncmp(fmt, tokens[i], strlen(tokens[i]))) {
				token(tokens[i], &tm, ms, off, out);
				n = strlen(tokens[i]);
			}
		if (!n) {
			buf_addch(out, *fmt);
			n = 1;
		}
		fmt += n;
	}
	return 0;
}

int act_meta_parse_iso(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19 ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	const char *p = s + n;
	int frac = 0;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
		for (; digits < 3; digits++)
			frac *= 10;
	}
	int off = 0;
	if (*p == '+' || *p == '-') {
		int oh, om;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			return -1;
		off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
		p += 6;
	} else if (*p == 'Z') {
		p++;
	}
	if (*p)
		return -1;
	int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec -
		    (int64_t)off * 60;
	*ms = t * 1000 + frac;
	return 0;
}
