/*
 * serve: `kiln serve [--listen HOST:PORT] [--data DIR] [--config FILE]
 * [--jobs N]`: the CI server (src/server). Runs until SIGTERM or SIGINT.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include <errno.h>
#include "cli/cmds.h"
#include "cli/ctx.h"
#include "cli/opt.h"
#include "server/auth.h"
#include "server/srv.h"
#include "store/db.h"

#include <sodium.h>

static const char *const usage[] = {
	"kiln serve [--listen HOST:PORT] [--data DIR] [--jobs N]",
	"kiln serve --init [--data DIR] [--admin NAME]",
	NULL,
};

/* --init: create the first admin and print its token once; 0, or 1 when
 * the store already has users (nothing done) */
static int init(const char *dir, const char *admin)
{
	struct buf path = BUF_INIT, err = BUF_INIT, tok = BUF_INIT;
	sqlite3 *db = NULL;
	int rc = EXIT_INTERNAL;
	if (mkdir_p(dir, 0700) < 0) {
		buf_addf(&err, "cannot create data directory '%s': %s", dir, strerror(errno));
		goto out;
	}
	buf_addf(&path, "%s/kiln.db", dir);
	if (db_open(path.buf, &db, &err) < 0)
		goto out;
	int r = auth_bootstrap(db, admin, NULL, &tok, &err);
	if (r == 1) {
		printf("created user '%s' (role admin); its API token, shown only now:\n%s\n", admin,
		       tok.buf);
		rc = EXIT_OK;
	} else if (r == 0) {
		buf_addstr(&err, "already initialized: the store has users (use kiln token create)");
		rc = EXIT_FAILED;
	} else if (err.len && strstr(err.buf, "user name")) {
		rc = EXIT_USAGE;
	}
out:
	if (err.len)
		fprintf(stderr, "kiln serve: error: %s\n", err.buf);
	sodium_memzero(tok.buf, tok.len);
	buf_release(&tok);
	db_close(db);
	buf_release(&path);
	buf_release(&err);
	return rc;
}

int cmd_serve(int argc, char **argv, struct kiln_ctx *ctx)
{
	const char *listen = "127.0.0.1:8420", *data = NULL;
	const char *admin = "admin";
	int jobs = 2, max_body_kb = 1024, timeout_s = 10, do_init = 0;
	const struct opt opts[] = {
		{ OPT_STRING, 'l', "listen", &listen, "HOST:PORT", "address to listen on (127.0.0.1:8420)" },
		{ OPT_STRING, 'd', "data", &data, "DIR", "data directory (default: kiln's data directory)" },
		{ OPT_INT, 'j', "jobs", &jobs, "N", "runs at once, and jobs at once in each (2)" },
		{ OPT_INT, 0, "max-body-kb", &max_body_kb, "KB", "largest request body accepted (1024)" },
		{ OPT_INT, 0, "request-timeout", &timeout_s, "SECONDS",
		  "time a client has to send a request, and keep-alive idle time (10)" },
		{ OPT_BOOL, 0, "init", &do_init, NULL, "create the first admin, print its token, exit" },
		{ OPT_STRING, 0, "admin", &admin, "NAME", "the first admin's name with --init (admin)" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (n > 0) {
		fprintf(stderr, "kiln serve: error: unexpected argument '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	if (jobs < 1 || max_body_kb < 1 || timeout_s < 1) {
		fprintf(stderr, "kiln serve: error: --jobs, --max-body-kb and --request-timeout must be "
				"at least 1\n");
		return EXIT_USAGE;
	}
	struct buf dir = BUF_INIT, err = BUF_INIT;
	if (data)
		buf_addstr(&dir, data);
	else if (kiln_data_dir(&dir, &err)) {
		fprintf(stderr, "kiln serve: error: %s\n", err.buf);
		buf_release(&err);
		return EXIT_INTERNAL;
	}
	if (do_init) {
		int r = init(dir.buf, admin);
		buf_release(&dir);
		return r;
	}
	struct serve_opts o = {
		.listen = listen, .data_dir = dir.buf, .exe = ctx->exe, .jobs = (unsigned)jobs,
		.limits = HTTP_LIMITS_DEFAULT, .poll_tick_ms = 1000, .grace_ms = 5000,
	};
	o.limits.max_body = (size_t)max_body_kb * 1024;
	o.limits.request_timeout_ms = (uint64_t)timeout_s * 1000;
	const char *tick = getenv("KILN_POLL_TICK_MS"); /* tests: poll quickly */
	if (tick && *tick)
		o.poll_tick_ms = strtoull(tick, NULL, 10);
	int r = serve_main(&o, &err);
	if (r)
		fprintf(stderr, "kiln serve: error: %s\n", err.buf);
	buf_release(&dir);
	buf_release(&err);
	return r;
}
