/*
 * runctx: run directory, repository facts, event payload, the `github`
 * context and the run-wide default environment.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/jobdir.h"
#include "engine/plan.h"
#include "engine/runctx.h"
#include "store/owner.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *str_at(const struct ev *o, const char *a, const char *b)
{
	const struct ev *v = o;
	if (v && ev_kind(v) == EV_OBJECT)
		v = ev_object_get(v, a);
	else
		return NULL;
	if (b) {
		if (!v || ev_kind(v) != EV_OBJECT)
			return NULL;
		v = ev_object_get(v, b);
	}
	return v && ev_kind(v) == EV_STRING ? ev_get_str(v, NULL) : NULL;
}

/* ref, ref_name, ref_type, head_ref, base_ref and sha: from the event
 * trigsel derived (an -e payload's values are already in it, under the
 * flags given explicitly) */
static void set_refs(struct runctx *rc)
{
	const struct event_info *ev = &rc->ts->event;
	rc->ref = xstrdup(ev->ref ? ev->ref : "");
	rc->head_ref = xstrdup(ev->head_ref ? ev->head_ref : "");
	rc->base_ref = xstrdup(ev->base_ref ? ev->base_ref : "");
	memcpy(rc->sha, ev->sha, sizeof(rc->sha));
	const char *name = rc->ref;
	rc->ref_type = "branch";
	if (str_starts_with(name, "refs/heads/")) {
		name += 11;
	} else if (str_starts_with(name, "refs/tags/")) {
		name += 10;
		rc->ref_type = "tag";
	} else if (str_starts_with(name, "refs/pull/")) {
		name += 10;
	}
	rc->ref_name = xstrdup(name);
}

/* the 1-based line and column (in bytes) of byte offset `off` of s */
static void line_col(const char *s, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int runctx_read_event(const char *file, struct ev **out, struct buf *err)
{
	*out = NULL;
	struct buf b = BUF_INIT, why = BUF_INIT;
	int r = fs_read_input(file, FS_INPUT_MAX, &b, &why);
	if (r < 0) {
		buf_addf(err, "cannot read event file '%s': %s", file, why.buf);
		buf_release(&why);
		buf_release(&b);
		return KILN_EINVAL;
	}
	size_t pos = 0;
	struct ev *e = ev_from_json_at(b.buf, b.len, &pos, &why);
	if (!e) {
		int line, col;
		line_col(b.buf, pos, &line, &col);
		buf_addf(err, "%s:%d:%d: error: event payload is not valid JSON: %s", file, line,
			 col, why.buf);
	} else if (ev_kind(e) != EV_OBJECT) {
		int line, col;
		line_col(b.buf, strspn(b.buf, " \t\r\n"), &line, &col);
		buf_addf(err, "%s:%d:%d: error: event payload is not a JSON object", file, line,
			 col);
		ev_unref(e);
		e = NULL;
	}
	buf_release(&b);
	buf_release(&why);
	*out = e;
	return e ? 0 : KILN_EINVAL;
}

static char *actor_name(const struct ev *event)
{
	const char *s = str_at(event, "sender", "login");
	if (s)
		return xstrdup(s);
	s = getenv("GITHUB_ACTOR");
	if (s && *s)
		return xstrdup(s);
	s = getenv("USER");
	if (s && *s)
		return xstrdup(s);
	struct passwd *pw = getpwuid(getuid());
	return xstrdup(pw && pw->pw_name ? pw->pw_name : "kiln");
}

static int make_run_dir(struct runctx *rc, struct buf *err)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	/* named after this process (store/owner.h) so the next kiln removes
	 * it if this one dies; a kept (--keep) directory is not */
	char tag[64];
	owner_tag(tag, sizeof(tag));
	char *tmpl = rc->keep ? xstrfmt("%s/kiln-run-XXXXXX", tmp)
			      : xstrfmt("%s/kiln-run-%s-XXXXXX", tmp, tag);
	/* the last run's directory when it left one (jobdir.h) */
	if ((rc->keep || jobdir_take_spare(tmpl) < 0) && !mkdtemp(tmpl)) {
		buf_addf(err, "cannot create run directory '%s': %s", tmpl, strerror(errno));
		free(tmpl);
		return KILN_EIO;
	}
	rc->run_dir = tmpl;
	rc->event_path = xstrfmt("%s/event.json", tmpl);
	struct buf json = BUF_INIT;
	ev_to_json(rc->event, &json, EV_JSON_PRETTY);
	buf_addch(&json, '\n');
	/* a new file even in a spare directory (jobdir_retire removes the
	 * last run's: a step may have made it a FIFO, a link or read-only) */
	int fd = open(rc->event_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	int ok = fd >= 0 && fs_write_all(fd, json.buf, json.len) == 0;
	int e = errno;
	if (fd >= 0 && close(fd) < 0 && ok) {
		ok = 0;
		e = errno;
	}
	buf_release(&json);
	if (!ok) {
		buf_addf(err, "cannot write '%s': %s", rc->event_path, strerror(e));
		return KILN_EIO;
	}
	return 0;
}

static void build_env(struct runctx *rc)
{
	for (char **e = environ; e && *e; e++)
		strvec_push(&rc->env, *e);
	struct strvec *env = &rc->env;
	struct utsname u;
	const char *arch = "X64";
	if (!uname(&u)) {
		if (!strcmp(u.machine, "aarch64") || !strcmp(u.machine, "arm64"))
			arch = "ARM64";
		else if (str_starts_with(u.machine, "arm"))
			arch = "ARM";
		else if (!strcmp(u.machine, "i686") || !strcmp(u.machine, "i386"))
			arch = "X86";
	}
	char num[32];
	strvec_setenv(env, "CI", "true");
	strvec_setenv(env, "GITHUB_ACTIONS", "true");
	strvec_setenv(env, "GITHUB_SHA", rc->sha);
	strvec_setenv(env, "GITHUB_REF", rc->ref);
	strvec_setenv(env, "GITHUB_REF_NAME", rc->ref_name);
	strvec_setenv(env, "GITHUB_REF_TYPE", rc->ref_type);
	strvec_setenv(env, "GITHUB_HEAD_REF", rc->head_ref);
	strvec_setenv(env, "GITHUB_BASE_REF", rc->base_ref);
	strvec_setenv(env, "GITHUB_REPOSITORY", rc->repository);
	strvec_setenv(env, "GITHUB_REPOSITORY_OWNER", rc->owner);
	strvec_setenv(env, "GITHUB_EVENT_NAME", rc->event_name);
	strvec_setenv(env, "GITHUB_EVENT_PATH", rc->event_path);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)rc->run_id);
	strvec_setenv(env, "GITHUB_RUN_ID", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)rc->run_number);
	strvec_setenv(env, "GITHUB_RUN_NUMBER", num);
	snprintf(num, sizeof(num), "%d", rc->run_attempt);
	strvec_setenv(env, "GITHUB_RUN_ATTEMPT", num);
	strvec_setenv(env, "GITHUB_ACTOR", rc->actor);
	strvec_setenv(env, "GITHUB_TRIGGERING_ACTOR", rc->actor);
	strvec_setenv(env, "GITHUB_SERVER_URL", rc->server_url);
	strvec_setenv(env, "GITHUB_API_URL", rc->api_url);
	char *gql = xstrfmt("%s/graphql", rc->api_url);
	strvec_setenv(env, "GITHUB_GRAPHQL_URL", gql);
	free(gql);
	strvec_setenv(env, "GITHUB_RETENTION_DAYS", "90");
	strvec_setenv(env, "RUNNER_OS", "Linux");
	strvec_setenv(env, "RUNNER_ARCH", arch);
	strvec_setenv(env, "RUNNER_NAME", "kiln");
	strvec_setenv(env, "RUNNER_ENVIRONMENT", "self-hosted");
	if (!strvec_getenv(env, "RUNNER_TOOL_CACHE")) {
		const char *cache = getenv("XDG_CACHE_HOME");
		const char *home = getenv("HOME");
		char *tc = cache && *cache ? xstrfmt("%s/kiln/tool-cache", cache)
					   : xstrfmt("%s/.cache/kiln/tool-cache", home ? home : "/tmp");
		strvec_setenv(env, "RUNNER_TOOL_CACHE", tc);
		free(tc);
	}
}

static struct ev *pairs_object(const struct strvec *sv)
{
	struct ev *o = ev_object();
	for (size_t i = 0; sv && i < sv->nr; i++) {
		const char *eq = strchr(sv->v[i], '=');
		char *k = xstrndup(sv->v[i], eq ? (size_t)(eq - sv->v[i]) : strlen(sv->v[i]));
		ev_object_set(o, k, ev_cstr(eq ? eq + 1 : ""));
		free(k);
	}
	return o;
}

static struct ev *secrets_object(const struct secret_map *m)
{
	struct ev *o = ev_object();
	for (size_t i = 0; m && i < m->nr; i++)
		ev_object_set(o, m->v[i].name, ev_string(m->v[i].value, m->v[i].len));
	return o;
}

int runctx_init(struct runctx *rc, const struct runctx_opts *opts, struct buf *err)
{
	memset(rc, 0, sizeof(*rc));
	const struct trigsel *ts = opts->ts;
	rc->ts = ts;
	rc->repo_dir = xstrdup(ts->info.workdir);
	rc->keep = opts->keep;
	rc->event_name = xstrdup(ts->event.name ? ts->event.name : "push");
	rc->event_from_file = opts->event != NULL;
	if (opts->event) {
		rc->event = ev_ref(opts->event);
	} else {
		struct buf jerr = BUF_INIT;
		const char *p = ts->event.payload;
		rc->event = p ? ev_from_json(p, strlen(p), &jerr) : NULL;
		if (!rc->event)
			rc->event = ev_object();
		buf_release(&jerr);
	}
	int r;
	rc->owner = xstrdup(ts->info.owner ? ts->info.owner : "local");
	rc->repository = xstrdup(ts->info.repository ? ts->info.repository : "local/repo");
	set_refs(rc);
	rc->actor = actor_name(rc->event);
	const char *srv = getenv("GITHUB_SERVER_URL");
	rc->server_url = xstrdup(srv && *srv ? srv : "https://github.com");
	const char *api = getenv("GITHUB_API_URL");
	rc->api_url = xstrdup(api && *api ? api : "https://api.github.com");
	struct timespec ts_now;
	clock_gettime(CLOCK_REALTIME, &ts_now);
	rc->run_id = (uint64_t)ts_now.tv_sec * 1000 + (uint64_t)(ts_now.tv_nsec / 1000000);
	rc->run_number = 1;
	rc->run_attempt = opts->attempt > 0 ? opts->attempt : 1;
	rc->vars = pairs_object(opts->vars);
	rc->secrets = secrets_object(opts->secrets);
	const struct ev *in = ev_object_get(rc->event, "inputs");
	rc->inputs = in && ev_kind(in) == EV_OBJECT ? ev_ref(in) : ev_object();
	r = make_run_dir(rc, err);
	if (r < 0)
		return r;
	build_env(rc);
	return 0;
}

void runctx_rmtree(const char *path)
{
	rmtree(path);
}

void runctx_release(struct runctx *rc)
{
	/* a run that ran jobs leaves its directory for the next (jobdir.h) */
	int pooled = rc->jobdirs != NULL;
	jobdir_pool_free(rc->jobdirs);
	if (rc->run_dir && !rc->keep) {
		if (pooled)
			jobdir_retire(rc->run_dir);
		else
			runctx_rmtree(rc->run_dir);
	}
	free(rc->repo_dir);
	free(rc->run_dir);
	free(rc->event_name);
	free(rc->event_path);
	ev_unref(rc->event);
	free(rc->ref);
	free(rc->ref_name);
	free(rc->head_ref);
	free(rc->base_ref);
	free(rc->repository);
	free(rc->owner);
	free(rc->actor);
	free(rc->server_url);
	free(rc->api_url);
	strvec_clear(&rc->env);
	ev_unref(rc->vars);
	ev_unref(rc->secrets);
	ev_unref(rc->env_secrets);
	ev_unref(rc->env_vars);
	ev_unref(rc->inputs);
	memset(rc, 0, sizeof(*rc));
}

const char *runctx_workflow_name(const struct runctx *rc, const struct workflow *wf)
{
	if (wf->name.s)
		return wf->name.s;
	const char *f = wf->file;
	size_t l = strlen(rc->repo_dir);
	if (!strncmp(f, rc->repo_dir, l) && f[l] == '/')
		return f + l + 1;
	return f;
}

static const char *workflow_path(const struct runctx *rc, const struct workflow *wf)
{
	const char *f = wf->file;
	size_t l = strlen(rc->repo_dir);
	if (!strncmp(f, rc->repo_dir, l) && f[l] == '/')
		return f + l + 1;
	return f;
}

/* github.event with `inputs` replaced by these (as strings, as GitHub sends) */
static struct ev *event_with_inputs(const struct ev *event, const struct ev *inputs)
{
	struct ev *e = ev_object();
	for (size_t i = 0; i < ev_len(event); i++)
		ev_object_set(e, ev_object_key_at(event, i), ev_ref(ev_object_val_at(event, i)));
	struct ev *in = ev_object();
	for (size_t i = 0; i < ev_len(inputs); i++) {
		struct buf b = BUF_INIT;
		ev_to_string(ev_object_val_at(inputs, i), &b);
		ev_object_set(in, ev_object_key_at(inputs, i), ev_string(b.buf, b.len));
		buf_release(&b);
	}
	ev_object_set(e, "inputs", in);
	return e;
}

static struct ev *github_context(struct runctx *rc, const struct workflow *wf,
				 const struct ev *inputs, int run_number)
{
	struct ev *g = ev_object();
	char num[32];
	ev_object_set(g, "event_name", ev_cstr(rc->event_name));
	/* github.event: the -e payload, else the derived one for this workflow
	 * (dispatch inputs as strings, the schedule that fired) */
	if (rc->event_from_file)
		ev_object_set(g, "event", inputs ? event_with_inputs(rc->event, inputs)
						 : ev_ref(rc->event));
	else
		ev_object_set(g, "event", trigsel_payload(rc->ts, wf, inputs));
	ev_object_set(g, "event_path", ev_cstr(rc->event_path));
	ev_object_set(g, "sha", ev_cstr(rc->sha));
	ev_object_set(g, "ref", ev_cstr(rc->ref));
	ev_object_set(g, "ref_name", ev_cstr(rc->ref_name));
	ev_object_set(g, "ref_type", ev_cstr(rc->ref_type));
	ev_object_set(g, "ref_protected", ev_bool(0));
	ev_object_set(g, "head_ref", ev_cstr(rc->head_ref));
	ev_object_set(g, "base_ref", ev_cstr(rc->base_ref));
	ev_object_set(g, "repository", ev_cstr(rc->repository));
	ev_object_set(g, "repository_owner", ev_cstr(rc->owner));
	char *url = xstrfmt("%s/%s", rc->server_url, rc->repository);
	ev_object_set(g, "repositoryUrl", ev_cstr(url));
	free(url);
	ev_object_set(g, "actor", ev_cstr(rc->actor));
	ev_object_set(g, "triggering_actor", ev_cstr(rc->actor));
	ev_object_set(g, "workspace", ev_cstr(rc->repo_dir));
	snprintf(num, sizeof(num), "%llu", (unsigned long long)rc->run_id);
	ev_object_set(g, "run_id", ev_cstr(num));
	snprintf(num, sizeof(num), "%d", run_number > 0 ? run_number : 1);
	ev_object_set(g, "run_number", ev_cstr(num));
	snprintf(num, sizeof(num), "%d", rc->run_attempt);
	ev_object_set(g, "run_attempt", ev_cstr(num));
	ev_object_set(g, "retention_days", ev_cstr("90"));
	ev_object_set(g, "server_url", ev_cstr(rc->server_url));
	ev_object_set(g, "api_url", ev_cstr(rc->api_url));
	char *gql = xstrfmt("%s/graphql", rc->api_url);
	ev_object_set(g, "graphql_url", ev_cstr(gql));
	free(gql);
	ev_object_set(g, "workflow", ev_cstr(runctx_workflow_name(rc, wf)));
	char *wref = xstrfmt("%s/%s@%s", rc->repository, workflow_path(rc, wf), rc->ref);
	ev_object_set(g, "workflow_ref", ev_cstr(wref));
	free(wref);
	ev_object_set(g, "workflow_sha", ev_cstr(rc->sha));
	ev_object_set(g, "job", ev_cstr(""));
	ev_object_set(g, "action", ev_cstr(""));
	ev_object_set(g, "token", ev_cstr(""));
	return g;
}

/* the workflow's env: values are templates, converted to strings */
struct env_walk {
	const struct expr_ctx *ctx;
	struct ev *env;
};

static struct ev *env_eval(void *arg, const struct ynode *n, struct buf *err)
{
	const struct env_walk *ew = arg;
	if (n->kind != YNODE_SCALAR || !n->str) {
		buf_addstr(err, "an env value must be a string");
		return NULL;
	}
	return expr_interpolate(n->str, n->len, ew->ctx, err);
}

static int env_pair(void *arg, const char *key, const struct ynode *vn, const struct ev *value,
		    struct buf *err)
{
	struct env_walk *ew = arg;
	struct ev *val = vn ? (vn->kind == YNODE_SCALAR && vn->str ? env_eval(arg, vn, err)
								    : ev_cstr(""))
			    : ev_ref(value);
	if (!val)
		return -1;
	struct buf s = BUF_INIT;
	ev_to_string(val, &s);
	ev_unref(val);
	ev_object_set(ew->env, key, ev_string(s.buf, s.len));
	buf_release(&s);
	return 0;
}

struct ev *runctx_workflow_contexts(struct runctx *rc, const struct workflow *wf,
				    const struct ev *inputs, int run_number, struct buf *err)
{
	struct ev *c = ev_object();
	ev_object_set(c, "github", github_context(rc, wf, inputs, run_number));
	ev_object_set(c, "vars", ev_ref(rc->vars));
	ev_object_set(c, "secrets", ev_ref(rc->secrets));
	ev_object_set(c, "inputs", ev_ref(inputs ? inputs : rc->inputs));
	/* workflow env: github, secrets, inputs, vars are available; keys may
	 * be expressions and `${{ insert }}` (plan_map_walk) */
	struct expr_ctx ctx = { .contexts = c, .status = EXPR_STATUS_SUCCESS };
	struct env_walk ew = { &ctx, ev_object() };
	struct buf e = BUF_INIT;
	const struct ynode *at = NULL;
	if (plan_map_walk(wf->env, env_eval, env_pair, &ew, &e, &at) < 0) {
		buf_addf(err, "%s:%d:%d: error: %s", wf->file, at ? at->line : 0, at ? at->col : 0,
			 e.buf);
		buf_release(&e);
		ev_unref(ew.env);
		ev_unref(c);
		return NULL;
	}
	buf_release(&e);
	struct ev *env = ew.env;
	ev_object_set(c, "env", env);
	return c;
}

struct ev *runctx_job_github(const struct ev *wf_contexts, const char *job_id,
			     const char *workspace)
{
	const struct ev *g = ev_object_get(wf_contexts, "github");
	struct ev *copy = ev_object();
	for (size_t i = 0; i < ev_len(g); i++)
		ev_object_set(copy, ev_object_key_at(g, i), ev_ref(ev_object_val_at(g, i)));
	ev_object_set(copy, "job", ev_cstr(job_id));
	if (workspace)
		ev_object_set(copy, "workspace", ev_cstr(workspace));
	return copy;
}

void runctx_workflow_env(const struct runctx *rc, const struct workflow *wf,
			 const struct ev *wf_contexts, struct strvec *out)
{
	strvec_clear(out);
	for (size_t i = 0; i < rc->env.nr; i++)
		strvec_push(out, rc->env.v[i]);
	const struct ev *g = wf_contexts ? ev_object_get(wf_contexts, "github") : NULL;
	const struct ev *num = g ? ev_object_get(g, "run_number") : NULL;
	if (num && ev_kind(num) == EV_STRING)
		strvec_setenv(out, "GITHUB_RUN_NUMBER", ev_get_str(num, NULL));
	strvec_setenv(out, "GITHUB_WORKFLOW", runctx_workflow_name(rc, wf));
	char *wref = xstrfmt("%s/%s@%s", rc->repository, workflow_path(rc, wf), rc->ref);
	strvec_setenv(out, "GITHUB_WORKFLOW_REF", wref);
	free(wref);
	strvec_setenv(out, "GITHUB_WORKFLOW_SHA", rc->sha);
}
