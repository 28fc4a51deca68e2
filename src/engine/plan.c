/*
 * plan: the `needs` DAG of a run (ids, edges, topological order, stages,
 * -j selection). Matrix expansion lives in matrix.c, value conversion in
 * value.c.
 */
#include "base/kiln.h"
#include "engine/plan.h"

#include <ctype.h>
#include <strings.h>

static uint64_t hash_id(const struct workflow *wf, const char *id)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)wf;
	for (const unsigned char *s = (const unsigned char *)id; *s; s++) {
		h ^= (uint64_t)tolower(*s);
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static void rehash(struct plan *p)
{
	size_t n = 16;
	while (n < p->nr * 2)
		n *= 2;
	free(p->slots);
	p->slots = xmalloc(n * sizeof(*p->slots));
	p->nslots = n;
	for (size_t i = 0; i < n; i++)
		p->slots[i] = (size_t)-1;
	for (size_t i = 0; i < p->nr; i++) {
		size_t s = hash_id(p->jobs[i].wf, p->jobs[i].job->id.s) & (n - 1);
		while (p->slots[s] != (size_t)-1)
			s = (s + 1) & (n - 1);
		p->slots[s] = i;
	}
}

long plan_find(const struct plan *p, const struct workflow *wf, const char *id)
{
	if (!p->nslots)
		return -1;
	size_t s = hash_id(wf, id) & (p->nslots - 1);
	while (p->slots[s] != (size_t)-1) {
		const struct plan_job *j = &p->jobs[p->slots[s]];
		if (j->wf == wf && !strcasecmp(j->job->id.s, id))
			return (long)p->slots[s];
		s = (s + 1) & (p->nslots - 1);
	}
	return -1;
}

static void add_dep(struct plan_job *j, size_t dep)
{
	ALLOC_GROW(j->deps, j->ndeps + 1, j->deps_alloc);
	j->deps[j->ndeps++] = dep;
}

int plan_add_workflow(struct plan *p, const struct workflow *wf, size_t wf_index,
		      struct diags *d)
{
	size_t first = p->nr;
	ALLOC_GROW(p->jobs, p->nr + wf->njobs, p->alloc);
	for (size_t i = 0; i < wf->njobs; i++) {
		struct plan_job *j = &p->jobs[p->nr++];
		memset(j, 0, sizeof(*j));
		j->wf = wf;
		j->job = &wf->jobs[i];
		j->wf_index = wf_index;
		j->selected = 1;
	}
	rehash(p);
	int ret = 0;
	for (size_t i = first; i < p->nr; i++) {
		struct plan_job *j = &p->jobs[i];
		const struct wf_job *job = j->job;
		j->needs = job->nneeds ? xmalloc(job->nneeds * sizeof(*j->needs)) : NULL;
		for (size_t k = 0; k < job->nneeds; k++) {
			long n = plan_find(p, wf, job->needs[k].s);
			if (n < 0) {
				ret = diag_err(d, wf->file, job->needs[k].line, job->needs[k].col,
					       "job '%s' needs unknown job '%s'", job->id.s,
					       job->needs[k].s);
				continue;
			}
			/* a job listed twice in needs counts once */
			int dup = 0;
			for (size_t m = 0; m < j->nneeds; m++)
				dup |= j->needs[m] == (size_t)n;
			if (dup)
				continue;
			j->needs[j->nneeds++] = (size_t)n;
			add_dep(&p->jobs[n], i);
		}
	}
	return ret;
}

/* print the cycle through job `start` (all of whose members are unordered) */
static void report_cycle(struct plan *p, const int *indeg, size_t start, struct diags *d)
{
	/* walk needs among unordered jobs until a job repeats */
	char *seen = xcalloc(p->nr, 1);
	size_t cur = start;
	while (!seen[cur]) {
		seen[cur] = 1;
		const struct plan_job *j = &p->jobs[cur];
		for (size_t k = 0; k < j->nneeds; k++)
			if (indeg[j->needs[k]] > 0) {
				cur = j->needs[k];
				break;
			}
	}
	/* cur is on the cycle: print it */
	struct buf b = BUF_INIT;
	size_t c = cur;
	do {
		const struct plan_job *j = &p->jobs[c];
		buf_addf(&b, "%s -> ", j->job->id.s);
		for (size_t k = 0; k < j->nneeds; k++)
			if (indeg[j->needs[k]] > 0) {
				c = j->needs[k];
				break;
			}
	} while (c != cur);
	buf_addstr(&b, p->jobs[cur].job->id.s);
	const struct plan_job *j = &p->jobs[cur];
	diag_err(d, j->wf->file, j->job->id.line, j->job->id.col, "needs cycle: %s", b.buf);
	buf_release(&b);
	free(seen);
}

int plan_finish(struct plan *p, struct diags *d)
{
	/* Kahn's algorithm over the needs edges; indeg = unordered needs */
	int *indeg = xcalloc(p->nr ? p->nr : 1, sizeof(*indeg));
	size_t *queue = xmalloc((p->nr ? p->nr : 1) * sizeof(*queue));
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < p->nr; i++) {
		indeg[i] = (int)p->jobs[i].nneeds;
		p->jobs[i].stage = 0;
		if (!indeg[i])
			queue[tail++] = i;
	}
	while (head < tail) {
		struct plan_job *j = &p->jobs[queue[head++]];
		for (size_t k = 0; k < j->ndeps; k++) {
			struct plan_job *dj = &p->jobs[j->deps[k]];
			if (dj->stage < j->stage + 1)
				dj->stage = j->stage + 1;
			if (--indeg[j->deps[k]] == 0)
				queue[tail++] = j->deps[k];
		}
	}
	int ret = 0;
	if (tail < p->nr) {
		for (size_t i = 0; i < p->nr; i++)
			if (indeg[i] > 0) {
				report_cycle(p, indeg, i, d);
				break;
			}
		ret = -1;
	}
	/* stable counting sort by stage: file order within a stage */
	p->nstages = 0;
	for (size_t i = 0; i < p->nr; i++)
		if (p->jobs[i].stage + 1 > p->nstages)
			p->nstages = p->jobs[i].stage + 1;
	size_t *count = xcalloc((size_t)p->nstages + 1, sizeof(*count));
	for (size_t i = 0; i < p->nr; i++)
		count[p->jobs[i].stage + 1]++;
	for (int s = 0; s < p->nstages; s++)
		count[s + 1] += count[s];
	free(p->order);
	p->order = xmalloc((p->nr ? p->nr : 1) * sizeof(*p->order));
	for (size_t i = 0; i < p->nr; i++)
		p->order[count[p->jobs[i].stage]++] = i;
	free(count);
	free(queue);
	free(indeg);
	return ret;
}

static void select_rec(struct plan *p, size_t i)
{
	/* iterative DFS: the graph may be deep (layered benches) */
	size_t *stack = xmalloc(p->nr * sizeof(*stack));
	size_t sp = 0;
	stack[sp++] = i;
	p->jobs[i].selected = 1;
	while (sp) {
		const struct plan_job *j = &p->jobs[stack[--sp]];
		for (size_t k = 0; k < j->nneeds; k++)
			if (!p->jobs[j->needs[k]].selected) {
				p->jobs[j->needs[k]].selected = 1;
				stack[sp++] = j->needs[k];
			}
	}
	free(stack);
}

int plan_select(struct plan *p, const char *id, struct buf *err)
{
	int found = 0;
	for (size_t i = 0; i < p->nr; i++)
		p->jobs[i].selected = 0;
	for (size_t i = 0; i < p->nr; i++)
		if (!strcasecmp(p->jobs[i].job->id.s, id)) {
			select_rec(p, i);
			found = 1;
		}
	if (found)
		return 0;
	for (size_t i = 0; i < p->nr; i++)
		p->jobs[i].selected = 1;
	const char **names = xmalloc((p->nr ? p->nr : 1) * sizeof(*names));
	for (size_t i = 0; i < p->nr; i++)
		names[i] = p->jobs[i].job->id.s;
	const char *hint = did_you_mean(id, names, p->nr);
	if (hint)
		buf_addf(err, "unknown job '%s' (did you mean '%s'?)", id, hint);
	else
		buf_addf(err, "unknown job '%s'", id);
	free(names);
	return -1;
}

void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->nr; i++) {
		free(p->jobs[i].needs);
		free(p->jobs[i].deps);
		free(p->jobs[i].cannot);
	}
	free(p->jobs);
	free(p->order);
	free(p->slots);
	memset(p, 0, sizeof(*p));
}

char *plan_display_name(const char *base, const char *suffix)
{
	/* GitHub's JobNameBuilder: "{name} ({segments})", at most 100 chars */
	struct buf b = BUF_INIT;
	buf_addstr(&b, base);
	if (suffix && *suffix)
		buf_addf(&b, " (%s)", suffix);
	/* count characters (UTF-8 code points), not bytes */
	size_t chars = 0, cut = 0;
	for (size_t i = 0; i < b.len; i++)
		if (((unsigned char)b.buf[i] & 0xc0) != 0x80 && ++chars == 98)
			cut = i;
	if (chars > 100) {
		buf_setlen(&b, cut);
		buf_addstr(&b, "...");
	}
	return buf_detach(&b, NULL);
}
