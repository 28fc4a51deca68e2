/*
 * unit tests for src/workflow/trigger: GitHub's trigger rules as a table
 * (on: YAML, event, expected decision, words of the reason), invalid
 * filters, and workflow_dispatch input typing.
 *
 * The workflow model is built from the YAML's `on:` directly (not through
 * the loader) so these tests pin the trigger rules alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "workflow/trigger.h"

/* a workflow holding only `on:` */
static struct workflow *wf_from_yaml(const char *yaml)
{
	struct workflow *wf = xcalloc(1, sizeof(*wf));
	struct diags d = DIAGS_INIT;
	wf->file = xstrdup("ci.yml");
	if (yaml_load("ci.yml", yaml, strlen(yaml), &wf->root, &d) < 0) {
		diags_print(&d, stderr);
		fail_msg("bad yaml in test");
	}
	diags_release(&d);
	const struct ynode *on = ynode_get(wf->root, "on");
	assert_non_null(on);
	size_t alloc = 0;
	if (on->kind == YNODE_SCALAR) {
		ALLOC_GROW(wf->on, 1, alloc);
		wf->on[0].event.s = xstrdup(on->str);
		wf->on[0].event.line = on->line;
		wf->on[0].event.col = on->col;
		wf->on[0].config = NULL;
		wf->non = 1;
	} else if (on->kind == YNODE_SEQ) {
		for (size_t i = 0; i < on->nr; i++) {
			ALLOC_GROW(wf->on, wf->non + 1, alloc);
			wf->on[wf->non].event.s = xstrdup(on->items[i]->str);
			wf->on[wf->non].event.line = on->items[i]->line;
			wf->on[wf->non].event.col = on->items[i]->col;
			wf->on[wf->non++].config = NULL;
		}
	} else {
		for (size_t i = 0; i < ynode_map_size(on); i++) {
			ALLOC_GROW(wf->on, wf->non + 1, alloc);
			struct wf_trigger *t = &wf->on[wf->non++];
			t->event.s = xstrdup(ynode_map_key(on, i)->str);
			t->event.line = ynode_map_key(on, i)->line;
			t->event.col = ynode_map_key(on, i)->col;
			const struct ynode *v = ynode_map_val(on, i);
			t->config = ynode_is_null(v) ? NULL : v;
		}
	}
	return wf;
}

static void wf_done(struct workflow *wf)
{
	for (size_t i = 0; i < wf->non; i++)
		free(wf->on[i].event.s);
	free(wf->on);
	ynode_free(wf->root);
	free(wf->file);
	free(wf);
}

struct tcase {
	const char *on;      /* YAML */
	const char *event;
	const char *ref;
	const char *files;   /* comma-separated changed files, NULL = unknown, "" = none */
	const char *action;
	int want;
	const char *reason;  /* substring of the reason */
};

#define PUSH_MAIN "on:\n  push:\n    branches: [main, 'releases/**']\n"
#define TAGS_ONLY "on:\n  push:\n    tags: ['v[0-9]+.[0-9]+.[0-9]+']\n"
#define BOTH "on:\n  push:\n    branches: [main]\n    tags: ['v*']\n"
#define MONO "on:\n  push:\n    paths: ['services/api/**', '!services/api/**.md']\n"

static const struct tcase cases[] = {
	/* no filters: every push, branch or tag */
	{ "on: push\n", "push", "refs/heads/dev", NULL, NULL, 1, "push to branch 'dev'" },
	{ "on: [push, pull_request]\n", "push", "refs/tags/v1", NULL, NULL, 1, "tag 'v1'" },
	{ "on: push\n", "pull_request", "main", NULL, NULL, 0, "not triggered by 'pull_request' (on: push)" },
	{ "on:\n  push:\n", "push", "refs/heads/x", NULL, NULL, 1, "branch 'x'" },
	/* branches */
	{ PUSH_MAIN, "push", "refs/heads/main", NULL, NULL, 1, "matches branches pattern 'main'" },
	{ PUSH_MAIN, "push", "refs/heads/releases/1.0/fix", NULL, NULL, 1, "'releases/**'" },
	{ PUSH_MAIN, "push", "refs/heads/dev", NULL, NULL, 0, "branch 'dev' matches none of branches: 'main', 'releases/**'" },
	/* only branch filters: a tag push does not run */
	{ PUSH_MAIN, "push", "refs/tags/v1.2.3", NULL, NULL, 0, "push to tag 'v1.2.3': only branch filters are set" },
	/* only tag filters: a branch push does not run */
	{ TAGS_ONLY, "push", "refs/tags/v1.2.3", NULL, NULL, 1, "tag 'v1.2.3' matches tags pattern" },
	{ TAGS_ONLY, "push", "refs/tags/v1.2", NULL, NULL, 0, "tag 'v1.2' matches none of tags" },
	{ TAGS_ONLY, "push", "refs/heads/main", NULL, NULL, 0, "only tag filters are set" },
	/* both: either kind, each by its filter */
	{ BOTH, "push", "refs/heads/main", NULL, NULL, 1, "branch 'main'" },
	{ BOTH, "push", "refs/tags/v9", NULL, NULL, 1, "tag 'v9'" },
	{ BOTH, "push", "refs/tags/x9", NULL, NULL, 0, "tag 'x9' matches none of tags" },
	{ BOTH, "push", "refs/heads/dev", NULL, NULL, 0, "branch 'dev' matches none" },
	/* negation: the last matching pattern decides */
	{ "on:\n  push:\n    branches: ['releases/**', '!releases/**-alpha']\n", "push",
	  "refs/heads/releases/2-alpha", NULL, NULL, 0, "excluded by branches pattern '!releases/**-alpha'" },
	{ "on:\n  push:\n    branches: ['releases/**', '!releases/**-alpha']\n", "push",
	  "refs/heads/releases/2", NULL, NULL, 1, "matches" },
	/* branches-ignore / tags-ignore */
	{ "on:\n  push:\n    branches-ignore: ['mona/octocat', 'releases/**-alpha']\n", "push",
	  "refs/heads/releases/3-alpha", NULL, NULL, 0, "ignored by branches-ignore pattern 'releases/**-alpha'" },
	{ "on:\n  push:\n    branches-ignore: ['mona/octocat']\n", "push", "refs/heads/main", NULL,
	  NULL, 1, "branch 'main' is not in branches-ignore" },
	{ "on:\n  push:\n    branches-ignore: ['mona/octocat']\n", "push", "refs/tags/v1", NULL,
	  NULL, 0, "only branch filters" },
	{ "on:\n  push:\n    tags-ignore: ['v1.*']\n", "push", "refs/tags/v1.1", NULL, NULL, 0,
	  "ignored by tags-ignore pattern 'v1.*'" },
	{ "on:\n  push:\n    tags-ignore: ['v1.*']\n", "push", "refs/tags/v2.0", NULL, NULL, 1, "not in tags-ignore" },
	/* paths */
	{ MONO, "push", "refs/heads/main", "services/api/main.go,README.md", NULL, 1,
	  "changed file 'services/api/main.go' matches paths pattern 'services/api/**'" },
	{ MONO, "push", "refs/heads/main", "services/web/app.js", NULL, 0,
	  "none of the 1 changed file matches paths" },
	{ MONO, "push", "refs/heads/main", "services/api/README.md", NULL, 0, "none of the 1 changed" },
	{ MONO, "push", "refs/heads/main", "", NULL, 0, "no files changed" },
	{ MONO, "push", "refs/heads/main", NULL, NULL, 1, "changed files unknown" },
	/* paths are not evaluated for tag pushes */
	{ MONO, "push", "refs/tags/v1", "docs/x.md", NULL, 1, "not evaluated for tags" },
	/* branches AND paths must both be satisfied */
	{ "on:\n  push:\n    branches: [main]\n    paths: ['src/**']\n", "push", "refs/heads/main",
	  "docs/a.md", NULL, 0, "none of the 1 changed file matches paths" },
	{ "on:\n  push:\n    branches: [main]\n    paths: ['src/**']\n", "push", "refs/heads/dev",
	  "src/a.c", NULL, 0, "branch 'dev' matches none" },
	/* paths-ignore: runs unless every file is ignored */
	{ "on:\n  push:\n    paths-ignore: ['docs/**', '**.md']\n", "push", "refs/heads/main",
	  "docs/a.txt,README.md", NULL, 0, "all 2 changed files match paths-ignore" },
	{ "on:\n  push:\n    paths-ignore: ['docs/**', '**.md']\n", "push", "refs/heads/main",
	  "docs/a.txt,src/x.c", NULL, 1, "changed file 'src/x.c' is not in paths-ignore" },
	/* the cheat sheet's '*.md', '!README.md', 'README*' */
	{ "on:\n  push:\n    paths: ['*.md', '!README.md', 'README*']\n", "push", "refs/heads/m",
	  "README.md", NULL, 1, "'README*'" },
	{ "on:\n  push:\n    paths: ['*.md', '!README.md']\n", "push", "refs/heads/m",
	  "README.md,docs/hello.md", NULL, 0, "none of the 2" },
	/* pull_request: branches filter the base; default types */
	{ "on:\n  pull_request:\n    branches: [main]\n", "pull_request", "refs/heads/main", NULL,
	  NULL, 1, "base branch 'main' matches" },
	{ "on:\n  pull_request:\n    branches: [main]\n", "pull_request", "develop", NULL, NULL, 0,
	  "base branch 'develop' matches none of branches" },
	{ "on: pull_request\n", "pull_request", "main", NULL, "closed", 0,
	  "activity type 'closed' is not in the default types: opened, synchronize, reopened" },
	{ "on:\n  pull_request:\n    types: [closed, labeled]\n", "pull_request", "main", NULL, "closed", 1, "closed" },
	{ "on:\n  pull_request:\n    types: labeled\n", "pull_request", "main", NULL, NULL, 0,
	  "activity type 'opened' is not in types: labeled" },
	{ "on:\n  pull_request:\n    paths: ['api/**']\n", "pull_request", "main", "web/x", "synchronize", 0, "none of the 1" },
	/* other events with types */
	{ "on:\n  release:\n    types: [published]\n", "release", NULL, NULL, "published", 1, "release published" },
	{ "on:\n  release:\n    types: [published]\n", "release", NULL, NULL, "created", 0, "'created' is not in types: published" },
	{ "on:\n  issues:\n", "issues", NULL, NULL, NULL, 1, "issues" },
	/* workflow_dispatch */
	{ "on: workflow_dispatch\n", "workflow_dispatch", NULL, NULL, NULL, 1, "dispatched manually" },
	/* workflow_run */
	{ "on:\n  workflow_run:\n    workflows: [CI]\n    types: [completed]\n    branches: [develop]\n",
	  "workflow_run", "develop", NULL, NULL, 1, "workflow 'CI' completed" },
	{ "on:\n  workflow_run:\n    workflows: [CI]\n    types: [completed]\n    branches: [develop]\n",
	  "workflow_run", "main", NULL, NULL, 0, "branch 'main' matches none of branches: 'develop'" },
	{ "on:\n  workflow_run:\n    workflows: [CI, Build]\n", "workflow_run", "main", NULL, NULL,
	  0, "" },
	{ "on:\n  workflow_run:\n    workflows: [CI]\n    types: [requested]\n", "workflow_run",
	  "main", NULL, "completed", 0, "'completed' is not in types: requested" },
};

static struct strvec *split_files(const char *files, struct strvec *sv)
{
	if (!files)
		return NULL;
	const char *p = files;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		strvec_push_nodup(sv, xstrndup(p, n));
		p += n + (c ? 1 : 0);
	}
	return sv;
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct tcase *c = &cases[i];
		struct workflow *wf = wf_from_yaml(c->on);
		struct strvec files = STRVEC_INIT;
		struct trig_event ev = TRIG_EVENT_INIT;
		ev.name = c->event;
		ev.ref = c->ref;
		ev.changed = split_files(c->files, &files);
		ev.action = c->action;
		ev.workflow = !strcmp(c->event, "workflow_run") ?
			(strstr(c->on, "Build") ? "Deploy" : "CI") : NULL;
		struct trig_match m = TRIG_MATCH_INIT;
		struct diags d = DIAGS_INIT;
		int rc = trig_match(wf, &ev, &m, &d);
		if (rc < 0) {
			diags_print(&d, stderr);
			fail_msg("case %zu: unexpected error", i);
		}
		if (m.matched != c->want || !strstr(m.reason.buf, c->reason))
			fail_msg("case %zu (%s %s): got %d '%s', want %d '...%s...'", i, c->event,
				 c->ref ? c->ref : "", m.matched, m.reason.buf, c->want, c->reason);
		trig_match_release(&m);
		diags_release(&d);
		strvec_clear(&files);
		wf_done(wf);
	}
}

static void test_workflow_run_names(void **state)
{
	(void)state;
	struct workflow *wf = wf_from_yaml("on:\n  workflow_run:\n    workflows: [CI, Build]\n");
	struct trig_event ev = TRIG_EVENT_INIT;
	ev.name = "workflow_run";
	ev.workflow = "Lint";
	struct trig_match m = TRIG_MATCH_INIT;
	struct diags d = DIAGS_INIT;
	assert_int_equal(trig_match(wf, &ev, &m, &d), 0);
	assert_false(m.matched);
	assert_string_equal(m.reason.buf, "workflow 'Lint' is not in workflows: 'CI', 'Build'");
	ev.workflow = "Build";
	assert_int_equal(trig_match(wf, &ev, &m, &d), 0);
	assert_true(m.matched);
	trig_match_release(&m);
	diags_release(&d);
	wf_done(wf);

	struct trig_run run = { "CI", ".github/workflows/ci.yml", "success", "develop", "abc",
				"push", 7, 3 };
	struct ev *p = trig_workflow_run_payload(&run);
	struct buf j = BUF_INIT;
	ev_to_json(p, &j, 0);
	assert_non_null(strstr(j.buf, "\"action\":\"completed\",\"workflow_run\":{\"id\":7,"));
	assert_non_null(strstr(j.buf, "\"conclusion\":\"success\",\"head_branch\":\"develop\""));
	assert_non_null(strstr(j.buf, "\"workflow\":{\"name\":\"CI\""));
	buf_release(&j);
	ev_unref(p);
}

struct bad_case {
	const char *on;
	const char *event;
	const char *msg; /* "line:col: error: ..." substring */
};

static const struct bad_case bads[] = {
	{ "on:\n  push:\n    branches: [main]\n    branches-ignore: [dev]\n", "push",
	  "ci.yml:4:5: error: on.push: 'branches' and 'branches-ignore' cannot be used together" },
	{ "on:\n  push:\n    paths: [a]\n    paths-ignore: [b]\n", "push", "'paths' and 'paths-ignore'" },
	{ "on:\n  push:\n    tags: ['v[']\n", "push",
	  "ci.yml:3:12: error: on.push.tags: invalid pattern 'v[': missing ']'" },
	{ "on:\n  push:\n    branches: {a: 1}\n", "push",
	  "on.push.branches must be a string or a list of strings" },
	{ "on:\n  push:\n    branches: [[a]]\n", "push", "on.push.branches: each item must be a string" },
	{ "on:\n  workflow_run:\n    types: [completed]\n", "workflow_run", "needs 'workflows'" },
	{ "on:\n  schedule: '* * * * *'\n", "schedule", "on.schedule must be a list" },
	{ "on:\n  schedule:\n    - crn: '* * * * *'\n", "schedule", "need a 'cron' string" },
};

static void test_invalid_filters(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		struct workflow *wf = wf_from_yaml(bads[i].on);
		struct trig_event ev = TRIG_EVENT_INIT;
		ev.name = bads[i].event;
		ev.ref = "refs/heads/main";
		struct trig_match m = TRIG_MATCH_INIT;
		struct diags d = DIAGS_INIT;
		assert_int_equal(trig_match(wf, &ev, &m, &d), -1);
		assert_false(m.matched);
		FILE *f = tmpfile();
		diags_print(&d, f);
		rewind(f);
		char line[512] = "";
		if (!fgets(line, sizeof(line), f) || !strstr(line, bads[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i, line, bads[i].msg);
		fclose(f);
		/* lint finds the same problem */
		struct diags d2 = DIAGS_INIT;
		assert_true(trig_check(wf, &d2) >= 1);
		diags_release(&d2);
		trig_match_release(&m);
		diags_release(&d);
		wf_done(wf);
	}
}

static void test_schedule(void **state)
{
	(void)state;
	struct workflow *wf = wf_from_yaml("on:\n  schedule:\n    - cron: '0  5 * * *'\n"
					   "    - cron: '*/15 * * * *'\n");
	struct trig_event ev = TRIG_EVENT_INIT;
	ev.name = "schedule";
	struct trig_match m = TRIG_MATCH_INIT;
	struct diags d = DIAGS_INIT;
	assert_int_equal(trig_match(wf, &ev, &m, &d), 0);
	assert_true(m.matched);
	assert_string_equal(m.reason.buf, "scheduled by cron '0 5 * * *'");
	ev.cron = "*/15 * * * *";
	assert_int_equal(trig_match(wf, &ev, &m, &d), 0);
	assert_true(m.matched);
	assert_string_equal(m.reason.buf, "scheduled by cron '*/15 * * * *'");
	ev.cron = "1 1 1 1 1";
	assert_int_equal(trig_match(wf, &ev, &m, &d), 0);
	assert_false(m.matched);
	assert_int_equal(trig_check(wf, &d), 0);
	trig_match_release(&m);
	diags_release(&d);
	wf_done(wf);

	wf = wf_from_yaml("on:\n  schedule:\n    - cron: '61 * * * *'\n");
	assert_int_equal(trig_check(wf, &d), 1);
	assert_int_equal(d.v[0].line, 3);
	assert_int_equal(d.v[0].col, 13);
	assert_non_null(strstr(d.v[0].msg, "minute '61' is out of range"));
	diags_release(&d);
	wf_done(wf);
}

#define DISPATCH                                                     \
	"on:\n"                                                      \
	"  workflow_dispatch:\n"                                     \
	"    inputs:\n"                                              \
	"      level:\n"                                             \
	"        type: choice\n"                                     \
	"        options: [low, high]\n"                             \
	"        default: low\n"                                     \
	"      dry-run:\n"                                           \
	"        type: boolean\n"                                    \
	"      count:\n"                                             \
	"        type: number\n"                                     \
	"        default: 3\n"                                       \
	"      version:\n"                                           \
	"        required: true\n"                                   \
	"      target:\n"                                            \
	"        type: environment\n"                                \
	"        required: false\n"                                  \
	"      note:\n"

static void check_inputs(const char *const *kv, int want_rc, const char *want)
{
	struct workflow *wf = wf_from_yaml(DISPATCH);
	struct strvec sv = STRVEC_INIT;
	for (size_t i = 0; kv[i]; i++)
		strvec_push(&sv, kv[i]);
	struct trig_inputs in = TRIG_INPUTS_INIT;
	struct diags d = DIAGS_INIT;
	int rc = trig_dispatch_inputs(wf, &sv, &in, &d);
	struct buf got = BUF_INIT;
	if (rc == 0) {
		for (size_t i = 0; i < in.nr; i++)
			buf_addf(&got, "%s%s:%s=%s%s", i ? " " : "", trig_input_type_name(in.v[i].type),
				 in.v[i].name, in.v[i].value, in.v[i].from_default ? "*" : "");
	} else {
		for (size_t i = 0; i < d.nr; i++)
			buf_addf(&got, "%s%d:%d: %s", i ? " | " : "", d.v[i].line, d.v[i].col,
				 d.v[i].msg);
		assert_int_equal(in.nr, 0);
	}
	if (rc != want_rc || !strstr(got.buf, want))
		fail_msg("inputs: got %d '%s', want %d '%s'", rc, got.buf, want_rc, want);
	buf_release(&got);
	trig_inputs_release(&in);
	diags_release(&d);
	strvec_clear(&sv);
	wf_done(wf);
}

static void test_dispatch_inputs(void **state)
{
	(void)state;
	check_inputs((const char *[]){ "version=1.2", NULL }, 0,
		     "choice:level=low* boolean:dry-run=false* number:count=3* string:version=1.2 "
		     "environment:target=* string:note=*");
	check_inputs((const char *[]){ "version=2", "level=high", "dry-run=TRUE", "count=-1.5e3",
				       "target=prod", "note=a=b", NULL }, 0,
		     "choice:level=high boolean:dry-run=true number:count=-1.5e3 string:version=2 "
		     "environment:target=prod string:note=a=b");
	/* typed contexts */
	{
		struct workflow *wf = wf_from_yaml(DISPATCH);
		struct strvec sv = STRVEC_INIT;
		strvec_push(&sv, "version=9");
		strvec_push(&sv, "dry-run=true");
		struct trig_inputs in = TRIG_INPUTS_INIT;
		struct diags d = DIAGS_INIT;
		assert_int_equal(trig_dispatch_inputs(wf, &sv, &in, &d), 0);
		struct ev *ctx = trig_inputs_context(&in), *pay = trig_inputs_payload(&in);
		struct buf j = BUF_INIT;
		ev_to_json(ctx, &j, 0);
		assert_string_equal(j.buf, "{\"level\":\"low\",\"dry-run\":true,\"count\":3,"
					   "\"version\":\"9\",\"target\":\"\",\"note\":\"\"}");
		buf_reset(&j);
		ev_to_json(pay, &j, 0);
		assert_non_null(strstr(j.buf, "\"dry-run\":\"true\",\"count\":\"3\""));
		buf_release(&j);
		ev_unref(ctx);
		ev_unref(pay);
		trig_inputs_release(&in);
		strvec_clear(&sv);
		diags_release(&d);
		wf_done(wf);
	}
	/* names match case-insensitively; the last one given wins */
	check_inputs((const char *[]){ "VERSION=1", "version=3", NULL }, 0, "string:version=3");
	check_inputs((const char *[]){ NULL }, -1,
		     "13:7: workflow_dispatch input 'version' is required (use --input version=VALUE)");
	check_inputs((const char *[]){ "version=1", "level=mid", NULL }, -1,
		     "4:7: workflow_dispatch input 'level' must be one of 'low', 'high' (got 'mid')");
	check_inputs((const char *[]){ "version=1", "dry-run=yes", NULL }, -1,
		     "input 'dry-run' expects a boolean (true or false) (got 'yes')");
	check_inputs((const char *[]){ "version=1", "count=12abc", NULL }, -1,
		     "input 'count' expects a number (got '12abc')");
	check_inputs((const char *[]){ "version=1", "count=", NULL }, -1, "expects a number");
	check_inputs((const char *[]){ "version=1", "target=", NULL }, -1,
		     "input 'target' expects an environment name");
	check_inputs((const char *[]){ "version=1", "levl=high", NULL }, -1,
		     "2:3: unknown workflow_dispatch input 'levl' (did you mean 'level'?)");
	check_inputs((const char *[]){ "version", NULL }, -1, "input 'version' is not NAME=VALUE");
	/* several errors are all reported */
	check_inputs((const char *[]){ "level=x", "count=y", NULL }, -1, "required");
}

static void test_dispatch_declarations(void **state)
{
	(void)state;
	static const struct { const char *yaml, *msg; } bad[] = {
		{ "on:\n  workflow_dispatch:\n    inputs:\n      a:\n        type: text\n",
		  "unknown type 'text'" },
		{ "on:\n  workflow_dispatch:\n    inputs:\n      a:\n        type: choice\n",
		  "needs a non-empty 'options' list" },
		{ "on:\n  workflow_dispatch:\n    inputs:\n      a:\n        type: boolean\n        default: maybe\n",
		  "default 'maybe' expects a boolean" },
		{ "on:\n  workflow_dispatch:\n    inputs:\n      a:\n        type: choice\n        options: [x]\n        default: y\n",
		  "default 'y' must be one of 'x'" },
		{ "on:\n  workflow_dispatch:\n    inputs:\n      a:\n        required: sometimes\n",
		  "'required' must be true or false" },
		{ "on:\n  workflow_dispatch:\n    inputs: [a]\n", "inputs must be a mapping" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct workflow *wf = wf_from_yaml(bad[i].yaml);
		struct diags d = DIAGS_INIT;
		assert_int_equal(trig_check(wf, &d), 1);
		if (!strstr(d.v[0].msg, bad[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i, d.v[0].msg, bad[i].msg);
		diags_release(&d);
		struct trig_inputs in = TRIG_INPUTS_INIT;
		assert_int_equal(trig_dispatch_inputs(wf, NULL, &in, &d), -1);
		diags_release(&d);
		wf_done(wf);
	}
	/* no workflow_dispatch: inputs are an error, none is fine */
	struct workflow *wf = wf_from_yaml("on: push\n");
	struct strvec kv = STRVEC_INIT;
	struct trig_inputs in = TRIG_INPUTS_INIT;
	struct diags d = DIAGS_INIT;
	assert_int_equal(trig_dispatch_inputs(wf, &kv, &in, &d), 0);
	strvec_push(&kv, "a=b");
	assert_int_equal(trig_dispatch_inputs(wf, &kv, &in, &d), -1);
	assert_non_null(strstr(d.v[0].msg, "no workflow_dispatch trigger"));
	strvec_clear(&kv);
	diags_release(&d);
	wf_done(wf);
}

static void test_ref_name(void **state)
{
	(void)state;
	int tag;
	assert_string_equal(trig_ref_name("refs/heads/feature/x", &tag), "feature/x");
	assert_false(tag);
	assert_string_equal(trig_ref_name("refs/tags/v1.2.3", &tag), "v1.2.3");
	assert_true(tag);
	assert_string_equal(trig_ref_name("main", &tag), "main");
	assert_false(tag);
	assert_string_equal(trig_ref_name(NULL, &tag), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_workflow_run_names),
		cmocka_unit_test(test_invalid_filters),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_dispatch_inputs),
		cmocka_unit_test(test_dispatch_declarations),
		cmocka_unit_test(test_ref_name),
	};
	return cmocka_run_group_tests_name("workflow/trigger", tests, NULL, NULL);
}
