/* unit tests for src/deploy: app loader, durations, haproxy config and stat parsing */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "deploy/app.h"
#include "deploy/gitops.h"
#include "yaml/yedit.h"
#include "deploy/haproxy.h"

#include <unistd.h>

/* write text to a fresh temp file; returns its path (caller frees, unlinks) */
static char *temp_app(const char *text)
{
	char *path = xstrdup("/tmp/kiln-unit-app-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static struct app *load(const char *text, struct diags *d)
{
	char *p = temp_app(text);
	struct app *a = app_load(p, "web", "/tmp", d);
	unlink(p);
	free(p);
	return a;
}

static void test_durations(void **state)
{
	(void)state;
	assert_int_equal(parse_duration_ms("250ms"), 250);
	assert_int_equal(parse_duration_ms("2s"), 2000);
	assert_int_equal(parse_duration_ms("1.5s"), 1500);
	assert_int_equal(parse_duration_ms("2m"), 120000);
	assert_int_equal(parse_duration_ms("3"), 3000);
	assert_int_equal(parse_duration_ms("soon"), -1);
	assert_int_equal(parse_duration_ms("-1s"), -1);
	assert_int_equal(parse_duration_ms("5d"), -1);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(deploy_name_ok("v1.2.3-rc_1"));
	assert_false(deploy_name_ok("../etc"));
	assert_false(deploy_name_ok(".hidden"));
	assert_false(deploy_name_ok("a b"));
	assert_false(deploy_name_ok(""));
}

static void test_load_full(void **state)
{
	(void)state;
	struct diags d = DIAGS_INIT;
	struct app *a = load("command: python3 app.py --port $PORT\n"
			     "instances: 3\n"
			     "listen: 0.0.0.0:8080\n"
			     "env: {A: '1'}\n"
			     "health: {http: {path: /healthz, status: 204}, interval: 2s, failureThreshold: 5}\n"
			     "strategy:\n"
			     "  canary:\n"
			     "    steps: [{setWeight: 10}, {pause: {}}, {pause: {duration: 30s}}, {analysis: {intervals: 2}}]\n"
			     "analysis: {errorRate: 2.5%, latencyRatio: 3, minRequests: 50}\n"
			     "hooks: {pre: [a, b], post: c}\n",
			     &d);
	assert_non_null(a);
	assert_int_equal(d.errors, 0);
	assert_int_equal(a->command.nr, 4);
	assert_string_equal(a->command.v[3], "$PORT");
	assert_int_equal(a->instances, 3);
	assert_string_equal(a->listen_addr, "0.0.0.0");
	assert_int_equal(a->listen_port, 8080);
	assert_string_equal(strvec_getenv(&a->env, "A"), "1");
	assert_int_equal(a->health.kind, PROBE_HTTP);
	assert_string_equal(a->health.path, "/healthz");
	assert_int_equal(a->health.status, 204);
	assert_int_equal(a->health.interval_ms, 2000);
	assert_int_equal(a->health.failure_threshold, 5);
	assert_int_equal(a->strategy.kind, STRAT_CANARY);
	assert_int_equal(a->strategy.nsteps, 4);
	assert_int_equal(a->strategy.steps[0].weight, 10);
	assert_int_equal(a->strategy.steps[1].duration_ms, -1);
	assert_int_equal(a->strategy.steps[2].duration_ms, 30000);
	assert_int_equal(a->strategy.steps[3].intervals, 2);
	assert_true(a->analysis.max_error_rate > 0.0249 && a->analysis.max_error_rate < 0.0251);
	assert_int_equal(a->analysis.min_requests, 50);
	assert_int_equal(a->pre_hooks.nr, 2);
	assert_int_equal(a->post_hooks.nr, 1);
	/* defaults of the strategies not chosen */
	assert_int_equal(app_strategy(a, STRAT_ROLLING)->max_surge, 1);
	assert_int_equal(app_strategy(a, STRAT_ROLLING)->max_unavailable, 0);
	assert_true(app_strategy(a, STRAT_BLUEGREEN)->auto_promote);
	app_free(a);
	diags_release(&d);
}

static void test_load_errors(void **state)
{
	(void)state;
	struct diags d = DIAGS_INIT;
	struct app *a = load("command: [x]\n"
			     "listen: 8080\n"
			     "instanses: 2\n"
			     "strategy: {rolling: {maxSurge: 0, maxUnavailable: 0}}\n",
			     &d);
	assert_null(a);
	assert_int_equal(d.errors, 2);
	diags_sort(&d);
	assert_int_equal(d.v[0].line, 3);
	assert_int_equal(d.v[0].col, 1);
	assert_non_null(strstr(d.v[0].msg, "did you mean 'instances'"));
	assert_int_equal(d.v[1].line, 4);
	assert_non_null(strstr(d.v[1].msg, "cannot both be 0"));
	diags_release(&d);
}

/* a listen address is one word of HAProxy's bind line: a quote, '\', '$'
 * or a control character would break (or change) the whole config */
static void test_listen_addr(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"listen: '\"127.0.0.1:8080'\n", "listen: \"127.0.0.1\\r\\n  stats:8080\"\n",
		"listen: '${HOME}:8080'\n", "listen: 'a\\b:8080'\n", "listen: '-x:8080'\n",
		"listen: ':8080'\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct diags d = DIAGS_INIT;
		struct buf text = BUF_INIT;
		buf_addf(&text, "command: [x]\n%s", bad[i]);
		assert_null(load(text.buf, &d));
		assert_int_equal(d.errors, 1);
		assert_non_null(strstr(d.v[0].msg, "listen must be ADDRESS:PORT"));
		buf_release(&text);
		diags_release(&d);
	}
	static const char *const good[] = { "0.0.0.0", "[::1]", "*", "my-host.example_1" };
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct diags d = DIAGS_INIT;
		struct buf text = BUF_INIT;
		buf_addf(&text, "command: [x]\nlisten: '%s:8080'\n", good[i]);
		struct app *a = load(text.buf, &d);
		assert_non_null(a);
		assert_string_equal(a->listen_addr, good[i]);
		app_free(a);
		buf_release(&text);
		diags_release(&d);
	}
}

static void test_latency_metrics(void **state)
{
	(void)state;
	struct diags d = DIAGS_INIT;
	struct app *a = load("command: [x]\nlisten: 8080\n", &d);
	assert_non_null(a);
	assert_false(a->analysis.latency.enabled);
	app_free(a);
	a = load("command: [x]\n"
		 "listen: 8080\n"
		 "analysis:\n"
		 "  latency: {source: prometheus, metric: http_request_duration_seconds, quantile: 0.99, maxRatio: 1.5}\n",
		 &d);
	assert_non_null(a);
	assert_int_equal(d.errors, 0);
	assert_true(a->analysis.latency.enabled);
	assert_string_equal(a->analysis.latency.path, "/metrics");
	assert_string_equal(a->analysis.latency.metric, "http_request_duration_seconds");
	assert_true(a->analysis.latency.quantile == 0.99 && a->analysis.latency.max_ratio == 1.5);
	struct buf plan = BUF_INIT;
	app_describe_plan(a, &a->alt[STRAT_CANARY], "v2", &plan);
	assert_non_null(strstr(plan.buf, "p99 of http_request_duration_seconds (from /metrics) > 1.5x stable's"));
	buf_release(&plan);
	app_free(a);

	a = load("command: [x]\n"
		 "listen: 8080\n"
		 "analysis:\n"
		 "  latency:\n"
		 "    source: statsd\n"
		 "    path: metrics\n"
		 "    metric: 9bad-name\n"
		 "    quantile: 1.5\n"
		 "    maxRatio: x\n"
		 "    quantil: 0.9\n",
		 &d);
	assert_null(a);
	assert_int_equal(d.errors, 1); /* unknown keys stop the section first */
	assert_int_equal(d.v[0].line, 10);
	assert_int_equal(d.v[0].col, 5);
	assert_non_null(strstr(d.v[0].msg, "unknown key 'quantil' in analysis.latency (did you mean 'quantile'?)"));
	diags_release(&d);

	a = load("command: [x]\n"
		 "listen: 8080\n"
		 "analysis:\n"
		 "  latency:\n"
		 "    source: statsd\n"
		 "    path: metrics\n"
		 "    metric: 9bad-name\n"
		 "    quantile: 1.5\n"
		 "    maxRatio: x\n",
		 &d);
	assert_null(a);
	assert_int_equal(d.errors, 5);
	diags_sort(&d);
	static const int col[] = { 13, 11, 13, 15, 15 }; /* each value's column */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(d.v[i].line, 5 + i);
		assert_int_equal(d.v[i].col, col[i]);
	}
	assert_non_null(strstr(d.v[0].msg, "source must be 'prometheus'"));
	assert_non_null(strstr(d.v[1].msg, "path must start with '/'"));
	assert_non_null(strstr(d.v[2].msg, "'9bad-name' is not a Prometheus metric name"));
	assert_non_null(strstr(d.v[3].msg, "quantile must be a number like 0.95"));
	assert_non_null(strstr(d.v[4].msg, "maxRatio must be a number like 2"));
	diags_release(&d);

	a = load("command: [x]\nlisten: 8080\nanalysis: {latency: {path: /m}}\n", &d);
	assert_null(a);
	assert_int_equal(d.errors, 2);
	diags_release(&d);
}

static void test_haproxy_config(void **state)
{
	(void)state;
	struct diags d = DIAGS_INIT;
	struct app *a = load("command: x\nlisten: 127.0.0.1:9000\ninstances: 2\n", &d);
	assert_non_null(a);
	struct buf cfg = BUF_INIT;
	hap_config_global(&cfg, "/run/h.sock", "/run/h.state");
	hap_config_app(&cfg, a, hap_slots(a));
	assert_non_null(strstr(cfg.buf, "stats socket /run/h.sock mode 600 level admin expose-fd listeners"));
	assert_non_null(strstr(cfg.buf, "server-state-file /run/h.state"));
	assert_non_null(strstr(cfg.buf, "bind 127.0.0.1:9000"));
	assert_non_null(strstr(cfg.buf, "server s4 127.0.0.1:1 weight 0 disabled"));
	assert_null(strstr(cfg.buf, "server s5 "));
	assert_non_null(strstr(cfg.buf, "use_backend web:maint if { srv_is_up(web:maint/on) }"));
	buf_release(&cfg);
	app_free(a);
	diags_release(&d);
}

static void test_stat_parse(void **state)
{
	(void)state;
	const char *csv =
		"# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
		"wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,"
		"lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,"
		"hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,"
		"cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,"
		"ctime,rtime,ttime,\n"
		"web,s1,0,0,3,5,,120,0,0,,0,,0,0,0,0,UP,80,1,0,,,,,,1,3,1,,120,,2,,,,,,,0,100,0,0,20,0,,,,,"
		",,,,,,,,,0,0,12,14,\n"
		"web,BACKEND,0,0,3,5,,120,0,0,0,0,,0,0,0,0,UP,80,1,0,,,,,,1,3,0,,120,,1,\n";
	struct hap_stat *rows;
	size_t n = hap_parse_stat(csv, &rows);
	assert_int_equal(n, 2);
	const struct hap_stat *r = hap_find(rows, n, "web", "s1");
	assert_non_null(r);
	assert_int_equal(r->scur, 3);
	assert_int_equal(r->stot, 120);
	assert_int_equal(r->weight, 80);
	assert_int_equal(r->hrsp[2], 100);
	assert_int_equal(r->hrsp[5], 20);
	assert_int_equal(hap_responses(r), 120);
	assert_int_equal(r->rtime, 12);
	assert_string_equal(r->status, "UP");
	assert_null(hap_find(rows, n, "web", "s9"));
	free(rows);
}

static void test_gitops_files(void **state)
{
	(void)state;
	char *n = NULL;
	assert_int_equal(gitops_app_of("web.yml", NULL, &n), 1);
	assert_string_equal(n, "web");
	free(n);
	assert_int_equal(gitops_app_of("api/values.yaml", NULL, &n), 1);
	assert_string_equal(n, "api");
	free(n);
	assert_int_equal(gitops_app_of("api/production.yaml", "production", &n), 2);
	assert_string_equal(n, "api");
	free(n);
	assert_int_equal(gitops_app_of("api/production.yaml", NULL, &n), 0);
	assert_int_equal(gitops_app_of("api/other.yaml", "production", &n), 0);
	assert_int_equal(gitops_app_of("README.md", NULL, &n), 0);
	assert_int_equal(gitops_app_of(".hidden.yml", NULL, &n), 0);
	assert_int_equal(gitops_app_of("a/b/values.yaml", NULL, &n), 0);
}

static void test_gitops_keys(void **state)
{
	(void)state;
	struct diags d = DIAGS_INIT;
	const char *ok = "image: {repository: reg.example.com/team/api, tag: abc12345}  # CI bumps this\n"
			 "listen: 127.0.0.1:8080\nautomated: {prune: true, selfHeal: false}\nwave: -1\n";
	struct app *a = app_load_gitops("apps/api/values.yaml", ok, strlen(ok), "api", "/tmp", &d);
	assert_non_null(a);
	assert_string_equal(a->ctr.image, "reg.example.com/team/api");
	assert_string_equal(a->git.version, "abc12345");
	assert_int_equal(a->git.automated, 1);
	assert_int_equal(a->git.prune, 1);
	assert_int_equal(a->git.self_heal, 0);
	assert_int_equal(a->git.wave, -1);
	app_free(a);
	const char *bad = "command: [x]\nlisten: 8080\nversion: v1\nimage: {repository: r/x, tag: v2}\n";
	assert_null(app_load_gitops("apps/x.yml", bad, strlen(bad), "x", "/tmp", &d));
	assert_int_equal(d.nr, 1);
	assert_string_equal(d.v[0].file, "apps/x.yml");
	assert_int_equal(d.v[0].line, 3);
	diags_release(&d);
	const char *none = "command: [x]\nlisten: 8080\n";
	assert_null(app_load_gitops("apps/x.yml", none, strlen(none), "x", "/tmp", &d));
	assert_non_null(strstr(d.v[0].msg, "gives no release"));
	diags_release(&d);
	/* outside a config repository, the gitops keys are unknown */
	assert_null(load("command: [x]\nlisten: 8080\nversion: v1\n", &d));
	assert_non_null(strstr(d.v[0].msg, "unknown key 'version'"));
	diags_release(&d);
}

#define DIG "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* a release as an image digest: version:, image.tag or image: REF@DIGEST */
static void test_gitops_digests(void **state)
{
	(void)state;
	struct diags d = DIAGS_INIT;
	const char *forms[] = {
		"image: localhost:5000/kiln/demo\nversion: " DIG "\nlisten: 8080\n",
		"image: {repository: localhost:5000/kiln/demo, tag: '" DIG "'}\nlisten: 8080\n",
		"image: localhost:5000/kiln/demo@" DIG "\nlisten: 8080\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		struct app *a = app_load_gitops("apps/web.yml", forms[i], strlen(forms[i]), "web", "/tmp", &d);
		assert_non_null(a);
		assert_string_equal(a->ctr.image, "localhost:5000/kiln/demo");
		assert_string_equal(a->git.version, DIG);
		assert_int_equal(a->git.image_ref, i == 2);
		app_free(a);
	}
	const char *tagged = "image: localhost:5000/kiln/demo:v7\nlisten: 8080\n";
	struct app *a = app_load_gitops("apps/web.yml", tagged, strlen(tagged), "web", "/tmp", &d);
	assert_non_null(a);
	assert_string_equal(a->ctr.image, "localhost:5000/kiln/demo");
	assert_string_equal(a->git.version, "v7");
	app_free(a);
	struct buf b = BUF_INIT;
	deploy_image_ref("r/x", DIG, &b);
	assert_string_equal(b.buf, "r/x@" DIG);
	buf_reset(&b);
	deploy_image_ref("r/x", "v1", &b);
	assert_string_equal(b.buf, "r/x:v1");
	buf_release(&b);
	char sh[20];
	assert_string_equal(deploy_version_short(DIG, sh), "sha256:0123456789ab");
	assert_string_equal(deploy_version_short("v1", sh), "v1");
	assert_true(deploy_version_ok(DIG));
	assert_false(deploy_name_ok(DIG));
	assert_false(deploy_version_ok("sha256:0123"));
	/* errors name the file, line and column */
	const char *bad[][2] = {
		{ "image: r/x@sha256:0123\nlisten: 8080\n", "must be an image digest" },
		{ "image: r/x\nversion: sha256:XYZ\nlisten: 8080\n", "must be an image digest" },
		{ "image: r/x@" DIG "\nversion: v1\nlisten: 8080\n", "the release is given twice" },
		{ "command: [x]\nversion: " DIG "\nlisten: 8080\n", "this app has no 'image:'" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_null(app_load_gitops("apps/x.yml", bad[i][0], strlen(bad[i][0]), "x", "/tmp", &d));
		assert_true(d.nr >= 1);
		if (!strstr(d.v[0].msg, bad[i][1]))
			fail_msg("%zu: %s", i, d.v[0].msg);
		assert_true(d.v[0].line >= 1);
		diags_release(&d);
	}
	/* kiln rollback / kiln/gitops rewrite image: in place, plain */
	const char *file = "image: r/x@sha256:0123  # pinned\nlisten: 8080\n";
	struct buf out = BUF_INIT, e = BUF_INIT;
	assert_int_equal(yedit_set("f.yml", file, strlen(file), ".image", "reg:5000/r/x@" DIG, &out, &e), 0);
	assert_string_equal(out.buf, "image: reg:5000/r/x@" DIG "  # pinned\nlisten: 8080\n");
	buf_reset(&out);
	/* a value YAML 1.1 could read as a number, or that ends a key, is quoted */
	assert_int_equal(yedit_set("f.yml", file, strlen(file), ".image", "1:20", &out, &e), 0);
	assert_string_equal(out.buf, "image: \"1:20\"  # pinned\nlisten: 8080\n");
	buf_reset(&out);
	assert_int_equal(yedit_set("f.yml", file, strlen(file), ".image", "r/x:", &out, &e), 0);
	assert_string_equal(out.buf, "image: \"r/x:\"  # pinned\nlisten: 8080\n");
	buf_release(&out);
	buf_release(&e);
	/* outside a config repository an image carries no release */
	assert_null(load("image: r/x@" DIG "\nlisten: 8080\n", &d));
	assert_non_null(strstr(d.v[0].msg, "must not carry a tag or digest"));
	diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_load_full),
		cmocka_unit_test(test_listen_addr),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_latency_metrics),
		cmocka_unit_test(test_haproxy_config),
		cmocka_unit_test(test_stat_parse),
		cmocka_unit_test(test_gitops_files),
		cmocka_unit_test(test_gitops_keys),
		cmocka_unit_test(test_gitops_digests),
	};
	return cmocka_run_group_tests_name("deploy", tests, NULL, NULL);
}
