/*
 * steps: a job's `steps:` into job->steps. Each step either runs a script
 * (`run`) or an action (`uses`); ids are checked and, when absent,
 * generated the way GitHub does (__run, __actions_checkout, __run_2) so
 * the steps context and logs match what users see on github.com.
 */
#include "workflow/wf-int.h"

#include <ctype.h>
#include <strings.h>

static const struct wf__key step_keys[] = {
	{ "id", K_STR },
	{ "name", K_STR },
	{ "if", K_STR | K_BOOL | K_NUM | K_NULL },
	{ "run", K_STR },
	{ "shell", K_STR },
	{ "working-directory", K_STR },
	{ "uses", K_STR },
	{ "with", K_MAP | K_EXPR },
	{ "env", K_MAP | K_EXPR },
	{ "continue-on-error", K_BOOL | K_EXPR },
	{ "timeout-minutes", K_NUM | K_EXPR },
};

#define ID_MAX 100

/* the part of `uses` GitHub builds a step id from */
static void action_id_base(const char *uses, struct buf *out)
{
	if (str_starts_with(uses, "docker://")) {
		buf_addstr(out, uses + strlen("docker://"));
		return;
	}
	if (str_starts_with(uses, "./") || str_starts_with(uses, ".\\") ||
	    str_starts_with(uses, "$/")) {
		buf_addstr(out, "self");
		return;
	}
	const char *at = strchr(uses, '@');
	if (!at || strchr(at + 1, '@') || !at[1])
		return;
	/* the first two non-empty path segments: owner/repo */
	const char *p = uses;
	int seg = 0;
	size_t start = out->len;
	while (p < at && seg < 2) {
		while (p < at && (*p == '/' || *p == '\\'))
			p++;
		const char *e = p;
		while (e < at && *e != '/' && *e != '\\')
			e++;
		if (e > p) {
			if (seg)
				buf_addch(out, '/');
			buf_add(out, p, (size_t)(e - p));
			seg++;
		}
		p = e;
	}
	if (seg < 2)
		buf_setlen(out, start);
}

/* GitHub's id builder: keep [A-Za-z0-9_-], squeeze the rest into one '_' */
static void sanitize_id(const char *raw, struct buf *out)
{
	for (const char *p = raw; *p; p++) {
		if (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
			buf_addch(out, *p);
		else if (out->len && out->buf[out->len - 1] != '_')
			buf_addch(out, '_');
	}
}

static int id_taken(const struct strvec *taken, const char *id)
{
	for (size_t i = 0; i < taken->nr; i++)
		if (!strcasecmp(taken->v[i], id))
			return 1;
	return 0;
}

/* the first free candidate: base, base_2, base_3, ... (ignoring case) */
static char *unique_id(struct strvec *taken, const char *base)
{
	struct buf b = BUF_INIT;
	for (int attempt = 1; attempt < 1000; attempt++) {
		char suffix[16] = "";
		if (attempt > 1)
			snprintf(suffix, sizeof(suffix), "_%d", attempt);
		size_t keep = strlen(base);
		if (keep > ID_MAX - strlen(suffix))
			keep = ID_MAX - strlen(suffix);
		buf_reset(&b);
		buf_add(&b, base, keep);
		buf_addstr(&b, suffix);
		if (!id_taken(taken, b.buf))
			break;
	}
	strvec_push(taken, b.buf);
	return buf_detach(&b, NULL);
}

static void generate_ids(struct wf_job *job)
{
	struct strvec taken = STRVEC_INIT;
	for (size_t i = 0; i < job->nsteps; i++)
		if (job->steps[i].id.s)
			strvec_push(&taken, job->steps[i].id.s);
	for (size_t i = 0; i < job->nsteps; i++) {
		struct wf_step *st = &job->steps[i];
		if (st->id.s)
			continue;
		struct buf raw = BUF_INIT, id = BUF_INIT;
		buf_addstr(&raw, "__");
		if (st->uses.s)
			action_id_base(st->uses.s, &raw);
		else
			buf_addstr(&raw, "run");
		sanitize_id(raw.buf, &id);
		st->auto_id = unique_id(&taken, id.buf);
		buf_release(&raw);
		buf_release(&id);
	}
	strvec_clear(&taken);
}

/* `uses:` of a step: ./path, $/path, docker://image, owner/repo[/path]@ref */
static void check_action_ref(struct wf__ld *ld, const struct ynode *u)
{
	if (!u || u->kind != YNODE_SCALAR)
		return;
	const char *s = u->str;
	if (wf__has_expr(u)) {
		wf__err(ld, u, "expressions are not allowed in 'uses'");
		return;
	}
	if (!*s) {
		wf__err(ld, u, "'uses' must not be empty");
		return;
	}
	if (str_starts_with(s, "./") || str_starts_with(s, ".\\"))
		return;
	/* `$/path`: this file's repository at its commit (runner: dollar-self) */
	if (str_starts_with(s, "$/")) {
		if (!s[2] || strstr(s, "/../") || str_ends_with(s, "/..") || strchr(s, '@'))
			wf__err(ld, u, "invalid action reference '%s': '$/' is followed by a path "
				       "inside the repository, without '..' or '@ref'", s);
		return;
	}
	if (str_starts_with(s, "docker://")) {
		if (!s[strlen("docker://")])
			wf__err(ld, u, "'uses' names no image after 'docker://'");
		return;
	}
	const char *at = strchr(s, '@');
	const char *slash = strchr(s, '/');
	int ok = at && at[1] && !strchr(at + 1, '@') && slash && slash < at && slash > s &&
		 slash + 1 < at && (isalnum((unsigned char)s[0]) || s[0] == '_');
	if (!ok)
		wf__err(ld, u, "invalid action reference '%s': expected '{owner}/{repo}[/path]@{ref}', "
			       "'./path' or 'docker://image'", s);
}

static void key_err(struct wf__ld *ld, const struct ynode *m, const char *key, const char *fmt)
{
	for (size_t i = 0; i < ynode_map_size(m); i++) {
		const struct ynode *k = ynode_map_key(m, i);
		if (k->kind == YNODE_SCALAR && !strcmp(k->str, key))
			wf__err(ld, k, fmt, key);
	}
}

static void parse_step(struct wf__ld *ld, struct wf_step *st, const struct ynode *m)
{
	st->node = m;
	wf__check_keys(ld, m, step_keys, ARRAY_SIZE(step_keys), "a step");
	const struct ynode *run = wf__get(m, "run"), *uses = wf__get(m, "uses");
	if (run && uses)
		wf__err(ld, m, "a step cannot have both 'run' and 'uses'");
	else if (!run && !uses)
		wf__err(ld, m, "a step must have 'run' or 'uses'");
	else if (uses) {
		key_err(ld, m, "shell", "key '%s' is only allowed in a 'run' step");
		key_err(ld, m, "working-directory", "key '%s' is only allowed in a 'run' step");
	} else {
		key_err(ld, m, "with", "key '%s' is only allowed in a 'uses' step");
	}
	wf__str_set(&st->run, run);
	wf__str_set(&st->uses, uses);
	check_action_ref(ld, uses);
	wf__scan_exprs(ld, run, "jobs.<job_id>.steps.run", 1);

	const struct ynode *n = wf__get(m, "name");
	wf__str_set(&st->name, n);
	wf__scan_exprs(ld, n, "jobs.<job_id>.steps.name", 1);
	n = wf__get(m, "if");
	wf__str_set(&st->if_cond, n);
	wf__scan_if(ld, n, "jobs.<job_id>.steps.if");
	n = wf__get(m, "shell");
	wf__str_set(&st->shell, n);
	wf__scan_exprs(ld, n, "jobs.<job_id>.steps.shell", 0);
	n = wf__get(m, "working-directory");
	wf__str_set(&st->working_directory, n);
	wf__scan_exprs(ld, n, "jobs.<job_id>.steps.working-directory", 1);
	st->env = wf__get(m, "env");
	wf__check_string_map(ld, st->env, "env");
	wf__scan_exprs(ld, st->env, "jobs.<job_id>.steps.env", 1);
	st->with = wf__get(m, "with");
	wf__check_string_map(ld, st->with, "with");
	wf__scan_exprs(ld, st->with, "jobs.<job_id>.steps.with", 1);
	st->continue_on_error = wf__get(m, "continue-on-error");
	wf__scan_exprs(ld, st->continue_on_error, "jobs.<job_id>.steps.continue-on-error", 1);
	st->timeout_minutes = wf__get(m, "timeout-minutes");
	wf__check_min(ld, st->timeout_minutes, "timeout-minutes", 0, 0);
	wf__scan_exprs(ld, st->timeout_minutes, "jobs.<job_id>.steps.timeout-minutes", 1);
}

/* the step's `id:`: valid, and unique in the job ignoring case */
static void parse_step_id(struct wf__ld *ld, struct wf_job *job, struct wf_step *st)
{
	const struct ynode *id = wf__get(st->node, "id");
	if (!id || id->kind != YNODE_SCALAR || wf__scalar_type(id) == WT_NULL)
		return;
	if (wf__has_expr(id)) {
		wf__err(ld, id, "expressions are not allowed in step ids");
		return;
	}
	const char *why = wf__id_problem(id->str);
	if (why) {
		wf__err(ld, id, "invalid step id '%s': %s", id->str, why);
		return;
	}
	for (size_t i = 0; i < st->index; i++) {
		const char *prev = job->steps[i].id.s;
		if (prev && !strcasecmp(prev, id->str)) {
			wf__err(ld, id, "duplicate step id '%s' in job '%s' (first used at line %d)",
				id->str, job->id.s, job->steps[i].id.line);
			return;
		}
	}
	wf__str_set(&st->id, id);
}

void wf__parse_steps(struct wf__ld *ld, struct wf_job *job, const struct ynode *steps)
{
	job->steps = xcalloc(steps->nr ? steps->nr : 1, sizeof(*job->steps));
	for (size_t i = 0; i < steps->nr; i++) {
		const struct ynode *m = steps->items[i];
		if (m->kind != YNODE_MAP) {
			wf__err(ld, m, "a step must be a mapping, not %s", wf__kind_desc(m));
			continue;
		}
		struct wf_step *st = &job->steps[job->nsteps];
		st->index = job->nsteps++;
		st->node = m;
		parse_step_id(ld, job, st);
		parse_step(ld, st, m);
	}
	generate_ids(job);
}
