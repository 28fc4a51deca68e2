/*
 * dora: `kiln dora [--env E] [--days N] [--repo R] [--json]` prints the
 * four keys of DORA per repository and environment from the deployments
 * recorded in the store (src/server/dora.c).
 */
#include "base/kiln.h"
#include "cli/cmds.h"
#include "cli/opt.h"
#include "cli/remote.h"
#include "server/dora.h"
#include "store/db.h"
#include "store/open.h"
#include "store/runs.h"

#include <jansson.h>

static const char *const dora_usage[] = {
	"kiln dora [--env ENV] [--days N] [--repo REPO] [--json] [--server URL] [--token T]", NULL
};

static void line(const char *label, const char *value, enum dora_band band)
{
	printf("  %-22s  %-50s %s\n", label, value,
	       band == DORA_NONE ? "" : dora_band_name(band));
}

static void print_report(const struct dora_report *r)
{
	char a[32], b[32], v[128];
	printf("%s / %s — last %.0f days\n", r->repo, r->environment, r->days);
	snprintf(v, sizeof(v), "%.2f/day (%lld successful)", r->per_day, (long long)r->successes);
	line("deployment frequency", v, r->frequency_band);
	if (r->lead_n) {
		dora_fmt_duration(r->lead_median_ms, a, sizeof(a));
		dora_fmt_duration(r->lead_p90_ms, b, sizeof(b));
		snprintf(v, sizeof(v), "median %s, p90 %s (%zu)", a, b, r->lead_n);
	} else {
		snprintf(v, sizeof(v), "no successful deployment with a commit time");
	}
	line("lead time for changes", v, r->lead_band);
	snprintf(v, sizeof(v), "%.1f%% (%lld of %lld)", r->failure_rate * 100, (long long)r->failures,
		 (long long)(r->failures + r->successes));
	line("change failure rate", v, r->failure_band);
	if (r->recovery_n) {
		dora_fmt_duration(r->recovery_median_ms, a, sizeof(a));
		snprintf(v, sizeof(v), "median %s (%zu recovered, %zu still failing)", a, r->recovery_n,
			 r->unrecovered);
	} else {
		snprintf(v, sizeof(v), "no recovered failure (%zu still failing)", r->unrecovered);
	}
	line("recovery time", v, r->recovery_band);
}

/* a report from GET /api/v1/dora's JSON */
static void from_json(const json_t *o, struct dora_report *r)
{
	const json_t *df = json_object_get(o, "deployment_frequency"), *lt = json_object_get(o, "lead_time");
	const json_t *cfr = json_object_get(o, "change_failure_rate"), *rt = json_object_get(o, "recovery_time");
	enum dora_band *bands[] = { &r->frequency_band, &r->lead_band, &r->failure_band, &r->recovery_band };
	const json_t *objs[] = { df, lt, cfr, rt };
	memset(r, 0, sizeof(*r));
	snprintf(r->repo, sizeof(r->repo), "%s", json_string_value(json_object_get(o, "repo")));
	snprintf(r->environment, sizeof(r->environment), "%s",
		 json_string_value(json_object_get(o, "environment")));
	r->days = json_number_value(json_object_get(o, "days"));
	r->successes = json_integer_value(json_object_get(df, "deployments"));
	r->failures = json_integer_value(json_object_get(df, "failed_deployments"));
	r->per_day = json_number_value(json_object_get(df, "per_day"));
	r->lead_n = (size_t)json_integer_value(json_object_get(lt, "changes"));
	r->lead_median_ms = json_integer_value(json_object_get(lt, "median_ms"));
	r->lead_p90_ms = json_integer_value(json_object_get(lt, "p90_ms"));
	r->failure_rate = json_number_value(json_object_get(cfr, "rate"));
	r->recovery_n = (size_t)json_integer_value(json_object_get(rt, "recoveries"));
	r->unrecovered = (size_t)json_integer_value(json_object_get(rt, "unrecovered"));
	r->recovery_median_ms = json_integer_value(json_object_get(rt, "median_ms"));
	for (int i = 0; i < 4; i++) {
		const char *b = json_string_value(json_object_get(objs[i], "band"));
		for (int k = DORA_NONE; b && k <= DORA_ELITE; k++)
			if (!strcmp(b, dora_band_name((enum dora_band)k)))
				*bands[i] = (enum dora_band)k;
	}
}

static int remote_dora(struct remote *rm, const char *repo, const char *env, int days, int json)
{
	struct buf p = BUF_INIT;
	buf_addf(&p, "/api/v1/dora?days=%d", days);
	if (repo) {
		buf_addstr(&p, "&repo=");
		remote_path_add(&p, repo, 0);
	}
	if (env) {
		buf_addstr(&p, "&environment=");
		remote_path_add(&p, env, 0);
	}
	json_t *out = NULL;
	int rc = remote_call(rm, "dora", "GET", p.buf, NULL, &out);
	if (!rc && json) {
		remote_print_json(out);
	} else if (!rc && !json_array_size(out)) {
		printf("no deployments in the last %d days\n", days);
	} else if (!rc) {
		size_t i;
		const json_t *o;
		json_array_foreach(out, i, o)
		{
			struct dora_report r;
			from_json(o, &r);
			if (i)
				printf("\n");
			print_report(&r);
		}
	}
	json_decref(out);
	buf_release(&p);
	return rc;
}

int cmd_dora(int argc, char **argv, struct kiln_ctx *ctx)
{
	struct remote rm = { NULL, NULL };
	const char *env = NULL, *repo = NULL;
	int days = 30, json = 0;
	struct opt opts[] = {
		{ OPT_STRING, 'e', "env", &env, "ENV", "one environment (default: all)" },
		{ OPT_INT, 0, "days", &days, "N", "the window: the last N days (default 30)" },
		{ OPT_STRING, 0, "repo", &repo, "REPO", "one repository (default: all)" },
		{ OPT_BOOL, 0, "json", &json, NULL, "print JSON (as GET /api/v1/dora)" },
		{ OPT_STRING, 0, "server", &rm.server, "URL", "ask the kiln server (KILN_SERVER)" },
		{ OPT_STRING, 0, "token", &rm.token, "TOKEN", "API token (KILN_TOKEN)" },
		OPT_END_MARK,
	};
	int n = opt_parse(argc, argv, opts, dora_usage);
	if (n < 0)
		return n == -2 ? EXIT_OK : EXIT_USAGE;
	if (n > 0) {
		opt_usage(stderr, opts, dora_usage);
		return EXIT_USAGE;
	}
	if (remote_resolve(&rm))
		return remote_dora(&rm, repo, env, days, json);
	struct buf err = BUF_INIT;
	struct db *db = NULL;
	int rc = EXIT_OK;
	struct dora_report *v = NULL;
	size_t nv = 0;
	if (store_open_default(&db, NULL, &err) < 0) {
		rc = EXIT_INTERNAL;
		goto out;
	}
	int r = dora_query(db, repo, env, days, runs_now_ms(), &v, &nv, &err);
	if (r) {
		rc = r == KILN_EINVAL ? EXIT_USAGE : EXIT_INTERNAL;
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < nv; i++)
			json_array_append_new(a, dora_to_json(&v[i]));
		char *s = json_dumps(a, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(a);
	} else if (!nv) {
		printf("no deployments in the last %d days\n", days);
	}
	for (size_t i = 0; !json && i < nv; i++) {
		if (i)
			printf("\n");
		print_report(&v[i]);
	}
out:
	if (err.len)
		fprintf(stderr, "kiln dora: error: %s\n", err.buf);
	free(v);
	db_close(db);
	buf_release(&err);
	(void)ctx;
	return rc;
}
