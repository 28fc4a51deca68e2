/* poll: fetch-and-diff polling of repositories (see poll.h). */
#include "base/kiln.h"
#include "git/mirror.h"
#include "server/poll.h"
#include "server/queue.h"
#include "server/srv.h"
#include "store/repos.h"
#include "store/runs.h"

struct poller {
	struct srv *s;
	uv_timer_t timer;
	uv_work_t work;
	int busy;            /* a fetch is on the thread pool */
	int stopped;
	int freed;           /* poller_free called while busy: free at the end */
	/* the fetch in flight (thread side reads mirror, writes refs/err) */
	int64_t repo_id;
	char *name, *url, *mirror;
	struct strvec refs;
	struct buf err;
	int rc;
};

static const char *ref_sha(const char *entry) { return strchr(entry, '=') + 1; }

static int ref_cmp(const char *a, const char *b)
{
	size_t na = (size_t)(strchr(a, '=') - a), nb = (size_t)(strchr(b, '=') - b);
	int c = memcmp(a, b, na < nb ? na : nb);
	return c ? c : (na > nb) - (na < nb);
}

static void add_event(struct event_row **evs, size_t *n, size_t *alloc, struct strvec *payloads,
		      const char *repo_name, const char *url, int64_t repo_id, const char *entry,
		      const char *before, const char *after, int deleted)
{
	const char *eq = strchr(entry, '=');
	char *ref = xstrndup(entry, (size_t)(eq - entry));
	json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:b,s:{s:s,s:s},s:{s:s},s:{s:s}}", "ref", ref,
			      "before", before, "after", after, "created", !*before, "deleted",
			      deleted, "repository", "full_name", repo_name, "clone_url", url,
			      "pusher", "name", "kiln-poll", "sender", "login", "kiln-poll");
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	strvec_push_nodup(payloads, s);
	strvec_push_nodup(payloads, ref);
	ALLOC_GROW(*evs, *n + 1, *alloc);
	(*evs)[(*n)++] = (struct event_row){
		.repo_id = repo_id, .source = "poll", .kind = "push", .action = "",
		.ref = ref, .before = before, .sha = after, .actor = "kiln-poll",
		.deleted = deleted, .payload = s,
	};
}

void poll_diff(const struct strvec *old, const struct strvec *now, const char *repo_name,
	       const char *url, int64_t repo_id, struct event_row **evs, size_t *n,
	       struct strvec *payloads)
{
	size_t i = 0, j = 0, alloc = 0;
	*evs = NULL;
	*n = 0;
	while (i < old->nr || j < now->nr) {
		int c = i == old->nr ? 1 : j == now->nr ? -1 : ref_cmp(old->v[i], now->v[j]);
		if (c < 0) { /* gone: a deletion, recorded, starts nothing */
			add_event(evs, n, &alloc, payloads, repo_name, url, repo_id, old->v[i],
				  ref_sha(old->v[i]), "0000000000000000000000000000000000000000", 1);
			i++;
		} else if (c > 0) { /* new ref */
			add_event(evs, n, &alloc, payloads, repo_name, url, repo_id, now->v[j], "",
				  ref_sha(now->v[j]), 0);
			j++;
		} else {
			if (strcmp(ref_sha(old->v[i]), ref_sha(now->v[j])))
				add_event(evs, n, &alloc, payloads, repo_name, url, repo_id,
					  now->v[j], ref_sha(old->v[i]), ref_sha(now->v[j]), 0);
			i++;
			j++;
		}
	}
}

static void clear_job(struct poller *p)
{
	free(p->name);
	free(p->url);
	free(p->mirror);
	p->name = p->url = p->mirror = NULL;
	strvec_clear(&p->refs);
	buf_reset(&p->err);
}

static void fetch_work(uv_work_t *w)
{
	struct poller *p = w->data;
	p->rc = mirror_fetch(p->mirror, p->url, &p->err);
	if (!p->rc)
		p->rc = mirror_refs(p->mirror, &p->refs, &p->err);
}

static void poller_destroy(struct poller *p)
{
	clear_job(p);
	buf_release(&p->err);
	free(p);
}

static void fetch_done(uv_work_t *w, int status)
{
	struct poller *p = w->data;
	struct srv *s = p->s;
	p->busy = 0;
	if (p->freed) {
		poller_destroy(p);
		return;
	}
	struct buf err = BUF_INIT;
	store_repo_set_polled(s->db, p->repo_id, runs_now_ms(), &err);
	if (status || p->rc) {
		fprintf(stderr, "kiln serve: poll '%s': %s\n", p->name, p->err.buf);
	} else {
		struct strvec old = STRVEC_INIT, payloads = STRVEC_INIT;
		struct event_row *evs = NULL;
		size_t n = 0;
		if (!store_repo_refs(s->db, p->repo_id, &old, &err)) {
			poll_diff(&old, &p->refs, p->name, p->url, p->repo_id, &evs, &n, &payloads);
			if (n && store_repo_refs_commit(s->db, p->repo_id, &p->refs, evs, n, &err))
				fprintf(stderr, "kiln serve: poll '%s': %s\n", p->name, err.buf);
			else if (n)
				queue_kick(s->queue);
		} else {
			fprintf(stderr, "kiln serve: poll '%s': %s\n", p->name, err.buf);
		}
		free(evs);
		strvec_clear(&old);
		strvec_clear(&payloads);
	}
	buf_release(&err);
	clear_job(p);
}

/* start the most overdue repository's fetch, if any is due */
static void tick(uv_timer_t *t)
{
	struct poller *p = t->data;
	struct srv *s = p->s;
	if (p->busy || p->stopped)
		return;
	/* several servers on one database: one of them polls */
	if (db_duty(s->db, DB_DUTY_POLL) != 1)
		return;
	struct repo_row *rows;
	size_t n;
	struct buf err = BUF_INIT;
	if (store_repo_list(s->db, &rows, &n, &err)) {
		fprintf(stderr, "kiln serve: poll: %s\n", err.buf);
		buf_release(&err);
		return;
	}
	int64_t now = runs_now_ms(), best_late = -1;
	size_t best = n;
	for (size_t i = 0; i < n; i++) {
		int64_t late = now - (rows[i].polled_at + rows[i].poll_ms);
		if (rows[i].poll_ms > 0 && late >= 0 && late > best_late) {
			best = i;
			best_late = late;
		}
	}
	if (best < n) {
		p->repo_id = rows[best].id;
		p->name = xstrdup(rows[best].name);
		p->url = xstrdup(rows[best].url);
		p->mirror = xstrdup(rows[best].mirror);
		p->busy = 1;
		p->work.data = p;
		uv_queue_work(s->loop, &p->work, fetch_work, fetch_done);
	}
	store_repo_list_free(rows, n);
	buf_release(&err);
}

int poller_new(struct srv *s, uint64_t tick_ms, struct poller **out, struct buf *err)
{
	struct poller *p = xcalloc(1, sizeof(*p));
	p->s = s;
	buf_init(&p->err, 0);
	uv_timer_init(s->loop, &p->timer);
	p->timer.data = p;
	uv_timer_start(&p->timer, tick, tick_ms, tick_ms);
	*out = p;
	return 0;
}

void poller_stop(struct poller *p)
{
	if (!p || p->stopped)
		return;
	p->stopped = 1;
	uv_timer_stop(&p->timer);
}

static void timer_closed(uv_handle_t *h)
{
	struct poller *p = h->data;
	if (p->busy)
		p->freed = 1; /* fetch_done frees */
	else
		poller_destroy(p);
}

void poller_free(struct poller *p)
{
	if (!p)
		return;
	poller_stop(p);
	uv_close((uv_handle_t *)&p->timer, timer_closed);
}
