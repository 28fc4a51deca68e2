/* queue: queued events -> `kiln run` children on the server's loop (see queue.h). */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/runctx.h"
#include "git/mirror.h"
#include "server/queue.h"
#include "server/agentexec.h"
#include "server/srv.h"
#include "server/status.h"
#include "store/audit.h"
#include "store/recover.h"
#include "store/repos.h"
#include "store/runs.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

/* jobs of one run at once when every job goes to an agent */
#define QUEUE_AGENT_PARALLEL 256

/* one event being run */
struct qrun {
	struct queue *q;
	struct event_row ev;   /* claimed (owned strings) */
	struct repo_row repo;
	char *workdir;         /* <data>/work/<event id> (removed at the end) */
	char *tree;            /* workdir/src: the work tree of the commit */
	char *logpath;         /* <data>/events/<event id>.log: kiln run's output */
	uv_work_t work;        /* prepare (fetch, work tree) or clean up */
	struct buf err;
	int prep_rc;
	int have_before;       /* the push's previous commit is in the mirror */
	uv_process_t proc;
	int spawned, cancelled, stopped;
	int lost;              /* another replica took its event for lost */
	int ended;             /* finish() was called: cleaning up */
	int64_t exit_status;
	int term_signal;
	struct status_job *status; /* commit status to the forge, or NULL */
	struct qrun *next;
};

struct queue {
	struct srv *s;
	unsigned capacity;
	unsigned running;      /* qruns alive (preparing, running or cleaning up) */
	struct qrun *runs;
	uv_timer_t retry;      /* after a store error, look again later */
	uv_timer_t shared;     /* on a shared database: events queued by other servers */
	uv_timer_t beat;       /* on a shared database: this replica's row, lost replicas */
	int64_t replica;       /* this server's row in replicas */
	char host[256];
	int64_t last_beat;     /* when the last beat began (ms) */
	int64_t healthy_since; /* beats renewed without a failure since (ms), 0: failing */
	int closed;            /* timers closed by queue_free (the queue goes with all three) */
	int stopping;
	void (*done)(void *arg);
	void *done_arg;
};

static void dispatch(struct queue *q);

unsigned queue_running(const struct queue *q) { return q->running; }

static void unlink_run(struct queue *q, struct qrun *r)
{
	for (struct qrun **p = &q->runs; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
}

static void qrun_free(struct qrun *r)
{
	event_row_release(&r->ev);
	repo_row_release(&r->repo);
	free(r->workdir);
	free(r->tree);
	free(r->logpath);
	buf_release(&r->err);
	free(r);
}

static void maybe_done(struct queue *q)
{
	if (q->stopping && !q->running && q->done) {
		void (*done)(void *) = q->done;
		q->done = NULL;
		done(q->done_arg);
	}
}

/* thread pool: remove the work tree */
static void cleanup_work(uv_work_t *w)
{
	struct qrun *r = w->data;
	runctx_rmtree(r->workdir);
}

static void cleanup_done(uv_work_t *w, int status)
{
	struct qrun *r = w->data;
	struct queue *q = r->q;
	unlink_run(q, r);
	qrun_free(r);
	q->running--;
	maybe_done(q);
	dispatch(q);
}

static void finish(struct qrun *r, const char *status, int code, const char *reason)
{
	struct buf err = BUF_INIT;
	r->ended = 1;
	int rc = store_event_finish(r->q->s->db, r->ev.id, r->q->replica, status, code, reason, &err);
	/* the forge hears the end only from the event's owner: a replica
	 * taken for lost would post over its next attempt's status */
	if (rc == KILN_ENOENT || r->lost)
		status_drop(r->status);
	else
		status_end(r->status, !strcmp(status, "cancelled") ? "error" : status,
			   *reason ? reason
				   : !strcmp(status, "success") ? "the run succeeded" : "the run failed");
	r->status = NULL;
	if (rc == KILN_ENOENT)
		fprintf(stderr, "kiln serve: event %lld: taken for lost by another replica: its %s "
				"is not recorded\n", (long long)r->ev.id, status);
	else if (rc)
		fprintf(stderr, "kiln serve: event %lld: %s\n", (long long)r->ev.id, err.buf);
	else
		fprintf(stderr, "kiln serve: event %lld (%s %s): %s%s%s\n", (long long)r->ev.id,
			r->ev.kind, r->ev.ref, status, *reason ? ": " : "", reason);
	buf_release(&err);
	r->work.data = r;
	uv_queue_work(r->q->s->loop, &r->work, cleanup_work, cleanup_done);
}

/* did every run of the event end cancelled (not failed)? its reason into reason */
static int event_cancelled(struct qrun *r, char *reason, size_t n)
{
	struct buf why = BUF_INIT, err = BUF_INIT;
	int c = runs_event_cancelled(r->q->s->db, r->ev.id, &why, &err);
	if (c > 0)
		snprintf(reason, n, "%s", why.len ? why.buf : "cancelled");
	buf_release(&why);
	buf_release(&err);
	return c > 0;
}

static void proc_closed(uv_handle_t *h)
{
	struct qrun *r = h->data;
	char reason[512] = "";
	const char *status;
	if (r->cancelled || r->stopped) {
		status = "cancelled";
		snprintf(reason, sizeof(reason), "%s", r->stopped ? "server stopped" : "cancelled");
	} else if (r->term_signal) {
		status = "failure";
		snprintf(reason, sizeof(reason), "kiln run killed by signal %d", r->term_signal);
	} else if (r->exit_status == 0) {
		status = "success";
	} else if (r->exit_status == 1 && event_cancelled(r, reason, sizeof(reason))) {
		status = "cancelled"; /* its runs were (their concurrency groups) */
	} else {
		status = "failure";
		if (r->exit_status == 2)
			snprintf(reason, sizeof(reason), "workflow error (see the event's log)");
		else if (r->exit_status != 1)
			snprintf(reason, sizeof(reason), "kiln run exited with %lld",
				 (long long)r->exit_status);
	}
	finish(r, status, r->term_signal ? -1 : (int)r->exit_status, reason);
}

/* the running `kiln run`s of repository `repo` (but `except`) ask their
 * waiting jobs again: SIGURG (ignored by a kiln not listening yet) */
static void wake_repo(struct queue *q, const char *repo, const struct qrun *except)
{
	for (struct qrun *r = q->runs; r; r = r->next)
		if (r != except && r->spawned && !uv_is_closing((uv_handle_t *)&r->proc) &&
		    r->repo.name && !strcmp(r->repo.name, repo))
			uv_process_kill(&r->proc, SIGURG);
}

/* a deployment was approved, rejected or ended (server/env.h) */
static void on_deploy_changed(void *arg, const struct deploy_row *d)
{
	wake_repo(arg, d->repo, NULL);
}

static void on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
	struct qrun *r = p->data;
	/* its environments and concurrency groups are free for the others */
	wake_repo(r->q, r->repo.name, r);
	r->exit_status = exit_status;
	r->term_signal = term_signal;
	uv_close((uv_handle_t *)p, proc_closed);
}

/* event.json of a run: no fsync, the work dir does not survive a crash */
static int put_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r = fd < 0 || fs_write_all(fd, data, len) < 0 ? -1 : 0;
	if (fd >= 0 && close(fd) < 0)
		r = -1;
	return r;
}

/* thread pool: the commit in the mirror (fetch if missing), a work tree of it */
static void prepare_work(uv_work_t *w)
{
	struct qrun *r = w->data;
	const char *mirror = r->repo.mirror;
	r->prep_rc = -1;
	if (!mirror_has_commit(mirror, r->ev.sha)) {
		if (mirror_fetch(mirror, r->repo.url, &r->err))
			return;
		if (!mirror_has_commit(mirror, r->ev.sha)) {
			buf_addf(&r->err, "commit %s is not in %s", r->ev.sha, r->repo.url);
			return;
		}
	}
	/* asked here, not on the loop: it opens the mirror */
	r->have_before = *r->ev.before && mirror_has_commit(mirror, r->ev.before);
	runctx_rmtree(r->workdir);
	if (mkdir_p(r->workdir, 0700) < 0) {
		buf_addf(&r->err, "cannot create '%s'", r->workdir);
		return;
	}
	const char *ref = !strcmp(r->ev.kind, "pull_request") ? NULL : r->ev.ref;
	if (mirror_worktree(mirror, r->ev.sha, ref, r->repo.url, r->tree, &r->err))
		return;
	struct buf path = BUF_INIT;
	buf_addf(&path, "%s/event.json", r->workdir);
	if (put_file(path.buf, r->ev.payload, strlen(r->ev.payload)) < 0)
		buf_addf(&r->err, "cannot write '%s'", path.buf);
	else
		r->prep_rc = 0;
	buf_release(&path);
}

static int spawn(struct qrun *r)
{
	struct srv *s = r->q->s;
	struct strvec args = STRVEC_INIT, env = STRVEC_INIT;
	strvec_push(&args, s->exe);
	strvec_push(&args, "run");
	strvec_push(&args, r->ev.kind);
	strvec_pushf(&args, "--event-file=%s/event.json", r->workdir);
	if (!strcmp(r->ev.kind, "push")) {
		strvec_pushf(&args, "--ref=%s", r->ev.ref);
		strvec_pushf(&args, "--head=%s", r->ev.sha);
		if (r->have_before)
			strvec_pushf(&args, "--base=%s", r->ev.before);
	} else if (!strcmp(r->ev.kind, "workflow_dispatch") || !strcmp(r->ev.kind, "schedule")) {
		/* the one workflow dispatched or scheduled (its path was made by
		 * the server: .github/workflows/NAME) */
		json_t *p = json_loads(r->ev.payload, 0, NULL);
		const char *wf = json_string_value(json_object_get(p, "workflow"));
		if (wf && str_starts_with(wf, ".github/workflows/") && !strstr(wf, ".."))
			strvec_pushf(&args, "--workflow=%s", wf);
		json_decref(p);
		strvec_pushf(&args, "--ref=%s", r->ev.ref);
		strvec_pushf(&args, "--head=%s", r->ev.sha);
	} else if (*r->ev.action) {
		strvec_pushf(&args, "--action=%s", r->ev.action);
	}
	/* the repository's environments: their secrets and protection rules
	 * (server/jobgate.h); a fork's run still passes the gates, secretless */
	strvec_pushf(&args, "--server-repo=%s", r->repo.name);
	strvec_pushf(&args, "--server-event=%lld", (long long)r->ev.id);
	if (r->ev.fork)
		strvec_push(&args, "--no-secrets");
	/* jobs handed to agents wait in the store, not here: with every job
	 * on agents, the agents (not --jobs) bound how many run at once */
	strvec_pushf(&args, "--parallel=%u",
		     s->opts.agents == AGENTS_ALL ? QUEUE_AGENT_PARALLEL : r->q->capacity);
	if (s->opts.agents != AGENTS_OFF)
		strvec_pushf(&args, "--agents=%s", agents_mode_name((enum agents_mode)s->opts.agents));
	/* the sandbox: the repository's own setting, else the server's */
	const char *iso = r->repo.isolate && *r->repo.isolate ? r->repo.isolate : s->opts.isolate;
	if (iso && !strcmp(iso, "on"))
		strvec_push(&args, "--isolate");
	else if (iso && !strcmp(iso, "no-network"))
		strvec_push(&args, "--isolate-no-network");
	if (r->ev.attempt > 1)
		strvec_pushf(&args, "--run-attempt=%d", r->ev.attempt);
	if (r->ev.reuse_run > 0) /* re-run the failed jobs: that run's workflow */
		strvec_pushf(&args, "--reuse-run=%lld", (long long)r->ev.reuse_run);
	if (r->ev.reuse_run > 0 && r->ev.rerun_job) /* one job (a display name) */
		strvec_pushf(&args, "--rerun-job=%s", r->ev.rerun_job);
	/* a small, known environment: nothing of the server's own leaks into steps */
	/* KILN_DB: the run records into the server's store (kiln serve
	 * --db); kiln run keeps it from its steps (engine/exec.c) */
	const char *keep[] = { "PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "ASAN_OPTIONS",
			       "UBSAN_OPTIONS", "KILN_GITHUB_URL", "KILN_GATE_POLL_MS", "KILN_DB" };
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		const char *v = getenv(keep[i]);
		if (v)
			strvec_pushf(&env, "%s=%s", keep[i], v);
	}
	strvec_pushf(&env, "HOME=%s", r->workdir);
	strvec_pushf(&env, "KILN_HOME=%s", s->data_dir);
	strvec_pushf(&env, "GITHUB_ACTOR=%s", *r->ev.actor ? r->ev.actor : "kiln");
	/* actions/cache: this repository's caches only (actions/cache.c) */
	strvec_pushf(&env, "KILN_CACHE_SCOPE=%s", r->repo.name);
	strvec_push(&env, "NO_COLOR=1");
	/* the child dies with the server, even on kill -9 (cli/main.c) */
	strvec_pushf(&env, "KILN_DIE_WITH=%ld", (long)getpid());

	int fd = open(r->logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		buf_addf(&r->err, "cannot open '%s'", r->logpath);
		strvec_clear(&args);
		strvec_clear(&env);
		return -1;
	}
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_IGNORE },
		{ .flags = UV_INHERIT_FD, .data.fd = fd },
		{ .flags = UV_INHERIT_FD, .data.fd = fd },
	};
	uv_process_options_t po = {
		.exit_cb = on_exit_cb, .file = s->exe, .args = args.v, .env = env.v,
		.cwd = r->tree, .stdio_count = 3, .stdio = stdio,
	};
	r->proc.data = r;
	int rc = uv_spawn(s->loop, &r->proc, &po);
	close(fd);
	strvec_clear(&args);
	strvec_clear(&env);
	if (rc) {
		buf_addf(&r->err, "cannot start kiln run: %s", uv_strerror(rc));
		uv_close((uv_handle_t *)&r->proc, NULL);
		return -1;
	}
	r->spawned = 1;
	return 0;
}

static void prepare_done(uv_work_t *w, int status)
{
	struct qrun *r = w->data;
	struct queue *q = r->q;
	if (q->stopping || r->cancelled || r->lost) {
		struct buf err = BUF_INIT;
		/* nothing ran: back to the queue (stopping) or cancelled; a
		 * lost one is another replica's now (both writes are fenced) */
		r->ended = 1;
		if (r->cancelled)
			store_event_finish(q->s->db, r->ev.id, q->replica, "cancelled", -1, "cancelled",
					   &err);
		else
			store_event_requeue(q->s->db, r->ev.id, q->replica, &err);
		if (r->lost)
			status_drop(r->status);
		else
			status_end(r->status, r->cancelled ? "error" : "pending",
				   r->cancelled ? "cancelled" : "waiting for the server");
		r->status = NULL;
		buf_release(&err);
		r->work.data = r;
		uv_queue_work(q->s->loop, &r->work, cleanup_work, cleanup_done);
		return;
	}
	if (status || r->prep_rc || spawn(r)) {
		finish(r, "failure", -1, r->err.len ? r->err.buf : "cannot prepare the run");
		return;
	}
}

static void start(struct queue *q, struct event_row *ev)
{
	struct srv *s = q->s;
	struct qrun *r = xcalloc(1, sizeof(*r));
	struct buf err = BUF_INIT;
	r->q = q;
	r->ev = *ev;
	buf_init(&r->err, 0);
	r->workdir = xstrfmt("%s/work/%lld", s->data_dir, (long long)ev->id);
	r->tree = xstrfmt("%s/src", r->workdir);
	r->logpath = xstrfmt("%s/events/%lld.log", s->data_dir, (long long)ev->id);
	r->next = q->runs;
	q->runs = r;
	q->running++;
	if (store_repo_get_id(s->db, ev->repo_id, &r->repo, &err)) {
		finish(r, "failure", -1, "the repository was removed");
		buf_release(&err);
		return;
	}
	buf_release(&err);
	r->status = status_start(s->statuses, &r->repo, &r->ev);
	r->work.data = r;
	uv_queue_work(s->loop, &r->work, prepare_work, prepare_done);
}

static void retry_cb(uv_timer_t *t)
{
	dispatch(t->data);
}

/* a replica renews its row (and looks for lost ones) this often */
#define REPLICA_BEAT_MS 1000

/* the queue's events per second at most when another server adds them */
#define SHARED_QUEUE_MS 500

static void dispatch(struct queue *q)
{
	while (!q->stopping && q->running < q->capacity) {
		struct event_row ev;
		struct buf err = BUF_INIT;
		int rc = store_event_claim(q->s->db, q->replica, &ev, &err);
		if (rc == KILN_ENOENT) {
			buf_release(&err);
			return;
		}
		if (rc) {
			fprintf(stderr, "kiln serve: queue: %s (retrying)\n", err.buf);
			buf_release(&err);
			uv_timer_start(&q->retry, retry_cb, 1000, 0);
			return;
		}
		buf_release(&err);
		start(q, &ev);
	}
}

void queue_kick(struct queue *q)
{
	if (q)
		dispatch(q);
}

/*
 * Events whose `kiln run` died with another server (or with this one
 * before it restarted) end as failed with reason, their history rows
 * closed. At start (starting): the events of this host's and data
 * directory's earlier replicas and those naming none — on SQLite every
 * running event (one server per store). Later, on a shared database: the
 * events of replicas that stopped renewing their row for the ttl.
 *
 * A run lost with its replica runs again on this one as the event's next
 * attempt, as a job lost with its agent does (--agent-retry times): each
 * workflow run it closed re-runs its unfinished jobs only, the jobs that
 * had succeeded keep their results and outputs (GitHub's "re-run failed
 * jobs"); a run lost before it recorded anything re-runs whole (an event
 * whose runs had all ended is not run again). Only for a replica lost
 * while the others went on: a restarted server's own runs stay failed
 * (someone stopped it). The failure and the next attempt are one
 * transaction (store_event_fail_lost).
 */
static int recover_lost(struct queue *q, int starting, const char *reason, struct buf *err)
{
	struct srv *s = q->s;
	struct replica_self me = { q->replica, q->host, s->data_dir, starting };
	int64_t ttl = (int64_t)s->opts.replica_ttl_ms;
	if (starting) /* no replica is seen as expired before one ttl of beats */
		ttl = db_dialect(s->db) == DB_POSTGRES ? INT64_C(1) << 50 : -1;
	struct lost_event *lost = NULL;
	size_t n = 0, failed = 0;
	if (store_event_lost(s->db, &me, runs_now_ms(), ttl, &lost, &n, err))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct buf e2 = BUF_INIT;
		struct lost_retry re;
		int rc = store_event_fail_lost(s->db, &lost[i], reason,
					       starting ? 0 : (int)s->opts.agent_retry, &re, &e2);
		if (rc < 0)
			fprintf(stderr, "kiln serve: event %lld: %s (retried at the next sweep)\n",
				(long long)lost[i].id, e2.buf);
		failed += rc == 0;
		for (size_t j = 0; rc == 0 && j < re.n; j++)
			fprintf(stderr, "kiln serve: event %lld: its replica was lost: attempt %d "
					"queued as event %lld\n", (long long)lost[i].id, re.attempts[j],
				(long long)re.ids[j]);
		if (rc == 0)
			lost_retry_release(&re);
		buf_release(&e2);
	}
	if (failed)
		fprintf(stderr, "kiln serve: %zu run%s ended as failed: %s\n", failed,
			failed == 1 ? "" : "s", reason);
	free(lost);
	if (failed && !starting)
		dispatch(q);
	return 0;
}

/*
 * Fencing: this replica's runs whose events are no longer its own (another
 * replica took it for lost while it could not renew its row: paused, cut
 * from the database) are stopped: SIGTERM to their `kiln run` (it cancels
 * its jobs; its late writes change no closed run, store/runs.c), and their
 * end is not recorded (store_event_finish is fenced).
 */
static void check_owned(struct queue *q)
{
	int64_t *ids = NULL;
	size_t n = 0;
	struct buf err = BUF_INIT;
	if (!q->runs || store_events_owned(q->s->db, q->replica, &ids, &n, &err)) {
		buf_release(&err);
		return;
	}
	for (struct qrun *r = q->runs; r; r = r->next) {
		size_t i = 0;
		while (i < n && ids[i] != r->ev.id)
			i++;
		if (i < n || r->ended || r->lost)
			continue;
		r->lost = 1;
		fprintf(stderr, "kiln serve: event %lld: taken for lost by another replica (this one "
				"did not renew its row for --replica-ttl): its run is stopped\n",
			(long long)r->ev.id);
		if (r->spawned && !uv_is_closing((uv_handle_t *)&r->proc))
			uv_process_kill(&r->proc, SIGTERM);
	}
	free(ids);
	buf_release(&err);
}

static void beat_cb(uv_timer_t *t)
{
	struct queue *q = t->data;
	struct buf err = BUF_INIT;
	int64_t now = runs_now_ms();
	/* away longer than a ttl (paused, cut off): its events may be another's */
	if (q->last_beat && now - q->last_beat > (int64_t)q->s->opts.replica_ttl_ms)
		q->healthy_since = 0;
	q->last_beat = now;
	int rc = store_replica_beat(q->s->db, q->replica, now, &err);
	if (rc == KILN_ENOENT) {
		/* forgotten as long lost: every event it named is another's now;
		 * a new row, so that the events it takes next can be recovered */
		int64_t old = q->replica;
		buf_reset(&err);
		rc = store_replica_add(q->s->db, q->host, q->s->data_dir, (int64_t)getpid(), now,
				       &q->replica, &err);
		if (rc)
			q->replica = old;
		else
			fprintf(stderr, "kiln serve: replica %lld was forgotten as lost: now replica "
					"%lld\n", (long long)old, (long long)q->replica);
	}
	if (rc == 0)
		check_owned(q);
	if (rc) {
		if (q->healthy_since)
			fprintf(stderr, "kiln serve: replica %lld: %s (retrying)\n",
				(long long)q->replica, err.buf);
		q->healthy_since = 0;
	} else if (!q->healthy_since) {
		q->healthy_since = now;
	} else if (now - q->healthy_since >= (int64_t)q->s->opts.replica_ttl_ms &&
		   !q->stopping) {
		/* only after a whole ttl of renewals: the others had one too (a
		 * database that was down stopped every replica's renewals) */
		if (recover_lost(q, 0, "server lost: the replica running it stopped renewing its row",
				 &err))
			fprintf(stderr, "kiln serve: queue: %s\n", err.buf);
	}
	buf_release(&err);
}

int queue_new(struct srv *s, unsigned capacity, struct queue **out, struct buf *err)
{
	/* runs whose kiln run died with the previous server on this host:
	 * their leftover processes killed, their history rows closed */
	if (store_recover(s->db, err) < 0)
		return -1;
	struct queue *q = xcalloc(1, sizeof(*q));
	q->s = s;
	if (!s->opts.replica_ttl_ms)
		s->opts.replica_ttl_ms = 30000;
	if (gethostname(q->host, sizeof(q->host) - 1) < 0)
		snprintf(q->host, sizeof(q->host), "localhost");
	int64_t now = runs_now_ms();
	if (store_replica_add(s->db, q->host, s->data_dir, (int64_t)getpid(), now, &q->replica,
			      err) ||
	    recover_lost(q, 1, "server restarted", err)) {
		free(q);
		return -1;
	}
	q->healthy_since = now;
	struct buf dir = BUF_INIT;
	buf_addf(&dir, "%s/work", s->data_dir);
	runctx_rmtree(dir.buf); /* what a crash left */
	buf_reset(&dir);
	buf_addf(&dir, "%s/events", s->data_dir);
	mkdir_p(dir.buf, 0700);
	buf_release(&dir);
	q->capacity = capacity ? capacity : 1;
	uv_timer_init(s->loop, &q->retry);
	q->retry.data = q;
	s->env_events.changed = on_deploy_changed;
	s->env_events.arg = q;
	uv_timer_init(s->loop, &q->shared);
	q->shared.data = q;
	uv_timer_init(s->loop, &q->beat);
	q->beat.data = q;
	if (db_dialect(s->db) == DB_POSTGRES) {
		uv_timer_start(&q->shared, retry_cb, SHARED_QUEUE_MS, SHARED_QUEUE_MS);
		uv_timer_start(&q->beat, beat_cb, REPLICA_BEAT_MS, REPLICA_BEAT_MS);
	}
	*out = q;
	dispatch(q);
	return 0;
}

int queue_cancel(struct queue *q, int64_t event_id)
{
	for (struct qrun *r = q->runs; r; r = r->next) {
		if (r->ev.id != event_id)
			continue;
		if (!r->cancelled) {
			r->cancelled = 1;
			if (r->spawned && !uv_is_closing((uv_handle_t *)&r->proc))
				uv_process_kill(&r->proc, SIGTERM);
		}
		return 0;
	}
	return KILN_ENOENT;
}

void queue_stop(struct queue *q, void (*done)(void *arg), void *arg)
{
	q->stopping = 1;
	q->done = done;
	q->done_arg = arg;
	uv_timer_stop(&q->retry);
	uv_timer_stop(&q->shared);
	uv_timer_stop(&q->beat);
	for (struct qrun *r = q->runs; r; r = r->next) {
		r->stopped = 1;
		if (r->spawned && !uv_is_closing((uv_handle_t *)&r->proc))
			uv_process_kill(&r->proc, SIGTERM);
	}
	maybe_done(q);
}

static void timer_closed(uv_handle_t *h)
{
	struct queue *q = h->data;
	if (++q->closed == 3)
		free(q);
}

void queue_free(struct queue *q)
{
	if (q && q->s->env_events.arg == q)
		q->s->env_events = (struct env_events){ NULL, NULL };
	if (q) {
		uv_close((uv_handle_t *)&q->shared, timer_closed);
		uv_close((uv_handle_t *)&q->beat, timer_closed);
		uv_close((uv_handle_t *)&q->retry, timer_closed);
	}
}
