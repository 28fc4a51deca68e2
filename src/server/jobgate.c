/* jobgate: env_gate behind the scheduler's gate hook (see jobgate.h). */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/record.h"
#include "expr/expr.h"
#include "git/repo.h"
#include "secret/secret.h"
#include "server/env.h"
#include "engine/mask.h"
#include "server/jobgate.h"
#include "server/notify.h"
#include "store/hooks.h"
#include "store/db.h"
#include "store/open.h"
#include "store/runs.h"

/* a waiting job is asked again when kiln serve wakes it (SIGURG: a review,
 * a deployment's end) or at its wait timer; this slow poll is the safety
 * net (KILN_GATE_POLL_MS in tests) */
#define ASK_MS 10000
#define BUSY_MS 2000 /* the store was busy: ask again after this */

static int64_t ask_ms(void)
{
	const char *s = getenv("KILN_GATE_POLL_MS");
	long long v = s ? strtoll(s, NULL, 10) : 0;
	return v > 0 ? (int64_t)v : ASK_MS;
}

struct gated {
	char *job;
	int64_t deployment_id;
	int64_t run_id;
	int waited;
};

struct jobgate {
	struct db *db;
	char *repo, *actor, *ref, *sha;
	int64_t commit_ms;
	struct recorder *rec;
	struct sched_gate hook;
	struct gated *v;
	size_t nr, alloc;
	struct secret_store *secrets; /* opens the webhooks' sealed URLs */
	struct notifier *notifier;    /* NULL: no libcurl, or no loop */
	struct masker *mask;
};

/* one notification; failures only warn (a run never fails for them) */
static void notify(struct jobgate *g, enum notify_event e, const char *env, int64_t run_id,
		   const char *workflow, const char *reason)
{
	if (!g->notifier)
		return;
	struct notify_msg m = { e, g->repo, env, workflow, run_id, g->ref, g->sha, g->actor, reason,
				NULL, runs_now_ms() };
	struct buf err = BUF_INIT;
	if (notify_emit(g->notifier, &m, g->mask, &err) < 0)
		fprintf(stderr, "kiln: warning: notifications not sent: %s\n", err.buf);
	buf_release(&err);
}

static void mask_object(struct masker *m, const struct ev *o)
{
	for (size_t i = 0; o && ev_kind(o) == EV_OBJECT && i < ev_len(o); i++) {
		const struct ev *v = ev_object_val_at(o, i);
		if (ev_kind(v) == EV_OBJECT) {
			mask_object(m, v);
		} else if (ev_kind(v) == EV_STRING) {
			size_t len;
			const char *s = ev_get_str(v, &len);
			mask_add(m, s, len);
		}
	}
}

static struct gated *gated(struct jobgate *g, const char *job)
{
	for (size_t i = 0; i < g->nr; i++)
		if (!strcmp(g->v[i].job, job))
			return &g->v[i];
	ALLOC_GROW(g->v, g->nr + 1, g->alloc);
	struct gated *x = &g->v[g->nr++];
	x->job = xstrdup(job);
	x->deployment_id = 0;
	x->run_id = 0;
	x->waited = 0;
	return x;
}

static enum sched_gate_verdict ask(void *arg, size_t wf_index, const char *job, const char *env,
				   struct buf *reason, uint64_t *retry_ms)
{
	struct jobgate *g = arg;
	int64_t run_id, job_id;
	if (recorder_job_ids(g->rec, wf_index, job, &run_id, &job_id) < 0) {
		buf_addf(reason, "cannot deploy to '%s': the run is not in the history", env);
		return SCHED_GATE_REJECT;
	}
	struct env_job ej = { g->repo, env, run_id, job_id, job, g->ref, g->sha, g->actor,
			      g->commit_ms };
	struct env_decision d;
	struct buf err = BUF_INIT;
	int64_t now = runs_now_ms();
	if (env_gate(g->db, &ej, now, NULL, &d, &err) < 0) {
		/* the store is busy or failing: keep waiting, say why */
		buf_addf(reason, "waiting to deploy to '%s': %s", env, err.buf);
		buf_release(&err);
		*retry_ms = BUSY_MS;
		return SCHED_GATE_WAIT;
	}
	buf_release(&err);
	struct gated *x = gated(g, job);
	x->deployment_id = d.deployment_id;
	x->run_id = run_id;
	buf_addstr(reason, d.reason);
	if (d.verdict == ENV_WAIT) {
		if (!x->waited)
			recorder_job_status(g->rec, job, "waiting");
		if (!x->waited && str_starts_with(d.reason, "waiting for approval"))
			notify(g, NOTIFY_APPROVAL, env, run_id, NULL, d.reason);
		x->waited = 1;
		int64_t poll = ask_ms(), left = d.wake_at_ms > now ? d.wake_at_ms - now : poll;
		*retry_ms = (uint64_t)(left < poll ? left : poll);
		return SCHED_GATE_WAIT;
	}
	if (x->waited)
		recorder_job_status(g->rec, job, "in_progress");
	return d.verdict == ENV_PROCEED ? SCHED_GATE_PROCEED : SCHED_GATE_REJECT;
}

/*
 * The job's kiln/deploy outcome from its stored log: the last "release N
 * (VERSION) OUTCOME after ..." line (src/deploy/rollout.c) links the
 * deployment to the release. 1 when that release was rolled back (its
 * reason in why), 0 otherwise.
 */
static int release_link(struct jobgate *g, struct gated *x, const char *job, struct buf *why)
{
	struct buf log = BUF_INIT, err = BUF_INIT;
	int rolled = 0;
	if (x->run_id && runs_read_logs(g->db, x->run_id, job, &log, &err) == 0) {
		const char *last = NULL;
		for (const char *p = log.buf; (p = strstr(p, "release ")); p += 8) {
			const char *q = p + 8;
			while (*q >= '0' && *q <= '9')
				q++;
			if (q > p + 8 && !strncmp(q, " (", 2) && strstr(q, ") ") &&
			    strstr(q, " after "))
				last = p;
		}
		if (last) {
			char *line = xstrndup(last, strcspn(last, "\n"));
			if (env_link_release(g->db, x->deployment_id, "", line, &rolled, why, &err))
				rolled = 0;
			free(line);
		}
	}
	if (!rolled)
		buf_reset(why);
	buf_release(&log);
	buf_release(&err);
	return rolled;
}

static void end(void *arg, size_t wf_index, const char *job, enum result r)
{
	struct jobgate *g = arg;
	struct gated *x = gated(g, job);
	(void)wf_index;
	if (!x->deployment_id)
		return;
	const char *c = r == RESULT_SUCCESS ? "success" : r == RESULT_CANCELLED ? "cancelled" : "failure";
	struct buf err = BUF_INIT, why = BUF_INIT;
	/* a kiln/deploy step's release: linked; rolled back = a failed deployment */
	int rolled = release_link(g, x, job, &why);
	if (rolled && r != RESULT_CANCELLED)
		c = "failure";
	int fr = env_deployment_finish(g->db, x->deployment_id, c, why.len ? why.buf : NULL,
				       runs_now_ms(), NULL, &err);
	/* KILN_ENOENT: already final (rejected, timed out): nothing to record */
	if (fr < 0 && fr != KILN_ENOENT)
		fprintf(stderr, "kiln: warning: deployment %lld not recorded: %s\n",
			(long long)x->deployment_id, err.buf);
	struct deploy_row d;
	if (!fr && r != RESULT_CANCELLED && !deploys_get(g->db, x->deployment_id, &d, &err))
		notify(g, rolled ? NOTIFY_ROLLBACK : !strcmp(c, "success") ? NOTIFY_DEPLOY_SUCCESS
									 : NOTIFY_DEPLOY_FAILURE,
		       d.environment, d.run_id, NULL,
		       why.len ? why.buf : !strcmp(c, "success") ? NULL : "the job failed");
	buf_release(&why);
	buf_release(&err);
}

/* the committer time of sha in repo_dir (0 when unknown) */
static int64_t commit_time(const char *repo_dir, const char *sha)
{
	struct repo *r = NULL;
	struct repo_commit c;
	struct buf err = BUF_INIT;
	int64_t t = 0;
	memset(&c, 0, sizeof(c));
	if (repo_dir && sha && *sha && repo_open(repo_dir, &r, &err) == 0 &&
	    repo_commit_get(r, sha, &c, &err) == 0) {
		t = c.time * 1000;
		repo_commit_release(&c);
	}
	repo_close(r);
	buf_release(&err);
	return t;
}

int jobgate_new(const struct jobgate_cfg *cfg, struct jobgate **out, struct buf *err)
{
	struct jobgate *g = xcalloc(1, sizeof(*g));
	if (store_open_default(&g->db, NULL, err) < 0) {
		free(g);
		return -1;
	}
	g->repo = xstrdup(cfg->repo);
	g->actor = xstrdup(cfg->actor ? cfg->actor : "");
	g->ref = xstrdup(cfg->ref ? cfg->ref : "");
	g->sha = xstrdup(cfg->sha ? cfg->sha : "");
	g->commit_ms = commit_time(cfg->repo_dir, cfg->sha);
	g->rec = cfg->rec;
	g->hook = (struct sched_gate){ ask, end, g };
	struct hook_row *hooks = NULL;
	size_t nhooks = 0;
	struct buf herr = BUF_INIT;
	if (cfg->loop && hooks_list(g->db, g->repo, &hooks, &nhooks, &herr) < 0)
		nhooks = 0;
	for (size_t i = 0; i < nhooks; i++)
		hook_row_release(&hooks[i]);
	free(hooks);
	buf_release(&herr);
	/* libcurl is loaded only for a repository that has webhooks */
	if (cfg->loop && nhooks) {
		struct buf dir = BUF_INIT, nerr = BUF_INIT;
		g->mask = mask_new();
		mask_object(g->mask, cfg->secrets);
		mask_object(g->mask, cfg->env_secrets);
		/* without libcurl the run goes on, unannounced */
		if (kiln_data_dir(&dir, &nerr) < 0 || secret_store_open(&g->secrets, g->db, dir.buf, &nerr) < 0 ||
		    notifier_new(cfg->loop, g->db, g->secrets, 3, 500, &g->notifier, &nerr) < 0)
			fprintf(stderr, "kiln: warning: no notifications: %s\n", nerr.buf);
		buf_release(&dir);
		buf_release(&nerr);
	}
	*out = g;
	return 0;
}

void jobgate_run_end(struct jobgate *g, size_t wf_index, const char *name, enum result r)
{
	if (g && r != RESULT_CANCELLED)
		notify(g, r == RESULT_SUCCESS ? NOTIFY_RUN_SUCCESS : NOTIFY_RUN_FAILURE, NULL,
		       recorder_run_id(g->rec, wf_index), name, NULL);
}

void jobgate_flush(struct jobgate *g, uv_loop_t *loop)
{
	if (!g || !g->notifier)
		return;
	uv_run(loop, UV_RUN_DEFAULT); /* the sender's posts and retries */
	notifier_close(g->notifier, NULL, NULL);
	g->notifier = NULL;
	uv_run(loop, UV_RUN_DEFAULT);
}

const struct sched_gate *jobgate_hook(struct jobgate *g)
{
	return &g->hook;
}

void jobgate_free(struct jobgate *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nr; i++)
		free(g->v[i].job);
	free(g->v);
	if (g->notifier) /* not flushed: pending retries are dropped */
		notifier_close(g->notifier, NULL, NULL);
	secret_store_close(g->secrets);
	mask_free(g->mask);
	db_close(g->db);
	free(g->repo);
	free(g->actor);
	free(g->ref);
	free(g->sha);
	free(g);
}

int jobgate_secrets(const char *repo, struct secret_map *repo_level,
		    const struct secret_map *over, struct ev **env_objects, struct buf *err)
{
	struct db *db = NULL;
	struct secret_store *ss = NULL;
	struct buf dir = BUF_INIT;
	struct env_row *v = NULL;
	size_t n = 0;
	*env_objects = NULL;
	int r = store_open_default(&db, &dir, err);
	if (!r)
		r = secret_store_open(&ss, db, dir.buf, err);
	if (!r)
		r = env_secrets_load(db, ss, repo, "", repo_level, err);
	if (!r)
		r = envs_list(db, repo, &v, &n, err);
	for (size_t i = 0; i < n; i++) {
		if (!r && *v[i].name) {
			struct secret_map m = SECRET_MAP_INIT;
			r = env_secrets_load(db, ss, repo, v[i].name, &m, err);
			for (size_t k = 0; over && k < over->nr; k++)
				secret_map_set(&m, over->v[k].name, over->v[k].value, over->v[k].len);
			struct ev *o = ev_object();
			for (size_t k = 0; k < m.nr; k++)
				ev_object_set(o, m.v[k].name, ev_string(m.v[k].value, m.v[k].len));
			if (!*env_objects)
				*env_objects = ev_object();
			ev_object_set(*env_objects, v[i].name, o);
			secret_map_release(&m);
		}
		env_row_release(&v[i]);
	}
	free(v);
	secret_store_close(ss);
	db_close(db);
	buf_release(&dir);
	return r ? -1 : 0;
}

/* a JSON object of strings (env_vars_load) into an expression object */
static void add_json_vars(struct ev *o, const json_t *j)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)j, k, v)
	ev_object_set(o, k, ev_cstr(json_string_value(v)));
}

static void add_ev_vars(struct ev *o, const struct ev *from)
{
	for (size_t i = 0; from && ev_kind(from) == EV_OBJECT && i < ev_len(from); i++)
		ev_object_set(o, ev_object_key_at(from, i), ev_ref(ev_object_val_at(from, i)));
}

int jobgate_vars(const char *repo, const struct ev *over, struct ev **repo_vars,
		 struct ev **env_vars, struct buf *err)
{
	struct db *db = NULL;
	struct env_row *v = NULL;
	size_t n = 0;
	*repo_vars = NULL;
	*env_vars = NULL;
	if (store_open_default(&db, NULL, err) < 0)
		return -1;
	int r = 0;
	json_t *base = env_vars_load(db, repo, "", err);
	if (!base || envs_list(db, repo, &v, &n, err) < 0) {
		r = -1;
		goto out;
	}
	*repo_vars = ev_object();
	add_json_vars(*repo_vars, base);
	add_ev_vars(*repo_vars, over);
	for (size_t i = 0; i < n && !r; i++) {
		if (!*v[i].name)
			continue;
		json_t *j = env_vars_load(db, repo, v[i].name, err);
		if (!j) {
			r = -1;
			break;
		}
		struct ev *o = ev_object();
		add_json_vars(o, j);
		add_ev_vars(o, over);
		json_decref(j);
		if (!*env_vars)
			*env_vars = ev_object();
		ev_object_set(*env_vars, v[i].name, o);
	}
out:
	for (size_t i = 0; i < n; i++)
		env_row_release(&v[i]);
	free(v);
	json_decref(base);
	db_close(db);
	if (r) {
		ev_unref(*repo_vars);
		ev_unref(*env_vars);
		*repo_vars = *env_vars = NULL;
	}
	return r;
}
