/*
 * secret: `kiln secret set NAME [--env ENV]` (value from stdin),
 * `kiln secret list [--env ENV]`, `kiln secret rm NAME [--env ENV]`.
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "secret/secret.h"
#include "store/db.h"
#include "store/open.h"

#include <errno.h>
#include <sodium.h>
#include <unistd.h>

static const char *const usage[] = {
	"kiln secret set NAME [--env ENV]   (the value is read from stdin)",
	"kiln secret list [--env ENV]",
	"kiln secret rm NAME [--env ENV]",
	NULL,
};

/* read stdin up to the size limit; one trailing newline is dropped */
static int read_value(struct buf *v, struct buf *err)
{
	char tmp[4096];
	for (;;) {
		ssize_t n = read(0, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_addf(err, "cannot read the value from stdin: %s", strerror(errno));
			return -1;
		}
		if (!n)
			break;
		if (v->len + (size_t)n > SECRET_MAX_VALUE + 2) {
			buf_addf(err, "secret value is larger than %d bytes", SECRET_MAX_VALUE);
			sodium_memzero(tmp, sizeof(tmp));
			return -1;
		}
		buf_add(v, tmp, (size_t)n);
	}
	sodium_memzero(tmp, sizeof(tmp));
	if (v->len && v->buf[v->len - 1] == '\n') {
		v->len--;
		if (v->len && v->buf[v->len - 1] == '\r')
			v->len--;
		v->buf[v->len] = '\0';
	}
	if (!v->len) {
		buf_addstr(err, "secret value is empty (pipe the value on stdin)");
		return -1;
	}
	/* a step gets secrets in its environment and arguments: C strings */
	if (memchr(v->buf, '\0', v->len)) {
		buf_addstr(err, "secret value contains a NUL byte, which no step could receive "
				"(environment variables and arguments end at NUL)");
		return -1;
	}
	return 0;
}

static int do_set(struct secret_store *s, const char *env, const char *name, struct buf *err)
{
	if (secret_check_name(name, err) < 0 || secret_check_env(env, err) < 0)
		return EXIT_USAGE;
	if (isatty(0))
		fprintf(stderr, "value for %s (end with Ctrl-D): ", name);
	struct buf v = BUF_INIT;
	int r = read_value(&v, err) < 0 ? EXIT_USAGE : EXIT_OK;
	if (!r && secret_set(s, env, name, v.buf, v.len, err) < 0)
		r = EXIT_INTERNAL;
	if (v.alloc)
		sodium_memzero(v.buf, v.alloc);
	buf_release(&v);
	if (!r)
		fprintf(stderr, "secret %s set%s%s\n", name, *env ? " for environment " : "", env);
	return r;
}

static int do_list(struct secret_store *s, const char *env, struct buf *err)
{
	struct secret_info *v;
	size_t n;
	if (secret_list(s, env, &v, &n, err) < 0)
		return EXIT_INTERNAL;
	if (n)
		printf("%-20s %-32s %s\n", "ENVIRONMENT", "NAME", "UPDATED");
	for (size_t i = 0; i < n; i++)
		printf("%-20s %-32s %s\n", *v[i].env ? v[i].env : "-", v[i].name, v[i].updated);
	free(v);
	return EXIT_OK;
}

static int do_rm(struct secret_store *s, const char *env, const char *name, struct buf *err)
{
	int r = secret_remove(s, env, name, err);
	if (r == KILN_ENOENT) {
		buf_addf(err, "no secret '%s'%s%s%s", name, *env ? " in environment '" : "", env,
			 *env ? "'" : "");
		return EXIT_USAGE;
	}
	return r < 0 ? EXIT_INTERNAL : EXIT_OK;
}

int cmd_secret(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	const char *env = NULL;
	const struct opt opts[] = {
		{ OPT_STRING, 'e', "env", &env, "ENV", "the environment (default: repository-level)" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	const char *verb = n >= 1 ? argv[1] : "";
	int want = !strcmp(verb, "list") ? 1 : (!strcmp(verb, "set") || !strcmp(verb, "rm")) ? 2 : -1;
	if (want < 0 || n != want) {
		opt_usage(stderr, opts, usage);
		return EXIT_USAGE;
	}
	struct buf err = BUF_INIT, dir = BUF_INIT;
	struct db *db = NULL;
	struct secret_store *s = NULL;
	int r;
	if (env && secret_check_env(env, &err) < 0) {
		r = EXIT_USAGE;
		goto out;
	}
	if (store_open_default(&db, &dir, &err) < 0 || secret_store_open(&s, db, dir.buf, &err) < 0) {
		r = EXIT_INTERNAL;
		goto out;
	}
	if (!strcmp(verb, "set"))
		r = do_set(s, env ? env : "", argv[2], &err);
	else if (!strcmp(verb, "rm"))
		r = do_rm(s, env ? env : "", argv[2], &err);
	else
		r = do_list(s, env, &err);
out:
	if (err.len)
		fprintf(stderr, "kiln: error: %s\n", err.buf);
	secret_store_close(s);
	db_close(db);
	buf_release(&err);
	buf_release(&dir);
	return r;
}
