/*
 * serve: `kiln serve [--listen HOST:PORT] [--data DIR] [--db URL]
 * [--config FILE] [--jobs N] [--config-repo URL]`: the CI server
 * (src/server), and with a config repository its GitOps controller (a
 * supervised `kiln deployd`, server/controller.h). Runs until SIGTERM or
 * SIGINT.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include <errno.h>
#include "cli/cmds.h"
#include "cli/ctx.h"
#include "cli/opt.h"
#include "server/agentexec.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/srv.h"
#include "store/db.h"
#include "store/open.h"

#include <sodium.h>

static const char *const usage[] = {
	"kiln serve [--listen HOST:PORT] [--data DIR] [--db URL] [--jobs N] [--config FILE] "
	"[--config-repo URL]",
	"kiln serve --init [--data DIR] [--db URL] [--admin NAME]",
	NULL,
};

/* --init: create the first admin and print its token once; 0, or 1 when
 * the store already has users (nothing done) */
static int init(const char *dir, const char *admin)
{
	struct buf path = BUF_INIT, err = BUF_INIT, tok = BUF_INIT;
	struct db *db = NULL;
	int rc = EXIT_INTERNAL;
	if (mkdir_p(dir, 0700) < 0) {
		buf_addf(&err, "cannot create data directory '%s': %s", dir, strerror(errno));
		goto out;
	}
	store_location(dir, &path);
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
	const char *listen = NULL, *data = NULL, *config = NULL, *dburl = NULL, *config_repo = NULL;
	const char *admin = "admin";
	/* -1: not given (the configuration file, then the default) */
	int jobs = -1, max_body_kb = -1, timeout_s = -1, do_init = 0;
	const char *agents = "off";
	int agent_lease_s = 30, agent_retry = 1, replica_ttl_s = 30;
	const struct opt opts[] = {
		{ OPT_STRING, 'l', "listen", &listen, "HOST:PORT", "address to listen on (127.0.0.1:8420)" },
		{ OPT_STRING, 'd', "data", &data, "DIR", "data directory (default: kiln's data directory)" },
		{ OPT_STRING, 0, "db", &dburl, "URL",
		  "the store: postgres://USER@HOST/DB for PostgreSQL (several servers may share it);"
		  " default $KILN_DB, else DIR/kiln.db (SQLite)" },
		{ OPT_STRING, 'c', "config", &config, "FILE", "settings (YAML); flags win over it" },
		{ OPT_STRING, 0, "config-repo", &config_repo, "URL",
		  "run the GitOps controller on this config repository (its other settings: "
		  "gitops: in --config)" },
		{ OPT_INT, 'j', "jobs", &jobs, "N", "runs at once, and jobs at once in each (2)" },
		{ OPT_INT, 0, "max-body-kb", &max_body_kb, "KB", "largest request body accepted (1024)" },
		{ OPT_INT, 0, "request-timeout", &timeout_s, "SECONDS",
		  "time a client has to send a request, and keep-alive idle time (10)" },
		{ OPT_STRING, 0, "agents", &agents, "MODE",
		  "jobs for kiln agent workers: off, self-hosted (runs-on has it) or all (off)" },
		{ OPT_INT, 0, "agent-lease", &agent_lease_s, "SECONDS",
		  "an agent's lease on a job; heartbeats renew it (30)" },
		{ OPT_INT, 0, "agent-retry", &agent_retry, "N",
		  "times a job whose agent was lost (or a run whose replica was) is queued "
		  "again, then failed (1)" },
		{ OPT_INT, 0, "replica-ttl", &replica_ttl_s, "SECONDS",
		  "on PostgreSQL: a replica silent this long is lost, its running events failed (30)" },
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
	if (dburl) {
		if (!db_is_url(dburl)) {
			fprintf(stderr, "kiln serve: error: --db takes a postgres:// or postgresql:// URL"
					" (the SQLite store is DIR/kiln.db, see --data)\n");
			return EXIT_USAGE;
		}
		/* for this process and the `kiln run` children it starts */
		setenv("KILN_DB", dburl, 1);
	}
	struct serve_config cfg = SERVE_CONFIG_INIT;
	if (config) {
		struct diags d = DIAGS_INIT;
		int cr = serve_config_load(config, &cfg, &d);
		diags_print(&d, stderr);
		diags_release(&d);
		if (cr) {
			serve_config_release(&cfg);
			return EXIT_USAGE;
		}
	}
	if (config_repo) {
		free(cfg.gitops.repo);
		cfg.gitops.repo = xstrdup(config_repo);
	}
	if (!listen)
		listen = cfg.listen ? cfg.listen : "127.0.0.1:8420";
	if (!data)
		data = cfg.data;
	jobs = jobs >= 0 ? jobs : cfg.jobs > 0 ? cfg.jobs : 2;
	max_body_kb = max_body_kb >= 0 ? max_body_kb : cfg.max_body_kb > 0 ? cfg.max_body_kb : 1024;
	timeout_s = timeout_s >= 0 ? timeout_s : cfg.request_timeout > 0 ? cfg.request_timeout : 10;
	if (jobs < 1 || max_body_kb < 1 || timeout_s < 1) {
		serve_config_release(&cfg);
		fprintf(stderr, "kiln serve: error: --jobs, --max-body-kb and --request-timeout must be "
				"at least 1\n");
		return EXIT_USAGE;
	}
	enum agents_mode agents_mode;
	if (agents_mode_parse(agents, &agents_mode) < 0 || agent_lease_s < 1 || agent_retry < 0 ||
	    replica_ttl_s < 3) {
		serve_config_release(&cfg);
		fprintf(stderr, "kiln serve: error: --agents is off, self-hosted or all; "
				"--agent-lease at least 1, --agent-retry at least 0, "
				"--replica-ttl at least 3\n");
		return EXIT_USAGE;
	}
	struct buf dir = BUF_INIT, err = BUF_INIT;
	if (data)
		buf_addstr(&dir, data);
	else if (kiln_data_dir(&dir, &err)) {
		fprintf(stderr, "kiln serve: error: %s\n", err.buf);
		buf_release(&err);
		serve_config_release(&cfg);
		return EXIT_INTERNAL;
	}
	if (do_init) {
		int r = init(dir.buf, admin);
		buf_release(&dir);
		serve_config_release(&cfg);
		return r;
	}
	struct serve_opts o = {
		.listen = listen, .data_dir = dir.buf, .exe = ctx->exe, .jobs = (unsigned)jobs,
		.limits = HTTP_LIMITS_DEFAULT, .poll_tick_ms = 1000, .grace_ms = 5000,
		.isolate = cfg.isolate ? cfg.isolate : "off",
		.agents = agents_mode, .agent_lease_ms = (uint64_t)agent_lease_s * 1000,
		.agent_retry = agent_retry, .replica_ttl_ms = (uint64_t)replica_ttl_s * 1000,
		.gitops = cfg.gitops.repo ? &cfg.gitops : NULL,
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
	serve_config_release(&cfg);
	return r;
}
