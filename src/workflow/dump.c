/*
 * dump: the loaded model as JSON in the shape of GitHub's workflow parser
 * output (template tokens: {"type":1,"seq":[]}, {"type":2,"map":[]},
 * {"type":3,"expr":"..."}; literals as plain JSON), so `kiln debug
 * workflow --json` compares directly with GitHub's conformance data.
 */
#include "workflow/wf-int.h"

#include <math.h>

static void add_number(struct buf *b, const struct ynode *n)
{
	double d = 0;
	wf__scalar_number(n, &d);
	if (isnan(d))
		buf_addstr(b, "\"NaN\"");
	else if (isinf(d))
		buf_addstr(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else if (d == floor(d) && fabs(d) < 1e15)
		buf_addf(b, "%.0f", d == 0 ? 0.0 : d);
	else
		buf_addf(b, "%.17g", d);
}

static void add_expr(struct buf *b, const char *text)
{
	buf_addstr(b, "{\"type\":3,\"expr\":");
	buf_add_json_str(b, text, strlen(text));
	buf_addch(b, '}');
}

/* an expression that is only a string literal is a literal (GitHub folds
 * `${{ 'it''s' }}` to "it's"); returns 1 when it was one */
static int add_literal(struct buf *b, const char *e)
{
	size_t len = strlen(e);
	if (len < 2 || e[0] != '\'' || e[len - 1] != '\'')
		return 0;
	struct buf s = BUF_INIT;
	for (size_t i = 1; i + 1 < len; i++) {
		if (e[i] == '\'' && e[i + 1] == '\'' && i + 2 < len)
			i++;
		else if (e[i] == '\'') {
			buf_release(&s);
			return 0;
		}
		buf_addch(&s, e[i]);
	}
	buf_add_json_str(b, s.buf, s.len);
	buf_release(&s);
	return 1;
}

/* a node as a template token; expressions only where `exprs` is set */
static void add_token(struct buf *b, const struct ynode *n, int exprs)
{
	if (!n) {
		buf_addstr(b, "null");
		return;
	}
	switch (n->kind) {
	case YNODE_SEQ:
		buf_addstr(b, "{\"type\":1,\"seq\":[");
		for (size_t i = 0; i < n->nr; i++) {
			if (i)
				buf_addch(b, ',');
			add_token(b, n->items[i], exprs);
		}
		buf_addstr(b, "]}");
		return;
	case YNODE_MAP:
		buf_addstr(b, "{\"type\":2,\"map\":[");
		for (size_t i = 0; i < ynode_map_size(n); i++) {
			if (i)
				buf_addch(b, ',');
			const struct ynode *k = ynode_map_key(n, i);
			buf_addstr(b, "{\"Key\":");
			if (exprs && wf__is_insert(k))
				buf_addstr(b, "{\"type\":4,\"directive\":\"insert\"}");
			else
				add_token(b, k, exprs);
			buf_addstr(b, ",\"Value\":");
			add_token(b, ynode_map_val(n, i), exprs);
			buf_addch(b, '}');
		}
		buf_addstr(b, "]}");
		return;
	case YNODE_SCALAR:
		break;
	}
	if (exprs && wf__has_expr(n)) {
		char *e = wf__template_expr(n->str);
		if (!add_literal(b, e))
			add_expr(b, e);
		free(e);
		return;
	}
	switch (wf__scalar_type(n)) {
	case WT_NULL: buf_addstr(b, "null"); return;
	case WT_BOOL: buf_addstr(b, (n->str[0] == 't' || n->str[0] == 'T') ? "true" : "false"); return;
	case WT_NUMBER: add_number(b, n); return;
	case WT_STRING: break;
	}
	buf_add_json_str(b, n->str, n->len);
}

static void key(struct buf *b, const char *k)
{
	buf_addch(b, ',');
	buf_add_json_str(b, k, strlen(k));
	buf_addch(b, ':');
}

static void opt_token(struct buf *b, const char *k, const struct ynode *n, int exprs)
{
	if (!n)
		return;
	key(b, k);
	add_token(b, n, exprs);
}

static void add_if(struct buf *b, const struct wf_str *cond)
{
	char *e = wf__if_expr(cond->s);
	key(b, "if");
	add_expr(b, e);
	free(e);
}

static void add_step(struct buf *b, const struct wf_step *st)
{
	const char *id = wf_step_id(st);
	buf_addstr(b, "{\"id\":");
	buf_add_json_str(b, id, strlen(id));
	add_if(b, &st->if_cond);
	opt_token(b, "name", ynode_get(st->node, "name"), 1);
	opt_token(b, "continue-on-error", st->continue_on_error, 1);
	opt_token(b, "timeout-minutes", st->timeout_minutes, 1);
	opt_token(b, "env", st->env, 1);
	opt_token(b, "working-directory", ynode_get(st->node, "working-directory"), 1);
	opt_token(b, "shell", ynode_get(st->node, "shell"), 0);
	opt_token(b, "run", ynode_get(st->node, "run"), 1);
	opt_token(b, "uses", ynode_get(st->node, "uses"), 0);
	opt_token(b, "with", st->with, 1);
	buf_addch(b, '}');
}

static void add_job(struct buf *b, const struct wf_job *j)
{
	buf_addstr(b, "{\"type\":\"job\",\"id\":");
	buf_add_json_str(b, j->id.s, strlen(j->id.s));
	key(b, "name");
	const struct ynode *name = ynode_get(j->node, "name");
	if (name)
		add_token(b, name, 1);
	else
		buf_add_json_str(b, j->id.s, strlen(j->id.s));
	if (j->nneeds) {
		key(b, "needs");
		buf_addch(b, '[');
		for (size_t i = 0; i < j->nneeds; i++) {
			if (i)
				buf_addch(b, ',');
			buf_add_json_str(b, j->needs[i].s, strlen(j->needs[i].s));
		}
		buf_addch(b, ']');
	}
	add_if(b, &j->if_cond);
	opt_token(b, "strategy", ynode_get(j->node, "strategy"), 1);
	opt_token(b, "runs-on", j->runs_on, 1);
	opt_token(b, "uses", ynode_get(j->node, "uses"), 0);
	opt_token(b, "with", j->with, 1);
	opt_token(b, "secrets", j->secrets, 1);
	opt_token(b, "environment", j->environment, 1);
	opt_token(b, "env", j->env, 1);
	opt_token(b, "outputs", j->outputs, 1);
	opt_token(b, "timeout-minutes", j->timeout_minutes, 1);
	opt_token(b, "continue-on-error", j->continue_on_error, 1);
	opt_token(b, "concurrency", j->concurrency, 1);
	opt_token(b, "container", j->container, 1);
	opt_token(b, "services", j->services, 1);
	if (j->matrix_jobs != 1) {
		key(b, "kiln-matrix-jobs");
		buf_addf(b, "%ld", j->matrix_jobs);
	}
	if (j->steps || ynode_get(j->node, "steps")) {
		key(b, "steps");
		buf_addch(b, '[');
		for (size_t i = 0; i < j->nsteps; i++) {
			if (i)
				buf_addch(b, ',');
			add_step(b, &j->steps[i]);
		}
		buf_addch(b, ']');
	}
	buf_addch(b, '}');
}

void wf_dump_json(const struct workflow *wf, struct buf *b)
{
	buf_addstr(b, "{\"events\":{");
	for (size_t i = 0; i < wf->non; i++) {
		if (i)
			buf_addch(b, ',');
		buf_add_json_str(b, wf->on[i].event.s, strlen(wf->on[i].event.s));
		buf_addch(b, ':');
		add_token(b, wf->on[i].config, 0);
	}
	buf_addch(b, '}');
	opt_token(b, "env", wf->env, 1);
	opt_token(b, "concurrency", wf->concurrency, 1);
	opt_token(b, "permissions", wf->permissions, 0);
	key(b, "jobs");
	buf_addch(b, '[');
	for (size_t i = 0; i < wf->njobs; i++) {
		if (i)
			buf_addch(b, ',');
		add_job(b, &wf->jobs[i]);
	}
	buf_addstr(b, "],\"expressions\":[");
	for (size_t i = 0; i < wf->nexprs; i++) {
		const struct wf_expr *x = &wf->exprs[i];
		if (i)
			buf_addch(b, ',');
		buf_addf(b, "{\"line\":%d,\"col\":%d,\"path\":", x->line, x->col);
		buf_add_json_str(b, x->path, strlen(x->path));
		buf_addstr(b, ",\"expr\":");
		buf_add_json_str(b, x->node->str + x->off, x->len);
		buf_addf(b, ",\"bare_if\":%s}", x->bare_if ? "true" : "false");
	}
	buf_addstr(b, "]}\n");
}
