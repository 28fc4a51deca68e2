#!/bin/bash
test_description='kiln serve: events become runs of the workflows at the pushed commit; fork PRs get no secrets; kill -9 and restart lose nothing'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'setup: a repository with a push and a pull_request workflow' '
	test_create_repo src &&
	write_workflow src ci <<-\EOF &&
	name: CI
	on:
	  push:
	    branches: [main]
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "version $(cat VERSION 2>/dev/null) at $GITHUB_SHA by $GITHUB_ACTOR"
	      - run: test "$(cat VERSION 2>/dev/null)" != bad
	EOF
	write_workflow src pr <<-\EOF &&
	name: PR
	on: pull_request
	jobs:
	  check:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "token is ${TOKEN:-empty} for $GITHUB_EVENT_NAME"
	        env:
	          TOKEN: ${{ secrets.DEPLOY_TOKEN }}
	EOF
	kiln repo add acme/app "$TRASH/src" >secret &&
	echo hunter2-secret | kiln env secret set acme/app DEPLOY_TOKEN
'

start_serve --jobs 1
SECRET=$(cat secret)

test_expect_success 'a push runs the workflow of the pushed commit' '
	echo 1.0 >src/VERSION && git -C src add VERSION && git -C src commit -q -m v1 &&
	sha=$(git -C src rev-parse HEAD) &&
	push_hook refs/heads/main $ZERO $sha p1 >out && head -n1 out | grep -qx 202 &&
	id=$(python3 -c "import json,sys; print(json.loads(open(\"$TRASH/hook.body\").read())[\"event\"])") &&
	wait_status $id success &&
	test_grep "version 1.0 at $sha by alice" "$DATA/events/$id.log" &&
	kiln logs "CI#1" >log && test_grep "version 1.0 at $sha by alice" log
'

test_expect_success 'the workflow file is read at the commit (a later change is seen by the later push only)' '
	sed -i "s/version /v=/" src/.github/workflows/ci.yml &&
	echo 2.0 >src/VERSION && git -C src commit -q -am "v2 and a workflow change" &&
	sha2=$(git -C src rev-parse HEAD) &&
	push_hook refs/heads/main $ZERO $sha2 p2 >out &&
	wait_status 2 success &&
	test_grep "v=2.0 at $sha2" "$DATA/events/2.log"
'

test_expect_success 'a failing run is a failure; a branch the workflow does not want runs nothing' '
	echo bad >src/VERSION && git -C src commit -q -am bad &&
	push_hook refs/heads/main $ZERO $(git -C src rev-parse HEAD) p3 >out &&
	wait_status 3 failure &&
	git -C src checkout -q -b other &&
	echo 3 >src/VERSION && git -C src commit -q -am other &&
	push_hook refs/heads/other $ZERO $(git -C src rev-parse HEAD) p4 >out &&
	wait_status 4 success &&
	test_grep "no workflow is triggered" "$DATA/events/4.log" &&
	git -C src checkout -q main &&
	echo 4.0 >src/VERSION && git -C src commit -q -am good
'

# alive PID: running (a zombie waiting for its reaper is not)
alive() {
	test -r "/proc/$1/stat" && ! sed "s/.*) //" "/proc/$1/stat" | grep -q "^Z"
}

pr_body() { # ACTION HEAD_REPO SHA NUMBER
	echo "{\"action\":\"$1\",\"number\":$4,\"pull_request\":{\"number\":$4,\"head\":{\"ref\":\"main\",\"sha\":\"$3\",\"repo\":{\"full_name\":\"$2\"}},\"base\":{\"ref\":\"main\",\"repo\":{\"full_name\":\"acme/app\"}}},\"repository\":{\"full_name\":\"acme/app\"},\"sender\":{\"login\":\"bob\"}}"
}

test_expect_success 'a pull request from the repository sees secrets (masked), one from a fork none' '
	sha=$(git -C src rev-parse HEAD) &&
	hook github pull_request "$(pr_body opened acme/app $sha 1)" pr1 >out &&
	wait_status 5 success &&
	test_grep "token is \*\*\* for pull_request" "$DATA/events/5.log" &&
	hook github pull_request "$(pr_body opened mallory/app $sha 2)" pr2 >out &&
	wait_status 6 success &&
	test_grep "token is empty for pull_request" "$DATA/events/6.log" &&
	! grep -r hunter2-secret "$DATA/events" &&
	! grep -q hunter2-secret "$DATA/kiln.db"
'

test_expect_success 'setup: a slow workflow' '
	write_workflow src slow <<-\EOF
	name: Slow
	on:
	  push:
	    branches: [slow]
	jobs:
	  wait:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo started-$GITHUB_SHA; echo $$ >"$MARK"; sleep 30
	        env:
	          MARK: /tmp/kiln-t5203-${{ github.sha }}
	EOF
'

test_expect_success 'kill -9 with a job running and events queued; after a restart the running one failed, the queued ones run' '
	git -C src checkout -q -b slow &&
	sha=$(git -C src rev-parse HEAD) &&
	push_hook refs/heads/slow $ZERO $sha s1 >out &&
	for i in 1 2 3; do
		push_hook refs/heads/main $ZERO $(git -C src rev-parse main) q$i >out || return 1
		head -n1 out | grep -qx 202 || return 1
	done &&
	wait_status 7 running &&
	# the step wrote its pid (it echoes "started-" first: a kill -9 right
	# after that line could come before the pid file)
	for i in $(seq 1 300); do test -s /tmp/kiln-t5203-$sha && break; sleep 0.1; done &&
	test "$(event_status 8)" = queued &&
	kill9_serve &&
	start_serve --jobs 1 &&
	test "$(event_status 7)" = "failure server restarted" &&
	step=$(cat /tmp/kiln-t5203-$sha) && rm -f /tmp/kiln-t5203-$sha &&
	test -n "$step" && ! alive "$step" &&
	test "$(db_sql "SELECT count(*) FROM runs WHERE status = '\''in_progress'\'' AND workflow LIKE '\''%slow.yml'\''")" = 0 &&
	wait_status 8 success && wait_status 9 success && wait_status 10 success &&
	test_grep "1 run ended as failed: server restarted" "$TRASH/serve.log"
'

test_expect_success 'kill -9 during a burst of webhooks: every acknowledged delivery is stored, once' '
	: >acked &&
	(
		for i in $(seq 1 40); do
			if push_hook refs/heads/nowhere $ZERO $ZERO b$i >o$i 2>/dev/null &&
			   head -n1 o$i | grep -q "^20[02]$"; then echo b$i >>acked; fi
		done
	) &
	burst=$! &&
	for i in $(seq 1 200); do [ $(wc -l <acked) -ge 3 ] && break; sleep 0.05; done &&
	kill9_serve &&
	wait $burst;
	test -s acked &&
	for d in $(cat acked); do
		test "$(events "delivery = '\''$d'\''")" = 1 || { echo "lost $d"; return 1; }
	done &&
	start_serve --jobs 1 &&
	for i in $(seq 1 40); do push_hook refs/heads/nowhere $ZERO $ZERO b$i >o || return 1; done &&
	test "$(events "delivery LIKE '\''b%'\''")" = 40
'

test_expect_success 'actions/checkout in a server run: the commit, its branch, the branches and tags of the repository' '
	git -C src checkout -q main && git -C src tag v0.1 main &&
	git -C src checkout -q -b wt &&
	write_workflow src wt <<-\EOF &&
	on:
	  push:
	    branches: [wt]
	jobs:
	  look:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/checkout@v4
	      - run: |
	          echo "head=$(git rev-parse HEAD) branch=$(git symbolic-ref --short HEAD)"
	          echo "main=$(git rev-parse origin/main) tag=$(git rev-parse v0.1^{commit})"
	          echo "origin=$(git remote get-url origin) dirty=$(git status --porcelain | wc -l)"
	          echo "version=$(cat VERSION)"
	EOF
	echo 3.0 >src/VERSION && git -C src add -A && git -C src commit -q -m wt &&
	sha=$(git -C src rev-parse HEAD) &&
	push_hook refs/heads/wt $ZERO $sha w1 >out && head -n1 out | grep -qx 202 &&
	id=$(python3 -c "import json; print(json.load(open(\"$TRASH/hook.body\"))[\"event\"])") &&
	wait_status $id success &&
	log="$DATA/events/$id.log" &&
	test_grep "head=$sha branch=wt" "$log" &&
	test_grep "main=$(git -C src rev-parse main) tag=$(git -C src rev-parse main)" "$log" &&
	test_grep "dirty=0" "$log" &&
	test_grep "version=3.0" "$log" &&
	! test -e "$DATA/work/$id"
'

test_expect_success 'a push of several commits: paths filters see every file changed since before' '
	git -C src checkout -q main &&
	write_workflow src paths <<-\EOF &&
	on:
	  push:
	    branches: [multi]
	    paths: [app/**]
	jobs:
	  app:
	    runs-on: ubuntu-latest
	    steps: [{run: echo app changed}]
	EOF
	git -C src checkout -q -b multi &&
	before=$(git -C src rev-parse HEAD) &&
	mkdir -p src/app && echo 1 >src/app/main.c && git -C src add app && git -C src commit -q -m app &&
	echo doc >src/NOTES && git -C src add NOTES && git -C src commit -q -m notes &&
	push_hook refs/heads/multi $before $(git -C src rev-parse HEAD) m1 >out && head -n1 out | grep -qx 202 &&
	id=$(python3 -c "import json; print(json.load(open(\"$TRASH/hook.body\"))[\"event\"])") &&
	wait_status $id success &&
	test_grep "app changed" "$DATA/events/$id.log"
'

test_expect_success 'SIGTERM cancels a running run and stops' '
	push_hook refs/heads/slow $ZERO $(git -C src rev-parse slow) s2 >out &&
	id=$(python3 -c "import json; print(json.load(open(\"$TRASH/hook.body\"))[\"event\"])") &&
	wait_status $id running &&
	for i in $(seq 1 100); do grep -q started- "$DATA/events/$id.log" && break; sleep 0.1; done &&
	stop_serve &&
	rm -f /tmp/kiln-t5203-$(git -C src rev-parse slow) &&
	test "$(event_status $id)" = "cancelled server stopped"
'

test_done
