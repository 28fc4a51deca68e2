/*
 * actions: the native built-in actions (one file each) and the helpers
 * they share: reading `with:` inputs, the github context, paths inside
 * the workspace. The registry is engine/builtin.c.
 */
#ifndef KILN_ACTIONS_H
#define KILN_ACTIONS_H

#include <stdio.h>

#include "base/buf.h"
#include "base/strvec.h"
#include "engine/builtin.h"

/* the start functions the registry lists */
int act_checkout_start(struct builtin_call *c, struct buf *err);
int act_cache_start(struct builtin_call *c, struct buf *err);
int act_cache_restore_start(struct builtin_call *c, struct buf *err);
int act_cache_save_start(struct builtin_call *c, struct buf *err);
int act_upload_artifact_start(struct builtin_call *c, struct buf *err);
int act_download_artifact_start(struct builtin_call *c, struct buf *err);
int act_paths_filter_start(struct builtin_call *c, struct buf *err);
int act_setup_node_start(struct builtin_call *c, struct buf *err);
int act_setup_python_start(struct builtin_call *c, struct buf *err);
int act_setup_go_start(struct builtin_call *c, struct buf *err);
int act_setup_java_start(struct builtin_call *c, struct buf *err);
int act_setup_buildx_start(struct builtin_call *c, struct buf *err);
int act_setup_qemu_start(struct builtin_call *c, struct buf *err);
int act_docker_login_start(struct builtin_call *c, struct buf *err);
int act_build_push_start(struct builtin_call *c, struct buf *err);
int act_docker_meta_start(struct builtin_call *c, struct buf *err);
void act_build_push_cancel(struct builtin_call *c);
void act_docker_login_cancel(struct builtin_call *c);

/*
 * The remote back-end of actions/cache (cache.c): set by `kiln agent`, it
 * gives the calls to the server for the job whose run directory is
 * run_dir (0), or -1 when the step is not one of its jobs (local caches).
 * call: method on .../jobs/ID/WHAT?attempt=N with a JSON body or NULL,
 * the answer in resp (or written to out when set); upload: the blob at
 * path as .../jobs/ID/caches/DIGEST in chunks. Both return the HTTP
 * status, or -1 with err.
 */
struct cache_remote {
	long (*call)(void *ctx, const char *method, const char *what, const char *body,
		     struct buf *resp, FILE *out, char *err, size_t errlen);
	long (*upload)(void *ctx, const char *digest, const char *path, char *err, size_t errlen);
	void *ctx;
};
extern int (*act_cache_remote)(const char *run_dir, struct cache_remote *out);

/* does toolchain version `have` ("20.11.1") satisfy a setup-* version
 * spec ("20", "20.x", ">=18 <21", "^3.10 || 3.9", "latest")? (setup.c) */
int act_version_matches(const char *spec, const char *have);

/* input `name` of with: ("" when not given; never NULL) */
const char *act_input(const struct builtin_call *c, const char *name);
/* a boolean input ("true"/"false", any case; `def` when empty); 0, or
 * KILN_EINVAL with GitHub's message in err */
int act_input_bool(const struct builtin_call *c, const char *name, int def, int *out,
		   struct buf *err);
/* a multi-line input: one entry per non-empty line, trimmed */
void act_input_lines(const struct builtin_call *c, const char *name, struct strvec *out);
/* github.<key> as a string ("" when absent) */
const char *act_github(const struct builtin_call *c, const char *key);
/* github.event.<a>.<b>... (keys separated by '.') as a string, or "" */
const char *act_event_str(const struct builtin_call *c, const char *dotted);
/*
 * `rel` resolved inside `base` ("" and "." are base itself; absolute
 * paths are kept; ".." may not leave base when `confine` is set).
 * 0, or KILN_EINVAL with a message in err.
 */
int act_path(const char *base, const char *rel, int confine, struct buf *out, struct buf *err);
/* log a formatted line */
void act_logf(struct builtin_call *c, enum log_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* docker/metadata-action's {{date 'FORMAT' tz='Zone'}}: unix time ms in
 * moment.js format tokens (NULL: moment's default ISO format) in zone tz
 * (NULL or "UTC", else a tzdata name); 0, or -1 with err
 * (docker_meta_date.c) */
int act_meta_date(int64_t ms, const char *fmt, const char *tz, struct buf *out, struct buf *err);
/* an ISO-8601 time (2026-11-23T10:41:01+01:00, Z, .fff) in unix ms; 0 or -1 */
int act_meta_parse_iso(const char *s, int64_t *ms);
/* an outputs object from NAME=VALUE strings */
struct ev *act_outputs_from(const struct strvec *kv);

#endif
