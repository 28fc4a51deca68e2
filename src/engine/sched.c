/*
 * sched: the ready queue on libuv. Nodes are workflow jobs (plan_job);
 * instances are their matrix combinations. Counters drive everything: a
 * node waits for `pending` needs, a finished node decrements its
 * dependents, a ready list holds nodes with instances left to start.
 */
#include "base/kiln.h"
#include "engine/jobdir.h"
#include "engine/sched.h"

#include <ctype.h>

enum node_state { NODE_WAITING, NODE_READY, NODE_DONE };
enum inst_state { INST_QUEUED, INST_RUNNING, INST_DONE };

struct sched;
struct snode;

struct sinst {
	struct sched *s;
	struct snode *node;
	enum inst_state state;
	struct job_spec spec;
	char *name;          /* display name */
	char *key;           /* filename-safe key */
	int dir_kept;        /* its directory went to the run's pool (jobdir.h) */
	struct ev *contexts; /* owned */
	int continue_on_error;
	int reused;          /* its result is the previous attempt's (sched_reuse) */
	enum result result;
	uint64_t started;
	struct job_exec *je;
	struct sinst *reap_next; /* queued for job_exec_free */
	/* a reusable workflow call: the callee's jobs on a nested scheduler */
	struct sched *sub;
	struct ev **sub_ctx;     /* its starting contexts (per wf_index) */
	struct ev *sub_base;     /* the callee's workflow contexts */
	/* a job with `environment:` under a gate (sched_opts.gate) */
	char *environment;       /* the evaluated name; NULL: not gated */
	uv_timer_t *gate_timer;  /* asks again while waiting; freed on close */
	int waiting;             /* the gate said wait */
	int gate_cancel;         /* cancelled while waiting */
	char *wait_reason;       /* the last reason shown */
	int phase;               /* what the timer asks: PHASE_CONC or PHASE_ENV */
	int conc_asked;          /* the concurrency hook was asked (it hears the end) */
	struct sched_conc_group conc_wf, conc_job; /* evaluated groups (owned) */
	uint64_t timeout_ms;     /* evaluated before the gate, used at launch */
};

struct snode {
	const struct plan_job *pj;
	size_t index;
	enum node_state state;
	size_t pending;        /* needs not finished yet */
	struct sinst *inst;    /* instances, once expanded */
	size_t ninst;
	size_t next;           /* next instance to start */
	size_t running, finished;
	unsigned max_parallel; /* 0 = unlimited */
	int fail_fast;
	int has_matrix;
	int failed;            /* an instance failed (not continue-on-error) */
	int ran;               /* ran (or ended) in this attempt, not reused */
	int cancelled;         /* an instance was cancelled */
	int anc_failed;        /* this job or an ancestor failed */
	int anc_bad;           /* this job or an ancestor did not succeed */
	enum result result;    /* aggregate, once done */
	struct ev *outputs;    /* merged outputs of the instances */
	struct ev *needs;      /* the needs context, once ready */
	struct ev *github;     /* github context with job set */
	const struct reuse_call *call; /* a reusable workflow call, or NULL */
	int call_starting, call_again; /* start_calls() re-entered */
	struct snode *ready_next; /* in the ready list */
	int in_ready;
};

struct sched {
	uv_loop_t *loop;
	const struct plan *plan;
	struct runctx *rc;
	struct ev *const *wf_contexts;
	struct output *out;
	struct sched_opts opts;
	struct sched_exec_ops ops;
	struct log_sink sink;
	struct snode *nodes;     /* parallel to plan->jobs */
	struct strvec *wf_env;   /* per workflow: base env of its jobs (lazily) */
	size_t *wf_left;         /* per workflow: selected jobs not finished yet */
	size_t nwf;
	size_t nselected, ndone;
	unsigned running, peak;
	struct snode *ready_head, *ready_tail;
	size_t *work;            /* nodes whose needs just finished */
	size_t nwork, work_alloc, work_head;
	int cancelled, forced;
	int failed;
	int multi_wf;            /* more than one workflow: prefix names */
	int finished, done_called;
	int draining, again;     /* drain() re-entered from a callback */
	uv_idle_t reaper;        /* frees finished executors outside their callback */
	struct sinst *reap;
	unsigned removing;       /* job directories being removed on the thread pool */
	uint64_t t0;
};

static int real_start(uv_loop_t *loop, const struct job_spec *spec, const struct log_sink *sink,
		      job_done_cb done, void *arg, struct job_exec **out)
{
	return job_exec_start(loop, spec, sink, done, arg, out);
}

static const struct sched_exec_ops real_ops = { real_start, job_exec_cancel, job_exec_free, NULL, NULL };

static void drain(struct sched *s);
static void try_start(struct sched *s);
static void check_finished(struct sched *s);
static void reaper_cb(uv_idle_t *h);
static void gate_timer_cb(uv_timer_t *t);
static void gate_ask(struct sched *s, struct sinst *in);
static void conc_ask(struct sched *s, struct sinst *in);

enum { PHASE_CONC = 1, PHASE_ENV };
static void launch_inst(struct sched *s, struct sinst *in);
static void after_conc(struct sched *s, struct sinst *in);
static void call_inst_end(struct sched *s, struct snode *n, struct sinst *in, enum result r);
static void run_call(struct sched *s, struct snode *n, struct sinst *in);

/* executor events: to the output, and to the observer */
static void sink_event(void *arg, const struct log_event *ev)
{
	struct sched *s = arg;
	output_log(s->out, ev);
	if (s->opts.observer && s->opts.observer->log)
		s->opts.observer->log(s->opts.observer->arg, ev);
}

static void job_started(struct sched *s, const struct snode *n, const char *name)
{
	output_job_start(s->out, name);
	if (s->opts.observer && s->opts.observer->job_start)
		s->opts.observer->job_start(s->opts.observer->arg, n->pj->wf_index, name);
}

static void job_ended(struct sched *s, const struct snode *n, const char *name, enum result r,
		      uint64_t ns, const char *note)
{
	output_job_end(s->out, name, r, ns, note);
	if (s->opts.observer && s->opts.observer->job_end)
		s->opts.observer->job_end(s->opts.observer->arg, n->pj->wf_index, name, r);
}

struct sched *sched_new(uv_loop_t *loop, const struct plan *p, struct runctx *rc,
			struct ev *const *wf_contexts, struct output *out,
			const struct sched_opts *opts)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	s->loop = loop;
	s->plan = p;
	s->rc = rc;
	s->wf_contexts = wf_contexts;
	s->out = out;
	s->opts = *opts;
	if (!s->opts.parallel)
		s->opts.parallel = 1;
	s->ops = opts->ops ? *opts->ops : real_ops;
	s->sink.event = sink_event;
	s->sink.arg = s;
	s->nodes = xcalloc(p->nr ? p->nr : 1, sizeof(*s->nodes));
	for (size_t i = 0; i < p->nr; i++) {
		struct snode *n = &s->nodes[i];
		n->pj = &p->jobs[i];
		n->index = i;
		n->pending = n->pj->nneeds;
		if (n->pj->selected)
			s->nselected++;
		if (n->pj->wf_index)
			s->multi_wf = 1;
		if (n->pj->wf_index + 1 > s->nwf)
			s->nwf = n->pj->wf_index + 1;
	}
	s->wf_env = xcalloc(s->nwf ? s->nwf : 1, sizeof(*s->wf_env));
	s->wf_left = xcalloc(s->nwf ? s->nwf : 1, sizeof(*s->wf_left));
	for (size_t i = 0; i < p->nr; i++)
		s->wf_left[p->jobs[i].wf_index] += p->jobs[i].selected != 0;
	uv_idle_init(loop, &s->reaper);
	s->reaper.data = s;
	return s;
}

/* ---- names and contexts ---- */

static char *base_name(struct sched *s, const struct snode *n, const char *name)
{
	if (s->opts.prefix)
		return xstrfmt("%s / %s", s->opts.prefix, name);
	if (!s->multi_wf)
		return xstrdup(name);
	return xstrfmt("%s / %s", runctx_workflow_name(s->rc, n->pj->wf), name);
}

static char *make_key(const struct sched *s, const struct snode *n, size_t idx, size_t ninst)
{
	struct buf b = BUF_INIT;
	if (n->pj->wf_index)
		buf_addf(&b, "w%zu-", n->pj->wf_index + 1);
	if (s->opts.key_prefix)
		buf_addf(&b, "%s-", s->opts.key_prefix);
	for (const char *p = n->pj->job->id.s; *p; p++)
		buf_addch(&b, (isalnum((unsigned char)*p) || *p == '-' || *p == '_') ? *p : '_');
	if (ninst > 1)
		buf_addf(&b, "-%zu", idx + 1);
	return buf_detach(&b, NULL);
}

/* contexts for job-level expressions: if, strategy, name, ... */
static struct ev *node_contexts(struct sched *s, struct snode *n, const struct ev *matrix,
				const struct ev *strategy)
{
	const struct ev *wc = s->wf_contexts[n->pj->wf_index];
	struct ev *c = ev_object();
	for (size_t i = 0; i < ev_len(wc); i++)
		ev_object_set(c, ev_object_key_at(wc, i), ev_ref(ev_object_val_at(wc, i)));
	ev_object_set(c, "github", ev_ref(n->github));
	ev_object_set(c, "needs", ev_ref(n->needs));
	/* a job with `environment:` sees that environment's stored secrets */
	const struct ynode *env = n->pj->job->environment;
	if (env && env->kind == YNODE_MAP)
		env = ynode_get(env, "name");
	const struct ev *es = env && env->str && s->rc->env_secrets ?
				      ev_object_get(s->rc->env_secrets, env->str) : NULL;
	if (es)
		ev_object_set(c, "secrets", ev_ref(es));
	/* and its variables (kiln serve: the repository's with the environment's over them) */
	const struct ev *ev = env && env->str && s->rc->env_vars ?
				      ev_object_get(s->rc->env_vars, env->str) : NULL;
	if (ev)
		ev_object_set(c, "vars", ev_ref(ev));
	ev_object_set(c, "matrix", matrix ? ev_ref(matrix) : ev_object());
	ev_object_set(c, "strategy", strategy ? ev_ref(strategy) : ev_object());
	return c;
}

static enum expr_status node_status(const struct sched *s, const struct snode *n)
{
	if (s->cancelled)
		return EXPR_STATUS_CANCELLED;
	return n->anc_failed ? EXPR_STATUS_FAILURE : EXPR_STATUS_SUCCESS;
}

/* does the `if:` text call a status function? (then it runs even when an
 * ancestor failed or was skipped, if it says so) */
static int cond_uses_status(const char *cond)
{
	size_t len = strlen(cond);
	const char *p = cond;
	while (len && isspace((unsigned char)*p)) {
		p++;
		len--;
	}
	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	if (len >= 5 && !memcmp(p, "${{", 3) && !memcmp(p + len - 2, "}}", 2)) {
		p += 3;
		len -= 5;
	}
	struct buf err = BUF_INIT;
	struct expr *e = expr_parse(p, len, &err, NULL);
	buf_release(&err);
	int uses = e && expr_uses_status(e);
	expr_free(e);
	return uses;
}

/* ---- completion ---- */

static void ready_push(struct sched *s, struct snode *n)
{
	if (n->in_ready)
		return;
	n->in_ready = 1;
	n->ready_next = NULL;
	if (s->ready_tail)
		s->ready_tail->ready_next = n;
	else
		s->ready_head = n;
	s->ready_tail = n;
}

static void node_done(struct sched *s, struct snode *n)
{
	if (n->state == NODE_DONE)
		return;
	n->state = NODE_DONE;
	s->ndone++;
	if (n->pj->selected && !--s->wf_left[n->pj->wf_index]) {
		if (s->opts.conc && s->opts.conc->wf_end && !s->opts.conc_wf_outer)
			s->opts.conc->wf_end(s->opts.conc->arg, n->pj->wf_index);
		/* the workflow is over even if another of the run's waits on */
		if (!s->opts.prefix && s->opts.observer && s->opts.observer->wf_end)
			s->opts.observer->wf_end(s->opts.observer->arg, n->pj->wf_index);
	}
	if (n->failed)
		n->result = RESULT_FAILURE;
	else if (n->cancelled)
		n->result = RESULT_CANCELLED;
	if (n->result == RESULT_FAILURE)
		n->anc_failed = 1;
	if (n->result != RESULT_SUCCESS)
		n->anc_bad = 1;
	for (size_t k = 0; k < n->pj->ndeps; k++) {
		struct snode *d = &s->nodes[n->pj->deps[k]];
		if (!d->pj->selected)
			continue;
		d->anc_failed |= n->anc_failed;
		d->anc_bad |= n->anc_bad;
		if (--d->pending == 0) {
			ALLOC_GROW(s->work, s->nwork + 1, s->work_alloc);
			s->work[s->nwork++] = d->index;
		}
	}
}

/* a job that ends without running: skipped, cancelled, or an error */
static void node_end_early(struct sched *s, struct snode *n, enum result r, const char *why)
{
	n->ran = 1; /* its result is this attempt's: its dependents run again */
	const char *nm = n->pj->job->name.s;
	const char *name = nm && !plan_has_expr(nm, strlen(nm)) ? nm : n->pj->job->id.s;
	char *dn = base_name(s, n, name);
	if (r == RESULT_FAILURE) {
		struct log_event ev = { .kind = LOG_ERROR, .job = dn, .text = why, .len = strlen(why) };
		sink_event(s, &ev);
		s->failed = 1;
		n->failed = 1;
	} else if (r == RESULT_CANCELLED) {
		n->cancelled = 1;
	}
	n->result = r;
	job_ended(s, n, dn, r, 0, r == RESULT_FAILURE ? NULL : why);
	free(dn);
	node_done(s, n);
}

static void merge_outputs(struct snode *n, const struct ev *outs)
{
	if (!outs || ev_kind(outs) != EV_OBJECT)
		return;
	for (size_t i = 0; i < ev_len(outs); i++) {
		const struct ev *v = ev_object_val_at(outs, i);
		/* a matrix instance's empty output does not hide another's value */
		if (ev_kind(v) == EV_STRING) {
			size_t l;
			ev_get_str(v, &l);
			if (!l && ev_object_get(n->outputs, ev_object_key_at(outs, i)))
				continue;
		}
		ev_object_set(n->outputs, ev_object_key_at(outs, i), ev_ref(v));
	}
}

static void cancel_siblings(struct sched *s, struct snode *n, uint64_t grace)
{
	for (size_t i = 0; i < n->ninst; i++) {
		struct sinst *in = &n->inst[i];
		if (in->state == INST_RUNNING && in->waiting) {
			/* not started: ends as cancelled on the next loop turn */
			in->gate_cancel = 1;
			uv_timer_start(in->gate_timer, gate_timer_cb, 0, 0);
		} else if (in->state == INST_RUNNING && in->je) {
			s->ops.cancel(in->je, grace);
		}
	}
	/* queued instances never start */
	while (n->next < n->ninst) {
		struct sinst *in = &n->inst[n->next++];
		in->state = INST_DONE;
		in->result = RESULT_CANCELLED;
		n->cancelled = 1;
		n->finished++;
		job_ended(s, n, in->name, RESULT_CANCELLED, 0, "not started");
	}
}

static void gate_timer_closed(uv_handle_t *h)
{
	free(h);
}

static void inst_done(struct job_exec *je, const struct job_result *res, void *arg)
{
	struct sinst *in = arg;
	struct sched *s = in->s;
	struct snode *n = in->node;
	if (n->call) {
		/* a call ended before its callee started (its concurrency group) */
		job_ended(s, n, in->name, res->result, 0, NULL);
		call_inst_end(s, n, in, res->result);
		return;
	}
	in->state = INST_DONE;
	in->waiting = 0;
	if (in->gate_timer) {
		uv_close((uv_handle_t *)in->gate_timer, gate_timer_closed);
		in->gate_timer = NULL;
	}
	in->result = res->result;
	uint64_t el = now_ns() - in->started;
	merge_outputs(n, res->outputs);
	const char *note = NULL;
	if (res->result == RESULT_FAILURE && in->continue_on_error) {
		note = "continue-on-error";
	} else if (res->result == RESULT_FAILURE) {
		n->failed = 1;
		s->failed = 1;
	} else if (res->result == RESULT_CANCELLED) {
		n->cancelled = 1;
	}
	if (res->summary && s->opts.observer && s->opts.observer->job_summary)
		s->opts.observer->job_summary(s->opts.observer->arg, in->name, res->summary);
	if (res->outputs && ev_len(res->outputs) && s->opts.observer &&
	    s->opts.observer->job_outputs)
		s->opts.observer->job_outputs(s->opts.observer->arg, in->name, res->outputs);
	job_ended(s, n, in->name, res->result, el, note);
	/* after job_ended: the job's log is in the history when the gate hears */
	if (in->environment && s->opts.gate && s->opts.gate->end) {
		s->opts.gate->end(s->opts.gate->arg, n->pj->wf_index, in->name, res->result);
		sched_wake(s); /* its environment may be free for a waiting job */
	}
	if (in->conc_asked && s->opts.conc->end)
		s->opts.conc->end(s->opts.conc->arg, n->pj->wf_index, in->name);
	s->running--;
	n->running--;
	n->finished++;
	/* an earlier attempt's failure cancels nothing now */
	if (res->result == RESULT_FAILURE && !in->continue_on_error && !in->reused && n->fail_fast &&
	    n->has_matrix)
		cancel_siblings(s, n, s->opts.grace_ms);
	/* every process of the job has exited: the jobs started below may
	 * reuse its directory (the executor only frees memory from now on) */
	if (je && s->ops.free == job_exec_free && s->rc && s->rc->jobdirs && !s->rc->keep &&
	    in->key && jobdir_put(s->rc->jobdirs, in->key) == 0)
		in->dir_kept = 1;
	/* free the executor outside its own callback */
	in->reap_next = s->reap;
	s->reap = in;
	uv_idle_start(&s->reaper, reaper_cb);
	if (n->finished == n->ninst)
		node_done(s, n);
	drain(s);
}

/* ---- starting ---- */

static uint64_t eval_timeout(struct sched *s, const struct snode *n, const struct expr_ctx *ctx,
			     struct buf *err)
{
	const struct ynode *t = n->pj->job->timeout_minutes;
	if (!t)
		return 360ull * 60 * 1000; /* GitHub's default: 360 minutes */
	struct ev *v = plan_value(t, ctx, err, NULL, NULL);
	if (!v)
		return 0;
	double m = ev_kind(v) == EV_NUMBER ? ev_get_number(v) : -1;
	if (ev_kind(v) == EV_STRING) {
		char *end;
		m = strtod(ev_get_str(v, NULL), &end);
		if (*end)
			m = -1;
	}
	ev_unref(v);
	if (!(m > 0)) {
		buf_addstr(err, "timeout-minutes must be a positive number");
		return 0;
	}
	(void)s;
	return (uint64_t)(m * 60000.0);
}

static int eval_flag(const struct ynode *node, const struct expr_ctx *ctx, int dflt,
		     struct buf *err)
{
	if (!node)
		return dflt;
	struct ev *v = plan_value(node, ctx, err, NULL, NULL);
	if (!v)
		return -1;
	int r = ev_truthy(v);
	/* "false" from an expression reads as false, as GitHub converts */
	if (ev_kind(v) == EV_STRING && !strcmp(ev_get_str(v, NULL), "false"))
		r = 0;
	ev_unref(v);
	return r;
}

/*
 * runs-on known only now (an expression, e.g. over the matrix) naming
 * another operating system: the instance fails with the reason, as the
 * plan does for static labels (plan_check_support). 1 when it failed.
 */
static int has_expr_node(const struct ynode *n)
{
	if (!n)
		return 0;
	if (n->kind == YNODE_SCALAR)
		return n->str && plan_has_expr(n->str, strlen(n->str));
	for (size_t i = 0; i < n->nr; i++)
		if (has_expr_node(n->items[i]))
			return 1;
	return 0;
}

static int foreign_runner(struct sched *s, struct snode *n, struct sinst *in,
			  const struct expr_ctx *ctx)
{
	const struct ynode *ro = n->pj->job->runs_on;
	if (!ro || n->pj->cannot || !has_expr_node(ro))
		return 0;
	struct buf err = BUF_INIT, why = BUF_INIT;
	struct ev *v = plan_value(ro, ctx, &err, NULL, NULL);
	int bad = v && plan_runs_on_foreign(v, &why);
	ev_unref(v);
	if (bad) {
		char *msg = xstrfmt("%s:%d:%d: job '%s' cannot run: %s", n->pj->wf->file, ro->line,
				    ro->col, n->pj->job->id.s, why.buf);
		struct log_event ev = { .kind = LOG_ERROR, .job = in->name, .text = msg,
					.len = strlen(msg) };
		sink_event(s, &ev);
		free(msg);
		struct job_result r = { .result = RESULT_FAILURE };
		inst_done(NULL, &r, in);
	}
	buf_release(&err);
	buf_release(&why);
	return bad;
}

/* ---- deployment environments (sched_opts.gate) ---- */

static void inst_fail(struct sched *s, struct sinst *in, const char *msg)
{
	struct log_event ev = { .kind = LOG_ERROR, .job = in->name, .text = msg, .len = strlen(msg) };
	sink_event(s, &ev);
	struct job_result r = { .result = RESULT_FAILURE };
	inst_done(NULL, &r, in);
}

/* evaluate `environment:` (a name, or {name, url}); 0 after failing the instance */
static int gate_environment(struct sched *s, struct snode *n, struct sinst *in,
			    const struct expr_ctx *ctx)
{
	const struct ynode *e = n->pj->job->environment;
	if (e->kind == YNODE_MAP)
		e = ynode_get(e, "name");
	if (!e)
		return 1; /* {url: ...} only: no environment to gate */
	struct buf err = BUF_INIT;
	struct ev *v = plan_value(e, ctx, &err, NULL, NULL);
	const char *name = v && ev_kind(v) == EV_STRING ? ev_get_str(v, NULL) : NULL;
	if (name && *name) {
		in->environment = xstrdup(name);
	} else if (v) {
		/* an empty name: GitHub runs the job without an environment */
	} else {
		char *msg = xstrfmt("%s:%d:%d: %s", n->pj->wf->file, e->line, e->col, err.buf);
		ev_unref(v);
		buf_release(&err);
		inst_fail(s, in, msg);
		free(msg);
		return 0;
	}
	ev_unref(v);
	buf_release(&err);
	return 1;
}

static void gate_timer_cb(uv_timer_t *t)
{
	struct sinst *in = t->data;
	if (in->gate_cancel) {
		struct log_event ev = { .kind = LOG_WARNING, .job = in->name,
					.text = "cancelled while waiting", .len = 23 };
		sink_event(in->s, &ev);
		struct job_result r = { .result = RESULT_CANCELLED };
		inst_done(NULL, &r, in);
		return;
	}
	if (in->phase == PHASE_CONC)
		conc_ask(in->s, in);
	else
		gate_ask(in->s, in);
}

/* wait on the instance's timer: show reason once, ask again after retry */
static void inst_wait(struct sched *s, struct sinst *in, const struct buf *reason, uint64_t retry)
{
	if (!in->wait_reason || strcmp(in->wait_reason, reason->buf)) {
		struct log_event ev = { .kind = LOG_WARNING, .job = in->name, .text = reason->buf,
					.len = reason->len };
		sink_event(s, &ev);
		free(in->wait_reason);
		in->wait_reason = xstrdup(reason->buf);
	}
	if (!in->gate_timer) {
		in->gate_timer = xmalloc(sizeof(*in->gate_timer));
		uv_timer_init(s->loop, in->gate_timer);
		in->gate_timer->data = in;
	}
	in->waiting = 1;
	uv_timer_start(in->gate_timer, gate_timer_cb, retry ? retry : 1, 0);
}

static void gate_ask(struct sched *s, struct sinst *in)
{
	struct snode *n = in->node;
	struct buf reason = BUF_INIT;
	uint64_t retry = 1000;
	enum sched_gate_verdict v = s->opts.gate->ask(s->opts.gate->arg, n->pj->wf_index, in->name,
						      in->environment, &reason, &retry);
	if (v == SCHED_GATE_WAIT) {
		inst_wait(s, in, &reason, retry);
	} else if (v == SCHED_GATE_REJECT || v == SCHED_GATE_CANCEL) {
		in->waiting = 0;
		inst_fail(s, in, reason.buf);
	} else {
		in->waiting = 0;
		if (in->wait_reason) {
			struct log_event ev = { .kind = LOG_OUTPUT, .job = in->name,
						.text = "deployment approved: starting", .len = 29 };
			sink_event(s, &ev);
		}
		in->started = now_ns(); /* the job's time starts now, not while it waited */
		launch_inst(s, in);
	}
	buf_release(&reason);
}

/* ---- concurrency groups (sched_opts.conc) ---- */

/* one `concurrency:` (a group string, or {group, cancel-in-progress}) */
static int conc_value(const struct ynode *c, const struct expr_ctx *ctx,
		      struct sched_conc_group *out, struct buf *err, const struct ynode **at)
{
	const struct ynode *g = c->kind == YNODE_MAP ? ynode_get(c, "group") : c;
	*at = g ? g : c;
	if (!g)
		return 0;
	struct ev *v = plan_value(g, ctx, err, NULL, NULL);
	if (!v)
		return -1;
	struct buf text = BUF_INIT;
	ev_to_string(v, &text);
	ev_unref(v);
	if (!text.len) {
		buf_release(&text);
		return 0; /* an empty group: no group (GitHub's runner does the same) */
	}
	out->group = buf_detach(&text, NULL);
	if (c->kind == YNODE_MAP) {
		const struct ynode *cip = ynode_get(c, "cancel-in-progress");
		*at = cip ? cip : *at;
		int f = eval_flag(cip, ctx, 0, err);
		if (f < 0)
			return -1;
		out->cancel_in_progress = f;
	}
	return 0;
}

/* evaluate the workflow's and the job's groups; -1 after failing the instance */
static int conc_eval(struct sched *s, struct snode *n, struct sinst *in, const struct expr_ctx *ctx)
{
	struct buf err = BUF_INIT;
	const struct ynode *at = NULL;
	int rc = 0;
	if (n->pj->wf->concurrency) {
		struct expr_ctx wctx = { .contexts = s->wf_contexts[n->pj->wf_index],
					 .status = ctx->status };
		rc = conc_value(n->pj->wf->concurrency, &wctx, &in->conc_wf, &err, &at);
	}
	if (!rc && n->pj->job->concurrency)
		rc = conc_value(n->pj->job->concurrency, ctx, &in->conc_job, &err, &at);
	if (rc) {
		char *msg = xstrfmt("%s:%d:%d: %s", n->pj->wf->file, at->line, at->col, err.buf);
		inst_fail(s, in, msg);
		free(msg);
	}
	buf_release(&err);
	return rc;
}

static void conc_ask(struct sched *s, struct sinst *in)
{
	struct snode *n = in->node;
	struct buf reason = BUF_INIT;
	uint64_t retry = 500;
	in->conc_asked = 1;
	enum sched_gate_verdict v = s->opts.conc->ask(s->opts.conc->arg, n->pj->wf_index, in->name,
						      in->conc_wf.group ? &in->conc_wf : NULL,
						      in->conc_job.group ? &in->conc_job : NULL,
						      &reason, &retry);
	if (v == SCHED_GATE_WAIT) {
		inst_wait(s, in, &reason, retry);
	} else if (v == SCHED_GATE_CANCEL || v == SCHED_GATE_REJECT) {
		in->waiting = 0;
		struct log_event ev = { .kind = LOG_ERROR, .job = in->name, .text = reason.buf,
					.len = reason.len };
		sink_event(s, &ev);
		struct job_result r = { .result = v == SCHED_GATE_CANCEL ? RESULT_CANCELLED
									  : RESULT_FAILURE };
		inst_done(NULL, &r, in);
	} else {
		in->waiting = 0;
		if (in->wait_reason) {
			struct log_event ev = { .kind = LOG_OUTPUT, .job = in->name,
						.text = "concurrency group free: starting", .len = 32 };
			sink_event(s, &ev);
		}
		in->started = now_ns(); /* the job's time starts now, not while it waited */
		after_conc(s, in);
	}
	buf_release(&reason);
}

void sched_wake(struct sched *s)
{
	for (size_t i = 0; s && i < s->plan->nr; i++) {
		struct snode *n = &s->nodes[i];
		for (size_t k = 0; k < n->ninst; k++) {
			struct sinst *in = &n->inst[k];
			if (in->state != INST_RUNNING)
				continue;
			if (in->sub)
				sched_wake(in->sub);
			else if (in->waiting && in->gate_timer)
				uv_timer_start(in->gate_timer, gate_timer_cb, 0, 0);
		}
	}
}

void sched_cancel_jobs(struct sched *s, size_t wf_index, const char *job, const char *reason)
{
	for (size_t i = 0; i < s->plan->nr; i++) {
		struct snode *n = &s->nodes[i];
		if (n->pj->wf_index != wf_index)
			continue;
		for (size_t k = 0; k < n->ninst; k++) {
			struct sinst *in = &n->inst[k];
			if (in->state != INST_RUNNING || (job && strcmp(job, in->name)))
				continue;
			struct log_event ev = { .kind = LOG_ERROR, .job = in->name, .text = reason,
						.len = strlen(reason) };
			sink_event(s, &ev);
			if (in->sub) {
				sched_cancel(in->sub, 0);
			} else if (in->waiting && in->gate_timer) {
				in->gate_cancel = 1;
				uv_timer_start(in->gate_timer, gate_timer_cb, 0, 0);
			} else if (in->je) {
				s->ops.cancel(in->je, s->opts.grace_ms);
			}
		}
	}
}

/* a job this one needs ran in this attempt (then it runs again too) */
static int needs_ran(const struct sched *s, const struct snode *n)
{
	for (size_t i = 0; i < n->pj->nneeds; i++)
		if (s->nodes[n->pj->needs[i]].ran)
			return 1;
	return 0;
}

/* re-running the failed jobs: the instance's earlier success is its result */
static int reuse_inst(struct sched *s, struct snode *n, struct sinst *in)
{
	enum result r;
	struct ev *outs = NULL;
	if (!s->opts.reuse || needs_ran(s, n) ||
	    !s->opts.reuse->find(s->opts.reuse->arg, in->name, &r, &outs))
		return 0;
	job_started(s, n, in->name);
	char *msg = xstrfmt("%s in the previous attempt: not run again", result_name(r));
	struct log_event ev = { .kind = LOG_INFO, .job = in->name, .text = msg, .len = strlen(msg) };
	sink_event(s, &ev);
	free(msg);
	struct job_result res = { .result = r, .outputs = outs };
	in->reused = 1;
	inst_done(NULL, &res, in);
	ev_unref(outs);
	return 1;
}

static void start_inst(struct sched *s, struct snode *n, struct sinst *in)
{
	struct expr_ctx ctx = { .contexts = in->contexts, .status = node_status(s, n) };
	struct buf err = BUF_INIT;
	in->started = now_ns();
	in->state = INST_RUNNING;
	s->running++;
	n->running++;
	if (s->running > s->peak)
		s->peak = s->running;
	if (reuse_inst(s, n, in))
		return;
	n->ran = 1;
	uint64_t tmo = eval_timeout(s, n, &ctx, &err);
	int coe = err.len ? 0 : eval_flag(n->pj->job->continue_on_error, &ctx, 0, &err);
	job_started(s, n, in->name);
	if (!err.len && coe >= 0 && foreign_runner(s, n, in, &ctx)) {
		buf_release(&err);
		return;
	}
	if (err.len || coe < 0) {
		const struct ynode *at = err.len && n->pj->job->timeout_minutes ?
			n->pj->job->timeout_minutes : n->pj->job->continue_on_error;
		char *msg = at ? xstrfmt("%s:%d:%d: %s", n->pj->wf->file, at->line, at->col, err.buf)
			       : xstrdup(err.buf);
		struct job_result r = { .result = RESULT_FAILURE };
		struct log_event ev = { .kind = LOG_ERROR, .job = in->name, .text = msg,
					.len = strlen(msg) };
		sink_event(s, &ev);
		free(msg);
		buf_release(&err);
		inst_done(NULL, &r, in);
		return;
	}
	in->continue_on_error = coe;
	in->timeout_ms = tmo;
	buf_release(&err);
	if (s->opts.conc && (n->pj->wf->concurrency || n->pj->job->concurrency)) {
		if (conc_eval(s, n, in, &ctx))
			return; /* failed: a bad group expression */
		in->phase = PHASE_CONC;
		conc_ask(s, in);
		return;
	}
	after_conc(s, in);
}

/* past the concurrency groups: the deployment gate, then the executor */
static void after_conc(struct sched *s, struct sinst *in)
{
	struct snode *n = in->node;
	struct expr_ctx ctx = { .contexts = in->contexts, .status = node_status(s, n) };
	if (n->call) {
		free(in->wait_reason);
		in->wait_reason = NULL;
		run_call(s, n, in);
		return;
	}
	if (s->opts.gate && n->pj->job->environment && !gate_environment(s, n, in, &ctx))
		return; /* failed: bad environment name */
	free(in->wait_reason);
	in->wait_reason = NULL;
	if (in->environment) {
		in->phase = PHASE_ENV;
		gate_ask(s, in);
	} else {
		launch_inst(s, in);
	}
}

/* the executor takes the instance */
static void launch_inst(struct sched *s, struct sinst *in)
{
	struct snode *n = in->node;
	uint64_t tmo = in->timeout_ms;
	in->spec.wf = n->pj->wf;
	in->spec.job = n->pj->job;
	in->spec.job_id = n->pj->job->id.s;
	in->spec.display_name = in->name;
	in->spec.contexts = in->contexts;
	in->spec.repo_dir = s->rc->repo_dir;
	in->spec.snapshot_dir = s->rc->snapshot_dir;
	/* at most one job takes the snapshot */
	in->spec.snapshot_take = s->rc->snapshot_take;
	s->rc->snapshot_take = 0;
	in->spec.jobdirs = s->rc->jobdirs;
	in->spec.run_dir = s->rc->run_dir;
	in->spec.job_key = in->key;
	in->spec.base_env = &s->wf_env[n->pj->wf_index];
	in->spec.timeout_ms = tmo;
	in->spec.verbose = s->opts.verbose;
	in->spec.isolate = s->opts.isolate;
	in->spec.actions = s->rc->actions;
	in->spec.wf_src = s->opts.wf_src;
	in->spec.wf_index = n->pj->wf_index;
	int r = s->ops.start_with ? s->ops.start_with(s->ops.data, s->loop, &in->spec, &s->sink,
						      inst_done, in, &in->je)
				  : s->ops.start(s->loop, &in->spec, &s->sink, inst_done, in, &in->je);
	if (r < 0) {
		char *msg = xstrfmt("cannot start job: %s", kiln_strerror(r));
		struct log_event ev = { .kind = LOG_ERROR, .job = in->name, .text = msg,
					.len = strlen(msg) };
		sink_event(s, &ev);
		free(msg);
		in->je = NULL;
		struct job_result res = { .result = RESULT_FAILURE };
		inst_done(NULL, &res, in);
	}
}

static void try_start(struct sched *s)
{
	struct snode **link = &s->ready_head, *prev = NULL;
	while (*link && s->running < s->opts.parallel && !s->forced) {
		struct snode *n = *link;
		if (n->next < n->ninst && !(n->max_parallel && n->running >= n->max_parallel)) {
			start_inst(s, n, &n->inst[n->next++]);
			if (n->next < n->ninst)
				continue; /* the same job may start more */
		}
		if (n->next >= n->ninst) {
			/* nothing left to start: unlink */
			*link = n->ready_next;
			n->in_ready = 0;
			if (s->ready_tail == n)
				s->ready_tail = prev;
			continue;
		}
		prev = n;
		link = &n->ready_next;
	}
}

/* evaluate a strategy value (fail-fast, max-parallel) */
static int strategy_values(struct snode *n, const struct expr_ctx *ctx, struct buf *err)
{
	const struct wf_strategy *st = &n->pj->job->strategy;
	n->fail_fast = eval_flag(st->fail_fast, ctx, 1, err);
	if (n->fail_fast < 0)
		return -1;
	n->max_parallel = 0;
	if (st->max_parallel) {
		struct ev *v = plan_value(st->max_parallel, ctx, err, NULL, NULL);
		if (!v)
			return -1;
		double d = ev_kind(v) == EV_NUMBER ? ev_get_number(v) :
			   ev_kind(v) == EV_STRING ? strtod(ev_get_str(v, NULL), NULL) : 0;
		ev_unref(v);
		if (!(d >= 1)) {
			buf_addstr(err, "max-parallel must be a number of at least 1");
			return -1;
		}
		n->max_parallel = d > 1e6 ? 1000000u : (unsigned)d;
	}
	return 0;
}

static char *inst_name(struct sched *s, struct snode *n, const struct expr_ctx *ctx,
		       const char *suffix, struct buf *err)
{
	const struct wf_str *nm = &n->pj->job->name;
	if (nm->s && plan_has_expr(nm->s, strlen(nm->s))) {
		/* a name with expressions is the whole display name */
		struct ev *v = expr_interpolate(nm->s, strlen(nm->s), ctx, err);
		if (!v)
			return NULL;
		struct buf b = BUF_INIT;
		ev_to_string(v, &b);
		ev_unref(v);
		char *r = base_name(s, n, b.buf);
		buf_release(&b);
		return r;
	}
	char *base = base_name(s, n, nm->s ? nm->s : n->pj->job->id.s);
	char *r = plan_display_name(base, suffix);
	free(base);
	return r;
}

static struct ev *strategy_ctx(const struct snode *n, size_t idx, size_t total)
{
	struct ev *st = ev_object();
	ev_object_set(st, "fail-fast", ev_bool(n->fail_fast));
	ev_object_set(st, "job-index", ev_number((double)idx));
	ev_object_set(st, "job-total", ev_number((double)total));
	ev_object_set(st, "max-parallel", ev_number(n->max_parallel ? (double)n->max_parallel
								     : (double)total));
	return st;
}

/* expand the node's matrix into instances; -1 with err */
static int expand_node(struct sched *s, struct snode *n, struct ev *jctx, struct buf *err,
		       const struct ynode **at, int *line, int *col)
{
	struct expr_ctx ctx = { .contexts = jctx, .status = node_status(s, n) };
	const struct wf_strategy *st = &n->pj->job->strategy;
	*at = st->matrix;
	/* where inside the matrix it failed (a key, an insert), when known */
	struct ev *m = st->matrix ? plan_value(st->matrix, &ctx, err, line, col) : NULL;
	if (st->matrix && !m)
		return -1;
	struct matrix_list ml = MATRIX_LIST_INIT;
	int r = matrix_expand(m, &ml, err);
	ev_unref(m);
	if (r < 0) {
		matrix_list_release(&ml);
		return -1;
	}
	n->has_matrix = st->matrix != NULL;
	*at = st->fail_fast ? st->fail_fast : st->max_parallel;
	if (strategy_values(n, &ctx, err) < 0) {
		matrix_list_release(&ml);
		return -1;
	}
	*at = NULL;
	n->inst = xcalloc(ml.nr, sizeof(*n->inst));
	n->ninst = ml.nr;
	for (size_t i = 0; i < ml.nr; i++) {
		struct sinst *in = &n->inst[i];
		in->s = s;
		in->node = n;
		struct ev *stc = strategy_ctx(n, i, ml.nr);
		in->key = make_key(s, n, i, ml.nr);
		in->contexts = node_contexts(s, n, ml.v[i].matrix, stc);
		ev_unref(stc);
		/* github.workspace: the executor's <run_dir>/<job_key>/workspace */
		char *ws = xstrfmt("%s/%s/workspace", s->rc->run_dir, in->key);
		ev_object_set(in->contexts, "github",
			      runctx_job_github(s->wf_contexts[n->pj->wf_index], n->pj->job->id.s, ws));
		free(ws);
		struct expr_ctx ictx = { .contexts = in->contexts, .status = ctx.status };
		in->name = inst_name(s, n, &ictx, ml.v[i].suffix, err);
		if (!in->name) {
			matrix_list_release(&ml);
			return -1;
		}
	}
	matrix_list_release(&ml);
	return 0;
}

static struct ev *needs_ctx(struct sched *s, const struct snode *n)
{
	struct ev *o = ev_object();
	for (size_t k = 0; k < n->pj->nneeds; k++) {
		struct snode *d = &s->nodes[n->pj->needs[k]];
		struct ev *e = ev_object();
		ev_object_set(e, "result", ev_cstr(result_name(d->result)));
		ev_object_set(e, "outputs", d->outputs ? ev_ref(d->outputs) : ev_object());
		ev_object_set(o, d->pj->job->id.s, e);
	}
	return o;
}

/* ---- reusable workflow calls: the callee's plan on a nested scheduler ----
 *
 * Each instance of a call (one per matrix combination) runs the callee's
 * plan on its own nested scheduler; instances run at the same time up to
 * `max-parallel`, as matrix jobs do (they take no slot of the caller's
 * `-p`: each nested scheduler has its own). GitHub: the call's outputs
 * are those of the last successful instance that sets them.
 */

static void start_call(struct sched *s, struct snode *n, struct sinst *in);

/* start the call's queued instances that max-parallel allows */
static void start_calls(struct sched *s, struct snode *n)
{
	if (n->call_starting) { /* an instance ended inside start_call */
		n->call_again = 1;
		return;
	}
	n->call_starting = 1;
	do {
		n->call_again = 0;
		while (n->next < n->ninst && !s->cancelled &&
		       !(n->max_parallel && n->running >= n->max_parallel))
			start_call(s, n, &n->inst[n->next++]);
	} while (n->call_again);
	n->call_starting = 0;
}

/* cancel a started call instance: its callee, or its wait for a group */
static void call_inst_cancel(struct sinst *in, int force)
{
	if (in->state != INST_RUNNING)
		return;
	if (in->sub) {
		sched_cancel(in->sub, force);
	} else if (in->waiting && in->gate_timer) {
		in->gate_cancel = 1; /* ends as cancelled on the next loop turn */
		uv_timer_start(in->gate_timer, gate_timer_cb, 0, 0);
	}
}

/* instance `in` of a call ended: fail-fast, more instances, or done */
static void call_inst_end(struct sched *s, struct snode *n, struct sinst *in, enum result r)
{
	in->state = INST_DONE;
	in->result = r;
	in->waiting = 0;
	if (in->gate_timer) {
		uv_close((uv_handle_t *)in->gate_timer, gate_timer_closed);
		in->gate_timer = NULL;
	}
	if (in->conc_asked && s->opts.conc->end) /* the caller's groups cover the whole call */
		s->opts.conc->end(s->opts.conc->arg, n->pj->wf_index, in->name);
	n->finished++;
	n->running--;
	if (r == RESULT_FAILURE) {
		n->failed = 1;
		s->failed = 1;
	} else if (r == RESULT_CANCELLED) {
		n->cancelled = 1;
	}
	if ((r == RESULT_FAILURE && n->fail_fast && n->has_matrix) || s->cancelled) {
		while (n->next < n->ninst) { /* GitHub's fail-fast: the rest never start */
			struct sinst *q = &n->inst[n->next++];
			q->state = INST_DONE;
			q->result = RESULT_CANCELLED;
			n->cancelled = 1;
			n->finished++;
			job_ended(s, n, q->name, RESULT_CANCELLED, 0, "not started");
		}
		for (size_t i = 0; i < n->ninst && !s->cancelled; i++)
			call_inst_cancel(&n->inst[i], 0); /* they end through call_done */
	}
	start_calls(s, n);
	if (n->finished == n->ninst) {
		node_done(s, n);
		drain(s);
	}
}

static void call_fail(struct sched *s, struct snode *n, struct sinst *in, const char *what,
		      const char *why)
{
	const struct wf_job *job = n->pj->job;
	char *msg = xstrfmt("%s:%d:%d: job '%s': %s: %s", n->pj->wf->file, job->uses.line,
			    job->uses.col, job->id.s, what, why);
	struct log_event ev = { .kind = LOG_ERROR, .job = in->name, .text = msg, .len = strlen(msg) };
	sink_event(s, &ev);
	job_ended(s, n, in->name, RESULT_FAILURE, 0, NULL);
	free(msg);
	call_inst_end(s, n, in, RESULT_FAILURE);
}

/* the callee of instance `arg` finished: its result and outputs */
static void call_done(void *arg)
{
	struct sinst *in = arg;
	struct snode *n = in->node;
	struct sched *s = in->s, *sub = in->sub;
	enum result r = sched_result(sub);
	struct ev *c = ev_object(), *jobs = ev_object();
	for (size_t i = 0; i < ev_len(in->sub_base); i++)
		ev_object_set(c, ev_object_key_at(in->sub_base, i),
			      ev_ref(ev_object_val_at(in->sub_base, i)));
	for (size_t i = 0; i < sub->plan->nr; i++) {
		const struct snode *sn = &sub->nodes[i];
		if (!sn->pj->selected)
			continue;
		struct ev *e = ev_object();
		ev_object_set(e, "result", ev_cstr(result_name(sn->result)));
		ev_object_set(e, "outputs", sn->outputs ? ev_ref(sn->outputs) : ev_object());
		ev_object_set(jobs, sn->pj->job->id.s, e);
	}
	ev_object_set(c, "jobs", jobs);
	struct expr_ctx ctx = { .contexts = c, .status = node_status(s, n) };
	struct buf err = BUF_INIT;
	struct ev *outs = reuse_outputs(n->call, &ctx, &err);
	ev_unref(c);
	if (!outs) {
		char *msg = xstrfmt("%s: job '%s': outputs of '%s': %s", n->pj->wf->file,
				    n->pj->job->id.s, n->pj->job->uses.s, err.buf);
		struct log_event ev = { .kind = LOG_ERROR, .job = in->name, .text = msg,
					.len = strlen(msg) };
		sink_event(s, &ev);
		free(msg);
		r = RESULT_FAILURE;
	} else if (r == RESULT_SUCCESS || !n->has_matrix) {
		merge_outputs(n, outs);
	}
	ev_unref(outs);
	buf_release(&err);
	call_inst_end(s, n, in, r);
}

/* start instance `in` of the call node n: first the caller's concurrency
 * groups (GitHub: the calling job's group holds the whole called workflow) */
static void start_call(struct sched *s, struct snode *n, struct sinst *in)
{
	n->ran = 1; /* reusable workflow calls always run again */
	in->state = INST_RUNNING;
	in->started = now_ns();
	n->running++;
	if (s->opts.conc && (n->pj->wf->concurrency || n->pj->job->concurrency)) {
		struct expr_ctx ctx = { .contexts = in->contexts, .status = node_status(s, n) };
		if (conc_eval(s, n, in, &ctx))
			return; /* failed: a bad group expression */
		in->phase = PHASE_CONC;
		conc_ask(s, in); /* run_call once the groups are free */
		return;
	}
	run_call(s, n, in);
}

/* the callee of call instance `in` on its nested scheduler */
static void run_call(struct sched *s, struct snode *n, struct sinst *in)
{
	const struct reuse_call *c = n->call;
	struct expr_ctx ctx = { .contexts = in->contexts, .status = node_status(s, n) };
	struct buf err = BUF_INIT;
	struct ev *inputs = reuse_inputs(c, &ctx, &err);
	struct ev *secrets = inputs ? reuse_secrets(c, &ctx, &err) : NULL;
	const struct ev *gh = ev_object_get(s->wf_contexts[n->pj->wf_index], "github");
	const struct ev *rn = gh ? ev_object_get(gh, "run_number") : NULL;
	int number = rn && ev_kind(rn) == EV_NUMBER ? (int)ev_get_number(rn) : 1;
	struct ev *base = secrets ? runctx_workflow_contexts(s->rc, c->callee, inputs, number, &err)
				  : NULL;
	ev_unref(inputs);
	if (!base) {
		ev_unref(secrets);
		call_fail(s, n, in, "cannot call", err.buf);
		buf_release(&err);
		return;
	}
	buf_release(&err);
	ev_object_set(base, "secrets", secrets);
	in->sub_base = base;
	in->sub_ctx = xcalloc(n->pj->wf_index + 1, sizeof(*in->sub_ctx));
	for (size_t i = 0; i <= n->pj->wf_index; i++)
		in->sub_ctx[i] = base;
	struct sched_opts so = s->opts;
	so.done = call_done;
	so.done_arg = in;
	so.prefix = in->name;
	so.key_prefix = in->key;
	so.wf_src = c->src ? &c->wf_src : NULL;
	/* the caller's workflow-level group is held until the caller's
	 * workflow ends, not released when the callee's jobs end */
	so.conc_wf_outer = s->opts.conc_wf_outer || in->conc_wf.group;
	in->sub = sched_new(s->loop, &c->plan, s->rc, in->sub_ctx, s->out, &so);
	sched_start(in->sub);
}

/* every need has finished: decide, expand and queue */
static void node_ready(struct sched *s, struct snode *n)
{
	const struct wf_job *job = n->pj->job;
	n->state = NODE_READY;
	n->result = RESULT_SUCCESS;
	n->outputs = ev_object();
	n->needs = needs_ctx(s, n);
	n->github = runctx_job_github(s->wf_contexts[n->pj->wf_index], job->id.s, NULL);
	if (s->forced) {
		node_end_early(s, n, RESULT_CANCELLED, "run cancelled");
		return;
	}
	struct ev *jctx = node_contexts(s, n, NULL, NULL);
	/* GitHub: a job's `if:` sees github, needs, vars, inputs; no matrix */
	struct expr_ctx ctx = { .contexts = jctx, .status = node_status(s, n) };
	const char *cond = job->if_cond.s ? job->if_cond.s : "success()";
	struct buf err = BUF_INIT;
	int ok = expr_eval_if(cond, &ctx, &err);
	if (ok > 0 && n->anc_bad && ctx.status == EXPR_STATUS_SUCCESS && !cond_uses_status(cond))
		ok = 0; /* a needed job was skipped or cancelled */
	if (ok < 0) {
		char *msg = xstrfmt("%s:%d:%d: %s", n->pj->wf->file, job->if_cond.line,
				    job->if_cond.col, err.buf);
		node_end_early(s, n, RESULT_FAILURE, msg);
		free(msg);
		goto out;
	}
	if (!ok) {
		if (s->cancelled)
			node_end_early(s, n, RESULT_CANCELLED, "run cancelled");
		else
			node_end_early(s, n, RESULT_SKIPPED, job->if_cond.s ? "if: was false"
							: "a needed job did not succeed");
		goto out;
	}
	if (n->pj->cannot) {
		/* a feature kiln lacks (plan_check_support): fail only now that
		 * the job would really start */
		char *msg = xstrfmt("%s:%d:%d: job '%s' cannot run: %s", n->pj->wf->file,
				    n->pj->cannot_line, n->pj->cannot_col, job->id.s, n->pj->cannot);
		node_end_early(s, n, RESULT_FAILURE, msg);
		free(msg);
		goto out;
	}

	n->call = job->uses.s ? reuse_find(s->opts.calls, job) : NULL;
	if (job->uses.s && !n->call) {
		/* never pretend: a call that does nothing would look green */
		char *msg = xstrfmt("%s:%d:%d: job '%s' calls the reusable workflow '%s'; kiln run "
				    "does not run reusable workflows yet", n->pj->wf->file,
				    job->uses.line, job->uses.col, job->id.s, job->uses.s);
		node_end_early(s, n, RESULT_FAILURE, msg);
		free(msg);
		goto out;
	}
	const struct ynode *at = NULL;
	int eline = 0, ecol = 0;
	if (expand_node(s, n, jctx, &err, &at, &eline, &ecol) < 0) {
		char *msg = at && eline ? xstrfmt("%s:%d:%d: %s", n->pj->wf->file, eline, ecol, err.buf)
			  : at ? xstrfmt("%s:%d:%d: %s", n->pj->wf->file, at->line, at->col, err.buf)
			       : xstrfmt("%s: job '%s': %s", n->pj->wf->file, job->id.s, err.buf);
		node_end_early(s, n, RESULT_FAILURE, msg);
		free(msg);
		goto out;
	}
	if (n->call) {
		start_calls(s, n);
		goto out;
	}
	struct strvec *env = &s->wf_env[n->pj->wf_index];
	if (!env->nr)
		runctx_workflow_env(s->rc, n->pj->wf, s->wf_contexts[n->pj->wf_index], env);
	ready_push(s, n);
out:
	buf_release(&err);
	ev_unref(jctx);
}

/* process nodes whose needs finished, start what may start, and notice
 * the end of the run */
static void drain(struct sched *s)
{
	/* inst_done may run synchronously inside start_inst (a job that
	 * cannot start): the outer drain picks its work up */
	if (s->draining) {
		s->again = 1;
		return;
	}
	s->draining = 1;
	do {
		s->again = 0;
		/* FIFO: jobs become ready in the order their needs finished */
		while (s->work_head < s->nwork) {
			struct snode *n = &s->nodes[s->work[s->work_head++]];
			node_ready(s, n);
		}
		s->nwork = s->work_head = 0;
		try_start(s);
	} while (s->again || s->nwork);
	s->draining = 0;
	check_finished(s);
}

/* a finished job's directory, removed on libuv's thread pool: directory
 * removals wait for the disk (discard), so they must not hold the loop */
struct rmjob {
	uv_work_t req;
	struct sched *s;
	char *path;
};

static void rm_work(uv_work_t *req)
{
	struct rmjob *j = req->data;
	runctx_rmtree(j->path);
}

static void rm_after(uv_work_t *req, int status)
{
	struct rmjob *j = req->data;
	struct sched *s = j->s;
	if (status < 0) /* cancelled: remove it here */
		runctx_rmtree(j->path);
	free(j->path);
	free(j);
	s->removing--;
	check_finished(s);
}

/* the job's results are consumed: its directory (workspace, temp, command
 * files) is no longer needed unless --keep */
static void remove_job_dir(struct sched *s, const struct sinst *in)
{
	if (s->ops.free != job_exec_free || !s->rc || !s->rc->run_dir || s->rc->keep || !in->key)
		return;
	if (in->dir_kept)
		return; /* the pool has it */
	struct rmjob *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->path = xstrfmt("%s/%s", s->rc->run_dir, in->key);
	j->req.data = j;
	if (uv_queue_work(s->loop, &j->req, rm_work, rm_after) < 0) {
		runctx_rmtree(j->path);
		free(j->path);
		free(j);
		return;
	}
	s->removing++;
}

static void reaper_cb(uv_idle_t *h)
{
	struct sched *s = h->data;
	uv_idle_stop(h);
	while (s->reap) {
		struct sinst *in = s->reap;
		s->reap = in->reap_next;
		if (in->je) {
			s->ops.free(in->je);
			remove_job_dir(s, in);
		}
		in->je = NULL;
	}
	check_finished(s);
}

static void check_finished(struct sched *s)
{
	if (s->finished || s->ndone < s->nselected || s->running || s->reap || s->removing)
		return;
	s->finished = 1;
	uv_close((uv_handle_t *)&s->reaper, NULL);
	if (s->opts.done && !s->done_called) {
		s->done_called = 1;
		s->opts.done(s->opts.done_arg);
	}
}

void sched_start(struct sched *s)
{
	s->t0 = now_ns();
	for (size_t i = 0; i < s->plan->nr; i++) {
		struct snode *n = &s->nodes[s->plan->order[i]];
		if (n->pj->selected && n->pending == 0) {
			ALLOC_GROW(s->work, s->nwork + 1, s->work_alloc);
			s->work[s->nwork++] = n->index;
		}
	}
	drain(s);
}

void sched_cancel(struct sched *s, int force)
{
	if (s->finished)
		return;
	s->cancelled = 1;
	if (force)
		s->forced = 1;
	for (size_t i = 0; i < s->plan->nr; i++) {
		struct snode *n = &s->nodes[i];
		if (n->state != NODE_READY)
			continue;
		if (n->call) {
			/* the running callees; call_inst_end marks the rest */
			for (size_t k = 0; k < n->ninst; k++)
				call_inst_cancel(&n->inst[k], force);
			continue;
		}
		cancel_siblings(s, n, force ? 0 : s->opts.grace_ms);
		if (n->finished == n->ninst)
			node_done(s, n);
	}
	s->ready_head = s->ready_tail = NULL;
	for (size_t i = 0; i < s->plan->nr; i++)
		s->nodes[i].in_ready = 0;
	drain(s);
}

int sched_finished(const struct sched *s)
{
	return s->finished;
}

enum result sched_result(const struct sched *s)
{
	if (s->failed)
		return RESULT_FAILURE;
	if (s->cancelled)
		return RESULT_CANCELLED;
	/* a workflow cancelled on its own (its concurrency group) */
	for (size_t i = 0; i < s->nwf; i++)
		if (sched_workflow_result(s, i) == RESULT_CANCELLED)
			return RESULT_CANCELLED;
	return RESULT_SUCCESS;
}

enum result sched_workflow_result(const struct sched *s, size_t wf_index)
{
	int failed = 0, cancelled = 0;
	for (size_t i = 0; i < s->plan->nr; i++) {
		const struct snode *n = &s->nodes[i];
		if (n->pj->wf_index != wf_index || !n->pj->selected)
			continue;
		if (n->state != NODE_DONE || n->result == RESULT_CANCELLED)
			cancelled = 1;
		else if (n->result == RESULT_FAILURE)
			failed = 1;
	}
	return failed ? RESULT_FAILURE : cancelled ? RESULT_CANCELLED : RESULT_SUCCESS;
}

int sched_result_of(const struct sched *s, const char *display_name)
{
	for (size_t i = 0; i < s->plan->nr; i++) {
		const struct snode *n = &s->nodes[i];
		for (size_t k = 0; k < n->ninst; k++)
			if (n->inst[k].state == INST_DONE && !strcmp(n->inst[k].name, display_name))
				return (int)n->inst[k].result;
		if (n->state == NODE_DONE && !n->ninst && !strcmp(n->pj->job->id.s, display_name))
			return (int)n->result;
		for (size_t k = 0; k < n->ninst; k++) {
			int r = n->inst[k].sub ? sched_result_of(n->inst[k].sub, display_name) : -1;
			if (r >= 0)
				return r;
		}
	}
	return -1;
}

unsigned sched_peak(const struct sched *s)
{
	return s->peak;
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->plan->nr; i++) {
		struct snode *n = &s->nodes[i];
		for (size_t k = 0; k < n->ninst; k++) {
			struct sinst *in = &n->inst[k];
			if (in->je)
				s->ops.free(in->je);
			free(in->name);
			free(in->key);
			free(in->environment);
			free(in->wait_reason);
			free((char *)in->conc_wf.group);
			free((char *)in->conc_job.group);
			ev_unref(in->contexts);
			sched_free(in->sub);
			free(in->sub_ctx);
			ev_unref(in->sub_base);
		}
		free(n->inst);
		ev_unref(n->outputs);
		ev_unref(n->needs);
		ev_unref(n->github);
	}
	for (size_t i = 0; i < s->nwf; i++)
		strvec_clear(&s->wf_env[i]);
	free(s->wf_env);
	free(s->wf_left);
	free(s->nodes);
	free(s->work);
	free(s);
}
