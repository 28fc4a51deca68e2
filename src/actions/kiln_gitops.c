/*
 * kiln_gitops: `uses: kiln/gitops` -- one step for the CI side of GitOps:
 * clone the config repository, set the app's release in its file (the
 * scalar edited in place: comments and key order stay), commit, push,
 * retrying a push that lost a race (non-fast-forward) on the new head.
 *
 *   - uses: kiln/gitops
 *     with: {repo: 'https://git.example.com/ops/config.git', path: apps, app: web,
 *            version: '${{ github.sha }}'}
 *   - uses: kiln/gitops
 *     with: {repo: ..., file: apps/web/values.yaml, set: '.image.tag=${{ env.TAG }}'}
 *
 * Inputs: repo (required); app + version (the file found as in kiln
 * deployd: <path>/<app>.yml, .yaml or <path>/<app>/values.yaml; the key is
 * `version`, else `image.tag`), or file and/or set (".a.b=value", yq's
 * path syntax for mapping keys); path, branch (main), message, author
 * ("Name <email>", default the workflow's actor). Outputs: commit (the
 * pushed commit, or the head when nothing changed), changed (true|false).
 * The git work runs on the libuv thread pool.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "deploy/app.h"
#include "deploy/gitbump.h"
#include "actions/kiln_gitops.h"

#include <errno.h>

struct kg {
	uv_work_t work;
	struct builtin_call *c;
	struct gitbump b;
	char *own[10];     /* strings b points into */
	char sha[41];
	struct buf log, err;
	int r;
};

static const char *input(struct builtin_call *c, const char *name)
{
	const struct ev *v = c->with ? ev_object_get(c->with, name) : NULL;
	size_t len = 0;
	const char *s = v && ev_kind(v) == EV_STRING ? ev_get_str(v, &len) : NULL;
	return s && len ? s : NULL;
}

static void run(uv_work_t *w)
{
	struct kg *k = w->data;
	k->r = gitbump_run(&k->b, k->sha, &k->log, &k->err);
	rmtree(k->b.workdir);
}

static void done(uv_work_t *w, int status)
{
	struct kg *k = w->data;
	struct builtin_call *c = k->c;
	for (char *p = k->log.buf; p && *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		c->log(c, LOG_OUTPUT, p);
		p = nl ? nl + 1 : p + strlen(p);
	}
	struct ev *out = ev_object();
	ev_object_set(out, "commit", ev_cstr(k->sha));
	ev_object_set(out, "changed", ev_cstr(k->r == 0 ? "true" : "false"));
	if (k->r < 0)
		c->log(c, LOG_ERROR, k->err.buf);
	else if (k->r == 1)
		c->log(c, LOG_OUTPUT, "already set: nothing to commit");
	else {
		char line[96];
		snprintf(line, sizeof(line), "pushed %s", k->sha);
		c->log(c, LOG_OUTPUT, line);
	}
	int ok = k->r >= 0 && status == 0;
	for (size_t i = 0; i < ARRAY_SIZE(k->own); i++)
		free(k->own[i]);
	buf_release(&k->log);
	buf_release(&k->err);
	c->action_data = NULL;
	free(k);
	c->complete(c, ok ? RESULT_SUCCESS : RESULT_FAILURE, out);
}

int kiln_gitops_start(struct builtin_call *c, struct buf *err)
{
	const char *repo = input(c, "repo"), *app = input(c, "app"), *version = input(c, "version");
	const char *set = input(c, "set"), *file = input(c, "file");
	if (!repo) {
		buf_addstr(err, "kiln/gitops: input 'repo' is required");
		return KILN_EINVAL;
	}
	if (!set && (!app || !version)) {
		buf_addstr(err, "kiln/gitops: give 'app' and 'version', or 'set' (like .image.tag=abc123)");
		return KILN_EINVAL;
	}
	if (!file && !app) {
		buf_addstr(err, "kiln/gitops: 'set' needs 'file' or 'app' to say which file");
		return KILN_EINVAL;
	}
	if ((app && !deploy_name_ok(app)) || (version && !set && !deploy_version_ok(version))) {
		buf_addf(err, "kiln/gitops: '%s' is not a valid %s", app && !deploy_name_ok(app) ? app : version,
			 app && !deploy_name_ok(app) ? "app name" : "version");
		return KILN_EINVAL;
	}
	const char *eq = set ? strchr(set, '=') : NULL;
	if (set && (!eq || eq == set || set[0] != '.')) {
		buf_addf(err, "kiln/gitops: set '%s' is not PATH=VALUE like .image.tag=abc123", set);
		return KILN_EINVAL;
	}
	if (file && (file[0] == '/' || strstr(file, ".."))) {
		buf_addf(err, "kiln/gitops: file '%s' must be a path inside the repository", file);
		return KILN_EINVAL;
	}
	struct kg *k = xcalloc(1, sizeof(*k));
	buf_init(&k->log, 0);
	buf_init(&k->err, 0);
	k->b.url = repo;
	k->b.branch = input(c, "branch");
	k->b.file = file;
	k->b.dir = input(c, "path");
	k->b.app = app;
	k->b.message = input(c, "message");
	const struct ev *actor = c->contexts ? ev_object_get(ev_object_get(c->contexts, "github"), "actor") : NULL;
	const char *who = actor && ev_kind(actor) == EV_STRING ? ev_get_str(actor, NULL) : NULL;
	/* the with: object lives until complete; our own strings are in own[] */
	if (!input(c, "author") && who && *who)
		k->b.author = k->own[0] = xstrfmt("%s <%s@users.noreply.kiln>", who, who);
	else
		k->b.author = input(c, "author");
	if (set) {
		k->b.key = k->own[1] = xstrndup(set, (size_t)(eq - set));
		k->b.value = eq + 1;
	} else
		k->b.value = version;
	k->b.workdir = k->own[2] = xstrfmt("%s/kiln-gitops-XXXXXX", c->temp);
	if (!mkdtemp(k->own[2])) {
		buf_addf(err, "kiln/gitops: cannot create a directory in '%s': %s", c->temp, strerror(errno));
		for (size_t i = 0; i < ARRAY_SIZE(k->own); i++)
			free(k->own[i]);
		free(k);
		return KILN_EIO;
	}
	k->c = c;
	c->action_data = k;
	k->work.data = k;
	c->log(c, LOG_OUTPUT, "updating the config repository");
	uv_queue_work(c->loop, &k->work, run, done);
	return 0;
}
