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
		/* a local action may use remote ones: it is read from the work tree */
		dir = xstrfmt("%s/%s", w->r->repo_dir, uses + (uses[1] ? 2 : 1));
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

static void walk_steps(struct walk *w, const struct wf_step *steps, size_t n, const char *file,
		       const struct actref_src *src, int depth)
{
	for (size_t i = 0; i < n; i++)
		if (steps[i].uses.s)
			walk_uses(w, file, &steps[i].uses, src, depth);
}

static void walk_plan(struct walk *w, const struct plan *p, const struct actref_src *src)
{
	for (size_t i = 0; i < p->nr; i++) {
		const struct plan_job *pj = &p->jobs[i];
		if (pj->selected)
			walk_steps(w, pj->job->steps, pj->job->nsteps, pj->wf->file, src, 0);
	}
}

int actprep_plan(const struct actprep_run *r, const struct plan *p, const struct reuse_set *calls,
		 struct diags *d)
{
	struct walk w = { r, d, STRVEC_INIT, 0 };
	walk_plan(&w, p, NULL);
	for (size_t i = 0; calls && i < calls->nr; i++)
		walk_plan(&w, &calls->v[i].plan, calls->v[i].src);
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
