/*
 * exec_docker: `uses: docker://IMAGE` steps and the stages of Docker
 * container actions (action.yml `runs.using: docker`: pre-entrypoint,
 * entrypoint, post-entrypoint, sequenced by exec_action.c as for
 * JavaScript actions) on podman. Each is one
 * `podman run --rm` whose output is the step's output: the job's directory
 * mounted at the same path (so GITHUB_WORKSPACE, GITHUB_OUTPUT, GITHUB_ENV
 * ... are valid inside), the workspace as working directory, the job's
 * network when it has services, the job's variables and INPUT_* by name.
 * An action whose `runs.image` is a Dockerfile is built first with
 * `podman build` (podman's layer cache makes a rebuild cheap).
 */
#include "base/kiln.h"
#include "engine/exec.h"
#include "engine/nodeaction.h"
#include "engine/podman.h"
#include "engine/services.h"

#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* what a docker step needs between its build and its run */
struct docker_step {
	struct step_run *sr;
	struct strvec argv, env;  /* the podman run */
};

static void docker_step_free(struct docker_step *ds)
{
	strvec_clear(&ds->argv);
	strvec_clear(&ds->env);
	free(ds);
}

static void start_run(struct docker_step *ds)
{
	struct step_run *sr = ds->sr;
	struct buf err = BUF_INIT;
	struct job_exec *je = sr->je;
	if (exec__files_reset(je, &err) < 0) {
		exec__log(je, LOG_ERROR, sr->name, err.buf, err.len);
		buf_release(&err);
		docker_step_free(ds);
		exec__step_complete(sr, RESULT_FAILURE);
		return;
	}
	je->cur = sr;
	sr->no_isolate = 1; /* the container is the isolation */
	exec__spawn(sr, &ds->argv, &ds->env, je->workspace, &err);
	buf_release(&err);
	docker_step_free(ds);
}

static void build_line(struct exec_cmd *cmd, int fd, const char *line, size_t len)
{
	struct docker_step *ds = cmd->data;
	(void)fd;
	/* the build's output is shown: it is what tells why a build failed */
	exec__log(ds->sr->je, LOG_OUTPUT, ds->sr->name, line, len);
}

static void build_done(struct exec_cmd *cmd)
{
	struct docker_step *ds = cmd->data;
	struct step_run *sr = ds->sr;
	int ok = !cmd->exit_status && !cmd->term_signal && !sr->cancelled;
	exec_cmd_release(cmd);
	free(cmd);
	sr->cmd = NULL;
	sr->je->cur = NULL;
	if (!ok) {
		if (!sr->cancelled)
			exec__logf(sr->je, LOG_ERROR, sr->name, "Docker build failed");
		docker_step_free(ds);
		exec__step_complete(sr, sr->cancelled ? RESULT_CANCELLED : RESULT_FAILURE);
		return;
	}
	if (sr->ar) /* its later stages run the image built now */
		sr->ar->image_built = 1;
	start_run(ds);
}

/* `podman build -t TAG DIR` as the step's current process, then the run */
static int start_build(struct docker_step *ds, const struct podman *pm, const char *tag,
		       const char *dockerfile, const char *dir, struct buf *err)
{
	struct step_run *sr = ds->sr;
	struct exec_cmd *cmd = xcalloc(1, sizeof(*cmd));
	exec_cmd_init(cmd);
	podman_cmd(pm, cmd);
	strvec_push(&cmd->args, "build");
	strvec_push(&cmd->args, "-q");
	strvec_push(&cmd->args, "-t");
	strvec_push(&cmd->args, tag);
	strvec_push(&cmd->args, "-f");
	strvec_push(&cmd->args, dockerfile);
	strvec_push(&cmd->args, dir);
	cmd->on_line = build_line;
	cmd->on_done = build_done;
	cmd->data = ds;
	cmd->grace_ms = sr->je->grace_ms;
	exec__logf(sr->je, LOG_INFO, sr->name, "Building the action's image from %s", dockerfile);
	int r = exec_cmd_start(sr->je->loop, cmd);
	if (r < 0) {
		buf_addf(err, "cannot run podman build: %s", uv_strerror(r));
		exec_cmd_release(cmd);
		free(cmd);
		return -1;
	}
	sr->cmd = cmd;
	sr->je->cur = sr;
	return 0;
}

/* a docker action's runs.args / runs.env / runs.entrypoint, evaluated
 * with its inputs as the `inputs` context; without runs.args (or
 * runs.entrypoint) the step's `with: args` (`entrypoint`), as GitHub's
 * runner does */
static int action_runs(struct step_run *sr, const struct composite *a, const struct ev *inputs,
		       struct strvec *args, struct strvec *env, char **entrypoint,
		       struct buf *err)
{
	struct job_exec *je = sr->je;
	const struct ynode *runs = ynode_get(a->root, "runs");
	struct frame *fr = exec__frame_new(sr->fr, NULL, 0);
	fr->inputs = ev_ref((struct ev *)inputs);
	int r = 0;
	const struct ynode *ar = ynode_get(runs, "args");
	const struct ev *with_args = ev_object_get(inputs, "args");
	if (!ar && with_args) {
		struct buf v = BUF_INIT;
		ev_to_string(with_args, &v);
		if (podman_split_words(v.buf, args, err) < 0)
			r = -1;
		buf_release(&v);
	}
	for (size_t i = 0; ar && ar->kind == YNODE_SEQ && i < ar->nr && !r; i++) {
		const struct ynode *n = ar->items[i];
		char *s = n->kind == YNODE_SCALAR
				  ? exec__eval_str(je, fr, sr->env, ynode_is_null(n) ? "" : n->str, err)
				  : NULL;
		if (!s) {
			if (!err->len)
				buf_addstr(err, "runs.args entries must be strings");
			exec__err_at(je, fr, n, err);
			r = -1;
			break;
		}
		strvec_push_nodup(args, s);
	}
	const struct ynode *en = ynode_get(runs, "env");
	if (!r && en && en->kind == YNODE_MAP) {
		struct ev *o = exec__eval_env(je, fr, sr->env, en, ev_object(), err);
		if (!o)
			r = -1;
		for (size_t i = 0; o && i < ev_len(o); i++) {
			struct buf v = BUF_INIT;
			ev_to_string(ev_object_val_at(o, i), &v);
			strvec_setenv(env, ev_object_key_at(o, i), v.buf);
			buf_release(&v);
		}
		ev_unref(o);
	}
	const struct ynode *ep = ynode_get(runs, "entrypoint");
	if (!r && ep && ep->kind == YNODE_SCALAR && !ynode_is_null(ep)) {
		*entrypoint = exec__eval_str(je, fr, sr->env, ep->str, err);
		if (!*entrypoint)
			r = -1;
	} else if (!r && !ep && ev_object_get(inputs, "entrypoint")) {
		struct buf v = BUF_INIT;
		ev_to_string(ev_object_get(inputs, "entrypoint"), &v);
		*entrypoint = buf_detach(&v, NULL);
	}
	exec__frame_free(fr);
	return r;
}

/* podman for the job, started once; -1 with the message in err */
static int job_podman(struct step_run *sr, struct buf *err)
{
	struct job_exec *je = sr->je;
	if (je->pm)
		return 0;
	struct buf why = BUF_INIT;
	je->pm = xcalloc(1, sizeof(*je->pm));
	if (podman_init(je->pm, strvec_getenv(&je->base_env, "PATH"), &why) < 0) {
		podman_release(je->pm);
		free(je->pm);
		je->pm = NULL;
		buf_addf(err, "job '%s' needs podman for step '%s': %s",
			 je->spec.job_key ? je->spec.job_key : "job", sr->name, why.buf);
		buf_release(&why);
		return -1;
	}
	buf_release(&why);
	return 0;
}

/* the image of Docker action a into tag; *dockerfile set (owned) when it
 * is built from one. -1 with err */
static int action_image(struct job_exec *je, const struct composite *a, struct buf *tag,
			char **dockerfile, struct buf *err)
{
	const struct ynode *runs = ynode_get(a->root, "runs");
	const struct ynode *im = ynode_get(runs, "image");
	const char *img = im && im->kind == YNODE_SCALAR ? im->str : NULL;
	if (!img || !*img) {
		buf_addf(err, "%s: a Docker action needs 'runs.image'", a->file);
		return -1;
	}
	if (!strncmp(img, "docker://", 9)) {
		buf_addstr(tag, img + 9);
		return 0;
	}
	/* a Dockerfile (or a directory holding one) of the action */
	char *df = xstrfmt("%s/%s", a->dir, img);
	struct stat st;
	if (stat(df, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *f = xstrfmt("%s/Dockerfile", df);
		free(df);
		df = f;
	}
	if (access(df, R_OK) != 0) {
		buf_addf(err, "%s: runs.image '%s': no such Dockerfile", a->file, img);
		free(df);
		return -1;
	}
	/* named after where the action lives: the same local action (its
	 * path in the workspace) or fetched one (the cache directory) keeps
	 * one tag from run to run */
	const char *key = a->dir;
	size_t wl = strlen(je->workspace);
	if (!strncmp(key, je->workspace, wl) && key[wl] == '/')
		key += wl + 1;
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	buf_addf(tag, "localhost/kiln-action:%016llx", (unsigned long long)h);
	*dockerfile = df;
	return 0;
}

/*
 * The podman run of a docker step into ds->argv (ds->env holds the
 * process environment already): image `tag`, container arguments args,
 * `entrypoint` (NULL: the image's), the action a's runs.env names (a may
 * be NULL), then build first from dockerfile when given. Completes the
 * step on failure.
 */
static void launch(struct docker_step *ds, const struct composite *a, const char *tag,
		   const struct strvec *args, const char *entrypoint, const char *dockerfile)
{
	struct step_run *sr = ds->sr;
	struct job_exec *je = sr->je;
	struct buf name = BUF_INIT, err = BUF_INIT;
	struct strvec *av = &ds->argv;
	strvec_push(av, je->pm->prog);
	strvec_push(av, "run");
	strvec_push(av, "--rm");
	strvec_push(av, "--name");
	char what[64];
	snprintf(what, sizeof(what), "step%zu-%llx", sr->st ? sr->st->index : 0,
		 (unsigned long long)(now_ns() & 0xffffff));
	podman_name(je->pm, je->spec.job_key ? je->spec.job_key : "job", what, &name);
	strvec_push(av, name.buf);
	podman_labels(je->pm, av, "step", je->spec.job_key ? je->spec.job_key : "job");
	const char *net = svc_network(je->svc);
	if (net) {
		strvec_push(av, "--network");
		strvec_push(av, net);
	}
	strvec_push(av, "-v");
	strvec_pushf(av, "%s:%s", je->dir, je->dir);
	strvec_push(av, "--workdir");
	strvec_push(av, je->workspace);
	/* the job's variables, the action's env: and its INPUT_* / STATE_* */
	struct ev *names = ev_ref(sr->env ? sr->env : je->global_env);
	const struct ynode *renv = a ? ynode_get(ynode_get(a->root, "runs"), "env") : NULL;
	for (size_t i = 0; renv && renv->kind == YNODE_MAP && i < ynode_map_size(renv); i++) {
		const struct ynode *k = ynode_map_key(renv, i);
		if (k->kind == YNODE_SCALAR && k->str)
			names = exec__obj_with(names, k->str, ev_cstr(""));
	}
	podman_pass_env(av, &ds->env, names);
	ev_unref(names);
	/* "/bin/sh -c": the program and its first arguments, as act reads it
	 * (Docker would look for a program of that name) */
	struct strvec ep = STRVEC_INIT;
	if (entrypoint && *entrypoint &&
	    (!strpbrk(entrypoint, " \t\n") || podman_split_words(entrypoint, &ep, &err) < 0 ||
	     !ep.nr)) {
		strvec_clear(&ep);
		strvec_push(&ep, entrypoint);
	}
	if (ep.nr) {
		strvec_push(av, "--entrypoint");
		strvec_push(av, ep.v[0]);
	}
	strvec_push(av, tag);
	for (size_t i = 1; i < ep.nr; i++)
		strvec_push(av, ep.v[i]);
	strvec_clear(&ep);
	buf_reset(&err);
	for (size_t i = 0; i < args->nr; i++)
		strvec_push(av, args->v[i]);
	podman_setenv(je->pm, &ds->env);
	buf_release(&name);
	if (!dockerfile) {
		start_run(ds);
		return;
	}
	char *dir = xstrdup(a->dir);
	int r = start_build(ds, je->pm, tag, dockerfile, dir, &err);
	free(dir);
	if (r < 0) {
		docker_step_free(ds);
		exec__log(je, LOG_ERROR, sr->name, err.buf, err.len);
		exec__step_complete(sr, RESULT_FAILURE);
	}
	buf_release(&err);
}

static struct docker_step *docker_step_new(struct step_run *sr)
{
	struct docker_step *ds = xcalloc(1, sizeof(*ds));
	ds->sr = sr;
	ds->argv = (struct strvec)STRVEC_INIT;
	ds->env = (struct strvec)STRVEC_INIT;
	return ds;
}

void exec__docker_stage(struct step_run *sr, const char *entry)
{
	struct job_exec *je = sr->je;
	struct action_run *ar = sr->ar;
	struct buf err = BUF_INIT, tag = BUF_INIT;
	struct strvec args = STRVEC_INIT;
	char *entrypoint = NULL, *dockerfile = NULL;
	struct docker_step *ds = docker_step_new(sr);
	if (job_podman(sr, &err) < 0)
		goto fail;
	exec__proc_env(sr, &ds->env);
	if (action_runs(sr, ar->def, ar->inputs, &args, &ds->env, &entrypoint, &err) < 0 ||
	    action_image(je, ar->def, &tag, &dockerfile, &err) < 0)
		goto fail;
	if (entry) { /* pre-entrypoint / post-entrypoint: the same image and args */
		free(entrypoint);
		entrypoint = xstrdup(entry);
	}
	nodeaction_env(ar->inputs, ar->state, &ds->env);
	launch(ds, ar->def, tag.buf, &args, entrypoint, ar->image_built ? NULL : dockerfile);
	ds = NULL;
fail:
	if (ds) {
		docker_step_free(ds);
		exec__log(je, LOG_ERROR, sr->name, err.buf, err.len);
		exec__step_complete(sr, RESULT_FAILURE);
	}
	strvec_clear(&args);
	free(entrypoint);
	free(dockerfile);
	buf_release(&err);
	buf_release(&tag);
}

void exec__start_docker(struct step_run *sr, const char *image, struct ev *with,
			struct ev *step_env)
{
	struct job_exec *je = sr->je;
	struct buf err = BUF_INIT;
	struct docker_step *ds = docker_step_new(sr);
	struct strvec args = STRVEC_INIT;
	struct ev *inputs = ev_object();
	char *entrypoint = NULL;
	ev_unref(step_env);
	if (job_podman(sr, &err) < 0)
		goto fail;
	exec__proc_env(sr, &ds->env);
	/* `args` and `entrypoint` are the container's, other inputs are
	 * INPUT_* (GitHub) */
	for (size_t i = 0; with && i < ev_len(with); i++) {
		const char *k = ev_object_key_at(with, i);
		struct buf v = BUF_INIT;
		ev_to_string(ev_object_val_at(with, i), &v);
		if (!strcasecmp(k, "args")) {
			if (podman_split_words(v.buf, &args, &err) < 0) {
				buf_release(&v);
				goto fail;
			}
		} else if (!strcasecmp(k, "entrypoint")) {
			free(entrypoint);
			entrypoint = xstrdup(v.buf);
		} else {
			ev_object_set(inputs, k, ev_cstr(v.buf));
		}
		buf_release(&v);
	}
	nodeaction_env(inputs, NULL, &ds->env);
	launch(ds, NULL, image, &args, entrypoint, NULL);
	ds = NULL;
fail:
	if (ds) {
		docker_step_free(ds);
		exec__log(je, LOG_ERROR, sr->name, err.buf, err.len);
		exec__step_complete(sr, RESULT_FAILURE);
	}
	ev_unref(inputs);
	ev_unref(with);
	strvec_clear(&args);
	free(entrypoint);
	buf_release(&err);
}
