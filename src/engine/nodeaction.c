/* nodeaction: JavaScript actions rewritten as composite actions (see .h). */
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

static void json_key(struct buf *b, const char *s)
{
	buf_add_json_str(b, s, strlen(s));
	buf_addch(b, ':');
}

/* ${{ <ctx>['name'] }} with the name as an expression string literal */
static void index_expr(struct buf *b, const char *ctx, const char *name)
{
	struct buf e = BUF_INIT;
	buf_addf(&e, "${{ %s['", ctx);
	for (const char *p = name; *p; p++) {
		if (*p == '\'')
			buf_addch(&e, '\'');
		buf_addch(&e, *p);
	}
	buf_addstr(&e, "'] }}");
	buf_add_json_str(b, e.buf, e.len);
	buf_release(&e);
}

/* GitHub's runner: INPUT_ + name with spaces as '_', upper-cased */
static void input_env(struct buf *b, const struct ynode *inputs)
{
	buf_addch(b, '{');
	for (size_t i = 0; inputs && inputs->kind == YNODE_MAP && i < ynode_map_size(inputs); i++) {
		const struct ynode *k = ynode_map_key(inputs, i);
		if (k->kind != YNODE_SCALAR)
			continue;
		struct buf name = BUF_INIT;
		buf_addstr(&name, "INPUT_");
		for (const char *p = k->str; *p; p++)
			buf_addch(&name, *p == ' ' ? '_' : (char)toupper((unsigned char)*p));
		json_key(b, name.buf);
		index_expr(b, "inputs", k->str);
		buf_addch(b, ',');
		buf_release(&name);
	}
	buf_addstr(b, "\"KILN_NODE_SCRIPT\":");
}

static void node_step(struct buf *b, const char *id, const char *script, const struct ynode *inputs)
{
	buf_addch(b, '{');
	json_key(b, "id");
	buf_add_json_str(b, id, strlen(id));
	buf_addstr(b, ",\"shell\":\"bash --noprofile --norc -e {0}\",\"run\":");
	/* the path travels in the environment, never through the script text */
	buf_addstr(b, "\"exec node \\\"$GITHUB_ACTION_PATH/$KILN_NODE_SCRIPT\\\"\",\"env\":");
	input_env(b, inputs);
	buf_add_json_str(b, script, strlen(script));
	buf_addstr(b, "}}");
}

static const char *script_of(const struct ynode *runs, const char *key)
{
	const struct ynode *n = ynode_get(runs, key);
	return n && n->kind == YNODE_SCALAR && !ynode_is_null(n) ? n->str : NULL;
}

int nodeaction_synth(const char *file, const struct ynode *runs, const struct ynode *inputs,
		     const struct ynode *outputs, struct ynode **out, struct diags *d)
{
	const char *main_js = script_of(runs, "main");
	const char *pre_js = script_of(runs, "pre");
	*out = NULL;
	if (!main_js)
		return diag_err(d, file, runs->line, runs->col,
				"a JavaScript action needs 'runs.main' (the script to run)");
	struct buf b = BUF_INIT;
	buf_addstr(&b, "{\"runs\":{\"steps\":[");
	if (pre_js) {
		node_step(&b, "kiln-pre", pre_js, inputs);
		buf_addch(&b, ',');
	}
	node_step(&b, "kiln-main", main_js, inputs);
	buf_addstr(&b, "]},\"outputs\":{");
	for (size_t i = 0; outputs && outputs->kind == YNODE_MAP && i < ynode_map_size(outputs); i++) {
		const struct ynode *k = ynode_map_key(outputs, i);
		if (k->kind != YNODE_SCALAR)
			continue;
		if (i)
			buf_addch(&b, ',');
		json_key(&b, k->str);
		buf_addstr(&b, "{\"value\":");
		struct buf e = BUF_INIT;
		buf_addstr(&e, "steps.kiln-main.outputs");
		index_expr(&b, e.buf, k->str);
		buf_release(&e);
		buf_addch(&b, '}');
	}
	buf_addstr(&b, "}}");
	int r = yaml_load(file, b.buf, b.len, out, d);
	buf_release(&b);
	return r;
}
