#!/bin/bash
test_description='kiln serve: GET /metrics in Prometheus text format (promtool check metrics), with a token'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

command -v promtool >/dev/null || test_skip_all "promtool (Debian package prometheus) is not installed"
ZERO=0000000000000000000000000000000000000000

test_expect_success 'setup: a repository with a passing and a failing job' '
	test_create_repo src &&
	write_workflow src ci <<-\EOF &&
	on: push
	jobs:
	  ok:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo fine
	  bad:
	    runs-on: ubuntu-latest
	    steps:
	      - run: exit 3
	EOF
	kiln repo add acme/app "$TRASH/src" >secret
'

start_serve
SECRET=$(cat secret)

test_expect_success 'a push (one job fails), a duplicate, a bad signature' '
	sha=$(git -C src rev-parse HEAD) &&
	push_hook refs/heads/main $ZERO $sha m1 >out &&
	push_hook refs/heads/main $ZERO $sha m1 >out &&
	hook github push "{\"ref\":\"refs/heads/main\",\"after\":\"$sha\",\"repository\":{\"full_name\":\"acme/app\"}}" m2 wrong >out &&
	wait_status 1 failure
'

test_expect_success '/metrics needs a token' '
	curl -sS -o out -w "%{http_code}" "$(serve_url)/metrics" >code &&
	test "$(cat code)" = 401
'

test_expect_success '/metrics passes promtool and counts what happened' '
	curl -sfS -H "Authorization: Bearer $(cat "$DATA/initial-admin-token")" \
		"$(serve_url)/metrics" >metrics &&
	promtool check metrics <metrics &&
	test_grep "^kiln_webhooks_total{forge=\"github\",result=\"accepted\"} 1$" metrics &&
	test_grep "^kiln_webhooks_total{forge=\"github\",result=\"duplicate\"} 1$" metrics &&
	test_grep "^kiln_webhooks_total{forge=\"github\",result=\"unauthorized\"} 1$" metrics &&
	test_grep "^kiln_events{status=\"failure\"} 1$" metrics &&
	test_grep "^kiln_queue_depth 0$" metrics &&
	test_grep "^kiln_runs_total{conclusion=\"failure\"} 1$" metrics &&
	test_grep "^kiln_jobs_total{conclusion=\"success\"} 1$" metrics &&
	test_grep "^kiln_jobs_total{conclusion=\"failure\"} 1$" metrics &&
	test_grep "^kiln_job_duration_seconds_count 2$" metrics &&
	test_grep "^kiln_job_duration_seconds_bucket{le=\"+Inf\"} 2$" metrics
'

test_expect_success 'stop' '
	stop_serve
'

test_done
