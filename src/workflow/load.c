/*
 * load: wf_load() — YAML text to a validated struct workflow. Parses the
 * YAML tree, refuses what GitHub refuses in it (anchors, aliases, unknown
 * tags), then checks the top-level keys and hands the parts (on, jobs,
 * steps, matrix, needs graph, expressions) to their own files.
 */
#include "base/fs.h"
#include "workflow/wf-int.h"

#include <dirent.h>
#include <errno.h>

static const struct wf__key top_keys[] = {
	{ "name", K_STR },
	{ "description", K_STR },
	{ "run-name", K_STR },
	{ "on", K_STR | K_SEQ | K_MAP },
	{ "env", K_MAP | K_EXPR },
	{ "defaults", K_MAP },
	{ "concurrency", K_STR | K_MAP },
	{ "permissions", K_STR | K_MAP },
	{ "jobs", K_MAP },
};

static const char *const core_tags[] = {
	"tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
	"tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
	"tag:yaml.org,2002:seq",
};

/* a scalar with an explicit core tag must read as that type */
static void check_tagged(struct wf__ld *ld, const struct ynode *n)
{
	const char *t = n->tag + strlen("tag:yaml.org,2002:");
	if (!strcmp(t, "str") || !strcmp(t, "map") || !strcmp(t, "seq"))
		return;
	if (n->style != YSTYLE_PLAIN) {
		wf__err(ld, n, "a quoted scalar cannot have the tag '!!%s'", t);
		return;
	}
	struct ynode plain = *n;
	plain.tag = NULL;
	enum wf__stype st = wf__scalar_type(&plain);
	int ok = (!strcmp(t, "null") && st == WT_NULL) || (!strcmp(t, "bool") && st == WT_BOOL) ||
		 ((!strcmp(t, "int") || !strcmp(t, "float")) && st == WT_NUMBER);
	if (!ok)
		wf__err(ld, n, "'%s' is not a valid %s", n->str, t);
}

/* foreign tags and merge keys are refused (GitHub accepts anchors and
 * aliases, resolved by the YAML loader, but rejects `<<`) */
static void check_yaml(struct wf__ld *ld, const struct ynode *n)
{
	if (!n)
		return;
	if (n->kind == YNODE_MAP)
		for (size_t i = 0; i < ynode_map_size(n); i++) {
			const struct ynode *k = ynode_map_key(n, i);
			if (k->kind == YNODE_SCALAR && k->style == YSTYLE_PLAIN && !strcmp(k->str, "<<"))
				wf__err(ld, k, "%s", "yaml merge keys ('<<') are not supported");
		}
	if (n->tag) {
		size_t i = 0;
		while (i < ARRAY_SIZE(core_tags) && strcmp(core_tags[i], n->tag))
			i++;
		if (i == ARRAY_SIZE(core_tags))
			wf__err(ld, n, "unsupported yaml tag '%s'", n->tag);
		else if (n->kind == YNODE_SCALAR)
			check_tagged(ld, n);
	}
	for (size_t i = 0; i < n->nr; i++)
		check_yaml(ld, n->items[i]);
}

static void index_lines(struct wf__ld *ld)
{
	size_t n = 1;
	for (size_t i = 0; i < ld->len; i++)
		n += ld->data[i] == '\n';
	ld->lines = xmalloc(n * sizeof(*ld->lines));
	ld->lines[0] = 0;
	ld->nlines = 1;
	for (size_t i = 0; i < ld->len; i++)
		if (ld->data[i] == '\n')
			ld->lines[ld->nlines++] = i + 1;
}

static const char *const perm_scopes[] = {
	"actions", "artifact-metadata", "attestations", "checks", "contents", "copilot-requests",
	"deployments", "discussions", "id-token", "issues", "models", "packages", "pages",
	"pull-requests", "repository-projects", "security-events", "statuses",
	"vulnerability-alerts",
};

/* wf__check_permissions: `read-all`, `write-all`, `{}` or scope: read|write|none */
void wf__check_permissions(struct wf__ld *ld, const struct ynode *p)
{
	if (!p || ynode_is_null(p))
		return;
	if (p->kind == YNODE_SCALAR) {
		if (strcmp(p->str, "read-all") && strcmp(p->str, "write-all"))
			wf__err(ld, p, "permissions must be 'read-all', 'write-all' or a mapping, not '%s'",
				p->str);
		return;
	}
	if (p->kind != YNODE_MAP)
		return;
	struct wf__key keys[ARRAY_SIZE(perm_scopes)];
	for (size_t i = 0; i < ARRAY_SIZE(perm_scopes); i++)
		keys[i] = (struct wf__key){ perm_scopes[i], K_STR };
	wf__check_keys(ld, p, keys, ARRAY_SIZE(keys), "permissions");
	for (size_t i = 0; i < ynode_map_size(p); i++) {
		const struct ynode *v = ynode_map_val(p, i);
		if (v->kind == YNODE_SCALAR && strcmp(v->str, "read") && strcmp(v->str, "write") &&
		    strcmp(v->str, "none"))
			wf__err(ld, v, "permission '%s' must be 'read', 'write' or 'none', not '%s'",
				ynode_map_key(p, i)->str, v->str);
	}
}

/* wf__parse_defaults: `defaults: run: {shell, working-directory}` */
void wf__parse_defaults(struct wf__ld *ld, struct wf_defaults_run *dr, const struct ynode *defs,
			const char *path, int exprs)
{
	static const struct wf__key keys[] = { { "run", K_MAP } };
	static const struct wf__key run_keys[] = { { "shell", K_STR }, { "working-directory", K_STR } };
	if (!defs || defs->kind != YNODE_MAP)
		return;
	wf__check_keys(ld, defs, keys, ARRAY_SIZE(keys), "defaults");
	const struct ynode *run = wf__get(defs, "run");
	if (!run || run->kind != YNODE_MAP)
		return;
	wf__check_keys(ld, run, run_keys, ARRAY_SIZE(run_keys), "defaults.run");
	wf__str_set(&dr->shell, wf__get(run, "shell"));
	wf__str_set(&dr->working_directory, wf__get(run, "working-directory"));
	wf__scan_exprs(ld, run, path, exprs);
}

/* wf__check_concurrency: a group string or {group, cancel-in-progress, queue} */
void wf__check_concurrency(struct wf__ld *ld, const struct ynode *c)
{
	static const struct wf__key keys[] = {
		{ "group", K_STR },
		{ "cancel-in-progress", K_BOOL | K_EXPR },
		{ "queue", K_STR },
	};
	if (!c || c->kind != YNODE_MAP)
		return;
	wf__check_keys_ctx(ld, c, keys, ARRAY_SIZE(keys), "concurrency");
	if (!wf__get(c, "group"))
		wf__err(ld, c, "concurrency is missing 'group'");
}

static void parse_top(struct wf__ld *ld, const struct ynode *root)
{
	struct workflow *wf = ld->wf;
	wf__check_keys(ld, root, top_keys, ARRAY_SIZE(top_keys), "the workflow");

	const struct ynode *n = wf__get(root, "name");
	wf__str_set(&wf->name, n);
	wf__scan_exprs(ld, n, "name", 0);
	wf__scan_exprs(ld, wf__get(root, "description"), "description", 0);
	n = wf__get(root, "run-name");
	wf__str_set(&wf->run_name, n);
	wf__scan_exprs(ld, n, "run-name", 1);

	n = wf__get(root, "on");
	if (!n)
		wf__err(ld, root, "the workflow is missing 'on'");
	else
		wf__parse_on(ld, n);

	wf->env = wf__get(root, "env");
	wf__check_string_map(ld, wf->env, "env");
	wf__scan_exprs(ld, wf->env, "env", 1);
	wf__parse_defaults(ld, &wf->defaults, wf__get(root, "defaults"), "defaults.run", 0);
	wf->concurrency = wf__get(root, "concurrency");
	wf__check_concurrency(ld, wf->concurrency);
	wf__scan_exprs(ld, wf->concurrency, "concurrency", 1);
	wf->permissions = wf__get(root, "permissions");
	wf__check_permissions(ld, wf->permissions);
	wf__scan_exprs(ld, wf->permissions, "permissions", 0);

	n = wf__get(root, "jobs");
	if (!n)
		wf__err(ld, root, "the workflow is missing 'jobs'");
	else if (n->kind == YNODE_MAP)
		wf__parse_jobs(ld, n);
	else
		wf__scan_exprs(ld, n, "jobs", 0);
}

static int cmp_expr(const void *a, const void *b)
{
	const struct wf_expr *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

int wf_load_ex(const char *file, const char *data, size_t len, unsigned flags,
	       struct workflow **out, struct diags *d)
{
	struct wf__ld ld = { .file = file, .data = data, .len = len, .d = d, .flags = flags,
			     .errors_before = d->errors };
	struct ynode *root;
	*out = NULL;
	if (yaml_load(file, data, len, &root, d) < 0)
		return -1;
	struct workflow *wf = xcalloc(1, sizeof(*wf));
	wf->file = xstrdup(file);
	wf->root = root;
	ld.wf = wf;
	index_lines(&ld);

	check_yaml(&ld, root);
	if (!root || ynode_is_null(root))
		diag_err(d, file, 1, 1, "the workflow is empty");
	else if (root->kind != YNODE_MAP)
		wf__err(&ld, root, "a workflow must be a mapping, not %s", wf__kind_desc(root));
	else if (d->errors == ld.errors_before)
		parse_top(&ld, root);
	if (wf->jobs && d->errors == ld.errors_before)
		wf__check_steps_present(&ld);
	free(ld.lines);
	if (wf->nexprs > 1)
		qsort(wf->exprs, wf->nexprs, sizeof(*wf->exprs), cmp_expr);
	if (d->errors > ld.errors_before) {
		wf_free(wf);
		return -1;
	}
	*out = wf;
	return 0;
}

int wf_load(const char *file, const char *data, size_t len, struct workflow **out,
	    struct diags *d)
{
	return wf_load_ex(file, data, len, 0, out, d);
}

int wf_load_file_as(const char *path, const char *label, struct workflow **out,
		    struct diags *d)
{
	struct buf b = BUF_INIT;
	*out = NULL;
	struct buf why = BUF_INIT;
	int r = fs_read_input(path, YAML_MAX_SIZE, &b, &why);
	if (r < 0) {
		if (r == -EFBIG) /* as yaml_load reports it */
			diag_err(d, label, 1, 1, "%s", why.buf);
		else
			diag_err(d, label, 0, 0, "cannot read workflow: %s", why.buf);
		buf_release(&why);
		buf_release(&b);
		return -1;
	}
	if (memchr(b.buf, '\0', b.len)) {
		diag_err(d, label, 1, 1, "not a text file (contains NUL bytes)");
		buf_release(&b);
		return -1;
	}
	r = wf_load(label, b.buf, b.len, out, d);
	buf_release(&b);
	return r;
}

int wf_load_file(const char *path, struct workflow **out, struct diags *d)
{
	return wf_load_file_as(path, path, out, d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int wf_list_dir(const char *dir, struct strvec *out)
{
	DIR *dh = opendir(dir);
	if (!dh)
		return -errno;
	size_t first = out->nr;
	struct dirent *e;
	while ((e = readdir(dh)))
		if (str_ends_with(e->d_name, ".yml") || str_ends_with(e->d_name, ".yaml"))
			strvec_pushf(out, "%s/%s", dir, e->d_name);
	closedir(dh);
	if (out->nr - first > 1)
		qsort(out->v + first, out->nr - first, sizeof(*out->v), cmp_str);
	return 0;
}

static void str_free(struct wf_str *s)
{
	free(s->s);
}

void wf_free(struct workflow *wf)
{
	if (!wf)
		return;
	for (size_t i = 0; i < wf->njobs; i++) {
		struct wf_job *j = &wf->jobs[i];
		str_free(&j->id);
		str_free(&j->name);
		str_free(&j->if_cond);
		str_free(&j->uses);
		str_free(&j->defaults.shell);
		str_free(&j->defaults.working_directory);
		for (size_t k = 0; k < j->nneeds; k++)
			str_free(&j->needs[k]);
		free(j->needs);
		for (size_t k = 0; k < j->nsteps; k++) {
			struct wf_step *s = &j->steps[k];
			str_free(&s->id);
			str_free(&s->name);
			str_free(&s->if_cond);
			str_free(&s->run);
			str_free(&s->uses);
			str_free(&s->shell);
			str_free(&s->working_directory);
			free(s->auto_id);
		}
		free(j->steps);
	}
	free(wf->jobs);
	for (size_t i = 0; i < wf->non; i++)
		str_free(&wf->on[i].event);
	free(wf->on);
	str_free(&wf->name);
	str_free(&wf->run_name);
	str_free(&wf->defaults.shell);
	str_free(&wf->defaults.working_directory);
	free(wf->exprs);
	ynode_free(wf->root);
	free(wf->file);
	free(wf);
}

const struct wf_job *wf_find_job(const struct workflow *wf, const char *id)
{
	for (size_t i = 0; i < wf->njobs; i++)
		if (!strcmp(wf->jobs[i].id.s, id))
			return &wf->jobs[i];
	return NULL;
}

const struct wf_trigger *wf_find_trigger(const struct workflow *wf, const char *event)
{
	for (size_t i = 0; i < wf->non; i++)
		if (wf->on[i].event.s && !strcmp(wf->on[i].event.s, event))
			return &wf->on[i];
	return NULL;
}

const char *wf_step_id(const struct wf_step *st)
{
	return st->id.s ? st->id.s : st->auto_id;
}
