/*
 * gitops: the config repository as the source of truth for what runs.
 * A bare mirror under <state>/gitops is fetched on an interval and on a
 * signed push webhook (on the libuv thread pool); the app files of the
 * branch's head are parsed on the loop; each app is compared with what
 * runs (Synced / OutOfSync) and judged (Healthy / Progressing / Degraded /
 * Missing); automated apps are synced lowest wave first, a failed sync is
 * not retried until the app's file changes, and an app removed from the
 * repository is pruned only when its last definition said so.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "deploy/ctl.h"
#include "deploy/dstore.h"
#include "deploy/gitbump.h"
#include "deploy/gitops.h"
#include "deploy/hookrecv.h"
#include "git/mirror.h"
#include "store/db.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

/* a file of the repository: text of one app */
struct gfile {
	char *name;  /* the app */
	char *rel;   /* path in the repository */
	char *text;
	size_t len;
	int prio;    /* gitops_app_of: env file 2, else 1 */
	int dup;     /* another file of the same priority names the same app */
};

/* what the config repository says about one app the controller runs */
struct gapp {
	char *rel;               /* its file in the repository */
	char *text;              /* the file at `commit` */
	size_t len;
	char hash[17];           /* of text: the identity of the desired state */
	char commit[41];         /* the config commit it was read at */
	char *error;             /* "file:line:col: error: ..." when it does not load */
	struct app *desired;     /* text, parsed (NULL on error) */
	int removed;             /* the file is gone from the repository */
	int pruned;              /* and its instances were stopped (automated.prune) */
	int back_on;             /* back after its frontend was removed: this commit's reload serves it */
	int hap_kept;            /* its frontend could not be removed (reload failed): not tried again */
	int prune, automated, self_heal, wave; /* from the last definition that loaded */
	char live_hash[17];      /* hash of the definition the stable release runs */
	struct dsync last;       /* the last sync */
	int has_last;
	int want;                /* a sync is due (started by the tick, waves permitting) */
	struct grollback *rb;    /* a `kiln rollback` committing to the repository, or NULL */
};

/* `kiln rollback` of a config repository app: a revert commit, pushed on the thread pool */
struct grollback {
	uv_work_t work;
	struct dapp *da;         /* NULL once the controller stops caring (shutdown) */
	struct client *waiter;   /* NULL when the client went away */
	struct gitbump b;
	char *own[6];
	char *revert;            /* the commit that set the running version */
	char *back_to;
	char sha[41];
	struct buf log, err;
	int r;
};

/* an app of the repository the controller does not run */
struct gextra {
	char *name, *rel, *why;
};

struct gitops {
	struct deployd *d;
	char *url, *branch, *path, *env, *author, *mirror;
	char *shown;             /* url without its credentials: every message, log and answer */
	int interval_ms;
	char *secret;
	size_t secret_len;
	uv_timer_t timer;
	uv_work_t work;
	int fetching, again, closing;
	int reload;              /* apply(): HAProxy must be reloaded (an app is back) */
	/* the worker's results (written by the worker, read after it) */
	char wsha[41];
	struct buf werr;
	struct gfile *wf;
	size_t nwf, awf;
	int wchanged;
	uint64_t wstart_ns;
	/* the loop's view */
	char commit[41];
	char *fetch_error;
	uint64_t fetch_ms;       /* duration of the last fetch */
	long fetches;
	struct gextra *extra;
	size_t nextra, aextra;
	struct hookrecv *hook;
};

const char *sync_status_name(enum sync_status s)
{
	switch (s) {
	case SYNC_SYNCED: return "Synced";
	case SYNC_OUT_OF_SYNC: return "OutOfSync";
	case SYNC_UNKNOWN: return "Unknown";
	}
	return "?";
}

const char *health_status_name(enum health_status h)
{
	switch (h) {
	case HEALTH_HEALTHY: return "Healthy";
	case HEALTH_PROGRESSING: return "Progressing";
	case HEALTH_DEGRADED: return "Degraded";
	case HEALTH_MISSING: return "Missing";
	}
	return "?";
}

int gitops_app_of(const char *rel, const char *env, char **out)
{
	const char *slash = strchr(rel, '/');
	const char *file = slash ? slash + 1 : rel;
	size_t stem = strlen(file) - (str_ends_with(file, ".yaml") ? 5 : str_ends_with(file, ".yml") ? 4 : 0);
	if (stem == strlen(file) || strchr(file, '/'))
		return 0;
	char *name;
	int prio;
	if (!slash) {
		name = xstrndup(file, stem);
		prio = 1;
	} else {
		char *base = xstrndup(file, stem);
		prio = !strcmp(base, "values") ? 1 : env && !strcmp(base, env) ? 2 : 0;
		free(base);
		if (!prio)
			return 0;
		name = xstrndup(rel, (size_t)(slash - rel));
	}
	if (!deploy_name_ok(name)) {
		free(name);
		return 0;
	}
	*out = name;
	return prio;
}

static char *memdupz(const char *p, size_t n)
{
	char *s = xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void hash_text(const char *text, size_t len, char out[17])
{
	unsigned char h[8];
	crypto_generichash(h, sizeof(h), (const unsigned char *)text, len, NULL, 0);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void gfiles_free(struct gfile *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].rel);
		free(f[i].text);
	}
	free(f);
}

/* ---- the fetch, on the thread pool ---- */

static void on_file(const char *rel, const char *data, size_t len, void *arg)
{
	struct gitops *g = arg;
	char *name = NULL;
	int prio = gitops_app_of(rel, g->env, &name);
	if (!prio)
		return;
	for (size_t i = 0; i < g->nwf; i++) {
		struct gfile *f = &g->wf[i];
		if (strcmp(f->name, name))
			continue;
		if (f->prio > prio) {
			free(name);
			return;
		}
		if (f->prio == prio) {
			f->dup = 1;
			free(name);
			return;
		}
		/* a better file for the same app replaces it */
		free(f->rel);
		free(f->text);
		free(name);
		f->rel = *g->path ? xstrfmt("%s/%s", g->path, rel) : xstrdup(rel);
		f->text = memdupz(data, len);
		f->len = len;
		f->prio = prio;
		return;
	}
	ALLOC_GROW(g->wf, g->nwf + 1, g->awf);
	struct gfile *f = &g->wf[g->nwf++];
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->rel = *g->path ? xstrfmt("%s/%s", g->path, rel) : xstrdup(rel);
	f->text = memdupz(data, len);
	f->len = len;
	f->prio = prio;
}

/* fetch, resolve the branch, read the files when the commit moved */
static void fetch_read(struct gitops *g)
{
	struct stat st;
	buf_reset(&g->werr);
	g->wchanged = 0;
	g->wstart_ns = now_ns();
	if (stat(g->mirror, &st) < 0 && mirror_create(g->mirror, g->url, &g->werr) < 0)
		return;
	if (mirror_fetch(g->mirror, g->url, &g->werr) < 0)
		return;
	struct buf ref = BUF_INIT;
	char *name = xstrfmt("refs/heads/%s", g->branch);
	int r = mirror_resolve(g->mirror, name, g->wsha, &ref);
	free(name);
	buf_release(&ref);
	if (r < 0) {
		buf_addf(&g->werr, "branch '%s' not found in %s", g->branch, g->shown);
		return;
	}
	if (!strcmp(g->wsha, g->commit))
		return;
	g->wchanged = 1;
	if (mirror_files(g->mirror, g->wsha, g->path, FS_INPUT_MAX, on_file, g) < 0)
		buf_addf(&g->werr, "no directory '%s' in %s at %.8s", g->path, g->shown, g->wsha);
}

static void work_cb(uv_work_t *w)
{
	fetch_read(w->data);
}

static void after_work(uv_work_t *w, int status);

static void fetch_start(struct gitops *g)
{
	if (g->closing)
		return;
	if (g->fetching) {
		g->again = 1;
		return;
	}
	g->fetching = 1;
	g->work.data = g;
	uv_queue_work(g->d->loop, &g->work, work_cb, after_work);
}

void deploy__gitops_refresh(struct deployd *d, const char *why)
{
	if (!d->git)
		return;
	deploy__log(NULL, "gitops: fetching %s (%s)", d->git->shown, why);
	fetch_start(d->git);
}

static void on_timer(uv_timer_t *t)
{
	fetch_start(t->data);
}

/* ---- applying what was read ---- */

static void gapp_free(struct gapp *ga)
{
	if (!ga)
		return;
	free(ga->rel);
	free(ga->text);
	free(ga->error);
	app_free(ga->desired);
	free(ga);
}

static struct app *parse(struct gitops *g, const char *name, const char *rel, const char *text, size_t len,
			 struct buf *err)
{
	struct diags dg = DIAGS_INIT;
	char *root = realpath(g->d->state_dir, NULL);
	struct app *a = app_load_gitops(rel, text, len, name, root ? root : g->d->state_dir, &dg);
	free(root);
	if (!a) {
		diags_sort(&dg);
		for (size_t i = 0; i < dg.nr; i++)
			buf_addf(err, "%s%s:%d:%d: %s: %s", i ? "\n" : "", dg.v[i].file, dg.v[i].line, dg.v[i].col,
				 diag_level_name(dg.v[i].level), dg.v[i].msg);
		if (!dg.nr)
			buf_addf(err, "%s: error: cannot load the app", rel);
	}
	diags_release(&dg);
	return a;
}

/* an app of the repository the controller now runs, owning `a` */
static struct dapp *gapp_new(struct gitops *g, const struct gfile *f, struct app *a)
{
	struct dapp *da = deploy__dapp_add(g->d, a);
	struct gapp *ga = xcalloc(1, sizeof(*ga));
	struct buf err = BUF_INIT;
	da->g = ga;
	ga->rel = xstrdup(f->rel);
	ga->text = memdupz(f->text, f->len);
	ga->len = f->len;
	hash_text(f->text, f->len, ga->hash);
	snprintf(ga->commit, sizeof(ga->commit), "%s", g->commit);
	ga->desired = parse(g, f->name, f->rel, f->text, f->len, &err);
	ga->automated = a->git.automated;
	ga->prune = a->git.prune;
	ga->self_heal = a->git.self_heal;
	ga->wave = a->git.wave;
	buf_release(&err);
	return da;
}

/* the file of app `name` changed (or appeared): reload the desired state */
static void gapp_update(struct gitops *g, struct dapp *da, const struct gfile *f)
{
	struct gapp *ga = da->g;
	char h[17];
	hash_text(f->text, f->len, h);
	snprintf(ga->commit, sizeof(ga->commit), "%s", g->commit);
	if (!ga->removed && ga->text && !strcmp(h, ga->hash) && !f->dup && !da->hap_off)
		return;
	int was_removed = ga->removed;
	ga->removed = ga->pruned = ga->hap_kept = 0;
	if (da->hap_off) {
		da->hap_off = 0; /* served again: apply() reloads HAProxy */
		ga->back_on = 1;
		g->reload = 1;
	}
	free(ga->rel);
	ga->rel = xstrdup(f->rel);
	free(ga->text);
	ga->text = memdupz(f->text, f->len);
	ga->len = f->len;
	memcpy(ga->hash, h, sizeof(h));
	free(ga->error);
	ga->error = NULL;
	app_free(ga->desired);
	ga->desired = NULL;
	struct buf err = BUF_INIT;
	if (f->dup)
		buf_addf(&err, "%s: error: app '%s' is declared by more than one file", f->rel, da->app->name);
	else
		ga->desired = parse(g, da->app->name, f->rel, f->text, f->len, &err);
	if (!ga->desired) {
		ga->error = buf_detach(&err, NULL);
		deploy__log(da, "gitops: %s does not load at %.8s; nothing changes:\n%s", f->rel, g->commit, ga->error);
	} else {
		ga->automated = ga->desired->git.automated;
		ga->prune = ga->desired->git.prune;
		ga->self_heal = ga->desired->git.self_heal;
		ga->wave = ga->desired->git.wave;
		deploy__log(da, "gitops: %s%s at %.8s wants %s", f->rel, was_removed ? " is back" : "", g->commit,
			    ga->desired->git.version);
	}
	buf_release(&err);
}

static int needs_sync(const struct dapp *da)
{
	const struct gapp *ga = da->g;
	return ga->desired && !ga->removed &&
	       (!da->stable_version || strcmp(da->stable_version, ga->desired->git.version) ||
		strcmp(ga->live_hash, ga->hash));
}

static void prune(struct dapp *da)
{
	struct gapp *ga = da->g;
	struct buf msg = BUF_INIT;
	if (da->ro)
		deploy__abort(da, "pruned: the app was removed from the config repository", &msg);
	for (int i = 0; i < da->nslots; i++) {
		struct slot *s = &da->slots[i];
		if (s->role == ROLE_ACTIVE || s->role == ROLE_STANDBY)
			deploy__slot_retire(s, 0);
		else if (s->role == ROLE_DRAIN)
			s->retire_ns = 0, s->stop_after_drain = 1;
	}
	deploy__sync(da);
	da->stable_id = 0;
	free(da->stable_version);
	da->stable_version = NULL;
	dstore_app_set(da->d->db, da->app->name, 0, NULL, da->maintenance);
	ga->pruned = 1;
	memset(&ga->last, 0, sizeof(ga->last));
	snprintf(ga->last.hash, sizeof(ga->last.hash), "%s", ga->hash);
	snprintf(ga->last.commit, sizeof(ga->last.commit), "%s", ga->commit);
	snprintf(ga->last.outcome, sizeof(ga->last.outcome), "pruned");
	snprintf(ga->last.reason, sizeof(ga->last.reason), "removed from the config repository at %.8s",
		 ga->commit);
	ga->has_last = 1;
	dstore_sync_save(da->d->db, da->app->name, &ga->last);
	dstore_audit(da->d->db, da->app->name, 0, "pruned", "%s", ga->last.reason);
	deploy__log(da, "gitops: pruned (%s): draining and stopping its instances", ga->last.reason);
	buf_release(&msg);
}

/* after a fetch: what is due. Git changed: automated apps sync; drift:
 * selfHeal apps sync; a sync that failed at this very file is not retried */
static void evaluate(struct gitops *g)
{
	for (size_t i = 0; i < g->d->napps; i++) {
		struct dapp *da = g->d->apps[i];
		struct gapp *ga = da->g;
		if (!ga)
			continue;
		if (ga->removed) {
			if (ga->prune && !ga->pruned)
				prune(da);
			continue;
		}
		if (!ga->automated || !needs_sync(da) || da->ro)
			continue;
		/* a pruned app back with the same file is synced again */
		int tried = ga->has_last && !strcmp(ga->last.hash, ga->hash) && strcmp(ga->last.outcome, "pruned");
		if (!tried)
			ga->want = 1; /* git changed (or never synced) */
		else if (!strcmp(ga->last.outcome, "succeeded") && ga->self_heal)
			ga->want = 1; /* live drifted from git */
	}
}

static void extra_clear(struct gitops *g)
{
	for (size_t i = 0; i < g->nextra; i++) {
		free(g->extra[i].name);
		free(g->extra[i].rel);
		free(g->extra[i].why);
	}
	g->nextra = 0;
}

static void extra_add(struct gitops *g, const char *name, const char *rel, char *why)
{
	ALLOC_GROW(g->extra, g->nextra + 1, g->aextra);
	g->extra[g->nextra].name = xstrdup(name);
	g->extra[g->nextra].rel = xstrdup(rel);
	g->extra[g->nextra].why = why;
	g->nextra++;
}

static void restore(struct dapp *da);

/* the files of a new commit: update every app, note removed and new ones */
static void apply(struct gitops *g)
{
	struct deployd *d = g->d;
	snprintf(g->commit, sizeof(g->commit), "%s", g->wsha);
	extra_clear(g);
	g->reload = 0;
	for (size_t i = 0; i < d->napps; i++) {
		struct dapp *da = d->apps[i];
		if (!da->g)
			continue;
		const struct gfile *f = NULL;
		for (size_t k = 0; k < g->nwf && !f; k++)
			if (!strcmp(g->wf[k].name, da->app->name))
				f = &g->wf[k];
		if (f)
			gapp_update(g, da, f);
		else if (!da->g->removed) {
			da->g->removed = 1;
			snprintf(da->g->commit, sizeof(da->g->commit), "%s", g->commit);
			deploy__log(da, "gitops: removed from the config repository at %.8s%s", g->commit,
				    da->g->prune ? "; pruning" : "; still running (automated.prune is off)");
		}
	}
	/* new apps: HAProxy is reloaded with their frontends (a seamless
	 * reload: only when the set of apps changes) */
	size_t first_new = d->napps;
	for (size_t k = 0; k < g->nwf; k++) {
		const struct gfile *f = &g->wf[k];
		if (deploy__app(d, f->name))
			continue;
		struct buf err = BUF_INIT;
		struct app *a = f->dup ? NULL : parse(g, f->name, f->rel, f->text, f->len, &err);
		if (f->dup)
			buf_addf(&err, "%s: error: app '%s' is declared by more than one file", f->rel, f->name);
		if (!a) {
			extra_add(g, f->name, f->rel, buf_detach(&err, NULL));
			continue;
		}
		buf_release(&err);
		gapp_new(g, f, a);
		deploy__log(NULL, "gitops: new app %s in %s at %.8s", f->name, f->rel, g->commit);
	}
	if (first_new == d->napps && !g->reload)
		return;
	struct buf err = BUF_INIT;
	if (deploy__hap_reload(d, &err) < 0) {
		/* the new apps are not served: dropped, shown with the reason;
		 * an app back after a prune stays out, its file not applied */
		deploy__log(NULL, "gitops: cannot serve the new app(s): %s", err.buf);
		for (size_t i = 0; i < first_new; i++) {
			struct dapp *da = d->apps[i];
			if (!da->g || !da->g->back_on)
				continue;
			da->hap_off = 1;
			app_free(da->g->desired);
			da->g->desired = NULL;
			free(da->g->error);
			da->g->error = xstrfmt("%s: error: HAProxy could not be reloaded with it: %s", da->g->rel, err.buf);
			da->g->back_on = 0;
		}
		while (d->napps > first_new) {
			struct dapp *da = d->apps[--d->napps];
			extra_add(g, da->app->name, da->g->rel,
				  xstrfmt("%s: error: HAProxy could not be reloaded with it: %s", da->g->rel, err.buf));
			gapp_free(da->g);
			deploy__dapp_free(da);
		}
		buf_release(&err);
		return;
	}
	buf_release(&err);
	for (size_t i = 0; i < first_new; i++)
		if (d->apps[i]->g)
			d->apps[i]->g->back_on = 0;
	for (size_t i = first_new; i < d->napps; i++) {
		deploy__adopt(d->apps[i]);
		restore(d->apps[i]);
	}
}

static void after_work(uv_work_t *w, int status)
{
	struct gitops *g = w->data;
	g->fetching = 0;
	g->fetches++;
	g->fetch_ms = (now_ns() - g->wstart_ns) / 1000000u;
	if (status == 0 && !g->closing) {
		if (g->werr.len) {
			if (!g->fetch_error || strcmp(g->fetch_error, g->werr.buf))
				deploy__log(NULL, "gitops: %s", g->werr.buf);
			free(g->fetch_error);
			g->fetch_error = xstrdup(g->werr.buf);
		} else {
			free(g->fetch_error);
			g->fetch_error = NULL;
			if (g->wchanged) {
				deploy__log(NULL, "gitops: %s %s is at %.8s", g->shown, g->branch, g->wsha);
				apply(g);
			}
			evaluate(g);
		}
	}
	gfiles_free(g->wf, g->nwf);
	g->wf = NULL;
	g->nwf = g->awf = 0;
	if (g->again) {
		g->again = 0;
		fetch_start(g);
	}
}

/* ---- the controller's life ---- */

static int load_secret(struct gitops *g, const char *file, struct buf *err)
{
	struct buf b = BUF_INIT, why = BUF_INIT;
	if (fs_read_input(file, 4096, &b, &why) < 0) {
		buf_addf(err, "cannot read the webhook secret '%s': %s", file, why.buf);
		buf_release(&b);
		buf_release(&why);
		return -1;
	}
	buf_release(&why);
	while (b.len && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == '\r'))
		buf_setlen(&b, b.len - 1);
	if (b.len < 8) {
		buf_addf(err, "the webhook secret in '%s' is too short (8 bytes at least)", file);
		buf_release(&b);
		return -1;
	}
	g->secret_len = b.len;
	g->secret = buf_detach(&b, NULL);
	return 0;
}

/* "config repository: " before a message already in err */
static void url_error(struct buf *err)
{
	char *m = buf_detach(err, NULL);
	buf_addf(err, "config repository: %s", m);
	free(m);
}

/* the file of one app at an older commit (last_good) */
struct old_file {
	const struct gitops *g;
	const char *rel;  /* as gfile.rel: with the path */
	struct buf text;
	int found;
};

static void on_old_file(const char *rel, const char *data, size_t len, void *arg)
{
	struct old_file *o = arg;
	size_t n = strlen(o->g->path);
	const char *full = o->rel;
	if (n && (strncmp(full, o->g->path, n) || full[n] != '/'))
		return;
	if (!strcmp(n ? full + n + 1 : full, rel)) {
		buf_add(&o->text, data, len);
		o->found = 1;
	}
}

/*
 * At start, a file that does not load: the definition its running release
 * was deployed from (that release's config commit in the store, the file
 * at that commit in the mirror, the same content hash), so the app is
 * still served and its instances adopted — "a file that does not load
 * changes nothing" holds across a controller restart too. NULL when there
 * is none; else the app, and the old file in *old (text owned).
 */
static struct app *last_good(struct gitops *g, const struct gfile *f, struct gfile *old)
{
	char *path = xstrfmt("%s/kiln.db", g->d->state_dir);
	struct db *db = NULL;
	struct buf ver = BUF_INIT, commit = BUF_INIT, hash = BUF_INIT, err = BUF_INIT;
	struct old_file o = { g, f->rel, BUF_INIT, 0 };
	struct app *a = NULL;
	long stable = 0;
	int maint = 0;
	char h[17];
	if (access(path, F_OK) || db_open_readonly(path, &db) ||
	    dstore_app_get(db, f->name, &stable, &ver, &maint) || stable <= 0 ||
	    dstore_release_config(db, stable, &commit, &hash) || !commit.len ||
	    mirror_files(g->mirror, commit.buf, g->path, FS_INPUT_MAX, on_old_file, &o) || !o.found)
		goto out;
	hash_text(o.text.buf, o.text.len, h);
	if (strcmp(h, hash.buf))
		goto out;
	a = parse(g, f->name, f->rel, o.text.buf, o.text.len, &err);
	if (a) {
		*old = *f;
		old->len = o.text.len;
		old->text = buf_detach(&o.text, NULL);
	}
out:
	db_close(db);
	free(path);
	buf_release(&o.text);
	buf_release(&ver);
	buf_release(&commit);
	buf_release(&hash);
	buf_release(&err);
	return a;
}

int deploy__gitops_init(struct deployd *d, const struct gitops_opts *o)
{
	struct gitops *g = xcalloc(1, sizeof(*g));
	d->git = g;
	g->d = d;
	g->url = xstrdup(o->url);
	g->shown = url_redact(o->url);
	g->branch = xstrdup(o->branch && *o->branch ? o->branch : "main");
	/* "apps/" and "/apps" name the same directory as "apps" */
	const char *p = o->path ? o->path : "";
	while (*p == '/')
		p++;
	g->path = xstrdup(p);
	while (*g->path && g->path[strlen(g->path) - 1] == '/')
		g->path[strlen(g->path) - 1] = '\0';
	g->env = o->env ? xstrdup(o->env) : NULL;
	g->author = xstrdup(o->author ? o->author : "kiln <kiln@localhost>");
	g->interval_ms = o->interval_ms > 0 ? o->interval_ms : 180000;
	g->mirror = xstrfmt("%s/gitops/config.git", d->state_dir);
	struct buf err = BUF_INIT;
	char *dir = xstrfmt("%s/gitops", d->state_dir);
	mkdir(dir, 0700);
	free(dir);
	if ((mirror_url_ok(g->url, &err) < 0 && (url_error(&err), 1)) || (o->webhook && !o->secret_file &&
						 (buf_addstr(&err, "--webhook needs --webhook-secret-file: "
								   "pushes are accepted only when signed"), 1)) ||
	    (o->secret_file && load_secret(g, o->secret_file, &err) < 0)) {
		fprintf(stderr, "kiln: error: %s\n", err.buf);
		buf_release(&err);
		return EXIT_USAGE;
	}
	/* the first fetch decides which apps HAProxy serves */
	fetch_read(g);
	g->fetches = 1;
	g->fetch_ms = (now_ns() - g->wstart_ns) / 1000000u;
	if (g->werr.len) {
		/* a mirror fetched before still says what to run */
		struct buf ref = BUF_INIT;
		char *name = xstrfmt("refs/heads/%s", g->branch);
		int ok = mirror_resolve(g->mirror, name, g->wsha, &ref) == 0;
		free(name);
		buf_release(&ref);
		if (!ok) {
			fprintf(stderr, "kiln: error: config repository: %s\n", g->werr.buf);
			buf_release(&err);
			return EXIT_USAGE;
		}
		fprintf(stderr, "kiln: warning: config repository: %s; using the last fetched commit %.8s\n",
			g->werr.buf, g->wsha);
		g->fetch_error = xstrdup(g->werr.buf);
		buf_reset(&g->werr);
		mirror_files(g->mirror, g->wsha, g->path, FS_INPUT_MAX, on_file, g);
	}
	snprintf(g->commit, sizeof(g->commit), "%s", g->wsha);
	for (size_t k = 0; k < g->nwf; k++) {
		const struct gfile *f = &g->wf[k];
		buf_reset(&err);
		struct app *a = f->dup ? NULL : parse(g, f->name, f->rel, f->text, f->len, &err);
		if (f->dup)
			buf_addf(&err, "%s: error: app '%s' is declared by more than one file", f->rel, f->name);
		struct gfile prev;
		if (!a && !f->dup && (a = last_good(g, f, &prev))) {
			/* runs from an older file: keep it, OutOfSync with the error */
			gapp_update(g, gapp_new(g, &prev, a), f);
			free(prev.text);
			continue;
		}
		if (!a) {
			/* never valid: nothing to run; shown in kiln status until fixed */
			fprintf(stderr, "%s\n", err.buf);
			extra_add(g, f->name, f->rel, xstrdup(err.buf));
			continue;
		}
		gapp_new(g, f, a);
	}
	gfiles_free(g->wf, g->nwf);
	g->wf = NULL;
	g->nwf = g->awf = 0;
	buf_release(&err);
	if (!d->napps && !g->nextra) {
		fprintf(stderr, "kiln: error: no app files in %s at %.8s (path '%s')\n", g->shown, g->commit, g->path);
		return EXIT_USAGE;
	}
	deploy__log(NULL, "gitops: %s %s at %.8s: %zu app(s)", g->shown, g->branch, g->commit, d->napps);
	return 0;
}

/* what the store knows: the running release's definition and the last sync */
static void restore(struct dapp *da)
{
	struct gapp *ga = da->g;
	struct buf c = BUF_INIT, h = BUF_INIT;
	if (da->stable_id && !dstore_release_config(da->d->db, da->stable_id, &c, &h))
		snprintf(ga->live_hash, sizeof(ga->live_hash), "%s", h.buf);
	buf_release(&c);
	buf_release(&h);
	ga->has_last = dstore_sync_get(da->d->db, da->app->name, &ga->last) == 0;
	if (ga->has_last && !strcmp(ga->last.outcome, "running")) {
		/* the controller died during that sync (deploy__abort_stale aborted it) */
		snprintf(ga->last.outcome, sizeof(ga->last.outcome), "failed");
		snprintf(ga->last.reason, sizeof(ga->last.reason), "controller restarted during the sync");
		dstore_sync_save(da->d->db, da->app->name, &ga->last);
	}
}

static void on_push(void *arg, const char *ref)
{
	struct gitops *g = arg;
	char *want = xstrfmt("refs/heads/%s", g->branch);
	if (!ref || !strcmp(ref, want))
		deploy__gitops_refresh(g->d, ref ? "push webhook" : "webhook");
	free(want);
}

int deploy__gitops_start(struct deployd *d, struct buf *err)
{
	struct gitops *g = d->git;
	if (!g)
		return 0;
	for (size_t i = 0; i < d->napps; i++)
		if (d->apps[i]->g)
			restore(d->apps[i]);
	evaluate(g);
	uv_timer_init(d->loop, &g->timer);
	g->timer.data = g;
	uv_timer_start(&g->timer, on_timer, (uint64_t)g->interval_ms, (uint64_t)g->interval_ms);
	return 0;
	(void)err;
}

int deploy__gitops_webhook(struct deployd *d, const char *addr, struct buf *err)
{
	struct gitops *g = d->git;
	return hookrecv_start(d->loop, addr, g->secret, g->secret_len, on_push, g, &g->hook, err);
}

/* the health of a config repository app, Argo CD's way */
/* stable instances taking traffic and healthy */
static int ready_instances(const struct dapp *da)
{
	int ready = 0;
	for (int i = 0; i < da->nslots; i++) {
		const struct slot *s = &da->slots[i];
		ready += s->release_id == da->stable_id && s->role == ROLE_ACTIVE && s->alive && s->healthy;
	}
	return ready;
}

static enum health_status health_of(const struct dapp *da)
{
	const struct gapp *ga = da->g;
	if (da->ro)
		return HEALTH_PROGRESSING;
	if (ga->pruned || !da->stable_id)
		return ga->has_last && !strcmp(ga->last.outcome, "failed") && !strcmp(ga->last.hash, ga->hash)
			       ? HEALTH_DEGRADED : HEALTH_MISSING;
	if (ga->has_last && !strcmp(ga->last.outcome, "failed") && !strcmp(ga->last.hash, ga->hash))
		return HEALTH_DEGRADED;
	return ready_instances(da) >= da->app->instances ? HEALTH_HEALTHY : HEALTH_DEGRADED;
}

/* why the app has that health (Argo CD's health message); "" when Healthy */
static void health_reason(const struct dapp *da, enum health_status h, struct buf *out)
{
	const struct gapp *ga = da->g;
	int failed = ga->has_last && !strcmp(ga->last.outcome, "failed") && !strcmp(ga->last.hash, ga->hash);
	if (h == HEALTH_PROGRESSING)
		buf_addstr(out, "a rollout is running");
	else if (h == HEALTH_DEGRADED && failed)
		buf_addf(out, "the sync of %.8s failed: %s", ga->last.commit, ga->last.reason);
	else if (h == HEALTH_DEGRADED)
		buf_addf(out, "%d of %d instance(s) healthy", ready_instances(da), da->app->instances);
	else if (h == HEALTH_MISSING)
		buf_addstr(out, ga->pruned ? "pruned: nothing runs" : "never synced: nothing runs");
}

static enum sync_status sync_of(const struct dapp *da)
{
	const struct gapp *ga = da->g;
	if (ga->removed)
		return ga->pruned ? SYNC_SYNCED : SYNC_OUT_OF_SYNC;
	if (!ga->desired)
		return SYNC_OUT_OF_SYNC;
	return needs_sync(da) ? SYNC_OUT_OF_SYNC : SYNC_SYNCED;
}

static int start_sync(struct dapp *da, const char *user, struct client *waiter, struct buf *msg)
{
	struct gapp *ga = da->g;
	struct gitops *g = da->d->git;
	struct deploy_req rq = { ga->desired->git.version, STRAT_NONE, user, 0, 1, ga->commit };
	int code = deploy__rollout_start(da, &rq, waiter, msg);
	memset(&ga->last, 0, sizeof(ga->last));
	snprintf(ga->last.hash, sizeof(ga->last.hash), "%s", ga->hash);
	snprintf(ga->last.commit, sizeof(ga->last.commit), "%s", ga->commit);
	snprintf(ga->last.outcome, sizeof(ga->last.outcome), "%s", code ? "failed" : "running");
	snprintf(ga->last.reason, sizeof(ga->last.reason), "%s", code ? msg->buf : "");
	ga->has_last = 1;
	dstore_sync_save(da->d->db, da->app->name, &ga->last);
	if (code)
		deploy__log(da, "gitops: sync to %s at %.8s cannot start: %s", ga->desired->git.version, ga->commit,
			    msg->buf);
	(void)g;
	return code;
}

/* a pruned app whose instances are all gone: its frontend leaves HAProxy
 * (a seamless reload; its port is free again) */
static void unserve_pruned(struct deployd *d)
{
	struct dapp **off = NULL;
	size_t n = 0;
	for (size_t i = 0; i < d->napps; i++) {
		struct dapp *da = d->apps[i];
		if (!da->g || !da->g->pruned || da->hap_off || da->g->hap_kept || da->ro || da->probes)
			continue;
		int busy = 0;
		for (int k = 0; k < da->nslots && !busy; k++)
			busy = da->slots[k].role != ROLE_FREE || da->slots[k].alive;
		if (busy)
			continue;
		if (!off)
			off = xcalloc(d->napps, sizeof(*off));
		off[n++] = da;
		da->hap_off = 1;
	}
	if (!n)
		return;
	struct buf err = BUF_INIT;
	int r = deploy__hap_reload(d, &err);
	for (size_t i = 0; i < n; i++) {
		struct dapp *da = off[i];
		if (r < 0) {
			/* the old HAProxy keeps serving (the frontend answers 503):
			 * not tried again until the app comes back */
			da->hap_off = 0;
			da->g->hap_kept = 1;
			deploy__log(da, "gitops: pruned, but its frontend stays: %s", err.buf);
		} else {
			deploy__log(da, "gitops: pruned: its frontend %s:%d is removed from HAProxy", da->app->listen_addr,
				    da->app->listen_port);
		}
	}
	free(off);
	buf_release(&err);
}

void deploy__gitops_tick(struct deployd *d)
{
	struct gitops *g = d->git;
	if (!g || d->stopping)
		return;
	unserve_pruned(d);
	/* the lowest wave with work left (a sync due or running, an app not
	 * healthy yet) gates every higher one (Argo CD's sync waves) */
	int gate = INT_MAX, any = 0;
	for (size_t i = 0; i < d->napps; i++) {
		struct dapp *da = d->apps[i];
		struct gapp *ga = da->g;
		if (!ga || !ga->automated || ga->removed)
			continue;
		any |= ga->want;
		int busy = ga->want || da->ro || !ga->desired || health_of(da) != HEALTH_HEALTHY;
		if (busy && ga->wave < gate)
			gate = ga->wave;
	}
	if (!any)
		return;
	for (size_t i = 0; i < d->napps; i++) {
		struct dapp *da = d->apps[i];
		struct gapp *ga = da->g;
		if (!ga || !ga->want || da->ro || ga->wave != gate)
			continue;
		ga->want = 0;
		if (!needs_sync(da))
			continue;
		struct buf msg = BUF_INIT;
		deploy__log(da, "gitops: syncing %s (wave %d) to %s at %.8s", ga->rel, ga->wave,
			    ga->desired->git.version, ga->commit);
		start_sync(da, "gitops", NULL, &msg);
		buf_release(&msg);
	}
}

int deploy__gitops_sync(struct dapp *da, const char *user, struct client *waiter, struct buf *msg)
{
	struct gapp *ga = da->g;
	if (!ga) {
		buf_addf(msg, "%s is not from a config repository ('kiln deploy' it)", da->app->name);
		return EXIT_USAGE;
	}
	if (ga->removed) {
		if (ga->pruned) {
			buf_addf(msg, "%s was pruned", da->app->name);
			return 0;
		}
		prune(da);
		buf_addf(msg, "%s: pruned (removed from the config repository)", da->app->name);
		return 0;
	}
	if (!ga->desired) {
		buf_addstr(msg, ga->error);
		return EXIT_USAGE;
	}
	if (!needs_sync(da) && !da->ro) {
		buf_addf(msg, "%s is Synced with %.8s (%s)", da->app->name, ga->commit, ga->desired->git.version);
		return 0;
	}
	ga->want = 0;
	return start_sync(da, user, waiter, msg);
}

struct app *deploy__gitops_app(struct dapp *da, struct diags *dg)
{
	struct gapp *ga = da->g;
	if (!ga->text || ga->removed) {
		diag_err(dg, ga->rel, 0, 0, "app '%s' was removed from the config repository", da->app->name);
		return NULL;
	}
	char *root = realpath(da->d->state_dir, NULL);
	struct app *a = app_load_gitops(ga->rel, ga->text, ga->len, da->app->name, root ? root : da->d->state_dir, dg);
	free(root);
	return a;
}

const char *deploy__gitops_hash(struct dapp *da)
{
	return da->g ? da->g->hash : "";
}

void deploy__gitops_done(struct dapp *da, const char *cfg_hash, const char *cfg_commit, int sync,
			 const char *outcome, const char *reason)
{
	struct gapp *ga = da->g;
	if (!ga)
		return;
	if (!strcmp(outcome, "succeeded"))
		snprintf(ga->live_hash, sizeof(ga->live_hash), "%s", cfg_hash ? cfg_hash : "");
	if (!sync)
		return;
	snprintf(ga->last.hash, sizeof(ga->last.hash), "%s", cfg_hash ? cfg_hash : "");
	snprintf(ga->last.commit, sizeof(ga->last.commit), "%s", cfg_commit ? cfg_commit : "");
	snprintf(ga->last.outcome, sizeof(ga->last.outcome), "%s", !strcmp(outcome, "succeeded") ? "succeeded" : "failed");
	snprintf(ga->last.reason, sizeof(ga->last.reason), "%s", reason ? reason : "");
	ga->has_last = 1;
	dstore_sync_save(da->d->db, da->app->name, &ga->last);
	if (strcmp(outcome, "succeeded"))
		deploy__log(da, "gitops: sync of %.8s %s; Degraded on %s, not retried until %s changes", ga->last.commit,
			    outcome, da->stable_version ? da->stable_version : "nothing", ga->rel);
}

/* ---- rollback by git ---- */

static void rb_free(struct grollback *rb)
{
	for (size_t i = 0; i < ARRAY_SIZE(rb->own); i++)
		free(rb->own[i]);
	free(rb->revert);
	free(rb->back_to);
	buf_release(&rb->log);
	buf_release(&rb->err);
	free(rb);
}

static void rb_run(uv_work_t *w)
{
	struct grollback *rb = w->data;
	rb->r = gitbump_run(&rb->b, rb->sha, &rb->log, &rb->err);
	rmtree(rb->b.workdir);
}

static void rb_done(uv_work_t *w, int status)
{
	struct grollback *rb = w->data;
	struct dapp *da = rb->da;
	struct buf msg = BUF_INIT;
	int code = 0;
	char *url = url_redact(rb->b.url);
	if (rb->r < 0 || status) {
		code = EXIT_FAILURE;
		buf_addf(&msg, "cannot commit the rollback to %s (%s); revert the commit that set the running "
			       "release yourself: git revert %s (sets %s back to %s in %s)",
			 url, rb->err.len ? rb->err.buf : "cancelled", rb->revert, rb->b.app, rb->back_to, rb->b.file);
	} else if (rb->r == 1) {
		buf_addf(&msg, "%s already says %s at %.8s; nothing committed", rb->b.file, rb->back_to, rb->sha);
	} else {
		buf_addf(&msg, "committed %.8s to %s: %s back to %s (reverting %.8s); ", rb->sha, url, rb->b.app,
			 rb->back_to, rb->revert);
		if (da && da->g && da->g->automated)
			buf_addstr(&msg, "the controller syncs it now");
		else
			buf_addf(&msg, "run 'kiln sync %s' to apply it (manual sync)", rb->b.app);
	}
	free(url);
	if (da) {
		deploy__log(da, "gitops: rollback: %s", msg.buf);
		dstore_audit(da->d->db, da->app->name, 0, "rollback", "%s", msg.buf);
		da->g->rb = NULL;
		if (rb->r == 0 && !da->d->stopping)
			deploy__gitops_refresh(da->d, "kiln rollback");
	}
	if (rb->waiter)
		deploy__client_done(rb->waiter, code, msg.buf);
	buf_release(&msg);
	rb_free(rb);
}

int deploy__gitops_rollback(struct dapp *da, const char *user, struct client *waiter, struct buf *msg)
{
	struct gapp *ga = da->g;
	struct gitops *g = da->d->git;
	if (ga->rb) {
		buf_addf(msg, "a rollback of %s is being committed already", da->app->name);
		return EXIT_USAGE;
	}
	if (!ga->desired || ga->removed) {
		buf_addf(msg, "%s: its file in the config repository does not load or is gone; fix git first",
			 da->app->name);
		return EXIT_USAGE;
	}
	struct buf prev = BUF_INIT, commit = BUF_INIT, hash = BUF_INIT;
	long prev_id = 0;
	if (!da->stable_version || dstore_previous_good(da->d->db, da->app->name, da->stable_version, &prev, &prev_id) < 0 ||
	    !prev.len) {
		buf_addf(msg, "%s has no earlier good release to go back to", da->app->name);
		buf_release(&prev);
		return EXIT_USAGE;
	}
	dstore_release_config(da->d->db, da->stable_id, &commit, &hash);
	struct grollback *rb = xcalloc(1, sizeof(*rb));
	buf_init(&rb->log, 0);
	buf_init(&rb->err, 0);
	rb->da = da;
	rb->waiter = waiter;
	rb->back_to = buf_detach(&prev, NULL);
	rb->revert = commit.len ? buf_detach(&commit, NULL) : xstrdup(ga->commit);
	rb->b.url = g->url;
	rb->b.branch = g->branch;
	rb->b.file = rb->own[0] = xstrdup(ga->rel);
	rb->b.app = rb->own[1] = xstrdup(da->app->name);
	rb->b.value = rb->back_to;
	rb->b.author = g->author;
	rb->b.message = rb->own[2] = xstrfmt("Revert \"%s: %s\": back to %s\n\nkiln rollback by %s: this reverts the "
					     "release set by commit %s.",
					     da->app->name, da->stable_version, rb->back_to, user ? user : "unknown",
					     rb->revert);
	rb->b.workdir = rb->own[3] = xstrfmt("%s/gitops/rollback-XXXXXX", da->d->state_dir);
	buf_release(&commit);
	buf_release(&hash);
	if (!mkdtemp(rb->own[3])) {
		buf_addf(msg, "cannot create a directory under %s/gitops: %s", da->d->state_dir, strerror(errno));
		rb_free(rb);
		return EXIT_INTERNAL;
	}
	ga->rb = rb;
	rb->work.data = rb;
	deploy__log(da, "gitops: rollback by %s: committing %s back to %s (reverting %.8s)", user ? user : "unknown",
		    ga->rel, rb->back_to, rb->revert);
	uv_queue_work(da->d->loop, &rb->work, rb_run, rb_done);
	return -1; /* answered when the push is done */
}

void deploy__gitops_drop_waiter(struct dapp *da, struct client *c)
{
	if (da->g && da->g->rb && da->g->rb->waiter == c)
		da->g->rb->waiter = NULL;
}

/* ---- what people see ---- */

void deploy__gitops_describe(struct dapp *da, struct buf *out)
{
	struct gapp *ga = da->g;
	struct gitops *g = da->d->git;
	if (!ga)
		return;
	buf_addf(out, "gitops: %s, %s; %s at %.8s", sync_status_name(sync_of(da)), health_status_name(health_of(da)),
		 ga->rel, ga->commit);
	if (ga->desired)
		buf_addf(out, " wants %s", ga->desired->git.version);
	buf_addf(out, "; %s", ga->automated ? "automated" : "manual sync");
	if (ga->automated)
		buf_addf(out, " (prune %s, selfHeal %s)", ga->prune ? "on" : "off", ga->self_heal ? "on" : "off");
	buf_addf(out, ", wave %d\n", ga->wave);
	if (ga->removed)
		buf_addf(out, "gitops: removed from the config repository%s\n",
			 ga->pruned ? "; pruned" : "; still running (automated.prune is off)");
	if (ga->error)
		buf_addf(out, "%s\n", ga->error);
	if (ga->has_last)
		buf_addf(out, "last sync: %s at %.8s%s%s\n", ga->last.outcome, ga->last.commit,
			 ga->last.reason[0] ? ": " : "", ga->last.reason);
	if (g->fetch_error)
		buf_addf(out, "fetch: %s\n", g->fetch_error);
}

static void json_str(struct buf *b, const char *k, const char *v)
{
	buf_addf(b, ",\"%s\":", k);
	if (v)
		buf_add_json_str(b, v, strlen(v));
	else
		buf_addstr(b, "null");
}

void deploy__gitops_list(struct deployd *d, struct buf *out, int json)
{
	struct gitops *g = d->git;
	if (!json) {
		if (g)
			buf_addf(out, "config %s %s at %.8s (%ld fetch(es), last took %s)%s%s\n", g->shown, g->branch,
				 g->commit, g->fetches, duration_str((double)g->fetch_ms).s,
				 g->fetch_error ? "; fetch failed: " : "", g->fetch_error ? g->fetch_error : "");
		buf_addf(out, "%-16s %-10s %-11s %-12s %-12s %-8s %-4s %s\n", "APP", "SYNC", "HEALTH", "WANT", "LIVE",
			 "CONFIG", "WAVE", "MESSAGE");
	} else {
		buf_addstr(out, "{\"config\":");
		if (g) {
			buf_addstr(out, "{\"url\":");
			buf_add_json_str(out, g->shown, strlen(g->shown));
			json_str(out, "branch", g->branch);
			json_str(out, "commit", g->commit);
			json_str(out, "fetch_error", g->fetch_error);
			buf_addf(out, ",\"fetches\":%ld}", g->fetches);
		} else
			buf_addstr(out, "null");
		buf_addstr(out, ",\"apps\":[");
	}
	int n = 0;
	for (size_t i = 0; i < d->napps; i++) {
		struct dapp *da = d->apps[i];
		struct gapp *ga = da->g;
		const char *sync = ga ? sync_status_name(sync_of(da)) : "-";
		const char *health = ga ? health_status_name(health_of(da)) : "-";
		const char *want = ga && ga->desired ? ga->desired->git.version : "-";
		const char *msg = !ga ? "" : ga->error ? ga->error : ga->removed ? (ga->pruned ? "pruned" : "removed from git; prune is off")
			: ga->has_last && strcmp(ga->last.outcome, "succeeded") ? ga->last.reason : "";
		if (json) {
			buf_addstr(out, n++ ? ",{\"app\":" : "{\"app\":");
			buf_add_json_str(out, da->app->name, strlen(da->app->name));
			json_str(out, "sync", ga ? sync : NULL);
			json_str(out, "health", ga ? health : NULL);
			if (ga) {
				struct buf why = BUF_INIT;
				health_reason(da, health_of(da), &why);
				json_str(out, "health_reason", why.buf);
				buf_release(&why);
			}
			json_str(out, "want", ga && ga->desired ? want : NULL);
			json_str(out, "live", da->stable_version);
			json_str(out, "commit", ga ? ga->commit : NULL);
			json_str(out, "file", ga ? ga->rel : NULL);
			json_str(out, "message", msg);
			if (ga)
				buf_addf(out, ",\"wave\":%d,\"automated\":%s,\"prune\":%s,\"selfHeal\":%s", ga->wave,
					 ga->automated ? "true" : "false", ga->prune ? "true" : "false",
					 ga->self_heal ? "true" : "false");
			if (ga && ga->has_last) {
				buf_addstr(out, ",\"last_sync\":{\"outcome\":");
				buf_add_json_str(out, ga->last.outcome, strlen(ga->last.outcome));
				json_str(out, "commit", ga->last.commit);
				json_str(out, "reason", ga->last.reason);
				buf_addch(out, '}');
			}
			buf_addch(out, '}');
		} else {
			char first[160], sw[20], sl[20];
			snprintf(first, sizeof(first), "%.*s", (int)strcspn(msg, "\n"), msg);
			buf_addf(out, "%-16s %-10s %-11s %-12s %-12s %-8.8s %-4d %s\n", da->app->name, sync, health,
				 deploy_version_short(want, sw),
				 da->stable_version ? deploy_version_short(da->stable_version, sl) : "-", ga ? ga->commit : "-", ga ? ga->wave : 0,
				 first);
		}
	}
	for (size_t i = 0; g && i < g->nextra; i++) {
		const struct gextra *x = &g->extra[i];
		if (json) {
			buf_addstr(out, n++ ? ",{\"app\":" : "{\"app\":");
			buf_add_json_str(out, x->name, strlen(x->name));
			buf_addstr(out, ",\"sync\":\"OutOfSync\",\"health\":\"Missing\",\"health_reason\":\"never loaded\"");
			json_str(out, "file", x->rel);
			json_str(out, "commit", g->commit);
			json_str(out, "message", x->why);
			buf_addch(out, '}');
		} else {
			char first[200];
			snprintf(first, sizeof(first), "%.*s", (int)strcspn(x->why, "\n"), x->why);
			buf_addf(out, "%-16s %-10s %-11s %-12s %-12s %-8.8s %-4s %s\n", x->name, "OutOfSync", "Missing", "-",
				 "-", g->commit, "-", first);
		}
	}
	if (json)
		buf_addstr(out, "]}");
}

static void on_closed(uv_handle_t *h)
{
	(void)h;
}

void deploy__gitops_close(struct deployd *d)
{
	struct gitops *g = d->git;
	if (!g)
		return;
	g->closing = 1;
	if (uv_is_active((uv_handle_t *)&g->timer) || g->timer.loop)
		if (!uv_is_closing((uv_handle_t *)&g->timer))
			uv_close((uv_handle_t *)&g->timer, on_closed);
	hookrecv_close(g->hook);
	g->hook = NULL;
}

void deploy__gitops_free(struct deployd *d)
{
	struct gitops *g = d->git;
	if (!g)
		return;
	for (size_t i = 0; i < d->napps; i++) {
		if (d->apps[i]->g && d->apps[i]->g->rb)
			d->apps[i]->g->rb->da = NULL; /* cannot happen: the loop ran the work to its end */
		gapp_free(d->apps[i]->g);
		d->apps[i]->g = NULL;
	}
	extra_clear(g);
	free(g->extra);
	gfiles_free(g->wf, g->nwf);
	buf_release(&g->werr);
	free(g->url);
	free(g->shown);
	free(g->branch);
	free(g->path);
	free(g->env);
	free(g->author);
	free(g->mirror);
	free(g->fetch_error);
	if (g->secret)
		sodium_memzero(g->secret, g->secret_len);
	free(g->secret);
	free(g);
	d->git = NULL;
}
