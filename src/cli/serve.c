/*
 * serve: `kiln serve [--listen HOST:PORT] [--data DIR] [--config FILE]
 * [--jobs N]`: the CI server (src/server). Runs until SIGTERM or SIGINT.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "server/srv.h"

static const char *const usage[] = {
	"kiln serve [--listen HOST:PORT] [--data DIR] [--jobs N]",
	NULL,
};

int cmd_serve(int argc, char **argv, struct kiln_ctx *ctx)
{
	const char *listen = "127.0.0.1:8420", *data = NULL;
	int jobs = 2, max_body_kb = 1024, timeout_s = 10;
	const struct opt opts[] = {
		{ OPT_STRING, 'l', "listen", &listen, "HOST:PORT", "address to listen on (127.0.0.1:8420)" },
		{ OPT_STRING, 'd', "data", &data, "DIR", "data directory (default: kiln's data directory)" },
		{ OPT_INT, 'j', "jobs", &jobs, "N", "jobs run at once (2)" },
		{ OPT_INT, 0, "max-body-kb", &max_body_kb, "KB", "largest request body accepted (1024)" },
		{ OPT_INT, 0, "request-timeout", &timeout_s, "SECONDS",
		  "time a client has to send a request, and keep-alive idle time (10)" },
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
	struct serve_opts o = {
		.listen = listen, .data_dir = dir.buf, .jobs = (unsigned)jobs,
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
	(void)ctx;
	return r;
}
