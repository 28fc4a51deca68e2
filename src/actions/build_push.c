/*
 * docker/build-push-action on podman: `podman build` of `context` (the
 * workspace by default) with `file`, `build-args`, `target`, `labels` and
 * `tags`, then, with `push: true`, `podman push` of each tag to the
 * registry its name gives (plain HTTP for registries on loopback, as a
 * local registry is). Outputs `imageid` and `digest` (of the last push),
 * as the action documents them. The build's and pushes' output is the
 * step's output.
 */
#include "base/kiln.h"
#include "actions/actions.h"
#include "engine/podman.h"

#include <unistd.h>

struct bp {
	struct builtin_call *c;
	struct podman pm;
	struct strvec tags;
	size_t next_push;      /* tags pushed so far */
	int push, cancelled;
	char *digest_file;
	char *imageid;
	struct exec_cmd *cmd;  /* running podman command */
};

static void bp_free(struct bp *b)
{
	podman_release(&b->pm);
	strvec_clear(&b->tags);
	if (b->digest_file)
		unlink(b->digest_file);
	free(b->digest_file);
	free(b->imageid);
	free(b);
}

static void finish(struct bp *b, enum result r)
{
	struct builtin_call *c = b->c;
	struct ev *o = NULL;
	if (r == RESULT_SUCCESS) {
		o = ev_object();
		ev_object_set(o, "imageid", ev_cstr(b->imageid ? b->imageid : ""));
		struct buf d = BUF_INIT;
		if (b->digest_file && buf_read_file(&d, b->digest_file) >= 0)
			buf_rtrim(&d);
		ev_object_set(o, "digest", ev_cstr(d.buf));
		buf_release(&d);
	}
	c->action_data = NULL;
	bp_free(b);
	c->complete(c, r, o);
}

static void on_line(struct exec_cmd *cmd, int fd, const char *line, size_t len)
{
	struct bp *b = cmd->data;
	(void)fd;
	struct buf l = BUF_INIT;
	buf_add(&l, line, len);
	b->c->log(b->c, LOG_OUTPUT, l.buf);
	/* `podman build` prints the image id last (64 hex digits) */
	if (!b->next_push && len == 64 && strspn(l.buf, "0123456789abcdef") == 64) {
		free(b->imageid);
		b->imageid = xstrfmt("sha256:%s", l.buf);
	}
	buf_release(&l);
}

static int loopback(const char *tag)
{
	return !strncmp(tag, "localhost:", 10) || !strncmp(tag, "127.0.0.1:", 10) ||
	       !strncmp(tag, "localhost/", 10);
}

static void step(struct bp *b);

static void on_done(struct exec_cmd *cmd)
{
	struct bp *b = cmd->data;
	int ok = !cmd->exit_status && !cmd->term_signal;
	exec_cmd_release(cmd);
	free(cmd);
	b->cmd = NULL;
	if (!ok || b->cancelled) {
		b->c->log(b->c, LOG_ERROR, b->cancelled ? "cancelled"
							: b->next_push ? "podman push failed"
								       : "podman build failed");
		finish(b, RESULT_FAILURE);
		return;
	}
	step(b);
}

static int start(struct bp *b, struct strvec *args)
{
	struct exec_cmd *cmd = xcalloc(1, sizeof(*cmd));
	exec_cmd_init(cmd);
	podman_cmd(&b->pm, cmd);
	for (size_t i = 0; i < args->nr; i++)
		strvec_push(&cmd->args, args->v[i]);
	strvec_clear(args);
	cmd->on_line = on_line;
	cmd->on_done = on_done;
	cmd->data = b;
	cmd->cwd = b->c->workspace;
	int r = exec_cmd_start(b->c->loop, cmd);
	cmd->cwd = NULL;
	if (r < 0) {
		exec_cmd_release(cmd);
		free(cmd);
		return r;
	}
	b->cmd = cmd;
	return 0;
}

/* the build ended (or a push): push the next tag, or finish */
static void step(struct bp *b)
{
	if (!b->push || b->next_push >= b->tags.nr) {
		finish(b, RESULT_SUCCESS);
		return;
	}
	const char *tag = b->tags.v[b->next_push++];
	struct strvec a = STRVEC_INIT;
	strvec_push(&a, "push");
	if (loopback(tag))
		strvec_push(&a, "--tls-verify=false");
	strvec_push(&a, "--digestfile");
	strvec_push(&a, b->digest_file);
	strvec_push(&a, tag);
	if (start(b, &a) < 0) {
		b->c->log(b->c, LOG_ERROR, "cannot run podman push");
		finish(b, RESULT_FAILURE);
	}
}

/* tags: one per line or separated by commas */
static void split_list(const char *s, struct strvec *out)
{
	struct buf w = BUF_INIT;
	for (;; s++) {
		if (!*s || *s == ',' || *s == '\n') {
			buf_rtrim(&w);
			const char *t = w.buf;
			while (*t == ' ' || *t == '\t')
				t++;
			if (*t)
				strvec_push(out, t);
			buf_reset(&w);
			if (!*s)
				break;
		} else {
			buf_addch(&w, *s);
		}
	}
	buf_release(&w);
}

int act_build_push_start(struct builtin_call *c, struct buf *err)
{
	struct bp *b = xcalloc(1, sizeof(*b));
	b->c = c;
	b->tags = (struct strvec)STRVEC_INIT;
	if (act_input_bool(c, "push", 0, &b->push, err) < 0) {
		bp_free(b);
		return KILN_EINVAL;
	}
	if (podman_init(&b->pm, strvec_getenv(c->env, "PATH"), err) < 0) {
		bp_free(b);
		return KILN_EINVAL;
	}
	split_list(act_input(c, "tags"), &b->tags);
	if (b->push && !b->tags.nr) {
		buf_addstr(err, "push is true but no tags are given");
		bp_free(b);
		return KILN_EINVAL;
	}
	b->digest_file = xstrfmt("%s/build-push-%s.digest", c->temp, c->job_key);
	struct strvec a = STRVEC_INIT, lines = STRVEC_INIT;
	strvec_push(&a, "build");
	const char *file = act_input(c, "file"), *target = act_input(c, "target");
	if (*file) {
		strvec_push(&a, "-f");
		strvec_push(&a, file);
	}
	if (*target) {
		strvec_push(&a, "--target");
		strvec_push(&a, target);
	}
	act_input_lines(c, "build-args", &lines);
	for (size_t i = 0; i < lines.nr; i++) {
		strvec_push(&a, "--build-arg");
		strvec_push(&a, lines.v[i]);
	}
	strvec_clear(&lines);
	act_input_lines(c, "labels", &lines);
	for (size_t i = 0; i < lines.nr; i++) {
		strvec_push(&a, "--label");
		strvec_push(&a, lines.v[i]);
	}
	strvec_clear(&lines);
	for (size_t i = 0; i < b->tags.nr; i++) {
		strvec_push(&a, "-t");
		strvec_push(&a, b->tags.v[i]);
	}
	const char *ctx = act_input(c, "context");
	strvec_push(&a, *ctx ? ctx : ".");
	int r = start(b, &a);
	if (r < 0) {
		buf_addf(err, "cannot run podman build: %s", uv_strerror(r));
		bp_free(b);
		return KILN_EINVAL;
	}
	c->action_data = b;
	return 0;
}

void act_build_push_cancel(struct builtin_call *c)
{
	struct bp *b = c->action_data;
	if (!b)
		return;
	b->cancelled = 1;
	if (b->cmd)
		exec_cmd_kill(b->cmd, SIGINT, 2000);
}
