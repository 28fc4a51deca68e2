/*
 * repo: `kiln repo add NAME URL [--poll SECONDS] [--isolate]`, `kiln repo
 * list`, `kiln repo rm NAME`, `kiln repo set NAME --isolate...`: the
 * repositories `kiln serve` builds. Adding one
 * makes its bare mirror (fetched now), records its refs as seen (polling
 * reports changes from here on) and prints its webhook secret once.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "engine/runctx.h"
#include "git/mirror.h"
#include "secret/secret.h"
#include "server/srv.h"
#include "store/db.h"
#include "store/open.h"
#include "store/repos.h"

#include <ctype.h>
#include <sodium.h>
#include <sys/stat.h>

static const char *const usage[] = {
	"kiln repo add NAME URL [--poll SECONDS] [ISOLATE] [--data DIR]",
	"kiln repo list [--data DIR]",
	"kiln repo rm NAME [--data DIR]",
	"kiln repo set NAME ISOLATE [--data DIR]",
	"    ISOLATE: --isolate | --isolate-no-network | --no-isolate | --isolate-default",
	"    (runs in the bubblewrap sandbox as `kiln run --isolate`; default: the server's",
	"    `isolate:` setting)",
	"kiln repo status NAME --forge github|gitea|gitlab --api URL [--project PATH] [--data DIR]",
	"    (the token is read from stdin; --forge off stops reporting)",
	NULL,
};

/* owner/name or name: letters, digits, '.', '_', '-', at most one '/' */
static int check_name(const char *name, struct buf *err)
{
	size_t n = strlen(name), slashes = 0;
	int ok = n && n <= 100 && name[0] != '.' && name[0] != '/' && name[n - 1] != '/';
	for (size_t i = 0; ok && i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/')
			ok = ++slashes == 1 && name[i + 1] != '.';
		else
			ok = isalnum(c) || c == '.' || c == '_' || c == '-';
	}
	if (!ok)
		buf_addf(err, "invalid repository name '%s': use OWNER/NAME or NAME with letters, "
			      "digits, '.', '_' and '-'", name);
	return ok ? 0 : -1;
}

static int open_store(const char *data, struct buf *dir, struct db **db, struct buf *err)
{
	if (data)
		buf_addstr(dir, data);
	else if (kiln_data_dir(dir, err))
		return -1;
	if (mkdir_p(dir->buf, 0700) < 0) {
		buf_addf(err, "cannot create data directory '%s'", dir->buf);
		return -1;
	}
	struct buf path = BUF_INIT;
	store_location(dir->buf, &path);
	int r = db_open(path.buf, db, err);
	buf_release(&path);
	return r;
}

static int do_add(struct db *db, const char *dir, const char *name, const char *url, int poll_s,
		  const char *isolate, struct buf *err)
{
	struct repo_row row, existing;
	struct secret_store *ss = NULL;
	struct buf mirror = BUF_INIT, branch = BUF_INIT, secret = BUF_INIT;
	struct strvec refs = STRVEC_INIT;
	int ret = EXIT_USAGE, made = 0;
	memset(&row, 0, sizeof(row));
	if (check_name(name, err) || mirror_url_ok(url, err))
		goto out;
	int r = store_repo_get(db, name, &existing, err);
	if (!r) {
		repo_row_release(&existing);
		buf_addf(err, "repository '%s' exists already", name);
		goto out;
	}
	ret = EXIT_INTERNAL;
	if (r != KILN_ENOENT || secret_store_open(&ss, db, dir, err))
		goto out;
	srv_mirror_path(dir, name, &mirror);
	struct buf parent = BUF_INIT;
	buf_addf(&parent, "%s/mirrors", dir);
	mkdir_p(parent.buf, 0700);
	buf_release(&parent);
	struct stat st;
	if (!stat(mirror.buf, &st)) {
		buf_addf(err, "mirror '%s' exists already (remove it first)", mirror.buf);
		goto out;
	}
	made = 1;
	fprintf(stderr, "fetching %s ...\n", url);
	if (mirror_create(mirror.buf, url, err) || mirror_fetch(mirror.buf, url, err) ||
	    mirror_refs(mirror.buf, &refs, err) || mirror_default_branch(mirror.buf, url, &branch, err)) {
		ret = EXIT_USAGE; /* most likely a wrong URL */
		goto out;
	}
	/* the webhook secret: 32 random bytes, hex, shown once, kept sealed */
	unsigned char raw[32];
	char hex[65];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	buf_addstr(&secret, hex);
	sodium_memzero(hex, sizeof(hex));
	struct buf ctxname = BUF_INIT;
	buf_addf(&ctxname, "webhook:%s", name);
	r = secret_seal(ss, ctxname.buf, secret.buf, secret.len, &row.secret_box, err);
	buf_release(&ctxname);
	if (r)
		goto out;
	row.name = xstrdup(name);
	row.url = xstrdup(url);
	row.mirror = xstrdup(mirror.buf);
	row.default_branch = xstrdup(branch.buf);
	row.poll_ms = (int64_t)poll_s * 1000;
	row.isolate = xstrdup(isolate);
	r = store_repo_add(db, &row, err);
	if (r) {
		ret = r == KILN_EINVAL ? EXIT_USAGE : EXIT_INTERNAL;
		goto out;
	}
	/* what exists now is the baseline: polling reports changes after it */
	if (store_repo_refs_commit(db, row.id, &refs, NULL, 0, err)) {
		store_repo_remove(db, name, err);
		goto out;
	}
	made = 0;
	fprintf(stderr, "repository %s added: %zu refs, default branch %s, mirror %s%s\n", name,
		refs.nr, branch.buf, mirror.buf, poll_s ? "" : " (no polling: use webhooks)");
	fprintf(stderr, "webhook secret (shown once; the webhook URL is "
			"http://HOST:PORT/hooks/{github,gitea,gitlab}?repo=%s):\n", name);
	printf("%s\n", secret.buf);
	ret = EXIT_OK;
out:
	if (made && mirror.len)
		runctx_rmtree(mirror.buf);
	if (secret.len)
		sodium_memzero(secret.buf, secret.len);
	buf_release(&secret);
	buf_release(&mirror);
	buf_release(&branch);
	strvec_clear(&refs);
	repo_row_release(&row);
	secret_store_close(ss);
	return ret;
}

static int do_list(struct db *db, struct buf *err)
{
	struct repo_row *rows;
	size_t n;
	if (store_repo_list(db, &rows, &n, err))
		return EXIT_INTERNAL;
	if (n)
		printf("%-30s %-8s %-12s %s\n", "NAME", "POLL", "BRANCH", "URL");
	for (size_t i = 0; i < n; i++) {
		char poll[32] = "-";
		if (rows[i].poll_ms)
			snprintf(poll, sizeof(poll), "%llds", (long long)(rows[i].poll_ms / 1000));
		printf("%-30s %-8s %-12s %s%s%s\n", rows[i].name, poll, rows[i].default_branch,
		       rows[i].url, *rows[i].isolate ? " isolate=" : "", rows[i].isolate);
	}
	store_repo_list_free(rows, n);
	return EXIT_OK;
}

static int do_rm(struct db *db, const char *name, struct buf *err)
{
	struct repo_row row;
	int r = store_repo_get(db, name, &row, err);
	if (r == KILN_ENOENT) {
		buf_addf(err, "no repository '%s'", name);
		return EXIT_USAGE;
	}
	if (r)
		return EXIT_INTERNAL;
	r = store_repo_remove(db, name, err);
	if (!r)
		runctx_rmtree(row.mirror);
	repo_row_release(&row);
	if (r)
		return EXIT_INTERNAL;
	fprintf(stderr, "repository %s removed\n", name);
	return EXIT_OK;
}

/* the token from stdin, one line, at most 4 KB */
static int read_token(struct buf *t, struct buf *err)
{
	if (isatty(0))
		fprintf(stderr, "API token (end with Ctrl-D): ");
	if (buf_read_file(t, "/dev/stdin") < 0) {
		buf_addstr(err, "cannot read the token from stdin");
		return -1;
	}
	buf_rtrim(t);
	if (!t->len || t->len > 4096 || memchr(t->buf, '\n', t->len)) {
		buf_addstr(err, "the token must be one non-empty line on stdin");
		return -1;
	}
	return 0;
}

static int do_status(struct db *db, const char *dir, const char *name, const char *forge,
		     const char *api, const char *project, struct buf *err)
{
	struct repo_row row;
	struct secret_store *ss = NULL;
	struct buf token = BUF_INIT, box = BUF_INIT, ctxname = BUF_INIT;
	int ret = EXIT_USAGE;
	memset(&row, 0, sizeof(row));
	int r = store_repo_get(db, name, &row, err);
	if (r == KILN_ENOENT) {
		buf_addf(err, "no repository '%s'", name);
		goto out;
	}
	if (r)
		goto internal;
	if (!forge) {
		buf_addstr(err, "--forge github|gitea|gitlab (or off) is required");
		goto out;
	}
	if (!strcmp(forge, "off")) {
		if (store_repo_set_status(db, name, "", "", "", NULL, err))
			goto internal;
		fprintf(stderr, "commit statuses of %s: off\n", name);
		ret = EXIT_OK;
		goto out;
	}
	if (strcmp(forge, "github") && strcmp(forge, "gitea") && strcmp(forge, "gitlab")) {
		buf_addf(err, "unknown forge '%s' (github, gitea, gitlab or off)", forge);
		goto out;
	}
	if (!api || (!str_starts_with(api, "https://") && !str_starts_with(api, "http://"))) {
		buf_addstr(err, "--api URL is required (e.g. https://api.github.com, "
				"https://gitea.example/api/v1, https://gitlab.example/api/v4)");
		goto out;
	}
	if (!project)
		project = name;
	if (read_token(&token, err))
		goto out;
	buf_addf(&ctxname, "status:%s", name);
	if (secret_store_open(&ss, db, dir, err) ||
	    secret_seal(ss, ctxname.buf, token.buf, token.len, &box, err) ||
	    store_repo_set_status(db, name, forge, api, project, &box, err))
		goto internal;
	fprintf(stderr, "commit statuses of %s: %s at %s, project %s\n", name, forge, api, project);
	ret = EXIT_OK;
	goto out;
internal:
	ret = EXIT_INTERNAL;
out:
	if (token.len)
		sodium_memzero(token.buf, token.len);
	buf_release(&token);
	buf_release(&box);
	buf_release(&ctxname);
	secret_store_close(ss);
	repo_row_release(&row);
	return ret;
}

static int do_set(struct db *db, const char *name, const char *isolate, struct buf *err)
{
	int r = store_repo_set_isolate(db, name, isolate, err);
	if (r == KILN_ENOENT) {
		buf_addf(err, "no repository '%s'", name);
		return EXIT_USAGE;
	}
	if (r)
		return EXIT_INTERNAL;
	fprintf(stderr, "repository %s: isolate %s\n", name,
		*isolate ? isolate : "as the server's default");
	return EXIT_OK;
}

/* the isolate mode the flags ask for: "" (default), off, on, no-network;
 * NULL when more than one is given */
static const char *isolate_mode(int on, int no_net, int off, int dflt)
{
	if (on + no_net + off + dflt > 1)
		return NULL;
	return on ? "on" : no_net ? "no-network" : off ? "off" : "";
}

int cmd_repo(int argc, char **argv, struct kiln_ctx *ctx)
{
	const char *data = NULL, *forge = NULL, *api = NULL, *project = NULL;
	int poll_s = 0, iso_on = 0, iso_no_net = 0, iso_off = 0, iso_default = 0;
	const struct opt opts[] = {
		{ OPT_STRING, 'd', "data", &data, "DIR", "data directory (as kiln serve --data)" },
		{ OPT_INT, 0, "poll", &poll_s, "SECONDS", "fetch every SECONDS and build what changed" },
		{ OPT_STRING, 0, "forge", &forge, "KIND", "status: github, gitea, gitlab or off" },
		{ OPT_STRING, 0, "api", &api, "URL", "status: the forge's API base URL" },
		{ OPT_STRING, 0, "project", &project, "PATH", "status: owner/name there (default NAME)" },
		{ OPT_BOOL, 0, "isolate", &iso_on, NULL, "run its jobs in the bubblewrap sandbox" },
		{ OPT_BOOL, 0, "isolate-no-network", &iso_no_net, NULL,
		  "--isolate, and the steps have no network" },
		{ OPT_BOOL, 0, "no-isolate", &iso_off, NULL, "never isolate its jobs" },
		{ OPT_BOOL, 0, "isolate-default", &iso_default, NULL,
		  "follow the server's `isolate:` setting" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	const char *sub = n >= 1 ? argv[1] : NULL;
	int want = !sub ? -1 : !strcmp(sub, "add") ? 3 : !strcmp(sub, "list") ? 1
		 : !strcmp(sub, "rm") || !strcmp(sub, "status") || !strcmp(sub, "set") ? 2 : -1;
	const char *isolate = isolate_mode(iso_on, iso_no_net, iso_off, iso_default);
	if (want < 0 || n != want || !isolate ||
	    (!strcmp(sub, "set") && iso_on + iso_no_net + iso_off + iso_default == 0)) {
		opt_usage(stderr, opts, usage);
		return EXIT_USAGE;
	}
	struct buf dir = BUF_INIT, err = BUF_INIT;
	struct db *db = NULL;
	int r = EXIT_INTERNAL;
	if (open_store(data, &dir, &db, &err))
		goto out;
	if (!strcmp(sub, "add"))
		r = do_add(db, dir.buf, argv[2], argv[3], poll_s, isolate, &err);
	else if (!strcmp(sub, "set"))
		r = do_set(db, argv[2], isolate, &err);
	else if (!strcmp(sub, "list"))
		r = do_list(db, &err);
	else if (!strcmp(sub, "status"))
		r = do_status(db, dir.buf, argv[2], forge, api, project, &err);
	else
		r = do_rm(db, argv[2], &err);
out:
	if (r)
		fprintf(stderr, "kiln repo: error: %s\n", err.buf);
	db_close(db);
	buf_release(&dir);
	buf_release(&err);
	(void)ctx;
	return r;
}
