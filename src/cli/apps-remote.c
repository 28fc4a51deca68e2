/*
 * apps-remote: `kiln status [APP] --server URL` and `kiln sync APP
 * --server URL` — the GitOps apps of a `kiln serve` that runs the deploy
 * controller (GET /api/v1/apps[/APP], POST /api/v1/apps/APP/sync), shown
 * as `kiln status` shows a local controller's.
 */
#include "base/kiln.h"
#include "cli/apps-remote.h"

#include <unistd.h>

static const char *str(const json_t *o, const char *k, const char *dflt)
{
	const json_t *v = json_object_get(o, k);
	return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : dflt;
}

static void print_app(const json_t *a)
{
	const json_t *last = json_object_get(a, "last_sync");
	printf("app %s: %s, %s; %s at %.8s wants %s, live %s\n", str(a, "app", "?"), str(a, "sync", "-"),
	       str(a, "health", "-"), str(a, "file", "-"), str(a, "commit", "-"), str(a, "want", "-"),
	       str(a, "live", "-"));
	if (*str(a, "health_reason", ""))
		printf("health: %s\n", str(a, "health_reason", ""));
	if (*str(a, "message", ""))
		printf("%s\n", str(a, "message", ""));
	if (last)
		printf("last sync: %s at %.8s%s%s\n", str(last, "outcome", "?"), str(last, "commit", "-"),
		       *str(last, "reason", "") ? ": " : "", str(last, "reason", ""));
}

int apps_remote_status(const struct remote *rm, const char *app, int json)
{
	struct buf p = BUF_INIT;
	json_t *out = NULL;
	buf_addstr(&p, "/api/v1/apps");
	if (app) {
		buf_addch(&p, '/');
		remote_path_add(&p, app, 0);
	}
	int rc = remote_call(rm, "status", "GET", p.buf, NULL, &out);
	buf_release(&p);
	if (rc)
		return rc;
	if (json) {
		remote_print_json(out);
	} else if (app) {
		print_app(out);
	} else {
		const json_t *cfg = json_object_get(out, "config"), *a;
		size_t i;
		if (json_is_object(cfg))
			printf("config %s %s at %.8s%s%s\n", str(cfg, "url", "?"), str(cfg, "branch", "?"),
			       str(cfg, "commit", "-"), json_is_string(json_object_get(cfg, "fetch_error"))
			       ? "; fetch failed: " : "", str(cfg, "fetch_error", ""));
		printf("%-16s %-10s %-11s %-12s %-12s %-8s %-4s %s\n", "APP", "SYNC", "HEALTH", "WANT",
		       "LIVE", "CONFIG", "WAVE", "MESSAGE");
		json_array_foreach(json_object_get(out, "apps"), i, a) {
			const char *msg = str(a, "message", "");
			printf("%-16s %-10s %-11s %-12s %-12s %-8.8s %-4lld %.*s\n", str(a, "app", "?"),
			       str(a, "sync", "-"), str(a, "health", "-"), str(a, "want", "-"),
			       str(a, "live", "-"), str(a, "commit", "-"),
			       (long long)json_integer_value(json_object_get(a, "wave")),
			       (int)strcspn(msg, "\n"), msg);
		}
	}
	json_decref(out);
	return EXIT_OK;
}

/* follow app's sync through the API: see apps_remote_sync */
static int wait_sync(const struct remote *rm, const char *app, int64_t wait_ms)
{
	struct buf p = BUF_INIT, seen = BUF_INIT, now = BUF_INIT;
	buf_addstr(&p, "/api/v1/apps/");
	remote_path_add(&p, app, 0);
	uint64_t deadline = now_ns() + (uint64_t)wait_ms * 1000000u;
	int rc;
	for (;;) {
		json_t *a = NULL;
		if ((rc = remote_call(rm, "sync", "GET", p.buf, NULL, &a)))
			break;
		const json_t *last = json_object_get(a, "last_sync");
		const char *sync = str(a, "sync", "-"), *health = str(a, "health", "-");
		const char *outcome = str(last, "outcome", "");
		buf_reset(&now);
		buf_addf(&now, "%s: %s, %s", app, sync, health);
		if (*str(a, "health_reason", ""))
			buf_addf(&now, " (%s)", str(a, "health_reason", ""));
		if (strcmp(now.buf, seen.buf ? seen.buf : "")) {
			printf("%s\n", now.buf);
			fflush(stdout);
			buf_reset(&seen);
			buf_addstr(&seen, now.buf);
		}
		int running = !strcmp(outcome, "running") || !strcmp(health, "Progressing");
		if (!running && !strcmp(outcome, "failed")) {
			print_app(a);
			fprintf(stderr, "kiln sync: error: the sync of %s failed: %s\n", app,
				str(last, "reason", "see kiln status APP --server"));
			rc = EXIT_FAILED;
		} else if (!running && !strcmp(sync, "Synced") && !strcmp(health, "Healthy")) {
			print_app(a);
			rc = EXIT_OK;
		} else if (!running && !strcmp(health, "Degraded")) {
			print_app(a);
			fprintf(stderr, "kiln sync: error: %s is Degraded: %s\n", app, str(a, "health_reason", "?"));
			rc = EXIT_FAILED;
		} else if (now_ns() >= deadline) {
			fprintf(stderr, "kiln sync: error: %s is still %s, %s after %s; 'kiln status %s --server' follows it\n",
				app, sync, health, duration_str((double)wait_ms).s, app);
			rc = EXIT_FAILED;
		} else {
			json_decref(a);
			usleep(500000);
			continue;
		}
		json_decref(a);
		break;
	}
	buf_release(&p);
	buf_release(&seen);
	buf_release(&now);
	return rc;
}

int apps_remote_sync(const struct remote *rm, const char *app, int64_t wait_ms)
{
	struct buf p = BUF_INIT;
	json_t *out = NULL;
	buf_addstr(&p, "/api/v1/apps/");
	remote_path_add(&p, app, 0);
	buf_addstr(&p, "/sync");
	int rc = remote_call(rm, "sync", "POST", p.buf, NULL, &out);
	if (!rc) {
		printf("%s\n", str(out, "message", "syncing"));
		fflush(stdout);
	}
	json_decref(out);
	buf_release(&p);
	if (!rc && wait_ms > 0)
		rc = wait_sync(rm, app, wait_ms);
	return rc;
}
