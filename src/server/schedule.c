/* schedule: cron triggers from each repository's default branch (see schedule.h). */
#include "base/kiln.h"
#include "git/mirror.h"
#include "server/queue.h"
#include "server/schedule.h"
#include "server/srv.h"
#include "store/repos.h"
#include "store/runs.h"
#include "workflow/cron.h"
#include "workflow/workflow.h"
#include "yaml/ynode.h"

struct scheduler {
	struct srv *s;
	uv_timer_t timer;
	int64_t last_minute; /* the last minute handled */
};

/* one repository's workflows at one minute */
struct tick {
	struct srv *s;
	const struct repo_row *repo;
	const char *sha, *ref;
	int64_t minute;
	int queued;
};

static void add_event(struct tick *t, const char *file, const char *cron)
{
	struct buf delivery = BUF_INIT, err = BUF_INIT;
	char *wf = xstrfmt(".github/workflows/%s", file);
	buf_addf(&delivery, "%s:%s:%s:%lld", t->repo->name, file, cron, (long long)t->minute);
	json_t *p = json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "schedule", cron, "workflow", wf, "ref",
			      t->ref, "repository", "full_name", t->repo->name, "clone_url",
			      t->repo->url);
	char *payload = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	struct event_row row = {
		.repo_id = t->repo->id, .source = "schedule", .delivery = delivery.buf,
		.kind = "schedule", .action = "", .ref = t->ref, .before = "", .sha = t->sha,
		.actor = "kiln", .payload = payload,
	};
	int dup = 0;
	int64_t id;
	if (store_event_add(t->s->db, &row, &dup, &id, &err))
		fprintf(stderr, "kiln serve: schedule %s %s: %s\n", t->repo->name, file, err.buf);
	else if (!dup)
		t->queued++;
	free(payload);
	free(wf);
	buf_release(&delivery);
	buf_release(&err);
}

static void on_workflow(const char *name, const char *data, size_t len, void *arg)
{
	struct tick *t = arg;
	struct workflow *wf = NULL;
	struct diags d = DIAGS_INIT;
	char *file = xstrfmt(".github/workflows/%s", name);
	if (wf_load(file, data, len, &wf, &d) == 0 && wf) {
		for (size_t i = 0; i < wf->non; i++) {
			const struct ynode *c = wf->on[i].config;
			if (!wf->on[i].event.s || strcmp(wf->on[i].event.s, "schedule") || !c ||
			    c->kind != YNODE_SEQ)
				continue;
			for (size_t k = 0; k < c->nr; k++) {
				const struct ynode *e = c->items[k];
				const struct ynode *cr = e->kind == YNODE_MAP ? ynode_get(e, "cron") : NULL;
				struct cron parsed;
				struct buf err = BUF_INIT;
				if (cr && cr->kind == YNODE_SCALAR && !cron_parse(cr->str, &parsed, &err) &&
				    cron_matches(&parsed, t->minute))
					add_event(t, name, cr->str);
				buf_release(&err);
			}
		}
	}
	wf_free(wf);
	diags_release(&d);
	free(file);
}

int scheduler_tick(struct scheduler *sc, int64_t minute)
{
	struct srv *s = sc->s;
	struct repo_row *rows;
	size_t n;
	struct buf err = BUF_INIT;
	int queued = 0;
	if (store_repo_list(s->db, &rows, &n, &err)) {
		fprintf(stderr, "kiln serve: schedule: %s\n", err.buf);
		buf_release(&err);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		char sha[41];
		struct buf ref = BUF_INIT;
		if (*rows[i].default_branch &&
		    !mirror_resolve(rows[i].mirror, rows[i].default_branch, sha, &ref) &&
		    str_starts_with(ref.buf, "refs/heads/")) {
			struct tick t = { s, &rows[i], sha, ref.buf, minute, 0 };
			mirror_workflows(rows[i].mirror, sha, on_workflow, &t);
			queued += t.queued;
		}
		buf_release(&ref);
	}
	store_repo_list_free(rows, n);
	buf_release(&err);
	if (queued)
		queue_kick(s->queue);
	return queued;
}

static void on_timer(uv_timer_t *t)
{
	struct scheduler *sc = t->data;
	int64_t minute = runs_now_ms() / 60000 * 60;
	if (minute == sc->last_minute)
		return;
	/* several servers on one database: one of them fires the schedules
	 * (a minute's event is stored once anyway: its delivery is unique) */
	if (db_duty(sc->s->db, DB_DUTY_SCHEDULE) != 1)
		return;
	sc->last_minute = minute;
	scheduler_tick(sc, minute);
}

struct scheduler *scheduler_new(struct srv *s)
{
	struct scheduler *sc = xcalloc(1, sizeof(*sc));
	sc->s = s;
	/* the minute the server starts in counts (a restart is deduplicated) */
	uv_timer_init(s->loop, &sc->timer);
	sc->timer.data = sc;
	uv_timer_start(&sc->timer, on_timer, 0, 1000);
	return sc;
}

static void closed(uv_handle_t *h)
{
	free(h->data);
}

void scheduler_free(struct scheduler *sc)
{
	if (sc)
		uv_close((uv_handle_t *)&sc->timer, closed);
}
