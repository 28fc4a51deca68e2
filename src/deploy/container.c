/*
 * container: instances of image apps as podman containers. An instance is
 * a foreground `podman run --rm` (its process group is the slot's pid, so
 * the supervisor in slot.c treats it like any process: SIGTERM is proxied
 * to the container, whose exit ends podman), the slot's loopback port
 * published to the container's, the environment in a 0600 env file, and
 * why it died read back from podman's own error line.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "deploy/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

void deploy__ctr_id(const char *state_dir, char out[17])
{
	unsigned char h[8];
	crypto_generichash(h, sizeof(h), (const unsigned char *)state_dir, strlen(state_dir), NULL, 0);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

void deploy__ctr_name(const struct slot *s, struct buf *out)
{
	buf_addf(out, "kiln-deploy-%s-%s-s%d", s->da->d->ctr_id, s->da->app->name, s->idx);
}

/* a registry on loopback is a local one, served over plain HTTP */
static int loopback_registry(const char *image)
{
	return str_starts_with(image, "localhost:") || str_starts_with(image, "localhost/") ||
	       str_starts_with(image, "127.0.0.1:");
}

/* the env file podman reads (--env-file): NAME=VALUE lines, 0600 */
static char *write_env_file(struct slot *s, const struct strvec *env, struct buf *err)
{
	struct deployd *d = s->da->d;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < env->nr; i++) {
		if (strchr(env->v[i], '\n')) {
			buf_addf(err, "env: the value of '%.*s' has a newline (not possible in a container's env)",
				 (int)strcspn(env->v[i], "="), env->v[i]);
			buf_release(&b);
			return NULL;
		}
		buf_addf(&b, "%s\n", env->v[i]);
	}
	char *dir = xstrfmt("%s/run", d->state_dir);
	mkdir(dir, 0700);
	char *path = xstrfmt("%s/%s-s%d.env", dir, s->da->app->name, s->idx);
	free(dir);
	int r = write_file_atomic(path, b.buf, b.len, 0600);
	buf_release(&b);
	if (r < 0) {
		buf_addf(err, "cannot write '%s': %s", path, strerror(-r));
		free(path);
		return NULL;
	}
	return path;
}

int deploy__ctr_cmd(struct slot *s, struct strvec *argv, struct strvec *penv, struct buf *err)
{
	struct deployd *d = s->da->d;
	const struct app *a = s->da->app;
	if (!d->pm.prog) {
		/* found and configured at the first image start (a controller of
		 * process apps does not need podman) */
		struct buf e = BUF_INIT;
		if (podman_init(&d->pm, NULL, &e) < 0) {
			podman_release(&d->pm);
			buf_addf(err, "cannot run image %s: %s", a->ctr.image, e.buf);
			buf_release(&e);
			return -1;
		}
		buf_release(&e);
	}
	/* the container's environment: the app's, then kiln's variables */
	struct strvec cenv = STRVEC_INIT;
	for (size_t i = 0; i < a->env.nr; i++)
		strvec_push(&cenv, a->env.v[i]);
	char v[32];
	snprintf(v, sizeof(v), "%d", a->ctr.port);
	strvec_setenv(&cenv, "PORT", v);
	strvec_setenv(&cenv, "KILN_RELEASE", s->version);
	strvec_setenv(&cenv, "KILN_APP", a->name);
	snprintf(v, sizeof(v), "%d", s->idx);
	strvec_setenv(&cenv, "KILN_INSTANCE", v);
	char *envfile = write_env_file(s, &cenv, err);
	strvec_clear(&cenv);
	if (!envfile)
		return -1;
	struct buf name = BUF_INIT;
	deploy__ctr_name(s, &name);
	strvec_push(argv, d->pm.prog);
	strvec_push(argv, "run");
	/* --replace: a container a killed podman left under this name goes */
	strvec_push(argv, "--rm");
	strvec_push(argv, "--replace");
	strvec_push(argv, "--init");
	strvec_push(argv, "--pull=missing");
	if (loopback_registry(a->ctr.image))
		strvec_push(argv, "--tls-verify=false");
	strvec_pushf(argv, "--name=%s", name.buf);
	strvec_pushf(argv, "--label=io.kiln.deploy=%s", d->state_dir);
	strvec_pushf(argv, "--label=io.kiln.app=%s", a->name);
	strvec_pushf(argv, "--label=io.kiln.release=%s", s->version);
	strvec_pushf(argv, "--publish=127.0.0.1:%d:%d", s->port, a->ctr.port);
	strvec_pushf(argv, "--env-file=%s", envfile);
	strvec_pushf(argv, "--stop-timeout=%d", (a->stop_timeout_ms + 999) / 1000);
	for (size_t i = 0; i < a->ctr.volumes.nr; i++)
		strvec_pushf(argv, "--volume=%s", a->ctr.volumes.v[i]);
	if (a->ctr.memory)
		strvec_pushf(argv, "--memory=%s", a->ctr.memory);
	if (a->ctr.cpus)
		strvec_pushf(argv, "--cpus=%s", a->ctr.cpus);
	if (a->ctr.pids)
		strvec_pushf(argv, "--pids-limit=%d", a->ctr.pids);
	struct buf ref = BUF_INIT;
	deploy_image_ref(a->ctr.image, s->version, &ref);
	strvec_push_nodup(argv, buf_detach(&ref, NULL));
	for (size_t i = 0; i < a->command.nr; i++)
		strvec_push(argv, a->command.v[i]);
	for (char **e = environ; *e; e++)
		strvec_push(penv, *e);
	podman_setenv(&d->pm, penv);
	free(envfile);
	buf_release(&name);
	return 0;
}

void deploy__ctr_exec_argv(const struct slot *s, const struct strvec *cmd, struct strvec *argv)
{
	struct buf name = BUF_INIT;
	deploy__ctr_name(s, &name);
	strvec_push(argv, s->da->d->pm.prog);
	strvec_push(argv, "exec");
	strvec_push(argv, name.buf);
	for (size_t i = 0; i < cmd->nr; i++)
		strvec_push(argv, cmd->v[i]);
	buf_release(&name);
}

/* the last line of the instance's log that starts with "Error: " (podman's) */
static void last_error(const char *path, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char tail[4096];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(tail) - 1 ? end - (off_t)sizeof(tail) + 1 : 0;
	ssize_t n = pread(fd, tail, sizeof(tail) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	tail[n] = '\0';
	const char *best = NULL, *last = NULL;
	for (char *line = tail; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (str_starts_with(line, "Error: "))
			best = line + 7;
		if (*line)
			last = line;
		line = nl ? nl + 1 : NULL;
	}
	if (best || last)
		buf_addstr(out, best ? best : last);
}

void deploy__ctr_reason(const struct slot *s, const char *logpath, int status, struct buf *out)
{
	const struct app *a = s->da->app;
	struct buf e = BUF_INIT, ref = BUF_INIT;
	last_error(logpath, &e);
	deploy_image_ref(a->ctr.image, s->version, &ref);
	if (status == 125 && (strstr(e.buf, "manifest unknown") || strstr(e.buf, "not found") ||
			      strstr(e.buf, "name unknown")))
		buf_addf(out, "image %s not found in the registry (wrong %s?)", ref.buf,
			 deploy_digest_ok(s->version) ? "digest" : "tag");
	else if (status == 125 && (strstr(e.buf, "connection refused") || strstr(e.buf, "pinging container registry") ||
				   strstr(e.buf, "no such host")))
		buf_addf(out, "cannot pull %s: registry unreachable (%s)", ref.buf, e.buf);
	else if (status == 125)
		buf_addf(out, "podman could not start %s: %s", ref.buf, e.len ? e.buf : "?");
	else if (status == 126 || status == 127)
		buf_addf(out, "the container's command cannot run (status %d)%s%s", status, e.len ? ": " : "", e.buf);
	else
		buf_addf(out, "exited with status %d%s%s", status, e.len ? ": " : "", e.buf);
	buf_release(&ref);
	buf_release(&e);
}

void deploy__ctr_remove(struct slot *s)
{
	struct deployd *d = s->da->d;
	if (!d->pm.prog)
		return;
	struct buf name = BUF_INIT;
	deploy__ctr_name(s, &name);
	struct strvec env = STRVEC_INIT;
	for (char **e = environ; *e; e++)
		strvec_push(&env, *e);
	podman_setenv(&d->pm, &env);
	char *argv[] = { d->pm.prog, "rm", "-f", "-t", "0", name.buf, NULL };
	run_sync(argv, env.v, NULL, 15000);
	strvec_clear(&env);
	buf_release(&name);
}
