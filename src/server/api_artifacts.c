/*
 * api_artifacts: what a run leaves besides its logs, over the API — its
 * artifacts (listed, downloaded as the tar + zstd blob upload-artifact
 * made) and its annotations; and the artifacts' retention: once an hour
 * (and at start) artifacts past their retention-days are flagged expired
 * and the blobs no live artifact uses are removed.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "server/api.h"
#include "server/srv.h"
#include "store/annotations.h"
#include "store/artifacts.h"
#include "store/runs.h"
#include "store/runview.h"

#include <errno.h>
#include <unistd.h>

#define SWEEP_EVERY_MS (3600 * 1000)

/* the run named by :id exists; else answer 404/503 and return -1 */
static int run_id(struct srv *s, struct http_req *q, int64_t *id)
{
	struct runview r;
	struct buf err = BUF_INIT;
	*id = api__int(http_req_param(q, "id"));
	int rc = *id ? runview_get(s->db, *id, &r, &err) : KILN_ENOENT;
	if (rc == KILN_ENOENT)
		http_reply_error(q, 404, "not_found", "no run %s", http_req_param(q, "id"));
	else if (rc)
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
	buf_release(&err);
	return rc ? -1 : 0;
}

static int is_expired(const struct artifact_row *a)
{
	return a->expired || a->expires_ms <= runs_now_ms();
}

static json_t *artifact_json(const struct artifact_row *a)
{
	json_t *o = json_pack("{s:I,s:s,s:I,s:I,s:s,s:I,s:I,s:b}", "id", (json_int_t)a->id, "name",
			      a->name, "size", (json_int_t)a->size, "files", (json_int_t)a->files,
			      "digest", a->digest, "created_at", (json_int_t)a->created_ms,
			      "expires_at", (json_int_t)a->expires_ms, "expired", is_expired(a));
	json_object_set_new(o, "job", *a->job ? json_string(a->job) : json_null());
	json_object_set_new(o, "job_id", a->job_id ? json_integer(a->job_id) : json_null());
	json_object_set_new(o, "download_url",
			    is_expired(a) ? json_null()
					  : json_sprintf("/api/v1/runs/%lld/artifacts/%s",
							 (long long)a->run_id, a->name));
	return o;
}

/* GET /api/v1/runs/:id/artifacts */
static void on_list(struct srv *s, struct http_req *q)
{
	int64_t id;
	struct artifact_row *v;
	size_t n;
	struct buf err = BUF_INIT;
	if (run_id(s, q, &id))
		return;
	if (artifacts_list(s->db, id, &v, &n, &err)) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		buf_release(&err);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, artifact_json(&v[i]));
	free(v);
	http_reply_json(q, 200, json_pack("{s:I,s:o}", "total_count", (json_int_t)n, "artifacts", arr));
}

/* GET /api/v1/runs/:id/artifacts/:name: the blob (tar + zstd) */
static void on_download(struct srv *s, struct http_req *q)
{
	int64_t id;
	struct artifact_row a;
	struct buf err = BUF_INIT, path = BUF_INIT, disp = BUF_INIT;
	const char *name = http_req_param(q, "name");
	if (run_id(s, q, &id))
		return;
	int rc = artifacts_get(s->db, id, name, &a, &err);
	if (rc == KILN_ENOENT) {
		http_reply_error(q, 404, "not_found", "run %lld has no artifact '%s'", (long long)id,
				 name);
		goto out;
	}
	if (rc) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		goto out;
	}
	if (is_expired(&a)) {
		http_reply_error(q, 410, "artifact_expired", "artifact '%s' of run %lld has expired",
				 name, (long long)id);
		goto out;
	}
	buf_addf(&path, "%s/artifacts/%s.tzst", s->data_dir, a.digest);
	if (access(path.buf, R_OK) < 0) {
		http_reply_error(q, 500, "internal", "cannot read artifact '%s': %s", name,
				 strerror(errno));
		goto out;
	}
	/* the name passed upload-artifact's rules: no quote, slash or control
	 * character can reach the header */
	buf_addf(&disp, "attachment; filename=\"%s.tar.zst\"", name);
	http_reply_header(q, "Content-Disposition", disp.buf);
	http_reply_header(q, "X-Kiln-Digest", a.digest);
	/* streamed from the blob, a chunk at a time (http_reply_file) */
	if (http_reply_file(q, 200, "application/zstd", path.buf, &err) < 0)
		http_reply_error(q, 500, "internal", "cannot read artifact '%s': %s", name, err.buf);
out:
	buf_release(&err);
	buf_release(&path);
	buf_release(&disp);
}

static json_t *annotation_json(const struct annotation_row *a)
{
	json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s}", "id", (json_int_t)a->id, "job_id",
			      (json_int_t)a->job_id, "job", a->job, "level", a->level, "message",
			      a->message);
	json_object_set_new(o, "step", *a->step ? json_string(a->step) : json_null());
	json_object_set_new(o, "file", *a->file ? json_string(a->file) : json_null());
	json_object_set_new(o, "line", a->line ? json_integer(a->line) : json_null());
	json_object_set_new(o, "col", a->col ? json_integer(a->col) : json_null());
	json_object_set_new(o, "title", *a->title ? json_string(a->title) : json_null());
	json_object_set_new(o, "created_at", json_integer(a->created_ms));
	return o;
}

/* GET /api/v1/runs/:id/annotations[?job_id=N] */
static void on_annotations(struct srv *s, struct http_req *q)
{
	int64_t id, job = 0;
	struct annotation_row *v;
	size_t n;
	struct buf err = BUF_INIT;
	const char *js = http_req_query(q, "job_id");
	if (run_id(s, q, &id))
		return;
	if (js && !(job = api__int(js))) {
		http_reply_error(q, 400, "invalid", "job_id must be a job's id");
		return;
	}
	if (annotations_list(s->db, id, job, &v, &n, &err)) {
		http_reply_error(q, 503, "store_unavailable", "%s", err.buf);
		buf_release(&err);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, annotation_json(&v[i]));
	free(v);
	http_reply_json(q, 200, json_pack("{s:o}", "annotations", arr));
}

/* retention: flag expired artifacts, remove the blobs nothing uses */
static void sweep(uv_timer_t *t)
{
	struct srv *s = t->data;
	struct strvec gone = STRVEC_INIT;
	struct buf err = BUF_INIT, path = BUF_INIT;
	if (artifacts_expire(s->db, runs_now_ms(), &gone, &err)) {
		fprintf(stderr, "kiln serve: artifacts retention: %s\n", err.buf);
	} else {
		for (size_t i = 0; i < gone.nr; i++) {
			buf_reset(&path);
			buf_addf(&path, "%s/artifacts/%s.tzst", s->data_dir, gone.v[i]);
			if (unlink(path.buf) < 0 && errno != ENOENT)
				fprintf(stderr, "kiln serve: cannot remove '%s': %s\n", path.buf,
					strerror(errno));
		}
		if (gone.nr)
			fprintf(stderr, "kiln serve: %zu expired artifact blob%s removed\n", gone.nr,
				gone.nr == 1 ? "" : "s");
	}
	strvec_clear(&gone);
	buf_release(&err);
	buf_release(&path);
}

void api_artifacts_register(struct srv *s)
{
	http_route(s, "GET", "/api/v1/runs/:id/artifacts", ROLE_VIEWER, on_list);
	http_route(s, "GET", "/api/v1/runs/:id/artifacts/:name", ROLE_VIEWER, on_download);
	http_route(s, "GET", "/api/v1/runs/:id/annotations", ROLE_VIEWER, on_annotations);
	uv_timer_init(s->loop, &s->retention);
	s->retention.data = s;
	uv_timer_start(&s->retention, sweep, 0, SWEEP_EVERY_MS);
	uv_unref((uv_handle_t *)&s->retention); /* never keeps the loop alive */
}
