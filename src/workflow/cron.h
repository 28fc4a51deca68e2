/*
 * cron: `on.schedule[].cron` expressions — five POSIX cron fields with
 * GitHub's semantics (always UTC, minute resolution):
 *
 *   minute hour day-of-month month day-of-week
 *   0-59   0-23 1-31         1-12  0-6 (7 = Sunday too)
 *
 * Each field: `*`, a value, a range `a-b`, a step `*` + `/n` or `a-b/n` or
 * `a/n` (a to the field's maximum), or a comma list of those. Months
 * JAN-DEC and weekdays SUN-SAT may be written as names (any case).
 * When BOTH day-of-month and day-of-week are restricted (neither starts
 * with `*`) a day matches if EITHER matches (POSIX / Vixie cron); otherwise
 * both must match.
 */
#ifndef KILN_CRON_H
#define KILN_CRON_H

#include <stdint.h>

#include "base/buf.h"

struct cron {
	uint64_t minute;  /* bit m set: minute m (0-59) */
	uint32_t hour;    /* bit h: hour h (0-23) */
	uint32_t mday;    /* bit d: day of month d (1-31) */
	uint16_t month;   /* bit m: month m (1-12) */
	uint8_t wday;     /* bit w: weekday w (0 = Sunday .. 6) */
	int mday_star;    /* day-of-month field started with '*' */
	int wday_star;    /* day-of-week field started with '*' */
};

/*
 * Parse `expr`. Returns 0, or KILN_EINVAL with a message appended to err
 * naming the field and the problem, e.g.
 * "invalid cron expression '61 * * * *': minute '61' is out of range 0-59".
 */
int cron_parse(const char *expr, struct cron *c, struct buf *err);
/* does minute `t` (seconds since the epoch, UTC; seconds ignored) match? */
int cron_matches(const struct cron *c, int64_t t);
/*
 * The first matching minute strictly after `after` (epoch seconds), or -1
 * when the expression never matches (e.g. 30 February) within 28 years.
 */
int64_t cron_next(const struct cron *c, int64_t after);

/* format epoch seconds as 2026-11-23T10:41:00Z into out (>= 21 bytes) */
void cron_format_time(int64_t t, char *out, size_t n);
/* parse 2026-11-23T10:41[:00][Z] (UTC); 0 or KILN_EINVAL */
int cron_parse_time(const char *s, int64_t *out);

#endif
