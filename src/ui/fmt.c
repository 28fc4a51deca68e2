/*
 * fmt: the small pieces every page writes the same way — a status (a dot
 * and the word: colour is never the only signal), a time, a duration.
 */
#include "base/kiln.h"
#include "ui/ui.h"

#include <time.h>

void ui_status(struct buf *out, const char *status, const char *conclusion)
{
	const char *s = conclusion && *conclusion ? conclusion : status && *status ? status : "none";
	const char *word = !strcmp(s, "in_progress") ? "running" : s;
	char cls[40];
	size_t j = 0;
	/* the class is made of [a-z_] only: anything else from the store
	 * becomes '_' */
	for (const char *p = s; *p && j < sizeof(cls) - 1; p++)
		cls[j++] = (*p >= 'a' && *p <= 'z') || *p == '_' ? *p : '_';
	cls[j] = '\0';
	html_addf(out, "<span class=\"st st-%s\">%s</span>", cls, word);
}

void ui_time(struct buf *out, int64_t ms)
{
	if (ms <= 0) {
		buf_addstr(out, "—");
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32], iso[32];
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S UTC", &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	html_addf(out, "<time datetime=\"%s\">%s</time>", iso, s);
}

void ui_duration(struct buf *out, int64_t from_ms, int64_t to_ms)
{
	if (from_ms <= 0) {
		buf_addstr(out, "—");
		return;
	}
	if (to_ms <= 0) {
		/* still running: kiln.js counts up; without it, the start */
		html_addf(out, "<span class=\"timer\" data-since=\"%D\">running</span>", from_ms);
		return;
	}
	struct duration_str d = duration_str((double)(to_ms - from_ms));
	html_addf(out, "%s", d.s);
}

void ui_short_ref(struct buf *out, const char *ref)
{
	const char *r = ref ? ref : "";
	if (str_starts_with(r, "refs/heads/"))
		r += 11;
	else if (str_starts_with(r, "refs/tags/"))
		r += 10;
	html_addf(out, "%s", r);
}

void ui_bytes(struct buf *out, int64_t n)
{
	static const char *const unit[] = { "KB", "MB", "GB", "TB" };
	if (n < 1024) {
		buf_addf(out, "%lld B", (long long)(n < 0 ? 0 : n));
		return;
	}
	double v = (double)n / 1024;
	size_t u = 0;
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	buf_addf(out, "%.1f %s", v, unit[u]);
}
