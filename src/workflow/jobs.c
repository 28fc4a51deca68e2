/*
 * jobs: `jobs:` into wf->jobs. A job either runs steps on a runner
 * (`runs-on`, `steps`, ...) or calls a reusable workflow (`uses`, `with`,
 * `secrets`); each kind has its own key table. Ids follow GitHub's rules
 * and are unique ignoring case.
 */
#include "workflow/wf-int.h"


/* bounds the needs graph walk (recursive) and memory */
#define WF_MAX_JOBS 10000

static const struct wf__key job_keys[] = {
	{ "name", K_STR },
	{ "needs", K_STR | K_SEQ },
	{ "if", K_STR | K_BOOL | K_NUM | K_NULL },
	{ "runs-on", K_STR | K_SEQ | K_MAP },
	{ "environment", K_STR | K_MAP },
	{ "env", K_MAP | K_EXPR },
	{ "defaults", K_MAP },
	{ "outputs", K_MAP },
	{ "timeout-minutes", K_NUM | K_EXPR },
	{ "cancel-timeout-minutes", K_NUM | K_EXPR },
	{ "continue-on-error", K_BOOL | K_EXPR },
	{ "strategy", K_MAP | K_EXPR },
	{ "container", K_STR | K_MAP },
	{ "services", K_MAP },
	{ "permissions", K_STR | K_MAP },
	{ "concurrency", K_STR | K_MAP },
	{ "steps", K_SEQ },
	{ "snapshot", K_STR | K_MAP },
	{ "uses", K_STR }, /* reported below when mixed with runs-on/steps */
};

static const struct wf__key call_keys[] = {
	{ "name", K_STR },
	{ "uses", K_STR },
	{ "with", K_MAP },
	{ "secrets", K_STR | K_MAP },
	{ "needs", K_STR | K_SEQ },
	{ "if", K_STR | K_BOOL | K_NUM | K_NULL },
	{ "permissions", K_STR | K_MAP },
	{ "concurrency", K_STR | K_MAP },
	{ "strategy", K_MAP | K_EXPR },
};

static const struct wf__key strategy_keys[] = {
	{ "matrix", K_MAP | K_EXPR },
	{ "fail-fast", K_BOOL | K_EXPR },
	{ "max-parallel", K_NUM | K_EXPR },
};

static const struct wf__key env_keys[] = {
	{ "name", K_STR }, { "url", K_STR }, { "deployment", K_BOOL | K_EXPR },
};

static const struct wf__key container_keys[] = {
	{ "image", K_STR }, { "credentials", K_MAP }, { "env", K_MAP }, { "ports", K_SEQ },
	{ "volumes", K_SEQ }, { "options", K_STR }, { "entrypoint", K_STR }, { "command", K_STR },
};

static const struct wf__key runs_on_keys[] = { { "group", K_STR }, { "labels", K_STR | K_SEQ } };

static void parse_needs(struct wf__ld *ld, struct wf_job *job, const struct ynode *n)
{
	if (!n)
		return;
	const struct ynode *const *items = (const struct ynode *const *)&n;
	size_t nr = 1;
	if (n->kind == YNODE_SEQ) {
		items = (const struct ynode *const *)n->items;
		nr = n->nr;
	}
	job->needs = xcalloc(nr ? nr : 1, sizeof(*job->needs));
	for (size_t i = 0; i < nr; i++) {
		const struct ynode *it = items[i];
		if (it->kind != YNODE_SCALAR || wf__scalar_type(it) == WT_NULL) {
			wf__err(ld, it, "'needs' must list job ids, not %s", wf__kind_desc(it));
			continue;
		}
		if (wf__has_expr(it)) {
			wf__err(ld, it, "expressions are not allowed in 'needs'");
			continue;
		}
		wf__str_set(&job->needs[job->nneeds++], it);
	}
}

static void check_container(struct wf__ld *ld, const struct ynode *c, const char *what)
{
	if (!c || c->kind != YNODE_MAP)
		return;
	wf__check_keys_ctx(ld, c, container_keys, ARRAY_SIZE(container_keys), what);
	const struct ynode *img = wf__get(c, "image");
	if (!img)
		wf__err(ld, c, "%s is missing 'image'", what);
	else if (img->kind == YNODE_SCALAR && !*img->str)
		wf__err(ld, img, "the image of %s must not be empty", what);
	wf__check_string_map(ld, wf__get(c, "env"), "env");
	const struct ynode *cred = wf__get(c, "credentials");
	if (cred && cred->kind == YNODE_MAP) {
		static const struct wf__key keys[] = { { "username", K_STR }, { "password", K_STR } };
		wf__check_keys_ctx(ld, cred, keys, ARRAY_SIZE(keys), "credentials");
	}
}

static void check_services(struct wf__ld *ld, const struct ynode *s)
{
	if (!s || s->kind != YNODE_MAP)
		return;
	for (size_t i = 0; i < ynode_map_size(s); i++) {
		const struct ynode *v = ynode_map_val(s, i);
		struct buf w = BUF_INIT;
		buf_addf(&w, "service '%s'", ynode_map_key(s, i)->str);
		if (wf__check_kind(ld, v, K_STR | K_MAP | K_EXPR, w.buf) == 0)
			check_container(ld, v, w.buf);
		buf_release(&w);
	}
}

/* `uses:` of a job: ./.github/workflows/x.yml, $/.github/workflows/x.yml
 * or owner/repo/path@ref */
static void check_workflow_ref(struct wf__ld *ld, const struct ynode *u)
{
	if (!u || u->kind != YNODE_SCALAR)
		return;
	const char *s = u->str;
	if (wf__has_expr(u)) {
		wf__err(ld, u, "expressions are not allowed in a job's 'uses'");
		return;
	}
	if (str_starts_with(s, "./") || str_starts_with(s, "$/")) {
		if (s[0] == '$' && (strstr(s, "/../") || strchr(s, '@')))
			wf__err(ld, u, "reusable workflow '%s': '$/' is followed by a path inside "
				       "the repository, without '..' or '@ref'", s);
		else if (!str_ends_with(s, ".yml") && !str_ends_with(s, ".yaml"))
			wf__err(ld, u, "reusable workflow '%s' must be a .yml or .yaml file", s);
		return;
	}
	const char *at = strchr(s, '@');
	const char *slash = strchr(s, '/');
	if (!at || !at[1] || !slash || slash > at || slash == s || !strchr(slash + 1, '/') ||
	    strchr(slash + 1, '/') > at)
		wf__err(ld, u, "reusable workflow '%s' must be "
			       "'{owner}/{repo}/{path}/{file}@{ref}' or './{path}/{file}'", s);
}

/* runs-on group: a name, or org/|organization/|ent/|enterprise/ + a name */
static void check_runner_group(struct wf__ld *ld, const struct ynode *g)
{
	static const char *const prefixes[] = { "org/", "organization/", "ent/", "enterprise/" };
	if (!g || g->kind != YNODE_SCALAR || wf__has_expr(g) || !strchr(g->str, '/'))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		const char *rest = g->str + strlen(prefixes[i]);
		if (str_starts_with(g->str, prefixes[i]) && *rest && !strchr(rest, '/'))
			return;
	}
	wf__err(ld, g, "invalid runner group '%s': use a name, or 'organization/NAME' or "
		       "'enterprise/NAME' for one group", g->str);
}

static void parse_strategy(struct wf__ld *ld, struct wf_job *job, const struct ynode *st)
{
	job->matrix_jobs = 1;
	if (!st)
		return;
	if (st->kind != YNODE_MAP) {
		job->matrix_jobs = -1; /* a whole-expression strategy */
		return;
	}
	wf__check_keys_ctx(ld, st, strategy_keys, ARRAY_SIZE(strategy_keys), "strategy");
	job->strategy.matrix = wf__get(st, "matrix");
	job->strategy.fail_fast = wf__get(st, "fail-fast");
	job->strategy.max_parallel = wf__get(st, "max-parallel");
	wf__check_min(ld, job->strategy.max_parallel, "max-parallel", 1, 1);
	wf__check_matrix(ld, job, st);
}

static void parse_runner_job(struct wf__ld *ld, struct wf_job *job, const struct ynode *m,
			     const char *what)
{
	wf__check_keys(ld, m, job_keys, ARRAY_SIZE(job_keys), what);
	const struct ynode *u = wf__get(m, "uses");
	if (u) {
		const struct ynode *k = NULL;
		for (size_t i = 0; i < ynode_map_size(m); i++)
			if (ynode_map_val(m, i) == u)
				k = ynode_map_key(m, i);
		wf__err(ld, k, "%s cannot have both 'uses' (a reusable workflow) and %s", what,
			wf__get(m, "runs-on") ? "'runs-on'" : "'steps'");
	}
	job->runs_on = wf__get(m, "runs-on");
	if (!job->runs_on) {
		wf__err(ld, m, "%s is missing 'runs-on'", what);
	} else if (job->runs_on->kind == YNODE_MAP) {
		wf__check_keys_ctx(ld, job->runs_on, runs_on_keys, ARRAY_SIZE(runs_on_keys), "runs-on");
		check_runner_group(ld, wf__get(job->runs_on, "group"));
	} else if (ynode_is_null(job->runs_on) ||
		   (job->runs_on->kind == YNODE_SCALAR && !*job->runs_on->str)) {
		wf__err(ld, job->runs_on, "'runs-on' must not be empty");
	}
	wf__scan_exprs(ld, job->runs_on, "jobs.<job_id>.runs-on", 1);

	job->environment = wf__get(m, "environment");
	if (job->environment && job->environment->kind == YNODE_MAP) {
		wf__check_keys_ctx(ld, job->environment, env_keys, ARRAY_SIZE(env_keys), "environment");
		if (!wf__get(job->environment, "name"))
			wf__err(ld, job->environment, "environment is missing 'name'");
	}
	wf__scan_exprs(ld, job->environment, "jobs.<job_id>.environment", 1);
	job->env = wf__get(m, "env");
	wf__check_string_map(ld, job->env, "env");
	wf__scan_exprs(ld, job->env, "jobs.<job_id>.env", 1);
	job->outputs = wf__get(m, "outputs");
	wf__check_string_map(ld, job->outputs, "outputs");
	wf__scan_exprs(ld, job->outputs, "jobs.<job_id>.outputs", 1);
	job->timeout_minutes = wf__get(m, "timeout-minutes");
	wf__check_min(ld, job->timeout_minutes, "timeout-minutes", 0, 0);
	wf__check_min(ld, wf__get(m, "cancel-timeout-minutes"), "cancel-timeout-minutes", 0, 0);
	wf__scan_exprs(ld, job->timeout_minutes, "jobs.<job_id>.timeout-minutes", 1);
	wf__scan_exprs(ld, wf__get(m, "cancel-timeout-minutes"),
		       "jobs.<job_id>.cancel-timeout-minutes", 1);
	job->continue_on_error = wf__get(m, "continue-on-error");
	wf__scan_exprs(ld, job->continue_on_error, "jobs.<job_id>.continue-on-error", 1);
	job->container = wf__get(m, "container");
	check_container(ld, job->container, "container");
	wf__scan_exprs(ld, job->container, "jobs.<job_id>.container", 1);
	job->services = wf__get(m, "services");
	check_services(ld, job->services);
	wf__scan_exprs(ld, job->services, "jobs.<job_id>.services", 1);
	wf__parse_defaults(ld, &job->defaults, wf__get(m, "defaults"),
			   "jobs.<job_id>.defaults.run", 1);
	wf__scan_exprs(ld, wf__get(m, "snapshot"), "jobs.<job_id>.snapshot", 1);
	const struct ynode *steps = wf__get(m, "steps");
	if (steps && steps->kind == YNODE_SEQ)
		wf__parse_steps(ld, job, steps);
}

static void parse_call_job(struct wf__ld *ld, struct wf_job *job, const struct ynode *m,
			   const char *what)
{
	wf__check_keys(ld, m, call_keys, ARRAY_SIZE(call_keys), what);
	const struct ynode *u = wf__get(m, "uses");
	wf__str_set(&job->uses, u);
	check_workflow_ref(ld, u);
	job->with = wf__get(m, "with");
	wf__check_string_map(ld, job->with, "with");
	wf__scan_exprs(ld, job->with, "jobs.<job_id>.with", 1);
	job->secrets = wf__get(m, "secrets");
	if (job->secrets && job->secrets->kind == YNODE_SCALAR && strcmp(job->secrets->str, "inherit"))
		wf__err(ld, job->secrets, "'secrets' must be a mapping or 'inherit', not '%s'",
			job->secrets->str);
	wf__scan_exprs(ld, job->secrets, "jobs.<job_id>.secrets", 1);
}

static void parse_job(struct wf__ld *ld, struct wf_job *job, const struct ynode *k,
		      const struct ynode *m)
{
	struct buf what = BUF_INIT;
	buf_addf(&what, "job '%s'", k->str);
	job->node = m;
	wf__str_set(&job->id, k);
	job->matrix_jobs = 1;
	if (m->kind != YNODE_MAP) {
		if (wf__has_expr(m))
			wf__err(ld, m, "expressions are not allowed here: a job must be a mapping");
		else
			wf__err(ld, m, "%s must be a mapping, not %s", what.buf, wf__kind_desc(m));
		buf_release(&what);
		return;
	}
	int is_call = wf__get(m, "uses") && !wf__get(m, "runs-on") && !wf__get(m, "steps");
	if (is_call)
		parse_call_job(ld, job, m, what.buf);
	else
		parse_runner_job(ld, job, m, what.buf);

	const struct ynode *n = wf__get(m, "name");
	wf__str_set(&job->name, n);
	wf__scan_exprs(ld, n, "jobs.<job_id>.name", 1);
	n = wf__get(m, "if");
	wf__str_set(&job->if_cond, n);
	wf__scan_if(ld, n, "jobs.<job_id>.if");
	parse_needs(ld, job, wf__get(m, "needs"));
	job->permissions = wf__get(m, "permissions");
	wf__check_permissions(ld, job->permissions);
	wf__scan_exprs(ld, job->permissions, "jobs.<job_id>.permissions", 0);
	job->concurrency = wf__get(m, "concurrency");
	wf__check_concurrency(ld, job->concurrency);
	wf__scan_exprs(ld, job->concurrency, "jobs.<job_id>.concurrency", 1);
	const struct ynode *st = wf__get(m, "strategy");
	parse_strategy(ld, job, st);
	wf__scan_exprs(ld, st, "jobs.<job_id>.strategy", 1);
	buf_release(&what);
}

/* a job id key: a valid identifier, unique ignoring case */
static int check_job_id(struct wf__ld *ld, const struct ynode *jobs, size_t i)
{
	const struct ynode *k = ynode_map_key(jobs, i);
	if (k->kind != YNODE_SCALAR)
		return wf__err(ld, k, "a job id must be a string, not %s", wf__kind_desc(k));
	if (wf__has_expr(k))
		return wf__err(ld, k, "expressions are not allowed in job ids");
	/* a null key (`~:`, `null:`) is an empty id, as in GitHub's reader */
	if (wf__scalar_type(k) == WT_NULL)
		return wf__err(ld, k, "invalid job id '%s': YAML reads it as null, an empty id "
				      "(quote it)", k->str);
	const char *why = wf__id_problem(k->str);
	if (why)
		return wf__err(ld, k, "invalid job id '%s': %s", k->str, why);
	long first = wf__idmap_put(&ld->jobs, k->str, (long)ld->wf->njobs);
	if (first >= 0)
		return wf__err(ld, k, "job '%s' is defined twice (first at line %d; ids ignore case)",
			       k->str, ld->wf->jobs[first].id.line);
	return 0;
}

void wf__check_steps_present(struct wf__ld *ld)
{
	for (size_t i = 0; i < ld->wf->njobs; i++) {
		const struct wf_job *job = &ld->wf->jobs[i];
		if (job->uses.s || job->nsteps || job->node->kind != YNODE_MAP)
			continue;
		const struct ynode *steps = wf__get(job->node, "steps");
		if (steps && steps->kind != YNODE_SEQ)
			continue; /* an expression: known at run time */
		wf__err(ld, steps ? steps : job->node, "job '%s' has no steps: define 'steps', or "
			"call a reusable workflow with 'uses'", job->id.s);
	}
}

void wf__parse_jobs(struct wf__ld *ld, const struct ynode *jobs)
{
	struct workflow *wf = ld->wf;
	size_t n = ynode_map_size(jobs);
	if (!n) {
		wf__err(ld, jobs, "the workflow must have at least one job");
		return;
	}
	if (n > WF_MAX_JOBS) {
		wf__err(ld, jobs, "the workflow has %zu jobs, more than the %d kiln accepts", n,
			WF_MAX_JOBS);
		return;
	}
	wf->jobs = xcalloc(n, sizeof(*wf->jobs));
	wf__idmap_init(&ld->jobs, n);
	for (size_t i = 0; i < n; i++) {
		if (check_job_id(ld, jobs, i) < 0)
			continue;
		struct wf_job *job = &wf->jobs[wf->njobs++];
		parse_job(ld, job, ynode_map_key(jobs, i), ynode_map_val(jobs, i));
	}
	wf__check_graph(ld, jobs);
	wf__idmap_release(&ld->jobs);
}
