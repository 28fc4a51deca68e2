/* agentexec: jobs of a server run handed to agents (see agentexec.h). */
#include "base/kiln.h"
#include "base/fs.h"
#include "cas/cas.h"
#include "engine/jobwire.h"
#include "engine/plan.h"
#include "engine/record.h"
#include "secret/secret.h"
#include "server/agentexec.h"
#include "store/agents.h"
#include "store/blobs.h"
#include "store/db.h"
#include "store/open.h"

#include <errno.h>
#include <sodium.h>
#include <sys/time.h>
#include <unistd.h>

/* how often a job's row and uploaded log events are looked at */
#define POLL_MS 200
/* log events replayed per look, for all the run's jobs */
#define POLL_BATCH 5000

struct agentexec {
	struct db *db;
	struct secret_store *ss;
	struct cas cas;
	char *repo, *repo_dir, *snapshot_dir, *data_dir;
	enum agents_mode mode;
	struct recorder *rec;
	char source[65];   /* the run's source blob, packed on first use */
	int packed;
	struct sched_exec_ops ops;
	/* the jobs at agents, by increasing id; one timer looks at them all
	 * with three queries a tick, however many there are */
	struct rjob **open;
	size_t nopen, aopen;
	uv_timer_t tick;
	int tick_init;
};

/* one job: run here (local) or by an agent (id) */
struct rjob {
	struct agentexec *r;
	struct job_exec *local;
	job_done_cb done;
	void *arg;
	const struct log_sink *sink;
	char *name;
	int64_t id, seq;
	int64_t owner;     /* the agent holding the lease last seen */
	int attempt;
	int status;        /* last status seen, -1 before */
	char *reason;      /* last reason shown */
	int ended;
};

int agents_mode_parse(const char *s, enum agents_mode *out)
{
	if (!strcmp(s, "off"))
		*out = AGENTS_OFF;
	else if (!strcmp(s, "self-hosted"))
		*out = AGENTS_SELF_HOSTED;
	else if (!strcmp(s, "all"))
		*out = AGENTS_ALL;
	else
		return KILN_EINVAL;
	return 0;
}

const char *agents_mode_name(enum agents_mode m)
{
	return m == AGENTS_ALL ? "all" : m == AGENTS_SELF_HOSTED ? "self-hosted" : "off";
}

static void info(struct rjob *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void info(struct rjob *j, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	struct log_event ev = { .kind = LOG_INFO, .job = j->name, .text = b.buf, .len = b.len };
	j->sink->event(j->sink->arg, &ev);
	buf_release(&b);
}

/* the job's runs-on labels (normalized) into out; 1 when it has the label
 * self-hosted, 0 when not, -1 when runs-on cannot be evaluated */
static int job_labels(const struct job_spec *spec, struct buf *out)
{
	const struct ynode *ro = spec->job->runs_on;
	if (!ro)
		return 0;
	struct expr_ctx ctx = { .contexts = spec->contexts };
	struct buf err = BUF_INIT;
	struct ev *v = plan_value(ro, &ctx, &err, NULL, NULL);
	buf_release(&err);
	if (!v)
		return -1;
	const struct ev *l = ev_kind(v) == EV_OBJECT ? ev_object_get(v, "labels") : v;
	struct strvec in = STRVEC_INIT;
	size_t n = l && ev_kind(l) == EV_ARRAY ? ev_len(l) : l ? 1 : 0;
	for (size_t i = 0; i < n; i++) {
		const struct ev *x = ev_kind(l) == EV_ARRAY ? ev_array_at(l, i) : l;
		if (ev_kind(x) == EV_STRING)
			strvec_push(&in, ev_get_str(x, NULL));
	}
	ev_unref(v);
	struct buf why = BUF_INIT;
	int r = agents_labels_normalize(&in, out, &why) < 0 ? -1 : 0;
	buf_release(&why);
	strvec_clear(&in);
	if (r < 0)
		return -1;
	char *list = xstrfmt(",%s,", out->buf ? out->buf : "");
	int sh = strstr(list, ",self-hosted,") != NULL;
	free(list);
	return sh;
}

/* the workflow file relative to the run's files, or NULL (not remotable) */
static const char *relative_workflow(const struct agentexec *r, const char *file)
{
	size_t l = strlen(r->repo_dir);
	if (!strncmp(file, r->repo_dir, l) && file[l] == '/')
		file += l + 1;
	while (!strncmp(file, "./", 2))
		file += 2;
	return *file == '/' || strstr(file, "..") ? NULL : file;
}

static int pack_source(struct agentexec *r, struct buf *err)
{
	if (r->packed)
		return 0;
	struct strvec paths = STRVEC_INIT;
	strvec_push(&paths, ".");
	uint64_t size;
	size_t nfiles;
	int rc = cas_pack(&r->cas, &paths, r->snapshot_dir, r->source, &size, &nfiles, err);
	strvec_clear(&paths);
	if (rc == KILN_ENOENT) {
		buf_addstr(err, "the run has no files to send");
		return -1;
	}
	if (rc < 0)
		return -1;
	/* into the store: whichever replica an agent reaches serves it (a
	 * data directory is one replica's); the sweep drops it once no job
	 * needs it (store/blobs.c) */
	struct buf from = BUF_INIT;
	buf_addf(&from, "%s/blobs/%s.tzst", r->cas.dir, r->source);
	rc = blobs_put_file(r->db, r->source, BLOB_SOURCE, from.buf, err);
	buf_release(&from);
	if (rc < 0)
		return -1;
	r->packed = 1;
	return 0;
}

/* seal the job's secrets context into its row (nothing when it has none) */
static int seal_secrets(struct agentexec *r, int64_t id, const struct ev *contexts, struct buf *err)
{
	const struct ev *sec = contexts ? ev_object_get(contexts, "secrets") : NULL;
	if (!sec || ev_kind(sec) != EV_OBJECT || !ev_len(sec))
		return 0;
	struct buf js = BUF_INIT, box = BUF_INIT;
	ev_to_json(sec, &js, 0);
	char *ctx = xstrfmt("agent-job:%lld", (long long)id);
	int rc = secret_seal(r->ss, ctx, js.buf, js.len, &box, err);
	sodium_memzero(js.buf, js.len);
	buf_release(&js);
	free(ctx);
	if (rc == 0) {
		size_t n = sodium_base64_encoded_len(box.len, sodium_base64_VARIANT_ORIGINAL);
		char *b64 = xmalloc(n);
		sodium_bin2base64(b64, n, (unsigned char *)box.buf, box.len,
				  sodium_base64_VARIANT_ORIGINAL);
		rc = ajobs_set_secrets(r->db, id, b64, err);
		free(b64);
	}
	buf_release(&box);
	return rc;
}

static void unlist(struct agentexec *r, struct rjob *j)
{
	for (size_t i = 0; i < r->nopen; i++)
		if (r->open[i] == j) {
			memmove(r->open + i, r->open + i + 1, (r->nopen - i - 1) * sizeof(*r->open));
			r->nopen--;
			break;
		}
	if (!r->nopen)
		uv_timer_stop(&r->tick);
}

static struct rjob *find_open(struct agentexec *r, int64_t id)
{
	size_t lo = 0, hi = r->nopen;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->open[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->nopen && r->open[lo]->id == id ? r->open[lo] : NULL;
}

static void finish(struct rjob *j)
{
	struct ajob_row row;
	struct buf err = BUF_INIT;
	if (ajobs_get(j->r->db, j->id, &row, &err)) {
		buf_release(&err);
		return; /* the next tick tries again */
	}
	struct job_result res = { .result = RESULT_FAILURE };
	int rr = jobwire_result_parse(row.result);
	if (rr >= 0)
		res.result = (enum result)rr;
	if (row.outputs && *row.outputs)
		res.outputs = ev_from_json(row.outputs, strlen(row.outputs), &err);
	if (!res.outputs || ev_kind(res.outputs) != EV_OBJECT) {
		ev_unref(res.outputs);
		res.outputs = ev_object();
	}
	res.summary = row.summary;
	if (*row.reason && strcmp(row.reason, j->reason ? j->reason : ""))
		info(j, "%s", row.reason);
	ajobs_logs_drop(j->r->db, j->id, &err);
	buf_release(&err);
	j->ended = 1;
	unlist(j->r, j);
	j->done((struct job_exec *)j, &res, j->arg);
	ev_unref(res.outputs);
	ajob_row_release(&row);
}

/* replay the uploaded log events of every open job; 0, or -1 */
static int replay(struct agentexec *r, struct buf *err)
{
	struct ajob_log_row *v = NULL;
	size_t n = 0;
	if (ajobs_logs_range(r->db, r->open[0]->id, r->open[r->nopen - 1]->id, POLL_BATCH, &v, &n,
			     err))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct rjob *j = find_open(r, v[i].ajob_id);
		if (j && v[i].seq > j->seq) {
			struct log_event le;
			void *hold;
			if (jobwire_log_decode(v[i].event ? v[i].event : "", j->name, &le, &hold) == 0)
				j->sink->event(j->sink->arg, &le);
			jobwire_log_free(hold);
			j->seq = v[i].seq;
		}
		/* the last row of a job: what it replayed leaves the table */
		if (j && (i + 1 == n || v[i + 1].ajob_id != v[i].ajob_id))
			ajobs_logs_trim(r->db, j->id, j->seq, err);
		free(v[i].event);
	}
	free(v);
	return 0;
}

static void see(struct rjob *j, const struct ajob_state *st)
{
	if (st->attempt != j->attempt) {
		info(j, "agent lost (agent %lld stopped renewing its lease): re-queued, attempt %d",
		     (long long)j->owner, st->attempt);
		j->attempt = st->attempt;
		free(j->reason);
		j->reason = xstrdup(st->reason);
	} else if (st->status == AJOB_QUEUED && strcmp(st->reason, j->reason ? j->reason : "")) {
		if (*st->reason)
			info(j, "waiting: %s", st->reason);
		free(j->reason);
		j->reason = xstrdup(st->reason);
	}
	if (st->status == AJOB_LEASED && st->lease_owner != j->owner) {
		info(j, "leased by agent %lld (attempt %d)", (long long)st->lease_owner, st->attempt);
		j->owner = st->lease_owner;
	}
	j->status = (int)st->status;
}

static void tick_cb(uv_timer_t *t)
{
	struct agentexec *r = t->data;
	struct buf err = BUF_INIT;
	struct ajob_state *v = NULL;
	size_t n = 0;
	/* busy or failing store: look again at the next tick */
	if (!r->nopen || replay(r, &err) ||
	    ajobs_states(r->db, r->open[0]->id, r->open[r->nopen - 1]->id, &v, &n, &err)) {
		buf_release(&err);
		return;
	}
	int more = 0; /* a done job whose last log events are not replayed yet */
	for (size_t i = 0; i < n; i++) {
		struct rjob *j = find_open(r, v[i].id);
		if (j) {
			see(j, &v[i]);
			if (v[i].status == AJOB_DONE && j->seq < v[i].log_seq)
				more = 1;
		}
	}
	if (more && r->nopen)
		replay(r, &err);
	/* the end once every log event before it was replayed */
	for (size_t i = 0; i < n; i++) {
		struct rjob *j = find_open(r, v[i].id);
		if (j && v[i].status == AJOB_DONE && j->seq >= v[i].log_seq)
			finish(j);
		free(v[i].reason);
	}
	free(v);
	buf_release(&err);
}

static void local_done(struct job_exec *je, const struct job_result *res, void *arg)
{
	struct rjob *j = arg;
	(void)je;
	j->ended = 1;
	j->done((struct job_exec *)j, res, j->arg);
}

static int start_remote(struct rjob *j, const struct job_spec *spec, const char *labels,
			uv_loop_t *loop, struct buf *err)
{
	struct agentexec *r = j->r;
	const char *wf = relative_workflow(r, spec->wf->file);
	if (!wf) {
		buf_addf(err, "workflow '%s' is not one of the run's files", spec->wf->file);
		return -1;
	}
	if (pack_source(r, err))
		return -1;
	struct buf js = BUF_INIT;
	jobwire_encode(spec, wf, &js);
	int64_t run_id = 0, job_id = 0;
	if (recorder_job_ids(r->rec, spec->wf_index, spec->display_name, &run_id, &job_id) < 0)
		run_id = job_id = 0;
	struct ajob_new n = { run_id, job_id, r->repo, spec->display_name, labels, js.buf,
			      r->source };
	/* one transaction: no agent may lease the row before its secrets are
	 * in it (it would run the job with them empty) */
	int rc = sql_begin(r->db, err);
	if (rc == 0)
		rc = ajobs_insert(r->db, &n, &j->id, err);
	buf_release(&js);
	if (rc == 0)
		rc = seal_secrets(r, j->id, spec->contexts, err);
	if (rc == 0)
		rc = sql_commit(r->db, err);
	if (rc) {
		sql_rollback(r->db);
		return -1;
	}
	j->attempt = 1;
	info(j, "queued for an agent with labels [%s] (agent job %lld)", *labels ? labels : "",
	     (long long)j->id);
	if (!r->tick_init) {
		uv_timer_init(loop, &r->tick);
		r->tick.data = r;
		r->tick_init = 1;
	}
	/* ids only grow: the list stays sorted */
	ALLOC_GROW(r->open, r->nopen + 1, r->aopen);
	r->open[r->nopen++] = j;
	if (!uv_is_active((uv_handle_t *)&r->tick))
		uv_timer_start(&r->tick, tick_cb, POLL_MS, POLL_MS);
	return 0;
}

static int agentexec_start(void *data, uv_loop_t *loop, const struct job_spec *spec,
			const struct log_sink *sink, job_done_cb done, void *arg,
			struct job_exec **out)
{
	struct agentexec *r = data;
	struct rjob *j = xcalloc(1, sizeof(*j));
	j->r = r;
	j->done = done;
	j->arg = arg;
	j->sink = sink;
	j->name = xstrdup(spec->display_name);
	j->status = -1;
	struct buf labels = BUF_INIT, err = BUF_INIT;
	int sh = job_labels(spec, &labels);
	/* reusable workflows of another repository run here */
	int away = !spec->wf_src && (r->mode == AGENTS_ALL || sh == 1);
	*out = (struct job_exec *)j;
	if (away && start_remote(j, spec, labels.buf ? labels.buf : "", loop, &err) == 0) {
		buf_release(&labels);
		return 0;
	}
	buf_release(&labels);
	if (away) {
		/* the job cannot be handed over: it fails, saying why */
		info(j, "cannot hand the job to an agent: %s", err.buf);
		buf_release(&err);
		free(j->name);
		free(j);
		*out = NULL;
		return KILN_EIO;
	}
	buf_release(&err);
	int rc = job_exec_start(loop, spec, sink, local_done, j, &j->local);
	if (rc < 0) {
		free(j->name);
		free(j);
		*out = NULL;
	}
	return rc;
}

static void agentexec_cancel(struct job_exec *je, uint64_t grace_ms)
{
	struct rjob *j = (struct rjob *)je;
	if (j->local) {
		job_exec_cancel(j->local, grace_ms);
		return;
	}
	if (j->ended)
		return;
	struct buf err = BUF_INIT;
	if (ajobs_cancel(j->r->db, j->id, &err))
		fprintf(stderr, "kiln: warning: cannot cancel agent job %lld: %s\n",
			(long long)j->id, err.buf);
	buf_release(&err);
}

static void agentexec_job_free(struct job_exec *je)
{
	struct rjob *j = (struct rjob *)je;
	if (j->local)
		job_exec_free(j->local);
	if (j->id && !j->ended)
		unlist(j->r, j);
	free(j->name);
	free(j->reason);
	free(j);
}

static int unused_start(uv_loop_t *loop, const struct job_spec *spec, const struct log_sink *sink,
			job_done_cb done, void *arg, struct job_exec **out)
{
	(void)loop, (void)spec, (void)sink, (void)done, (void)arg, (void)out;
	return KILN_EIO; /* start_with is always set */
}

int agentexec_new(const struct agentexec_cfg *cfg, struct agentexec **out, struct buf *err)
{
	struct agentexec *r = xcalloc(1, sizeof(*r));
	struct buf dir = BUF_INIT;
	if (store_open_default(&r->db, &dir, err) ||
	    secret_store_open(&r->ss, r->db, dir.buf, err) || cas_open(&r->cas, dir.buf, err)) {
		buf_release(&dir);
		agentexec_free(r);
		return -1;
	}
	r->data_dir = buf_detach(&dir, NULL);
	r->repo = xstrdup(cfg->repo);
	r->repo_dir = xstrdup(cfg->repo_dir);
	r->snapshot_dir = xstrdup(cfg->snapshot_dir ? cfg->snapshot_dir : cfg->repo_dir);
	r->mode = cfg->mode;
	r->rec = cfg->rec;
	r->ops.start = unused_start;
	r->ops.cancel = agentexec_cancel;
	r->ops.free = agentexec_job_free;
	r->ops.start_with = agentexec_start;
	r->ops.data = r;
	*out = r;
	return 0;
}

const struct sched_exec_ops *agentexec_ops(struct agentexec *r)
{
	return &r->ops;
}

static void tick_closed(uv_handle_t *h)
{
	free(h->data);
}

void agentexec_free(struct agentexec *r)
{
	if (!r)
		return;
	free(r->open);
	secret_store_close(r->ss);
	db_close(r->db);
	cas_close(&r->cas);
	free(r->repo);
	free(r->repo_dir);
	free(r->snapshot_dir);
	free(r->data_dir);
	if (r->tick_init)
		uv_close((uv_handle_t *)&r->tick, tick_closed); /* frees r */
	else
		free(r);
}
