#!/bin/bash
test_description='fencing of a replica taken for lost while alive (SIGSTOP past --replica-ttl, then SIGCONT): the other replica'"'"'s failure "server lost" and attempt 2 stand; a late finish of the stale run overwrites nothing; the stale replica stops its run'
export KILN_TEST_DB=pg # always on PostgreSQL (replicas need a shared database)
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-replicas.sh"

ZERO=0000000000000000000000000000000000000000

cleanup_fencing() {
	local f p
	for f in "$TRASH"/a.pid "$TRASH"/b.pid; do
		p=$(cat "$f" 2>/dev/null) && [ -n "$p" ] && kill -CONT "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null
	done
	serve_cleanup
}
trap 'cleanup_fencing; kill $REC 2>/dev/null' EXIT
# commit statuses: only the event's owner tells the forge how it ended
start_recorder || exit 1
# states SHA: the commit statuses posted for SHA, in order, one line
states() {
	python3 -c "import json,sys; print(\" \".join(r[\"body\"][\"state\"] for r in map(json.loads, open(\"requests.jsonl\")) if r[\"path\"].endswith(sys.argv[1])))" "$1"
}

# silent 3 s: lost
fast_replica() { replica "$1" --replica-ttl 3; }

# push ROUND through replica NAME: a commit writing ROUND, delivery rROUND
push() {
	cat "$2.port" >serve.port &&
	echo "$1" >src/ROUND && git -C src add ROUND && git -C src commit -q -m "round $1" &&
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" "r$1" >out &&
	head -n1 out | grep -qx 202
}
event_of() { db_sql "SELECT id FROM events WHERE delivery = 'r$1'"; }
owner_of() {
	db_sql "SELECT r.data_dir FROM events e JOIN replicas r ON r.id = e.replica WHERE e.id = $1" |
		xargs -r basename
}
# the `kiln run` child of replica NAME running event EV
child_of() { pgrep -P "$(cat "$1.pid")" -f -- "--server-event=$2( |$)"; }
wait_file() {
	local i
	for i in $(seq 1 600); do test -e "$1" && return 0; sleep 0.1; done
	echo "no $1" >&2
	return 1
}
# wait_rerun EV: the id of the event that re-runs EV, once it succeeded
wait_rerun() {
	local i re
	for i in $(seq 1 600); do
		re=$(db_sql "SELECT id FROM events WHERE rerun_of = $1") && [ -n "$re" ] && break
		sleep 0.1
	done
	test -n "$re" && wait_status "$re" success 60 >&2 && echo "$re"
}
# the stale run's end was not recorded: the event, its run and its job
# still say what the other replica wrote
still_lost() {
	test "$(db_sql "SELECT status || ':' || reason FROM events WHERE id = $1")" = \
		"failure:server lost: the replica running it stopped renewing its row" &&
	test "$(db_sql "SELECT conclusion FROM runs WHERE event_id = $1")" = failure &&
	db_sql "SELECT reason FROM runs WHERE event_id = $1" | grep -q "server lost" &&
	test "$(db_sql "SELECT j.conclusion FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.event_id = $1")" = failure
}

test_expect_success 'setup: a job that waits for a file in attempt 1, two replicas' '
	test_create_repo src &&
	mkdir -p src/.github/workflows &&
	sed "s|@TRASH@|$TRASH|g" >src/.github/workflows/ci.yml <<-\EOF &&
	on: push
	jobs:
	  slow:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          a=${{ github.run_attempt }} r=$(cat ROUND)
	          echo $$ >"@TRASH@/pid-$r-$a"
	          touch "@TRASH@/started-$r-$a"
	          if [ $a = 1 ]; then while ! [ -f "@TRASH@/go-$r" ]; do sleep 0.1; done; fi
	          touch "@TRASH@/finished-$r-$a"
	EOF
	echo 0 >src/ROUND && git -C src add . && git -C src commit -q -m ci &&
	KILN_HOME="$TRASH/a" kiln repo add acme/app "$TRASH/src" >secret &&
	echo ghp_fencing | KILN_HOME="$TRASH/a" kiln repo status acme/app --forge github --api "$API/" &&
	mkdir -p b && cp a/secret.key b/secret.key &&
	fast_replica a && fast_replica b
'
SECRET=$(cat "$TRASH/secret" 2>/dev/null)

test_expect_success 'a replica paused past the ttl: failed "server lost", attempt 2 on the other; its run finishing late overwrites nothing' '
	push 1 a && ev=$(event_of 1) && wait_file started-1-1 &&
	own=$(owner_of $ev) && test -n "$own" &&
	child=$(child_of $own $ev) && test -n "$child" &&
	kill -STOP "$(cat $own.pid)" &&
	wait_status $ev "failure server lost" 60 &&
	re=$(wait_rerun $ev) &&
	test "$(db_sql "SELECT attempt FROM events WHERE id = $re")" = 2 &&
	test -e finished-1-2 &&
	# the stale run goes on while its replica is stopped, and ends
	touch go-1 && wait_file finished-1-1 &&
	for i in $(seq 1 300); do
		case $(ps -o stat= -p $child) in Z*|"") break ;; esac
		sleep 0.1
	done &&
	still_lost $ev &&
	kill -CONT "$(cat $own.pid)" &&
	for i in $(seq 1 300); do
		grep -q "event $ev: taken for lost by another replica: its success is not recorded" $own.log && break
		sleep 0.1
	done &&
	grep "event $ev: taken for lost" $own.log &&
	still_lost $ev &&
	test "$(event_status $re)" = success &&
	test "$(db_sql "SELECT conclusion FROM runs WHERE event_id = $re")" = success &&
	# one success (attempt 2'"'"'s): the stale run'"'"'s late end is not posted
	sha=$(git -C src rev-parse HEAD) && sleep 1 && states $sha &&
	test "$(states $sha | tr " " "\n" | grep -c success)" = 1
'

test_expect_success 'a replica paused past the ttl and resumed stops its run: the job never finishes' '
	push 2 a && ev=$(event_of 2) && wait_file started-2-1 &&
	own=$(owner_of $ev) && test -n "$own" &&
	case $own in a) other=b ;; *) other=a ;; esac &&
	child=$(child_of $own $ev) && test -n "$child" &&
	kill -STOP "$(cat $own.pid)" &&
	wait_status $ev "failure server lost" 60 &&
	re=$(wait_rerun $ev) &&
	kill -CONT "$(cat $own.pid)" &&
	for i in $(seq 1 300); do
		grep -q "event $ev: taken for lost by another replica (this one did not renew its row for --replica-ttl): its run is stopped" $own.log && break
		sleep 0.1
	done &&
	grep "event $ev: taken for lost" $own.log &&
	# the kiln run child and the step it ran are gone
	for i in $(seq 1 300); do
		kill -0 $child 2>/dev/null || kill -0 "$(cat pid-2-1)" 2>/dev/null || break
		sleep 0.1
	done &&
	! kill -0 $child 2>/dev/null && ! kill -0 "$(cat pid-2-1)" 2>/dev/null &&
	touch go-2 && sleep 1 &&
	! test -e finished-2-1 &&
	still_lost $ev &&
	test "$(event_status $re)" = success &&
	# the stopped run'"'"'s end is not posted over attempt 2'"'"'s success
	sha=$(git -C src rev-parse HEAD) && states $sha &&
	case "$(states $sha)" in *success) ;; *) false ;; esac &&
	! states $sha | grep -E "failure|error" &&
	# both replicas take the next push
	push 3 $other && wait_file started-3-1 && touch go-3 &&
	wait_status "$(event_of 3)" success 60
'

test_done
