/* jobwire: jobs, log events and results as JSON (see jobwire.h). */
#include "base/kiln.h"
#include "engine/jobwire.h"

#include <jansson.h>

/* the run's environment an agent needs: GitHub's variables, not the
 * server's own PATH, HOME or KILN_*, nor paths on the server (the agent
 * sets GITHUB_EVENT_PATH and RUNNER_TOOL_CACHE itself) */
static int wired_env(const char *e)
{
	if (str_starts_with(e, "GITHUB_EVENT_PATH=") || str_starts_with(e, "RUNNER_TOOL_CACHE=") ||
	    str_starts_with(e, "RUNNER_NAME="))
		return 0;
	return str_starts_with(e, "GITHUB_") || str_starts_with(e, "RUNNER_") ||
	       str_starts_with(e, "CI=");
}

void jobwire_encode(const struct job_spec *spec, const char *workflow_rel, struct buf *out)
{
	struct ev *c = ev_object();
	for (size_t i = 0; spec->contexts && i < ev_len(spec->contexts); i++) {
		const char *k = ev_object_key_at(spec->contexts, i);
		if (strcasecmp(k, "secrets"))
			ev_object_set(c, k, ev_ref((struct ev *)ev_object_val_at(spec->contexts, i)));
	}
	struct buf cj = BUF_INIT;
	ev_to_json(c, &cj, 0);
	ev_unref(c);
	json_t *env = json_array();
	for (size_t i = 0; spec->base_env && i < spec->base_env->nr; i++)
		if (wired_env(spec->base_env->v[i]))
			json_array_append_new(env, json_string(spec->base_env->v[i]));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:b}", "workflow", workflow_rel,
			      "job", spec->job_id, "name", spec->display_name, "key", spec->job_key,
			      "contexts", cj.buf, "env", env, "timeout_ms",
			      (json_int_t)spec->timeout_ms, "verbose", spec->verbose);
	buf_release(&cj);
	char *s = json_dumps(o, JSON_COMPACT);
	buf_addstr(out, s);
	free(s);
	json_decref(o);
}

int jobwire_decode(const char *json, struct jobwire *out, struct buf *err)
{
	memset(out, 0, sizeof(*out));
	json_error_t je;
	json_t *o = json_loads(json, 0, &je);
	const char *wf = NULL, *job = NULL, *name = NULL, *key = NULL, *ctx = NULL;
	json_t *env = NULL;
	json_int_t tmo = 0;
	int verbose = 0;
	if (!o || json_unpack_ex(o, &je, 0, "{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:b}", "workflow",
				 &wf, "job", &job, "name", &name, "key", &key, "contexts", &ctx,
				 "env", &env, "timeout_ms", &tmo, "verbose", &verbose) ||
	    !json_is_array(env)) {
		buf_addf(err, "malformed job: %s", je.text);
		json_decref(o);
		return -1;
	}
	out->contexts = ev_from_json(ctx, strlen(ctx), err);
	if (!out->contexts || ev_kind(out->contexts) != EV_OBJECT) {
		if (out->contexts)
			buf_addstr(err, "malformed job: contexts is not an object");
		ev_unref(out->contexts);
		out->contexts = NULL;
		json_decref(o);
		return -1;
	}
	out->workflow = xstrdup(wf);
	out->job = xstrdup(job);
	out->name = xstrdup(name);
	out->key = xstrdup(key);
	out->timeout_ms = tmo > 0 ? (uint64_t)tmo : 0;
	out->verbose = verbose;
	size_t i;
	json_t *v;
	json_array_foreach(env, i, v)
		if (json_is_string(v) && wired_env(json_string_value(v)))
			strvec_push(&out->env, json_string_value(v));
	json_decref(o);
	return 0;
}

void jobwire_release(struct jobwire *w)
{
	free(w->workflow);
	free(w->job);
	free(w->name);
	free(w->key);
	ev_unref(w->contexts);
	strvec_clear(&w->env);
	memset(w, 0, sizeof(*w));
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

void jobwire_log_encode(const struct log_event *ev, struct buf *out)
{
	json_t *o = json_object();
	json_object_set_new(o, "k", json_integer(ev->kind));
	json_object_set_new(o, "t", json_stringn(ev->text ? ev->text : "", ev->text ? ev->len : 0));
	set_str(o, "s", ev->step);
	set_str(o, "f", ev->file);
	set_str(o, "ti", ev->title);
	if (ev->kind == LOG_STEP_END) {
		json_object_set_new(o, "r", json_integer(ev->result));
		json_object_set_new(o, "e", json_integer((json_int_t)ev->elapsed_ns));
	}
	if (ev->line)
		json_object_set_new(o, "l", json_integer(ev->line));
	if (ev->col)
		json_object_set_new(o, "c", json_integer(ev->col));
	char *s = json_dumps(o, JSON_COMPACT);
	buf_addstr(out, s);
	free(s);
	json_decref(o);
}

static const char *get_str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int jobwire_log_decode(const char *json, const char *job, struct log_event *ev, void **hold)
{
	json_t *o = json_loads(json, 0, NULL);
	*hold = o;
	memset(ev, 0, sizeof(*ev));
	json_t *k = json_object_get(o, "k"), *t = json_object_get(o, "t");
	if (!json_is_integer(k) || !json_is_string(t) || json_integer_value(k) < LOG_OUTPUT ||
	    json_integer_value(k) > LOG_ARTIFACT)
		return -1;
	ev->kind = (enum log_kind)json_integer_value(k);
	ev->job = job;
	ev->text = json_string_value(t);
	ev->len = json_string_length(t);
	ev->step = get_str(o, "s");
	ev->file = get_str(o, "f");
	ev->title = get_str(o, "ti");
	json_int_t r = json_integer_value(json_object_get(o, "r"));
	ev->result = r >= RESULT_SUCCESS && r <= RESULT_SKIPPED ? (enum result)r : RESULT_FAILURE;
	ev->elapsed_ns = (uint64_t)json_integer_value(json_object_get(o, "e"));
	ev->line = (int)json_integer_value(json_object_get(o, "l"));
	ev->col = (int)json_integer_value(json_object_get(o, "c"));
	return 0;
}

void jobwire_log_free(void *hold)
{
	json_decref(hold);
}

int jobwire_result_parse(const char *name)
{
	for (int r = RESULT_SUCCESS; r <= RESULT_SKIPPED; r++)
		if (name && !strcmp(name, result_name((enum result)r)))
			return r;
	return -1;
}
