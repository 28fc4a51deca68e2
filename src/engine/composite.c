/*
 * composite: loading local composite actions (see composite.h). The steps
 * are converted into the workflow model's struct wf_step so the executor
 * runs them with the same code as a job's steps. JavaScript actions keep
 * their scripts (engine/nodeaction); Docker actions are refused with a
 * message saying so.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/composite.h"
#include "engine/nodeaction.h"

#include <unistd.h>

static const char *const step_keys[] = {
	"id", "name", "if", "run", "uses", "shell", "working-directory", "env", "with",
	"continue-on-error", "timeout-minutes",
};

static char *scalar_dup(const struct ynode *n)
{
	if (!n || n->kind != YNODE_SCALAR || ynode_is_null(n))
		return NULL;
	return xstrdup(n->str);
}

static void set_str(struct wf_str *s, const struct ynode *n)
{
	s->s = scalar_dup(n);
	if (s->s) {
		s->line = n->line;
		s->col = n->col;
	}
}

static int load_step(struct composite *c, size_t i, const struct ynode *n, struct diags *d)
{
	struct wf_step *st = &c->steps[i];
	st->index = i;
	st->node = n;
	if (n->kind != YNODE_MAP)
		return diag_err(d, c->file, n->line, n->col, "a step must be a mapping");
	for (size_t k = 0; k < ynode_map_size(n); k++) {
		const struct ynode *key = ynode_map_key(n, k);
		size_t j;
		for (j = 0; j < ARRAY_SIZE(step_keys); j++)
			if (key->str && !strcmp(key->str, step_keys[j]))
				break;
		if (j == ARRAY_SIZE(step_keys)) {
			const char *hint = did_you_mean(key->str ? key->str : "", step_keys,
							ARRAY_SIZE(step_keys));
			if (hint)
				return diag_err(d, c->file, key->line, key->col,
						"unknown key '%s' in a composite step (did you mean '%s'?)",
						key->str, hint);
			return diag_err(d, c->file, key->line, key->col,
					"unknown key '%s' in a composite step", key->str);
		}
	}
	set_str(&st->id, ynode_get(n, "id"));
	set_str(&st->name, ynode_get(n, "name"));
	set_str(&st->if_cond, ynode_get(n, "if"));
	set_str(&st->run, ynode_get(n, "run"));
	set_str(&st->uses, ynode_get(n, "uses"));
	set_str(&st->shell, ynode_get(n, "shell"));
	set_str(&st->working_directory, ynode_get(n, "working-directory"));
	st->env = ynode_get(n, "env");
	st->with = ynode_get(n, "with");
	st->continue_on_error = ynode_get(n, "continue-on-error");
	st->timeout_minutes = ynode_get(n, "timeout-minutes");
	if (!!st->run.s == !!st->uses.s)
		return diag_err(d, c->file, n->line, n->col,
				"a composite step needs exactly one of 'run' or 'uses'");
	if (st->run.s && !st->shell.s)
		return diag_err(d, c->file, n->line, n->col,
				"required property is missing: shell (a composite 'run' step must name its shell)");
	return 0;
}

static int load_runs(struct composite *c, struct diags *d)
{
	const struct ynode *runs = ynode_get(c->root, "runs");
	if (!runs || runs->kind != YNODE_MAP)
		return diag_err(d, c->file, c->root->line, c->root->col,
				"action has no 'runs' mapping");
	const struct ynode *using = ynode_get(runs, "using");
	if (using && using->kind == YNODE_SCALAR && nodeaction_is_node(using->str)) {
		if (nodeaction_load(c->file, runs, &c->js, d) < 0)
			return -1;
		c->node = 1;
		return 0;
	}
	if (!using || using->kind != YNODE_SCALAR || strcmp(using->str, "composite")) {
		const struct ynode *at = using ? using : runs;
		if (using && using->kind == YNODE_SCALAR && !strcmp(using->str, "docker")) {
			c->docker = 1; /* run by engine/exec_docker.c */
			return nodeaction_load_docker(c->file, runs, &c->js, d);
		}
		return diag_err(d, c->file, at->line, at->col,
				"kiln runs composite and JavaScript (node12..node24) actions; "
				"runs.using is '%s'", using && using->str ? using->str : "");
	}
	const struct ynode *steps = ynode_get(runs, "steps");
	if (!steps || steps->kind != YNODE_SEQ)
		return diag_err(d, c->file, runs->line, runs->col,
				"a composite action needs 'runs.steps' (a sequence)");
	c->nsteps = steps->nr;
	c->steps = xcalloc(steps->nr ? steps->nr : 1, sizeof(*c->steps));
	int r = 0;
	for (size_t i = 0; i < steps->nr; i++)
		if (load_step(c, i, steps->items[i], d) < 0)
			r = -1;
	return r;
}

int composite_load(const char *dir, struct composite **out, struct diags *d)
{
	static const char *const names[] = { "action.yml", "action.yaml" };
	struct composite *c = xcalloc(1, sizeof(*c));
	struct buf data = BUF_INIT;
	int r = -1;

	*out = NULL;
	c->dir = xstrdup(dir);
	for (size_t i = 0; i < ARRAY_SIZE(names) && !c->file; i++) {
		char *f = xstrfmt("%s/%s", dir, names[i]);
		if (access(f, F_OK) == 0)
			c->file = f;
		else
			free(f);
	}
	/* a directory with only a Dockerfile is a Docker action of that
	 * image (GitHub's runner) */
	static const char *const dockerfiles[] = { "Dockerfile", "dockerfile" };
	for (size_t i = 0; i < ARRAY_SIZE(dockerfiles) && !c->file; i++) {
		char *f = xstrfmt("%s/%s", dir, dockerfiles[i]);
		if (access(f, F_OK) == 0) {
			c->file = f;
			buf_addf(&data, "runs:\n  using: docker\n  image: %s\n", dockerfiles[i]);
		} else {
			free(f);
		}
	}
	if (!c->file) {
		diag_err(d, dir, 0, 0,
			 "can't find 'action.yml', 'action.yaml' or 'Dockerfile' under '%s'", dir);
		goto out;
	}
	struct buf why = BUF_INIT;
	if (!data.len && fs_read_input(c->file, FS_INPUT_MAX, &data, &why) < 0) {
		diag_err(d, c->file, 0, 0, "cannot read action: %s", why.buf);
		buf_release(&why);
		goto out;
	}
	if (yaml_load(c->file, data.buf, data.len, &c->root, d) < 0)
		goto out;
	if (!c->root || c->root->kind != YNODE_MAP) {
		diag_err(d, c->file, 1, 1, "an action must be a mapping");
		goto out;
	}
	c->inputs = ynode_get(c->root, "inputs");
	c->outputs = ynode_get(c->root, "outputs");
	if (c->inputs && c->inputs->kind != YNODE_MAP && !ynode_is_null(c->inputs)) {
		diag_err(d, c->file, c->inputs->line, c->inputs->col, "'inputs' must be a mapping");
		goto out;
	}
	if (c->outputs && c->outputs->kind != YNODE_MAP && !ynode_is_null(c->outputs)) {
		diag_err(d, c->file, c->outputs->line, c->outputs->col, "'outputs' must be a mapping");
		goto out;
	}
	if (load_runs(c, d) < 0)
		goto out;
	r = 0;
	*out = c;
out:
	buf_release(&data);
	if (r < 0)
		composite_free(c);
	return r;
}

void composite_free(struct composite *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nsteps; i++) {
		struct wf_step *st = &c->steps[i];
		free(st->id.s);
		free(st->name.s);
		free(st->if_cond.s);
		free(st->run.s);
		free(st->uses.s);
		free(st->shell.s);
		free(st->working_directory.s);
	}
	free(c->steps);
	ynode_free(c->root);
	free(c->file);
	free(c->dir);
	free(c);
}
