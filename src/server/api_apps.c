/*
 * api_apps: the GitOps apps of the deploy controller (server/controller.h)
 * — GET /api/v1/apps[/APP]: per app Synced/OutOfSync with the config
 * commit, Healthy/Progressing/Degraded/Missing with the reason, the
 * desired and live release, the last sync and its commit; POST
 * /api/v1/apps/APP/sync (deployer, audited): roll out what git says now.
 * Answers come from the controller, asked on the thread pool; the UI's
 * Apps page (ui_apps.c) uses the same two requests.
 */
#include "base/kiln.h"
#include "deploy/app.h"
#include "server/api.h"
#include "server/controller.h"
#include "server/srv.h"
#include "store/audit.h"

struct list_arg {
	api_apps_cb *done;
	void *arg;
};

static void listed(struct srv *s, struct http_req *q, int code, const char *msg, void *arg)
{
	struct list_arg a = *(struct list_arg *)arg;
	json_t *list = NULL;
	json_error_t je;
	struct buf err = BUF_INIT;
	free(arg);
	if (code) {
		buf_addstr(&err, msg);
		buf_addstr(&err, s->controller ? " (kiln serve restarts it: see its deployd.log)"
					       : " (no gitops: in kiln serve's --config, and no kiln "
						 "deployd running on its state directory)");
	} else if (!(list = json_loads(msg, 0, &je)) || !json_is_array(json_object_get(list, "apps"))) {
		buf_addf(&err, "the controller's answer is not the apps list: %s", je.text);
		json_decref(list);
		list = NULL;
	} else {
		json_object_set_new(list, "controller", controller_json(s->controller));
	}
	a.done(s, q, list, err.buf, a.arg);
	json_decref(list);
	buf_release(&err);
}

void api_apps_list(struct srv *s, struct http_req *q, api_apps_cb *done, void *arg)
{
	struct list_arg *a = xcalloc(1, sizeof(*a));
	a->done = done;
	a->arg = arg;
	controller_ask(s, q, json_pack("{s:s,s:b}", "cmd", "apps", "json", 1), listed, a);
}

json_t *api_apps_find(json_t *list, const char *app)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(list, "apps"), i, v) {
		json_t *name = json_object_get(v, "app");
		if (json_is_string(name) && !strcmp(json_string_value(name), app))
			return v;
	}
	return NULL;
}

/* the list, or one app (arg: its name, owned) */
static void reply_list(struct srv *s, struct http_req *q, json_t *list, const char *err, void *arg)
{
	char *app = arg;
	json_t *one = list && app ? api_apps_find(list, app) : NULL;
	(void)s;
	if (!q) /* the client left */
		goto out;
	if (!list)
		http_reply_error(q, 503, "controller_unavailable", "%s", err);
	else if (!app)
		http_reply_json(q, 200, json_incref(list));
	else if (!one)
		http_reply_error(q, 404, "unknown_app", "no app '%s' in the config repository", app);
	else {
		json_object_set(one, "config", json_object_get(list, "config"));
		json_object_set(one, "controller", json_object_get(list, "controller"));
		http_reply_json(q, 200, json_incref(one));
	}
out:
	free(app);
}

/* GET /api/v1/apps */
static void on_list(struct srv *s, struct http_req *q)
{
	api_apps_list(s, q, reply_list, NULL);
}

/*
 * An app name is [A-Za-z0-9._-], at most 64 bytes (deploy_name_ok): any
 * other is refused here, before the controller is asked, and is never
 * echoed (it may not even be UTF-8, which JSON cannot carry).
 */
#define BAD_NAME_MSG "not an app name: an app name is letters, digits, '.', '_' and '-', at most 64 bytes"

/* GET /api/v1/apps/:app */
static void on_get(struct srv *s, struct http_req *q)
{
	const char *app = http_req_param(q, "app");
	if (!deploy_name_ok(app)) {
		http_reply_error(q, 400, "invalid_app_name", BAD_NAME_MSG);
		return;
	}
	api_apps_list(s, q, reply_list, xstrdup(app));
}

struct sync_arg {
	char *app, *actor;
	api_sync_cb *done;
	void *arg;
};

static void synced(struct srv *s, struct http_req *q, int code, const char *msg, void *arg)
{
	struct sync_arg *a = arg;
	struct buf err = BUF_INIT, detail = BUF_INIT;
	int status;
	if (code != EXIT_INTERNAL) { /* it reached the controller: on the record */
		buf_addf(&detail, "exit %d: %s", code, msg);
		audit_append(s->db, a->actor, "app.sync", NULL, a->app, detail.buf, &err);
	}
	if (code == 0)
		status = 202;
	else if (code == EXIT_USAGE && str_starts_with(msg, "unknown app"))
		status = 404;
	else if (code == EXIT_INTERNAL)
		status = 503;
	else /* a file that does not load, an app not from git, a rollout running */
		status = 409;
	a->done(s, q, status, msg, a->arg);
	buf_release(&err);
	buf_release(&detail);
	free(a->app);
	free(a->actor);
	free(a);
}

void api_apps_sync(struct srv *s, struct http_req *q, const char *app, const char *actor,
		   api_sync_cb *done, void *arg)
{
	if (!deploy_name_ok(app)) {
		done(s, q, 400, BAD_NAME_MSG, arg);
		return;
	}
	struct sync_arg *a = xcalloc(1, sizeof(*a));
	a->app = xstrdup(app);
	a->actor = xstrdup(actor ? actor : "unknown");
	a->done = done;
	a->arg = arg;
	controller_ask(s, q, json_pack("{s:s,s:s,s:s}", "cmd", "sync", "app", app, "user", a->actor),
		       synced, a);
}

static void reply_sync(struct srv *s, struct http_req *q, int status, const char *msg, void *arg)
{
	char *app = arg;
	static const char *const codes[] = { [0] = "invalid_app_name", [404 - 400] = "unknown_app",
					     [409 - 400] = "sync_refused" };
	(void)s;
	if (q && status == 202)
		http_reply_json(q, 202, json_pack("{s:s,s:s,s:s}", "app", app, "status", "accepted",
						  "message", msg));
	else if (q)
		http_reply_error(q, status, status == 503 ? "controller_unavailable" : codes[status - 400],
				 "%s", msg);
	free(app);
}

/* POST /api/v1/apps/:app/sync */
static void on_sync(struct srv *s, struct http_req *q)
{
	const char *app = http_req_param(q, "app");
	api_apps_sync(s, q, app, api__actor(q), reply_sync, xstrdup(app));
}

void api_apps_register(struct srv *s)
{
	http_route(s, "GET", "/api/v1/apps", ROLE_VIEWER, on_list);
	http_route(s, "GET", "/api/v1/apps/:app", ROLE_VIEWER, on_get);
	http_route(s, "POST", "/api/v1/apps/:app/sync", ROLE_DEPLOYER, on_sync);
}
