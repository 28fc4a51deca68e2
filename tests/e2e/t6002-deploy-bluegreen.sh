#!/bin/bash
test_description='kiln deploy: blue-green under load, manual rollback to the retained color'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"

test_expect_success 'setup: app with 2 instances, releases v1 v2' '
	write_app web <<-EOF &&
	instances: 2
	health: {http: {path: /health}, interval: 100ms, timeout: 1s}
	strategy: {blueGreen: {autoPromote: true, scaleDownDelay: 60s}}
	progressDeadline: $DEADLINE
	EOF
	make_release v1 && make_release v2 && make_release v4 unhealthy &&
	start_deployd &&
	test "$(stat -c %a state/deployd.sock)" = 600 &&
	test "$(stat -c %a state)" = 700
'

test_expect_success 'first deploy: v1 serves' '
	kiln deploy web v1 --wait >out &&
	test_grep "release 1 (v1) succeeded" out &&
	curl -sf "$URL" >body && test_grep "web v1" body
'

test_expect_success 'blue-green to v2 under load: 0 failed requests, then 100% v2' '
	load_start 120 load1 &&
	sleep 1 &&
	kiln deploy web v2 --wait >out &&
	load_stop load1 &&
	cat load1 &&
	test_grep "switched 100% of traffic to v2 in" out &&
	assert_no_failures load1 &&
	test $(count load1 200 v1) -gt 0 &&
	test $(count load1 200 v2) -gt 0 &&
	load_start 1 load2 && load_wait load2 &&
	assert_no_failures load2 &&
	test $(count load2 200 v1) = 0 &&
	test $(count load2 200 v2) -gt 0
'

test_expect_success 'the old color is retained (drain) for instant rollback' '
	kiln status web >st &&
	cat st &&
	test $(grep -c " v1 .* drain " st) = 2 &&
	test $(grep -c " v2 .* active " st) = 2
'

test_expect_success 'kiln rollback under load: back on v1, 0 failed requests' '
	load_start 120 load3 &&
	sleep 1 &&
	kiln rollback web >out &&
	test_grep "manual rollback from v2: switched to the retained instances" out &&
	load_stop load3 &&
	cat load3 &&
	assert_no_failures load3 &&
	load_start 1 load4 && load_wait load4 &&
	assert_no_failures load4 &&
	test $(count load4 200 v2) = 0 &&
	test $(count load4 200 v1) -gt 0
'

test_expect_success 'releases show history with strategy, outcome and duration' '
	kiln releases web >rel &&
	cat rel &&
	test_grep "^3 *v1 .*rollback:instant *succeeded" rel &&
	test_grep "^2 *v2 .*blueGreen *succeeded" rel &&
	kiln releases web --json >rel.json &&
	python3 -c "import json,sys; [json.loads(l) for l in open(\"rel.json\")]" &&
	kiln releases web --audit >audit &&
	test_grep "switch 100% to v2" audit
'

test_expect_success 'a never-healthy green: exit 1, 0 requests to it, blue keeps serving' '
	load_start 120 load5 &&
	test_expect_code 1 kiln deploy web v4 --wait >out 2>&1 &&
	load_stop load5 &&
	cat out load5 &&
	test_grep "0 of 2 new instance(s) healthy after progressDeadline $DEADLINE" out &&
	assert_no_failures load5 &&
	test $(count load5 200 v4) = 0 && test $(count load5 200 v1) -gt 0 &&
	! grep -l "first request served" state/logs/web/*-v4.log &&
	kiln releases web >rel &&
	test_grep "^4 *v4 .*blueGreen *failed" rel
'

test_expect_success 'deployd --stop stops haproxy and every instance' '
	kiln deployd --stop &&
	pid=$(deployd_pid) && test -n "$pid" &&
	wait_for 10 sh -c "! kill -0 $pid 2>/dev/null" &&
	! curl -s "$URL" &&
	for f in pids/*.pid; do test -e "$f" || continue; ! kill -0 $(cat $f) 2>/dev/null || exit 1; done &&
	if test "$DEPLOY_KIND" = container; then
		test -z "$(podman ps -aq --filter "label=io.kiln.deploy=$KILN_DEPLOY_STATE")"
	fi
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
