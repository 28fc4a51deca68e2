/*
 * actions/setup-node, setup-python, setup-go, setup-java without
 * downloading anything: find the host's toolchain on PATH, check its
 * version against the requested spec, put its directory first on PATH and
 * set the original's outputs. A missing or non-matching toolchain is a
 * warning, never a failure (the host's is used when there is one).
 *
 * Version specs: "20", "20.x", "3.11", "1.21.5", "v18", ranges ">=18",
 * ">18", "<=", "<", "^18.2", "~3.11", and "latest", lts/(any), "node",
 * "stable", "*" (any version); several lines or "||" alternatives match
 * when one does. Version files: .nvmrc, .node-version,
 * .python-version, .tool-versions, go.mod (`go 1.21`), .java-version.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "actions/actions.h"

#include <errno.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct tool {
	const char *action;      /* "actions/setup-node" */
	const char *const *bins; /* executables tried in order */
	const char *const *args; /* argv[1..] printing the version */
	const char *input;       /* node-version */
	const char *file_input;  /* node-version-file */
	const char *tv_name;     /* name in .tool-versions */
	const char *output;      /* node-version */
};

static const char *const node_bins[] = { "node", NULL };
static const char *const node_args[] = { "--version", NULL };
static const char *const py_bins[] = { "python3", "python", NULL };
static const char *const py_args[] = { "--version", NULL };
static const char *const go_bins[] = { "go", NULL };
static const char *const go_args[] = { "version", NULL };
static const char *const java_bins[] = { "java", NULL };
static const char *const java_args[] = { "-version", NULL };

static const struct tool tools[] = {
	{ "actions/setup-node", node_bins, node_args, "node-version", "node-version-file", "nodejs",
	  "node-version" },
	{ "actions/setup-python", py_bins, py_args, "python-version", "python-version-file", "python",
	  "python-version" },
	{ "actions/setup-go", go_bins, go_args, "go-version", "go-version-file", "golang",
	  "go-version" },
	{ "actions/setup-java", java_bins, java_args, "java-version", "java-version-file", "java",
	  "version" },
};

/* the absolute path of `bin` on PATH, or NULL */
static char *which(const char *path, const char *bin)
{
	const char *p = path ? path : "/usr/bin:/bin";
	while (*p) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		if (n) {
			char *cand = xstrfmt("%.*s/%s", (int)n, p, bin);
			struct stat st;
			if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
				return cand;
			free(cand);
		}
		p += n + (colon ? 1 : 0);
	}
	return NULL;
}

/* run exe args..., collecting stdout and stderr (bounded); 0 or -1 */
static int capture(const char *exe, const char *const *args, const struct strvec *env,
		   struct buf *out)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	const char *argv[8] = { exe };
	for (size_t i = 0; args[i] && i < 6; i++)
		argv[i + 1] = args[i];
	char **envp = env && env->nr ? env->v : environ;
	pid_t pid;
	int rc = posix_spawn(&pid, exe, &fa, NULL, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc) {
		close(fds[0]);
		return -1;
	}
	char tmp[4096];
	ssize_t n;
	while ((n = read(fds[0], tmp, sizeof(tmp))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && out->len < 65536)
			buf_add(out, tmp, (size_t)n);
	close(fds[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* the first dotted number in s (after "version"/"go", "v"), into out */
static int parse_version(const char *s, char *out, size_t n)
{
	for (const char *p = s; *p; p++) {
		if (*p >= '0' && *p <= '9' && (p == s || p[-1] == ' ' || p[-1] == 'v' ||
					       p[-1] == '"' || p[-1] == 'o')) {
			size_t len = strspn(p, "0123456789.");
			while (len && p[len - 1] == '.')
				len--;
			if (!len || len >= n)
				continue;
			memcpy(out, p, len);
			out[len] = '\0';
			return 0;
		}
	}
	return -1;
}

/* numeric components of a version ("1.21.5" -> 1,21,5); count */
static int components(const char *v, long c[4], int *wild)
{
	int n = 0;
	*wild = 0;
	while (*v && n < 4) {
		if (*v == 'x' || *v == 'X' || *v == '*') {
			*wild = 1;
			break;
		}
		char *end;
		long x = strtol(v, &end, 10);
		if (end == v)
			break;
		c[n++] = x;
		if (*end != '.')
			break;
		v = end + 1;
	}
	return n;
}

static int cmp_version(const long a[4], int na, const long b[4], int nb)
{
	for (int i = 0; i < 4; i++) {
		long x = i < na ? a[i] : 0, y = i < nb ? b[i] : 0;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/* does version `have` satisfy one spec term (no spaces)? */
static int term_matches(const char *spec, const char *have)
{
	static const char *const any[] = { "", "latest", "lts/*", "node", "stable", "*", "x",
					   "current", "lts" };
	for (size_t i = 0; i < ARRAY_SIZE(any); i++)
		if (!strcmp(spec, any[i]))
			return 1;
	long h[4], s[4];
	int wild, nh = components(have, h, &wild), ns;
	const char *op = spec;
	size_t oplen = strspn(spec, "<>=^~");
	spec += oplen;
	if (*spec == 'v')
		spec++;
	ns = components(spec, s, &wild);
	if (!ns)
		return 0;
	int c = cmp_version(h, nh, s, ns);
	if (oplen == 2 && !strncmp(op, ">=", 2))
		return c >= 0;
	if (oplen == 2 && !strncmp(op, "<=", 2))
		return c <= 0;
	if (oplen == 1 && *op == '>')
		return c > 0;
	if (oplen == 1 && *op == '<')
		return c < 0;
	if (oplen == 1 && *op == '^')
		return c >= 0 && h[0] == s[0];
	if (oplen == 1 && *op == '~')
		return c >= 0 && h[0] == s[0] && (ns < 2 || (nh > 1 && h[1] == s[1]));
	/* a prefix: every given component equal */
	for (int i = 0; i < ns; i++)
		if (i >= nh || h[i] != s[i])
			return 0;
	return 1;
}

/* a spec: alternatives separated by "||", terms by spaces (all must hold) */
int act_version_matches(const char *spec, const char *have)
{
	char *copy = xstrdup(spec);
	int ok = 0;
	char *alt = copy;
	while (alt && !ok) {
		char *bar = strstr(alt, "||");
		if (bar)
			*bar = '\0';
		int all = 1, terms = 0;
		char *p = alt;
		while (*p && all) {
			p += strspn(p, " \t");
			size_t n = strcspn(p, " \t");
			if (!n)
				break;
			char save = p[n];
			p[n] = '\0';
			all = term_matches(p, have);
			terms++;
			p[n] = save;
			p += n;
		}
		ok = all && terms;
		alt = bar ? bar + 2 : NULL;
	}
	free(copy);
	return ok || !*spec;
}

/* the version a version file asks for ("" when none) */
static int version_from_file(const struct tool *t, const char *path, struct buf *out,
			     struct buf *err)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	int r = fs_read_input(path, FS_INPUT_MAX, &text, &why);
	if (r == -ENOENT)
		buf_addf(err, "The specified %s file at: %s does not exist", t->file_input, path);
	else if (r < 0)
		buf_addf(err, "cannot read %s file '%s': %s", t->file_input, path, why.buf);
	buf_release(&why);
	if (r < 0) {
		buf_release(&text);
		return r == -ENOENT ? KILN_ENOENT : KILN_EINVAL;
	}
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *key = !strcmp(base, "go.mod") ? "go" :
			  !strcmp(base, ".tool-versions") ? t->tv_name : NULL;
	char *line = text.buf;
	while (line && *line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		line += strspn(line, " \t");
		size_t kl = key ? strlen(key) : 0;
		if (*line && *line != '#' &&
		    (!key || (!strncmp(line, key, kl) && (line[kl] == ' ' || line[kl] == '\t')))) {
			const char *v = line + kl;
			v += strspn(v, " \t");
			size_t n = strcspn(v, " \t\r");
			buf_add(out, v, n);
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	buf_release(&text);
	return 0;
}

static int setup_start(struct builtin_call *c, const struct tool *t, struct buf *err)
{
	struct buf spec = BUF_INIT, vout = BUF_INIT, msg = BUF_INIT;
	struct strvec specs = STRVEC_INIT;
	act_input_lines(c, t->input, &specs);
	int r = 0;
	if (!specs.nr && *act_input(c, t->file_input)) {
		struct buf p = BUF_INIT;
		r = act_path(c->workspace, act_input(c, t->file_input), 0, &p, err);
		if (!r)
			r = version_from_file(t, p.buf, &spec, err);
		buf_release(&p);
		if (r < 0)
			goto out;
		if (spec.len)
			strvec_push(&specs, spec.buf);
	}
	if (!strcmp(t->action, "actions/setup-java") && !*act_input(c, "distribution")) {
		buf_addstr(err, "Input required and not supplied: distribution");
		r = KILN_EINVAL;
		goto out;
	}
	char *exe = NULL;
	for (size_t i = 0; t->bins[i] && !exe; i++)
		exe = which(strvec_getenv(c->env, "PATH"), t->bins[i]);
	buf_reset(&spec);
	for (size_t i = 0; i < specs.nr; i++)
		buf_addf(&spec, "%s%s", i ? ", " : "", specs.v[i]);
	if (!exe) {
		act_logf(c, LOG_WARNING,
			 "%s: no %s on this host's PATH; kiln does not download toolchains: install "
			 "%s%s%s on the host (the step continues without it)",
			 t->action, t->bins[0], t->bins[0], spec.len ? " " : "", spec.buf);
		c->complete(c, RESULT_SUCCESS, NULL);
		goto out;
	}
	char have[64] = "";
	if (capture(exe, t->args, c->env, &vout) < 0 || parse_version(vout.buf ? vout.buf : "", have,
								      sizeof(have)) < 0) {
		act_logf(c, LOG_WARNING, "%s: cannot tell the version of %s", t->action, exe);
	}
	int ok = !specs.nr;
	for (size_t i = 0; i < specs.nr && !ok; i++)
		ok = *have && act_version_matches(specs.v[i], have);
	if (ok)
		act_logf(c, LOG_INFO, "Found %s %s in the host's toolchain (%s)", t->bins[0], have, exe);
	else
		act_logf(c, LOG_WARNING,
			 "%s: the host's %s is version %s, which does not satisfy '%s'; kiln does not "
			 "download toolchains, so the host's is used (install a matching one to fix)",
			 t->action, exe, *have ? have : "unknown", spec.buf);
	char *slash = strrchr(exe, '/');
	*slash = '\0';
	c->add_path(c, exe);
	struct ev *o = ev_object();
	ev_object_set(o, t->output, ev_cstr(have));
	ev_object_set(o, "cache-hit", ev_cstr("false"));
	if (!strcmp(t->action, "actions/setup-python")) {
		*slash = '/';
		ev_object_set(o, "python-path", ev_cstr(exe));
		*slash = '\0';
		char *prefix = xstrdup(exe);
		char *s2 = strrchr(prefix, '/');
		if (s2 && s2 != prefix)
			*s2 = '\0';
		c->set_env(c, "pythonLocation", prefix);
		free(prefix);
	} else if (!strcmp(t->action, "actions/setup-java")) {
		*slash = '/';
		char *real = realpath(exe, NULL);
		char *home = xstrdup(real ? real : exe);
		free(real);
		for (int k = 0; k < 2; k++) { /* <home>/bin/java */
			char *s2 = strrchr(home, '/');
			if (s2 && s2 != home)
				*s2 = '\0';
		}
		c->set_env(c, "JAVA_HOME", home);
		ev_object_set(o, "path", ev_cstr(home));
		ev_object_set(o, "distribution", ev_cstr(act_input(c, "distribution")));
		free(home);
	}
	free(exe);
	c->complete(c, RESULT_SUCCESS, o);
out:
	strvec_clear(&specs);
	buf_release(&spec);
	buf_release(&vout);
	buf_release(&msg);
	return r;
}

int act_setup_node_start(struct builtin_call *c, struct buf *err)
{
	return setup_start(c, &tools[0], err);
}

int act_setup_python_start(struct builtin_call *c, struct buf *err)
{
	return setup_start(c, &tools[1], err);
}

int act_setup_go_start(struct builtin_call *c, struct buf *err)
{
	return setup_start(c, &tools[2], err);
}

int act_setup_java_start(struct builtin_call *c, struct buf *err)
{
	return setup_start(c, &tools[3], err);
}
