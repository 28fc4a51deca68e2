/*
 * exec_run: `run:` steps — the shell as GitHub picks it (GitHub docs:
 * workflow syntax → jobs.<job_id>.steps[*].shell), the script written to a
 * file in RUNNER_TEMP after `${{ }}` interpolation, the process
 * environment, and the file commands ($GITHUB_OUTPUT, $GITHUB_ENV,
 * $GITHUB_PATH, $GITHUB_STEP_SUMMARY, $GITHUB_STATE) read after the step.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/envfile.h"
#include "engine/exec.h"
#include "engine/isolate.h"
#include "engine/services.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* $GITHUB_STEP_SUMMARY larger than this is refused, as on GitHub */
#define SUMMARY_MAX (1024u * 1024)

char *exec__which(const char *prog, const char *path)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? xstrdup(prog) : NULL;
	return proc_path_search(prog, path);
}

/* split a custom shell string into words (quotes group words) */
static void split_words(const char *s, struct strvec *out)
{
	struct buf w = BUF_INIT;
	int have = 0;
	char q = 0;
	for (; *s; s++) {
		if (q) {
			if (*s == q)
				q = 0;
			else
				buf_addch(&w, *s);
		} else if (*s == '"' || *s == '\'') {
			q = *s;
			have = 1;
		} else if (isspace((unsigned char)*s)) {
			if (have)
				strvec_push(out, w.buf);
			buf_reset(&w);
			have = 0;
		} else {
			buf_addch(&w, *s);
			have = 1;
		}
	}
	if (have)
		strvec_push(out, w.buf);
	buf_release(&w);
}

/*
 * The shell's program looked up on PATH once per run (`run`: the run's
 * directory, unique per run) and PATH: a one-step job's lookup of bash
 * was ten access() calls per step on a PATH of ten directories. A program
 * installed during the run into an earlier PATH directory is seen by the
 * next run, or by a step whose PATH differs (exec.md).
 */
static __thread struct {
	char *run, *prog, *path, *found;
} shell_cache;

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static char *which_cached(const char *prog, const char *path, const char *run)
{
	if (shell_cache.found && same_str(shell_cache.run, run) &&
	    same_str(shell_cache.prog, prog) && same_str(shell_cache.path, path))
		return xstrdup(shell_cache.found);
	char *found = exec__which(prog, path);
	if (found) {
		free(shell_cache.run);
		free(shell_cache.prog);
		free(shell_cache.path);
		free(shell_cache.found);
		shell_cache.run = xstrdup(run);
		shell_cache.prog = xstrdup(prog);
		shell_cache.path = path ? xstrdup(path) : NULL;
		shell_cache.found = xstrdup(found);
	}
	return found;
}

/*
 * argv for a shell keyword or custom template; {0} is the script. Returns
 * the script file extension through *ext.
 */
/* a program of a shell: looked up in path on the host; in a job container
 * (ctr >= 0: whether it has bash) by name, bash only when it has it */
static char *which(const char *prog, const char *path, int ctr, const char *run)
{
	if (ctr < 0)
		return run ? which_cached(prog, path, run) : exec__which(prog, path);
	if (!strcmp(prog, "bash") && !ctr)
		return NULL;
	if (!strcmp(prog, "python"))
		return NULL; /* python3 is what a Debian-based image has */
	return xstrdup(prog);
}

static int shell_argv(const char *shell, const char *path, int ctr, const char *run,
		      const char *script, struct strvec *argv, const char **ext, struct buf *err)
{
	char *prog = NULL;
	*ext = "";
	if (!shell || !strcmp(shell, "bash") || !strcmp(shell, "sh")) {
		*ext = ".sh";
		if (!shell || !strcmp(shell, "bash"))
			prog = which("bash", path, ctr, run);
		if (prog) {
			strvec_push_nodup(argv, prog);
			if (shell) { /* explicit `shell: bash` */
				strvec_push(argv, "--noprofile");
				strvec_push(argv, "--norc");
				strvec_push(argv, "-eo");
				strvec_push(argv, "pipefail");
			} else {
				strvec_push(argv, "-e");
			}
		} else {
			prog = which("sh", path, ctr, run);
			if (!prog) {
				buf_addf(err, "cannot find 'sh' in PATH");
				return -1;
			}
			strvec_push_nodup(argv, prog);
			strvec_push(argv, "-e");
		}
		strvec_push(argv, script);
		return 0;
	}
	if (!strcmp(shell, "python")) {
		*ext = ".py";
		prog = which("python", path, ctr, run);
		if (!prog)
			prog = which("python3", path, ctr, run);
		if (!prog) {
			buf_addf(err, "cannot find 'python' or 'python3' in PATH for shell: python");
			return -1;
		}
		strvec_push_nodup(argv, prog);
		strvec_push(argv, script);
		return 0;
	}
	if (!strcmp(shell, "pwsh") || !strcmp(shell, "powershell")) {
		*ext = ".ps1";
		prog = which("pwsh", path, ctr, run);
		if (!prog) {
			buf_addf(err, "cannot find 'pwsh' in PATH for shell: %s", shell);
			return -1;
		}
		strvec_push_nodup(argv, prog);
		strvec_push(argv, "-command");
		strvec_pushf(argv, ". '%s'", script);
		return 0;
	}
	/* custom: `cmd {0}`; the script is appended when {0} is absent */
	struct strvec words = STRVEC_INIT;
	split_words(shell, &words);
	if (!words.nr) {
		buf_addf(err, "invalid shell '%s'", shell);
		return -1;
	}
	int seen = 0;
	prog = which(words.v[0], path, ctr, run);
	if (!prog) {
		buf_addf(err, "cannot find '%s' in PATH for shell: %s", words.v[0], shell);
		strvec_clear(&words);
		return -1;
	}
	strvec_push_nodup(argv, prog);
	for (size_t i = 1; i < words.nr; i++) {
		const char *at = strstr(words.v[i], "{0}");
		if (at) {
			seen = 1;
			strvec_pushf(argv, "%.*s%s%s", (int)(at - words.v[i]), words.v[i], script,
				     at + 3);
		} else {
			strvec_push(argv, words.v[i]);
		}
	}
	if (!seen)
		strvec_push(argv, script);
	strvec_clear(&words);
	return 0;
}

/*
 * path's content becomes data. Written over the old bytes (a step script,
 * a command file: emptied after each step) and cut to len, never opened
 * with O_TRUNC: on ext4, a file truncated to zero and then written is
 * flushed to the disk when closed (auto_da_alloc), one synchronous write
 * and, once freed, a discard per step; written in place the bytes stay in
 * the page cache until the step empties the file again.
 */
static int write_file(const char *path, const char *data, size_t len, struct buf *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		buf_addf(err, "cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	size_t total = len;
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_addf(err, "cannot write '%s': %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || (st.st_size > (off_t)total && ftruncate(fd, (off_t)total) < 0)) {
		buf_addf(err, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Is `path` an empty regular file (not a link)? One lstat per file
 * command instead of opening, reading and closing it: after a step that
 * wrote none of them (the usual case) its five files are left as they
 * were emptied. A link, a FIFO or anything else takes the full path.
 */
static int empty_file(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
}

int exec__files_reset(struct job_exec *je, struct buf *err)
{
	const char *files[] = { je->f_output, je->f_env, je->f_path, je->f_summary, je->f_state };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (!empty_file(files[i]) && write_file(files[i], "", 0, err) < 0)
			return -1;
	return 0;
}

/* fs_read_input, with an empty regular file read as empty at once */
static int read_command_file(const char *path, size_t limit, struct buf *out, struct buf *why)
{
	return empty_file(path) ? 0 : fs_read_input(path, limit, out, why);
}

static void env_pair(void *arg, const char *name, const char *value, size_t vlen)
{
	struct job_exec *je = arg;
	je->global_env = exec__obj_with(je->global_env, name, ev_string(value, vlen));
}

static void output_pair(void *arg, const char *name, const char *value, size_t vlen)
{
	struct step_run *sr = arg;
	sr->outputs = exec__obj_with(sr->outputs, name, ev_string(value, vlen));
}

static void state_pair(void *arg, const char *name, const char *value, size_t vlen)
{
	exec__save_state(arg, name, value, vlen);
}

static void path_line(void *arg, const char *line, size_t len)
{
	struct job_exec *je = arg;
	char *p = xstrndup(line, len);
	long i = strvec_find(&je->path_add, p);
	if (i >= 0) { /* moved to the front: drop the old entry */
		free(je->path_add.v[i]);
		memmove(&je->path_add.v[i], &je->path_add.v[i + 1],
			(je->path_add.nr - (size_t)i) * sizeof(char *));
		je->path_add.nr--;
	}
	strvec_push_nodup(&je->path_add, p);
}

static int process_kv(struct step_run *sr, const char *file, const char *what,
		      envfile_pair_cb cb, void *arg)
{
	struct buf text = BUF_INIT, err = BUF_INIT;
	/* the step may have replaced the file by a FIFO or a link to
	 * /dev/zero: refused, never waited on, never read past the cap */
	int r = read_command_file(file, ENVFILE_MAX, &text, &err);
	if (r == -ENOENT) {
		r = 0; /* removed by the step: nothing to process */
	} else if (r < 0 || text.len) {
		if (r == 0)
			r = envfile_parse(text.buf, text.len, cb, arg, &err);
		else
			r = -1;
		if (r < 0) {
			exec__logf(sr->je, LOG_ERROR, sr->name,
				   "Unable to process file command '%s' successfully.", what);
			exec__log(sr->je, LOG_ERROR, sr->name, err.buf, err.len);
		}
	}
	buf_release(&text);
	buf_release(&err);
	return r;
}

int exec__files_process(struct step_run *sr)
{
	struct job_exec *je = sr->je;
	int r = 0;
	if (process_kv(sr, je->f_env, "env", env_pair, je) < 0)
		r = -1;
	if (process_kv(sr, je->f_output, "output", output_pair, sr) < 0)
		r = -1;
	if (process_kv(sr, je->f_state, "state", state_pair, sr) < 0)
		r = -1;
	struct buf text = BUF_INIT, why = BUF_INIT;
	if (read_command_file(je->f_path, ENVFILE_MAX, &text, &why) == 0)
		envfile_parse_path(text.buf, text.len, path_line, je);
	buf_reset(&text);
	int rs = read_command_file(je->f_summary, SUMMARY_MAX, &text, &why);
	if (rs == -EFBIG) {
		exec__logf(je, LOG_ERROR, sr->name,
			   "$GITHUB_STEP_SUMMARY supports content up a size of %uk", SUMMARY_MAX / 1024);
	} else if (rs == 0 && text.len) {
		/* masked like every other output */
		mask_apply(je->mask, text.buf, text.len, &je->summary);
		if (je->summary.len && je->summary.buf[je->summary.len - 1] != '\n')
			buf_addch(&je->summary, '\n');
	}
	buf_release(&text);
	buf_release(&why);
	return r;
}

void exec__proc_env(struct step_run *sr, struct strvec *out)
{
	struct job_exec *je = sr->je;
	for (size_t i = 0; i < je->base_env.nr; i++)
		strvec_push(out, je->base_env.v[i]);
	const struct ev *env = sr->env ? sr->env : je->global_env;
	for (size_t i = 0; i < ev_len(env); i++) {
		const struct ev *v = ev_object_val_at(env, i);
		struct buf s = BUF_INIT;
		ev_to_string(v, &s);
		strvec_setenv(out, ev_object_key_at(env, i), s.buf);
		buf_release(&s);
	}
	if (je->path_add.nr) {
		struct buf p = BUF_INIT;
		for (size_t i = je->path_add.nr; i-- > 0;)
			buf_addf(&p, "%s:", je->path_add.v[i]);
		const char *old = strvec_getenv(out, "PATH");
		buf_addstr(&p, old ? old : "/usr/local/bin:/usr/bin:/bin");
		strvec_setenv(out, "PATH", p.buf);
		buf_release(&p);
	}
	/* the action the step belongs to: its own (JavaScript) or the
	 * composite running it; GitHub sets the three empty elsewhere */
	const struct action_source *src = sr->ar ? &sr->ar->src : sr->fr->action ? &sr->fr->src : NULL;
	strvec_setenv(out, "GITHUB_ACTION", sr->ar ? sr->ar->step_id : sr->id);
	strvec_setenv(out, "GITHUB_ACTION_PATH", src && src->dir ? src->dir : "");
	strvec_setenv(out, "GITHUB_ACTION_REPOSITORY", src && src->repository ? src->repository : "");
	strvec_setenv(out, "GITHUB_ACTION_REF", src && src->ref ? src->ref : "");
}

static void on_line(struct exec_cmd *cmd, int fd, const char *line, size_t len)
{
	(void)fd;
	exec__step_line(cmd->data, line, len);
}

static void on_done(struct exec_cmd *cmd)
{
	struct step_run *sr = cmd->data;
	enum result outcome = RESULT_SUCCESS;
	if (sr->cancelled) {
		outcome = RESULT_CANCELLED;
	} else if (cmd->timed_out) {
		sr->timed_out = 1;
		outcome = RESULT_FAILURE;
	} else if (cmd->exit_status != 0) {
		if (cmd->term_signal)
			exec__logf(sr->je, LOG_ERROR, sr->name, "Process killed by signal %d.",
				   cmd->term_signal);
		else
			exec__logf(sr->je, LOG_ERROR, sr->name,
				   "Process completed with exit code %lld.",
				   (long long)cmd->exit_status);
		outcome = RESULT_FAILURE;
	}
	exec__step_complete(sr, outcome);
}

int exec__spawn(struct step_run *sr, struct strvec *argv, struct strvec *env, const char *cwd,
		struct buf *err)
{
	struct job_exec *je = sr->je;
	(void)err;
	struct exec_cmd *cmd = xmalloc(sizeof(*cmd)); /* exec_cmd_init: all but rbuf */
	exec_cmd_init(cmd);
	strvec_clear(&cmd->env);
	cmd->env = *env;
	*env = (struct strvec)STRVEC_INIT;
	strvec_clear(&cmd->args);
	cmd->args = *argv;
	*argv = (struct strvec)STRVEC_INIT;
	if (je->spec.isolate && !sr->no_isolate) {
		struct isolate_cfg ic = { je->dir, je->spec.run_dir, je->tool_cache,
					  je->spec.isolate == 2 };
		isolate_wrap(&ic, &cmd->args);
	}
	if (je->debug) {
		struct buf shown = BUF_INIT;
		for (size_t i = 0; i < cmd->args.nr; i++)
			buf_addf(&shown, "%s%s", i ? " " : "", cmd->args.v[i]);
		exec__logf(je, LOG_DEBUG, sr->name, "%s: %s", sr->ar ? "node" : "shell", shown.buf);
		buf_release(&shown);
	}
	cmd->timeout_ms = sr->timeout_ms;
	cmd->grace_ms = je->grace_ms;
	cmd->on_line = on_line;
	cmd->on_done = on_done;
	cmd->data = sr;
	sr->cmd = cmd;
	/* cwd must outlive the process start only */
	cmd->cwd = cwd;
	int rc = exec_cmd_start(je->loop, cmd);
	if (rc < 0)
		exec__logf(je, LOG_ERROR, sr->name,
			   "An error occurred trying to start process '%s' with working directory '%s'. %s",
			   cmd->args.v[0], cwd, uv_strerror(rc));
	else {
		ALLOC_GROW(je->pgids, je->npgids + 1, je->apgids);
		je->pgids[je->npgids++] = cmd->pid;
	}
	cmd->cwd = NULL;
	return 0; /* from here on completion comes through on_done */
}

int exec__run_step(struct step_run *sr, struct buf *err)
{
	struct job_exec *je = sr->je;
	struct frame *fr = sr->fr;
	const struct wf_step *st = sr->st;
	char *script = NULL, *wd = NULL, *shell = NULL;
	const char *ext;
	int r = -1;

	script = exec__eval_str(je, fr, sr->env, st->run.s, err);
	if (!script)
		goto out;

	/* working-directory: step > job defaults > workflow defaults */
	const char *wd_t = st->working_directory.s;
	if (!wd_t && !fr->action) {
		wd_t = je->spec.job->defaults.working_directory.s;
		if (!wd_t && je->spec.wf)
			wd_t = je->spec.wf->defaults.working_directory.s;
	}
	if (wd_t) {
		char *w = exec__eval_str(je, fr, sr->env, wd_t, err);
		if (!w)
			goto out;
		wd = w[0] == '/' ? w : xstrfmt("%s/%s", je->workspace, w);
		if (wd != w)
			free(w);
	} else {
		wd = xstrdup(je->workspace);
	}
	struct stat stt;
	if (stat(wd, &stt) < 0 || !S_ISDIR(stt.st_mode)) {
		buf_addf(err, "working-directory '%s' does not exist", wd);
		goto out;
	}

	/* shell: step > job defaults > workflow defaults; an expression
	 * (`shell: ${{ env.MY_SHELL }}`) is evaluated as GitHub does */
	const char *shell_t = st->shell.s;
	if (!shell_t && !fr->action) {
		shell_t = je->spec.job->defaults.shell.s;
		if (!shell_t && je->spec.wf)
			shell_t = je->spec.wf->defaults.shell.s;
	}
	if (shell_t) {
		shell = exec__eval_str(je, fr, sr->env, shell_t, err);
		if (!shell)
			goto out;
	}

	struct strvec env = STRVEC_INIT, shellv = STRVEC_INIT, argv = STRVEC_INIT;
	exec__proc_env(sr, &env);
	/* one script file per job directory, emptied after each step: no new
	 * inode per step (their allocation and freeing cost more than the
	 * step on ext4, see jobdir.h); steps of a job never run at once */
	char *base = xstrfmt("%s/" EXEC_SCRIPT_BASE, je->temp);
	int has_bash = 0, ctr = svc_in_container(je->svc, &has_bash) ? has_bash : -1;
	if (shell_argv(shell, strvec_getenv(&env, "PATH"), ctr, je->spec.run_dir, "{script}",
		       &shellv, &ext, err) < 0) {
		free(base);
		strvec_clear(&env);
		goto out;
	}
	sr->script = xstrfmt("%s%s", base, ext);
	free(base);
	/* the script path is only known after the extension: substitute */
	for (size_t i = 0; i < shellv.nr; i++) {
		char *at = strstr(shellv.v[i], "{script}");
		if (at)
			strvec_pushf(&argv, "%.*s%s%s", (int)(at - shellv.v[i]), shellv.v[i],
				     sr->script, at + 8);
		else
			strvec_push(&argv, shellv.v[i]);
	}
	strvec_clear(&shellv);
	if (write_file(sr->script, script, strlen(script), err) < 0) {
		strvec_clear(&env);
		strvec_clear(&argv);
		goto out;
	}
	if (ctr >= 0) {
		sr->no_isolate = 1; /* the container is the isolation */
		const struct ev *jenv = sr->env ? sr->env : je->global_env;
		svc_exec_wrap(je->svc, wd, jenv, &je->path_add, &argv, &env);
	}
	r = exec__spawn(sr, &argv, &env, wd, err);
out:
	free(script);
	free(wd);
	free(shell);
	return r;
}
