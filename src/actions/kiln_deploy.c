/*
 * kiln_deploy: the built-in action `uses: kiln/deploy` -- a workflow step
 * that deploys through the running `kiln deployd` and fails when the
 * deploy fails or rolls back.
 *
 *   - uses: kiln/deploy
 *     with: {app: web, version: '${{ github.sha }}', strategy: canary, wait: true}
 *
 * Inputs: app, version (required), strategy, wait (default true), state
 * (the controller's state directory; default $KILN_DEPLOY_STATE, else
 * <repository>/.kiln/state). Outputs: outcome (success|failure), message.
 * The blocking socket conversation runs on the libuv thread pool; progress
 * lines are logged when it ends.
 */
#include "base/kiln.h"
#include "deploy/app.h"
#include "deploy/deployd.h"
#include "actions/kiln_deploy.h"

struct kd {
	uv_work_t work, abort_work;
	struct builtin_call *c;
	char *state, *req, *abort_req;
	char *progress;    /* from open_memstream */
	size_t progress_len;
	struct buf final, abort_final;
	int code;
	int aborting;
};

static const char *input(struct builtin_call *c, const char *name)
{
	const struct ev *v = c->with ? ev_object_get(c->with, name) : NULL;
	size_t len = 0;
	if (v && ev_kind(v) == EV_BOOL)
		return ev_get_bool(v) ? "true" : "false";
	const char *s = v && ev_kind(v) == EV_STRING ? ev_get_str(v, &len) : NULL;
	return s && len ? s : NULL;
}

static void run(uv_work_t *w)
{
	struct kd *k = w->data;
	FILE *f = open_memstream(&k->progress, &k->progress_len);
	k->code = deployd_request(k->state, k->req, f, &k->final);
	if (f)
		fclose(f);
}

static void done(uv_work_t *w, int status)
{
	struct kd *k = w->data;
	struct builtin_call *c = k->c;
	int code = k->code;
	for (char *p = k->progress; p && *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		c->log(c, LOG_OUTPUT, p);
		p = nl ? nl + 1 : p + strlen(p);
	}
	c->log(c, k->code ? LOG_ERROR : LOG_OUTPUT, k->final.buf);
	struct ev *out = ev_object();
	ev_object_set(out, "outcome", ev_cstr(k->code ? "failure" : "success"));
	ev_object_set(out, "message", ev_cstr(k->final.buf));
	free(k->progress);
	k->progress = NULL;
	k->c = NULL;
	if (!k->aborting) {
		c->action_data = NULL;
		free(k->state);
		free(k->req);
		free(k->abort_req);
		buf_release(&k->final);
		buf_release(&k->abort_final);
		free(k);
	}
	/* else the abort request still runs; it frees k */
	c->complete(c, code == 0 && status == 0 ? RESULT_SUCCESS : RESULT_FAILURE, out);
}

static void run_abort(uv_work_t *w)
{
	struct kd *k = w->data;
	deployd_request(k->state, k->abort_req, NULL, &k->abort_final);
}

static void done_abort(uv_work_t *w, int status)
{
	struct kd *k = w->data;
	k->aborting = 0;
	if (!k->c) {
		free(k->state);
		free(k->req);
		free(k->abort_req);
		buf_release(&k->final);
		buf_release(&k->abort_final);
		free(k);
	}
}

int kiln_deploy_start(struct builtin_call *c, struct buf *err)
{
	const char *app = input(c, "app"), *version = input(c, "version");
	const char *strategy = input(c, "strategy"), *wait = input(c, "wait"), *state = input(c, "state");
	if (!app || !version) {
		buf_addstr(err, "kiln/deploy: inputs 'app' and 'version' are required");
		return KILN_EINVAL;
	}
	if (!deploy_name_ok(app) || !deploy_version_ok(version)) {
		buf_addf(err, "kiln/deploy: '%s' is not a valid %s", deploy_name_ok(app) ? version : app,
			 deploy_name_ok(app) ? "version" : "app name");
		return KILN_EINVAL;
	}
	if (strategy && strategy_parse(strategy) == STRAT_NONE) {
		buf_addf(err, "kiln/deploy: unknown strategy '%s' (rolling, blueGreen or canary)", strategy);
		return KILN_EINVAL;
	}
	int w = !wait || strcmp(wait, "false");
	struct kd *k = xcalloc(1, sizeof(*k));
	const char *envstate = c->env ? strvec_getenv(c->env, "KILN_DEPLOY_STATE") : NULL;
	k->state = state ? xstrdup(state) : envstate ? xstrdup(envstate) : xstrfmt("%s/.kiln/state", c->repo_dir);
	buf_init(&k->final, 0);
	buf_init(&k->abort_final, 0);
	struct buf r = BUF_INIT;
	buf_addstr(&r, "{\"cmd\":\"deploy\",\"app\":");
	buf_add_json_str(&r, app, strlen(app));
	buf_addstr(&r, ",\"version\":");
	buf_add_json_str(&r, version, strlen(version));
	if (strategy)
		buf_addf(&r, ",\"strategy\":\"%s\"", strategy_name(strategy_parse(strategy)));
	buf_addf(&r, ",\"user\":\"kiln/deploy\",\"wait\":%s}", w ? "true" : "false");
	k->req = buf_detach(&r, NULL);
	buf_addstr(&r, "{\"cmd\":\"abort\",\"app\":");
	buf_add_json_str(&r, app, strlen(app));
	buf_addch(&r, '}');
	k->abort_req = buf_detach(&r, NULL);
	k->c = c;
	c->action_data = k;
	k->work.data = k;
	c->log(c, LOG_OUTPUT, w ? "deploying and waiting for the rollout" : "starting the rollout");
	uv_queue_work(c->loop, &k->work, run, done);
	return 0;
}

void kiln_deploy_cancel(struct builtin_call *c)
{
	struct kd *k = c->action_data;
	if (!k || k->aborting)
		return;
	k->aborting = 1;
	k->abort_work.data = k;
	c->log(c, LOG_WARNING, "cancelled: aborting the rollout");
	uv_queue_work(c->loop, &k->abort_work, run_abort, done_abort);
}
