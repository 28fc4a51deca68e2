/*
 * docker/build-push-action on podman: `podman build` of `context` (the
 * workspace by default) with `file`, `build-args`, `target`, `labels`,
 * `tags`, `no-cache` and `platforms`, then what the action's other inputs
 * ask, each one podman command run after the other:
 *
 * - `cache-from: type=local,src=DIR`: `podman load` of the cache archive
 *   a `cache-to: type=local,dest=DIR` saved (the image and the
 *   intermediate images of its build: podman's layer cache finds them);
 *   `type=registry,ref=R`: podman build's own --cache-from/--cache-to.
 *   `type=gha` and the rest fail with a message naming them.
 * - `load: true`: podman's local storage is where the image is built, so
 *   later steps' podman (and `uses: docker://`) see it; said in a note.
 * - `outputs`: `type=local|tar,dest=…` (podman build --output),
 *   `type=oci|docker,dest=FILE` (`podman save` after the build),
 *   `type=registry` / `type=image,push=true` (push), `type=docker` (load).
 * - `push: true`: `podman push` of each tag to the registry its name
 *   gives (plain HTTP for registries on loopback, as a local registry is).
 * - `platforms`: this machine's platform builds; another one needs QEMU
 *   emulation registered in binfmt_misc (qemu-user-static), else the step
 *   fails naming what is missing; several at once are not supported.
 *
 * - `secrets` / `secret-files`: podman's --secret (RUN --mount=type=secret),
 *   `network`, `add-hosts`, `shm-size`, `pull`.
 *
 * Registry credentials: the job's REGISTRY_AUTH_FILE (docker/login-action)
 * as --authfile. Outputs `imageid`, `digest` (of the last push) and
 * `metadata`, as the action documents them. The commands' output is the
 * step's output.
 */
#include "base/kiln.h"
#include "actions/actions.h"
#include "base/fs.h"
#include "engine/podman.h"

#include <sodium.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

enum bp_kind { BP_LOAD, BP_BUILD, BP_SAVE, BP_HISTORY, BP_CACHE_SAVE, BP_PUSH };

struct bp_cmd {
	enum bp_kind kind;
	struct strvec argv;   /* after `podman` */
	char *what;           /* for the failure message: "podman build" */
};

struct bp {
	struct builtin_call *c;
	struct podman pm;
	struct strvec tags;
	struct bp_cmd *q;     /* what is left to run, in order */
	size_t nq, aq, next;
	int cancelled;
	enum bp_kind running;
	char *digest_file;
	char *imageid;
	char *authfile;       /* REGISTRY_AUTH_FILE of the job, or NULL */
	char *cache_dest;     /* cache-to type=local: the archive to write */
	struct strvec history; /* BP_HISTORY: the image ids of the build */
	struct strvec secret_files; /* `secrets:` written for the build (removed after) */
	struct exec_cmd *cmd; /* running podman command */
};

static void bp_free(struct bp *b)
{
	podman_release(&b->pm);
	strvec_clear(&b->tags);
	for (size_t i = 0; i < b->nq; i++) {
		strvec_clear(&b->q[i].argv);
		free(b->q[i].what);
	}
	free(b->q);
	if (b->digest_file)
		unlink(b->digest_file);
	free(b->digest_file);
	free(b->imageid);
	free(b->authfile);
	free(b->cache_dest);
	strvec_clear(&b->history);
	for (size_t i = 0; i < b->secret_files.nr; i++)
		unlink(b->secret_files.v[i]);
	strvec_clear(&b->secret_files);
	free(b);
}

/* append a command to the queue; returns its argv to fill */
static struct strvec *enqueue(struct bp *b, enum bp_kind kind, const char *what)
{
	ALLOC_GROW(b->q, b->nq + 1, b->aq);
	struct bp_cmd *c = &b->q[b->nq++];
	c->kind = kind;
	c->argv = (struct strvec)STRVEC_INIT;
	c->what = xstrdup(what);
	return &c->argv;
}

static void finish(struct bp *b, enum result r)
{
	struct builtin_call *c = b->c;
	struct ev *o = NULL;
	if (r == RESULT_SUCCESS) {
		o = ev_object();
		ev_object_set(o, "imageid", ev_cstr(b->imageid ? b->imageid : ""));
		struct buf d = BUF_INIT, md = BUF_INIT;
		if (b->digest_file && buf_read_file(&d, b->digest_file) >= 0)
			buf_rtrim(&d);
		ev_object_set(o, "digest", ev_cstr(d.buf));
		/* the action's metadata output: the image name(s) and digest */
		buf_addstr(&md, "{\"image.name\":");
		struct buf names = BUF_INIT;
		for (size_t i = 0; i < b->tags.nr; i++)
			buf_addf(&names, "%s%s", i ? "," : "", b->tags.v[i]);
		buf_add_json_str(&md, names.buf, names.len);
		buf_addstr(&md, ",\"containerimage.digest\":");
		buf_add_json_str(&md, d.buf, d.len);
		buf_addstr(&md, ",\"containerimage.config.digest\":");
		buf_add_json_str(&md, b->imageid ? b->imageid : "", b->imageid ? strlen(b->imageid) : 0);
		buf_addch(&md, '}');
		ev_object_set(o, "metadata", ev_cstr(md.buf));
		buf_release(&names);
		buf_release(&md);
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
	if (b->running == BP_HISTORY) {
		/* image ids of the build's history; "<missing>" layers have none */
		if (fd == 1 && len >= 12 && strspn(l.buf, "0123456789abcdef") == len)
			strvec_push(&b->history, l.buf);
		buf_release(&l);
		return;
	}
	b->c->log(b->c, LOG_OUTPUT, l.buf);
	/* `podman build` prints the image id last (64 hex digits) */
	if (b->running == BP_BUILD && len == 64 && strspn(l.buf, "0123456789abcdef") == 64) {
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

/* the build's image ids are known: save them as the local cache */
static void queue_cache_save(struct bp *b)
{
	if (!b->history.nr) {
		b->c->log(b->c, LOG_WARNING, "cache-to: the build left no image to cache");
		return;
	}
	/* inserted as the next command */
	struct strvec *a = enqueue(b, BP_CACHE_SAVE, "cache-to: podman save failed");
	struct bp_cmd c = b->q[b->nq - 1];
	memmove(&b->q[b->next + 1], &b->q[b->next], (b->nq - 1 - b->next) * sizeof(*b->q));
	b->q[b->next] = c;
	a = &b->q[b->next].argv;
	strvec_push(a, "save");
	strvec_push(a, "-q");
	strvec_push(a, "-m");
	strvec_push(a, "-o");
	strvec_push(a, b->cache_dest);
	for (size_t i = 0; i < b->history.nr; i++)
		strvec_push(a, b->history.v[i]);
}

static void on_done(struct exec_cmd *cmd)
{
	struct bp *b = cmd->data;
	int ok = !cmd->exit_status && !cmd->term_signal;
	exec_cmd_release(cmd);
	free(cmd);
	b->cmd = NULL;
	if (!ok || b->cancelled) {
		act_logf(b->c, LOG_ERROR, "%s", b->cancelled ? "cancelled" : b->q[b->next - 1].what);
		finish(b, RESULT_FAILURE);
		return;
	}
	if (b->running == BP_HISTORY)
		queue_cache_save(b);
	step(b);
}

static int start(struct bp *b, const struct bp_cmd *q)
{
	struct exec_cmd *cmd = xcalloc(1, sizeof(*cmd));
	exec_cmd_init(cmd);
	podman_cmd(&b->pm, cmd);
	for (size_t i = 0; i < q->argv.nr; i++)
		strvec_push(&cmd->args, q->argv.v[i]);
	cmd->on_line = on_line;
	cmd->on_done = on_done;
	cmd->data = b;
	cmd->cwd = b->c->workspace;
	b->running = q->kind;
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

/* run the next queued command, or finish */
static void step(struct bp *b)
{
	if (b->next >= b->nq) {
		finish(b, RESULT_SUCCESS);
		return;
	}
	const struct bp_cmd *q = &b->q[b->next++];
	int r = start(b, q);
	if (r < 0) {
		act_logf(b->c, LOG_ERROR, "cannot run podman: %s", uv_strerror(r));
		finish(b, RESULT_FAILURE);
	}
}

/* tags, platforms, cache entries: one per line or separated by commas */
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

/* the value of key in "type=x,key=value,..." ("" when absent) */
static const char *csv_attr(const struct strvec *kv, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < kv->nr; i++)
		if (!strncmp(kv->v[i], key, n) && kv->v[i][n] == '=')
			return kv->v[i] + n + 1;
	return "";
}

static void split_csv(const char *s, struct strvec *out)
{
	while (*s) {
		size_t n = strcspn(s, ",");
		char *p = xstrndup(s, n);
		char *t = p;
		while (*t == ' ')
			t++;
		if (*t)
			strvec_push(out, t);
		free(p);
		s += n + (s[n] == ',');
	}
}

/* "linux/amd64"... of this machine, as Docker names it */
static void host_platform(char *out, size_t n)
{
	struct utsname u;
	const char *arch = "amd64";
	if (uname(&u) == 0) {
		arch = !strcmp(u.machine, "x86_64") ? "amd64" : !strcmp(u.machine, "aarch64") ? "arm64"
		     : !strncmp(u.machine, "armv7", 5) ? "arm" : !strcmp(u.machine, "i686") ? "386"
		     : u.machine;
	}
	snprintf(out, n, "linux/%.32s", arch);
}

/* QEMU's name for a Docker architecture (binfmt_misc entry qemu-NAME) */
static const char *qemu_arch(const char *arch)
{
	static const char *const map[][2] = { { "amd64", "x86_64" }, { "arm64", "aarch64" },
					      { "arm", "arm" },       { "386", "i386" },
					      { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
					      { "riscv64", "riscv64" }, { "mips64le", "mips64el" } };
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(arch, map[i][0]))
			return map[i][1];
	return arch;
}

/* platforms: the --platform to pass (NULL: the host's), or -1 with err */
static int check_platforms(struct builtin_call *c, char **platform, struct buf *err)
{
	struct strvec want = STRVEC_INIT;
	char host[96];
	host_platform(host, sizeof(host));
	split_list(act_input(c, "platforms"), &want);
	*platform = NULL;
	int r = 0;
	if (want.nr > 1) {
		for (size_t i = 1; i < want.nr && !r; i++)
			if (strcmp(want.v[i], want.v[0])) {
				buf_addf(err, "platforms: building several platforms at once (%s, %s) "
					 "into a multi-platform manifest is not supported by kiln's "
					 "build-push-action; use one step per platform",
					 want.v[0], want.v[i]);
				r = -1;
			}
	}
	if (!r && want.nr) {
		const char *p = want.v[0];
		/* linux/arm64/v8 is linux/arm64 */
		struct buf base = BUF_INIT;
		buf_addstr(&base, p);
		const char *slash2 = strchr(p, '/') ? strchr(strchr(p, '/') + 1, '/') : NULL;
		if (slash2 && !strncmp(p, "linux/arm64/", 12))
			buf_setlen(&base, (size_t)(slash2 - p));
		if (strncmp(p, "linux/", 6)) {
			buf_addf(err, "platforms: '%s' is not a Linux platform; kiln builds Linux "
				 "images only", p);
			r = -1;
		} else if (strcmp(base.buf, host)) {
			char arch[32];
			snprintf(arch, sizeof(arch), "%.*s", (int)strcspn(p + 6, "/"), p + 6);
			struct buf bin = BUF_INIT;
			buf_addf(&bin, "/proc/sys/fs/binfmt_misc/qemu-%s", qemu_arch(arch));
			if (access(bin.buf, F_OK) != 0) {
				buf_addf(err, "platforms: '%s' is not this machine's platform (%s) and "
					 "needs QEMU emulation, which is not set up: install "
					 "qemu-user-static (binfmt_misc has no %s)", p, host, bin.buf);
				r = -1;
			} else {
				*platform = xstrdup(p);
			}
			buf_release(&bin);
		}
		buf_release(&base);
	}
	strvec_clear(&want);
	return r;
}

static void add_authfile(const struct bp *b, struct strvec *a)
{
	if (b->authfile) {
		strvec_push(a, "--authfile");
		strvec_push(a, b->authfile);
	}
}

/* cache-from / cache-to entries into the build's arguments and the queue */
static int cache_args(struct bp *b, struct strvec *build, struct buf *err)
{
	struct builtin_call *c = b->c;
	const char *inputs[] = { "cache-from", "cache-to" };
	for (int to = 0; to < 2; to++) {
		struct strvec lines = STRVEC_INIT;
		act_input_lines(c, inputs[to], &lines);
		for (size_t i = 0; i < lines.nr; i++) {
			struct strvec kv = STRVEC_INIT;
			split_csv(lines.v[i], &kv);
			const char *type = csv_attr(&kv, "type");
			if (!*type && kv.nr && !strchr(kv.v[0], '='))
				type = "registry"; /* "user/app:cache" is type=registry,ref=... */
			const char *ref = *csv_attr(&kv, "ref") ? csv_attr(&kv, "ref")
				: kv.nr && !strchr(kv.v[0], '=') ? kv.v[0] : "";
			int r = 0;
			if (!strcmp(type, "local")) {
				const char *dir = csv_attr(&kv, to ? "dest" : "src");
				struct buf path = BUF_INIT;
				if (!*dir || act_path(c->workspace, dir, 0, &path, err) < 0) {
					if (!err->len)
						buf_addf(err, "%s: type=local needs %s=DIR", inputs[to],
							 to ? "dest" : "src");
					r = -1;
				} else if (to) {
					mkdir_p(path.buf, 0755);
					free(b->cache_dest);
					b->cache_dest = xstrfmt("%s/kiln-podman-cache.tar", path.buf);
				} else {
					buf_addstr(&path, "/kiln-podman-cache.tar");
					if (access(path.buf, R_OK) == 0) {
						struct strvec *a = enqueue(b, BP_LOAD, "cache-from: podman load of the cache failed");
						strvec_push(a, "load");
						strvec_push(a, "-q");
						strvec_push(a, "-i");
						strvec_push(a, path.buf);
					} else {
						act_logf(c, LOG_INFO, "cache-from: no cache in %s yet", dir);
					}
				}
				buf_release(&path);
			} else if (!strcmp(type, "registry") && *ref) {
				strvec_push(build, to ? "--cache-to" : "--cache-from");
				/* podman names the repository, not a tag */
				struct buf repo = BUF_INIT;
				buf_addstr(&repo, ref);
				const char *slash = strrchr(repo.buf, '/'), *colon = strrchr(repo.buf, ':');
				if (colon && (!slash || colon > slash))
					buf_setlen(&repo, (size_t)(colon - repo.buf));
				strvec_push(build, repo.buf);
				buf_release(&repo);
			} else if (!strcmp(type, "gha")) {
				buf_addf(err, "%s: type=gha (GitHub's cache service) is not supported by "
					 "kiln; use type=local,%s=DIR with actions/cache around it, or "
					 "type=registry", inputs[to], to ? "dest" : "src");
				r = -1;
			} else {
				buf_addf(err, "%s: '%s' is not supported by kiln's build-push-action "
					 "(type=local and type=registry are)", inputs[to], lines.v[i]);
				r = -1;
			}
			strvec_clear(&kv);
			if (r < 0) {
				strvec_clear(&lines);
				return -1;
			}
		}
		strvec_clear(&lines);
	}
	return 0;
}

/*
 * `secrets` (ID=VALUE, each a 0600 file in RUNNER_TEMP removed when the
 * step ends, the value masked) and `secret-files` (ID=PATH) as podman's
 * --secret id=ID,src=FILE: RUN --mount=type=secret,id=ID reads them and
 * no layer keeps them. `network`, `add-hosts`, `shm-size`, `pull`.
 */
static int extra_args(struct bp *b, struct strvec *a, struct buf *err)
{
	struct builtin_call *c = b->c;
	struct strvec lines = STRVEC_INIT;
	int r = 0, pull = 0;
	act_input_lines(c, "secrets", &lines);
	for (size_t i = 0; i < lines.nr && !r; i++) {
		const char *eq = strchr(lines.v[i], '=');
		if (!eq || eq == lines.v[i]) {
			buf_addstr(err, "secrets: each entry is ID=VALUE");
			r = -1;
			break;
		}
		char *id = xstrndup(lines.v[i], (size_t)(eq - lines.v[i]));
		const char *val = eq + 1;
		size_t vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val++; /* the action's csv quoting */
			vl -= 2;
		}
		char *v = xstrndup(val, vl);
		c->add_mask(c, v);
		char *f = xstrfmt("%s/build-secret-%s-%zu", c->temp, c->job_key, i);
		int w = write_file_atomic(f, v, vl, 0600);
		sodium_memzero(v, vl);
		free(v);
		if (w < 0) {
			buf_addf(err, "secrets: cannot write '%s': %s", f, strerror(-w));
			r = -1;
		} else {
			strvec_push(&b->secret_files, f);
			strvec_push(a, "--secret");
			strvec_pushf(a, "id=%s,src=%s", id, f);
		}
		free(f);
		free(id);
	}
	strvec_clear(&lines);
	act_input_lines(c, "secret-files", &lines);
	for (size_t i = 0; i < lines.nr && !r; i++) {
		const char *eq = strchr(lines.v[i], '=');
		struct buf path = BUF_INIT;
		if (!eq || eq == lines.v[i] || act_path(c->workspace, eq + 1, 0, &path, err) < 0) {
			if (!err->len)
				buf_addstr(err, "secret-files: each entry is ID=PATH");
			r = -1;
		} else {
			strvec_push(a, "--secret");
			strvec_pushf(a, "id=%.*s,src=%s", (int)(eq - lines.v[i]), lines.v[i], path.buf);
		}
		buf_release(&path);
	}
	strvec_clear(&lines);
	const char *net = act_input(c, "network"), *shm = act_input(c, "shm-size");
	if (*net) {
		strvec_push(a, "--network");
		strvec_push(a, net);
	}
	if (*shm) {
		strvec_push(a, "--shm-size");
		strvec_push(a, shm);
	}
	act_input_lines(c, "add-hosts", &lines);
	for (size_t i = 0; i < lines.nr; i++) {
		strvec_push(a, "--add-host");
		strvec_push(a, lines.v[i]);
	}
	strvec_clear(&lines);
	if (!r && act_input_bool(c, "pull", 0, &pull, err) < 0)
		r = -1;
	if (pull)
		strvec_push(a, "--pull=always");
	return r;
}

/* outputs: into the build's arguments, the saves after it, push/load */
static int output_args(struct bp *b, struct strvec *build, struct strvec *saves, int *push,
		       int *load, struct buf *err)
{
	struct builtin_call *c = b->c;
	struct strvec lines = STRVEC_INIT;
	int r = 0;
	act_input_lines(c, "outputs", &lines);
	for (size_t i = 0; i < lines.nr && !r; i++) {
		struct strvec kv = STRVEC_INIT;
		split_csv(lines.v[i], &kv);
		const char *type = csv_attr(&kv, "type"), *dest = csv_attr(&kv, "dest");
		struct buf path = BUF_INIT;
		if (*dest && act_path(c->workspace, dest, 0, &path, err) < 0) {
			r = -1;
		} else if ((!strcmp(type, "local") || !strcmp(type, "tar")) && *dest) {
			strvec_push(build, "--output");
			strvec_pushf(build, "type=%s,dest=%s", type, path.buf);
		} else if ((!strcmp(type, "oci") || !strcmp(type, "docker")) && *dest) {
			strvec_push(saves, !strcmp(type, "oci") ? "oci-archive" : "docker-archive");
			strvec_push(saves, path.buf);
		} else if (!strcmp(type, "docker")) {
			*load = 1;
		} else if (!strcmp(type, "registry") ||
			   (!strcmp(type, "image") && !strcmp(csv_attr(&kv, "push"), "true"))) {
			*push = 1;
		} else if (!strcmp(type, "image")) {
			*load = 1;
		} else {
			buf_addf(err, "outputs: '%s' is not supported by kiln's build-push-action "
				 "(type=local|tar|oci|docker with dest=, type=registry, type=image, "
				 "type=docker are)", lines.v[i]);
			r = -1;
		}
		buf_release(&path);
		strvec_clear(&kv);
	}
	strvec_clear(&lines);
	return r;
}

int act_build_push_start(struct builtin_call *c, struct buf *err)
{
	struct bp *b = xcalloc(1, sizeof(*b));
	struct strvec a = STRVEC_INIT, lines = STRVEC_INIT, saves = STRVEC_INIT;
	char *platform = NULL;
	int push = 0, load = 0, no_cache = 0, rc = KILN_EINVAL;
	b->c = c;
	b->tags = (struct strvec)STRVEC_INIT;
	b->history = (struct strvec)STRVEC_INIT;
	b->secret_files = (struct strvec)STRVEC_INIT;
	if (act_input_bool(c, "push", 0, &push, err) < 0 ||
	    act_input_bool(c, "load", 0, &load, err) < 0 ||
	    act_input_bool(c, "no-cache", 0, &no_cache, err) < 0 ||
	    check_platforms(c, &platform, err) < 0 ||
	    podman_init(&b->pm, strvec_getenv(c->env, "PATH"), err) < 0)
		goto out;
	const char *af = strvec_getenv(c->env, "REGISTRY_AUTH_FILE");
	if (af && *af && access(af, R_OK) == 0)
		b->authfile = xstrdup(af);
	split_list(act_input(c, "tags"), &b->tags);
	b->digest_file = xstrfmt("%s/build-push-%s.digest", c->temp, c->job_key);
	/* cache-from loads come first in the queue, the build next */
	strvec_push(&a, "build");
	if (cache_args(b, &a, err) < 0 || output_args(b, &a, &saves, &push, &load, err) < 0 ||
	    extra_args(b, &a, err) < 0)
		goto out;
	if (push && !b->tags.nr) {
		buf_addstr(err, "push is true but no tags are given");
		goto out;
	}
	if ((saves.nr || b->cache_dest) && !b->tags.nr) {
		buf_addstr(err, "outputs with dest= and cache-to type=local need tags (the image "
				"is saved by name)");
		goto out;
	}
	add_authfile(b, &a);
	const char *file = act_input(c, "file"), *target = act_input(c, "target");
	if (*file) {
		strvec_push(&a, "-f");
		strvec_push(&a, file);
	}
	if (*target) {
		strvec_push(&a, "--target");
		strvec_push(&a, target);
	}
	if (platform) {
		strvec_push(&a, "--platform");
		strvec_push(&a, platform);
	}
	if (no_cache)
		strvec_push(&a, "--no-cache");
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
	struct strvec *bv = enqueue(b, BP_BUILD, "podman build failed");
	*bv = a;
	a = (struct strvec)STRVEC_INIT;
	for (size_t i = 0; i + 1 < saves.nr; i += 2) {
		struct strvec *s = enqueue(b, BP_SAVE, "podman save (outputs) failed");
		strvec_push(s, "save");
		strvec_push(s, "-q");
		strvec_push(s, "--format");
		strvec_push(s, saves.v[i]);
		strvec_push(s, "-o");
		strvec_push(s, saves.v[i + 1]);
		strvec_push(s, b->tags.v[0]);
	}
	if (b->cache_dest) {
		struct strvec *h = enqueue(b, BP_HISTORY, "podman history (cache-to) failed");
		strvec_push(h, "history");
		strvec_push(h, "-q");
		strvec_push(h, "--no-trunc");
		strvec_push(h, b->tags.v[0]);
	}
	for (size_t i = 0; push && i < b->tags.nr; i++) {
		struct strvec *p = enqueue(b, BP_PUSH, "podman push failed");
		strvec_push(p, "push");
		add_authfile(b, p);
		if (loopback(b->tags.v[i]))
			strvec_push(p, "--tls-verify=false");
		strvec_push(p, "--digestfile");
		strvec_push(p, b->digest_file);
		strvec_push(p, b->tags.v[i]);
	}
	if (load)
		act_logf(c, LOG_NOTICE, "load: the image is in podman's local storage, where "
			 "later steps' podman finds it");
	c->action_data = b;
	b = NULL;
	rc = 0;
	step(c->action_data);
out:
	if (b)
		bp_free(b);
	strvec_clear(&a);
	strvec_clear(&lines);
	strvec_clear(&saves);
	free(platform);
	return rc;
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
