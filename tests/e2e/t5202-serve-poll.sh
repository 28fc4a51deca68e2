#!/bin/bash
test_description='kiln serve: polling fetches, diffs refs and records push events (deletions start nothing)'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

export KILN_POLL_TICK_MS=100

# wait_events WHERE N: until the store has N events matching (5 s at most)
wait_events() {
	local i
	for i in $(seq 1 100); do
		[ "$(events "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	echo "expected $2 events where $1, have $(events "$1")" >&2
	return 1
}

test_expect_success 'setup: a repository polled every second' '
	test_create_repo src &&
	git -C src tag v0 &&
	kiln repo add polled "file://$TRASH/src" --poll 1 >secret 2>err &&
	test_grep "2 refs" err
'

start_serve

test_expect_success 'existing refs are the baseline: no events' '
	sleep 1.5 &&
	test "$(events)" = 0
'

test_expect_success 'a push to main and a new branch become push events' '
	before=$(git -C src rev-parse HEAD) &&
	git -C src commit -q --allow-empty -m two &&
	git -C src branch feature &&
	after=$(git -C src rev-parse HEAD) &&
	wait_events "source = '\''poll'\''" 2 &&
	test "$(events "ref = '\''refs/heads/main'\'' AND before_sha = '\''$before'\'' AND sha = '\''$after'\'' AND status <> '\''ignored'\''")" = 1 &&
	test "$(events "ref = '\''refs/heads/feature'\'' AND before_sha = '\'''\'' AND status <> '\''ignored'\''")" = 1
'

test_expect_success 'a deleted branch and a deleted tag are recorded, start nothing' '
	git -C src branch -D feature &&
	git -C src tag -d v0 &&
	wait_events "deleted = 1" 2 &&
	test "$(events "deleted = 1 AND status <> '\''ignored'\''")" = 0
'

test_expect_success 'nothing changed: no new events' '
	n=$(events) &&
	sleep 1.5 &&
	test "$(events)" = "$n"
'

test_expect_success 'kill -9 and restart: later pushes are still seen once' '
	kill9_serve &&
	git -C src commit -q --allow-empty -m three &&
	sha=$(git -C src rev-parse HEAD) &&
	start_serve &&
	wait_events "sha = '\''$sha'\''" 1 &&
	sleep 1.5 &&
	test "$(events "sha = '\''$sha'\''")" = 1
'

test_expect_success 'an unreachable remote is reported and does not stop the server' '
	mv src src.gone &&
	sleep 1.5 &&
	test_grep "poll .polled.: cannot fetch" "$TRASH/serve.log" &&
	curl -sfS "$(serve_url)/healthz" >/dev/null &&
	mv src.gone src
'

test_expect_success 'SIGTERM stops it' '
	stop_serve
'

test_done
