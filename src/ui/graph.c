/*
 * graph: the job graph of a run page (see graph.h). Stages: a job's stage
 * is one more than the deepest stage of the jobs it needs (cycles are
 * refused by the loader, and the depth is capped anyway).
 */
#include "base/kiln.h"
#include "ui/graph.h"
#include "ui/html.h"
#include "workflow/workflow.h"

#define COL_W 240
#define NODE_W 200
#define NODE_H 40
#define GAP 12
#define PAD 16
#define MAX_STAGES 32

/* "build (a, 1)" -> length of "build" */
static size_t base_len(const char *name)
{
	const char *p = strstr(name, " (");
	size_t n = strlen(name);
	return p && n && name[n - 1] == ')' ? (size_t)(p - name) : n;
}

/* the workflow job a recorded job name belongs to, or -1; a run of
 * several workflows names its jobs "WORKFLOW / JOB" */
static long wf_index(const struct workflow *wf, const char *run_name, const char *name)
{
	if (!wf)
		return -1;
	size_t rl = strlen(run_name);
	if (rl && !strncmp(name, run_name, rl) && !strncmp(name + rl, " / ", 3))
		name += rl + 3;
	size_t bl = base_len(name);
	for (size_t i = 0; i < wf->njobs; i++) {
		const struct wf_job *j = &wf->jobs[i];
		const char *disp = j->name.s && !strstr(j->name.s, "${{") ? j->name.s : j->id.s;
		if (disp && strlen(disp) == bl && !strncmp(disp, name, bl))
			return (long)i;
		if (j->id.s && !strcmp(j->id.s, name))
			return (long)i;
	}
	return -1;
}

static int stage_of(const struct workflow *wf, size_t i, int depth)
{
	const struct wf_job *j = &wf->jobs[i];
	int st = 0;
	if (depth > MAX_STAGES)
		return MAX_STAGES - 1;
	for (size_t k = 0; k < j->nneeds; k++)
		for (size_t m = 0; m < wf->njobs; m++)
			if (wf->jobs[m].id.s && j->needs[k].s && !strcmp(wf->jobs[m].id.s, j->needs[k].s)) {
				int s = stage_of(wf, m, depth + 1) + 1;
				if (s > st)
					st = s;
			}
	return st < MAX_STAGES ? st : MAX_STAGES - 1;
}

/* name cut to fit a node (at a UTF-8 character boundary), with "…" */
static void label(struct buf *out, const char *name, size_t max)
{
	size_t n = strlen(name);
	if (n <= max) {
		buf_addstr(out, name);
		return;
	}
	while (max && ((unsigned char)name[max] & 0xC0) == 0x80)
		max--;
	buf_add(out, name, max);
	buf_addstr(out, "\u2026");
}

/* a group: the recorded jobs of one workflow job (matrix) */
struct group {
	size_t base;       /* index into jobs of the first member */
	long wfi;          /* workflow job, -1 unknown */
	int stage, row;    /* position */
	size_t members;
	int y, h;
};

static const char *status_of(const struct runview_job *j)
{
	return *j->conclusion ? j->conclusion : *j->status ? j->status : "queued";
}

static const char *glyph(const char *st)
{
	if (!strcmp(st, "success"))
		return "\u2713"; /* check mark */
	if (!strcmp(st, "failure"))
		return "\u2717"; /* ballot x */
	if (!strcmp(st, "in_progress"))
		return "\u25cf"; /* dot */
	if (!strcmp(st, "cancelled") || !strcmp(st, "skipped"))
		return "\u2298"; /* circled slash */
	return "\u25cb";          /* circle */
}

static const char *colour(const char *st)
{
	if (!strcmp(st, "success"))
		return "#1a7f37";
	if (!strcmp(st, "failure"))
		return "#cf222e";
	if (!strcmp(st, "in_progress"))
		return "#9a6700";
	if (!strcmp(st, "waiting"))
		return "#8250df";
	return "#59636e";
}

void graph_svg(const struct workflow *wf, const struct runview *run,
	       const struct runview_job *jobs, size_t njobs, struct buf *out)
{
	struct group *g = xcalloc(njobs ? njobs : 1, sizeof(*g));
	size_t ng = 0;
	int rows[MAX_STAGES] = { 0 }, heights[MAX_STAGES] = { 0 }, nstages = 1;
	for (size_t i = 0; i < njobs; i++) {
		long wfi = wf_index(wf, run->name, jobs[i].name);
		size_t bl = base_len(jobs[i].name);
		size_t k;
		for (k = 0; k < ng; k++) {
			const char *b = jobs[g[k].base].name;
			if (g[k].wfi == wfi && base_len(b) == bl && !strncmp(b, jobs[i].name, bl))
				break;
		}
		if (k == ng) {
			g[ng].base = i;
			g[ng].wfi = wfi;
			g[ng].stage = wfi >= 0 ? stage_of(wf, (size_t)wfi, 0) : 0;
			ng++;
		}
		g[k].members++;
	}
	for (size_t k = 0; k < ng; k++) {
		int s = g[k].stage;
		g[k].row = rows[s]++;
		g[k].h = (int)g[k].members * (NODE_H + 4) + (g[k].members > 1 ? 24 : 0);
		g[k].y = PAD + heights[s];
		heights[s] += g[k].h + GAP;
		if (s + 1 > nstages)
			nstages = s + 1;
	}
	int height = PAD;
	for (int s = 0; s < nstages; s++)
		if (heights[s] + PAD > height)
			height = heights[s] + PAD;
	int width = PAD * 2 + nstages * COL_W - (COL_W - NODE_W);
	html_addf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		  "viewBox=\"0 0 %d %d\" role=\"group\" aria-labelledby=\"graph-title\">"
		  "<title id=\"graph-title\">Job graph: %d job(s) in %d stage(s)</title>",
		  width, height, width, height, (int)njobs, nstages);
	/* edges first, under the boxes: needed group -> group */
	for (size_t k = 0; wf && k < ng; k++) {
		if (g[k].wfi < 0)
			continue;
		const struct wf_job *j = &wf->jobs[g[k].wfi];
		for (size_t n = 0; n < j->nneeds; n++)
			for (size_t m = 0; m < ng; m++) {
				if (g[m].wfi < 0 || !j->needs[n].s ||
				    strcmp(wf->jobs[g[m].wfi].id.s, j->needs[n].s))
					continue;
				int x1 = PAD + g[m].stage * COL_W + NODE_W, y1 = g[m].y + g[m].h / 2;
				int x2 = PAD + g[k].stage * COL_W, y2 = g[k].y + g[k].h / 2;
				html_addf(out, "<path d=\"M%d %d C%d %d %d %d %d %d\" fill=\"none\" "
					  "stroke=\"#8c959f\" stroke-width=\"1.5\"/>", x1, y1,
					  (x1 + x2) / 2, y1, (x1 + x2) / 2, y2, x2, y2);
			}
	}
	for (size_t k = 0; k < ng; k++) {
		int x = PAD + g[k].stage * COL_W, y = g[k].y;
		if (g[k].members > 1) {
			struct buf glabel = BUF_INIT;
			buf_add(&glabel, jobs[g[k].base].name, base_len(jobs[g[k].base].name));
			html_addf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"8\" "
				  "fill=\"#eaeef2\" stroke=\"#d1d9e0\"/><text x=\"%d\" y=\"%d\" "
				  "font-weight=\"600\">%s (matrix: %d)</text>", x - 6, y, NODE_W + 12,
				  g[k].h, x + 4, y + 16, glabel.buf, (int)g[k].members);
			buf_release(&glabel);
			y += 24;
		}
		size_t seen = 0;
		for (size_t i = g[k].base; i < njobs && seen < g[k].members; i++) {
			const char *b = jobs[g[k].base].name;
			size_t bl = base_len(b);
			if (base_len(jobs[i].name) != bl || strncmp(b, jobs[i].name, bl))
				continue;
			const char *st = status_of(&jobs[i]);
			const char *word = !strcmp(st, "in_progress") ? "running" : st;
			struct buf short_name = BUF_INIT;
			label(&short_name, jobs[i].name, 26);
			html_addf(out, "<a href=\"/runs/%D/jobs/%D\" aria-label=\"%s: %s\">"
				  "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" "
				  "fill=\"#ffffff\" stroke=\"%S\" stroke-width=\"2\"/>"
				  "<text x=\"%d\" y=\"%d\" fill=\"%S\" font-weight=\"700\">%S</text>"
				  "<text x=\"%d\" y=\"%d\">%s</text>"
				  "<text x=\"%d\" y=\"%d\" fill=\"%S\">%s</text><title>%s</title></a>",
				  run->id, jobs[i].id, jobs[i].name, word, x, y, NODE_W, NODE_H,
				  colour(st), x + 10, y + 25, colour(st), glyph(st), x + 28, y + 17,
				  short_name.buf, x + 28, y + 33, colour(st), word, jobs[i].name);
			buf_release(&short_name);
			y += NODE_H + 4;
			seen++;
		}
	}
	buf_addstr(out, "</svg>");
	free(g);
}
