/*
 * gitbump: clone, edit one scalar, commit, push with retry. See gitbump.h.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "deploy/app.h"
#include "deploy/gitbump.h"
#include "yaml/yedit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* run git with args in cwd, its output appended to log (and kept in out
 * when not NULL); the exit status, or -1 when it could not run */
static int git(const char *cwd, const char *author, struct buf *log, struct buf *out, const char *const *args)
{
	char tmpl[] = "/tmp/kiln-gitbump-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0)
		return -1;
	unlink(tmpl);
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	strvec_push(&argv, "git");
	buf_addstr(log, "$ git");
	for (const char *const *a = args; *a; a++) {
		strvec_push(&argv, *a);
		buf_addf(log, " %s", *a);
	}
	buf_addch(log, '\n');
	for (char **e = environ; *e; e++)
		strvec_push(&env, *e);
	strvec_setenv(&env, "GIT_TERMINAL_PROMPT", "0");
	strvec_setenv(&env, "LC_ALL", "C");
	/* "Name <email>" as author and committer */
	const char *lt = strchr(author, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	char *name = lt ? xstrndup(author, (size_t)(lt - author)) : xstrdup(author);
	while (*name && name[strlen(name) - 1] == ' ')
		name[strlen(name) - 1] = '\0';
	char *email = lt && gt ? xstrndup(lt + 1, (size_t)(gt - lt - 1)) : xstrdup("kiln@localhost");
	strvec_setenv(&env, "GIT_AUTHOR_NAME", name);
	strvec_setenv(&env, "GIT_COMMITTER_NAME", name);
	strvec_setenv(&env, "GIT_AUTHOR_EMAIL", email);
	strvec_setenv(&env, "GIT_COMMITTER_EMAIL", email);
	free(name);
	free(email);
	int status = -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		if (cwd && chdir(cwd) < 0)
			_exit(127);
		execvpe("git", argv.v, env.v);
		_exit(127);
	}
	if (pid > 0) {
		int st;
		uint64_t deadline = now_ns() + 120ull * 1000000000u;
		for (;;) {
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid) {
				status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				break;
			}
			if (now_ns() > deadline) {
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				status = 124;
				break;
			}
			usleep(5000);
		}
	}
	char chunk[4096];
	ssize_t n;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		buf_add(log, chunk, (size_t)n);
		if (out)
			buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	strvec_clear(&argv);
	strvec_clear(&env);
	return status;
}

static char *find_file(const struct gitbump *b, const char *clone)
{
	if (b->file)
		return xstrdup(b->file);
	const char *dir = b->dir && *b->dir ? b->dir : ".";
	const char *const forms[] = { "%s/%s.yml", "%s/%s.yaml", "%s/%s/values.yaml", "%s/%s/values.yml" };
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		char *rel = xstrfmt(forms[i], dir, b->app);
		char *full = xstrfmt("%s/%s", clone, rel);
		int ok = access(full, F_OK) == 0;
		free(full);
		if (ok)
			return rel;
		free(rel);
	}
	return NULL;
}

/* where a file gives its release: version:, else image.tag, else image:
 * REF:TAG / REF@DIGEST (then *ref is the new image: value) */
static const char *release_key(const char *rel, const struct buf *text, const char *value, char **ref)
{
	static const char *const keys[] = { "version", ".image.tag", ".image" };
	struct buf cur = BUF_INIT, e = BUF_INIT;
	const char *key = ".image.tag"; /* none: its error names what is missing */
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		buf_reset(&cur);
		if (yedit_get(rel, text->buf, text->len, keys[i], &cur, &e) == 0) {
			key = keys[i];
			break;
		}
	}
	if (!strcmp(key, ".image")) {
		char *old = NULL, *repo = deploy_image_split(cur.buf, &old);
		struct buf v = BUF_INIT;
		deploy_image_ref(repo, value, &v);
		*ref = buf_detach(&v, NULL);
		free(repo);
		free(old);
	}
	buf_release(&cur);
	buf_release(&e);
	return key;
}

/* edit the file in the clone; 0 changed, 1 already so, -1 err */
static int edit(const struct gitbump *b, const char *clone, const char *rel, char **key_used, struct buf *err)
{
	char *full = xstrfmt("%s/%s", clone, rel);
	struct buf text = BUF_INIT, why = BUF_INIT, out = BUF_INIT, cur = BUF_INIT;
	char *ref = NULL;
	int r = -1;
	if (fs_read_input(full, FS_INPUT_MAX, &text, &why) < 0) {
		buf_addf(err, "cannot read %s: %s", rel, why.buf);
		goto out;
	}
	const char *key = b->key, *value = b->value;
	if (!key)
		key = release_key(rel, &text, b->value, &ref);
	if (ref)
		value = ref;
	buf_reset(&cur);
	if (yedit_get(rel, text.buf, text.len, key, &cur, err) < 0)
		goto out;
	free(*key_used);
	*key_used = xstrdup(key);
	if (!strcmp(cur.buf, value)) {
		r = 1;
		goto out;
	}
	if (yedit_set(rel, text.buf, text.len, key, value, &out, err) < 0)
		goto out;
	int w = write_file_atomic(full, out.buf, out.len, 0644);
	if (w < 0) {
		buf_addf(err, "cannot write %s: %s", rel, strerror(-w));
		goto out;
	}
	r = 0;
out:
	free(full);
	buf_release(&text);
	buf_release(&why);
	buf_release(&out);
	buf_release(&cur);
	free(ref);
	return r;
}

static void head_sha(const char *clone, const char *author, char sha[41], struct buf *log)
{
	struct buf o = BUF_INIT;
	const char *a[] = { "rev-parse", "HEAD", NULL };
	sha[0] = '\0';
	if (!git(clone, author, log, &o, a) && o.len >= 40)
		snprintf(sha, 41, "%.40s", o.buf);
	buf_release(&o);
}

int gitbump_run(const struct gitbump *b, char sha[41], struct buf *log, struct buf *err)
{
	const char *branch = b->branch && *b->branch ? b->branch : "main";
	const char *author = b->author && *b->author ? b->author : "kiln <kiln@localhost>";
	int tries = b->tries > 0 ? b->tries : 5;
	char *clone = xstrfmt("%s/repo", b->workdir);
	char *rel = NULL, *key = NULL, *msg = NULL;
	int r = -1;
	if (mkdir(b->workdir, 0700) < 0 && errno != EEXIST) {
		buf_addf(err, "cannot create '%s': %s", b->workdir, strerror(errno));
		goto out;
	}
	const char *cl[] = { "clone", "-q", "--single-branch", "--branch", branch, "--", b->url, clone, NULL };
	if (git(NULL, author, log, NULL, cl) != 0) {
		char *u = url_redact(b->url);
		buf_addf(err, "cannot clone branch '%s' of %s", branch, u);
		free(u);
		goto out;
	}
	if (!(rel = find_file(b, clone))) {
		buf_addf(err, "no file for app '%s' in %s (%s/%s.yml, .yaml or %s/values.yaml)", b->app,
			 b->dir && *b->dir ? b->dir : "the root", b->dir && *b->dir ? b->dir : ".", b->app, b->app);
		goto out;
	}
	for (int attempt = 1; attempt <= tries; attempt++) {
		int e = edit(b, clone, rel, &key, err);
		if (e < 0)
			goto out;
		if (e == 1) {
			head_sha(clone, author, sha, log);
			r = 1;
			goto out;
		}
		if (!msg)
			msg = b->message && *b->message ? xstrdup(b->message)
							: xstrfmt("%s: %s %s", b->app ? b->app : rel, key, b->value);
		const char *add[] = { "add", "--", rel, NULL };
		const char *ci[] = { "commit", "-q", "-m", msg, NULL };
		if (git(clone, author, log, NULL, add) || git(clone, author, log, NULL, ci)) {
			buf_addf(err, "cannot commit %s", rel);
			goto out;
		}
		struct buf po = BUF_INIT;
		char *spec = xstrfmt("HEAD:refs/heads/%s", branch);
		const char *push[] = { "push", "-q", "origin", spec, NULL };
		int p = git(clone, author, log, &po, push);
		free(spec);
		if (!p) {
			buf_release(&po);
			head_sha(clone, author, sha, log);
			r = 0;
			goto out;
		}
		int nonff = strstr(po.buf, "non-fast-forward") || strstr(po.buf, "fetch first") ||
			    strstr(po.buf, "[rejected]");
		if (!nonff || attempt == tries) {
			const char *last = po.buf;
			for (char *nl; (nl = strchr(last, '\n')) && nl[1];)
				last = nl + 1;
			buf_addf(err, "push refused%s: %.*s", nonff ? " (still behind after retries)" : "",
				 (int)strcspn(last, "\n"), last);
			buf_release(&po);
			goto out;
		}
		buf_release(&po);
		buf_addf(log, "push rejected as non-fast-forward: fetching and trying again (%d of %d)\n", attempt + 1,
			 tries);
		char *remote = xstrfmt("origin/%s", branch);
		const char *fe[] = { "fetch", "-q", "origin", branch, NULL };
		const char *rs[] = { "reset", "-q", "--hard", remote, NULL };
		int bad = git(clone, author, log, NULL, fe) || git(clone, author, log, NULL, rs);
		free(remote);
		if (bad) {
			buf_addstr(err, "cannot fetch the new head after a rejected push");
			goto out;
		}
	}
out:
	free(clone);
	free(rel);
	free(key);
	free(msg);
	return r;
}
