/*
 * agent: `kiln agent` — a worker running jobs leased from a kiln server
 * (src/agent, docs/internals/agents.md), and the administration of agents
 * on the server's host (its local store) or through --server with an admin
 * API token:
 *
 *   kiln agent --server URL --token T [--labels L,..] [--jobs N] [--isolate]
 *              [--data DIR] [--name NAME]
 *   kiln agent token create [--expires HOURS]
 *   kiln agent list [--json]
 *   kiln agent revoke ID
 *
 * --token takes a registration token (kreg_..., exchanged once for an
 * agent token kept in DIR/agent-token, mode 0600) or an agent token
 * (kagt_...); KILN_AGENT_TOKEN works too (kept out of `ps`).
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "agent/agent.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "cli/remote.h"
#include "server/agentd.h"
#include "store/agents.h"
#include "store/db.h"
#include "store/open.h"
#include "store/runs.h"

#include <jansson.h>
#include <sodium.h>
#include <unistd.h>

static const char *const agent_usage[] = {
	"kiln agent --server URL --token TOKEN [--labels L1,L2] [--jobs N] [--isolate] [--data DIR]",
	"kiln agent token create [--expires HOURS]",
	"kiln agent list [--json]",
	"kiln agent revoke ID",
	"   (token/list/revoke: local store, or --server URL / KILN_SERVER with an admin --token)",
	NULL,
};

static struct db *local_db(void)
{
	struct db *db = NULL;
	struct buf err = BUF_INIT;
	if (store_open_default(&db, NULL, &err) < 0)
		fprintf(stderr, "kiln agent: error: %s\n", err.buf);
	buf_release(&err);
	return db;
}

/* the saved agent token of this server in dir (URL line, token line) */
static int saved_token(const char *path, const char *server, struct buf *out)
{
	struct buf b = BUF_INIT;
	int ok = 0;
	if (buf_read_file(&b, path) == 0 && b.len) {
		char *nl = strchr(b.buf, '\n');
		if (nl) {
			*nl = '\0';
			char *tok = nl + 1;
			tok[strcspn(tok, "\n")] = '\0';
			if (!strcmp(b.buf, server) && str_starts_with(tok, AGENT_TOKEN_PREFIX)) {
				buf_addstr(out, tok);
				ok = 1;
			}
		}
		sodium_memzero(b.buf, b.len);
	}
	buf_release(&b);
	return ok;
}

/* the agent token to use: given, saved, or from registration */
static int agent_token(const char *server, const char *given, const char *dir, const char *name,
		       const char *labels, struct buf *out)
{
	if (str_starts_with(given, AGENT_TOKEN_PREFIX)) {
		buf_addstr(out, given);
		return 0;
	}
	if (!str_starts_with(given, AGENT_REG_PREFIX)) {
		fprintf(stderr, "kiln agent: error: --token is neither a registration token (%s...) "
				"nor an agent token (%s...)\n", AGENT_REG_PREFIX, AGENT_TOKEN_PREFIX);
		return EXIT_USAGE;
	}
	char *path = xstrfmt("%s/agent-token", dir);
	if (saved_token(path, server, out)) {
		free(path);
		return 0;
	}
	struct buf err = BUF_INIT;
	int r = agent_register(server, given, name, labels, out, &err);
	if (r) {
		fprintf(stderr, "kiln agent: error: %s\n", err.buf);
	} else {
		struct buf f = BUF_INIT;
		buf_addf(&f, "%s\n%s\n", server, out->buf);
		if (mkdir_p(dir, 0700) < 0 || write_file_atomic(path, f.buf, f.len, 0600) < 0) {
			fprintf(stderr, "kiln agent: error: cannot save the agent token in '%s'\n",
				path);
			r = EXIT_INTERNAL;
		} else {
			fprintf(stderr, "kiln agent: registered as '%s'\n", name);
		}
		sodium_memzero(f.buf, f.len);
		buf_release(&f);
	}
	buf_release(&err);
	free(path);
	return r;
}

static int run_agent(const char *server, const char *token, const char *labels, int jobs,
		     int isolate, const char *data, const char *name, int max_jobs)
{
	struct buf dir = BUF_INIT, err = BUF_INIT, tok = BUF_INIT;
	char host[256] = "kiln-agent";
	if (!token || !*token)
		token = getenv("KILN_AGENT_TOKEN");
	if (!server || !token || !*token) {
		fprintf(stderr, "kiln agent: error: --server and --token (or KILN_AGENT_TOKEN) are "
				"required\n");
		return EXIT_USAGE;
	}
	if (data) {
		buf_addstr(&dir, data);
	} else if (kiln_data_dir(&dir, &err) == 0) {
		buf_addstr(&dir, "/agent");
	} else {
		fprintf(stderr, "kiln agent: error: %s\n", err.buf);
		buf_release(&err);
		return EXIT_INTERNAL;
	}
	if (!name) {
		gethostname(host, sizeof(host) - 1);
		name = host;
	}
	char *url = xstrdup(server);
	size_t ul = strlen(url);
	while (ul && url[ul - 1] == '/')
		url[--ul] = '\0';
	int r = agent_token(url, token, dir.buf, name, labels, &tok);
	if (!r) {
		struct agent_opts o = { url, tok.buf, name, dir.buf, (unsigned)jobs, isolate,
					(unsigned)max_jobs };
		r = agent_main(&o, &err);
		if (r)
			fprintf(stderr, "kiln agent: error: %s\n", err.buf);
	}
	if (tok.len)
		sodium_memzero(tok.buf, tok.len);
	buf_release(&tok);
	buf_release(&dir);
	buf_release(&err);
	free(url);
	return r;
}

static int token_create(struct remote *rm, int hours)
{
	if (remote_resolve(rm)) {
		json_t *out = NULL;
		int rc = remote_call(rm, "agent", "POST", "/api/v1/agent/registration-tokens",
				     json_pack("{s:i}", "expires_hours", hours), &out);
		if (!rc)
			printf("%s\n", json_string_value(json_object_get(out, "token")));
		json_decref(out);
		return rc;
	}
	struct db *db = local_db();
	if (!db)
		return EXIT_INTERNAL;
	struct buf tok = BUF_INIT, err = BUF_INIT;
	const char *u = getenv("USER");
	char *actor = xstrfmt("local:%s", u && *u ? u : "unknown");
	int64_t id;
	int r = agentd_regtoken_create(db, actor, (int64_t)hours * 3600 * 1000, &tok, &id, &err);
	if (r)
		fprintf(stderr, "kiln agent: error: %s\n", err.buf);
	else
		printf("%s\n", tok.buf);
	sodium_memzero(tok.buf, tok.len);
	buf_release(&tok);
	buf_release(&err);
	free(actor);
	db_close(db);
	return r ? EXIT_INTERNAL : EXIT_OK;
}

static void print_agents(json_t *a, int json)
{
	if (json) {
		remote_print_json(a);
		return;
	}
	printf("%-6s %-24s %-30s %-22s %s\n", "ID", "NAME", "LABELS", "SEEN", "STATE");
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		char seen[32];
		remote_fmt_time(json_integer_value(json_object_get(v, "seen_ms")), seen, sizeof(seen));
		printf("%-6lld %-24s %-30s %-22s %s\n",
		       (long long)json_integer_value(json_object_get(v, "id")),
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "labels")), seen,
		       json_is_true(json_object_get(v, "revoked")) ? "revoked" : "active");
	}
}

static int list_agents(struct remote *rm, int json)
{
	json_t *out = NULL;
	if (remote_resolve(rm)) {
		int rc = remote_call(rm, "agent", "GET", "/api/v1/agents", NULL, &out);
		if (!rc)
			print_agents(json_object_get(out, "agents"), json);
		json_decref(out);
		return rc;
	}
	struct db *db = local_db();
	if (!db)
		return EXIT_INTERNAL;
	struct agent_row *v;
	size_t n;
	struct buf err = BUF_INIT;
	int r = agents_list(db, &v, &n, &err);
	if (r) {
		fprintf(stderr, "kiln agent: error: %s\n", err.buf);
	} else {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(
				a, json_pack("{s:I, s:s, s:s, s:I, s:b}", "id", (json_int_t)v[i].id,
					     "name", v[i].name, "labels", v[i].labels, "seen_ms",
					     (json_int_t)v[i].seen_ms, "revoked", v[i].revoked_ms > 0));
		free(v);
		print_agents(a, json);
		json_decref(a);
	}
	buf_release(&err);
	db_close(db);
	return r ? EXIT_INTERNAL : EXIT_OK;
}

static int revoke_agent(struct remote *rm, const char *arg)
{
	char *end;
	long long id = strtoll(arg, &end, 10);
	if (*end || id <= 0) {
		fprintf(stderr, "kiln agent: error: '%s' is not an agent id\n", arg);
		return EXIT_USAGE;
	}
	if (remote_resolve(rm)) {
		struct buf path = BUF_INIT;
		buf_addf(&path, "/api/v1/agents/%lld", id);
		int rc = remote_call(rm, "agent", "DELETE", path.buf, NULL, NULL);
		buf_release(&path);
		if (!rc)
			printf("agent %lld revoked\n", id);
		return rc;
	}
	struct db *db = local_db();
	if (!db)
		return EXIT_INTERNAL;
	struct buf err = BUF_INIT;
	int r = agents_revoke(db, id, runs_now_ms(), &err);
	if (r == KILN_ENOENT)
		fprintf(stderr, "kiln agent: error: no active agent %lld\n", id);
	else if (r)
		fprintf(stderr, "kiln agent: error: %s\n", err.buf);
	else
		printf("agent %lld revoked\n", id);
	buf_release(&err);
	db_close(db);
	return r == KILN_ENOENT ? EXIT_FAILED : r ? EXIT_INTERNAL : EXIT_OK;
}

int cmd_agent(int argc, char **argv, struct kiln_ctx *ctx)
{
	(void)ctx;
	const char *server = NULL, *token = NULL, *data = NULL, *name = NULL;
	struct strvec labels = STRVEC_INIT;
	int jobs = 1, isolate = 0, isolate_no_net = 0, hours = 24, json = 0, max_jobs = 0;
	const struct opt opts[] = {
		{ OPT_STRING, 0, "server", &server, "URL", "the kiln server (KILN_SERVER)" },
		{ OPT_STRING, 0, "token", &token, "TOKEN",
		  "registration or agent token (KILN_AGENT_TOKEN); admin API token for token/list/revoke" },
		{ OPT_LIST, 0, "labels", &labels, "L1,L2", "this agent's labels (self-hosted, linux implied)" },
		{ OPT_INT, 'j', "jobs", &jobs, "N", "jobs at once (1)" },
		{ OPT_BOOL, 0, "isolate", &isolate, NULL, "host steps in a bubblewrap sandbox" },
		{ OPT_BOOL, 0, "isolate-no-network", &isolate_no_net, NULL, "--isolate, without network" },
		{ OPT_STRING, 'd', "data", &data, "DIR", "jobs and downloads (kiln's data directory/agent)" },
		{ OPT_STRING, 0, "name", &name, "NAME", "this agent's name (the host name)" },
		{ OPT_INT, 0, "max-jobs", &max_jobs, "N", "stop after N jobs (0: never)" },
		{ OPT_INT, 0, "expires", &hours, "HOURS", "token create: hours valid, 0 = never (24)" },
		{ OPT_BOOL, 0, "json", &json, NULL, "list: print JSON" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, agent_usage);
	if (n < 0) {
		strvec_clear(&labels);
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	}
	struct remote rm = { server, token };
	int r;
	if (n == 0) {
		struct buf lb = BUF_INIT, err = BUF_INIT;
		if (jobs < 1 || agents_labels_normalize(&labels, &lb, &err) < 0) {
			fprintf(stderr, "kiln agent: error: %s\n",
				err.len ? err.buf : "--jobs must be at least 1");
			r = EXIT_USAGE;
		} else {
			r = run_agent(server, token, lb.buf ? lb.buf : "", jobs,
				      isolate_no_net ? 2 : isolate, data, name, max_jobs);
		}
		buf_release(&lb);
		buf_release(&err);
	} else if (n == 2 && !strcmp(argv[1], "token") && !strcmp(argv[2], "create")) {
		r = token_create(&rm, hours);
	} else if (n == 1 && !strcmp(argv[1], "list")) {
		r = list_agents(&rm, json);
	} else if (n == 2 && !strcmp(argv[1], "revoke")) {
		r = revoke_agent(&rm, argv[2]);
	} else {
		opt_usage(stderr, opts, agent_usage);
		r = EXIT_USAGE;
	}
	strvec_clear(&labels);
	return r;
}
