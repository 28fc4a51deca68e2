/*
 * actions/cache, actions/cache/restore, actions/cache/save on the cas
 * store (src/cas) under the kiln data directory.
 *
 * Inputs (as actions/cache v4): key, path (lines: files, directories,
 * globs, !exclusions), restore-keys (lines, prefix matches, newest
 * first), fail-on-cache-miss, lookup-only; enableCrossOsArchive and
 * upload-chunk-size are accepted and ignored.
 * Outputs: cache-hit ('true' only for an exact key match, else 'false');
 * restore also cache-primary-key and cache-matched-key.
 * actions/cache saves at the end of the job (a post hook), only when the
 * job succeeded and the key did not match exactly, as post-if: success().
 * Work is synchronous on the job's loop (packing is CPU-bound anyway).
 *
 * On a `kiln agent` (act_cache_remote set, the step one of its jobs) the
 * entries are on the server, per repository (store/caches.c): restore asks
 * it for the key and restore-keys and unpacks the blob, downloaded into
 * the local cas's blobs unless already there; save packs locally, uploads
 * the blob in chunks and registers the key (the first writer wins). A
 * failed call is a warning and, for restore, a miss, as on GitHub.
 */
#include "base/kiln.h"
#include "actions/actions.h"
#include "base/fs.h"
#include "cas/cas.h"

#include <jansson.h>
#include <unistd.h>

int (*act_cache_remote)(const char *run_dir, struct cache_remote *out);

/* what the post hook needs: owned copies */
struct cache_post {
	char *key;
	char *cwd, *run_dir;
	struct strvec paths;
};

/*
 * kiln serve runs each repository's jobs with KILN_CACHE_SCOPE=<its name>
 * (server/queue.c): a repository restores only its own caches, as on
 * GitHub where caches are per repository. The store's keys are then
 * "<scope>|<key>" (a repository name has no '|', so no scope's keys can
 * match another's, exactly or as a restore-key prefix); what the job sees
 * and logs is its own key. Without the variable (a local kiln run) keys are
 * as written.
 */
static const char *cache_scope(void)
{
	const char *s = getenv("KILN_CACHE_SCOPE");
	return s && *s && !strchr(s, '|') ? s : NULL;
}

static char *scoped(const char *key)
{
	const char *s = cache_scope();
	return s ? xstrfmt("%s|%s", s, key) : xstrdup(key);
}

static const char *unscoped(const char *key)
{
	const char *s = cache_scope();
	size_t n = s ? strlen(s) : 0;
	return s && !strncmp(key, s, n) && key[n] == '|' ? key + n + 1 : key;
}

static int open_store(struct cas *cas, struct buf *err)
{
	struct buf data = BUF_INIT;
	int r = kiln_data_dir(&data, err) < 0 || cas_open(cas, data.buf, err) < 0 ? -1 : 0;
	buf_release(&data);
	return r;
}

struct cache_in {
	const char *key;
	struct strvec paths, restore_keys;
	int fail_on_miss, lookup_only;
};

static int read_inputs(struct builtin_call *c, struct cache_in *in, int restore,
		       const char *what, struct buf *err)
{
	in->key = act_input(c, "key");
	act_input_lines(c, "path", &in->paths);
	if (!*in->key) {
		buf_addf(err, "%s: Input required and not supplied: key", what);
		return KILN_EINVAL;
	}
	if (strchr(in->key, ',')) {
		buf_addf(err, "%s: Key Validation Error: %s cannot contain commas.", what, in->key);
		return KILN_EINVAL;
	}
	if (!in->paths.nr) {
		buf_addf(err, "%s: Input required and not supplied: path", what);
		return KILN_EINVAL;
	}
	if (!restore)
		return 0;
	act_input_lines(c, "restore-keys", &in->restore_keys);
	if (act_input_bool(c, "fail-on-cache-miss", 0, &in->fail_on_miss, err) < 0 ||
	    act_input_bool(c, "lookup-only", 0, &in->lookup_only, err) < 0)
		return KILN_EINVAL;
	return 0;
}

static void cache_in_release(struct cache_in *in)
{
	strvec_clear(&in->paths);
	strvec_clear(&in->restore_keys);
}

/* the remote back-end for the step's job, or NULL (local caches) */
static const struct cache_remote *remote_for(const char *run_dir, struct cache_remote *rm)
{
	return act_cache_remote && run_dir && !act_cache_remote(run_dir, rm) ? rm : NULL;
}

static char *json_body(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* the blob digest into the local cas's blobs unless there: 0 or -1 */
static int fetch_blob(const struct cache_remote *rm, struct cas *cas, const char *digest,
		      struct buf *err)
{
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/blobs/%s.tzst", cas->dir, digest);
	if (access(path.buf, R_OK) == 0) {
		buf_release(&path);
		return 0;
	}
	char *tmp = xstrfmt("%s/blobs/.remote-XXXXXX", cas->dir);
	int fd = mkostemp(tmp, O_CLOEXEC), r = -1;
	FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
	if (!f) {
		buf_addf(err, "cannot write '%s': %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
	} else {
		char e[256] = "";
		struct buf resp = BUF_INIT;
		char *what = xstrfmt("caches/%s", digest);
		long st = rm->call(rm->ctx, "GET", what, NULL, &resp, f, e, sizeof(e));
		free(what);
		buf_release(&resp);
		if (fclose(f) != 0 && st == 200)
			buf_addf(err, "cannot write '%s': %s", tmp, strerror(errno));
		else if (st != 200)
			buf_addf(err, "cannot download the cache: %s",
				 st < 0 ? e : st == 404 ? "not found (HTTP 404)" : "HTTP error");
		else if (rename(tmp, path.buf) < 0)
			buf_addf(err, "cannot write '%s': %s", path.buf, strerror(errno));
		else
			r = 0;
		if (r)
			unlink(tmp);
	}
	free(tmp);
	buf_release(&path);
	return r;
}

/* remove this agent's copy of a damaged blob */
static void drop_blob(struct cas *cas, const char *digest)
{
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/blobs/%s.tzst", cas->dir, digest);
	unlink(path.buf);
	buf_release(&path);
}

/* remote restore: 0 (hit, *exact), KILN_ENOENT (miss) or -1 with err */
static int remote_restore(struct builtin_call *c, const struct cache_remote *rm,
			  struct cache_in *in, struct cas_entry *hit, int *exact, struct buf *err)
{
	char version[65];
	cas_version(&in->paths, version);
	json_t *rk = json_array();
	for (size_t i = 0; i < in->restore_keys.nr; i++)
		json_array_append_new(rk, json_string(in->restore_keys.v[i]));
	char *body = json_body(json_pack("{s:s,s:o,s:s}", "key", in->key, "restore_keys", rk,
					 "version", version));
	struct buf resp = BUF_INIT;
	char e[256] = "";
	long st = rm->call(rm->ctx, "POST", "cache-lookup", body, &resp, NULL, e, sizeof(e));
	free(body);
	json_t *o = json_loadb(resp.buf ? resp.buf : "", resp.len, 0, NULL);
	buf_release(&resp);
	const char *key = json_string_value(json_object_get(o, "key"));
	const char *digest = json_string_value(json_object_get(o, "digest"));
	int r = -1;
	if (st == 404) {
		r = KILN_ENOENT;
	} else if (st != 200 || !key || !digest || strlen(key) >= sizeof(hit->key) ||
		   strlen(digest) != 64 || strspn(digest, "0123456789abcdef") != 64) {
		const char *m = json_string_value(
			json_object_get(json_object_get(o, "error"), "message"));
		buf_addf(err, "the server's cache service answered %s",
			 st < 0 ? e : m ? m : "badly");
		if (st > 0)
			buf_addf(err, " (HTTP %ld)", st);
	} else {
		memset(hit, 0, sizeof(*hit));
		snprintf(hit->key, sizeof(hit->key), "%s", key);
		snprintf(hit->blob, sizeof(hit->blob), "%s", digest);
		hit->size = (uint64_t)json_integer_value(json_object_get(o, "size"));
		*exact = json_is_true(json_object_get(o, "exact"));
		r = 0;
	}
	json_decref(o);
	if (r || in->lookup_only)
		return r;
	struct cas cas = CAS_INIT;
	if (open_store(&cas, err) < 0 || fetch_blob(rm, &cas, hit->blob, err) < 0)
		r = -1;
	else if ((r = cas_unpack(&cas, hit->blob, c->workspace, NULL, err)) == CAS_CORRUPT)
		drop_blob(&cas, hit->blob); /* the next restore downloads it again */
	if (r < 0)
		r = -1;
	cas_close(&cas);
	return r;
}

/* restore: 0 with *outs set, or a negative code with err */
static int do_restore(struct builtin_call *c, struct cache_in *in, int *exact_out,
		      struct ev **outs, struct buf *err)
{
	struct cas cas = CAS_INIT;
	struct cas_entry hit;
	struct cache_remote rmb;
	const struct cache_remote *rm = remote_for(c->run_dir, &rmb);
	int exact = 0, r;
	if (rm) {
		r = remote_restore(c, rm, in, &hit, &exact, err);
		if (r == -1) { /* as actions/cache: a warning, then a miss */
			act_logf(c, LOG_WARNING, "Failed to restore: %s", err->buf);
			r = KILN_ENOENT;
		}
		goto looked;
	}
	if (open_store(&cas, err) < 0)
		return KILN_EIO;
	char *key = scoped(in->key);
	struct strvec rkeys = STRVEC_INIT;
	for (size_t i = 0; i < in->restore_keys.nr; i++)
		strvec_push_nodup(&rkeys, scoped(in->restore_keys.v[i]));
	if (in->lookup_only) {
		char version[65];
		cas_version(&in->paths, version);
		r = cas_lookup(&cas, key, &rkeys, version, &hit, &exact, err);
	} else {
		r = cas_restore(&cas, key, &rkeys, &in->paths, c->workspace, &hit, &exact, err);
	}
	if (r == CAS_CORRUPT) { /* removed: a miss, as a failed download is */
		act_logf(c, LOG_WARNING, "Failed to restore: %s; the entry was removed",
			 err->buf);
		r = KILN_ENOENT;
	}
	cas_close(&cas);
	free(key);
	strvec_clear(&rkeys);
	if (r == -1)
		return KILN_EIO;
looked:
	*outs = ev_object();
	ev_object_set(*outs, "cache-primary-key", ev_cstr(in->key));
	if (r == KILN_ENOENT) {
		if (in->fail_on_miss) {
			ev_unref(*outs);
			*outs = NULL;
			buf_reset(err);
			buf_addf(err, "Failed to restore cache entry. Exiting as fail-on-cache-miss is set. "
				      "Input key: %s", in->key);
			return KILN_ENOENT;
		}
		buf_reset(err);
		struct buf keys = BUF_INIT;
		buf_addstr(&keys, in->key);
		for (size_t i = 0; i < in->restore_keys.nr; i++)
			buf_addf(&keys, ", %s", in->restore_keys.v[i]);
		act_logf(c, LOG_INFO, "Cache not found for input keys: %s", keys.buf);
		buf_release(&keys);
		ev_object_set(*outs, "cache-hit", ev_cstr("false"));
		*exact_out = 0;
		return 0;
	}
	if (in->lookup_only)
		act_logf(c, LOG_INFO, "Cache found and can be restored from key: %s",
			 unscoped(hit.key));
	else
		act_logf(c, LOG_INFO, "Cache restored from key: %s (%llu bytes)", unscoped(hit.key),
			 (unsigned long long)hit.size);
	ev_object_set(*outs, "cache-hit", ev_cstr(exact ? "true" : "false"));
	ev_object_set(*outs, "cache-matched-key", ev_cstr(unscoped(hit.key)));
	*exact_out = exact;
	return 0;
}

/* remote save: 0 with e->size, CAS_EXISTS, KILN_ENOENT or -1 with err */
static int remote_save(const struct cache_remote *rm, struct cas *cas, const char *key,
		       const struct strvec *paths, const char *cwd, struct cas_entry *e,
		       struct buf *err)
{
	int r = cas_pack_flags(cas, paths, cwd, CAS_PACK_NOSYNC, e->blob, &e->size, NULL, err);
	if (r)
		return r;
	cas_version(paths, e->version);
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/blobs/%s.tzst", cas->dir, e->blob);
	char ebuf[256] = "";
	long st = rm->upload(rm->ctx, e->blob, path.buf, ebuf, sizeof(ebuf));
	buf_release(&path);
	if (st != 200) {
		buf_addf(err, "cannot upload the cache: %s", ebuf);
		return -1;
	}
	char *body = json_body(json_pack("{s:s,s:s,s:s}", "key", key, "version", e->version,
					 "digest", e->blob));
	struct buf resp = BUF_INIT;
	st = rm->call(rm->ctx, "POST", "cache-entries", body, &resp, NULL, ebuf, sizeof(ebuf));
	free(body);
	buf_release(&resp);
	if (st == 201)
		return 0;
	if (st == 409)
		return CAS_EXISTS;
	buf_addf(err, "cannot register the cache: %s", st < 0 ? ebuf : "HTTP error");
	if (st > 0)
		buf_addf(err, " (HTTP %ld)", st);
	return -1;
}

static void do_save(const char *key, const struct strvec *paths, const char *cwd,
		    const char *run_dir,
		    void (*logf)(void *arg, enum log_kind kind, const char *text), void *arg)
{
	struct cas cas = CAS_INIT;
	struct cas_entry e;
	struct buf err = BUF_INIT, msg = BUF_INIT;
	struct cache_remote rmb;
	const struct cache_remote *rm = remote_for(run_dir, &rmb);
	char *skey = rm ? xstrdup(key) : scoped(key);
	memset(&e, 0, sizeof(e));
	int r = open_store(&cas, &err) < 0 ? -1
		: rm ? remote_save(rm, &cas, skey, paths, cwd, &e, &err)
		     : cas_save(&cas, skey, paths, cwd, &e, &err);
	free(skey);
	if (!r)
		buf_addf(&msg, "Cache saved with key: %s (%llu bytes)", key,
			 (unsigned long long)e.size);
	else if (r == CAS_EXISTS)
		buf_addf(&msg, "Failed to save: Unable to reserve cache with key %s, another job "
			       "may be creating this cache.", key);
	else if (r == KILN_ENOENT)
		buf_addf(&msg, "Path Validation Error: Path(s) specified in the action for caching "
			       "do(es) not exist, hence no cache is being saved.");
	else
		buf_addf(&msg, "Failed to save: %s", err.buf);
	/* actions/cache only warns: a failed save never fails the job */
	logf(arg, r == 0 ? LOG_INFO : LOG_WARNING, msg.buf);
	cas_close(&cas);
	buf_release(&err);
	buf_release(&msg);
}

static void post_logf(void *arg, enum log_kind kind, const char *text)
{
	const struct builtin_post *p = arg;
	p->log(p, kind, text);
}

static void cache_post(void *data, const struct builtin_post *p)
{
	struct cache_post *cp = data;
	if (p->job_ok)
		do_save(cp->key, &cp->paths, cp->cwd, cp->run_dir, post_logf, (void *)p);
	else
		p->log(p, LOG_INFO, "Skipping the cache save: the job did not succeed");
	free(cp->key);
	free(cp->cwd);
	free(cp->run_dir);
	strvec_clear(&cp->paths);
	free(cp);
}

static int restore_common(struct builtin_call *c, struct buf *err, int with_post, const char *what)
{
	struct cache_in in = { NULL, STRVEC_INIT, STRVEC_INIT, 0, 0 };
	struct ev *outs = NULL;
	int exact = 0;
	int r = read_inputs(c, &in, 1, what, err);
	if (!r)
		r = do_restore(c, &in, &exact, &outs, err);
	if (!r && with_post) {
		if (exact) {
			act_logf(c, LOG_INFO, "Cache hit occurred on the primary key %s, not saving "
					      "cache at the end of the job.", in.key);
		} else {
			struct cache_post *cp = xcalloc(1, sizeof(*cp));
			cp->key = xstrdup(in.key);
			cp->cwd = xstrdup(c->workspace);
			cp->run_dir = xstrdup(c->run_dir);
			for (size_t i = 0; i < in.paths.nr; i++)
				strvec_push(&cp->paths, in.paths.v[i]);
			c->at_job_end(c, cache_post, cp);
		}
	}
	cache_in_release(&in);
	if (r < 0)
		return r;
	if (with_post) { /* actions/cache only has cache-hit */
		struct ev *o = ev_object();
		ev_object_set(o, "cache-hit", ev_ref(ev_object_get(outs, "cache-hit")));
		ev_unref(outs);
		outs = o;
	}
	c->complete(c, RESULT_SUCCESS, outs);
	return 0;
}

int act_cache_start(struct builtin_call *c, struct buf *err)
{
	return restore_common(c, err, 1, "actions/cache");
}

int act_cache_restore_start(struct builtin_call *c, struct buf *err)
{
	return restore_common(c, err, 0, "actions/cache/restore");
}

static void call_logf(void *arg, enum log_kind kind, const char *text)
{
	struct builtin_call *c = arg;
	c->log(c, kind, text);
}

int act_cache_save_start(struct builtin_call *c, struct buf *err)
{
	struct cache_in in = { NULL, STRVEC_INIT, STRVEC_INIT, 0, 0 };
	int r = read_inputs(c, &in, 0, "actions/cache/save", err);
	if (!r)
		do_save(in.key, &in.paths, c->workspace, c->run_dir, call_logf, c);
	cache_in_release(&in);
	if (r < 0)
		return r;
	c->complete(c, RESULT_SUCCESS, NULL);
	return 0;
}
