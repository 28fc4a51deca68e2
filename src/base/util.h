/*
 * util: small pure helpers shared by every module: error codes, string
 * similarity for "did you mean" hints, time.
 */
#ifndef KILN_UTIL_H
#define KILN_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* error codes: 0 or negative; see kiln_strerror */
enum {
	KILN_OK = 0,
	KILN_EINVAL = -1,   /* bad user input */
	KILN_EIO = -2,      /* system / environment failure */
	KILN_ENOENT = -3,   /* not found */
	KILN_ETOOBIG = -4,  /* input over a size cap */
	KILN_ECANCELED = -5,
};
const char *kiln_strerror(int code);

/* CLI exit codes (DESIGN.md) */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_INTERNAL = 3 };

/* Levenshtein distance (case-sensitive), capped for long strings */
size_t str_distance(const char *a, const char *b);
/* the candidate closest to `word`, or NULL when none is plausibly meant */
const char *did_you_mean(const char *word, const char *const *cands, size_t n);

int str_starts_with(const char *s, const char *prefix);
int str_ends_with(const char *s, const char *suffix);
/* a copy of url fit for messages: a user:password@ part (a token) becomes ***@ */
char *url_redact(const char *url);

/* monotonic clock in nanoseconds */
uint64_t now_ns(void);
/* wall clock ISO-8601 UTC into out (>= 25 bytes) */
void now_iso8601(char *out, size_t n);
/* days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12),
 * negative before; no time zone, no libc (Howard Hinnant's days_from_civil) */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

/*
 * A duration for people, as Go's time.Duration prints it but without zero
 * units: "0.17ms", "2.5ms", "250ms", "1.5s", "5s", "1m30s", "2m", "1h0m5s".
 * Returned by value so it can sit in a printf argument list:
 * printf("took %s", duration_str(ms).s). Negative durations print as "-".
 */
struct duration_str {
	char s[32];
};
struct duration_str duration_str(double ms);

#endif
