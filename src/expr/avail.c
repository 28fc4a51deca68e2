/*
 * avail: which contexts and special functions an expression may use at
 * each workflow key (GitHub docs, "Contexts > Context availability").
 * Keys are in the docs' notation: "jobs.<job_id>.steps.run". A key that is
 * not in the table inherits from its nearest listed ancestor
 * ("jobs.<job_id>.steps.with.args" -> "jobs.<job_id>.steps.with").
 */
#include "base/kiln.h"
#include "expr/expr.h"

enum {
	G = EXPR_CTX_GITHUB, E = EXPR_CTX_ENV, V = EXPR_CTX_VARS, J = EXPR_CTX_JOB,
	JOBS = EXPR_CTX_JOBS, ST = EXPR_CTX_STEPS, R = EXPR_CTX_RUNNER, SE = EXPR_CTX_SECRETS,
	S = EXPR_CTX_STRATEGY, M = EXPR_CTX_MATRIX, N = EXPR_CTX_NEEDS, I = EXPR_CTX_INPUTS,
	FS = EXPR_FN_STATUS, FH = EXPR_FN_HASHFILES,
	/* the common sets */
	JOBLVL = G | N | S | M | V | I,
	STEPLVL = G | N | S | M | J | R | E | V | SE | ST | I,
};

static const struct expr_avail table[] = {
	{ "run-name", G | I | V, 0 },
	{ "concurrency", G | I | V, 0 },
	{ "env", G | SE | I | V, 0 },
	{ "on.workflow_call.inputs.<inputs_id>.default", G | I | V, 0 },
	{ "on.workflow_call.outputs.<output_id>.value", G | JOBS | V | I, 0 },
	{ "jobs.<job_id>.concurrency", JOBLVL, 0 },
	{ "jobs.<job_id>.container", JOBLVL, 0 },
	{ "jobs.<job_id>.container.credentials", JOBLVL | E | SE, 0 },
	{ "jobs.<job_id>.container.env", STEPLVL & ~ST, 0 },
	{ "jobs.<job_id>.container.image", JOBLVL, 0 },
	{ "jobs.<job_id>.continue-on-error", JOBLVL, 0 },
	{ "jobs.<job_id>.defaults.run", JOBLVL | E, 0 },
	{ "jobs.<job_id>.env", JOBLVL | SE, 0 },
	{ "jobs.<job_id>.environment", JOBLVL, 0 },
	{ "jobs.<job_id>.environment.url", (STEPLVL & ~SE), 0 },
	{ "jobs.<job_id>.if", G | N | V | I, FS },
	{ "jobs.<job_id>.name", JOBLVL, 0 },
	{ "jobs.<job_id>.outputs", STEPLVL, 0 },
	{ "jobs.<job_id>.runs-on", JOBLVL, 0 },
	{ "jobs.<job_id>.secrets", JOBLVL | SE, 0 },
	{ "jobs.<job_id>.services", JOBLVL, 0 },
	{ "jobs.<job_id>.services.<service_id>.credentials", JOBLVL | E | SE, 0 },
	{ "jobs.<job_id>.services.<service_id>.env", STEPLVL & ~ST, 0 },
	{ "jobs.<job_id>.snapshot", JOBLVL, 0 },
	{ "jobs.<job_id>.steps.continue-on-error", STEPLVL, FH },
	{ "jobs.<job_id>.steps.env", STEPLVL, FH },
	{ "jobs.<job_id>.steps.if", STEPLVL & ~SE, FS | FH },
	{ "jobs.<job_id>.steps.name", STEPLVL, FH },
	{ "jobs.<job_id>.steps.run", STEPLVL, FH },
	{ "jobs.<job_id>.steps.timeout-minutes", STEPLVL, FH },
	{ "jobs.<job_id>.steps.with", STEPLVL, FH },
	{ "jobs.<job_id>.steps.working-directory", STEPLVL, FH },
	{ "jobs.<job_id>.strategy", G | N | V | I, 0 },
	{ "jobs.<job_id>.timeout-minutes", JOBLVL, 0 },
	{ "jobs.<job_id>.cancel-timeout-minutes", JOBLVL, 0 },
	{ "jobs.<job_id>.with", JOBLVL, 0 },
};

const struct expr_avail *expr_avail_lookup(const char *path)
{
	size_t len = strlen(path);
	for (;;) {
		for (size_t i = 0; i < ARRAY_SIZE(table); i++)
			if (strlen(table[i].path) == len && !strncmp(table[i].path, path, len))
				return &table[i];
		/* drop the last component, and any <placeholder> before it */
		while (len && path[len - 1] != '.')
			len--;
		if (!len)
			return NULL;
		len--;
	}
}

void expr_avail_names(unsigned ctx, struct buf *out)
{
	static const char *const names[] = { "github", "env", "vars", "job", "jobs", "steps",
					     "runner", "secrets", "strategy", "matrix", "needs",
					     "inputs" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(ctx & (1u << i)))
			continue;
		if (out->len)
			buf_addstr(out, ", ");
		buf_addstr(out, names[i]);
	}
}

void expr_avail_opts(const struct expr_avail *a, struct expr_parse_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->allowed = a->ctx;
	o->allowed_funcs = a->funcs;
	o->no_extensions = a->funcs == 0;
}

int expr_avail_under(const char *path, struct expr_avail *out)
{
	const struct expr_avail *a = expr_avail_lookup(path);
	if (!a)
		return -1;
	*out = *a;
	out->path = path;
	size_t len = strlen(path);
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		if (!strncmp(table[i].path, path, len) && table[i].path[len] == '.') {
			out->ctx |= table[i].ctx;
			out->funcs |= table[i].funcs;
		}
	}
	return 0;
}
