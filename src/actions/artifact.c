/*
 * actions/upload-artifact@v4 and actions/download-artifact@v4 between the
 * jobs of one run. An upload packs the matched files into a cas blob
 * (tar + zstd, src/cas) and records it as <run_dir>/artifacts/<name>
 * (created exclusively: a name is uploaded once per run unless
 * `overwrite`); a download unpacks blobs into the workspace.
 *
 * Upload inputs: name (default "artifact"), path (lines, globs,
 * !exclusions), if-no-files-found (warn|error|ignore), overwrite;
 * include-hidden-files (default false: files and directories whose name
 * starts with '.' are left out, as upload-artifact 4.4); retention-days
 * (1-90, default 90: how long the run history keeps it, below);
 * compression-level is accepted and ignored. Files are stored relative to
 * the search paths' least common ancestor, as the original.
 *
 * The run history keeps each upload: the blob is hard-linked as
 * <data>/artifacts/<digest>.tzst (the cache's pruning cannot take it) and
 * a LOG_ARTIFACT event tells the recorder (engine/record.c) its name,
 * size, file count, digest and retention; `kiln serve` lists and serves
 * it (GET /api/v1/runs/ID/artifacts) until it expires. Outputs: artifact-id, artifact-url,
 * artifact-digest (the blob's BLAKE2b-256, not GitHub's SHA-256 of a zip).
 * Download inputs: name, pattern, path, merge-multiple; github-token,
 * repository and run-id (other runs) are not supported. Output:
 * download-path.
 */
#include "base/kiln.h"
#include "actions/actions.h"
#include "base/fs.h"
#include "cas/cas.h"
#include "git/glob.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_store(struct cas *cas, struct buf *err)
{
	struct buf data = BUF_INIT;
	int r = kiln_data_dir(&data, err) < 0 || cas_open(cas, data.buf, err) < 0 ? -1 : 0;
	buf_release(&data);
	return r;
}

/* upload-artifact's name rules */
static int check_name(const char *name, struct buf *err)
{
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || strpbrk(name, "\":<>|*?\r\n\\/")) {
		buf_addf(err,
			 "The artifact name is not valid: %s. Contains the following character: "
			 "one of \" : < > | * ? \\r \\n \\ /",
			 name);
		return KILN_EINVAL;
	}
	return 0;
}

static int has_magic(const char *p)
{
	return strpbrk(p, "*?[{") != NULL;
}

/* the directory part before the first glob segment */
static void search_path(const char *abs, struct buf *out)
{
	buf_reset(out);
	const char *m = strpbrk(abs, "*?[{");
	if (!m) {
		buf_addstr(out, abs);
		return;
	}
	const char *slash = m;
	while (slash > abs && *slash != '/')
		slash--;
	buf_add(out, abs, slash > abs ? (size_t)(slash - abs) : 1);
}

/* longest common directory prefix of a and b into a */
static void lca(struct buf *a, const char *b)
{
	size_t i = 0, last = 0;
	while (i < a->len && a->buf[i] == b[i]) {
		if (a->buf[i] == '/')
			last = i;
		i++;
	}
	if (i == a->len && (b[i] == '/' || !b[i]))
		return; /* a is a prefix directory of b */
	buf_setlen(a, last ? last : 1);
}

/* the root files are stored under, and patterns relative to it */
static int plan_upload(struct builtin_call *c, const struct strvec *in, struct buf *root,
		       struct strvec *rel, struct buf *err)
{
	struct strvec abs = STRVEC_INIT;
	struct buf p = BUF_INIT, sp = BUF_INIT;
	size_t npos = 0;
	int r = 0;
	for (size_t i = 0; i < in->nr && !r; i++) {
		const char *s = in->v[i];
		int neg = *s == '!';
		const char *home = strvec_getenv(c->env, "HOME");
		if (s[neg] == '~' && (s[neg + 1] == '/' || !s[neg + 1]) && home) {
			buf_reset(&p);
			buf_addf(&p, "%s%s", home, s + neg + 1);
			buf_reset(&sp);
			r = act_path(c->workspace, p.buf, 0, &sp, err);
		} else {
			r = act_path(c->workspace, s + neg, 0, &sp, err);
		}
		if (r)
			break;
		strvec_pushf(&abs, "%s%s", neg ? "!" : "", sp.buf);
		if (neg)
			continue;
		search_path(sp.buf, &p);
		if (!npos++)
			buf_addstr(root, p.buf);
		else
			lca(root, p.buf);
	}
	if (!r && npos == 1) {
		/* one file: its directory */
		struct stat st;
		if (!has_magic(abs.v[0][0] == '!' ? "" : root->buf) && stat(root->buf, &st) == 0 &&
		    !S_ISDIR(st.st_mode)) {
			char *slash = strrchr(root->buf, '/');
			buf_setlen(root, slash && slash > root->buf ? (size_t)(slash - root->buf) : 1);
		}
	}
	for (size_t i = 0; !r && i < abs.nr; i++) {
		const char *a = abs.v[i];
		int neg = *a == '!';
		a += neg;
		const char *tail = a + root->len;
		if (root->len == 1)
			tail = a + 1;
		while (*tail == '/')
			tail++;
		strvec_pushf(rel, "%s%s", neg ? "!" : "", *tail ? tail : "**");
	}
	strvec_clear(&abs);
	buf_release(&p);
	buf_release(&sp);
	return r;
}

static int record_path(struct builtin_call *c, const char *name, struct buf *out, struct buf *err)
{
	buf_reset(out);
	buf_addf(out, "%s/artifacts", c->run_dir);
	int m = mkdir_p(out->buf, 0777);
	if (m < 0) {
		buf_addf(err, "cannot create '%s': %s", out->buf, strerror(-m));
		return KILN_EIO;
	}
	buf_addf(out, "/%s", name);
	return 0;
}

/* keep the blob for the run history: <data>/artifacts/<blob>.tzst, a hard
 * link (no copy; the cache may prune its own name); 0 or -1 with err */
static int keep_blob(const struct cas *cas, const char *blob, struct buf *err)
{
	struct buf dir = BUF_INIT, from = BUF_INIT, to = BUF_INIT;
	int r = 0;
	if (kiln_data_dir(&dir, err) < 0) {
		r = -1;
		goto out;
	}
	buf_addstr(&dir, "/artifacts");
	int m = mkdir_p(dir.buf, 0700);
	if (m < 0) {
		buf_addf(err, "cannot create '%s': %s", dir.buf, strerror(-m));
		r = -1;
		goto out;
	}
	buf_addf(&from, "%s/blobs/%s.tzst", cas->dir, blob);
	buf_addf(&to, "%s/%s.tzst", dir.buf, blob);
	if (link(from.buf, to.buf) < 0 && errno != EEXIST) {
		buf_addf(err, "cannot keep artifact blob '%s': %s", to.buf, strerror(errno));
		r = -1;
	}
out:
	buf_release(&dir);
	buf_release(&from);
	buf_release(&to);
	return r;
}

/* retention-days: 1 to 90, default 90 (GitHub's default and maximum) */
static int retention_days(struct builtin_call *c, int *days, struct buf *err)
{
	const char *s = act_input(c, "retention-days");
	*days = 90;
	if (!*s)
		return 0;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < 0 || v > 90) {
		buf_addf(err, "retention-days must be a number from 1 to 90, got '%s'", s);
		return KILN_EINVAL;
	}
	if (v > 0) /* 0: the repository's default */
		*days = (int)v;
	return 0;
}

/* count records (the next artifact id) */
static unsigned count_records(const char *dir)
{
	unsigned n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* publish the record: exclusive unless overwrite */
static int publish(const char *path, const char *text, int overwrite, const char *name,
		   struct buf *err)
{
	struct buf tmp = BUF_INIT;
	buf_addf(&tmp, "%s.tmp-%ld", path, (long)getpid());
	int r = write_file_atomic(tmp.buf, text, strlen(text), 0644);
	if (r < 0) {
		buf_addf(err, "cannot write '%s': %s", tmp.buf, strerror(-r));
		buf_release(&tmp);
		return KILN_EIO;
	}
	if (overwrite)
		r = rename(tmp.buf, path);
	else
		r = link(tmp.buf, path);
	int e = errno;
	unlink(tmp.buf);
	buf_release(&tmp);
	if (r < 0 && e == EEXIST) {
		buf_addf(err, "Failed to CreateArtifact: an artifact with the name '%s' already exists "
			      "on the workflow run (use 'overwrite: true' to replace it)", name);
		return KILN_EINVAL;
	}
	if (r < 0) {
		buf_addf(err, "cannot publish artifact '%s': %s", name, strerror(e));
		return KILN_EIO;
	}
	return 0;
}

int act_upload_artifact_start(struct builtin_call *c, struct buf *err)
{
	const char *name = *act_input(c, "name") ? act_input(c, "name") : "artifact";
	const char *nf = *act_input(c, "if-no-files-found") ? act_input(c, "if-no-files-found") : "warn";
	int overwrite;
	struct strvec paths = STRVEC_INIT, rel = STRVEC_INIT;
	struct buf root = BUF_INIT, rec = BUF_INIT, text = BUF_INIT;
	struct cas cas = CAS_INIT;
	int r = check_name(name, err);
	if (r)
		return r;
	if (strcmp(nf, "warn") && strcmp(nf, "error") && strcmp(nf, "ignore")) {
		buf_addf(err, "Unrecognized if-no-files-found input. Provided: %s. Available options: "
			      "warn, error, ignore", nf);
		return KILN_EINVAL;
	}
	if (act_input_bool(c, "overwrite", 0, &overwrite, err) < 0)
		return KILN_EINVAL;
	int days;
	if ((r = retention_days(c, &days, err)) < 0)
		return r;
	act_input_lines(c, "path", &paths);
	if (!paths.nr) {
		buf_addstr(err, "Input required and not supplied: path");
		r = KILN_EINVAL;
		goto out;
	}
	if ((r = plan_upload(c, &paths, &root, &rel, err)) < 0)
		goto out;
	int hidden;
	if ((r = act_input_bool(c, "include-hidden-files", 0, &hidden, err)) < 0)
		goto out;
	if (!hidden) {
		strvec_push(&rel, "!**/.*");
		strvec_push(&rel, "!**/.*/**");
	}
	char blob[65];
	uint64_t size = 0;
	size_t nfiles = 0;
	if (open_store(&cas, err) < 0) {
		r = KILN_EIO;
		goto out;
	}
	int pr = cas_pack(&cas, &rel, root.buf, blob, &size, &nfiles, err);
	if (pr == KILN_ENOENT) {
		struct buf msg = BUF_INIT;
		buf_addf(&msg, "No files were found with the provided path: %s. No artifacts will be "
			       "uploaded.", act_input(c, "path"));
		if (!strcmp(nf, "error")) {
			buf_add(err, msg.buf, msg.len);
			buf_release(&msg);
			r = KILN_ENOENT;
			goto out;
		}
		c->log(c, !strcmp(nf, "warn") ? LOG_WARNING : LOG_INFO, msg.buf);
		buf_release(&msg);
		c->complete(c, RESULT_SUCCESS, NULL);
		r = 0;
		goto out;
	}
	if (pr < 0) {
		r = KILN_EIO;
		goto out;
	}
	if ((r = record_path(c, name, &rec, err)) < 0)
		goto out;
	char *slash = strrchr(rec.buf, '/');
	*slash = '\0';
	unsigned id = count_records(rec.buf) + 1;
	*slash = '/';
	buf_addf(&text, "blob %s\nfiles %zu\nsize %llu\nid %u\n", blob, nfiles,
		 (unsigned long long)size, id);
	if ((r = publish(rec.buf, text.buf, overwrite, name, err)) < 0)
		goto out;
	struct buf kerr = BUF_INIT;
	if (keep_blob(&cas, blob, &kerr) < 0) {
		/* the jobs of this run still get it; only the history will not */
		c->log(c, LOG_WARNING, kerr.buf);
	} else {
		buf_reset(&kerr);
		buf_addf(&kerr, "%s\t%llu\t%zu\t%s\t%d", name, (unsigned long long)size, nfiles, blob,
			 days);
		c->log(c, LOG_ARTIFACT, kerr.buf);
	}
	buf_release(&kerr);
	act_logf(c, LOG_INFO, "Artifact %s has been successfully uploaded! Final size is %llu "
			      "bytes (%zu files, root %s)", name, (unsigned long long)size, nfiles,
		 root.buf);
	struct ev *o = ev_object();
	char num[32];
	snprintf(num, sizeof(num), "%u", id);
	ev_object_set(o, "artifact-id", ev_cstr(num));
	struct buf url = BUF_INIT;
	buf_addf(&url, "%s/%s/actions/runs/%s/artifacts/%u", act_github(c, "server_url"),
		 act_github(c, "repository"), act_github(c, "run_id"), id);
	ev_object_set(o, "artifact-url", ev_cstr(url.buf));
	buf_release(&url);
	ev_object_set(o, "artifact-digest", ev_cstr(blob));
	c->complete(c, RESULT_SUCCESS, o);
	r = 0;
out:
	cas_close(&cas);
	strvec_clear(&paths);
	strvec_clear(&rel);
	buf_release(&root);
	buf_release(&rec);
	buf_release(&text);
	return r;
}

/* the blob of a record, or -1 */
static int read_record(const char *path, char blob[65])
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[256];
	int r = -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "blob ", 5) && strlen(line) >= 5 + 64) {
			memcpy(blob, line + 5, 64);
			blob[64] = '\0';
			r = 0;
		}
	fclose(f);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* names of the run's artifacts, sorted */
static void list_artifacts(const char *dir, struct strvec *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && !strstr(e->d_name, ".tmp-"))
			strvec_push(out, e->d_name);
	if (d)
		closedir(d);
	if (out->nr)
		qsort(out->v, out->nr, sizeof(char *), cmp_str);
}

static int unpack_one(struct builtin_call *c, struct cas *cas, const char *dir, const char *name,
		      const char *dest, struct buf *err)
{
	struct buf rec = BUF_INIT;
	char blob[65];
	buf_addf(&rec, "%s/%s", dir, name);
	int r = 0;
	if (read_record(rec.buf, blob) < 0) {
		buf_addf(err, "Unable to download artifact(s): Artifact not found for name: %s", name);
		r = KILN_ENOENT;
	} else {
		int m = mkdir_p(dest, 0777);
		if (m < 0) {
			buf_addf(err, "cannot create '%s': %s", dest, strerror(-m));
			r = KILN_EIO;
		} else if (cas_unpack(cas, blob, dest, NULL, err) < 0) {
			r = KILN_EIO;
		} else {
			act_logf(c, LOG_INFO, "Artifact '%s' downloaded to %s", name, dest);
		}
	}
	buf_release(&rec);
	return r;
}

int act_download_artifact_start(struct builtin_call *c, struct buf *err)
{
	const char *name = act_input(c, "name");
	const char *pattern = act_input(c, "pattern");
	int merge;
	if (act_input_bool(c, "merge-multiple", 0, &merge, err) < 0)
		return KILN_EINVAL;
	if (*act_input(c, "run-id") || *act_input(c, "repository")) {
		buf_addstr(err, "actions/download-artifact: 'run-id' and 'repository' (artifacts of "
				"other runs) are not supported; kiln passes artifacts between the jobs "
				"of one run");
		return KILN_EINVAL;
	}
	struct buf dest = BUF_INIT, dir = BUF_INIT, sub = BUF_INIT;
	struct strvec names = STRVEC_INIT;
	struct cas cas = CAS_INIT;
	struct glob g = GLOB_INIT;
	const char *path = act_input(c, "path");
	const char *home = strvec_getenv(c->env, "HOME");
	int r;
	if (path[0] == '~' && (path[1] == '/' || !path[1]) && home) {
		buf_addf(&sub, "%s%s", home, path + 1);
		r = act_path(c->workspace, sub.buf, 0, &dest, err);
	} else {
		r = act_path(c->workspace, path, 0, &dest, err);
	}
	if (r < 0)
		goto out;
	buf_addf(&dir, "%s/artifacts", c->run_dir);
	if (open_store(&cas, err) < 0) {
		r = KILN_EIO;
		goto out;
	}
	if (*name) {
		if ((r = check_name(name, err)) < 0 ||
		    (r = unpack_one(c, &cas, dir.buf, name, dest.buf, err)) < 0)
			goto out;
	} else {
		if (*pattern && (r = glob_compile_syntax(&g, pattern, GLOB_PICOMATCH, err)) < 0)
			goto out;
		struct strvec all = STRVEC_INIT;
		list_artifacts(dir.buf, &all);
		for (size_t i = 0; i < all.nr; i++)
			if (!*pattern || glob_match(&g, all.v[i]) != g.negate)
				strvec_push(&names, all.v[i]);
		strvec_clear(&all);
		if (!names.nr)
			act_logf(c, LOG_INFO, "No artifacts found%s%s", *pattern ? " matching " : "",
				 pattern);
		for (size_t i = 0; i < names.nr && !r; i++) {
			buf_reset(&sub);
			if (merge)
				buf_add(&sub, dest.buf, dest.len);
			else
				buf_addf(&sub, "%s/%s", dest.buf, names.v[i]);
			r = unpack_one(c, &cas, dir.buf, names.v[i], sub.buf, err);
		}
		if (r < 0)
			goto out;
		act_logf(c, LOG_INFO, "Total of %zu artifact(s) downloaded", names.nr);
	}
	struct ev *o = ev_object();
	ev_object_set(o, "download-path", ev_cstr(dest.buf));
	c->complete(c, RESULT_SUCCESS, o);
	r = 0;
out:
	cas_close(&cas);
	glob_release(&g);
	strvec_clear(&names);
	buf_release(&dest);
	buf_release(&dir);
	buf_release(&sub);
	return r;
}
