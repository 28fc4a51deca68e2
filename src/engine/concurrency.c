/* concurrency: `concurrency:` groups of a run through the store (see concurrency.h). */
#include "base/kiln.h"
#include "engine/concurrency.h"
#include "engine/record.h"
#include "store/concurrency.h"
#include "store/db.h"
#include "store/open.h"
#include "store/recover.h"

#define WATCH_MS 1000
#define RECOVER_MS 5000 /* while waiting: close the runs of dead kilns */

struct slot {
	size_t wf;
	char *job;       /* NULL: the workflow-level group */
	char *group;
	int64_t id;      /* its row; 0 after a store error (then it does not count) */
	enum conc_state state;
	int handled;     /* a cancel was acted on */
};

struct conc_hook {
	struct db *db;
	char *scope;
	struct recorder *rec;
	struct sched *sched;
	struct sched_conc ops;
	uv_timer_t watch;   /* running slots: asked to cancel? */
	int watching;
	uint64_t recovered; /* last store_recover, loop ms */
	uv_loop_t *loop;
	struct slot *v;
	size_t nr, alloc;
};

static struct slot *find(struct conc_hook *h, size_t wf, const char *job)
{
	for (size_t i = 0; i < h->nr; i++)
		if (h->v[i].wf == wf && ((!job && !h->v[i].job) ||
					 (job && h->v[i].job && !strcmp(job, h->v[i].job))))
			return &h->v[i];
	return NULL;
}

static void warn(const char *what, const struct buf *err)
{
	fprintf(stderr, "kiln: warning: concurrency: %s: %s (the group is not enforced)\n", what,
		err->buf);
}

static void watch_cb(uv_timer_t *t);

static void watch(struct conc_hook *h)
{
	if (!h->watching) {
		uv_timer_start(&h->watch, watch_cb, WATCH_MS, WATCH_MS);
		h->watching = 1;
	}
}

/* a slot of the run asked to cancel: cancel its job(s) */
static void act_on_cancel(struct conc_hook *h, struct slot *sl, const char *reason)
{
	if (sl->handled)
		return;
	sl->handled = 1;
	if (!sl->job)
		recorder_workflow_reason(h->rec, sl->wf, reason);
	if (h->sched)
		sched_cancel_jobs(h->sched, sl->wf, sl->job, reason);
}

static void watch_cb(uv_timer_t *t)
{
	struct conc_hook *h = t->data;
	struct buf reason = BUF_INIT, err = BUF_INIT;
	int live = 0;
	for (size_t i = 0; i < h->nr; i++) {
		struct slot *sl = &h->v[i];
		if (!sl->id || (sl->state != CONC_RUNNING && sl->state != CONC_CANCEL))
			continue;
		if (conc_poll(h->db, sl->id, &sl->state, &reason, &err)) {
			warn("cannot read a group", &err);
			buf_reset(&err);
			continue;
		}
		if (sl->state == CONC_CANCEL)
			act_on_cancel(h, sl, reason.buf);
		live += sl->state == CONC_RUNNING;
	}
	if (!live) {
		uv_timer_stop(&h->watch);
		h->watching = 0;
	}
	buf_release(&reason);
	buf_release(&err);
}

/* one slot's answer: enter it (first time) or poll it */
static enum sched_gate_verdict ask_slot(struct conc_hook *h, size_t wf, const char *job,
					const struct sched_conc_group *g, struct buf *reason)
{
	struct slot *sl = find(h, wf, job);
	struct buf err = BUF_INIT, why = BUF_INIT;
	int64_t run = recorder_run_id(h->rec, wf);
	if (!run)
		return SCHED_GATE_PROCEED; /* not recorded: nothing to hold the group with */
	if (!sl) {
		ALLOC_GROW(h->v, h->nr + 1, h->alloc);
		sl = &h->v[h->nr++];
		memset(sl, 0, sizeof(*sl));
		sl->wf = wf;
		sl->job = job ? xstrdup(job) : NULL;
		sl->group = xstrdup(g->group);
		if (conc_enter(h->db, h->scope, g->group, run, job ? job : "", g->cancel_in_progress,
			       &sl->id, &sl->state, &err)) {
			warn("cannot enter a group", &err);
			sl->id = 0;
			sl->state = CONC_RUNNING;
		}
	} else if (sl->id && sl->state == CONC_PENDING) {
		uint64_t now = uv_now(h->loop);
		if (now - h->recovered >= RECOVER_MS) {
			h->recovered = now;
			store_recover(h->db, &err); /* a dead kiln's group is free */
			buf_reset(&err);
		}
		if (conc_poll(h->db, sl->id, &sl->state, &why, &err)) {
			warn("cannot read a group", &err);
			sl->state = CONC_RUNNING;
		}
	}
	buf_release(&err);
	enum sched_gate_verdict v = SCHED_GATE_PROCEED;
	switch (sl->state) {
	case CONC_PENDING:
		buf_addf(reason, "waiting for a run in concurrency group '%s' to complete", sl->group);
		v = SCHED_GATE_WAIT;
		break;
	case CONC_CANCEL:
	case CONC_CANCELLED:
	case CONC_DONE:
		if (!why.len && sl->id)
			conc_poll(h->db, sl->id, &sl->state, &why, &err);
		buf_addf(reason, "%s", why.len ? why.buf : "cancelled by its concurrency group");
		if (!sl->job && !sl->handled) {
			sl->handled = 1;
			recorder_workflow_reason(h->rec, wf, reason->buf);
		}
		v = SCHED_GATE_CANCEL;
		break;
	case CONC_RUNNING:
		if (sl->id)
			watch(h);
		break;
	}
	buf_release(&why);
	buf_release(&err);
	return v;
}

static enum sched_gate_verdict ask(void *arg, size_t wf_index, const char *job,
				   const struct sched_conc_group *wf,
				   const struct sched_conc_group *job_group, struct buf *reason,
				   uint64_t *retry_ms)
{
	struct conc_hook *h = arg;
	enum sched_gate_verdict v = SCHED_GATE_PROCEED;
	*retry_ms = 250;
	if (wf)
		v = ask_slot(h, wf_index, NULL, wf, reason);
	if (v == SCHED_GATE_PROCEED && job_group) {
		struct slot *w = wf ? find(h, wf_index, NULL) : NULL;
		if (w && w->state == CONC_CANCEL) { /* cancelled while its jobs start */
			buf_addstr(reason, "cancelled by its concurrency group");
			return SCHED_GATE_CANCEL;
		}
		v = ask_slot(h, wf_index, job, job_group, reason);
	}
	/* the history shows a job waiting for its group as "waiting" */
	if (v == SCHED_GATE_WAIT || v == SCHED_GATE_PROCEED)
		recorder_job_status(h->rec, job, v == SCHED_GATE_WAIT ? "waiting" : "in_progress");
	return v;
}

static void end(void *arg, size_t wf_index, const char *job)
{
	struct conc_hook *h = arg;
	struct slot *sl = find(h, wf_index, job);
	struct buf err = BUF_INIT;
	if (sl && sl->id && sl->state != CONC_DONE && sl->state != CONC_CANCELLED) {
		if (conc_leave(h->db, sl->id, &err))
			warn("cannot leave a group", &err);
		sl->state = CONC_DONE;
	}
	buf_release(&err);
}

/* the workflow's jobs have all finished: its group is free for the next */
static void wf_end(void *arg, size_t wf_index)
{
	end(arg, wf_index, NULL);
}

struct conc_hook *conc_hook_new(uv_loop_t *loop, struct recorder *rec, const char *scope,
				struct buf *err)
{
	struct db *db = NULL;
	if (store_open_default(&db, NULL, err) < 0) {
		if (db)
			db_close(db);
		return NULL;
	}
	struct conc_hook *h = xcalloc(1, sizeof(*h));
	h->db = db;
	h->scope = xstrdup(scope ? scope : "");
	h->rec = rec;
	h->loop = loop;
	h->ops.ask = ask;
	h->ops.end = end;
	h->ops.wf_end = wf_end;
	h->ops.arg = h;
	uv_timer_init(loop, &h->watch);
	h->watch.data = h;
	uv_unref((uv_handle_t *)&h->watch); /* the jobs keep the loop alive, not this */
	return h;
}

const struct sched_conc *conc_hook_sched(struct conc_hook *h)
{
	return h ? &h->ops : NULL;
}

void conc_hook_attach(struct conc_hook *h, struct sched *s)
{
	if (h)
		h->sched = s;
}

static void hook_closed(uv_handle_t *t)
{
	struct conc_hook *h = t->data;
	for (size_t i = 0; i < h->nr; i++) {
		free(h->v[i].job);
		free(h->v[i].group);
	}
	free(h->v);
	free(h->scope);
	db_close(h->db);
	free(h);
}

void conc_hook_free(struct conc_hook *h)
{
	if (!h)
		return;
	struct buf err = BUF_INIT;
	for (size_t i = 0; i < h->nr; i++)
		if (h->v[i].id && (h->v[i].state == CONC_PENDING || h->v[i].state == CONC_RUNNING ||
				   h->v[i].state == CONC_CANCEL))
			conc_leave(h->db, h->v[i].id, &err);
	buf_release(&err);
	uv_close((uv_handle_t *)&h->watch, hook_closed);
}
