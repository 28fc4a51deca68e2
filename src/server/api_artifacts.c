/*
 * api_artifacts: what a run leaves besides its logs, over the API — its
 * artifacts (listed, downloaded as the tar + zstd blob upload-artifact
 * made) and its annotations; and the artifacts' retention: once an hour
 * (and at start) artifacts past their retention-days are flagged expired
 * and the blobs no live artifact uses are removed, with the store's blobs
 * (store/blobs.h) no open agent job or live artifact needs.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "server/api.h"
#include "server/srv.h"
#include "store/annotations.h"
#include "store/artifacts.h"
#include "store/blobs.h"
#include "store/runs.h"
#include "store/runview.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define SWEEP_EVERY_MS (3600 * 1000)
/* a blob in the store nothing needs any more goes an hour after its last use */
#define BLOB_KEEP_MS (3600 * 1000)

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

int srv_artifact_reply(struct srv *s, struct http_req *q, const char *digest, struct buf *err)
{
	/* recorded from a log event an agent sent: never a path */
	if (strlen(digest) != 64 || strspn(digest, "0123456789abcdef") != 64)
		return KILN_ENOENT;
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/artifacts/%s.tzst", s->data_dir, digest);
	int rc = 0, fd = -1;
	if (access(path.buf, R_OK) == 0) {
		/* streamed from the blob, a chunk at a time */
		rc = http_reply_file(q, 200, "application/zstd", path.buf, err);
		goto out;
	}
	/* from the store through a file unlinked once open: nothing is left
	 * behind, and a large blob never sits in memory */
	buf_reset(&path);
	buf_addf(&path, "%s/artifacts", s->data_dir);
	mkdir_p(path.buf, 0700);
	buf_addstr(&path, "/.from-store-XXXXXX");
	fd = mkostemp(path.buf, O_CLOEXEC);
	if (fd < 0) {
		buf_addf(err, "cannot write '%s': %s", path.buf, strerror(errno));
		rc = -1;
		goto out;
	}
	rc = blobs_write_fd(s->db, digest, fd, err);
	if (rc == 0)
		rc = http_reply_file(q, 200, "application/zstd", path.buf, err);
	unlink(path.buf);
	close(fd);
out:
	buf_release(&path);
	return rc;
}

/* GET /api/v1/runs/:id/artifacts/:name: the blob (tar + zstd) */
static void on_download(struct srv *s, struct http_req *q)
{
	int64_t id;
	struct artifact_row a;
	struct buf err = BUF_INIT, disp = BUF_INIT;
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
	/* the name passed upload-artifact's rules: no quote, slash or control
	 * character can reach the header */
	buf_addf(&disp, "attachment; filename=\"%s.tar.zst\"", name);
	http_reply_header(q, "Content-Disposition", disp.buf);
	http_reply_header(q, "X-Kiln-Digest", a.digest);
	if (srv_artifact_reply(s, q, a.digest, &err) < 0)
		http_reply_error(q, 500, "internal", "cannot read artifact '%s': %s", name,
				 err.len ? err.buf : "its blob is gone");
out:
	buf_release(&err);
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
	/* the store's blobs (every replica sweeps: the deletes are idempotent) */
	int64_t n = 0;
	buf_reset(&err);
	if (blobs_sweep(s->db, runs_now_ms(), BLOB_KEEP_MS, &n, &err))
		fprintf(stderr, "kiln serve: blob store: %s\n", err.buf);
	else if (n)
		fprintf(stderr, "kiln serve: %lld blob%s no run needs removed from the store\n",
			(long long)n, n == 1 ? "" : "s");
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
