/*
 * support: which jobs of a plan kiln cannot run yet, and why, decided
 * before the run from the workflow alone (job containers, Docker actions,
 * runs-on labels of another operating system, services without podman).
 * Such a job stays in the plan: `kiln run -l` / `-n` show the reason, the
 * other jobs run (`-j`), and the scheduler fails the job with the reason
 * only when it would actually start (its `if:` true).
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/plan.h"
#include "engine/podman.h"
#include "yaml/ynode.h"

#include <ctype.h>
#include <errno.h>
#include <strings.h>
#include <unistd.h>

static void set_reason(struct plan_job *pj, const struct ynode *at, int line, int col,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void set_reason(struct plan_job *pj, const struct ynode *at, int line, int col,
		       const char *fmt, ...)
{
	if (pj->cannot)
		return; /* the first reason in file order is enough */
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	pj->cannot = buf_detach(&b, NULL);
	pj->cannot_line = at ? at->line : line;
	pj->cannot_col = at ? at->col : col;
}

/* a runs-on label naming another operating system than this machine's */
static const char *foreign_os(const char *label)
{
	if (!strncasecmp(label, "windows", 7))
		return "Windows";
	if (!strncasecmp(label, "macos", 5))
		return "macOS";
	return NULL;
}

static int has_expr(const struct ynode *n)
{
	return n && n->kind == YNODE_SCALAR && n->str && strstr(n->str, "${{");
}

/* runs-on: a label, a list of labels or {group, labels}; expressions are
 * known only at run time and are not judged here */
static void check_runs_on(struct plan_job *pj, const struct ynode *ro)
{
	if (!ro)
		return;
	if (ro->kind == YNODE_MAP)
		ro = ynode_get(ro, "labels");
	if (!ro)
		return;
	size_t n = ro->kind == YNODE_SEQ ? ro->nr : 1;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *l = ro->kind == YNODE_SEQ ? ro->items[i] : ro;
		if (l->kind != YNODE_SCALAR || !l->str || has_expr(l))
			continue;
		const char *os = foreign_os(l->str);
		if (os) {
			set_reason(pj, l, 0, 0,
				   "runs-on '%s' needs a %s runner; kiln runs jobs on this Linux "
				   "machine",
				   l->str, os);
			return;
		}
	}
}

int plan_runs_on_foreign(const struct ev *v, struct buf *why)
{
	if (v && ev_kind(v) == EV_OBJECT)
		v = ev_object_get(v, "labels");
	if (!v)
		return 0;
	size_t n = ev_kind(v) == EV_ARRAY ? ev_len(v) : 1;
	for (size_t i = 0; i < n; i++) {
		const struct ev *l = ev_kind(v) == EV_ARRAY ? ev_array_at(v, i) : v;
		const char *os = ev_kind(l) == EV_STRING ? foreign_os(ev_get_str(l, NULL)) : NULL;
		if (os) {
			buf_addf(why, "runs-on '%s' needs a %s runner; kiln runs jobs on this "
				 "Linux machine", ev_get_str(l, NULL), os);
			return 1;
		}
	}
	return 0;
}

/*
 * `uses: ./path` naming a Docker action (runs.using: docker), or a local
 * composite action with such a step (`docker://`, or a local Docker action,
 * nested up to 8 deep): 1, with the inner reference in `inner` when it is
 * not `uses` itself.
 */
static int local_docker(const char *repo_dir, const char *uses, int depth, struct buf *inner)
{
	static const char *const names[] = { "action.yml", "action.yaml" };
	int docker = 0;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char *f = xstrfmt("%s/%s/%s", repo_dir, uses, names[i]);
		struct buf data = BUF_INIT;
		struct diags d = DIAGS_INIT;
		struct ynode *root = NULL;
		struct buf why = BUF_INIT;
		/* not a regular file (a FIFO, /dev/zero): the step reports it */
		int found = fs_read_input(f, FS_INPUT_MAX, &data, &why) != -ENOENT;
		buf_release(&why);
		if (found && yaml_load(f, data.buf, data.len, &root, &d) == 0 && root &&
		    root->kind == YNODE_MAP) {
			const struct ynode *runs = ynode_get(root, "runs");
			const struct ynode *u = runs && runs->kind == YNODE_MAP
							? ynode_get(runs, "using") : NULL;
			const char *using = u && u->kind == YNODE_SCALAR && u->str ? u->str : "";
			docker = !strcasecmp(using, "docker");
			const struct ynode *steps = !strcasecmp(using, "composite") && depth < 8
							    ? ynode_get(runs, "steps") : NULL;
			for (size_t k = 0; !docker && steps && steps->kind == YNODE_SEQ &&
					   k < steps->nr; k++) {
				const struct ynode *st = steps->items[k];
				const struct ynode *su = st->kind == YNODE_MAP ? ynode_get(st, "uses")
									      : NULL;
				const char *ref = su && su->kind == YNODE_SCALAR && su->str ? su->str : "";
				if (!strncmp(ref, "docker://", 9)) {
					docker = 1;
					buf_reset(inner);
					buf_addstr(inner, ref);
				} else if (!strncmp(ref, "./", 2) && !strstr(ref, "${{") &&
					   local_docker(repo_dir, ref, depth + 1, inner)) {
					docker = 1;
					if (!inner->len)
						buf_addstr(inner, ref);
				}
			}
		}
		ynode_free(root);
		diags_release(&d);
		buf_release(&data);
		free(f);
		if (found)
			break;
	}
	return docker;
}

static void check_steps(struct plan_job *pj, const char *repo_dir)
{
	struct buf inner = BUF_INIT;
	const struct wf_job *job = pj->job;
	int podman = -1; /* looked up on PATH for the first `uses:` that could need it */
	for (size_t i = 0; i < job->nsteps && !pj->cannot; i++) {
		const struct wf_str *u = &job->steps[i].uses;
		if (!u->s || (strncmp(u->s, "docker://", 9) && strncmp(u->s, "./", 2)))
			continue;
		if (podman < 0)
			podman = podman_installed(NULL);
		if (!strncmp(u->s, "docker://", 9) && !podman)
			set_reason(pj, NULL, u->line, u->col,
				   "step %zu uses the Docker image '%s'; Docker actions need "
				   "podman, which is not installed (not found on PATH)",
				   i + 1, u->s + 9);
		else if (!podman && repo_dir && !strncmp(u->s, "./", 2) && !strstr(u->s, "${{") &&
			 local_docker(repo_dir, u->s, 0, &inner)) {
			if (inner.len)
				set_reason(pj, NULL, u->line, u->col,
					   "step %zu uses '%s', whose steps use the Docker action "
					   "'%s'; Docker actions need podman, which is not installed "
					   "(not found on PATH)",
					   i + 1, u->s, inner.buf);
			else
				set_reason(pj, NULL, u->line, u->col,
					   "step %zu uses '%s', a Docker action; Docker actions need "
					   "podman, which is not installed (not found on PATH)",
					   i + 1, u->s);
		}
	}
	buf_release(&inner);
}

void plan_check_support(struct plan *p, const char *repo_dir)
{
	for (size_t i = 0; i < p->nr; i++) {
		struct plan_job *pj = &p->jobs[i];
		const struct wf_job *job = pj->job;
		if (job->uses.s)
			continue; /* reusable workflow calls: src/engine/reuse.c */
		if (job->container && !ynode_is_null(job->container) && !podman_installed(NULL))
			set_reason(pj, job->container, 0, 0,
				   "job containers ('container:') need podman, which is not "
				   "installed (not found on PATH)");
		if (job->services && !ynode_is_null(job->services) && !podman_installed(NULL))
			set_reason(pj, job->services, 0, 0,
				   "service containers ('services:') need podman, which is not "
				   "installed (not found on PATH)");
		check_runs_on(pj, job->runs_on);
		check_steps(pj, repo_dir);
	}
}
