#!/bin/bash
test_description='kiln serve: a webhook push deploys staging by itself, production waits for a reviewer, approved over the API, with environment secrets masked; a fork gets none'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

ZERO=0000000000000000000000000000000000000000
sql () {
	db_sql "$1"
}

test_expect_success 'setup: environments with a reviewer and secrets' '
	test_create_repo app &&
	write_workflow app deploy <<-\EOF &&
	on: push
	jobs:
	  staging:
	    environment: staging
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "staging with $KEY"
	        env: {KEY: "${{ secrets.DEPLOY_KEY }}"}
	  production:
	    needs: staging
	    environment: production
	    runs-on: ubuntu-latest
	    steps:
	      - run: test "$KEY" = prod-key-123 && echo "production with $KEY"
	        env: {KEY: "${{ secrets.DEPLOY_KEY }}"}
	EOF
	write_workflow app ci <<-\EOF &&
	name: CI
	on: push
	jobs:
	  unit:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "unit tests pass"
	EOF
	kiln repo add shop "$TRASH/app" >secret &&
	kiln user add bob --role deployer >/dev/null &&
	kiln env set shop production --reviewer user:bob --branch main >/dev/null &&
	printf "prod-key-123" | kiln env secret set shop DEPLOY_KEY --env production >/dev/null &&
	printf "staging-key-456" | kiln env secret set shop DEPLOY_KEY --env staging >/dev/null &&
	kiln token create --user bob >bob.tok
'

start_serve
SECRET=$(cat secret)

test_expect_success 'push by webhook: staging deploys, production waits, bob approves, it deploys' '
	hook github push "{\"ref\":\"refs/heads/main\",\"before\":\"$ZERO\",\"after\":\"$(git -C app rev-parse HEAD)\",\"repository\":{\"full_name\":\"shop\"},\"sender\":{\"login\":\"alice\"}}" d1 >out &&
	head -n1 out | grep -qx 202 &&
	for i in $(seq 1 300); do
		sql "SELECT run_id FROM deployments WHERE environment = '\''production'\'' AND state = '\''waiting'\''" >wrun
		test -s wrun && break
		sleep 0.1
	done &&
	test -s wrun &&
	test "$(event_status 1)" = running &&
	for i in $(seq 1 300); do
		kiln runs "$(cat wrun)" --server "$(serve_url)" --token "$(cat bob.tok)" >view &&
		grep -q "^[0-9]* *waiting .*(waiting for review to deploy to production: kiln approve $(cat wrun))$" view && break
		sleep 0.1
	done &&
	cat view &&
	test_grep "^run $(cat wrun): .* · shop · push main · .* · attempt 1 · in_progress$" view &&
	test_grep "^[0-9]* *waiting .*(waiting for review to deploy to production: kiln approve $(cat wrun))$" view &&
	test_grep "^[0-9]* *completed *success .*staging" view &&
	# the same push'"'"'s CI is over: its run is completed, not running while deploy waits
	for i in $(seq 1 300); do
		curl -sS -H "Authorization: Bearer $(cat bob.tok)" "$(serve_url)/api/v1/runs?repo=shop&workflow=ci.yml" >ci.json &&
		grep -q "\"conclusion\": *\"success\"" ci.json && break
		sleep 0.1
	done &&
	test "$(event_status 1)" = running &&
	python3 -c "import json; r=json.load(open(\"ci.json\"))[\"runs\"]; assert len(r)==1 and r[0][\"status\"]==\"completed\" and r[0][\"conclusion\"]==\"success\" and r[0][\"finished_at\"], r" &&
	kiln approve "$(cat wrun)" --server "$(serve_url)" --token "$(cat bob.tok)" -c "ship it" >out &&
	wait_status 1 success &&
	test_grep "production with \*\*\*" "$DATA/events/1.log" &&
	test_grep "staging with \*\*\*" "$DATA/events/1.log" &&
	! grep -rq "prod-key-123\|staging-key-456" "$DATA/events" &&
	sql "SELECT state, approved_by FROM deployments WHERE environment = '\''production'\''" >pd &&
	test "$(cat pd)" = "success|bob"
'

test_expect_success 'stop' '
	stop_serve
'

test_done
