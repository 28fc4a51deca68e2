/*
 * podman: finding the engine, kiln's containers.conf, labels, and the
 * small parsers for docker-style options. See podman.h.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/exec.h"
#include "engine/podman.h"
#include "store/owner.h"

#include <ctype.h>
#include <sodium.h>
#include <errno.h>
#include <unistd.h>

extern char **environ;

static void conf_text(struct buf *b, const char *path)
{
	buf_addstr(b, "# written by kiln: podman as kiln runs it (CONTAINERS_CONF)\n"
		      "[containers]\n"
		      "# kiln's own limits apply; the system default may not be settable here\n"
		      "default_ulimits = []\n"
		      "[engine]\n"
		      "events_logger = \"file\"\n");
	char *runc = exec__which("runc", path);
	if (runc)
		buf_addf(b, "runtime = \"runc\"\n");
	free(runc);
	if (access("/run/systemd/system", F_OK) != 0)
		buf_addstr(b, "cgroup_manager = \"cgroupfs\"\n");
}

/*
 * Short names as GitHub (Docker) resolves them: `postgres:16` is
 * docker.io/library/postgres:16. podman resolves a short name from local
 * storage first, then the unqualified-search registries, and Debian's
 * registries.conf lists none ("short-name did not resolve"). Unless the
 * system's file (CONTAINERS_REGISTRIES_CONF or /etc/containers/registries.conf)
 * already chooses search registries (or is in the old v1 format, which the
 * key cannot join), kiln's registries.conf is that file with docker.io as
 * the search registry in front; the drop-ins in registries.conf.d still
 * apply. want is left empty when the system's file is used as it is.
 */
static void registries_text(struct buf *want)
{
	const char *sys = getenv("CONTAINERS_REGISTRIES_CONF");
	struct buf have = BUF_INIT, why = BUF_INIT;
	if (!sys || !*sys)
		sys = "/etc/containers/registries.conf";
	if (fs_read_input(sys, FS_INPUT_MAX, &have, &why) < 0)
		buf_reset(&have); /* none: podman's built-in defaults */
	for (const char *l = have.buf; l && *l;) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		while (n && (*l == ' ' || *l == '\t'))
			l++, n--;
		if ((n >= 29 && !strncmp(l, "unqualified-search-registries", 29)) ||
		    (n >= 12 && !strncmp(l, "[registries.", 12)))
			goto out;
		l = e ? e + 1 : NULL;
	}
	buf_addf(want,
		 "# written by kiln: %s with short names resolved as Docker does\n"
		 "# (CONTAINERS_REGISTRIES_CONF of the podman kiln runs)\n"
		 "unqualified-search-registries = [\"docker.io\"]\n",
		 sys);
	buf_add(want, have.buf, have.len);
out:
	buf_release(&have);
	buf_release(&why);
}

/* write path with the content of want unless it has it already */
static int write_if_changed(const char *path, const struct buf *want, struct buf *err)
{
	struct buf have = BUF_INIT, why = BUF_INIT;
	int r = 0;
	if (fs_read_input(path, FS_INPUT_MAX, &have, &why) < 0 || have.len != want->len ||
	    memcmp(have.buf, want->buf, want->len)) {
		r = write_file_atomic(path, want->buf, want->len, 0600);
		if (r < 0)
			buf_addf(err, "cannot write '%s': %s", path, strerror(-r));
	}
	buf_release(&have);
	buf_release(&why);
	return r < 0 ? -1 : 0;
}

int podman_init(struct podman *pm, const char *path, struct buf *err)
{
	if (!path)
		path = getenv("PATH");
	owner_tag(pm->owner, sizeof(pm->owner));
	pm->prog = exec__which("podman", path);
	if (!pm->prog) {
		buf_addstr(err, "podman is not installed (not found on PATH)");
		return -1;
	}
	struct buf f = BUF_INIT, want = BUF_INIT;
	int r = -1;
	if (kiln_data_path("podman", &f, err) < 0)
		goto out;
	int m = mkdir_p(f.buf, 0700);
	if (m < 0) {
		buf_addf(err, "cannot create '%s': %s", f.buf, strerror(-m));
		goto out;
	}
	size_t dir = f.len;
	buf_addstr(&f, "/containers.conf");
	conf_text(&want, path);
	if (write_if_changed(f.buf, &want, err) < 0)
		goto out;
	pm->conf = xstrdup(f.buf);
	buf_setlen(&f, dir);
	buf_addstr(&f, "/registries.conf");
	buf_reset(&want);
	registries_text(&want);
	if (want.len) {
		if (write_if_changed(f.buf, &want, err) < 0)
			goto out;
		pm->registries = xstrdup(f.buf);
	}
	r = 0;
out:
	buf_release(&f);
	buf_release(&want);
	return r;
}

int podman_installed(const char *path)
{
	char *p = exec__which("podman", path ? path : getenv("PATH"));
	free(p);
	return p != NULL;
}

void podman_release(struct podman *pm)
{
	free(pm->prog);
	free(pm->conf);
	free(pm->registries);
	pm->prog = pm->conf = pm->registries = NULL;
}

void podman_setenv(const struct podman *pm, struct strvec *env)
{
	strvec_setenv(env, "CONTAINERS_CONF", pm->conf);
	if (pm->registries)
		strvec_setenv(env, "CONTAINERS_REGISTRIES_CONF", pm->registries);
}

void podman_cmd(const struct podman *pm, struct exec_cmd *cmd)
{
	strvec_push(&cmd->args, pm->prog);
	for (char **e = environ; *e; e++)
		strvec_push(&cmd->env, *e);
	podman_setenv(pm, &cmd->env);
}

void podman_labels(const struct podman *pm, struct strvec *args, const char *run,
		   const char *job)
{
	strvec_push(args, "--label");
	strvec_pushf(args, "%s=%s", PODMAN_LABEL_OWNER, pm->owner);
	strvec_push(args, "--label");
	strvec_pushf(args, "%s=%s", PODMAN_LABEL_RUN, run);
	strvec_push(args, "--label");
	strvec_pushf(args, "%s=%s", PODMAN_LABEL_JOB, job);
}

int podman_split_words(const char *s, struct strvec *out, struct buf *err)
{
	struct buf w = BUF_INIT;
	int have = 0;
	char q = 0;
	for (; *s; s++) {
		if (q == '\'') {
			if (*s == '\'')
				q = 0;
			else
				buf_addch(&w, *s);
		} else if (*s == '\\' && s[1] && (!q || s[1] == '"' || s[1] == '\\')) {
			buf_addch(&w, *++s);
			have = 1;
		} else if (q == '"') {
			if (*s == '"')
				q = 0;
			else
				buf_addch(&w, *s);
		} else if (*s == '"' || *s == '\'') {
			q = *s;
			have = 1;
		} else if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			if (have)
				strvec_push(out, w.buf);
			buf_reset(&w);
			have = 0;
		} else {
			buf_addch(&w, *s);
			have = 1;
		}
	}
	if (q) {
		buf_addf(err, "unterminated %s quote in options", q == '"' ? "double" : "single");
		buf_release(&w);
		return -1;
	}
	if (have)
		strvec_push(out, w.buf);
	buf_release(&w);
	return 0;
}

int podman_duration_ms(const char *s, uint64_t *ms)
{
	double total = 0;
	if (!*s)
		return -1;
	if (!strcmp(s, "0")) {
		*ms = 0;
		return 0;
	}
	while (*s) {
		char *end;
		errno = 0;
		double v = strtod(s, &end);
		if (end == s || errno || v < 0)
			return -1;
		s = end;
		double unit;
		if (!strncmp(s, "ms", 2)) {
			unit = 1;
			s += 2;
		} else if (*s == 's') {
			unit = 1000;
			s++;
		} else if (*s == 'm') {
			unit = 60000;
			s++;
		} else if (*s == 'h') {
			unit = 3600000;
			s++;
		} else if (!strncmp(s, "us", 2) || !strncmp(s, "\xc2\xb5s", 3)) {
			unit = 0.001;
			s += *s == 'u' ? 2 : 3;
		} else if (!strncmp(s, "ns", 2)) {
			unit = 0.000001;
			s += 2;
		} else {
			return -1;
		}
		total += v * unit;
	}
	if (total > 1e15)
		return -1;
	*ms = (uint64_t)total;
	return 0;
}

/* variables of the host that are not the job's: they stay outside */
static int host_only(const char *name, size_t n)
{
	static const char *const names[] = { "PATH", "HOME", "HOSTNAME", "USER", "LOGNAME",
					     "SHELL", "PWD", "OLDPWD", "TMPDIR", "TERM",
					     "CONTAINERS_CONF", "CONTAINERS_REGISTRIES_CONF" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == n && !memcmp(names[i], name, n))
			return 1;
	return 0;
}

static int job_var(const char *name, size_t n, const struct ev *job_env)
{
	static const char *const prefixes[] = { "GITHUB_", "RUNNER_", "INPUT_", "STATE_",
						"ACTIONS_" };
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (n >= strlen(prefixes[i]) && !strncmp(name, prefixes[i], strlen(prefixes[i])))
			return 1;
	if (n == 2 && !strncmp(name, "CI", 2))
		return 1;
	for (size_t i = 0; job_env && i < ev_len(job_env); i++) {
		const char *k = ev_object_key_at(job_env, i);
		if (strlen(k) == n && !strncmp(k, name, n))
			return 1;
	}
	return 0;
}

void podman_pass_env(struct strvec *args, const struct strvec *env, const struct ev *job_env)
{
	for (size_t i = 0; i < env->nr; i++) {
		const char *eq = strchr(env->v[i], '=');
		size_t n = eq ? (size_t)(eq - env->v[i]) : strlen(env->v[i]);
		if (!eq || host_only(env->v[i], n) || !job_var(env->v[i], n, job_env))
			continue;
		strvec_push(args, "-e");
		strvec_pushf(args, "%.*s", (int)n, env->v[i]);
	}
}

void podman_name(const struct podman *pm, const char *job, const char *what, struct buf *out)
{
	const char *parts[] = { pm->owner, job, what };
	buf_addstr(out, "kiln");
	for (size_t k = 0; k < ARRAY_SIZE(parts); k++) {
		buf_addch(out, '-');
		for (const char *s = parts[k]; *s && out->len < 200; s++)
			buf_addch(out, isalnum((unsigned char)*s) || *s == '-' || *s == '.' ? *s
											  : '_');
	}
}

int podman_write_authfile(const char *path, const char *image, const char *user,
			  const char *password, struct buf *err)
{
	size_t n = strcspn(image, "/");
	struct buf reg = BUF_INIT, up = BUF_INIT, json = BUF_INIT;
	if (image[n] == '/' && (memchr(image, '.', n) || memchr(image, ':', n) ||
				(n == 9 && !strncmp(image, "localhost", 9))))
		buf_add(&reg, image, n);
	else
		buf_addstr(&reg, "docker.io");
	buf_addf(&up, "%s:%s", user, password);
	size_t blen = sodium_base64_ENCODED_LEN(up.len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(blen);
	sodium_bin2base64(b64, blen, (const unsigned char *)up.buf, up.len,
			  sodium_base64_VARIANT_ORIGINAL);
	buf_addstr(&json, "{\"auths\":{");
	buf_add_json_str(&json, reg.buf, reg.len);
	buf_addstr(&json, ":{\"auth\":");
	buf_add_json_str(&json, b64, strlen(b64));
	buf_addstr(&json, "}}}\n");
	int r = write_file_atomic(path, json.buf, json.len, 0600);
	if (r < 0)
		buf_addf(err, "cannot write '%s': %s", path, strerror(-r));
	sodium_memzero(up.buf, up.len);
	sodium_memzero(json.buf, json.len);
	sodium_memzero(b64, blen);
	free(b64);
	buf_release(&reg);
	buf_release(&up);
	buf_release(&json);
	return r < 0 ? -1 : 0;
}
