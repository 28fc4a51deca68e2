/* nodeaction: JavaScript actions' `runs:` and environment (see .h). */
#include "base/kiln.h"
#include "engine/nodeaction.h"

#include <ctype.h>

int nodeaction_is_node(const char *using)
{
	static const char *const runtimes[] = { "node12", "node16", "node20", "node24" };
	for (size_t i = 0; i < ARRAY_SIZE(runtimes); i++)
		if (!strcmp(using, runtimes[i]))
			return 1;
	return 0;
}

/* a scalar string of runs, NULL when absent; -1 when it is not a string */
static int runs_str(const char *file, const struct ynode *runs, const char *key,
		    const char **out, struct diags *d)
{
	const struct ynode *n = ynode_get(runs, key);
	*out = NULL;
	if (!n || ynode_is_null(n))
		return 0;
	if (n->kind != YNODE_SCALAR)
		return diag_err(d, file, n->line, n->col, "'runs.%s' must be a string", key);
	if (*n->str)
		*out = n->str;
	return 0;
}

int nodeaction_load(const char *file, const struct ynode *runs, struct node_scripts *out,
		    struct diags *d)
{
	memset(out, 0, sizeof(*out));
	if (runs_str(file, runs, "using", &out->using, d) < 0 ||
	    runs_str(file, runs, "pre", &out->pre, d) < 0 ||
	    runs_str(file, runs, "main", &out->main, d) < 0 ||
	    runs_str(file, runs, "post", &out->post, d) < 0 ||
	    runs_str(file, runs, "pre-if", &out->pre_if, d) < 0 ||
	    runs_str(file, runs, "post-if", &out->post_if, d) < 0)
		return -1;
	if (!out->main)
		return diag_err(d, file, runs->line, runs->col,
				"a JavaScript action needs 'runs.main' (the script to run)");
	return 0;
}

int nodeaction_load_docker(const char *file, const struct ynode *runs, struct node_scripts *out,
			   struct diags *d)
{
	memset(out, 0, sizeof(*out));
	if (runs_str(file, runs, "using", &out->using, d) < 0 ||
	    runs_str(file, runs, "pre-entrypoint", &out->pre, d) < 0 ||
	    runs_str(file, runs, "entrypoint", &out->main, d) < 0 ||
	    runs_str(file, runs, "post-entrypoint", &out->post, d) < 0 ||
	    runs_str(file, runs, "pre-if", &out->pre_if, d) < 0 ||
	    runs_str(file, runs, "post-if", &out->post_if, d) < 0)
		return -1;
	return 0;
}

void nodeaction_input_name(const char *name, struct buf *out)
{
	buf_addstr(out, "INPUT_");
	for (const char *p = name; *p; p++)
		buf_addch(out, *p == ' ' ? '_' : (char)toupper((unsigned char)*p));
}

static void set_all(const struct ev *o, int inputs, struct strvec *env)
{
	for (size_t i = 0; o && i < ev_len(o); i++) {
		struct buf name = BUF_INIT, val = BUF_INIT;
		if (inputs)
			nodeaction_input_name(ev_object_key_at(o, i), &name);
		else
			buf_addf(&name, "STATE_%s", ev_object_key_at(o, i));
		ev_to_string(ev_object_val_at(o, i), &val);
		strvec_setenv(env, name.buf, val.buf);
		buf_release(&name);
		buf_release(&val);
	}
}

void nodeaction_env(const struct ev *inputs, const struct ev *state, struct strvec *env)
{
	set_all(inputs, 1, env);
	set_all(state, 0, env); /* GitHub: the state is applied last */
}
