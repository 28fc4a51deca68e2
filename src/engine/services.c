/*
 * services: `services:` containers of a job on podman (see services.h).
 *
 * One sequence of podman commands on the job's loop, one at a time:
 * remove what dead kiln processes left (containers, networks, volumes
 * labelled io.kiln.owner with a dead owner), create the job's network,
 * `podman run -d` each service, read its published ports, then wait for
 * each to be healthy. Podman runs health checks from systemd timers, which
 * a CI machine may not have, so kiln runs `podman healthcheck run` itself:
 * every min(--health-interval, 1 s) until it passes; a service is
 * unhealthy once --health-start-period plus --health-retries intervals
 * have passed without a healthy check (Docker's defaults: interval 30 s,
 * retries 3, start period 0). A container without a health check is ready
 * once it runs, as on GitHub.
 */
#include "base/kiln.h"
#include "engine/exec.h"
#include "engine/nodemount.h"
#include "engine/podman.h"
#include "engine/services.h"
#include "store/owner.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>

#define STEP_INIT "Initialize containers"
#define STEP_STOP "Stop containers"
/* captured output of one podman command, and a service's logs shown */
#define OUT_MAX (256u * 1024)
#define POLL_MAX_MS 1000

struct svc {
	char *id;              /* service id: its host name on the network */
	char *name;            /* container name */
	char *cid;             /* container id, once created */
	char *image;
	struct strvec args;    /* `podman run -d` arguments before the image */
	struct strvec env;     /* NAME=VALUE of its env: (passed as `-e NAME`) */
	struct ev *ports;      /* container port -> host port (strings) */
	int nports;            /* ports: entries given */
	uint64_t interval_ms, retries, start_ms;
	uint64_t started_ns;
};

enum state {
	S_REAP_PS, S_REAP_RM, S_REAP_NETLS, S_REAP_NETRM, S_REAP_VOLLS, S_REAP_VOLRM,
	S_NET, S_RUN, S_PORT, S_HEALTH, S_LOGS, S_CTR, S_CTR_BASH, S_READY,
	S_RM, S_NETRM, S_STOPPED,
};

struct svc_set {
	struct job_exec *je;
	struct podman pm;
	char *net;               /* the job's network (created when net_made) */
	int net_made;
	struct svc *s;
	size_t n, i;             /* services; the one being worked on */
	struct svc *ctr;         /* the job container (`container:`), or NULL */
	int has_bash;            /* bash is in the job container's PATH */
	struct nodemount node;   /* the host's node mounted in the job container */
	char *node_err;          /* why it is not (NULL when it is) */
	enum state state;
	struct exec_cmd *cmd;    /* running podman command, or NULL */
	struct buf out, err;     /* its stdout and stderr */
	struct strvec reap;      /* names of dead runs' objects to remove */
	const struct strvec *run_env; /* added to the next command's environment */
	uv_timer_t timer;        /* health check polling */
	int timer_open;
	uint64_t start_ns;       /* of the "Initialize containers" step */
	int failed, cancelled, stopping, announced;
	svc_ready_cb ready;
	svc_stopped_cb stopped;
};

static void next(struct svc_set *ss);

/* push the NULL-terminated words */
static void pushl(struct strvec *a, ...)
{
	va_list ap;
	va_start(ap, a);
	for (const char *w; (w = va_arg(ap, const char *));)
		strvec_push(a, w);
	va_end(ap);
}

/* err = "<prefix>" + err */
static void prefix(struct buf *err, const char *fmt, const char *id)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, fmt, id);
	buf_add(&b, err->buf, err->len);
	buf_reset(err);
	buf_add(err, b.buf, b.len);
	buf_release(&b);
}

static void logf_(struct svc_set *ss, enum log_kind k, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void logf_(struct svc_set *ss, enum log_kind k, const char *step, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	exec__log(ss->je, k, step, b.buf, b.len);
	buf_release(&b);
}

static void fail(struct svc_set *ss, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct svc_set *ss, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	exec__log(ss->je, LOG_ERROR, STEP_INIT, b.buf, b.len);
	buf_release(&b);
	ss->failed = 1;
}

/* ---- running one podman command ---- */

static void on_line(struct exec_cmd *cmd, int fd, const char *line, size_t len)
{
	struct svc_set *ss = cmd->data;
	struct buf *b = fd == 1 ? &ss->out : &ss->err;
	if (b->len + len + 1 > OUT_MAX)
		return;
	buf_add(b, line, len);
	buf_addch(b, '\n');
}

static void on_done(struct exec_cmd *cmd)
{
	struct svc_set *ss = cmd->data;
	next(ss);
}

/* start `podman ARGS...` (args consumed); its end calls next() */
static void run(struct svc_set *ss, struct strvec *args)
{
	struct exec_cmd *cmd = xcalloc(1, sizeof(*cmd));
	exec_cmd_init(cmd);
	podman_cmd(&ss->pm, cmd);
	for (size_t i = 0; i < args->nr; i++)
		strvec_push(&cmd->args, args->v[i]);
	strvec_clear(args);
	for (size_t i = 0; ss->run_env && i < ss->run_env->nr; i++) {
		const char *e = ss->run_env->v[i], *eq = strchr(e, '=');
		char *k = xstrndup(e, (size_t)(eq - e));
		strvec_setenv(&cmd->env, k, eq + 1);
		free(k);
	}
	ss->run_env = NULL;
	cmd->on_line = on_line;
	cmd->on_done = on_done;
	cmd->data = ss;
	cmd->grace_ms = 2000;
	buf_reset(&ss->out);
	buf_reset(&ss->err);
	if (ss->je->debug) {
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < cmd->args.nr; i++)
			buf_addf(&b, "%s%s", i ? " " : "", cmd->args.v[i]);
		exec__log(ss->je, LOG_DEBUG, ss->stopping ? STEP_STOP : STEP_INIT, b.buf, b.len);
		buf_release(&b);
	}
	int r = exec_cmd_start(ss->je->loop, cmd);
	if (r < 0) {
		exec_cmd_release(cmd);
		free(cmd);
		buf_addf(&ss->err, "cannot run podman: %s\n", uv_strerror(r));
		/* report from a fresh stack, as an exited command would */
		ss->cmd = NULL;
		next(ss);
		return;
	}
	ss->cmd = cmd;
}

/* the last command's exit status; frees it (-1 when it could not start) */
static int finish_cmd(struct svc_set *ss)
{
	struct exec_cmd *cmd = ss->cmd;
	if (!cmd)
		return -1;
	int st = cmd->term_signal ? -1 : (int)cmd->exit_status;
	exec_cmd_release(cmd);
	free(cmd);
	ss->cmd = NULL;
	return st;
}

/* each line of b as a line of output of "Initialize containers" */
static void log_lines(struct svc_set *ss, const struct buf *b)
{
	const char *p = b->buf, *end = b->buf + b->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		exec__log(ss->je, LOG_OUTPUT, STEP_INIT, p, n);
		p += n + 1;
	}
}

static void show_err(struct svc_set *ss, const char *step)
{
	(void)step;
	buf_rtrim(&ss->err);
	log_lines(ss, &ss->err);
}

/* ---- definitions ---- */

static void name_part(struct buf *b, const char *s)
{
	for (; *s && b->len < 180; s++)
		buf_addch(b, isalnum((unsigned char)*s) || *s == '-' || *s == '.' ? *s : '_');
}

static const char *str_at(const struct ev *o, const char *k)
{
	const struct ev *v = o && ev_kind(o) == EV_OBJECT ? ev_object_get(o, k) : NULL;
	return v && ev_kind(v) == EV_STRING ? ev_get_str(v, NULL) : NULL;
}

/* health options of a service from its options words */
static int health_opts(struct svc *sv, const struct strvec *w, struct buf *err)
{
	sv->interval_ms = 30000;
	sv->retries = 3;
	sv->start_ms = 0;
	for (size_t i = 0; i < w->nr; i++) {
		const char *o = w->v[i], *val = NULL;
		static const char *const names[] = { "--health-interval", "--health-retries",
						     "--health-start-period" };
		for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
			size_t l = strlen(names[k]);
			if (!strncmp(o, names[k], l) && (o[l] == '=' || !o[l])) {
				val = o[l] == '=' ? o + l + 1 : (i + 1 < w->nr ? w->v[i + 1] : "");
				if (k == 1) {
					char *end;
					unsigned long long r = strtoull(val, &end, 10);
					if (!*val || *end || r > 1000) {
						buf_addf(err, "bad %s '%s'", names[k], val);
						return -1;
					}
					sv->retries = r;
				} else if (podman_duration_ms(val, k ? &sv->start_ms
								    : &sv->interval_ms) < 0) {
					buf_addf(err, "bad %s '%s' (a duration such as 10s)", names[k],
						 val);
					return -1;
				}
			}
		}
	}
	if (!sv->interval_ms)
		sv->interval_ms = 30000;
	return 0;
}

static int str_list(const struct ev *o, const char *key, const char *flag, struct strvec *args,
		    int *count, struct buf *err)
{
	const struct ev *l = o ? ev_object_get(o, key) : NULL;
	if (!l || ev_kind(l) == EV_NULL)
		return 0;
	if (ev_kind(l) != EV_ARRAY) {
		buf_addf(err, "'%s' must be a list", key);
		return -1;
	}
	for (size_t i = 0; i < ev_len(l); i++) {
		const struct ev *e = ev_array_at(l, i);
		struct buf s = BUF_INIT;
		ev_to_string(e, &s);
		if (!s.len) {
			buf_release(&s);
			continue;
		}
		strvec_push(args, flag);
		/* a bare container port is published on a random host port */
		strvec_push(args, s.buf);
		buf_release(&s);
		if (count)
			(*count)++;
	}
	return 0;
}

/* one service's definition -> sv; 0, 1 when it is skipped (empty image), -1 */
static int define(struct svc_set *ss, struct svc *sv, const char *id, const struct ev *d,
		  int is_ctr, struct buf *err)
{
	struct job_exec *je = ss->je;
	sv->id = xstrdup(id);
	sv->ports = ev_object();
	const char *image = ev_kind(d) == EV_STRING ? ev_get_str(d, NULL) : str_at(d, "image");
	if (ev_kind(d) != EV_STRING && ev_kind(d) != EV_OBJECT) {
		buf_addf(err, "service '%s' must be an image or a mapping", id);
		return -1;
	}
	if (!image || !*image)
		return 1; /* GitHub: a service whose image is empty is not started */
	sv->image = xstrdup(image);
	struct buf nm = BUF_INIT;
	buf_addstr(&nm, "kiln-");
	name_part(&nm, ss->pm.owner);
	buf_addch(&nm, '-');
	name_part(&nm, je->spec.job_key ? je->spec.job_key : "job");
	buf_addch(&nm, '-');
	name_part(&nm, id);
	sv->name = buf_detach(&nm, NULL);

	struct strvec *a = &sv->args;
	pushl(a, "run", "-d", "--name", sv->name, "--network", ss->net, NULL);
	if (is_ctr) {
		/* the job's directory (workspace, RUNNER_TEMP, the file-command
		 * files) at the same path inside: every path kiln hands a step
		 * holds in both worlds; the container idles until steps exec */
		pushl(a, "-v", NULL);
		strvec_pushf(a, "%s:%s", je->dir, je->dir);
		pushl(a, "--workdir", je->workspace, "--entrypoint", "tail", NULL);
		/* JavaScript actions run inside with the host's node, mounted
		 * at /__e/node20 as GitHub mounts its own */
		struct buf why = BUF_INIT;
		int nr = nodemount_plan(strvec_getenv(&je->base_env, "PATH"), &ss->node, &why);
		if (nr == 1)
			ss->node_err = xstrdup("node is not installed on the host (not found on "
					       "PATH), so it cannot be mounted into the job container");
		else if (nr < 0)
			ss->node_err = xstrfmt("the host's node cannot be mounted into the job "
					       "container: %s", why.buf);
		buf_release(&why);
		for (size_t i = 0; i < ss->node.volumes.nr; i++)
			pushl(a, "-v", ss->node.volumes.v[i], NULL);
	} else {
		pushl(a, "--network-alias", id, NULL);
	}
	podman_labels(&ss->pm, a, ss->net, je->spec.job_key ? je->spec.job_key : "job");
	const struct ev *env = ev_kind(d) == EV_OBJECT ? ev_object_get(d, "env") : NULL;
	if (env && ev_kind(env) == EV_OBJECT) {
		for (size_t i = 0; i < ev_len(env); i++) {
			const char *k = ev_object_key_at(env, i);
			struct buf v = BUF_INIT;
			ev_to_string(ev_object_val_at(env, i), &v);
			strvec_push(a, "-e");
			/* the value in podman's environment, not on its command
			 * line where `ps` shows it (a secret often); podman's own
			 * variables stay literal */
			if (!*k || strchr(k, '=') || !strcmp(k, "PATH") || !strcmp(k, "HOME") ||
			    !strcmp(k, "TMPDIR") || !strncmp(k, "CONTAINERS_", 11) ||
			    !strncmp(k, "XDG_", 4)) {
				strvec_pushf(a, "%s=%s", k, v.buf);
			} else {
				strvec_push(a, k);
				strvec_pushf(&sv->env, "%s=%s", k, v.buf);
			}
			buf_release(&v);
		}
	} else if (env && ev_kind(env) != EV_NULL) {
		buf_addf(err, "service '%s': 'env' must be a mapping", id);
		return -1;
	}
	if (ev_kind(d) == EV_OBJECT) {
		if (str_list(d, "ports", "-p", a, &sv->nports, err) < 0 ||
		    str_list(d, "volumes", "-v", a, NULL, err) < 0) {
			prefix(err, "service '%s': ", id);
			return -1;
		}
		/* a registry on loopback is a local one, served over plain HTTP */
		if (!strncmp(sv->image, "localhost:", 10) || !strncmp(sv->image, "127.0.0.1:", 10))
			strvec_push(a, "--tls-verify=false");
		const struct ev *cr = ev_object_get(d, "credentials");
		const char *user = str_at(cr, "username"), *pass = str_at(cr, "password");
		if (user && *user) {
			/* an auth file in the job's temp directory (0600), never
			 * `--creds user:password` on a command line */
			char *f = xstrfmt("%s/auth-%s.json", je->temp, sv->name);
			if (podman_write_authfile(f, sv->image, user, pass ? pass : "", err) < 0) {
				free(f);
				return -1;
			}
			strvec_push(a, "--authfile");
			strvec_push_nodup(a, f);
		}
		const char *ep = is_ctr ? NULL : str_at(d, "entrypoint");
		if (ep && *ep)
			pushl(a, "--entrypoint", ep, NULL);
		const char *opts = str_at(d, "options");
		struct strvec w = STRVEC_INIT;
		if (opts && podman_split_words(opts, &w, err) < 0) {
			prefix(err, "service '%s': ", id);
			strvec_clear(&w);
			return -1;
		}
		if (health_opts(sv, &w, err) < 0) {
			prefix(err, "service '%s': ", id);
			strvec_clear(&w);
			return -1;
		}
		for (size_t i = 0; i < w.nr; i++)
			strvec_push(a, w.v[i]);
		strvec_clear(&w);
	}
	strvec_push(a, sv->image);
	if (is_ctr) {
		pushl(a, "-f", "/dev/null", NULL);
		return 0;
	}
	if (ev_kind(d) == EV_OBJECT) {
		const char *cmd = str_at(d, "command");
		struct strvec w = STRVEC_INIT;
		if (cmd && podman_split_words(cmd, &w, err) < 0) {
			strvec_clear(&w);
			return -1;
		}
		for (size_t i = 0; i < w.nr; i++)
			strvec_push(a, w.v[i]);
		strvec_clear(&w);
	}
	return 0;
}

static int define_all(struct svc_set *ss, struct buf *err)
{
	struct job_exec *je = ss->je;
	const struct ynode *cnode = je->spec.job->container;
	int line = 0, col = 0;
	if (cnode && !ynode_is_null(cnode)) {
		struct ev *c = exec__eval_node(je, je->top, NULL, cnode, err, &line, &col);
		if (!c)
			goto at;
		ss->ctr = xcalloc(1, sizeof(*ss->ctr));
		ss->ctr->args = (struct strvec)STRVEC_INIT;
		ss->ctr->env = (struct strvec)STRVEC_INIT;
		int d = define(ss, ss->ctr, "job", c, 1, err);
		ev_unref(c);
		if (d < 0)
			return -1;
		if (d == 1) { /* an empty image: the job runs on the host (GitHub) */
			ev_unref(ss->ctr->ports);
			free(ss->ctr->id);
			strvec_clear(&ss->ctr->args);
			strvec_clear(&ss->ctr->env);
			free(ss->ctr);
			ss->ctr = NULL;
		}
	}
	const struct ynode *node = je->spec.job->services;
	if (!node || ynode_is_null(node))
		return 0;
	struct ev *v = exec__eval_node(je, je->top, NULL, node, err, &line, &col);
	if (!v) {
	at:
		if (line)
		{
			struct buf at = BUF_INIT;
			buf_addf(&at, "%s:%d:%d: ", je->spec.wf ? je->spec.wf->file : "workflow",
				 line, col);
			prefix(err, "%s", at.buf);
			buf_release(&at);
		}
		return -1;
	}
	int r = 0;
	if (ev_kind(v) != EV_OBJECT) {
		buf_addstr(err, "'services' must be a mapping of service ids");
		r = -1;
		goto out;
	}
	ss->s = xcalloc(ev_len(v) ? ev_len(v) : 1, sizeof(*ss->s));
	for (size_t i = 0; i < ev_len(v) && !r; i++) {
		struct svc *sv = &ss->s[ss->n];
		sv->args = (struct strvec)STRVEC_INIT;
		sv->env = (struct strvec)STRVEC_INIT;
		int d = define(ss, sv, ev_object_key_at(v, i), ev_object_val_at(v, i), 0, err);
		if (d < 0)
			r = -1;
		ss->n++;
		if (d == 1) { /* skipped: keep the id out of the list */
			ev_unref(sv->ports);
			free(sv->id);
			strvec_clear(&sv->args);
			strvec_clear(&sv->env);
			memset(sv, 0, sizeof(*sv));
			ss->n--;
		}
	}
out:
	ev_unref(v);
	return r;
}

/* ---- the sequence ---- */

/* the owner label's value in podman's rendering of an object's labels:
 * "map[io.kiln.owner:TAG ...]" (containers, volumes) or
 * "io.kiln.job=x,io.kiln.owner=TAG" (networks); NUL-terminated in place */
static char *owner_in(char *labels)
{
	char *p = strstr(labels, PODMAN_LABEL_OWNER);
	if (!p)
		return NULL;
	p += strlen(PODMAN_LABEL_OWNER);
	if (*p != '=' && *p != ':')
		return NULL;
	p++;
	p[strcspn(p, " ,]")] = 0;
	return p;
}

static void reap_parse(struct svc_set *ss)
{
	char *p = ss->out.buf;
	while (*p) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		char *tab = strchr(p, '\t'), *tag;
		if (tab) {
			*tab = 0;
			/* only kiln's tags ("PID.START") of processes that are gone */
			if (*p && (tag = owner_in(tab + 1)) && owner_tag_dead(tag))
				strvec_push(&ss->reap, p);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
}

static void ls_cmd(struct svc_set *ss, const char *what, const char *field)
{
	struct strvec a = STRVEC_INIT;
	if (what)
		strvec_push(&a, what);
	pushl(&a, what ? "ls" : "ps", NULL);
	if (!what)
		strvec_push(&a, "-a");
	pushl(&a, "--filter", "label=" PODMAN_LABEL_OWNER, "--format", NULL);
	strvec_pushf(&a, "{{%s}}\t{{.Labels}}", field);
	run(ss, &a);
}

/* remove the reaped names with `podman [what] rm -f ...`, or go on */
static int rm_reaped(struct svc_set *ss, const char *what)
{
	reap_parse(ss);
	if (!ss->reap.nr)
		return 0;
	struct strvec a = STRVEC_INIT;
	if (what)
		strvec_push(&a, what);
	pushl(&a, "rm", "-f", NULL);
	if (!what)
		pushl(&a, "-v", "-t", "0", NULL);
	for (size_t i = 0; i < ss->reap.nr; i++)
		strvec_push(&a, ss->reap.v[i]);
	if (ss->je->debug)
		logf_(ss, LOG_DEBUG, STEP_INIT, "removing %zu %s left by dead kiln runs", ss->reap.nr,
		      what ? what : "container(s)");
	strvec_clear(&ss->reap);
	run(ss, &a);
	return 1;
}

/* the next service with published ports, from index i */
static void ports_parse(struct svc *sv, const char *out)
{
	/* "5432/tcp -> 0.0.0.0:49153" */
	const char *p = out;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, len);
		char *slash = strchr(line, '/'), *arrow = strstr(line, "-> "), *colon;
		if (slash && arrow && (colon = strrchr(arrow, ':'))) {
			*slash = 0;
			if (!ev_object_get(sv->ports, line))
				ev_object_set(sv->ports, line, ev_cstr(colon + 1));
		}
		free(line);
		if (!nl)
			break;
		p = nl + 1;
	}
}

static void health_cmd(struct svc_set *ss)
{
	struct strvec a = STRVEC_INIT;
	pushl(&a, "healthcheck", "run", ss->s[ss->i].name, NULL);
	run(ss, &a);
}

/* the health check interval passed (or a cancel or an early failure is
 * to be reported from the loop) */
static void on_poll(uv_timer_t *t)
{
	struct svc_set *ss = t->data;
	if (ss->cancelled || ss->state != S_HEALTH)
		next(ss);
	else
		health_cmd(ss);
}

static void show_logs(struct svc_set *ss)
{
	struct svc *sv = &ss->s[ss->i];
	logf_(ss, LOG_INFO, STEP_INIT, "logs of service '%s' (%s):", sv->id, sv->image);
	struct strvec a = STRVEC_INIT;
	pushl(&a, "logs", sv->name, NULL);
	ss->state = S_LOGS;
	run(ss, &a);
}

static void become_ready(struct svc_set *ss)
{
	ss->state = S_READY;
	exec__step_end_event(ss->je, STEP_INIT, ss->failed || ss->cancelled ? RESULT_FAILURE
									  : RESULT_SUCCESS,
			     ss->start_ns);
	svc_ready_cb cb = ss->ready;
	ss->ready = NULL;
	if (cb)
		cb(ss->je, !ss->failed && !ss->cancelled);
}

static void teardown(struct svc_set *ss);

/* the previous command (if any) ended: look at its result, start the next */
static void next(struct svc_set *ss)
{
	int st = finish_cmd(ss);
	if (ss->je->debug)
		logf_(ss, LOG_DEBUG, ss->stopping ? STEP_STOP : STEP_INIT, "exit status %d", st);
	if (ss->stopping) {
		teardown(ss);
		return;
	}
	if (ss->cancelled && ss->state != S_READY) {
		become_ready(ss);
		return;
	}
	struct svc *sv = ss->i < ss->n ? &ss->s[ss->i] : NULL;
	switch (ss->state) {
	case S_REAP_PS:
		ss->state = S_REAP_RM;
		if (st == 0 && rm_reaped(ss, NULL))
			return;
		/* fall through */
	case S_REAP_RM:
		ss->state = S_REAP_NETLS;
		ls_cmd(ss, "network", ".Name");
		return;
	case S_REAP_NETLS:
		ss->state = S_REAP_NETRM;
		if (st == 0 && rm_reaped(ss, "network"))
			return;
		/* fall through */
	case S_REAP_NETRM:
		ss->state = S_REAP_VOLLS;
		ls_cmd(ss, "volume", ".Name");
		return;
	case S_REAP_VOLLS:
		ss->state = S_REAP_VOLRM;
		if (st == 0 && rm_reaped(ss, "volume"))
			return;
		/* fall through */
	case S_REAP_VOLRM: {
		ss->state = S_NET;
		struct strvec a = STRVEC_INIT;
		pushl(&a, "network", "create", NULL);
		podman_labels(&ss->pm, &a, ss->net,
			      ss->je->spec.job_key ? ss->je->spec.job_key : "job");
		strvec_push(&a, ss->net);
		logf_(ss, LOG_INFO, STEP_INIT, "Create local container network %s", ss->net);
		run(ss, &a);
		return;
	}
	case S_NET:
		if (st != 0) {
			show_err(ss, STEP_INIT);
			fail(ss, "cannot create the job's container network '%s'", ss->net);
			become_ready(ss);
			return;
		}
		ss->net_made = 1;
		ss->i = 0;
		goto start_service;
	case S_RUN:
		if (st != 0) {
			show_err(ss, STEP_INIT);
			fail(ss, "service '%s': cannot start a container from image '%s'", sv->id,
			     sv->image);
			become_ready(ss);
			return;
		}
		buf_rtrim(&ss->out);
		sv->cid = xstrdup(ss->out.buf);
		sv->started_ns = now_ns();
		ss->i++;
	start_service:
		if (ss->i < ss->n) {
			sv = &ss->s[ss->i];
			logf_(ss, LOG_INFO, STEP_INIT, "Starting service '%s' (%s)", sv->id,
			      sv->image);
			ss->state = S_RUN;
			struct strvec a = STRVEC_INIT;
			for (size_t i = 0; i < sv->args.nr; i++)
				strvec_push(&a, sv->args.v[i]);
			ss->run_env = &sv->env;
			run(ss, &a);
			return;
		}
		ss->i = 0;
		goto ports;
	case S_PORT:
		if (st != 0) {
			show_err(ss, STEP_INIT);
			fail(ss, "service '%s': cannot read its published ports", sv->id);
			become_ready(ss);
			return;
		}
		ports_parse(sv, ss->out.buf);
		ss->i++;
	ports:
		while (ss->i < ss->n && !ss->s[ss->i].nports)
			ss->i++;
		if (ss->i < ss->n) {
			ss->state = S_PORT;
			struct strvec a = STRVEC_INIT;
			pushl(&a, "port", ss->s[ss->i].name, NULL);
			run(ss, &a);
			return;
		}
		ss->i = 0;
		ss->state = S_HEALTH;
		if (ss->n) {
			logf_(ss, LOG_INFO, STEP_INIT, "Waiting for all services to be ready");
			health_cmd(ss);
			return;
		}
	job_container:
		if (!ss->ctr) {
			become_ready(ss);
			return;
		}
		logf_(ss, LOG_INFO, STEP_INIT, "Starting job container (%s)", ss->ctr->image);
		ss->state = S_CTR;
		struct strvec ra = STRVEC_INIT;
		for (size_t i = 0; i < ss->ctr->args.nr; i++)
			strvec_push(&ra, ss->ctr->args.v[i]);
		ss->run_env = &ss->ctr->env;
		run(ss, &ra);
		return;
	case S_HEALTH: {
		int done = 0;
		buf_rtrim(&ss->err);
		if (st == 0) {
			logf_(ss, LOG_INFO, STEP_INIT, "service '%s' is healthy", sv->id);
			done = 1;
		} else if (st == 125 && strstr(ss->err.buf, "no defined healthcheck")) {
			done = 1; /* no health check: running is ready (GitHub) */
		} else if (st == 125 || st < 0) {
			/* stopped or gone: it will never be healthy */
			show_err(ss, STEP_INIT);
			fail(ss, "service '%s' (%s) is not running", sv->id, sv->image);
			show_logs(ss);
			return;
		} else {
			uint64_t waited = (now_ns() - sv->started_ns) / 1000000;
			if (waited >= sv->start_ms + sv->retries * sv->interval_ms) {
				fail(ss, "service '%s' (%s) failed to become healthy: still "
					 "unhealthy after %" PRIu64 " ms (start period + %" PRIu64
					 " retries x interval)",
				     sv->id, sv->image, waited, sv->retries);
				show_logs(ss);
				return;
			}
			uint64_t wait = sv->interval_ms < POLL_MAX_MS ? sv->interval_ms
								     : POLL_MAX_MS;
			uv_timer_start(&ss->timer, on_poll, wait, 0);
			ss->state = S_HEALTH;
			return;
		}
		if (done && ++ss->i < ss->n) {
			health_cmd(ss);
			return;
		}
		goto job_container;
	}
	case S_CTR:
		if (st != 0) {
			show_err(ss, STEP_INIT);
			fail(ss, "cannot start the job container from image '%s'", ss->ctr->image);
			become_ready(ss);
			return;
		}
		buf_rtrim(&ss->out);
		ss->ctr->cid = xstrdup(ss->out.buf);
		ss->state = S_CTR_BASH;
		struct strvec ca = STRVEC_INIT;
		pushl(&ca, "exec", ss->ctr->name, "sh", "-c", "command -v bash", NULL);
		run(ss, &ca);
		return;
	case S_CTR_BASH:
		ss->has_bash = st == 0;
		become_ready(ss);
		return;
	case S_LOGS: {
		/* the service's own output, both streams */
		buf_rtrim(&ss->out);
		buf_rtrim(&ss->err);
		log_lines(ss, &ss->out);
		log_lines(ss, &ss->err);
		become_ready(ss);
		return;
	}
	default:
		return;
	}
}

/* ---- the end ---- */

static void on_timer_closed(uv_handle_t *h)
{
	struct svc_set *ss = h->data;
	ss->timer_open = 0;
	ss->state = S_STOPPED;
	exec__step_end_event(ss->je, STEP_STOP, RESULT_SUCCESS, ss->start_ns);
	svc_stopped_cb cb = ss->stopped;
	ss->stopped = NULL;
	if (cb)
		cb(ss->je);
}

static void teardown(struct svc_set *ss)
{
	struct strvec a = STRVEC_INIT;
	if (ss->state == S_RM) {
		ss->state = S_NETRM;
		if (ss->net_made) {
			pushl(&a, "network", "rm", "-f", ss->net, NULL);
			run(ss, &a);
			return;
		}
	}
	if (ss->state == S_NETRM) {
		ss->state = S_STOPPED;
		uv_close((uv_handle_t *)&ss->timer, on_timer_closed);
		return;
	}
	ss->state = S_RM;
	pushl(&a, "rm", "-f", "-v", "-t", "0", NULL);
	size_t k = 0;
	for (size_t i = 0; i < ss->n; i++)
		if (ss->s[i].cid) {
			strvec_push(&a, ss->s[i].name);
			k++;
		}
	if (ss->ctr && ss->ctr->cid) {
		strvec_push(&a, ss->ctr->name);
		k++;
	}
	if (!k) {
		strvec_clear(&a);
		teardown(ss);
		return;
	}
	run(ss, &a);
}

struct svc_set *svc_start(struct job_exec *je, svc_ready_cb ready)
{
	struct svc_set *ss = xcalloc(1, sizeof(*ss));
	ss->je = je;
	ss->ready = ready;
	buf_init(&ss->out, 0);
	buf_init(&ss->err, 0);
	ss->reap = (struct strvec)STRVEC_INIT;
	ss->node = (struct nodemount)NODEMOUNT_INIT;
	uv_timer_init(je->loop, &ss->timer);
	ss->timer.data = ss;
	ss->timer_open = 1;
	ss->start_ns = now_ns();
	exec__log(je, LOG_STEP_START, STEP_INIT, STEP_INIT, strlen(STEP_INIT));

	struct buf err = BUF_INIT;
	const char *path = strvec_getenv(&je->base_env, "PATH");
	if (podman_init(&ss->pm, path, &err) < 0) {
		fail(ss, "job '%s' needs podman for 'services:': %s",
		     je->spec.job_key ? je->spec.job_key : "job", err.buf);
		goto fail;
	}
	struct buf net = BUF_INIT;
	buf_addstr(&net, "kiln-");
	name_part(&net, ss->pm.owner);
	buf_addch(&net, '-');
	name_part(&net, je->spec.job_key ? je->spec.job_key : "job");
	buf_addf(&net, "-%llx", (unsigned long long)(now_ns() & 0xffffff));
	ss->net = buf_detach(&net, NULL);
	if (define_all(ss, &err) < 0) {
		fail(ss, "%s", err.buf);
		goto fail;
	}
	buf_release(&err);
	ss->state = S_REAP_PS;
	ls_cmd(ss, NULL, ".Names");
	return ss;
fail:
	buf_release(&err);
	ss->state = S_READY;
	/* reported from the loop, never from inside the caller */
	ss->state = S_REAP_PS;
	ss->cancelled = 1;
	uv_timer_start(&ss->timer, on_poll, 0, 0);
	return ss;
}

void svc_cancel(struct svc_set *ss)
{
	if (!ss || ss->state == S_READY || ss->cancelled)
		return;
	ss->cancelled = 1;
	if (ss->cmd)
		exec_cmd_kill(ss->cmd, SIGTERM, 1000);
	else if (uv_is_active((uv_handle_t *)&ss->timer)) {
		uv_timer_stop(&ss->timer);
		uv_timer_start(&ss->timer, on_poll, 0, 0);
	}
}

void svc_stop(struct svc_set *ss, svc_stopped_cb stopped)
{
	ss->stopped = stopped;
	ss->stopping = 1;
	uv_timer_stop(&ss->timer);
	ss->start_ns = now_ns();
	exec__log(ss->je, LOG_STEP_START, STEP_STOP, STEP_STOP, strlen(STEP_STOP));
	if (ss->cmd) {
		/* the running command ends first; next() goes on with the teardown */
		exec_cmd_kill(ss->cmd, SIGTERM, 1000);
		return;
	}
	if (!ss->pm.prog) {
		ss->state = S_NETRM;
		teardown(ss);
		return;
	}
	ss->state = S_REAP_PS; /* anything but S_RM / S_NETRM: start with the containers */
	teardown(ss);
}

void svc_free(struct svc_set *ss)
{
	if (!ss)
		return;
	for (size_t i = 0; i < ss->n; i++) {
		struct svc *sv = &ss->s[i];
		free(sv->id);
		free(sv->name);
		free(sv->cid);
		free(sv->image);
		strvec_clear(&sv->args);
		strvec_clear(&sv->env);
		ev_unref(sv->ports);
	}
	if (ss->ctr) {
		free(ss->ctr->id);
		free(ss->ctr->name);
		free(ss->ctr->cid);
		free(ss->ctr->image);
		strvec_clear(&ss->ctr->args);
		strvec_clear(&ss->ctr->env);
		ev_unref(ss->ctr->ports);
		free(ss->ctr);
	}
	free(ss->s);
	free(ss->net);
	buf_release(&ss->out);
	buf_release(&ss->err);
	strvec_clear(&ss->reap);
	nodemount_release(&ss->node);
	free(ss->node_err);
	podman_release(&ss->pm);
	free(ss);
}

const struct strvec *svc_node_argv(const struct svc_set *ss, const char **why)
{
	*why = ss->node_err ? ss->node_err : "node is not mounted into the job container";
	return ss->node.argv.nr ? &ss->node.argv : NULL;
}

struct ev *svc_context(const struct svc_set *ss)
{
	struct ev *o = ev_object();
	for (size_t i = 0; ss && i < ss->n; i++) {
		const struct svc *sv = &ss->s[i];
		struct ev *e = ev_object();
		ev_object_set(e, "id", ev_cstr(sv->cid ? sv->cid : ""));
		ev_object_set(e, "network", ev_cstr(ss->net ? ss->net : ""));
		ev_object_set(e, "ports", ev_ref(sv->ports));
		ev_object_set(o, sv->id, e);
	}
	return o;
}

const char *svc_network(const struct svc_set *ss)
{
	return ss && ss->net_made ? ss->net : NULL;
}

struct ev *svc_container_context(const struct svc_set *ss)
{
	if (!ss || !ss->ctr)
		return NULL;
	struct ev *e = ev_object();
	ev_object_set(e, "id", ev_cstr(ss->ctr->cid ? ss->ctr->cid : ""));
	ev_object_set(e, "network", ev_cstr(ss->net ? ss->net : ""));
	return e;
}

int svc_in_container(const struct svc_set *ss, int *has_bash)
{
	if (!ss || !ss->ctr || !ss->ctr->cid)
		return 0;
	if (has_bash)
		*has_bash = ss->has_bash;
	return 1;
}

void svc_exec_wrap(const struct svc_set *ss, const char *wd, const struct ev *job_env,
		   const struct strvec *path_add, struct strvec *argv, struct strvec *env)
{
	struct strvec a = STRVEC_INIT, e = STRVEC_INIT;
	strvec_push(&a, ss->pm.prog);
	pushl(&a, "exec", "--workdir", wd, NULL);
	/* values reach podman through its environment (`-e NAME`), never
	 * its command line, where any local user could read a secret */
	podman_pass_env(&a, env, job_env);
	if (path_add && path_add->nr) {
		/* $GITHUB_PATH entries before the image's usual PATH */
		struct buf p = BUF_INIT;
		for (size_t i = path_add->nr; i-- > 0;)
			buf_addf(&p, "%s:", path_add->v[i]);
		buf_addstr(&p, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
		strvec_push(&a, "-e");
		strvec_pushf(&a, "PATH=%s", p.buf);
		buf_release(&p);
	}
	strvec_push(&a, ss->ctr->name);
	for (size_t i = 0; i < argv->nr; i++)
		strvec_push(&a, argv->v[i]);
	for (size_t i = 0; i < env->nr; i++)
		strvec_push(&e, env->v[i]);
	podman_setenv(&ss->pm, &e);
	strvec_clear(argv);
	strvec_clear(env);
	*argv = a;
	*env = e;
}
