/*
 * graph: the `needs` DAG checks: every need names a job (spelling fixed
 * to the job's own id, as ids ignore case), no cycles (each edge on a
 * cycle is reported with the cycle spelled out), and at least one job
 * that needs nothing.
 */
#include "workflow/wf-int.h"

/* a hostile file can hold thousands of bad needs: bound the work spent on
 * hints (a distance to every job each) and on spelling out cycles (a BFS each) */
#define MAX_HINTS 200
#define MAX_CYCLE_ERRORS 100


struct graph {
	size_t n;
	long **adj;     /* adj[i]: indexes of the jobs job i needs (-1: unknown) */
	/* Tarjan's strongly connected components */
	long *index, *low, *comp, *stack;
	int *on_stack;
	long next_index, sp, ncomp;
};

/* the node of job->needs[k]: the scalar, or the item of the sequence at the
 * same position (items are in file order: binary search) */
static const struct ynode *need_node(const struct wf_job *job, size_t k)
{
	const struct ynode *n = ynode_get(job->node, "needs");
	if (!n || n->kind != YNODE_SEQ || !n->nr)
		return n;
	int line = job->needs[k].line, col = job->needs[k].col;
	size_t lo = 0, hi = n->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ynode *it = n->items[mid];
		if (it->line < line || (it->line == line && it->col < col))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n->nr ? n->items[lo] : n;
}

static void resolve(struct wf__ld *ld, struct graph *g)
{
	struct workflow *wf = ld->wf;
	const char **names = xcalloc(wf->njobs ? wf->njobs : 1, sizeof(*names));
	size_t hints = 0;
	for (size_t i = 0; i < wf->njobs; i++) {
		struct wf_job *job = &wf->jobs[i];
		/* hint candidates: every job but this one (it cannot need itself) */
		size_t nn = 0;
		for (size_t j = 0; j < wf->njobs; j++)
			if (j != i)
				names[nn++] = wf->jobs[j].id.s;
		g->adj[i] = xcalloc(job->nneeds + 1, sizeof(long));
		for (size_t k = 0; k < job->nneeds; k++) {
			long t = wf__idmap_get(&ld->jobs, job->needs[k].s);
			g->adj[i][k] = t;
			if (t >= 0) {
				/* the engine matches ids exactly: use the job's spelling */
				free(job->needs[k].s);
				job->needs[k].s = xstrdup(wf->jobs[t].id.s);
				continue;
			}
			const char *hint = strlen(job->needs[k].s) > 1 && hints++ < MAX_HINTS
					   ? did_you_mean(job->needs[k].s, names, nn) : NULL;
			const struct ynode *at = need_node(job, k);
			if (hint)
				wf__err(ld, at, "job '%s' needs unknown job '%s' (did you mean '%s'?)",
					job->id.s, job->needs[k].s, hint);
			else
				wf__err(ld, at, "job '%s' needs unknown job '%s'", job->id.s,
					job->needs[k].s);
		}
	}
	free(names);
}

static void strongconnect(struct graph *g, const struct workflow *wf, long v)
{
	g->index[v] = g->low[v] = g->next_index++;
	g->stack[g->sp++] = v;
	g->on_stack[v] = 1;
	for (size_t k = 0; k < wf->jobs[v].nneeds; k++) {
		long w = g->adj[v][k];
		if (w < 0)
			continue;
		if (g->index[w] < 0) {
			strongconnect(g, wf, w);
			if (g->low[w] < g->low[v])
				g->low[v] = g->low[w];
		} else if (g->on_stack[w] && g->index[w] < g->low[v]) {
			g->low[v] = g->index[w];
		}
	}
	if (g->low[v] == g->index[v]) {
		long w;
		do {
			w = g->stack[--g->sp];
			g->on_stack[w] = 0;
			g->comp[w] = g->ncomp;
		} while (w != v);
		g->ncomp++;
	}
}

/* a path from `from` to `to` inside one component (BFS), as "a -> b -> c" */
static void cycle_path(const struct graph *g, const struct workflow *wf, long from, long to,
		       struct buf *out)
{
	long *prev = xmalloc(g->n * sizeof(long));
	long *queue = xmalloc(g->n * sizeof(long));
	size_t qh = 0, qt = 0;
	for (size_t i = 0; i < g->n; i++)
		prev[i] = -2;
	prev[from] = -1;
	queue[qt++] = from;
	while (qh < qt && prev[to] == -2) {
		long v = queue[qh++];
		for (size_t k = 0; k < wf->jobs[v].nneeds; k++) {
			long w = g->adj[v][k];
			if (w >= 0 && g->comp[w] == g->comp[from] && prev[w] == -2) {
				prev[w] = v;
				queue[qt++] = w;
			}
		}
	}
	/* walk back from `to`, then print forwards */
	size_t len = 0;
	for (long v = to; v >= 0 && len < g->n; v = prev[v])
		queue[len++] = v;
	/* long cycles: the first and last few jobs, and how many are between */
	for (size_t i = len; i-- > 0;) {
		size_t pos = len - 1 - i;
		if (len > 12 && pos == 5)
			buf_addf(out, "... (%zu more) -> ", len - 10);
		if (len > 12 && pos >= 5 && pos < len - 5)
			continue;
		buf_addf(out, "%s -> ", wf->jobs[queue[i]].id.s);
	}
	free(prev);
	free(queue);
}

static void report_cycles(struct wf__ld *ld, struct graph *g)
{
	const struct workflow *wf = ld->wf;
	size_t reported = 0, more = 0;
	const struct ynode *first = NULL;
	for (size_t v = 0; v < g->n; v++) {
		for (size_t k = 0; k < wf->jobs[v].nneeds; k++) {
			long w = g->adj[v][k];
			if (w < 0 || g->comp[w] != g->comp[v])
				continue;
			if (reported++ >= MAX_CYCLE_ERRORS) {
				more++;
				continue;
			}
			const struct wf_job *job = &wf->jobs[v];
			const struct ynode *at = need_node(job, k);
			if ((size_t)w == v) {
				wf__err(ld, at, "job '%s' needs itself", job->id.s);
				continue;
			}
			/* the cycle: v -> w -> ... -> v */
			struct buf c = BUF_INIT;
			buf_addf(&c, "%s -> ", job->id.s);
			cycle_path(g, wf, w, (long)v, &c);
			buf_setlen(&c, c.len - 4);
			wf__err(ld, at, "job '%s' needs '%s', which creates a cycle: %s", job->id.s,
				wf->jobs[w].id.s, c.buf);
			buf_release(&c);
			if (!first)
				first = at;
		}
	}
	if (more)
		wf__err(ld, first, "%zu more needs are on cycles (not listed)", more);
}

void wf__check_graph(struct wf__ld *ld, const struct ynode *jobs)
{
	struct workflow *wf = ld->wf;
	struct graph g = { .n = wf->njobs };
	if (!g.n)
		return;
	g.adj = xcalloc(g.n, sizeof(*g.adj));
	g.index = xmalloc(g.n * sizeof(long));
	g.low = xmalloc(g.n * sizeof(long));
	g.comp = xmalloc(g.n * sizeof(long));
	g.stack = xmalloc(g.n * sizeof(long));
	g.on_stack = xcalloc(g.n, sizeof(int));
	for (size_t i = 0; i < g.n; i++)
		g.index[i] = -1;
	resolve(ld, &g);
	for (size_t i = 0; i < g.n; i++)
		if (g.index[i] < 0)
			strongconnect(&g, wf, (long)i);
	report_cycles(ld, &g);

	/* unknown needs are reported already; they do not make a job wait */
	size_t roots = 0;
	for (size_t i = 0; i < g.n; i++) {
		size_t known = 0;
		for (size_t k = 0; k < wf->jobs[i].nneeds; k++)
			known += g.adj[i][k] >= 0;
		roots += known == 0;
	}
	if (!roots)
		wf__err(ld, jobs, "no job can start: every job needs another one");

	for (size_t i = 0; i < g.n; i++)
		free(g.adj[i]);
	free(g.adj);
	free(g.index);
	free(g.low);
	free(g.comp);
	free(g.stack);
	free(g.on_stack);
}
