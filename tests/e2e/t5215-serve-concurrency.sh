#!/bin/bash
test_description='concurrency groups: workflow and job level, one running and one pending per group, cancel-in-progress, across the server'"'"'s runs and restarts; job groups serialize in a local kiln run'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

ZERO=0000000000000000000000000000000000000000
GATE="$TRASH/gates"
SQ="'"

# a step that waits (bounded: 60 s) until the test creates $GATE/NAME
wait_gate () { echo "for i in \$(seq 1 600); do test -f $GATE/$1 && break; sleep 0.1; done; test -f $GATE/$1"; }

test_expect_success 'setup: a workflow-level group, a cancel-in-progress one, job-level groups' '
	mkdir -p "$GATE" &&
	test_create_repo src &&
	write_workflow src deploy <<-EOF &&
	name: Deploy
	on:
	  push:
	    branches: [main]
	concurrency:
	  group: deploy-\${{ github.ref_name }}
	jobs:
	  ship:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "shipping \$GITHUB_SHA"
	      - run: $(wait_gate "deploy-\$GITHUB_SHA")
	EOF
	write_workflow src hot <<-EOF &&
	name: Hot
	on:
	  push:
	    branches: [hot]
	concurrency:
	  group: hot-\${{ github.ref }}
	  cancel-in-progress: \${{ github.event_name == '"'"'push'"'"' }}
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: $(wait_gate "hot-\$GITHUB_SHA")
	EOF
	write_workflow src jobs <<-EOF &&
	name: Jobs
	on:
	  push:
	    branches: [jobs]
	jobs:
	  one:
	    runs-on: ubuntu-latest
	    concurrency: db
	    steps:
	      - run: echo "one start \$(date +%s%N)" && sleep 1 && echo "one end \$(date +%s%N)"
	  two:
	    runs-on: ubuntu-latest
	    concurrency:
	      group: \${{ format('"'"'{0}'"'"', '"'"'db'"'"') }}
	    steps:
	      - run: echo "two start \$(date +%s%N)" && sleep 1 && echo "two end \$(date +%s%N)"
	EOF
	write_workflow src quick <<-EOF &&
	name: Quick
	on:
	  push:
	    branches: [multi]
	concurrency: quick-group
	jobs:
	  q:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo quick
	EOF
	write_workflow src slow <<-EOF &&
	name: Slow
	on:
	  push:
	    branches: [multi]
	jobs:
	  s:
	    runs-on: ubuntu-latest
	    steps:
	      - run: $(wait_gate "slow-\$GITHUB_SHA")
	EOF
	kiln repo add acme/app "$TRASH/src" >secret
'

start_serve --jobs 4
SECRET=$(cat secret)
TOKEN=$(cat "$DATA/initial-admin-token")

commit () { echo "$2" >src/f && git -C src add f && git -C src commit -q -m "$2" && git -C src rev-parse HEAD; }
# push BRANCH DELIVERY: a commit on BRANCH and its webhook; prints the sha
push () {
	git -C src checkout -q -B "$1" &&
	sha=$(commit "$1" "$2") &&
	push_hook "refs/heads/$1" $ZERO "$sha" "$2" >"$TRASH/hook.out" &&
	head -n1 "$TRASH/hook.out" | grep -qx 202 &&
	echo "$sha"
}
# the status of the job of event ID in the history ("" before it exists)
job_status () {
	python3 - "$DATA/kiln.db" "$1" <<-\PY
	import sqlite3, sys
	r = sqlite3.connect(sys.argv[1]).execute("SELECT j.status FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.event_id = ? ORDER BY j.id LIMIT 1", (int(sys.argv[2]),)).fetchone()
	print(r[0] if r else "")
	PY
}
wait_job () {
	for i in $(seq 1 200); do [ "$(job_status $1)" = "$2" ] && return 0; sleep 0.1; done
	echo "event $1: job is '$(job_status $1)', not $2" >&2; return 1
}
run_of () {
	curl -sS -H "Authorization: Bearer $TOKEN" "$(serve_url)/api/v1/runs?per_page=100" |
	python3 -c "import json,sys; r=[x for x in json.load(sys.stdin)[\"runs\"] if x[\"event_id\"]==$1]; print(r[0][\"conclusion\"], r[0][\"reason\"])"
}

test_expect_success 'workflow level: one running, one pending; a newer pending cancels the older' '
	s1=$(push main c1) && wait_job 1 in_progress &&
	s2=$(push main c2) && wait_job 2 waiting &&
	s3=$(push main c3) &&
	wait_status 2 "cancelled Canceling since a higher priority waiting request for ${SQ}deploy-main${SQ} exists" &&
	run_of 2 >out && test_grep "^cancelled Canceling since .*deploy-main" out &&
	wait_job 3 waiting &&
	test "$(event_status 1)" = running &&
	touch "$GATE/deploy-$s1" && wait_status 1 success &&
	wait_job 3 in_progress &&
	touch "$GATE/deploy-$s3" && wait_status 3 success &&
	test_grep "waiting for a run in concurrency group .deploy-main. to complete" "$DATA/events/3.log"
'

test_expect_success 'cancel-in-progress (an expression): the running one is cancelled, the newer runs' '
	h1=$(push hot h1) && id1=$(events) && wait_job $id1 in_progress &&
	h2=$(push hot h2) && id2=$(events) &&
	wait_status $id1 "cancelled Canceling since a higher priority waiting request for ${SQ}hot-refs/heads/hot${SQ} exists" &&
	wait_job $id2 in_progress &&
	touch "$GATE/hot-$h2" && wait_status $id2 success &&
	run_of $id1 >out && test_grep "^cancelled Canceling since" out
'

test_expect_success 'job level: two jobs of one run in one group do not overlap' '
	push jobs j1 >/dev/null && id=$(events) && wait_status $id success &&
	python3 - "$DATA/events/$id.log" <<-\PY
	import re, sys
	t = {}
	for m in re.finditer(r"(one|two) (start|end) (\d+)", open(sys.argv[1]).read()):
	    t[m.group(1) + m.group(2)] = int(m.group(3))
	assert len(t) == 4, t
	first, second = sorted(["one", "two"], key=lambda j: t[j + "start"])
	assert t[first + "end"] <= t[second + "start"], t
	PY
'

# conclusion of the job of workflow FILE's run for event ID ("" while running)
wf_result () {
	python3 - "$DATA/kiln.db" "$1" "$2" <<-\PY
	import sqlite3, sys
	r = sqlite3.connect(sys.argv[1]).execute("SELECT j.conclusion FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.event_id = ? AND r.workflow LIKE ?", (int(sys.argv[2]), "%/" + sys.argv[3])).fetchone()
	print(r[0] if r and r[0] else "")
	PY
}

test_expect_success 'a workflow group is free once that workflow ends, while its event still runs another' '
	m1=$(push multi m1) && e1=$(events) &&
	for i in $(seq 1 200); do [ "$(wf_result $e1 quick.yml)" = success ] && break; sleep 0.1; done &&
	test "$(wf_result $e1 quick.yml)" = success &&
	m2=$(push multi m2) && e2=$(events) &&
	for i in $(seq 1 200); do [ "$(wf_result $e2 quick.yml)" = success ] && break; sleep 0.1; done &&
	test "$(wf_result $e2 quick.yml)" = success &&
	test "$(event_status $e1)" = running &&
	touch "$GATE/slow-$m1" "$GATE/slow-$m2" &&
	wait_status $e1 success && wait_status $e2 success
'

test_expect_success 'kill -9 with the group held and one pending: after a restart the group is free' '
	s4=$(push main c4) && id4=$(events) && wait_job $id4 in_progress &&
	s5=$(push main c5) && id5=$(events) && wait_job $id5 waiting &&
	kill9_serve &&
	start_serve --jobs 4 &&
	wait_status $id4 "failure server restarted" && wait_status $id5 "failure server restarted" &&
	s6=$(push main c6) && id6=$(events) && wait_job $id6 in_progress &&
	touch "$GATE/deploy-$s6" && wait_status $id6 success
'

test_expect_success 'a local kiln run: job-level groups serialize without a server' '
	git -C src checkout -q jobs &&
	(cd src && kiln run push --ref refs/heads/jobs >../local.out 2>&1) &&
	test_grep "waiting for a run in concurrency group .db. to complete" local.out &&
	python3 - local.out <<-\PY
	import re, sys
	t = {}
	for m in re.finditer(r"(one|two) (start|end) (\d+)", open(sys.argv[1]).read()):
	    t[m.group(1) + m.group(2)] = int(m.group(3))
	first, second = sorted(["one", "two"], key=lambda j: t[j + "start"])
	assert t[first + "end"] <= t[second + "start"], t
	PY
'

test_done
