/*
 * expr: `kiln expr [--ctx FILE.json] EXPRESSION` evaluates one expression
 * and prints the value as JSON; `kiln expr --jsonl` reads one
 * {"expr": ..., "ctx": {...}} object per line and writes one
 * {"ok": true, "value": ..., "kind": ...} or {"ok": false, "error": ...}
 * line per input (how the evaluator is differential-tested). NaN and
 * ±Infinity print as GitHub writes them (NaN, Infinity, -Infinity); in
 * --jsonl, which must stay JSON, their value is null (JSON.stringify, as
 * the oracle) and "number" holds that text.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "expr/expr.h"

#include <math.h>

#define MAX_LINE (64u << 20)

static const char *const usage[] = {
	"kiln expr [--ctx FILE.json] [--status S] [--workspace DIR] [--if | --template] EXPRESSION",
	"kiln expr --jsonl  (reads {\"expr\": ..., \"ctx\": {...}} lines on stdin)",
	NULL,
};

static const char *kind_name(const struct ev *v)
{
	static const char *const names[] = { "Null", "Boolean", "Number", "String", "Array",
					     "Object" };
	return names[ev_kind(v)];
}

/* named values of a context object: its keys, NULL-terminated */
static const char **ctx_names(const struct ev *ctx)
{
	size_t n = ctx ? ev_len(ctx) : 0;
	const char **names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = ev_object_key_at(ctx, i);
	return names;
}

/* parse and evaluate with the context's keys as the only named values */
static struct ev *evaluate(const char *src, size_t len, const struct expr_ctx *ctx,
			   struct buf *err)
{
	const char **names = ctx_names(ctx->contexts);
	struct expr_parse_opts o = { names, 0, 0, 0 };
	struct expr *e = expr_parse_opts(src, len, &o, err, NULL);
	free(names);
	if (!e)
		return NULL;
	struct ev *v = expr_eval(e, ctx, err);
	expr_free(e);
	return v;
}

static int jsonl_line(const char *line, size_t len, struct buf *out)
{
	struct buf err = BUF_INIT;
	struct ev *in = ev_from_json(line, len, &err);
	const struct ev *ex = in && ev_kind(in) == EV_OBJECT ? ev_object_get(in, "expr") : NULL;
	const struct ev *cx = in && ev_kind(in) == EV_OBJECT ? ev_object_get(in, "ctx") : NULL;
	struct ev *v = NULL;
	if (!in || !ex || ev_kind(ex) != EV_STRING ||
	    (cx && ev_kind(cx) != EV_OBJECT && ev_kind(cx) != EV_NULL)) {
		struct buf m = BUF_INIT;
		buf_addf(&m, "invalid input line: %s",
			 in ? "expected {\"expr\": STRING, \"ctx\": OBJECT}" : err.buf);
		buf_addstr(out, "{\"ok\":false,\"error\":");
		buf_add_json_str(out, m.buf, m.len);
		buf_addstr(out, "}\n");
		buf_release(&m);
		goto out;
	}
	size_t elen;
	const char *es = ev_get_str(ex, &elen);
	struct expr_ctx ctx = { cx && ev_kind(cx) == EV_OBJECT ? cx : NULL, EXPR_STATUS_SUCCESS,
				NULL, 0, 0 };
	v = evaluate(es, elen, &ctx, &err);
	if (!v) {
		buf_addstr(out, "{\"ok\":false,\"error\":");
		buf_add_json_str(out, err.buf, err.len);
		buf_addstr(out, "}\n");
	} else {
		buf_addstr(out, "{\"ok\":true,\"value\":");
		ev_to_json(v, out, 0);
		buf_addf(out, ",\"kind\":\"%s\"", kind_name(v));
		if (ev_kind(v) == EV_NUMBER && !isfinite(ev_get_number(v))) {
			/* JSON has no NaN: value is null (JSON.stringify), number says which */
			buf_addstr(out, ",\"number\":\"");
			ev_to_json(v, out, EV_JSON_NONFINITE);
			buf_addch(out, '"');
		}
		buf_addstr(out, "}\n");
	}
out:
	ev_unref(v);
	ev_unref(in);
	buf_release(&err);
	return 0;
}

static int run_jsonl(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct buf out = BUF_INIT;
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if ((size_t)n > MAX_LINE)
			buf_addstr(&out, "{\"ok\":false,\"error\":\"input line too long\"}\n");
		else
			jsonl_line(line, (size_t)n, &out);
		if (out.len > 65536) {
			fwrite(out.buf, 1, out.len, stdout);
			buf_reset(&out);
		}
	}
	fwrite(out.buf, 1, out.len, stdout);
	buf_release(&out);
	free(line);
	return fflush(stdout) ? EXIT_INTERNAL : EXIT_OK;
}

/*
 * --bench N: the expressions on stdin (one a line) over --ctx, N rounds
 * of parse+evaluate+free, then N rounds of evaluating pre-parsed ASTs.
 * Prints "<mode> <evaluations> <ns per evaluation>" for bench/expr.sh.
 */
static int run_bench(const struct ev *contexts, int rounds)
{
	struct strvec src = STRVEC_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		while (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n && line[0] != '#')
			strvec_push(&src, line);
	}
	free(line);
	struct expr_ctx ctx = { contexts, EXPR_STATUS_SUCCESS, NULL, 0, 0 };
	const char **names = ctx_names(contexts);
	struct expr_parse_opts o = { names, 0, 0, 0 };
	struct buf err = BUF_INIT;
	struct expr **parsed = xcalloc(src.nr + 1, sizeof(*parsed));
	for (size_t i = 0; i < src.nr; i++) {
		parsed[i] = expr_parse_opts(src.v[i], strlen(src.v[i]), &o, &err, NULL);
		if (!parsed[i]) {
			fprintf(stderr, "kiln: error: %s\n", err.buf);
			return EXIT_USAGE;
		}
	}
	uint64_t t0 = now_ns();
	size_t evals = 0;
	for (int r = 0; r < rounds; r++) {
		for (size_t i = 0; i < src.nr; i++, evals++) {
			struct expr *e = expr_parse_opts(src.v[i], strlen(src.v[i]), &o, &err, NULL);
			ev_unref(expr_eval(e, &ctx, &err));
			expr_free(e);
		}
	}
	uint64_t t1 = now_ns();
	printf("parse+eval %zu %.1f\n", evals, (double)(t1 - t0) / (double)evals);
	evals = 0;
	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < src.nr; i++, evals++)
			ev_unref(expr_eval(parsed[i], &ctx, &err));
	uint64_t t2 = now_ns();
	printf("eval %zu %.1f\n", evals, (double)(t2 - t1) / (double)evals);
	for (size_t i = 0; i < src.nr; i++)
		expr_free(parsed[i]);
	free(parsed);
	free(names);
	strvec_clear(&src);
	buf_release(&err);
	return EXIT_OK;
}

static int parse_status(const char *s, enum expr_status *st)
{
	if (!s || !strcmp(s, "success"))
		*st = EXPR_STATUS_SUCCESS;
	else if (!strcmp(s, "failure"))
		*st = EXPR_STATUS_FAILURE;
	else if (!strcmp(s, "cancelled"))
		*st = EXPR_STATUS_CANCELLED;
	else
		return -1;
	return 0;
}

static int run_bench_with_ctx(const char *file, int rounds)
{
	struct buf text = BUF_INIT, err = BUF_INIT;
	struct ev *contexts = NULL;
	int ret = EXIT_USAGE;
	if (!file || fs_read_input(file, MAX_LINE, &text, &err) < 0) {
		fprintf(stderr, "kiln: error: --bench needs a readable --ctx file%s%s\n",
			err.len ? ": " : "", err.buf);
		goto out;
	}
	contexts = ev_from_json(text.buf, text.len, &err);
	if (!contexts || ev_kind(contexts) != EV_OBJECT) {
		fprintf(stderr, "kiln: error: %s: %s\n", file, contexts ? "expected an object" : err.buf);
		goto out;
	}
	ret = run_bench(contexts, rounds);
out:
	ev_unref(contexts);
	buf_release(&text);
	buf_release(&err);
	return ret;
}

int cmd_expr(int argc, char **argv, struct kiln_ctx *kctx)
{
	(void)kctx;
	const char *ctx_file = NULL, *status = NULL, *workspace = NULL;
	int jsonl = 0, as_if = 0, as_template = 0, bench = 0;
	const struct opt opts[] = {
		{ OPT_STRING, 0, "ctx", &ctx_file, "FILE", "contexts as a JSON object {\"github\": {...}, ...}" },
		{ OPT_BOOL, 0, "jsonl", &jsonl, NULL, "evaluate {\"expr\",\"ctx\"} lines from stdin" },
		{ OPT_STRING, 0, "status", &status, "S", "success|failure|cancelled for the status functions" },
		{ OPT_STRING, 0, "workspace", &workspace, "DIR", "directory hashFiles() reads" },
		{ OPT_BOOL, 0, "if", &as_if, NULL, "evaluate as an if: condition (prints true/false)" },
		{ OPT_BOOL, 0, "template", &as_template, NULL, "interpolate ${{ }} in the text" },
		{ OPT_INT, 0, "bench", &bench, "N", "time N rounds of the expressions on stdin (bench/expr.sh)" },
		OPT_END_MARK,
	};
	int npos = opt_parse(argc, argv, opts, usage);
	if (npos == -2)
		return EXIT_OK;
	if (npos < 0)
		return EXIT_USAGE;
	if (jsonl) {
		if (npos) {
			fprintf(stderr, "kiln: error: --jsonl takes no expression argument\n");
			return EXIT_USAGE;
		}
		return run_jsonl();
	}
	enum expr_status st;
	if (bench && !npos)
		return run_bench_with_ctx(ctx_file, bench);
	if (parse_status(status, &st) < 0) {
		fprintf(stderr, "kiln: error: --status must be success, failure or cancelled, not '%s'\n",
			status);
		return EXIT_USAGE;
	}
	if (npos != 1) {
		opt_usage(stderr, opts, usage);
		return EXIT_USAGE;
	}
	struct buf err = BUF_INIT, text = BUF_INIT;
	struct ev *contexts = NULL, *v = NULL;
	int ret = EXIT_USAGE;
	if (ctx_file) {
		if (fs_read_input(ctx_file, MAX_LINE, &text, &err) < 0) {
			fprintf(stderr, "kiln: error: cannot read '%s': %s\n", ctx_file, err.buf);
			goto out;
		}
		contexts = ev_from_json(text.buf, text.len, &err);
		if (!contexts || ev_kind(contexts) != EV_OBJECT) {
			fprintf(stderr, "kiln: error: %s: %s\n", ctx_file,
				contexts ? "expected a JSON object of contexts" : err.buf);
			goto out;
		}
	}
	struct expr_ctx ctx = { contexts, st, workspace, 0, 0 };
	const char *src = argv[1];
	if (as_if) {
		int r = expr_eval_if(src, &ctx, &err);
		if (r >= 0) {
			puts(r ? "true" : "false");
			ret = EXIT_OK;
			goto out;
		}
	} else if (as_template) {
		v = expr_interpolate(src, strlen(src), &ctx, &err);
	} else {
		v = evaluate(src, strlen(src), &ctx, &err);
	}
	if (!v && err.len) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		goto out;
	}
	if (v) {
		struct buf out = BUF_INIT;
		ev_to_json(v, &out, EV_JSON_PRETTY | EV_JSON_NONFINITE);
		buf_addch(&out, '\n');
		fwrite(out.buf, 1, out.len, stdout);
		buf_release(&out);
		ret = EXIT_OK;
	}
out:
	ev_unref(v);
	ev_unref(contexts);
	buf_release(&err);
	buf_release(&text);
	return ret;
}
