/*
 * docker/login-action on podman: `podman login` to `registry` (Docker Hub
 * when empty) with `username` and `password`, the password masked in
 * every later output and given to podman on its stdin (a memfd), never on
 * a command line. The credentials go to a per-job auth file
 * (<RUNNER_TEMP>/containers-auth.json, or the REGISTRY_AUTH_FILE the job
 * set), exported as REGISTRY_AUTH_FILE to the following steps, so podman,
 * buildah and skopeo in those steps, kiln's build-push-action and Docker
 * steps use it and concurrent jobs never share a login. With `logout:
 * true` (the default) the action's post step removes the registry's entry
 * at the end of the job, as the action's own post step does.
 */
#include "base/kiln.h"
#include "actions/actions.h"
#include "base/fs.h"
#include "engine/podman.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <sys/mman.h>
#include <unistd.h>

struct login {
	struct builtin_call *c;
	struct podman pm;
	char *authfile, *registry;
	int logout, cancelled;
	struct exec_cmd *cmd;
};

static void login_free(struct login *l)
{
	podman_release(&l->pm);
	free(l->authfile);
	free(l->registry);
	free(l);
}

/* the post step: the registry's entry leaves the job's auth file (what
 * `podman logout --authfile` does; nothing else is in it to keep) */
static void logout_post(void *data, const struct builtin_post *p)
{
	struct login *l = data;
	{
		struct buf msg = BUF_INIT;
		buf_addf(&msg, "Logging out of %s", l->registry);
		json_error_t je;
		json_t *root = json_load_file(l->authfile, 0, &je);
		json_t *auths = json_object_get(root, "auths");
		if (auths && json_object_get(auths, l->registry)) {
			json_object_del(auths, l->registry);
			char *text = json_dumps(root, JSON_INDENT(1));
			int r = text ? write_file_atomic(l->authfile, text, strlen(text), 0600) : -1;
			if (r < 0)
				buf_addf(&msg, ": cannot rewrite '%s'", l->authfile);
			if (text) {
				sodium_memzero(text, strlen(text));
				free(text);
			}
		}
		json_decref(root);
		p->log(p, LOG_INFO, msg.buf);
		buf_release(&msg);
	}
	login_free(l);
}

static int loopback(const char *reg)
{
	return !strncmp(reg, "localhost:", 10) || !strncmp(reg, "127.0.0.1:", 10) ||
	       !strcmp(reg, "localhost");
}

static void on_line(struct exec_cmd *cmd, int fd, const char *line, size_t len)
{
	struct login *l = cmd->data;
	struct buf b = BUF_INIT;
	(void)fd;
	buf_add(&b, line, len);
	l->c->log(l->c, LOG_OUTPUT, b.buf);
	buf_release(&b);
}

static void on_done(struct exec_cmd *cmd)
{
	struct login *l = cmd->data;
	struct builtin_call *c = l->c;
	int ok = !cmd->exit_status && !cmd->term_signal && !l->cancelled;
	exec_cmd_release(cmd);
	free(cmd);
	l->cmd = NULL;
	c->action_data = NULL;
	if (!ok) {
		act_logf(c, LOG_ERROR, "%s", l->cancelled ? "cancelled"
				: "podman login failed (see its output above)");
		login_free(l);
		c->complete(c, RESULT_FAILURE, NULL);
		return;
	}
	c->set_env(c, "REGISTRY_AUTH_FILE", l->authfile);
	if (l->logout)
		c->at_job_end(c, logout_post, l);
	else
		login_free(l);
	c->complete(c, RESULT_SUCCESS, NULL);
}

/* a memfd holding the password: podman reads it as its stdin */
static int password_fd(const char *password, struct buf *err)
{
	int fd = memfd_create("kiln-login", MFD_CLOEXEC);
	if (fd < 0) {
		buf_addf(err, "memfd_create: %s", strerror(errno));
		return -1;
	}
	if (fs_write_all(fd, password, strlen(password)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		buf_addf(err, "cannot hand the password to podman: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int act_docker_login_start(struct builtin_call *c, struct buf *err)
{
	const char *registry = act_input(c, "registry"), *user = act_input(c, "username"),
		   *password = act_input(c, "password");
	if (!*user || !*password) {
		buf_addstr(err, "Username and password required");
		return KILN_EINVAL;
	}
	c->add_mask(c, password);
	struct login *l = xcalloc(1, sizeof(*l));
	l->c = c;
	l->registry = xstrdup(*registry ? registry : "docker.io");
	if (act_input_bool(c, "logout", 1, &l->logout, err) < 0 ||
	    podman_init(&l->pm, strvec_getenv(c->env, "PATH"), err) < 0) {
		login_free(l);
		return KILN_EINVAL;
	}
	const char *have = strvec_getenv(c->env, "REGISTRY_AUTH_FILE");
	l->authfile = have && *have ? xstrdup(have) : xstrfmt("%s/containers-auth.json", c->temp);
	if (*act_input(c, "ecr") && strcmp(act_input(c, "ecr"), "false") &&
	    strcmp(act_input(c, "ecr"), "auto"))
		act_logf(c, LOG_WARNING, "ecr: kiln logs in with the username and password given");
	int fd = password_fd(password, err);
	if (fd < 0) {
		login_free(l);
		return KILN_EINVAL;
	}
	struct exec_cmd *cmd = xcalloc(1, sizeof(*cmd));
	exec_cmd_init(cmd);
	podman_cmd(&l->pm, cmd);
	strvec_push(&cmd->args, "login");
	strvec_push(&cmd->args, "--authfile");
	strvec_push(&cmd->args, l->authfile);
	strvec_push(&cmd->args, "--username");
	strvec_push(&cmd->args, user);
	strvec_push(&cmd->args, "--password-stdin");
	if (loopback(l->registry))
		strvec_push(&cmd->args, "--tls-verify=false");
	strvec_push(&cmd->args, l->registry);
	cmd->in_fd = fd;
	cmd->on_line = on_line;
	cmd->on_done = on_done;
	cmd->data = l;
	act_logf(c, LOG_INFO, "Logging into %s", l->registry);
	int r = exec_cmd_start(c->loop, cmd);
	close(fd);
	if (r < 0) {
		buf_addf(err, "cannot run podman login: %s", uv_strerror(r));
		exec_cmd_release(cmd);
		free(cmd);
		login_free(l);
		return KILN_EINVAL;
	}
	l->cmd = cmd;
	c->action_data = l;
	return 0;
}

void act_docker_login_cancel(struct builtin_call *c)
{
	struct login *l = c->action_data;
	if (!l || !l->cmd)
		return;
	l->cancelled = 1;
	exec_cmd_kill(l->cmd, SIGINT, 2000);
}
