/* unit tests for src/server/env: protection rules, the deployment gate, reviews, serialization */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/kiln.h"
#include "secret/secret.h"
#include "server/auth.h"
#include "server/env.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/users.h"

#include <unistd.h>

struct fx {
	char dir[64];
	struct db *db;
	int changed; /* events received */
	int64_t last_changed;
};

static void on_changed(void *arg, const struct deploy_row *d)
{
	struct fx *f = arg;
	f->changed++;
	f->last_changed = d->id;
}

static int64_t add_user(struct fx *f, const char *name, enum role role)
{
	struct buf err = BUF_INIT;
	int64_t id;
	assert_int_equal(auth_user_add(f->db, "admin", name, NULL, role, &id, &err), 0);
	buf_release(&err);
	return id;
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-env-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char *path = xstrfmt("%s/kiln.db", f->dir);
	struct buf err = BUF_INIT;
	assert_int_equal(db_open(path, &f->db, &err), 0);
	free(path);
	buf_release(&err);
	add_user(f, "alice", ROLE_DEPLOYER);
	add_user(f, "bob", ROLE_DEPLOYER);
	add_user(f, "carol", ROLE_VIEWER);
	int64_t dave = add_user(f, "dave", ROLE_DEPLOYER);
	assert_int_equal(groups_add_member(f->db, "ops", dave, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	db_close(f->db);
	char *cmd = xstrfmt("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

static void put(struct fx *f, const char *env, const char *json)
{
	json_error_t je;
	json_t *body = json_loads(json, 0, &je);
	assert_non_null(body);
	struct buf err = BUF_INIT;
	int r = env_put_json(f->db, "admin", "shop", env, body, &err);
	if (r)
		fail_msg("env_put_json: %s", err.buf);
	json_decref(body);
	buf_release(&err);
}

static int put_err(struct fx *f, const char *env, const char *json, struct buf *err)
{
	json_error_t je;
	json_t *body = json_loads(json, 0, &je);
	assert_non_null(body);
	buf_reset(err);
	int r = env_put_json(f->db, "admin", "shop", env, body, err);
	json_decref(body);
	return r;
}

static struct principal who(struct fx *f, const char *name)
{
	struct user_row u;
	struct buf err = BUF_INIT;
	assert_int_equal(users_get(f->db, name, &u, NULL, &err), 0);
	buf_release(&err);
	struct principal p = { u.id, xstrdup(name), ROLE_DEPLOYER, 0 };
	return p;
}

static enum env_verdict gate(struct fx *f, int64_t run, const char *env, const char *ref,
			     const char *actor, int64_t now, struct env_decision *d)
{
	struct env_job j = { "shop", env, run, run * 10, "deploy", ref, "abc123", actor, now - 3600000 };
	struct env_events ev = { on_changed, f };
	struct buf err = BUF_INIT;
	assert_int_equal(env_gate(f->db, &j, now, &ev, d, &err), 0);
	buf_release(&err);
	return d->verdict;
}

static int do_review(struct fx *f, const char *user, int64_t run, int approve, const char *comment,
		     struct buf *err)
{
	struct principal p = who(f, user);
	struct env_events ev = { on_changed, f };
	buf_reset(err);
	int n = 0;
	int r = env_review(f->db, &p, run, NULL, approve, comment, 1000, &ev, &n, err);
	principal_release(&p);
	return r == ENV_REVIEW_DONE ? (n > 0 ? 0 : -99) : r;
}

static void test_rules_json(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	put(f, "production",
	    "{\"wait_timer\": 0, \"prevent_self_review\": true,"
	    " \"reviewers\": [{\"type\": \"user\", \"name\": \"bob\"}, {\"type\": \"group\", \"name\": \"ops\"}],"
	    " \"deployment_branch_policy\": {\"patterns\": [{\"type\": \"branch\", \"name\": \"main\"},"
	    " {\"type\": \"tag\", \"name\": \"v*\"}]}}");
	struct env_row e = ENV_ROW_INIT;
	assert_int_equal(envs_get(f->db, "shop", "production", &e, &err), 0);
	assert_int_equal(e.reviewers.nr, 2);
	assert_string_equal(e.reviewers.v[0], "user:bob");
	assert_string_equal(e.reviewers.v[1], "group:ops");
	assert_int_equal(e.prevent_self_review, 1);
	assert_int_equal(e.custom_branches, 1);
	assert_true(env_ref_allowed(&e, "refs/heads/main"));
	assert_true(env_ref_allowed(&e, "refs/tags/v1.2"));
	assert_false(env_ref_allowed(&e, "refs/heads/feature"));
	assert_false(env_ref_allowed(&e, "refs/tags/release-1"));
	assert_false(env_ref_allowed(&e, "refs/heads/v1"));
	assert_false(env_ref_allowed(&e, "refs/pull/3/merge"));

	json_t *j = env_to_json(f->db, &e, &err);
	assert_non_null(j);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(strstr(s, "\"reviewers\":[{\"name\":\"bob\",\"type\":\"user\"},{\"name\":\"ops\",\"type\":\"group\"}]"));
	assert_non_null(strstr(s, "\"deployment_branch_policy\":{\"patterns\":[{\"name\":\"main\",\"type\":\"branch\"}"));
	free(s);
	json_decref(j);
	env_row_release(&e);

	/* a partial update keeps the other rules */
	put(f, "production", "{\"wait_timer\": 5}");
	assert_int_equal(envs_get(f->db, "shop", "production", &e, &err), 0);
	assert_int_equal(e.wait_timer_ms, 5 * 60000);
	assert_int_equal(e.reviewers.nr, 2);
	env_row_release(&e);
	put(f, "production", "{\"deployment_branch_policy\": null, \"wait_timer\": 0}");
	assert_int_equal(envs_get(f->db, "shop", "production", &e, &err), 0);
	assert_int_equal(e.custom_branches, 0);
	assert_true(env_ref_allowed(&e, "refs/heads/feature"));
	env_row_release(&e);

	/* bad input: clear errors, nothing changed */
	assert_int_equal(put_err(f, "production", "{\"wait_timers\": 1}", &err), KILN_EINVAL);
	assert_string_equal(err.buf, "unknown key 'wait_timers' (did you mean 'wait_timer'?)");
	assert_int_equal(put_err(f, "production", "{\"wait_timer\": 43201}", &err), KILN_EINVAL);
	assert_non_null(strstr(err.buf, "0 to 43200"));
	assert_int_equal(put_err(f, "production", "{\"reviewers\": [{\"type\": \"user\", \"name\": \"zed\"}]}", &err),
			 KILN_EINVAL);
	assert_string_equal(err.buf, "reviewers[0]: no user 'zed'");
	assert_int_equal(put_err(f, "production",
				 "{\"deployment_branch_policy\": {\"patterns\": [{\"name\": \"v[\"}]}}", &err),
			 KILN_EINVAL);
	assert_non_null(strstr(err.buf, "patterns[0]"));
	assert_int_equal(put_err(f, "prod/uction", "{}", &err), KILN_EINVAL);
	assert_int_equal(put_err(f, "production", "{\"prevent_self_review\": 1}", &err), KILN_EINVAL);
	assert_int_equal(envs_get(f->db, "shop", "production", &e, &err), 0);
	assert_int_equal(e.reviewers.nr, 2);
	assert_int_equal(e.prevent_self_review, 1);
	env_row_release(&e);

	struct audit_row *v;
	size_t n;
	struct audit_filter af = { "shop", "env.update", 0, 0 };
	assert_int_equal(audit_list(f->db, &af, &v, &n, &err), 0);
	assert_int_equal(n, 3);
	free(v);
	buf_release(&err);
}

static void test_branch_rule_rejects(void **state)
{
	struct fx *f = *state;
	struct env_decision d;
	put(f, "production", "{\"deployment_branch_policy\": {\"patterns\": [{\"name\": \"main\"}]}}");
	assert_int_equal(gate(f, 1, "production", "refs/heads/feature", "alice", 1000, &d), ENV_REJECT);
	assert_string_equal(d.reason, "'refs/heads/feature' is not allowed to deploy to 'production' "
				      "due to environment protection rules");
	/* asked again: the same answer */
	assert_int_equal(gate(f, 1, "production", "refs/heads/feature", "alice", 2000, &d), ENV_REJECT);
	assert_non_null(strstr(d.reason, "not allowed"));
	/* an unknown environment is created without rules: proceed */
	assert_int_equal(gate(f, 2, "preview", "refs/heads/feature", "alice", 1000, &d), ENV_PROCEED);
	struct env_row e = ENV_ROW_INIT;
	struct buf err = BUF_INIT;
	assert_int_equal(envs_get(f->db, "shop", "preview", &e, &err), 0);
	env_row_release(&e);
	/* a bad environment name is refused, not stored */
	assert_int_equal(gate(f, 3, "pro duction", "refs/heads/main", "alice", 1000, &d), ENV_REJECT);
	assert_non_null(strstr(d.reason, "invalid environment name"));
	buf_release(&err);
}

static void test_approvals(void **state)
{
	struct fx *f = *state;
	struct env_decision d;
	struct buf err = BUF_INIT;
	put(f, "production",
	    "{\"prevent_self_review\": true, \"reviewers\": [{\"type\": \"user\", \"name\": \"bob\"},"
	    " {\"type\": \"user\", \"name\": \"alice\"}, {\"type\": \"group\", \"name\": \"ops\"}]}");

	/* run 1 by alice waits for a reviewer */
	assert_int_equal(gate(f, 1, "production", "refs/heads/main", "alice", 1000, &d), ENV_WAIT);
	assert_string_equal(d.reason, "waiting for approval to deploy to 'production' by bob, alice, group:ops");
	assert_int_equal(d.wake_at_ms, 1000 + ENV_APPROVAL_TIMEOUT_MS);
	int64_t d1 = d.deployment_id;
	assert_int_equal(gate(f, 1, "production", "refs/heads/main", "alice", 5000, &d), ENV_WAIT);
	assert_int_equal(d.deployment_id, d1);

	/* a viewer who is not named, and the author under prevent_self_review, cannot approve */
	assert_int_equal(do_review(f, "carol", 1, 1, NULL, &err), ENV_REVIEW_FORBIDDEN);
	assert_string_equal(err.buf, "'carol' is not a required reviewer of environment 'production'");
	assert_int_equal(do_review(f, "alice", 1, 1, NULL, &err), ENV_REVIEW_FORBIDDEN);
	assert_string_equal(err.buf, "'alice' triggered run 1 and environment 'production' prevents self-review");
	assert_int_equal(do_review(f, "alice", 42, 1, NULL, &err), ENV_REVIEW_NOTHING);
	assert_int_equal(gate(f, 1, "production", "refs/heads/main", "alice", 6000, &d), ENV_WAIT);

	/* one approval suffices */
	int before = f->changed;
	assert_int_equal(do_review(f, "bob", 1, 1, "ship it", &err), 0);
	assert_int_equal(f->changed, before + 1);
	assert_int_equal(f->last_changed, d1);
	assert_int_equal(gate(f, 1, "production", "refs/heads/main", "alice", 7000, &d), ENV_PROCEED);
	struct deploy_row row;
	assert_int_equal(deploys_get(f->db, d1, &row, &err), 0);
	assert_string_equal(row.state, "in_progress");
	assert_string_equal(row.approved_by, "bob");
	assert_int_equal(row.started_ms, 7000);
	/* nothing left to review */
	assert_int_equal(do_review(f, "bob", 1, 1, NULL, &err), ENV_REVIEW_NOTHING);

	/* run 2, approved through the group, queues behind run 1 */
	assert_int_equal(gate(f, 2, "production", "refs/heads/main", "alice", 8000, &d), ENV_WAIT);
	int64_t d2 = d.deployment_id;
	assert_int_equal(do_review(f, "dave", 2, 1, NULL, &err), 0);
	assert_int_equal(gate(f, 2, "production", "refs/heads/main", "alice", 9000, &d), ENV_WAIT);
	char want[128];
	snprintf(want, sizeof(want), "waiting for deployment %lld (run 1) to 'production' to finish",
		 (long long)d1);
	assert_string_equal(d.reason, want);

	/* run 3 is approved too, but must wait for run 2 (oldest first) */
	assert_int_equal(gate(f, 3, "production", "refs/heads/main", "carol", 9500, &d), ENV_WAIT);
	int64_t d3 = d.deployment_id;
	assert_int_equal(do_review(f, "alice", 3, 1, NULL, &err), 0);

	/* run 4 is rejected with a comment */
	assert_int_equal(gate(f, 4, "production", "refs/heads/main", "carol", 9600, &d), ENV_WAIT);
	assert_int_equal(do_review(f, "bob", 4, 0, "not on a Friday", &err), 0);
	assert_int_equal(gate(f, 4, "production", "refs/heads/main", "carol", 9700, &d), ENV_REJECT);
	assert_string_equal(d.reason, "rejected by bob: not on a Friday");

	/* run 1 ends: run 2 goes, run 3 still waits (for run 2) */
	struct env_events ev = { on_changed, f };
	assert_int_equal(env_deployment_finish(f->db, d1, "success", NULL, 10000, &ev, &err), 0);
	assert_int_equal(f->last_changed, d1);
	assert_int_equal(env_deployment_finish(f->db, d1, "success", NULL, 10000, &ev, &err), KILN_ENOENT);
	assert_int_equal(gate(f, 3, "production", "refs/heads/main", "carol", 10100, &d), ENV_WAIT);
	snprintf(want, sizeof(want), "waiting for deployment %lld (run 2) to 'production' to finish",
		 (long long)d2);
	assert_string_equal(d.reason, want);
	assert_int_equal(gate(f, 2, "production", "refs/heads/main", "alice", 10200, &d), ENV_PROCEED);
	assert_int_equal(gate(f, 3, "production", "refs/heads/main", "carol", 10300, &d), ENV_WAIT);
	assert_int_equal(env_deployment_finish(f->db, d2, "failure", "exit 1", 11000, &ev, &err), 0);
	assert_int_equal(gate(f, 3, "production", "refs/heads/main", "carol", 11100, &d), ENV_PROCEED);
	assert_int_equal(d.deployment_id, d3);

	/* the audit trail has who and when */
	struct audit_row *v;
	size_t n;
	struct audit_filter af = { "shop", "deploy.", 0, 0 };
	assert_int_equal(audit_list(f->db, &af, &v, &n, &err), 0);
	int approve = 0, reject = 0, start = 0, waiting = 0;
	for (size_t i = 0; i < n; i++) {
		approve += !strcmp(v[i].action, "deploy.approve");
		reject += !strcmp(v[i].action, "deploy.reject");
		start += !strcmp(v[i].action, "deploy.start");
		waiting += !strcmp(v[i].action, "deploy.waiting");
		if (!strcmp(v[i].action, "deploy.reject"))
			assert_string_equal(v[i].actor, "bob");
	}
	free(v);
	assert_int_equal(approve, 3);
	assert_int_equal(reject, 1);
	assert_int_equal(start, 3);
	assert_int_equal(waiting, 4);
	buf_release(&err);
}

static void test_timers(void **state)
{
	struct fx *f = *state;
	struct env_decision d;
	struct buf err = BUF_INIT;
	put(f, "staging", "{\"wait_timer\": 1}");
	assert_int_equal(gate(f, 1, "staging", "refs/heads/develop", "alice", 100000, &d), ENV_WAIT);
	assert_int_equal(d.wake_at_ms, 160000);
	assert_string_equal(d.reason, "waiting for the wait timer of 'staging' (60 s left)");
	assert_int_equal(gate(f, 1, "staging", "refs/heads/develop", "alice", 159999, &d), ENV_WAIT);
	assert_int_equal(gate(f, 1, "staging", "refs/heads/develop", "alice", 160000, &d), ENV_PROCEED);

	/* no review within the approval timeout: rejected as timed out */
	put(f, "production", "{\"approval_timeout\": 2, \"reviewers\": [{\"type\": \"user\", \"name\": \"bob\"}]}");
	assert_int_equal(gate(f, 2, "production", "refs/heads/main", "alice", 100000, &d), ENV_WAIT);
	assert_int_equal(d.wake_at_ms, 220000);
	assert_int_equal(gate(f, 2, "production", "refs/heads/main", "alice", 220000, &d), ENV_REJECT);
	assert_string_equal(d.reason, "timed out waiting for approval to deploy to 'production'");
	assert_int_equal(do_review(f, "bob", 2, 1, NULL, &err), ENV_REVIEW_NOTHING);

	/* a cancelled run ends its waiting deployment */
	assert_int_equal(gate(f, 3, "production", "refs/heads/main", "alice", 300000, &d), ENV_WAIT);
	assert_int_equal(env_deployment_finish(f->db, d.deployment_id, "cancelled", "cancelled by alice",
					       301000, NULL, &err),
			 0);
	assert_int_equal(gate(f, 3, "production", "refs/heads/main", "alice", 302000, &d), ENV_REJECT);
	assert_string_equal(d.reason, "cancelled by alice");
	buf_release(&err);
}

static void test_secrets_and_vars(void **state)
{
	struct fx *f = *state;
	struct buf err = BUF_INIT;
	struct secret_store *ss;
	assert_int_equal(secret_store_open(&ss, f->db, f->dir, &err), 0);
	const char *repo_tok = "repo-level-token-7f3a9c", *prod_tok = "production-token-41d2e8";
	assert_int_equal(env_secret_set(f->db, ss, "admin", "shop", "", "token", repo_tok,
					strlen(repo_tok), &err), 0);
	assert_int_equal(env_secret_set(f->db, ss, "admin", "shop", "production", "TOKEN", prod_tok,
					strlen(prod_tok), &err), 0);
	assert_int_equal(env_secret_set(f->db, ss, "admin", "shop", "production", "DB_PASS",
					"db-pass-93ab21", 14, &err), 0);
	assert_int_equal(env_secret_set(f->db, ss, "admin", "other", "production", "TOKEN", "x", 1,
					&err), 0);

	/* production sees its own TOKEN over the repository's; staging the repository's */
	struct secret_map m = SECRET_MAP_INIT;
	assert_int_equal(env_secrets_load(f->db, ss, "shop", "production", &m, &err), 0);
	assert_int_equal(m.nr, 2);
	assert_string_equal(secret_map_get(&m, "TOKEN")->value, prod_tok);
	assert_string_equal(secret_map_get(&m, "db_pass")->value, "db-pass-93ab21");
	secret_map_release(&m);
	assert_int_equal(env_secrets_load(f->db, ss, "shop", "staging", &m, &err), 0);
	assert_int_equal(m.nr, 1);
	assert_string_equal(secret_map_get(&m, "TOKEN")->value, repo_tok);
	secret_map_release(&m);
	assert_int_equal(env_secrets_load(f->db, ss, "shop", NULL, &m, &err), 0);
	assert_int_equal(m.nr, 1);
	secret_map_release(&m);

	/* never in clear in the store, nor in the API's JSON, nor in the audit log */
	char *cmd = xstrfmt("cat %s/kiln.db* | grep -a -c -e %s -e %s -e db-pass-93ab21 >/dev/null", f->dir,
			    repo_tok, prod_tok);
	assert_int_not_equal(system(cmd), 0); /* grep finds nothing: exit 1 */
	free(cmd);
	struct env_row e = ENV_ROW_INIT;
	assert_int_equal(envs_get(f->db, "shop", "production", &e, &err), 0);
	json_t *j = env_to_json(f->db, &e, &err);
	char *s = json_dumps(j, JSON_COMPACT);
	assert_null(strstr(s, prod_tok));
	assert_non_null(strstr(s, "\"secrets\":[{\"name\":\"DB_PASS\""));
	free(s);
	json_decref(j);

	/* a sealed value copied under another name does not open */
	assert_int_equal(db_exec(f->db, "UPDATE env_secrets SET box = (SELECT box FROM env_secrets"
				 " WHERE name = 'DB_PASS') WHERE name = 'TOKEN'", NULL),
			 0);
	buf_reset(&err);
	assert_int_equal(env_secrets_load(f->db, ss, "shop", "production", &m, &err), -1);
	assert_non_null(strstr(err.buf, "cannot be opened"));
	secret_map_release(&m);
	env_row_release(&e);

	/* bad names, removal */
	buf_reset(&err);
	assert_int_equal(env_secret_set(f->db, ss, "admin", "shop", "production", "GITHUB_SHA", "x", 1,
					&err), KILN_EINVAL);
	assert_int_equal(env_secret_set(f->db, ss, "admin", "shop", "pro duction", "X", "x", 1, &err),
			 KILN_EINVAL);
	assert_int_equal(env_secret_remove(f->db, "admin", "shop", "production", "db_pass", &err), 0);
	assert_int_equal(env_secret_remove(f->db, "admin", "shop", "production", "db_pass", &err),
			 KILN_ENOENT);

	/* variables: the environment's override the repository's */
	assert_int_equal(env_var_set(f->db, "admin", "shop", "", "region", "eu-west", &err), 0);
	assert_int_equal(env_var_set(f->db, "admin", "shop", "production", "REGION", "us-east", &err), 0);
	assert_int_equal(env_var_set(f->db, "admin", "shop", "production", "REPLICAS", "3", &err), 0);
	j = env_vars_load(f->db, "shop", "production", &err);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"REGION\":\"us-east\",\"REPLICAS\":\"3\"}");
	free(s);
	json_decref(j);
	j = env_vars_load(f->db, "shop", "staging", &err);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"REGION\":\"eu-west\"}");
	free(s);
	json_decref(j);
	assert_int_equal(env_var_remove(f->db, "admin", "shop", "production", "REGION", &err), 0);
	assert_int_equal(env_var_remove(f->db, "admin", "shop", "production", "REGION", &err), KILN_ENOENT);

	struct audit_row *v;
	size_t n;
	struct audit_filter af = { "shop", "secret.", 0, 0 };
	assert_int_equal(audit_list(f->db, &af, &v, &n, &err), 0);
	assert_int_equal(n, 4); /* 3 set, 1 remove */
	assert_string_equal(v[0].action, "secret.remove");
	assert_string_equal(v[0].target, "production/DB_PASS");
	assert_string_equal(v[3].target, "TOKEN");
	free(v);
	secret_store_close(ss);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rules_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_branch_rule_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_approvals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_and_vars, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
