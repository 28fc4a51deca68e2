/* env: environment rules, the deployment gate and reviews (see env.h). */
#include "base/kiln.h"
#include <stdarg.h>
#include <strings.h>
#include "git/glob.h"
#include "secret/secret.h"
#include <sodium.h>
#include "server/env.h"
#include "store/audit.h"
#include "store/users.h"

#define MAX_REVIEWERS 6            /* GitHub's limit */
#define MAX_WAIT_MIN 43200         /* GitHub: 30 days */
#define MAX_PATTERNS 100

const char *env_verdict_name(enum env_verdict v)
{
	return v == ENV_PROCEED ? "proceed" : v == ENV_WAIT ? "wait" : "reject";
}

int env_check_name(const char *name, struct buf *err)
{
	if (!name || !*name) {
		buf_addstr(err, "an environment needs a name");
		return KILN_EINVAL;
	}
	return secret_check_env(name, err) < 0 ? KILN_EINVAL : 0;
}

/* deployments changed inside a transaction, reported after it commits (so a
 * listener may call env_gate again right away) */
struct changes {
	int64_t *ids;
	size_t nr, alloc;
};

static void note(struct changes *c, int64_t id)
{
	for (size_t i = 0; i < c->nr; i++)
		if (c->ids[i] == id)
			return;
	ALLOC_GROW(c->ids, c->nr + 1, c->alloc);
	c->ids[c->nr++] = id;
}

/* report (when committed) and free */
static void emit(struct changes *c, int committed, const struct env_events *ev, struct db *db)
{
	for (size_t i = 0; committed && ev && ev->changed && i < c->nr; i++) {
		struct deploy_row d;
		struct buf err = BUF_INIT;
		if (!deploys_get(db, c->ids[i], &d, &err))
			ev->changed(ev->arg, &d);
		buf_release(&err);
	}
	free(c->ids);
	*c = (struct changes){ NULL, 0, 0 };
}

/* BEGIN IMMEDIATE: one writer decides (two schedulers never both start a
 * deployment of one environment) */
static int begin(struct db *db, struct buf *err)
{
	return sql_begin(db, err);
}

/* commit when r >= 0 (returning r), else roll back (returning r) */
static int end(struct db *db, int r, struct buf *err)
{
	if (r >= 0)
		return sql_commit(db, err) < 0 ? -1 : r;
	sql_rollback(db);
	return r;
}

/* ---- deployment patterns ---- */

int env_ref_allowed(const struct env_row *e, const char *ref)
{
	if (!e->custom_branches)
		return 1;
	const char *kind, *name;
	if (str_starts_with(ref, "refs/heads/")) {
		kind = "branch:";
		name = ref + 11;
	} else if (str_starts_with(ref, "refs/tags/")) {
		kind = "tag:";
		name = ref + 10;
	} else {
		return 0; /* pull request merge refs and the like never match */
	}
	struct glob_list l = GLOB_LIST_INIT;
	struct buf err = BUF_INIT;
	for (size_t i = 0; i < e->patterns.nr; i++)
		if (str_starts_with(e->patterns.v[i], kind))
			glob_list_add(&l, e->patterns.v[i] + strlen(kind), &err);
	int ok = glob_list_match(&l, name, NULL);
	glob_list_release(&l);
	buf_release(&err);
	return ok;
}

/* ---- reviewers ---- */

/* 1 when who is one of e's reviewers, 0 when not, -1 on error */
static int is_reviewer(struct db *db, const struct env_row *e, const struct principal *who,
		       struct buf *err)
{
	for (size_t i = 0; i < e->reviewers.nr; i++) {
		const char *r = e->reviewers.v[i];
		if (str_starts_with(r, "user:") && !strcmp(r + 5, who->name))
			return 1;
		if (str_starts_with(r, "group:")) {
			int m = groups_is_member(db, r + 6, who->user_id, err);
			if (m != 0)
				return m;
		}
	}
	return 0;
}

int env_can_review(struct db *db, const struct deploy_row *d, const struct principal *who,
		   struct buf *err)
{
	struct env_row e = ENV_ROW_INIT;
	int r;
	if (strcmp(d->state, "waiting") || *d->approved_by || who->role < ROLE_DEPLOYER)
		return 0;
	if ((r = envs_get(db, d->repo, d->environment, &e, err)) != 0) {
		env_row_release(&e);
		return r == KILN_ENOENT ? 0 : -1;
	}
	r = e.reviewers.nr ? is_reviewer(db, &e, who, err) : 0;
	if (r == 1 && e.prevent_self_review && !strcmp(d->actor, who->name))
		r = 0;
	env_row_release(&e);
	return r;
}

static void reviewers_text(const struct env_row *e, struct buf *out)
{
	for (size_t i = 0; i < e->reviewers.nr; i++) {
		const char *r = e->reviewers.v[i];
		buf_addf(out, "%s%s", i ? ", " : "", str_starts_with(r, "user:") ? r + 5 : r);
	}
}

/* ---- the gate ---- */

static int audit_deploy(struct db *db, const char *actor, const char *action,
			const struct deploy_row *d, const char *detail, struct buf *err)
{
	char *target = xstrfmt("run %lld %s/%s", (long long)d->run_id, d->environment, d->job);
	int r = audit_append(db, actor, action, d->repo, target, detail, err);
	free(target);
	return r;
}

/* move d to state (from the listed states), audit, report */
static int transition(struct db *db, struct deploy_row *d, const char *from, const char *state,
		      const char *reason, const char *actor, const char *action, int64_t now,
		      struct changes *ch, struct buf *err)
{
	int r = deploys_set_state(db, d->id, from, state, reason, NULL, now, err);
	if (r)
		return r;
	if (action && audit_deploy(db, actor, action, d, reason, err) < 0)
		return -1;
	snprintf(d->state, sizeof(d->state), "%s", state);
	note(ch, d->id);
	return 0;
}

static void decide(struct env_decision *out, enum env_verdict v, int64_t wake, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void decide(struct env_decision *out, enum env_verdict v, int64_t wake, const char *fmt, ...)
{
	out->verdict = v;
	out->wake_at_ms = wake;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

static int gate(struct db *db, const struct env_job *job, int64_t now, struct changes *ev,
		struct env_decision *out, struct buf *err)
{
	int64_t env_id;
	struct env_row e = ENV_ROW_INIT;
	struct deploy_row d, other;
	int created, r;
	/* GitHub creates an environment a job names that does not exist yet */
	if ((r = envs_ensure(db, job->repo, job->environment, &env_id, err)) ||
	    (r = envs_get(db, job->repo, job->environment, &e, err)))
		goto out;
	struct deploy_new dn = { job->repo, job->environment, job->run_id, job->job_id, job->job,
				 job->ref, job->sha, job->actor, job->commit_ms };
	if ((r = deploys_ensure(db, &dn, now, &d, &created, err)))
		goto out;
	out->deployment_id = d.id;
	if (created)
		note(ev, d.id);

	if (!strcmp(d.state, "in_progress")) {
		decide(out, ENV_PROCEED, 0, "deploying to %s", d.environment);
		goto out;
	}
	if (strcmp(d.state, "waiting") && strcmp(d.state, "queued")) {
		decide(out, ENV_REJECT, 0, "%s", *d.reason ? d.reason : d.state);
		goto out;
	}
	if (!strcmp(d.state, "waiting")) {
		if (!env_ref_allowed(&e, d.ref)) {
			decide(out, ENV_REJECT, 0,
			       "'%s' is not allowed to deploy to '%s' due to environment protection rules",
			       d.ref, d.environment);
			r = transition(db, &d, "waiting", "rejected", out->reason, NULL, "deploy.reject",
				       now, ev, err);
			goto out;
		}
		if (e.reviewers.nr && !*d.approved_by) {
			if (now >= d.created_ms + e.approval_timeout_ms) {
				decide(out, ENV_REJECT, 0, "timed out waiting for approval to deploy to '%s'",
				       d.environment);
				r = transition(db, &d, "waiting", "timed_out", out->reason, NULL,
					       "deploy.timeout", now, ev, err);
				goto out;
			}
			struct buf who = BUF_INIT;
			reviewers_text(&e, &who);
			decide(out, ENV_WAIT, d.created_ms + e.approval_timeout_ms,
			       "waiting for approval to deploy to '%s' by %s", d.environment, who.buf);
			buf_release(&who);
			if (created)
				r = audit_deploy(db, NULL, "deploy.waiting", &d, out->reason, err);
			goto out;
		}
		if (now < d.created_ms + e.wait_timer_ms) {
			int64_t at = d.created_ms + e.wait_timer_ms;
			decide(out, ENV_WAIT, at, "waiting for the wait timer of '%s' (%lld s left)",
			       d.environment, (long long)((at - now + 999) / 1000));
			goto out;
		}
		/* rules met: queue behind the environment's earlier deployments */
		if ((r = transition(db, &d, "waiting", "queued", "", NULL, NULL, now, ev, err)))
			goto out;
	}
	r = deploys_blocking(db, d.repo, d.environment, d.id, &other, err);
	if (r == 0) {
		decide(out, ENV_WAIT, 0, "waiting for deployment %lld (run %lld) to '%s' to finish",
		       (long long)other.id, (long long)other.run_id, d.environment);
		goto out;
	}
	if (r != KILN_ENOENT)
		goto out;
	decide(out, ENV_PROCEED, 0, "deploying to %s", d.environment);
	r = transition(db, &d, "queued", "in_progress", "", NULL, "deploy.start", now, ev, err);
out:
	env_row_release(&e);
	return r;
}

int env_gate(struct db *db, const struct env_job *job, int64_t now, const struct env_events *ev,
	     struct env_decision *out, struct buf *err)
{
	memset(out, 0, sizeof(*out));
	struct buf e = BUF_INIT;
	if (env_check_name(job->environment, &e)) {
		decide(out, ENV_REJECT, 0, "%s", e.buf);
		buf_release(&e);
		return 0;
	}
	buf_release(&e);
	if (begin(db, err) < 0)
		return -1;
	struct changes ch = { NULL, 0, 0 };
	int r = end(db, gate(db, job, now, &ch, out, err), err);
	emit(&ch, r == 0, ev, db);
	return r ? -1 : 0;
}

int env_deployment_finish(struct db *db, int64_t id, const char *conclusion, const char *reason,
			  int64_t now, const struct env_events *ev, struct buf *err)
{
	if (strcmp(conclusion, "success") && strcmp(conclusion, "failure") &&
	    strcmp(conclusion, "cancelled")) {
		buf_addf(err, "bad deployment conclusion '%s'", conclusion);
		return KILN_EINVAL;
	}
	struct deploy_row d;
	int r = deploys_get(db, id, &d, err);
	if (r)
		return r;
	char action[32];
	snprintf(action, sizeof(action), "deploy.%s", conclusion);
	/* a cancelled run also ends deployments still waiting or queued */
	const char *from =
		!strcmp(conclusion, "cancelled") ? "in_progress,waiting,queued" : "in_progress";
	if (begin(db, err) < 0)
		return -1;
	struct changes ch = { NULL, 0, 0 };
	r = transition(db, &d, from, conclusion, reason ? reason : "", NULL, action, now, &ch, err);
	r = end(db, r == KILN_ENOENT ? 1 : r, err);
	emit(&ch, r == 0, ev, db);
	if (r == 1) {
		buf_addf(err, "deployment %lld is %s, not in progress", (long long)id, d.state);
		return KILN_ENOENT;
	}
	return r;
}

/* ---- reviews ---- */

static int review(struct db *db, const struct principal *who, int64_t run_id, const char *environment,
		  int approve, const char *comment, int64_t now, struct changes *ch, int *decided,
		  struct buf *err)
{
	struct deploy_filter f = { NULL, environment, "waiting", run_id, 0, 0 };
	struct deploy_row *v = NULL;
	size_t n = 0;
	int r = deploys_list(db, &f, &v, &n, err);
	if (r)
		return r;
	struct buf why = BUF_INIT;
	int reviewable = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct deploy_row *d = &v[i];
		struct env_row e = ENV_ROW_INIT;
		if ((r = envs_get(db, d->repo, d->environment, &e, err)) != 0) {
			r = r == KILN_ENOENT ? 0 : -1;
			env_row_release(&e);
			continue;
		}
		if (!e.reviewers.nr || *d->approved_by) {
			env_row_release(&e); /* waiting for its timer, not for a review */
			continue;
		}
		reviewable++;
		int m = is_reviewer(db, &e, who, err);
		if (m < 0) {
			r = -1;
		} else if (!m) {
			buf_addf(&why, "%s'%s' is not a required reviewer of environment '%s'",
				 why.len ? "; " : "", who->name, d->environment);
		} else if (e.prevent_self_review && !strcmp(d->actor, who->name)) {
			buf_addf(&why,
				 "%s'%s' triggered run %lld and environment '%s' prevents self-review",
				 why.len ? "; " : "", who->name, (long long)run_id, d->environment);
		} else if ((r = deploys_add_review(db, d->id, who->name, approve ? "approved" : "rejected",
						   comment, now, err)) == 0) {
			if (approve) {
				r = deploys_set_state(db, d->id, "waiting", "waiting", NULL, who->name, now,
						      err);
				if (!r)
					r = audit_deploy(db, who->name, "deploy.approve", d, comment, err);
				note(ch, d->id);
			} else {
				char *reason = xstrfmt("rejected by %s%s%s", who->name,
						       comment && *comment ? ": " : "",
						       comment ? comment : "");
				r = transition(db, d, "waiting", "rejected", reason, who->name,
					       "deploy.reject", now, ch, err);
				free(reason);
			}
			if (!r)
				(*decided)++;
		}
		env_row_release(&e);
	}
	free(v);
	if (r >= 0 && !*decided) {
		if (!reviewable) {
			buf_addf(err, "run %lld has no deployment waiting for review%s%s", (long long)run_id,
				 environment ? " in " : "", environment ? environment : "");
			r = ENV_REVIEW_NOTHING;
		} else {
			buf_addstr(err, why.buf);
			r = ENV_REVIEW_FORBIDDEN;
		}
	}
	buf_release(&why);
	return r;
}

int env_review(struct db *db, const struct principal *who, int64_t run_id, const char *environment,
	       int approve, const char *comment, int64_t now, const struct env_events *ev,
	       int *decided, struct buf *err)
{
	int dummy = 0;
	if (!decided)
		decided = &dummy;
	*decided = 0;
	if (comment && strlen(comment) > 1000) {
		buf_addstr(err, "a review comment is limited to 1000 characters");
		return -1;
	}
	if (begin(db, err) < 0)
		return -1;
	struct changes ch = { NULL, 0, 0 };
	int r = review(db, who, run_id, environment, approve, comment, now, &ch, decided, err);
	/* FORBIDDEN and NOTHING changed nothing: commit is harmless */
	r = end(db, r, err);
	emit(&ch, r == 0, ev, db);
	return r;
}

/* ---- rules from JSON ---- */

static int bad(struct buf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct buf *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(err, fmt, ap);
	va_end(ap);
	return KILN_EINVAL;
}

static int minutes(const json_t *v, const char *key, int64_t max, int64_t *out, struct buf *err)
{
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return bad(err, "'%s' must be a whole number of minutes from 0 to %lld", key,
			   (long long)max);
	*out = (int64_t)json_integer_value(v) * 60 * 1000;
	return 0;
}

static int parse_reviewers(struct db *db, const json_t *a, struct strvec *out, struct buf *err)
{
	if (!json_is_array(a))
		return bad(err, "'reviewers' must be an array of {\"type\", \"name\"}");
	if (json_array_size(a) > MAX_REVIEWERS)
		return bad(err, "at most %d reviewers", MAX_REVIEWERS);
	size_t i;
	const json_t *r;
	json_array_foreach(a, i, r)
	{
		const char *type = json_string_value(json_object_get(r, "type"));
		const char *name = json_string_value(json_object_get(r, "name"));
		if (!type || !name || !*name)
			return bad(err, "reviewers[%zu]: needs \"type\" (user or group) and \"name\"", i);
		if (!strcasecmp(type, "user")) {
			struct user_row u;
			int x = users_get(db, name, &u, NULL, err);
			if (x == KILN_ENOENT)
				return bad(err, "reviewers[%zu]: no user '%s'", i, name);
			if (x)
				return -1;
			strvec_pushf(out, "user:%s", name);
		} else if (!strcasecmp(type, "group") || !strcasecmp(type, "team")) {
			struct buf e = BUF_INIT;
			int x = auth_check_user_name(name, &e);
			buf_release(&e);
			if (x)
				return bad(err, "reviewers[%zu]: bad group name '%s'", i, name);
			strvec_pushf(out, "group:%s", name);
		} else {
			return bad(err, "reviewers[%zu]: type must be \"user\" or \"group\", not '%s'", i,
				   type);
		}
	}
	return 0;
}

static int parse_policy(const json_t *p, struct env_row *e, struct buf *err)
{
	strvec_clear(&e->patterns);
	if (json_is_null(p)) {
		e->custom_branches = 0;
		return 0;
	}
	const json_t *a = json_object_get(p, "patterns");
	if (!json_is_object(p) || !json_is_array(a))
		return bad(err, "'deployment_branch_policy' must be null or {\"patterns\": [...]}");
	if (json_array_size(a) > MAX_PATTERNS)
		return bad(err, "at most %d deployment patterns", MAX_PATTERNS);
	size_t i;
	const json_t *x;
	json_array_foreach(a, i, x)
	{
		const char *type = json_string_value(json_object_get(x, "type"));
		const char *name = json_string_value(json_object_get(x, "name"));
		if (!name || !*name || (type && strcmp(type, "branch") && strcmp(type, "tag")))
			return bad(err, "patterns[%zu]: needs \"name\" and \"type\" branch or tag", i);
		struct glob g = GLOB_INIT;
		struct buf ge = BUF_INIT;
		int c = glob_compile(&g, name, &ge);
		glob_release(&g);
		if (c) {
			bad(err, "patterns[%zu]: %s", i, ge.buf);
			buf_release(&ge);
			return KILN_EINVAL;
		}
		buf_release(&ge);
		strvec_pushf(&e->patterns, "%s:%s", type ? type : "branch", name);
	}
	e->custom_branches = 1;
	return 0;
}

static int put_json(struct db *db, const char *actor, const char *repo, const char *name,
		    const json_t *body, struct buf *err)
{
	struct env_row e = ENV_ROW_INIT;
	int64_t id;
	int r = envs_ensure(db, repo, name, &id, err);
	if (!r)
		r = envs_get(db, repo, name, &e, err);
	if (r)
		goto out;
	const json_t *v;
	if ((r = minutes(json_object_get(body, "wait_timer"), "wait_timer", MAX_WAIT_MIN,
			 &e.wait_timer_ms, err)) ||
	    (r = minutes(json_object_get(body, "approval_timeout"), "approval_timeout", MAX_WAIT_MIN,
			 &e.approval_timeout_ms, err)))
		goto out;
	if ((v = json_object_get(body, "prevent_self_review"))) {
		if (!json_is_boolean(v)) {
			r = bad(err, "'prevent_self_review' must be true or false");
			goto out;
		}
		e.prevent_self_review = json_is_true(v);
	}
	if ((v = json_object_get(body, "reviewers"))) {
		strvec_clear(&e.reviewers);
		if ((r = parse_reviewers(db, v, &e.reviewers, err)))
			goto out;
	}
	if ((v = json_object_get(body, "deployment_branch_policy")) &&
	    (r = parse_policy(v, &e, err)))
		goto out;
	if (e.approval_timeout_ms <= 0)
		e.approval_timeout_ms = ENV_APPROVAL_TIMEOUT_MS;
	if ((r = envs_put_rules(db, &e, err)))
		goto out;
	char *detail = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	r = audit_append(db, actor, "env.update", repo, name, detail, err);
	free(detail);
out:
	env_row_release(&e);
	return r;
}

int env_put_json(struct db *db, const char *actor, const char *repo, const char *name,
		 const json_t *body, struct buf *err)
{
	if (env_check_name(name, err))
		return KILN_EINVAL;
	if (!json_is_object(body))
		return bad(err, "an environment's rules are a JSON object");
	const char *key;
	const json_t *v;
	static const char *const known[] = { "wait_timer", "prevent_self_review", "reviewers",
					     "deployment_branch_policy", "approval_timeout" };
	json_object_foreach((json_t *)body, key, v)
	{
		size_t i = 0;
		while (i < ARRAY_SIZE(known) && strcmp(known[i], key))
			i++;
		if (i == ARRAY_SIZE(known)) {
			const char *hint = did_you_mean(key, known, ARRAY_SIZE(known));
			return hint ? bad(err, "unknown key '%s' (did you mean '%s'?)", key, hint)
				    : bad(err, "unknown key '%s'", key);
		}
	}
	if (begin(db, err) < 0)
		return -1;
	return end(db, put_json(db, actor, repo, name, body, err), err);
}

/* ---- JSON out ---- */

json_t *env_to_json(struct db *db, const struct env_row *e, struct buf *err)
{
	json_t *rev = json_array(), *pat = json_array(), *vars = json_object(),
	       *secrets = json_array();
	for (size_t i = 0; i < e->reviewers.nr; i++) {
		const char *r = e->reviewers.v[i], *c = strchr(r, ':');
		json_array_append_new(rev, json_pack("{s:s%,s:s}", "type", r, (size_t)(c - r), "name",
						     c + 1));
	}
	for (size_t i = 0; i < e->patterns.nr; i++) {
		const char *p = e->patterns.v[i], *c = strchr(p, ':');
		json_array_append_new(pat, json_pack("{s:s%,s:s}", "type", p, (size_t)(c - p), "name",
						     c + 1));
	}
	struct strvec sv = STRVEC_INIT;
	int r = envs_var_list(db, e->id, &sv, err);
	for (size_t i = 0; !r && i + 1 < sv.nr; i += 2)
		json_object_set_new(vars, sv.v[i], json_string(sv.v[i + 1]));
	strvec_clear(&sv);
	if (!r)
		r = envs_secret_names(db, e->id, &sv, err);
	for (size_t i = 0; !r && i < sv.nr; i++) {
		char *tab = strchr(sv.v[i], '\t');
		if (tab)
			*tab++ = '\0';
		json_array_append_new(secrets, json_pack("{s:s,s:I}", "name", sv.v[i], "updated_at",
							 (json_int_t)(tab ? strtoll(tab, NULL, 10) : 0)));
	}
	strvec_clear(&sv);
	json_t *o = json_pack(
		"{s:I,s:s,s:s,s:I,s:b,s:I,s:o,s:o,s:o,s:o,s:I}", "id", (json_int_t)e->id, "repo", e->repo,
		"name", e->name, "wait_timer", (json_int_t)(e->wait_timer_ms / 60000),
		"prevent_self_review", e->prevent_self_review, "approval_timeout",
		(json_int_t)(e->approval_timeout_ms / 60000), "reviewers", rev,
		"deployment_branch_policy", e->custom_branches ? json_pack("{s:o}", "patterns", pat) : json_null(),
		"variables", vars, "secrets", secrets, "created_at", (json_int_t)e->created_ms);
	if (!e->custom_branches)
		json_decref(pat);
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *deploy_to_json(const struct deploy_row *d)
{
	return json_pack("{s:I,s:s,s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s*,s:s*,s:I,s:I,s:I,s:I}",
			 "id", (json_int_t)d->id, "repo", d->repo, "environment", d->environment,
			 "run_id", (json_int_t)d->run_id, "job_id", (json_int_t)d->job_id, "job", d->job,
			 "ref", d->ref, "sha", d->sha, "actor", d->actor, "commit_time",
			 (json_int_t)d->commit_ms, "state", d->state, "reason", d->reason, "approved_by",
			 *d->approved_by ? d->approved_by : NULL, "release_app",
			 *d->release_app ? d->release_app : NULL, "release_id", (json_int_t)d->release_id,
			 "created_at", (json_int_t)d->created_ms, "started_at", (json_int_t)d->started_ms,
			 "finished_at", (json_int_t)d->finished_ms);
}

int env_link_release(struct db *db, int64_t deployment_id, const char *app, const char *message,
		     int *rolled_back, struct buf *reason, struct buf *err)
{
	const char *p = message ? strstr(message, "release ") : NULL;
	char *end;
	long long id = p ? strtoll(p + 8, &end, 10) : 0;
	if (!p || end == p + 8 || id <= 0 || strncmp(end, " (", 2)) {
		buf_addstr(err, "the kiln/deploy message names no release");
		return KILN_ENOENT;
	}
	const char *close = strstr(end, ") ");
	if (!close)
		return buf_addstr(err, "the kiln/deploy message names no release"), KILN_ENOENT;
	const char *outcome = close + 2;
	if (rolled_back)
		*rolled_back = str_starts_with(outcome, "rolled-back") ||
			       str_starts_with(outcome, "failed") || str_starts_with(outcome, "aborted");
	const char *colon = strstr(outcome, ": ");
	if (reason && colon)
		buf_addstr(reason, colon + 2);
	else if (reason)
		buf_addstr(reason, outcome);
	return deploys_set_release(db, deployment_id, app, (int64_t)id, err);
}

/* ---- secrets and variables ---- */

#define VAR_MAX_VALUE (48 * 1024) /* GitHub: 48 KB per variable */

/* "" (repository-level) or a valid environment name */
static int scope_ok(const char *environment, struct buf *err)
{
	return !environment || !*environment ? 0 : env_check_name(environment, err);
}

static void upper(char *dst, const char *src, size_t n)
{
	size_t i = 0;
	for (; src[i] && i + 1 < n; i++)
		dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 32 : src[i]);
	dst[i] = '\0';
}

static char *secret_context(const char *repo, const char *environment, const char *name)
{
	return xstrfmt("env-secret:%s/%s/%s", repo, environment ? environment : "", name);
}

/* audit target: "ENV/NAME", or "NAME" for the repository level */
static char *scoped(const char *environment, const char *name)
{
	return environment && *environment ? xstrfmt("%s/%s", environment, name) : xstrdup(name);
}

int env_secret_set(struct db *db, struct secret_store *secrets, const char *actor, const char *repo,
		   const char *environment, const char *name, const char *value, size_t len,
		   struct buf *err)
{
	char uname[256];
	if (scope_ok(environment, err) || secret_check_name(name, err) < 0)
		return KILN_EINVAL;
	if (len > SECRET_MAX_VALUE) {
		buf_addf(err, "secret '%s' is too large (%zu bytes, the limit is %d)", name, len,
			 SECRET_MAX_VALUE);
		return KILN_EINVAL;
	}
	upper(uname, name, sizeof(uname));
	struct buf box = BUF_INIT;
	char *ctx = secret_context(repo, environment, uname);
	int r = secret_seal(secrets, ctx, value, len, &box, err);
	free(ctx);
	if (!r && !(r = begin(db, err))) {
		int64_t id;
		r = envs_ensure(db, repo, environment ? environment : "", &id, err);
		if (!r)
			r = envs_secret_put(db, id, uname, box.buf, box.len, err);
		if (!r) {
			char *t = scoped(environment, uname);
			r = audit_append(db, actor, "secret.set", repo, t, NULL, err);
			free(t);
		}
		r = end(db, r, err);
	}
	buf_release(&box);
	return r;
}

/* the environment's id, KILN_ENOENT when it does not exist */
static int env_id(struct db *db, const char *repo, const char *environment, int64_t *id,
		  struct buf *err)
{
	struct env_row e = ENV_ROW_INIT;
	int r = envs_get(db, repo, environment ? environment : "", &e, err);
	*id = e.id;
	env_row_release(&e);
	return r;
}

/* remove secret or variable `name` of a scope (remove: the store's), audited */
static int scoped_remove(struct db *db, const char *actor, const char *repo,
			 const char *environment, const char *name,
			 int (*remove)(struct db *, int64_t, const char *, struct buf *),
			 const char *noun, const char *action, struct buf *err)
{
	char uname[256];
	int64_t id;
	upper(uname, name, sizeof(uname));
	int r = env_id(db, repo, environment, &id, err);
	if (!r)
		r = remove(db, id, uname, err);
	if (r == KILN_ENOENT) {
		buf_addf(err, "no %s '%s'%s%s", noun, uname, environment && *environment ? " in " : "",
			 environment ? environment : "");
		return r;
	}
	if (!r) {
		char *t = scoped(environment, uname);
		r = audit_append(db, actor, action, repo, t, NULL, err);
		free(t);
	}
	return r;
}

int env_secret_remove(struct db *db, const char *actor, const char *repo, const char *environment,
		      const char *name, struct buf *err)
{
	return scoped_remove(db, actor, repo, environment, name, envs_secret_remove, "secret",
			     "secret.remove", err);
}

/* open every secret of one scope into m (later scopes override) */
static int load_scope(struct db *db, struct secret_store *secrets, const char *repo,
		      const char *environment, struct secret_map *m, struct buf *err)
{
	int64_t id;
	int r = env_id(db, repo, environment, &id, err);
	if (r == KILN_ENOENT)
		return 0;
	struct strvec names = STRVEC_INIT;
	if (!r)
		r = envs_secret_names(db, id, &names, err);
	for (size_t i = 0; !r && i < names.nr; i++) {
		char *tab = strchr(names.v[i], '\t');
		if (tab)
			*tab = '\0';
		struct buf box = BUF_INIT, val = BUF_INIT;
		char *ctx = secret_context(repo, environment, names.v[i]);
		r = envs_secret_get(db, id, names.v[i], &box, err);
		if (!r)
			r = secret_unseal(secrets, ctx, box.buf, box.len, &val, err);
		if (!r)
			secret_map_set(m, names.v[i], val.buf, val.len);
		free(ctx);
		sodium_memzero(val.buf, val.len);
		buf_release(&val);
		buf_release(&box);
	}
	strvec_clear(&names);
	return r;
}

int env_secrets_load(struct db *db, struct secret_store *secrets, const char *repo,
		     const char *environment, struct secret_map *m, struct buf *err)
{
	int r = load_scope(db, secrets, repo, "", m, err);
	if (!r && environment && *environment)
		r = load_scope(db, secrets, repo, environment, m, err);
	return r;
}

int env_var_set(struct db *db, const char *actor, const char *repo, const char *environment,
		const char *name, const char *value, struct buf *err)
{
	char uname[256];
	if (scope_ok(environment, err) || secret_check_name(name, err) < 0)
		return KILN_EINVAL;
	if (strlen(value) > VAR_MAX_VALUE) {
		buf_addf(err, "variable '%s' is too large (the limit is %d bytes)", name, VAR_MAX_VALUE);
		return KILN_EINVAL;
	}
	upper(uname, name, sizeof(uname));
	if (begin(db, err))
		return -1;
	int64_t id;
	int r = envs_ensure(db, repo, environment ? environment : "", &id, err);
	if (!r)
		r = envs_var_set(db, id, uname, value, err);
	if (!r) {
		char *t = scoped(environment, uname);
		r = audit_append(db, actor, "var.set", repo, t, NULL, err);
		free(t);
	}
	return end(db, r, err);
}

int env_var_remove(struct db *db, const char *actor, const char *repo, const char *environment,
		   const char *name, struct buf *err)
{
	return scoped_remove(db, actor, repo, environment, name, envs_var_remove, "variable",
			     "var.remove", err);
}

static int vars_scope(struct db *db, const char *repo, const char *environment, json_t *o,
		      struct buf *err)
{
	int64_t id;
	int r = env_id(db, repo, environment, &id, err);
	if (r == KILN_ENOENT)
		return 0;
	struct strvec sv = STRVEC_INIT;
	if (!r)
		r = envs_var_list(db, id, &sv, err);
	for (size_t i = 0; !r && i + 1 < sv.nr; i += 2)
		json_object_set_new(o, sv.v[i], json_string(sv.v[i + 1]));
	strvec_clear(&sv);
	return r;
}

json_t *env_vars_load(struct db *db, const char *repo, const char *environment, struct buf *err)
{
	json_t *o = json_object();
	if (vars_scope(db, repo, "", o, err) ||
	    (environment && *environment && vars_scope(db, repo, environment, o, err))) {
		json_decref(o);
		return NULL;
	}
	return o;
}
