/*
 * logview: stored job logs as HTML (see logview.h). One pass over the
 * text; only lines in the window are written, the rest is counted (for
 * paging) and searched for annotations.
 */
#include "base/kiln.h"
#include "ui/html.h"
#include "ui/logview.h"

#include <time.h>

void logview_info_release(struct logview_info *i)
{
	strvec_clear(&i->annotations);
}

/* SGR state of the text being written */
struct sgr {
	int fg, bg, bold, italic, underline;
};

static void sgr_apply(struct sgr *g, const char *p, size_t n)
{
	int v = 0, any = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] >= '0' && p[i] <= '9') {
			v = v * 10 + (p[i] - '0');
			any = 1;
			continue;
		}
		if (!any || v == 0) {
			memset(g, 0, sizeof(*g));
		} else if (v == 1) {
			g->bold = 1;
		} else if (v == 3) {
			g->italic = 1;
		} else if (v == 4) {
			g->underline = 1;
		} else if (v == 22) {
			g->bold = 0;
		} else if (v == 23) {
			g->italic = 0;
		} else if (v == 24) {
			g->underline = 0;
		} else if ((v >= 30 && v <= 37) || (v >= 90 && v <= 97)) {
			g->fg = v;
		} else if (v == 39) {
			g->fg = 0;
		} else if (v >= 40 && v <= 47) {
			g->bg = v;
		} else if (v == 49) {
			g->bg = 0;
		}
		v = 0;
		any = 0;
	}
}

static int sgr_plain(const struct sgr *g)
{
	return !g->fg && !g->bg && !g->bold && !g->italic && !g->underline;
}

static void sgr_open(const struct sgr *g, struct buf *out)
{
	buf_addstr(out, "<span class=\"");
	const char *sep = "";
	if (g->fg) {
		buf_addf(out, "a%d", g->fg);
		sep = " ";
	}
	if (g->bg) {
		buf_addf(out, "%sa%d", sep, g->bg);
		sep = " ";
	}
	if (g->bold) {
		buf_addf(out, "%sa-b", sep);
		sep = " ";
	}
	if (g->italic) {
		buf_addf(out, "%sa-i", sep);
		sep = " ";
	}
	if (g->underline)
		buf_addf(out, "%sa-u", sep);
	buf_addstr(out, "\">");
}

void logview_ansi(const char *s, size_t n, struct buf *out)
{
	struct sgr g = { 0 };
	int open = 0;
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\033')
			continue;
		html_esc_n(out, s + start, i - start);
		size_t j = i + 1;
		if (j < n && s[j] == '[') {
			size_t k = j + 1;
			while (k < n && ((s[k] >= '0' && s[k] <= '9') || s[k] == ';'))
				k++;
			if (k < n && s[k] == 'm') {
				if (open)
					buf_addstr(out, "</span>");
				sgr_apply(&g, s + j + 1, k - j - 1);
				open = !sgr_plain(&g);
				if (open)
					sgr_open(&g, out);
			}
			/* other control sequences (cursor, erase) are dropped */
			while (k < n && !((s[k] >= '@' && s[k] <= '~')))
				k++;
			i = k < n ? k : n - 1;
		}
		start = i + 1;
	}
	if (start < n)
		html_esc_n(out, s + start, n - start);
	if (open)
		buf_addstr(out, "</span>");
}

/* "error: ", "warning: ", "notice: " → the level, else NULL */
static const char *annotation_level(const char *s, size_t n, size_t *skip)
{
	static const char *const lv[] = { "error", "warning", "notice" };
	for (size_t i = 0; i < 3; i++) {
		size_t l = strlen(lv[i]);
		if (n > l + 1 && !strncmp(s, lv[i], l) && s[l] == ':' && s[l + 1] == ' ') {
			*skip = l + 2;
			return lv[i];
		}
	}
	return NULL;
}

struct render {
	const struct logview_opts *o;
	struct buf *out;
	struct logview_info *info;
	int in_step, in_group; /* open elements in the output */
	int64_t line;          /* number of the current line */
	int64_t at;            /* when it was written, 0 unknown */
	size_t mark;           /* the next of o->marks */
};

void logview_iso(int64_t at, char out[32])
{
	time_t t = (time_t)(at / 1000);
	struct tm tm;
	char s[24];
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", s, (int)(at % 1000));
}

void logview_time(int64_t at, struct buf *out)
{
	char iso[32];
	if (at <= 0)
		return;
	logview_iso(at, iso);
	/* the visible part: the time of day, to the millisecond */
	html_addf(out, "<time class=\"t\" datetime=\"%s\">", iso);
	html_esc_n(out, iso + 11, 12);
	buf_addstr(out, "</time>");
}

static int visible(const struct render *r)
{
	return r->line >= r->o->from && r->line < r->o->from + r->o->count;
}

static void close_group(struct render *r)
{
	if (r->in_group) {
		buf_addstr(r->out, "</details>");
		r->in_group = 0;
	}
}

static void close_step(struct render *r)
{
	close_group(r);
	if (r->in_step) {
		buf_addstr(r->out, "</details>");
		r->in_step = 0;
	}
}

static void line_html(struct render *r, const char *s, size_t n, const char *level, size_t skip,
		      const char *title)
{
	html_addf(r->out, "<div class=\"l%S%S\" id=\"L%D\"><a class=\"n\" href=\"%s%D#L%D\">%D</a>",
		  level ? " ann ann-" : "", level ? level : "", r->line, r->o->href, r->line,
		  r->line, r->line);
	logview_time(r->at, r->out);
	if (level)
		html_addf(r->out, "<strong>%s:</strong> ", level);
	if (level && title && *title)
		html_addf(r->out, "<em class=\"ann-title\">%s</em> ", title);
	buf_addstr(r->out, "<span>");
	logview_ansi(s + skip, n - skip, r->out);
	buf_addstr(r->out, "</span></div>");
}

static void one_line(struct render *r, const char *s, size_t n)
{
	size_t skip = 0;
	const char *level = annotation_level(s, n, &skip);
	if (level) {
		struct buf a = BUF_INIT;
		buf_addf(&a, "%s\t%lld\t", level, (long long)r->line);
		buf_add(&a, s + skip, n - skip);
		strvec_push(&r->info->annotations, a.buf);
		buf_release(&a);
	}
	if (!visible(r))
		return;
	if (!r->info->from)
		r->info->from = r->line;
	r->info->to = r->line;
	if (n > 2 && s[0] == '>' && s[1] == ' ') {
		close_step(r);
		/* the summary shows the step's name; the line stays numbered */
		buf_addstr(r->out, "<details class=\"step\" open><summary>");
		html_esc_n(r->out, s + 2, n - 2);
		buf_addstr(r->out, "</summary>");
		r->in_step = 1;
		line_html(r, s, n, NULL, 0, NULL);
		return;
	}
	if (!r->in_step) {
		buf_addstr(r->out, "<details class=\"step\" open><summary>(continued)</summary>");
		r->in_step = 1;
	}
	if (n > 6 && !strncmp(s, "== ", 3) && !strncmp(s + n - 3, " ==", 3)) {
		close_group(r);
		buf_addstr(r->out, "<details class=\"group\"><summary>");
		html_esc_n(r->out, s + 3, n - 6);
		buf_addstr(r->out, "</summary>");
		r->in_group = 1;
		line_html(r, s, n, NULL, 0, NULL);
		return;
	}
	if (n > 2 && s[0] == '<' && s[1] == ' ') {
		close_group(r);
		line_html(r, s, n, NULL, 0, NULL);
		close_step(r);
		return;
	}
	const char *title = NULL;
	if (level && r->o->nmarks) {
		/* stored annotations decide: the next mark at or after this line */
		while (r->mark < r->o->nmarks && r->o->marks[r->mark].line < r->line)
			r->mark++;
		if (r->mark < r->o->nmarks && r->o->marks[r->mark].line == r->line)
			title = r->o->marks[r->mark].title;
		else
			level = NULL, skip = 0;
	}
	line_html(r, s, n, level, skip, title);
}

void logview_line(const char *s, size_t n, int64_t number, int64_t at, const char *href,
		  struct buf *out)
{
	struct logview_opts o = { number, 1, href, NULL, 0, NULL, 0 };
	struct render r = { &o, out, NULL, 0, 0, number, at, 0 };
	size_t skip = 0;
	const char *level = annotation_level(s, n, &skip);
	line_html(&r, s, n, level, level ? skip : 0, NULL);
}

void logview_render(const char *text, size_t len, const struct logview_opts *o, struct buf *out,
		    struct logview_info *info)
{
	struct render r = { o, out, info, 0, 0, 0, 0, 0 };
	size_t raw = 0; /* lines of the text, markers too: the index of times */
	info->from = info->to = 0;
	for (size_t i = 0; i < len; raw++) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		r.line++;
		r.at = raw < o->ntimes ? o->times[raw] : 0;
		/* "##[endgroup]" is a marker, not a line of its own */
		if (n == 12 && !strncmp(text + i, "##[endgroup]", 12)) {
			r.line--;
			if (visible(&r) || (r.line + 1 >= o->from && r.line + 1 < o->from + o->count))
				close_group(&r);
		} else {
			one_line(&r, text + i, n);
		}
		i += n + 1;
	}
	close_step(&r);
	info->lines = r.line;
}

int64_t logview_find_annotation(const struct logview_info *info, size_t *cursor,
				const char *level, const char *file, int line, const char *message)
{
	struct buf want = BUF_INIT;
	int64_t found = 0;
	if (file && *file)
		buf_addf(&want, "%s:%d: ", file, line);
	buf_add(&want, message, strcspn(message, "\n"));
	for (size_t i = *cursor; i < info->annotations.nr && !found; i++) {
		const char *a = info->annotations.v[i];
		const char *t1 = strchr(a, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2 || (size_t)(t1 - a) != strlen(level) || strncmp(a, level, (size_t)(t1 - a)) ||
		    strncmp(t2 + 1, want.buf, want.len))
			continue;
		found = strtoll(t1 + 1, NULL, 10);
		*cursor = i + 1;
	}
	buf_release(&want);
	return found;
}
