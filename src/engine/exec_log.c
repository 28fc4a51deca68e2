/*
 * exec_log: what the executor tells the sink — every text masked first —
 * and the workflow commands (`::name k=v::data`) in a step's output,
 * processed as actions/runner's ActionCommandManager does: commands on
 * stdout and stderr, ::stop-commands::TOKEN until ::TOKEN::, ::echo::,
 * annotations, masks, groups, and the deprecated and disabled commands.
 */
#include "base/kiln.h"
#include "engine/exec.h"
#include "engine/wfcmd.h"

#include <ctype.h>
#include <stdarg.h>
#include <strings.h>

#define DEPRECATED_FMT                                                                       \
	"The `%s` command is deprecated and will be disabled soon. Please upgrade to using " \
	"Environment Files. For more information see: "                                      \
	"https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/"
#define DISABLED_FMT                                                                         \
	"The `%s` command is disabled. Please upgrade to using Environment Files or opt into " \
	"unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` "         \
	"environment variable to `true`. For more information see: "                          \
	"https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/"

void exec__tell_start(struct job_exec *je)
{
	const char *name = je->start_untold;
	je->start_untold = NULL;
	if (name)
		exec__annotate(je, LOG_STEP_START, name, name, strlen(name), NULL, 0, 0, NULL);
}

void exec__annotate(struct job_exec *je, enum log_kind kind, const char *step, const char *text,
		    size_t len, const char *file, int line, int col, const char *title)
{
	if (je->start_untold) /* whatever is told of the step comes after its start */
		exec__tell_start(je);
	struct buf m = BUF_INIT, mt = BUF_INIT;
	mask_apply(je->mask, text, len, &m);
	if (title)
		mask_apply(je->mask, title, strlen(title), &mt);
	struct buf ms = BUF_INIT;
	if (step)
		mask_apply(je->mask, step, strlen(step), &ms);
	struct log_event ev = {
		.kind = kind,
		.job = je->spec.display_name,
		.step = step ? ms.buf : NULL,
		.text = m.buf,
		.len = m.len,
		.file = file,
		.line = line,
		.col = col,
		.title = title ? mt.buf : NULL,
	};
	if (je->sink.event)
		je->sink.event(je->sink.arg, &ev);
	buf_release(&m);
	buf_release(&mt);
	buf_release(&ms);
}

void exec__log(struct job_exec *je, enum log_kind kind, const char *step, const char *text,
	       size_t len)
{
	exec__annotate(je, kind, step, text, len, NULL, 0, 0, NULL);
}

void exec__logf(struct job_exec *je, enum log_kind kind, const char *step, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	exec__log(je, kind, step, b.buf, b.len);
	buf_release(&b);
}

static void out_line(struct step_run *sr, const char *line, size_t len)
{
	exec__log(sr->je, LOG_OUTPUT, sr->name, line, len);
}

/* a command that failed makes the step fail, as the runner's
 * "Unable to process command ... successfully." */
static void cmd_error(struct step_run *sr, const char *line, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void cmd_error(struct step_run *sr, const char *line, size_t len, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	exec__logf(sr->je, LOG_ERROR, sr->name, "Unable to process command '%.*s' successfully.",
		   (int)len, line);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	exec__log(sr->je, LOG_ERROR, sr->name, b.buf, b.len);
	buf_release(&b);
	sr->cmd_failed = 1;
}

static int str_true(const char *s)
{
	return s && !strcasecmp(s, "true");
}

/* ACTIONS_ALLOW_UNSECURE_COMMANDS from the runner's environment or the
 * env context, as the runner checks both */
static int unsecure_allowed(struct step_run *sr)
{
	const char *v = strvec_getenv(&sr->je->base_env, "ACTIONS_ALLOW_UNSECURE_COMMANDS");
	if (str_true(v))
		return 1;
	const struct ev *e = sr->env ? ev_object_get(sr->env, "ACTIONS_ALLOW_UNSECURE_COMMANDS") : NULL;
	return e && ev_kind(e) == EV_STRING && str_true(ev_get_str(e, NULL));
}

static int prop_int(const struct wfcmd *c, const char *a, const char *b)
{
	const char *v = wfcmd_prop(c, a);
	if (!v && b)
		v = wfcmd_prop(c, b);
	if (!v)
		return 0;
	char *end;
	long n = strtol(v, &end, 10);
	return (*end || n < 0 || n > 1000000000) ? 0 : (int)n;
}

static void annotation(struct step_run *sr, enum log_kind kind, const struct wfcmd *c)
{
	exec__annotate(sr->je, kind, sr->name, c->data, c->data_len, wfcmd_prop(c, "file"),
		       prop_int(c, "line", NULL), prop_int(c, "col", NULL),
		       wfcmd_prop(c, "title"));
}

static void set_output(struct step_run *sr, const char *name, const char *value, size_t len)
{
	sr->outputs = exec__obj_with(sr->outputs, name, ev_string(value, len));
}

static void deprecated(struct step_run *sr, const struct wfcmd *c, const char *line, size_t len)
{
	const char *name = wfcmd_prop(c, "name");
	exec__logf(sr->je, LOG_WARNING, sr->name, DEPRECATED_FMT, c->name);
	if (!name || !*name) {
		cmd_error(sr, line, len, "Required field 'name' is missing in ##[%s] command.", c->name);
		return;
	}
	if (!strcasecmp(c->name, "set-output"))
		set_output(sr, name, c->data, c->data_len);
	else
		exec__save_state(sr, name, c->data, c->data_len);
}

static void unsecure(struct step_run *sr, const struct wfcmd *c, const char *line, size_t len)
{
	struct job_exec *je = sr->je;
	if (!unsecure_allowed(sr)) {
		cmd_error(sr, line, len, DISABLED_FMT, c->name);
		return;
	}
	if (!strcasecmp(c->name, "add-path")) {
		if (!c->data_len) {
			cmd_error(sr, line, len, "Parameter 'path' cannot be null or empty.");
			return;
		}
		strvec_push(&je->path_add, c->data);
		return;
	}
	const char *name = wfcmd_prop(c, "name");
	if (!name || !*name) {
		cmd_error(sr, line, len, "Required field 'name' is missing in ##[set-env] command.");
		return;
	}
	if (!strcasecmp(name, "NODE_OPTIONS")) {
		exec__logf(je, LOG_ERROR, sr->name,
			   "Can't update NODE_OPTIONS environment variable using ::set-env:: command.");
		return;
	}
	je->global_env = exec__obj_with(je->global_env, name, ev_string(c->data, c->data_len));
}

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

enum { C_GROUP, C_ENDGROUP, C_ERROR, C_WARNING, C_NOTICE, C_DEBUG, C_MASK, C_STOP, C_ECHO,
       C_SET_OUTPUT, C_SAVE_STATE, C_SET_ENV, C_ADD_PATH, C_ADD_MATCHER, C_REMOVE_MATCHER };

static const char *const commands[] = {
	[C_GROUP] = "group", [C_ENDGROUP] = "endgroup", [C_ERROR] = "error",
	[C_WARNING] = "warning", [C_NOTICE] = "notice", [C_DEBUG] = "debug",
	[C_MASK] = "add-mask", [C_STOP] = "stop-commands", [C_ECHO] = "echo",
	[C_SET_OUTPUT] = "set-output", [C_SAVE_STATE] = "save-state", [C_SET_ENV] = "set-env",
	[C_ADD_PATH] = "add-path", [C_ADD_MATCHER] = "add-matcher",
	[C_REMOVE_MATCHER] = "remove-matcher",
};

static int command_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcasecmp(name, commands[i]))
			return (int)i;
	return -1;
}

static void run_command(struct step_run *sr, int which, const struct wfcmd *c, const char *line,
			size_t len)
{
	struct job_exec *je = sr->je;
	/* group, endgroup and add-mask are never echoed (OmitEcho) */
	if (je->echo && which != C_GROUP && which != C_ENDGROUP && which != C_MASK)
		out_line(sr, line, len);
	switch (which) {
	case C_GROUP:
		exec__log(je, LOG_GROUP, sr->name, c->data, c->data_len);
		break;
	case C_ENDGROUP:
		exec__log(je, LOG_ENDGROUP, sr->name, "", 0);
		break;
	case C_ERROR:
		annotation(sr, LOG_ERROR, c);
		break;
	case C_WARNING:
		annotation(sr, LOG_WARNING, c);
		break;
	case C_NOTICE:
		annotation(sr, LOG_NOTICE, c);
		break;
	case C_DEBUG:
		if (je->debug)
			exec__log(je, LOG_DEBUG, sr->name, c->data, c->data_len);
		break;
	case C_MASK:
		if (is_blank(c->data, c->data_len)) {
			exec__logf(je, LOG_WARNING, sr->name,
				   "Can't add secret mask for empty string in ##[add-mask] command.");
		} else {
			mask_add(je->mask, c->data, c->data_len);
			if (je->echo)
				out_line(sr, "::add-mask::***", 15);
		}
		break;
	case C_ECHO:
		if (!strcasecmp(c->data, "on"))
			je->echo = 1;
		else if (!strcasecmp(c->data, "off"))
			je->echo = 0;
		else
			cmd_error(sr, line, len,
				  "Invalid echo command value. Possible values can be: 'on', 'off'. "
				  "Current value is: '%s'.", c->data);
		break;
	case C_SET_OUTPUT:
	case C_SAVE_STATE:
		deprecated(sr, c, line, len);
		break;
	case C_SET_ENV:
	case C_ADD_PATH:
		unsecure(sr, c, line, len);
		break;
	default: /* problem matchers: accepted, not applied */
		if (je->debug)
			exec__logf(je, LOG_DEBUG, sr->name, "problem matchers are not supported: %s",
				   c->name);
		break;
	}
}

void exec__step_line(struct step_run *sr, const char *line, size_t len)
{
	struct job_exec *je = sr->je;
	struct wfcmd c = WFCMD_INIT;
	if (!wfcmd_parse(line, len, &c)) {
		out_line(sr, line, len);
		return;
	}
	if (je->stop_token) {
		if (!strcasecmp(c.name, je->stop_token)) {
			out_line(sr, line, len);
			free(je->stop_token);
			je->stop_token = NULL;
		} else {
			out_line(sr, line, len);
		}
		wfcmd_release(&c);
		return;
	}
	if (!strcasecmp(c.name, "stop-commands")) {
		out_line(sr, line, len);
		if (c.data_len) {
			je->stop_token = xstrdup(c.data);
		} else {
			cmd_error(sr, line, len, "Invalid stop-commands token: it must not be empty.");
		}
		wfcmd_release(&c);
		return;
	}
	int which = command_index(c.name);
	if (which < 0)
		out_line(sr, line, len); /* not a registered command: plain output */
	else
		run_command(sr, which, &c, line, len);
	wfcmd_release(&c);
}
