/*
 * output: terminal and JSON-lines sinks for a run's events. Lines are
 * written whole (one fwrite each) so parallel jobs never interleave within
 * a line.
 */
#include "base/kiln.h"
#include "engine/output.h"

#include <stdarg.h>

/* a job as the summary table shows it */
struct out_job {
	char *name;
	enum result result;
	uint64_t elapsed_ns;
	int ended;
	int color; /* ANSI color index */
	char *note;
};

/* an annotation, repeated at the end */
struct out_note {
	enum log_kind kind;
	char *job, *file, *text;
	int line, col;
};

struct output {
	FILE *out;
	enum output_mode mode;
	int color;
	int verbose;
	size_t width; /* widest job name seen, for the prefix column */
	struct out_job *jobs;
	size_t njobs, jobs_alloc;
	size_t *slots;  /* name -> index in jobs (open addressing), nslots a power of 2 */
	size_t nslots;
	struct out_note *notes;
	size_t nnotes, notes_alloc;
	struct buf line; /* scratch */
};

static const int palette[] = { 36, 33, 35, 32, 34, 96, 93, 95, 92, 94 };

struct output *output_new(FILE *out, enum output_mode mode, int color, int verbose)
{
	struct output *o = xcalloc(1, sizeof(*o));
	o->out = out;
	o->mode = mode;
	o->color = color;
	o->verbose = verbose;
	buf_init(&o->line, 256);
	return o;
}

void output_free(struct output *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->njobs; i++) {
		free(o->jobs[i].name);
		free(o->jobs[i].note);
	}
	free(o->jobs);
	free(o->slots);
	for (size_t i = 0; i < o->nnotes; i++) {
		free(o->notes[i].job);
		free(o->notes[i].file);
		free(o->notes[i].text);
	}
	free(o->notes);
	buf_release(&o->line);
	free(o);
}

void output_duration(char *out, size_t n, uint64_t ns)
{
	double s = (double)ns / 1e9;
	if (s < 60)
		snprintf(out, n, "%.1fs", s);
	else if (s < 3600)
		snprintf(out, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(out, n, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
}

static void flush_line(struct output *o)
{
	buf_addch(&o->line, '\n');
	fwrite(o->line.buf, 1, o->line.len, o->out);
	fflush(o->out);
	buf_reset(&o->line);
}

static size_t name_hash(const char *s)
{
	size_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static void slots_insert(struct output *o, size_t idx)
{
	size_t m = o->nslots - 1, at = name_hash(o->jobs[idx].name) & m;
	while (o->slots[at] != (size_t)-1)
		at = (at + 1) & m;
	o->slots[at] = idx;
}

static void slots_grow(struct output *o)
{
	free(o->slots);
	o->nslots = o->nslots ? o->nslots * 2 : 64;
	o->slots = xmalloc(o->nslots * sizeof(*o->slots));
	for (size_t i = 0; i < o->nslots; i++)
		o->slots[i] = (size_t)-1;
	for (size_t i = 0; i < o->njobs; i++)
		slots_insert(o, i);
}

/* the job's record, created on first sight (a hash: runs may have
 * thousands of jobs) */
static struct out_job *find_job(struct output *o, const char *name)
{
	if (o->nslots) {
		size_t m = o->nslots - 1, at = name_hash(name) & m;
		while (o->slots[at] != (size_t)-1) {
			if (!strcmp(o->jobs[o->slots[at]].name, name))
				return &o->jobs[o->slots[at]];
			at = (at + 1) & m;
		}
	}
	ALLOC_GROW(o->jobs, o->njobs + 1, o->jobs_alloc);
	struct out_job *j = &o->jobs[o->njobs];
	memset(j, 0, sizeof(*j));
	j->name = xstrdup(name);
	j->color = palette[o->njobs % ARRAY_SIZE(palette)];
	o->njobs++;
	if (o->njobs * 2 > o->nslots)
		slots_grow(o);
	else
		slots_insert(o, o->njobs - 1);
	size_t w = strlen(name);
	if (w > o->width && w <= 40)
		o->width = w;
	return &o->jobs[o->njobs - 1];
}

static void prefix(struct output *o, const char *job)
{
	const struct out_job *j = find_job(o, job);
	if (o->color)
		buf_addf(&o->line, "\033[%dm", j->color);
	buf_addf(&o->line, "[%s]", job);
	if (o->color)
		buf_addstr(&o->line, "\033[0m");
	buf_addch(&o->line, ' ');
}

static const char *result_color(enum result r)
{
	switch (r) {
	case RESULT_SUCCESS: return "\033[32m";
	case RESULT_FAILURE: return "\033[31m";
	case RESULT_CANCELLED: return "\033[33m";
	case RESULT_SKIPPED: return "\033[90m";
	}
	return "";
}

static void add_result(struct output *o, enum result r)
{
	if (o->color)
		buf_addstr(&o->line, result_color(r));
	buf_addstr(&o->line, result_name(r));
	if (o->color)
		buf_addstr(&o->line, "\033[0m");
}

/* JSON: {"event":"...","time":"...", fields...} */
static void json_begin(struct output *o, const char *event)
{
	char ts[40];
	now_iso8601(ts, sizeof(ts));
	buf_addf(&o->line, "{\"event\":\"%s\",\"time\":\"%s\"", event, ts);
}

static void json_str(struct output *o, const char *key, const char *val)
{
	if (!val)
		return;
	buf_addf(&o->line, ",\"%s\":", key);
	buf_add_json_str(&o->line, val, strlen(val));
}

static void json_end(struct output *o)
{
	buf_addch(&o->line, '}');
	flush_line(o);
}

void output_run_start(struct output *o, const char *workflows, const char *event, size_t njobs)
{
	if (o->mode == OUTPUT_JSON) {
		json_begin(o, "run_start");
		json_str(o, "workflows", workflows);
		json_str(o, "trigger", event);
		buf_addf(&o->line, ",\"jobs\":%zu", njobs);
		json_end(o);
		return;
	}
	buf_addf(&o->line, "kiln: running %s on %s", workflows, event);
	flush_line(o);
}

void output_job_start(struct output *o, const char *job)
{
	find_job(o, job);
	if (o->mode == OUTPUT_JSON) {
		json_begin(o, "job_start");
		json_str(o, "job", job);
		json_end(o);
		return;
	}
	prefix(o, job);
	buf_addstr(&o->line, "job started");
	flush_line(o);
}

void output_job_end(struct output *o, const char *job, enum result r, uint64_t elapsed_ns,
		    const char *note)
{
	struct out_job *j = find_job(o, job);
	j->result = r;
	j->elapsed_ns = elapsed_ns;
	j->ended = 1;
	free(j->note);
	j->note = note ? xstrdup(note) : NULL;
	char d[32];
	output_duration(d, sizeof(d), elapsed_ns);
	if (o->mode == OUTPUT_JSON) {
		json_begin(o, "job_end");
		json_str(o, "job", job);
		json_str(o, "result", result_name(r));
		buf_addf(&o->line, ",\"duration_ms\":%llu", (unsigned long long)(elapsed_ns / 1000000));
		json_str(o, "note", note);
		json_end(o);
		return;
	}
	prefix(o, job);
	buf_addstr(&o->line, "job ");
	add_result(o, r);
	if (r != RESULT_SKIPPED)
		buf_addf(&o->line, " in %s", d);
	if (note)
		buf_addf(&o->line, " (%s)", note);
	flush_line(o);
}

static void keep_note(struct output *o, const struct log_event *ev)
{
	ALLOC_GROW(o->notes, o->nnotes + 1, o->notes_alloc);
	struct out_note *n = &o->notes[o->nnotes++];
	n->kind = ev->kind;
	n->job = xstrdup(ev->job ? ev->job : "");
	n->file = ev->file ? xstrdup(ev->file) : NULL;
	n->text = xstrndup(ev->text ? ev->text : "", ev->text ? ev->len : 0);
	n->line = ev->line;
	n->col = ev->col;
}

static const char *kind_json(enum log_kind k)
{
	switch (k) {
	case LOG_OUTPUT: return "log";
	case LOG_STEP_START: return "step_start";
	case LOG_STEP_END: return "step_end";
	case LOG_GROUP: return "group";
	case LOG_ENDGROUP: return "endgroup";
	case LOG_ERROR:
	case LOG_WARNING:
	case LOG_NOTICE: return "annotation";
	case LOG_DEBUG: return "debug";
	case LOG_INFO: return "info";
	case LOG_ARTIFACT: return "artifact";
	}
	return "log";
}

static const char *level_name(enum log_kind k)
{
	return k == LOG_ERROR ? "error" : k == LOG_WARNING ? "warning" : "notice";
}

static void log_json(struct output *o, const struct log_event *ev)
{
	json_begin(o, kind_json(ev->kind));
	json_str(o, "job", ev->job);
	json_str(o, "step", ev->step);
	if (ev->kind == LOG_ERROR || ev->kind == LOG_WARNING || ev->kind == LOG_NOTICE) {
		json_str(o, "level", level_name(ev->kind));
		json_str(o, "file", ev->file);
		if (ev->line)
			buf_addf(&o->line, ",\"line\":%d", ev->line);
		if (ev->col)
			buf_addf(&o->line, ",\"col\":%d", ev->col);
		json_str(o, "title", ev->title);
	}
	if (ev->kind == LOG_STEP_END) {
		json_str(o, "result", result_name(ev->result));
		buf_addf(&o->line, ",\"duration_ms\":%llu",
			 (unsigned long long)(ev->elapsed_ns / 1000000));
	}
	if (ev->text) {
		buf_addstr(&o->line, ",\"text\":");
		buf_add_json_str(&o->line, ev->text, ev->len);
	}
	json_end(o);
}

static void add_annotation_pos(struct output *o, const char *file, int line, int col)
{
	if (!file)
		return;
	buf_addstr(&o->line, file);
	if (line)
		buf_addf(&o->line, ":%d", line);
	if (line && col)
		buf_addf(&o->line, ":%d", col);
	buf_addstr(&o->line, ": ");
}

void output_log(void *arg, const struct log_event *ev)
{
	struct output *o = arg;
	if ((ev->kind == LOG_DEBUG && !o->verbose) || ev->kind == LOG_ARTIFACT)
		return; /* the action said so in words already */
	if (ev->kind == LOG_ERROR || ev->kind == LOG_WARNING || ev->kind == LOG_NOTICE)
		keep_note(o, ev);
	if (o->mode == OUTPUT_JSON) {
		log_json(o, ev);
		return;
	}
	const char *job = ev->job ? ev->job : "kiln";
	const char *text = ev->text ? ev->text : "";
	prefix(o, job);
	char d[32];
	switch (ev->kind) {
	case LOG_OUTPUT:
		buf_add(&o->line, text, ev->len);
		break;
	case LOG_STEP_START:
		buf_addf(&o->line, "%s> %s%s", o->color ? "\033[1m" : "", text,
			 o->color ? "\033[0m" : "");
		break;
	case LOG_STEP_END:
		output_duration(d, sizeof(d), ev->elapsed_ns);
		buf_addf(&o->line, "< %s: ", text);
		add_result(o, ev->result);
		if (ev->result != RESULT_SKIPPED)
			buf_addf(&o->line, " in %s", d);
		break;
	case LOG_GROUP:
		buf_addf(&o->line, "%s== %s ==%s", o->color ? "\033[1m" : "", text,
			 o->color ? "\033[0m" : "");
		break;
	case LOG_ENDGROUP:
		buf_reset(&o->line);
		return; /* the next header or step marker is enough */
	case LOG_ERROR:
	case LOG_WARNING:
	case LOG_NOTICE:
		if (o->color)
			buf_addstr(&o->line, ev->kind == LOG_ERROR ? "\033[31m" : "\033[33m");
		buf_addf(&o->line, "%s: ", level_name(ev->kind));
		add_annotation_pos(o, ev->file, ev->line, ev->col);
		if (ev->title)
			buf_addf(&o->line, "%s: ", ev->title);
		buf_add(&o->line, text, ev->len);
		if (o->color)
			buf_addstr(&o->line, "\033[0m");
		break;
	case LOG_DEBUG:
		buf_addstr(&o->line, "debug: ");
		buf_add(&o->line, text, ev->len);
		break;
	case LOG_INFO:
		buf_addstr(&o->line, "kiln: ");
		buf_add(&o->line, text, ev->len);
		break;
	case LOG_ARTIFACT:
		break;
	}
	flush_line(o);
}

void output_info(struct output *o, const char *job, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	struct log_event ev = { .kind = LOG_INFO, .job = job, .text = b.buf, .len = b.len };
	output_log(o, &ev);
	buf_release(&b);
}

static void summary(struct output *o)
{
	size_t w = 3;
	for (size_t i = 0; i < o->njobs; i++) {
		size_t l = strlen(o->jobs[i].name);
		if (l > w)
			w = l;
	}
	buf_addf(&o->line, "\n%-*s  %-9s  %s", (int)w, "job", "result", "duration");
	flush_line(o);
	for (size_t i = 0; i < o->njobs; i++) {
		const struct out_job *j = &o->jobs[i];
		if (!j->ended)
			continue;
		char d[32];
		output_duration(d, sizeof(d), j->elapsed_ns);
		buf_addf(&o->line, "%-*s  ", (int)w, j->name);
		size_t at = o->line.len;
		add_result(o, j->result);
		size_t vis = strlen(result_name(j->result));
		(void)at;
		for (; vis < 9; vis++)
			buf_addch(&o->line, ' ');
		buf_addf(&o->line, "  %s", j->result == RESULT_SKIPPED ? "-" : d);
		if (j->note)
			buf_addf(&o->line, "  (%s)", j->note);
		flush_line(o);
	}
}

void output_run_end(struct output *o, enum result r, uint64_t elapsed_ns)
{
	char d[32];
	output_duration(d, sizeof(d), elapsed_ns);
	if (o->mode == OUTPUT_JSON) {
		json_begin(o, "run_end");
		json_str(o, "result", result_name(r));
		buf_addf(&o->line, ",\"duration_ms\":%llu", (unsigned long long)(elapsed_ns / 1000000));
		json_end(o);
		return;
	}
	summary(o);
	if (o->nnotes) {
		buf_addstr(&o->line, "\nannotations:");
		flush_line(o);
		for (size_t i = 0; i < o->nnotes; i++) {
			const struct out_note *n = &o->notes[i];
			buf_addstr(&o->line, "  ");
			add_annotation_pos(o, n->file, n->line, n->col);
			buf_addf(&o->line, "%s: %s [%s]", level_name(n->kind), n->text, n->job);
			flush_line(o);
		}
	}
	buf_addstr(&o->line, "\nrun ");
	add_result(o, r);
	buf_addf(&o->line, " in %s", d);
	flush_line(o);
}
