/*
 * record: run history of `kiln run` in the store. Jobs are found by their
 * display name (unique in a run) through a small hash, as the executor's
 * log events carry only the name.
 */
#include "base/kiln.h"
#include "base/fs.h"
#include "engine/record.h"
#include "expr/expr.h"
#include "store/db.h"
#include "store/annotations.h"
#include "store/artifacts.h"
#include "store/blobs.h"
#include "store/open.h"
#include "store/runs.h"

#include <unistd.h>
#include <zstd.h>

struct rec_job {
	char *name;
	int64_t id;
	int64_t step_id; /* current step, 0 when none */
	int nsteps;
	struct runs_log log;
	int open;
	size_t live_at;  /* its place in recorder.live while open */
};

struct rec_wf {
	int64_t run_id;   /* 0 when not recorded */
	char *reason;     /* recorder_workflow_reason, or NULL */
	int failed, cancelled;
};

struct recorder {
	struct db *db;
	char *repo;          /* work tree of the recorded runs, may be NULL */
	char *repo_name;     /* kiln serve's repository, or NULL */
	int64_t event_id;    /* kiln serve's event, or 0 */
	int attempt;         /* github.run_attempt */
	uv_check_t turn;     /* stores log lines at the end of each loop turn */
	int attached;
	struct buf err_first; /* the first store error (reported again at the end) */
	int broken;          /* a store error happened: stop recording */
	struct rec_wf *wfs;
	size_t nwfs;
	struct rec_job *jobs;
	size_t njobs, jobs_alloc;
	size_t *slots, nslots;
	size_t *live, nlive, live_alloc; /* indexes of the open jobs (on_turn
					  * looks at these, not at every job) */
	struct buf line;
	ZSTD_CCtx *zc;       /* compresses every job's log */
	struct runs_prior_job *prior; /* recorder_prior: the earlier attempt's jobs */
	size_t nprior;
	char *rerun_job;     /* recorder_prior: the one job run again, or NULL */
	struct sched_reuse reuse;
	int closed_runs;     /* workflow runs closed (finish_wf) */
	int warned;          /* the incomplete-history warning was repeated last */
};

struct recorder *recorder_open(struct db **given, const char *repo, struct buf *err)
{
	struct db *db = *given;
	*given = NULL;
	if (!db && store_open_default(&db, NULL, err) < 0) {
		db_close(db);
		return NULL;
	}
	struct recorder *r = xcalloc(1, sizeof(*r));
	r->db = db;
	r->repo = repo ? xstrdup(repo) : NULL;
	buf_init(&r->line, 256);
	buf_init(&r->err_first, 0);
	return r;
}

void recorder_origin(struct recorder *r, const char *repo_name, int64_t event_id, int attempt)
{
	if (!r)
		return;
	free(r->repo_name);
	r->repo_name = repo_name ? xstrdup(repo_name) : NULL;
	r->event_id = event_id;
	r->attempt = attempt;
}

static void broken(struct recorder *r, struct buf *err)
{
	if (!r->broken) {
		fprintf(stderr, "kiln: warning: run history not recorded: %s\n", err->buf);
		buf_addstr(&r->err_first, err->buf);
	}
	r->broken = 1;
}

/*
 * A write of the history cut by a lost connection (PostgreSQL restarted)
 * is tried once more, its transaction rolled back first: the next
 * statement reconnects, waiting for the server (store/pg.c). Only a
 * second failure, or any other, stops the recording.
 */
#define WRITE_TRIES 2

static int cut_by_loss(struct recorder *r, unsigned losses)
{
	return db_losses(r->db) != losses;
}

/* the loop is about to wait: make this turn's log lines durable */
static void on_turn(uv_check_t *h)
{
	struct recorder *r = h->data;
	size_t dirty = 0;
	for (size_t i = 0; i < r->nlive; i++)
		dirty += runs_log_dirty(&r->jobs[r->live[i]].log);
	if (r->broken || !dirty)
		return;
	struct buf err = BUF_INIT;
	/* what each log had stored: a rolled-back transaction stored nothing */
	size_t *synced = xcalloc(r->nlive, 2 * sizeof(*synced));
	for (size_t i = 0; i < r->nlive; i++) {
		synced[2 * i] = r->jobs[r->live[i]].log.synced;
		synced[2 * i + 1] = r->jobs[r->live[i]].log.times_synced;
	}
	int rc = 0;
	for (int try = 0; try < WRITE_TRIES; try++) {
		unsigned losses = db_losses(r->db);
		buf_reset(&err);
		int tx = dirty > 1 && sql_begin(r->db, &err) == 0;
		buf_reset(&err);
		rc = 0;
		for (size_t i = 0; i < r->nlive && !rc; i++)
			rc = runs_log_sync(&r->jobs[r->live[i]].log, &err);
		if (tx && (rc < 0 || sql_commit(r->db, &err) < 0)) {
			sql_rollback(r->db);
			rc = -1;
		}
		if (rc == 0 || !cut_by_loss(r, losses))
			break;
		for (size_t i = 0; tx && i < r->nlive; i++) {
			r->jobs[r->live[i]].log.synced = synced[2 * i];
			r->jobs[r->live[i]].log.times_synced = synced[2 * i + 1];
		}
	}
	free(synced);
	if (rc < 0)
		broken(r, &err);
	buf_release(&err);
}

void recorder_attach(struct recorder *r, uv_loop_t *loop)
{
	if (!r || r->attached)
		return;
	uv_check_init(loop, &r->turn);
	r->turn.data = r;
	uv_check_start(&r->turn, on_turn);
	uv_unref((uv_handle_t *)&r->turn); /* never keeps the loop alive */
	r->attached = 1;
}

int recorder_workflow(struct recorder *r, size_t wf_index, const char *file, const char *name,
		      const char *event, const char *ref, const char *sha)
{
	if (!r)
		return 1;
	if (wf_index >= r->nwfs) {
		r->wfs = xrealloc(r->wfs, (wf_index + 1) * sizeof(*r->wfs));
		memset(r->wfs + r->nwfs, 0, (wf_index + 1 - r->nwfs) * sizeof(*r->wfs));
		r->nwfs = wf_index + 1;
	}
	if (r->broken)
		return 1;
	struct run_info ri = { file, name, event, ref && *ref ? ref : NULL, sha && *sha ? sha : NULL,
			       r->repo, r->repo_name, r->event_id, r->attempt };
	struct buf err = BUF_INIT;
	int number = 1;
	if (runs_start(r->db, &ri, &r->wfs[wf_index].run_id, &number, &err) < 0) {
		broken(r, &err);
		number = 1;
	}
	buf_release(&err);
	return number;
}

static size_t name_hash(const char *s)
{
	size_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static void rehash(struct recorder *r)
{
	free(r->slots);
	r->nslots = r->nslots ? r->nslots * 2 : 64;
	r->slots = xmalloc(r->nslots * sizeof(*r->slots));
	for (size_t i = 0; i < r->nslots; i++)
		r->slots[i] = (size_t)-1;
	for (size_t i = 0; i < r->njobs; i++) {
		size_t at = name_hash(r->jobs[i].name) & (r->nslots - 1);
		while (r->slots[at] != (size_t)-1)
			at = (at + 1) & (r->nslots - 1);
		r->slots[at] = i;
	}
}

static struct rec_job *find(struct recorder *r, const char *name)
{
	if (!r->nslots)
		return NULL;
	size_t at = name_hash(name) & (r->nslots - 1);
	while (r->slots[at] != (size_t)-1) {
		if (!strcmp(r->jobs[r->slots[at]].name, name))
			return &r->jobs[r->slots[at]];
		at = (at + 1) & (r->nslots - 1);
	}
	return NULL;
}

static struct rec_job *add(struct recorder *r, size_t wf_index, const char *name)
{
	if (r->broken || wf_index >= r->nwfs || !r->wfs[wf_index].run_id)
		return NULL;
	struct buf err = BUF_INIT;
	int64_t id;
	if (runs_job_start(r->db, r->wfs[wf_index].run_id, name, &id, &err) < 0) {
		broken(r, &err);
		buf_release(&err);
		return NULL;
	}
	buf_release(&err);
	ALLOC_GROW(r->jobs, r->njobs + 1, r->jobs_alloc);
	struct rec_job *j = &r->jobs[r->njobs++];
	memset(j, 0, sizeof(*j));
	j->name = xstrdup(name);
	j->id = id;
	j->open = 1;
	ALLOC_GROW(r->live, r->nlive + 1, r->live_alloc);
	j->live_at = r->nlive;
	r->live[r->nlive++] = r->njobs - 1;
	runs_log_init(&j->log, r->db, id);
	if (!r->zc)
		r->zc = ZSTD_createCCtx(); /* NULL (no memory): one per chunk */
	runs_log_set_zctx(&j->log, r->zc);
	if (r->njobs * 2 > r->nslots)
		rehash(r);
	else {
		size_t at = name_hash(name) & (r->nslots - 1);
		while (r->slots[at] != (size_t)-1)
			at = (at + 1) & (r->nslots - 1);
		r->slots[at] = r->njobs - 1;
	}
	return j;
}

void recorder_job_start(void *arg, size_t wf_index, const char *job)
{
	struct recorder *r = arg;
	if (r && !find(r, job))
		add(r, wf_index, job);
}

static void close_job(struct recorder *r, struct rec_job *j, enum result res)
{
	struct buf err = BUF_INIT;
	/* the last log chunk and the job's end: one transaction, one commit */
	for (int try = 0; try < WRITE_TRIES && !r->broken; try++) {
		unsigned losses = db_losses(r->db);
		buf_reset(&err);
		int tx = sql_begin(r->db, &err) == 0;
		buf_reset(&err);
		/* the log is kept until committed (released below) */
		if (runs_log_store(&j->log, &err) == 0 &&
		    runs_job_finish(r->db, j->id, result_name(res), &err) == 0 &&
		    (!tx || sql_commit(r->db, &err) == 0))
			break;
		if (tx)
			sql_rollback(r->db);
		if (try + 1 == WRITE_TRIES || !cut_by_loss(r, losses))
			broken(r, &err);
	}
	buf_release(&err);
	runs_log_release(&j->log);
	j->open = 0;
	size_t last = r->live[--r->nlive];
	r->live[j->live_at] = last;
	r->jobs[last].live_at = j->live_at;
}

void recorder_job_end(void *arg, size_t wf_index, const char *job, enum result res)
{
	struct recorder *r = arg;
	if (!r)
		return;
	if (wf_index < r->nwfs) {
		r->wfs[wf_index].failed |= res == RESULT_FAILURE;
		r->wfs[wf_index].cancelled |= res == RESULT_CANCELLED;
	}
	struct rec_job *j = find(r, job);
	if (!j)
		j = add(r, wf_index, job);
	if (j && j->open)
		close_job(r, j, res);
}

void recorder_job_outputs(void *arg, const char *job, const struct ev *outputs)
{
	struct recorder *r = arg;
	struct rec_job *j = r ? find(r, job) : NULL;
	struct buf err = BUF_INIT, json = BUF_INIT;
	if (j && j->open && !r->broken) {
		ev_to_json(outputs, &json, 0);
		if (runs_job_outputs(r->db, j->id, json.buf, &err) < 0)
			broken(r, &err);
	}
	buf_release(&json);
	buf_release(&err);
}

static int prior_find(void *arg, const char *job, enum result *res, struct ev **outputs)
{
	struct recorder *r = arg;
	for (size_t i = 0; i < r->nprior; i++) {
		const struct runs_prior_job *p = &r->prior[i];
		if (strcmp(p->name, job))
			continue;
		if (r->rerun_job && !strcmp(r->rerun_job, job))
			return 0; /* the job asked for runs again */
		if (!strcmp(p->conclusion, "success"))
			*res = RESULT_SUCCESS;
		else if (!strcmp(p->conclusion, "skipped"))
			*res = RESULT_SKIPPED;
		else if (r->rerun_job && !strcmp(p->conclusion, "failure"))
			*res = RESULT_FAILURE; /* one job re-run: the others keep theirs */
		else if (r->rerun_job && !strcmp(p->conclusion, "cancelled"))
			*res = RESULT_CANCELLED;
		else
			return 0; /* failed, cancelled: it runs again */
		struct buf err = BUF_INIT;
		*outputs = p->outputs ? ev_from_json(p->outputs, strlen(p->outputs), &err) : NULL;
		buf_release(&err);
		return 1;
	}
	return 0; /* it did not run then */
}

int recorder_prior(struct recorder *r, int64_t run_id, const char *job, struct buf *err)
{
	if (!r) {
		buf_addstr(err, "the run history is not recorded");
		return -1;
	}
	if (runs_prior_jobs(r->db, run_id, &r->prior, &r->nprior, err) < 0)
		return -1;
	if (job) {
		size_t i;
		for (i = 0; i < r->nprior && strcmp(r->prior[i].name, job); i++)
			;
		if (i == r->nprior) {
			buf_addf(err, "run %lld has no job '%s'", (long long)run_id, job);
			return -1;
		}
		r->rerun_job = xstrdup(job);
	}
	r->reuse.find = prior_find;
	r->reuse.arg = r;
	return 0;
}

const struct sched_reuse *recorder_reuse(struct recorder *r)
{
	return r && r->reuse.find ? &r->reuse : NULL;
}

void recorder_job_summary(void *arg, const char *job, const char *markdown)
{
	struct recorder *r = arg;
	struct rec_job *j = r ? find(r, job) : NULL;
	struct buf err = BUF_INIT;
	if (j && j->open && !r->broken && runs_job_summary(r->db, j->id, markdown, &err) < 0)
		broken(r, &err);
	buf_release(&err);
}

int recorder_job_ids(struct recorder *r, size_t wf_index, const char *job, int64_t *run_id,
		     int64_t *job_id)
{
	struct rec_job *j = r ? find(r, job) : NULL;
	if (!j || wf_index >= r->nwfs || !r->wfs[wf_index].run_id)
		return -1;
	*run_id = r->wfs[wf_index].run_id;
	*job_id = j->id;
	return 0;
}

int64_t recorder_run_id(struct recorder *r, size_t wf_index)
{
	return r && wf_index < r->nwfs ? r->wfs[wf_index].run_id : 0;
}

void recorder_workflow_reason(struct recorder *r, size_t wf_index, const char *reason)
{
	if (!r || wf_index >= r->nwfs)
		return;
	free(r->wfs[wf_index].reason);
	r->wfs[wf_index].reason = xstrdup(reason);
}

void recorder_job_status(struct recorder *r, const char *job, const char *status)
{
	struct rec_job *j = r ? find(r, job) : NULL;
	if (!j || !j->open || r->broken)
		return;
	struct buf err = BUF_INIT;
	if (runs_job_set_status(r->db, j->id, status, &err) < 0)
		broken(r, &err);
	buf_release(&err);
}

/* LOG_ARTIFACT's "NAME\tSIZE\tFILES\tDIGEST\tDAYS" (the name may hold a
 * tab: the fields are taken from the right) */
static int record_artifact(struct recorder *r, int64_t job_id, const char *text, struct buf *err)
{
	char *s = xstrdup(text), *f[4];
	int rc;
	for (int i = 3; i >= 0; i--) {
		char *tab = strrchr(s, '\t');
		if (!tab) {
			free(s);
			return 0; /* not ours to fail a run over */
		}
		*tab = '\0';
		f[i] = tab + 1;
	}
	long long days = strtoll(f[3], NULL, 10);
	rc = artifacts_record(r->db, job_id, s, strtoll(f[0], NULL, 10), strtoll(f[1], NULL, 10), f[2],
			      runs_now_ms() + days * 86400000LL, err);
	/* on a shared database the blob goes to the store too, so every
	 * server replica serves it (an agent's upload is there already) */
	struct buf path = BUF_INIT;
	if (rc == 0 && db_dialect(r->db) == DB_POSTGRES && strlen(f[2]) == 64 &&
	    strspn(f[2], "0123456789abcdef") == 64 && kiln_data_dir(&path, err) == 0) {
		buf_addf(&path, "/artifacts/%s.tzst", f[2]);
		if (access(path.buf, R_OK) == 0)
			rc = blobs_put_file(r->db, f[2], BLOB_ARTIFACT, path.buf, err);
	}
	buf_release(&path);
	free(s);
	return rc;
}

void recorder_log(void *arg, const struct log_event *ev)
{
	struct recorder *r = arg;
	if (!r || r->broken || !ev->job)
		return;
	struct rec_job *j = find(r, ev->job);
	if (!j || !j->open)
		return;
	struct buf err = BUF_INIT;
	int rc = 0;
	buf_reset(&r->line);
	switch (ev->kind) {
	case LOG_STEP_START:
		rc = runs_step_start(r->db, j->id, ++j->nsteps, ev->text ? ev->text : "", &j->step_id, &err);
		buf_addf(&r->line, "> %s\n", ev->text ? ev->text : "");
		break;
	case LOG_STEP_END:
		if (j->step_id)
			rc = runs_step_finish(r->db, j->step_id, result_name(ev->result), &err);
		j->step_id = 0;
		buf_addf(&r->line, "< %s: %s\n", ev->text ? ev->text : "", result_name(ev->result));
		break;
	case LOG_OUTPUT:
		buf_add(&r->line, ev->text, ev->len);
		buf_addch(&r->line, '\n');
		break;
	case LOG_GROUP:
		buf_addf(&r->line, "== %.*s ==\n", (int)ev->len, ev->text);
		break;
	case LOG_ERROR:
	case LOG_WARNING:
	case LOG_NOTICE: {
		const char *level = ev->kind == LOG_ERROR ? "error" :
				    ev->kind == LOG_WARNING ? "warning" : "notice";
		buf_addf(&r->line, "%s: ", level);
		if (ev->file)
			buf_addf(&r->line, "%s:%d: ", ev->file, ev->line);
		buf_add(&r->line, ev->text, ev->len);
		buf_addch(&r->line, '\n');
		rc = annotations_add(r->db, j->id, level, ev->step, ev->file, ev->line, ev->col,
				     ev->title, ev->text, &err);
		break;
	}
	case LOG_ARTIFACT:
		rc = record_artifact(r, j->id, ev->text, &err);
		break;
	case LOG_INFO:
		buf_addf(&r->line, "kiln: %.*s\n", (int)ev->len, ev->text);
		break;
	case LOG_ENDGROUP:
		/* GitHub's raw-log marker: the web UI closes the group here */
		buf_addstr(&r->line, "##[endgroup]\n");
		break;
	case LOG_DEBUG:
		break;
	}
	unsigned losses = db_losses(r->db);
	if (rc == 0 && r->line.len) {
		rc = runs_log_write(&j->log, r->line.buf, r->line.len, &err);
		/* a full chunk's store cut by a lost connection: the text is kept */
		if (rc < 0 && cut_by_loss(r, losses)) {
			buf_reset(&err);
			rc = runs_log_flush(&j->log, &err);
		}
	}
	if (rc < 0)
		broken(r, &err);
	buf_release(&err);
}

/* close workflow w's run with its conclusion (once) */
static void finish_wf(struct recorder *r, struct rec_wf *w)
{
	struct buf err = BUF_INIT, reason = BUF_INIT;
	const char *c = w->failed ? "failure" : w->cancelled ? "cancelled" : "success";
	/* after a store error, still try to close the run (the error
	 * may have passed) and say that its record is incomplete; when
	 * this fails too, the next kiln closes it (recover.c) */
	if (w->reason)
		buf_addstr(&reason, w->reason);
	if (r->broken)
		buf_addf(&reason, "%sthe history of this run is incomplete: %s",
			 reason.len ? "; " : "", r->err_first.buf);
	if (runs_finish(r->db, w->run_id, c, reason.buf, &err) < 0 && !r->broken)
		broken(r, &err);
	buf_release(&err);
	buf_release(&reason);
	w->run_id = 0;
	r->closed_runs++;
}

void recorder_workflow_end(void *arg, size_t wf_index)
{
	struct recorder *r = arg;
	/* its jobs were closed (logs flushed) by their job_end, before this */
	if (r && wf_index < r->nwfs && r->wfs[wf_index].run_id)
		finish_wf(r, &r->wfs[wf_index]);
}

void recorder_finish(struct recorder *r)
{
	if (!r)
		return;
	if (r->attached) {
		uv_close((uv_handle_t *)&r->turn, NULL);
		r->attached = 0;
	}
	for (size_t i = 0; i < r->njobs; i++)
		if (r->jobs[i].open)
			close_job(r, &r->jobs[i], RESULT_CANCELLED);
	for (size_t i = 0; i < r->nwfs; i++)
		if (r->wfs[i].run_id)
			finish_wf(r, &r->wfs[i]);
	/* the warning may have scrolled away with the run's output: repeat
	 * it last */
	if (r->broken && r->closed_runs && !r->warned) {
		r->warned = 1;
		fprintf(stderr, "kiln: warning: the history of this run is incomplete (see 'kiln runs'): %s\n",
			r->err_first.buf);
	}
}

void recorder_close(struct recorder *r)
{
	if (!r)
		return;
	recorder_finish(r);
	for (size_t i = 0; i < r->njobs; i++)
		free(r->jobs[i].name);
	for (size_t i = 0; i < r->nwfs; i++)
		free(r->wfs[i].reason);
	free(r->jobs);
	free(r->slots);
	free(r->live);
	ZSTD_freeCCtx(r->zc);
	free(r->wfs);
	buf_release(&r->line);
	buf_release(&r->err_first);
	free(r->repo);
	free(r->repo_name);
	runs_prior_jobs_free(r->prior, r->nprior);
	free(r->rerun_job);
	db_close(r->db);
	free(r);
}
