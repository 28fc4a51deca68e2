#!/bin/bash
test_description='kiln run --server-repo: environments gate jobs — staging deploys by itself, production waits for a reviewer, rejection, branch rules, environment secrets, DORA'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

# query the store: sql QUERY -> rows as a|b|c
sql () {
	db_sql "$1"
}

wait_for () {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

test_expect_success 'setup: a repository, its environments, secrets, a reviewer, the server' '
	test_create_repo app &&
	write_workflow app deploy <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps: [{run: echo building}]
	  staging:
	    needs: build
	    environment: staging
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "staging with $KEY in ${{ vars.REGION }}"
	        env: {KEY: "${{ secrets.DEPLOY_KEY }}"}
	  production:
	    needs: staging
	    environment: {name: production, url: "https://shop.example"}
	    runs-on: ubuntu-latest
	    steps:
	      - run: test "$KEY" = prod-key-123 && echo "production with $KEY in ${{ vars.REGION }}"
	        env: {KEY: "${{ secrets.DEPLOY_KEY }}"}
	EOF
	echo bob-password-1 | kiln user add bob --role deployer --password-stdin >/dev/null &&
	kiln user add carol --role deployer >/dev/null &&
	kiln env set shop production --reviewer user:bob --branch main >/dev/null &&
	printf "prod-key-123" | kiln env secret set shop DEPLOY_KEY --env production >/dev/null &&
	printf "staging-key-456" | kiln env secret set shop DEPLOY_KEY --env staging >/dev/null &&
	kiln env var set shop REGION eu-west-1 >/dev/null &&
	kiln env var set shop REGION us-east-1 --env production >/dev/null &&
	kiln token create --user bob >bob.tok &&
	kiln token create --user carol >carol.tok &&
	kiln user add ops --role admin >/dev/null &&
	kiln token create --user ops >ops.tok &&
	start_serve &&
	cat >recv.py <<-\PY &&
	import http.server, sys
	class H(http.server.BaseHTTPRequestHandler):
	    def do_POST(self):
	        body = self.rfile.read(int(self.headers["Content-Length"]))
	        with open("hooks.jsonl", "ab") as f:
	            f.write(body + b"\n")
	        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
	    def log_message(self, *a): pass
	http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
	PY
	hport=$(free_port) &&
	{ timeout 300 python3 recv.py $hport & echo $! >recv.pid; } &&
	wait_for 50 curl -s -o /dev/null -X POST -d "{}" "http://127.0.0.1:$hport/probe" &&
	rm -f hooks.jsonl &&
	kiln repo add shop "$TRASH/app" >/dev/null 2>&1 &&
	curl -sf -X POST -H "Authorization: Bearer $(cat ops.tok)" \
		-d "{\"kind\":\"json\",\"url\":\"http://127.0.0.1:$hport/hook\"}" \
		"$(serve_url)/api/v1/repos/shop/notifications" >/dev/null
'

waiting_run () {
	sql "SELECT run_id FROM deployments WHERE environment = 'production' AND state = 'waiting'" >wrun &&
	test -s wrun
}

test_expect_success 'staging deploys by itself, production waits; a reviewer approves; it deploys' '
	(set +e; cd app && kiln run push --server-repo shop >"$TRASH/run1.out" 2>&1; echo $? >"$TRASH/run1.rc") &
	wait_for 30 waiting_run &&
	run=$(cat wrun) &&
	sql "SELECT state, approved_by FROM deployments WHERE environment = '\''staging'\''" >st &&
	test "$(cat st)" = "success|" &&
	sql "SELECT status FROM jobs WHERE run_id = $run AND name = '\''production'\''" >js &&
	test "$(cat js)" = waiting &&
	test ! -e run1.rc &&
	test_expect_code 1 kiln approve "$run" --server "$(serve_url)" --token "$(cat carol.tok)" 2>err &&
	test_grep "not a required reviewer" err &&
	kiln approve "$run" --server "$(serve_url)" --token "$(cat bob.tok)" -c "ship it" >out &&
	test_grep "1 deployment approved" out &&
	wait_for 30 test -e run1.rc &&
	cat run1.out &&
	test "$(cat run1.rc)" = 0 &&
	test_grep "waiting for approval to deploy to .production. by bob" run1.out &&
	test_grep "production with \*\*\* in us-east-1" run1.out &&
	test_grep "staging with \*\*\* in eu-west-1" run1.out &&
	! grep -q "prod-key-123\|staging-key-456" run1.out &&
	sql "SELECT state, approved_by FROM deployments WHERE run_id = $run AND environment = '\''production'\''" >pd &&
	test "$(cat pd)" = "success|bob" &&
	sql "SELECT status, conclusion FROM jobs WHERE run_id = $run AND name = '\''production'\''" >js &&
	test "$(cat js)" = "completed|success"
'

test_expect_success 'notifications: approval waiting, deploys, the run, masked' '
	wait_for 20 sh -c "grep -q run.success hooks.jsonl" &&
	python3 - <<-\PY
	import json
	ev = [json.loads(l) for l in open("hooks.jsonl")]
	kinds = [(e["event"], e["environment"]) for e in ev]
	for want in [("approval.waiting", "production"), ("deploy.success", "staging"),
	             ("deploy.success", "production"), ("run.success", None)]:
	    assert want in kinds, (want, kinds)
	assert all(e["repo"] == "shop" for e in ev)
	w = [e for e in ev if e["event"] == "approval.waiting"][0]
	assert "by bob" in w["reason"], w
	text = open("hooks.jsonl").read()
	assert "prod-key-123" not in text and "staging-key-456" not in text
	PY
'

test_expect_success 'a rejection fails the production job with the comment' '
	(set +e; cd app && kiln run push --server-repo shop >"$TRASH/run2.out" 2>&1; echo $? >"$TRASH/run2.rc") &
	wait_for 30 waiting_run &&
	kiln reject "$(cat wrun)" --server "$(serve_url)" --token "$(cat bob.tok)" -c "not on a Friday" >out &&
	wait_for 30 test -e run2.rc &&
	test "$(cat run2.rc)" = 1 &&
	test_grep "rejected by bob: not on a Friday" run2.out &&
	! grep -q "production with" run2.out
'

test_expect_success 'a branch the rules do not allow is rejected at once' '
	git -C app checkout -q -b feature &&
	(cd app && test_expect_code 1 kiln run push --server-repo shop >"$TRASH/run3.out" 2>&1) &&
	test_grep "refs/heads/feature. is not allowed to deploy to .production." run3.out &&
	git -C app checkout -q main
'

test_expect_success 'cancelling a run that waits ends its deployment as cancelled' '
	(cd app && exec kiln run push --server-repo shop) >run4.out 2>&1 &
	pid=$! &&
	wait_for 30 waiting_run &&
	run=$(cat wrun) &&
	kill -INT $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc != 0 &&
	cat run4.out &&
	sql "SELECT state FROM deployments WHERE run_id = $run AND environment = '\''production'\''" >pd &&
	test "$(cat pd)" = cancelled
'

test_expect_success 'a kiln/deploy release rolled back fails the deployment with its reason' '
	test_create_repo canary &&
	echo "release 7 (v3) rolled-back after 2.10s: error rate 12% > 5%" >canary/result.txt &&
	git -C canary add result.txt &&
	write_workflow canary canary <<-\EOF &&
	on: push
	jobs:
	  canary:
	    environment: canary
	    runs-on: ubuntu-latest
	    steps:
	      - run: cat result.txt
	EOF
	(cd canary && kiln run push --server-repo shop >"$TRASH/run5.out" 2>&1) &&
	sql "SELECT state, release_id, reason FROM deployments WHERE environment = '\''canary'\''" >cd &&
	test "$(cat cd)" = "failure|7|error rate 12% > 5%" &&
	wait_for 20 sh -c "grep -q deploy.rollback hooks.jsonl" &&
	grep deploy.rollback hooks.jsonl | grep -q "error rate 12% > 5%"
'

test_expect_success 'the deployments feed DORA' '
	kiln dora --env production --json >dora.json &&
	python3 -c "
import json
[r] = json.load(open(\"dora.json\"))
assert r[\"deployment_frequency\"][\"deployments\"] == 1, r
assert r[\"lead_time\"][\"changes\"] == 1, r
"
'

test_expect_success PROMTOOL 'deployments and the four keys in /metrics (promtool)' '
	curl -sfS -H "Authorization: Bearer $(cat ops.tok)" "$(serve_url)/metrics" >metrics &&
	promtool check metrics <metrics &&
	test_grep "^kiln_deployments_total{repo=\"shop\",environment=\"production\",state=\"success\"} 1$" metrics &&
	test_grep "^kiln_deployments_total{repo=\"shop\",environment=\"production\",state=\"rejected\"} 2$" metrics &&
	test_grep "^kiln_deployments_total{repo=\"shop\",environment=\"canary\",state=\"failure\"} 1$" metrics &&
	test_grep "^kiln_dora_change_failure_rate{repo=\"shop\",environment=\"canary\"} 1$" metrics &&
	test_grep "^kiln_dora_deployment_frequency_per_day{repo=\"shop\",environment=\"production\"} 0.0333333$" metrics
'

test_expect_success 'the server stops cleanly' '
	stop_serve &&
	kill $(cat recv.pid)
'

test_done
