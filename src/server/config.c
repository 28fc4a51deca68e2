/* config: kiln serve's YAML configuration file (see config.h). */
#include "base/kiln.h"
#include "deploy/app.h"
#include "server/config.h"
#include "yaml/ynode.h"

#include <errno.h>

void serve_config_release(struct serve_config *c)
{
	struct serve_gitops *g = &c->gitops;
	free(c->listen);
	free(c->data);
	c->listen = c->data = NULL;
	free(g->repo);
	free(g->branch);
	free(g->path);
	free(g->env);
	free(g->interval);
	free(g->author);
	free(g->secret_file);
	free(g->state);
	memset(g, 0, sizeof(*g));
}

static int get_int(const char *file, const struct ynode *v, const char *key, int max, int *out,
		   struct diags *d)
{
	char *end;
	long n = v->kind == YNODE_SCALAR ? strtol(v->str, &end, 10) : 0;
	if (v->kind != YNODE_SCALAR || !*v->str || *end || n < 1 || n > max)
		return diag_err(d, file, v->line, v->col, "'%s' must be a number from 1 to %d", key, max);
	*out = (int)n;
	return 0;
}

static int get_str(const char *file, const struct ynode *v, const char *key, char **out,
		   struct diags *d)
{
	if (v->kind != YNODE_SCALAR || !*v->str)
		return diag_err(d, file, v->line, v->col, "'%s' must be a non-empty string", key);
	free(*out);
	*out = xstrdup(v->str);
	return 0;
}

/* isolate: true/on, false/off, no-network */
static int get_isolate(const char *file, const struct ynode *v, const char **out,
		       struct diags *d)
{
	const char *s = v->kind == YNODE_SCALAR ? v->str : "";
	if (!strcmp(s, "true") || !strcmp(s, "on"))
		*out = "on";
	else if (!strcmp(s, "false") || !strcmp(s, "off"))
		*out = "off";
	else if (!strcmp(s, "no-network"))
		*out = "no-network";
	else
		return diag_err(d, file, v->line, v->col,
				"'isolate' must be on, off or no-network");
	return 0;
}

static int unknown(const char *file, const struct ynode *k, const char *const *keys, size_t n,
		   struct diags *d)
{
	const char *hint = did_you_mean(k->str, keys, n);
	if (hint)
		return diag_err(d, file, k->line, k->col, "unknown key '%s' (did you mean '%s'?)",
				k->str, hint);
	return diag_err(d, file, k->line, k->col, "unknown key '%s'", k->str);
}

static int load_limits(const char *file, const struct ynode *m, struct serve_config *c,
		       struct diags *d)
{
	static const char *const keys[] = { "max_body_kb", "request_timeout" };
	if (m->kind != YNODE_MAP)
		return diag_err(d, file, m->line, m->col, "'limits' must be a mapping");
	int r = 0;
	for (size_t i = 0; i < ynode_map_size(m); i++) {
		const struct ynode *k = ynode_map_key(m, i), *v = ynode_map_val(m, i);
		if (!strcmp(k->str, "max_body_kb"))
			r |= get_int(file, v, k->str, 1024 * 1024, &c->max_body_kb, d);
		else if (!strcmp(k->str, "request_timeout"))
			r |= get_int(file, v, k->str, 3600, &c->request_timeout, d);
		else
			r |= unknown(file, k, keys, ARRAY_SIZE(keys), d);
	}
	return r ? -1 : 0;
}

static int load_gitops(const char *file, const struct ynode *m, struct serve_gitops *g,
		       struct diags *d)
{
	static const char *const keys[] = { "repo", "branch", "path", "env", "interval",
					    "webhook_secret_file", "author", "state" };
	char **dst[] = { &g->repo, &g->branch, &g->path, &g->env, &g->interval, &g->secret_file,
			 &g->author, &g->state };
	if (m->kind != YNODE_MAP)
		return diag_err(d, file, m->line, m->col, "'gitops' must be a mapping");
	int r = 0;
	for (size_t i = 0; i < ynode_map_size(m); i++) {
		const struct ynode *k = ynode_map_key(m, i), *v = ynode_map_val(m, i);
		size_t j = 0;
		while (j < ARRAY_SIZE(keys) && strcmp(k->str, keys[j]))
			j++;
		if (j == ARRAY_SIZE(keys)) {
			r |= unknown(file, k, keys, ARRAY_SIZE(keys), d);
			continue;
		}
		if (get_str(file, v, k->str, dst[j], d)) {
			r = -1;
			continue;
		}
		if (dst[j] == &g->interval && parse_duration_ms(g->interval) < 100)
			r |= diag_err(d, file, v->line, v->col,
				      "'interval' must be a duration of 100ms or more (like 30s, 3m)");
	}
	if (!r && !g->repo)
		r = diag_err(d, file, m->line, m->col, "'gitops' needs 'repo' (the config repository)");
	return r ? -1 : 0;
}

int serve_config_load(const char *path, struct serve_config *c, struct diags *d)
{
	static const char *const keys[] = { "listen", "data", "jobs", "limits", "isolate", "gitops" };
	struct buf text = BUF_INIT;
	struct ynode *root = NULL;
	int r = -1;
	if (buf_read_file(&text, path) < 0) {
		diag_err(d, path, 0, 0, "cannot read the configuration: %s", strerror(errno));
		goto out;
	}
	if (yaml_load(path, text.buf, text.len, &root, d) < 0)
		goto out;
	if (!root) {
		r = 0; /* an empty file: all defaults */
		goto out;
	}
	if (root->kind != YNODE_MAP) {
		diag_err(d, path, root->line, root->col, "the configuration must be a mapping");
		goto out;
	}
	r = 0;
	for (size_t i = 0; i < ynode_map_size(root); i++) {
		const struct ynode *k = ynode_map_key(root, i), *v = ynode_map_val(root, i);
		if (!strcmp(k->str, "listen"))
			r |= get_str(path, v, k->str, &c->listen, d);
		else if (!strcmp(k->str, "data"))
			r |= get_str(path, v, k->str, &c->data, d);
		else if (!strcmp(k->str, "jobs"))
			r |= get_int(path, v, k->str, 1024, &c->jobs, d);
		else if (!strcmp(k->str, "limits"))
			r |= load_limits(path, v, c, d);
		else if (!strcmp(k->str, "isolate"))
			r |= get_isolate(path, v, &c->isolate, d);
		else if (!strcmp(k->str, "gitops"))
			r |= load_gitops(path, v, &c->gitops, d);
		else
			r |= unknown(path, k, keys, ARRAY_SIZE(keys), d);
	}
	r = r ? -1 : 0;
out:
	ynode_free(root);
	buf_release(&text);
	return r;
}
