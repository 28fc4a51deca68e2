#!/bin/bash
test_description='kiln deployd: killed during a canary and restarted: adopts instances, aborts to stable, loses nothing'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"

test_expect_success 'setup: stable v1 (2 instances), canary v2 paused at 30% under load' '
	write_app web <<-EOF &&
	instances: 2
	health: {http: {path: /health}, interval: 100ms, timeout: 1s}
	strategy:
	  canary:
	    steps: [{setWeight: 30}, {pause: {}}]
	analysis: {latencyRatio: 0}
	progressDeadline: 30s
	EOF
	make_release v1 && make_release v2 &&
	start_deployd &&
	kiln deploy web v1 --wait &&
	load_start 60 all &&
	kiln deploy web v2 >out &&
	wait_for 30 grep -q "paused at canary weight 30%" deployd.log
'

test_expect_success 'kill -9 the controller: haproxy and instances keep serving' '
	pid=$(deployd_pid) &&
	kill -9 $pid && wait_pid $pid 5 &&
	load_start 1 during && load_wait during &&
	assert_no_failures during &&
	test $(count during 200 v1) -gt 0 && test $(count during 200 v2) -gt 0
'

test_expect_success 'a stable instance dies while no controller runs' '
	victim=$(sed -n "s/.*s1: started v1 (pid \([0-9]*\).*/\1/p" deployd.log | tail -1) &&
	test -n "$victim" &&
	kill -9 $victim
'

test_expect_success 'restart: dead instance out of traffic, canary aborted to stable, history kept' '
	start_deployd &&
	wait_for 10 grep -q "release 2: controller restarted during the rollout" deployd.log &&
	test_grep "s1: v1 pid $(sed -n "s/.*s1: started v1 (pid \([0-9]*\).*/\1/p" deployd.log | head -1) port [0-9]* is gone" deployd.log &&
	wait_for 15 sh -c "kiln status web | grep -c \" v1 .* active .*healthy\" | grep -q 2" &&
	wait_for 15 sh -c "! kiln status web | grep -q \" v2 \"" &&
	kiln releases web >rel && cat rel &&
	test_grep "^2 *v2 .*canary *aborted *- *controller restarted during the rollout" rel &&
	test_grep "^1 *v1 .*succeeded" rel
'

test_expect_success 'no request failed across kill and restart; now 100% v1' '
	load_stop all && cat all &&
	assert_no_failures all &&
	load_start 1 after && load_wait after &&
	assert_no_failures after &&
	test $(count after 200 v2) = 0 && test $(count after 200 v1) -gt 0
'

test_expect_success 'the restarted controller deploys normally' '
	kiln deploy web v2 --strategy blueGreen --wait >out &&
	curl -sf "$URL" | grep "web v2"
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
