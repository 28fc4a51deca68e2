/*
 * actprep: resolving a run's actions up front (see actprep.h). Composite
 * actions are loaded to find the actions they use; a load problem is not
 * reported here (the step that runs the action reports it, at run time,
 * as for local actions).
 */
#include "base/kiln.h"
#include "engine/actprep.h"
#include "engine/builtin.h"
#include "engine/composite.h"
#include "engine/exec.h"

#include <strings.h>

struct walk {
	const struct actprep_run *r;
	struct diags *d;
	struct strvec seen; /* action directories already walked */
	int failed;
};

static void walk_steps(struct walk *w, const struct wf_step *steps, size_t n, const char *file,
		       const struct actref_src *src, int depth);

/* load the action in dir and walk its steps (once per directory) */
static void walk_action(struct walk *w, const char *dir, const struct actref_src *src, int depth)
{
	if (depth > EXEC_MAX_DEPTH)
		return; /* the executor says so when it gets there */
	for (size_t i = 0; i < w->seen.nr; i++)
		if (!strcmp(w->seen.v[i], dir))
			return;
	strvec_push(&w->seen, dir);
	struct diags ignored = DIAGS_INIT;
	struct composite *a;
	if (composite_load(dir, &a, &ignored) == 0) {
		walk_steps(w, a->steps, a->nsteps, a->file, src, depth);
		composite_free(a);
	}
	diags_release(&ignored);
}

static void fail(struct walk *w, const char *file, const struct wf_str *u, const struct buf *err)
{
	diag_err(w->d, file, u->line, u->col, "%s", err->buf);
	w->failed = 1;
}

static void walk_uses(struct walk *w, const char *file, const struct wf_str *u,
		      const struct actref_src *src, int depth)
{
	const char *uses = u->s, *path;
	struct buf err = BUF_INIT;
	char *dir = NULL;
	if (!strncmp(uses, "./", 2) || !strcmp(uses, ".")) {
		/* a local action may use remote ones: it is read from the run's
		 * files (the snapshot every job's workspace is a copy of) */
		dir = xstrfmt("%s/%s", w->r->files ? w->r->files : w->r->repo_dir,
			      uses + (uses[1] ? 2 : 1));
		walk_action(w, dir, src, depth + 1);
	} else if (actref_is_self(uses, &path)) {
		if (!src && actref_self(w->r->cache, w->r->repo_dir, w->r->repository, w->r->sha,
					&src, &err) < 0) {
			fail(w, file, u, &err);
		} else if (actref_dir(w->r->cache, src, path, &dir, &err) < 0) {
			struct buf m = BUF_INIT;
			buf_addf(&m, "cannot resolve '%s': %s", uses, err.buf);
			fail(w, file, u, &m);
			buf_release(&m);
		} else {
			walk_action(w, dir, src, depth + 1);
		}
	} else if (!builtin_find(uses) && strncmp(uses, "docker://", 9) && !strstr(uses, "${{")) {
		struct actref ar;
		const struct actref_src *s;
		if (actref_parse(uses, &ar, &err) < 0) {
			fail(w, file, u, &err);
			return buf_release(&err);
		}
		if (actref_get(w->r->cache, ar.repo, ar.ref, 1, &s, &err) < 0 ||
		    actref_dir(w->r->cache, s, ar.path, &dir, &err) < 0)
			fail(w, file, u, &err);
		else
			walk_action(w, dir, s, depth + 1);
		actref_release(&ar);
	}
	free(dir);
	buf_release(&err);
}

/* the remote references among steps, to fetch at once */
struct batch {
	struct actref *v;
	size_t nr, alloc;
};

static void batch_add(struct batch *b, const struct wf_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *u = steps[i].uses.s;
		struct buf err = BUF_INIT;
		struct actref ar;
		if (u && strncmp(u, "./", 2) && strcmp(u, ".") && !actref_is_self(u, NULL) &&
		    strncmp(u, "docker://", 9) && !builtin_find(u) && actref_parse(u, &ar, &err) == 0) {
			ALLOC_GROW(b->v, b->nr + 1, b->alloc);
			b->v[b->nr++] = ar;
		}
		buf_release(&err);
	}
}

static void batch_fetch(struct walk *w, struct batch *b)
{
	actref_prefetch(w->r->cache, b->v, b->nr);
	for (size_t i = 0; i < b->nr; i++)
		actref_release(&b->v[i]);
	free(b->v);
	memset(b, 0, sizeof(*b));
}

static void walk_steps(struct walk *w, const struct wf_step *steps, size_t n, const char *file,
		       const struct actref_src *src, int depth)
{
	struct batch b = { 0 };
	batch_add(&b, steps, n);
	batch_fetch(w, &b); /* a composite's own remote actions, all at once */
	for (size_t i = 0; i < n; i++)
		if (steps[i].uses.s)
			walk_uses(w, file, &steps[i].uses, src, depth);
}

/* the selected jobs of p; a job kiln cannot run (partial plans) fetches nothing */
#define EACH_JOB(p, pj) \
	for (const struct plan_job *pj = (p)->jobs; pj < (p)->jobs + (p)->nr; pj++) \
		if (pj->selected && !pj->cannot)

int actprep_plan(const struct actprep_run *r, const struct plan *p, const struct reuse_set *calls,
		 struct diags *d)
{
	struct walk w = { r, d, STRVEC_INIT, 0 };
	struct batch b = { 0 };
	/* every job's remote actions at once, then each job's walk finds them */
	EACH_JOB(p, pj)
		batch_add(&b, pj->job->steps, pj->job->nsteps);
	for (size_t i = 0; calls && i < calls->nr; i++)
		EACH_JOB(&calls->v[i].plan, pj)
			batch_add(&b, pj->job->steps, pj->job->nsteps);
	batch_fetch(&w, &b);
	EACH_JOB(p, pj)
		walk_steps(&w, pj->job->steps, pj->job->nsteps, pj->wf->file, NULL, 0);
	for (size_t i = 0; calls && i < calls->nr; i++)
		EACH_JOB(&calls->v[i].plan, pj)
			walk_steps(&w, pj->job->steps, pj->job->nsteps, pj->wf->file,
				   calls->v[i].src, 0);
	strvec_clear(&w.seen);
	return w.failed ? -1 : 0;
}

/* ---- the executor's resolver ---- */

static int fill(const struct actprep_run *r, const struct actref_src *src, const char *path,
		struct action_source *out, struct buf *err)
{
	if (actref_dir(r->cache, src, path, &out->dir, err) < 0)
		return -1;
	out->repository = xstrdup(src->repo);
	out->ref = xstrdup(src->ref);
	return 1;
}

static int resolve(const struct action_resolver *res, const char *uses, struct action_source *out,
		   struct buf *err)
{
	const struct actprep_run *r = res->data;
	const struct actref_src *src;
	const char *path;
	if (actref_is_self(uses, &path))
		return actref_self(r->cache, r->repo_dir, r->repository, r->sha, &src, err) < 0
			       ? -1 : fill(r, src, path, out, err);
	struct actref ar;
	if (actref_parse(uses, &ar, err) < 0)
		return -1;
	int ret;
	/* `$/` of an action from the run's own repository comes back as owner/name@sha */
	if (!strcasecmp(ar.repo, r->repository) && !strcmp(ar.ref, r->sha))
		ret = actref_self(r->cache, r->repo_dir, r->repository, r->sha, &src, err) < 0
			      ? -1 : fill(r, src, ar.path, out, err);
	else
		ret = actref_get(r->cache, ar.repo, ar.ref, 0, &src, err) < 0
			      ? -1 : fill(r, src, ar.path, out, err);
	actref_release(&ar);
	return ret;
}

void actprep_resolver(const struct actprep_run *r, struct action_resolver *out)
{
	out->resolve = resolve;
	out->data = (void *)r;
}
