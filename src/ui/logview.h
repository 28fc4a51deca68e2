/*
 * logview: a job's stored log (store/runs.c's text: "> STEP" and
 * "< STEP: result" around each step, "== NAME ==" ... "##[endgroup]" for
 * ::group::, "error: FILE:LINE: msg" annotations) as HTML: one collapsible
 * block per step, collapsed groups, ANSI SGR colours as classes, numbered
 * lines with anchors (#L42), annotations marked at their lines. Everything
 * from the log is escaped. Only a window of lines is rendered, so a
 * 50,000-line log opens in pages.
 */
#ifndef KILN_UI_LOGVIEW_H
#define KILN_UI_LOGVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/strvec.h"

struct logview_mark;

struct logview_opts {
	int64_t from;   /* first line to render, 1-based */
	int64_t count;  /* lines to render at most */
	const char *href; /* line links: href + "N#LN" ("?line=" for the job page) */
	/* when each line of the text was written (store/runs.h: every line
	 * of the text, markers too), ntimes 0 when unknown */
	const int64_t *times;
	size_t ntimes;
	/* the stored annotations at their lines (ascending): when given,
	 * only these lines are marked as annotations (an output line that
	 * merely looks like one stays plain) and their titles are shown */
	const struct logview_mark *marks;
	size_t nmarks;
};

struct logview_mark {
	int64_t line;
	const char *title; /* "" for none */
};

struct logview_info {
	int64_t lines;       /* lines in the whole log */
	int64_t from, to;    /* rendered (to < from: none) */
	/* every annotation of the log: "LEVEL\tLINE\tTEXT" */
	struct strvec annotations;
};
#define LOGVIEW_INFO_INIT { 0, 0, 0, STRVEC_INIT }
void logview_info_release(struct logview_info *i);

void logview_render(const char *text, size_t len, const struct logview_opts *o, struct buf *out,
		    struct logview_info *info);
/*
 * The log line of a stored annotation (store/annotations.h): the line the
 * recorder wrote for it ("LEVEL: [FILE:LINE: ]MESSAGE"), searched among
 * info's annotations from *cursor on (advanced past a match, so a run's
 * annotations, in order, find their own lines even when texts repeat);
 * 0 when none matches
 */
int64_t logview_find_annotation(const struct logview_info *info, size_t *cursor,
				const char *level, const char *file, int line, const char *message);

/* one numbered line on its own (live logs): the same markup as in a
 * rendered log, annotations marked, without step or group structure;
 * at: when it was written (unix ms, 0 unknown) */
void logview_line(const char *s, size_t n, int64_t number, int64_t at, const char *href,
		  struct buf *out);
/* a line's time as the log view shows it: <time class="t"> (hidden
 * unless the log has class show-ts) */
void logview_time(int64_t at, struct buf *out);
/* a unix ms time as ISO 8601 UTC with milliseconds (the raw log's
 * timestamps, GitHub's format to the millisecond) */
void logview_iso(int64_t at, char out[32]);
/* one line's text with ANSI SGR colours as <span class> (escaped) */
void logview_ansi(const char *s, size_t n, struct buf *out);

#endif
