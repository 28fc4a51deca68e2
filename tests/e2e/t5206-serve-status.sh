#!/bin/bash
test_description='kiln serve: commit statuses back to GitHub, Gitea and GitLab APIs (a recording server on loopback), retried, never blocking a run'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

ZERO=0000000000000000000000000000000000000000

start_recorder || exit 1
trap 'kill $REC 2>/dev/null; serve_cleanup' EXIT

test_expect_success 'setup: a repository with a workflow; statuses to a GitHub-like API' '
	serve_app_repo <<-\EOF &&
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: test "$(cat VERSION 2>/dev/null)" != bad
	EOF
	echo ghp_statustoken123 | kiln repo status acme/app --forge github --api "$API/" 2>err &&
	test_grep "commit statuses of acme/app: github" err &&
	! grep -q ghp_statustoken123 "$DATA/kiln.db" &&
	test_expect_code 2 kiln repo status acme/app --forge bitbucket --api "$API" </dev/null 2>err &&
	test_grep "unknown forge" err
'

serve_app

# statuses N: wait until requests.jsonl has N lines
statuses() {
	for i in $(seq 1 150); do [ "$(wc -l <requests.jsonl 2>/dev/null || echo 0)" -ge "$1" ] && return 0; sleep 0.1; done
	cat requests.jsonl >&2; return 1
}
field() { python3 -c "import json,sys; r=[json.loads(l) for l in open(\"requests.jsonl\")][$1]; print(eval(sys.argv[1]))" "$2"; }

test_expect_success 'GitHub: pending, then success, with the token, at /repos/OWNER/NAME/statuses/SHA' '
	sha=$(git -C src rev-parse HEAD) &&
	push_hook refs/heads/main $ZERO $sha s1 >out &&
	wait_status 1 success &&
	statuses 2 &&
	test "$(field 0 "r[\"path\"]")" = "/repos/acme/app/statuses/$sha" &&
	test "$(field 0 "r[\"auth\"]")" = "Bearer ghp_statustoken123" &&
	test "$(field 0 "r[\"body\"][\"state\"]")" = pending &&
	test "$(field 0 "r[\"body\"][\"context\"]")" = kiln/push &&
	test "$(field 1 "r[\"body\"][\"state\"]")" = success &&
	! grep -q ghp_statustoken123 "$TRASH/serve.log"
'

test_expect_success 'a forge answering 500 is retried; the run is not held up' '
	echo bad >src/VERSION && git -C src add VERSION && git -C src commit -q -m bad &&
	sha=$(git -C src rev-parse HEAD) &&
	echo 2 >fail &&
	push_hook refs/heads/main $ZERO $sha s2 >out &&
	wait_status 2 failure &&
	statuses 6 &&
	python3 -c "
import json
rs = [json.loads(l) for l in open(\"requests.jsonl\")][2:]
assert [r[\"answer\"] for r in rs] == [500, 500, 201, 201], rs
assert [r[\"body\"][\"state\"] for r in rs] == [\"pending\", \"pending\", \"pending\", \"failure\"], rs
"
'

test_expect_success 'GitLab: /projects/OWNER%2FNAME/statuses/SHA with running and failed' '
	echo glpat-tok | kiln repo status acme/app --forge gitlab --api "$API/api/v4" 2>err &&
	sha=$(git -C src rev-parse HEAD) &&
	: >requests.jsonl &&
	push_hook refs/heads/main $ZERO $sha s3 >out &&
	wait_status 3 failure &&
	statuses 2 &&
	test "$(field 0 "r[\"path\"]")" = "/api/v4/projects/acme%2Fapp/statuses/$sha" &&
	test "$(field 0 "r[\"body\"][\"state\"]")" = running &&
	test "$(field 0 "r[\"body\"][\"name\"]")" = kiln/push &&
	test "$(field 1 "r[\"body\"][\"state\"]")" = failed &&
	test "$(field 1 "r[\"auth\"]")" = "Bearer glpat-tok"
'

test_expect_success 'a forge that is down: the run completes all the same' '
	kill $REC && sleep 0.2 &&
	echo good >src/VERSION && git -C src commit -q -am good &&
	push_hook refs/heads/main $ZERO $(git -C src rev-parse HEAD) s4 >out &&
	wait_status 4 success
'

test_expect_success 'statuses off' '
	kiln repo status acme/app --forge off 2>err &&
	test_grep "off" err
'

test_expect_success 'stop (pending retries are given up)' '
	stop_serve
'

test_done
