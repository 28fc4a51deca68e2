#!/bin/bash
test_description='kiln deploy: canary steps split traffic by weight; promote; bad canaries roll back automatically'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"

# split OUT: percentage of 200 responses that came from VERSION
split() {
	local a b
	a=$(count "$1" 200 "$2")
	b=$(awk '/^resp 200:/ { s += $NF } END { print s + 0 }' "$1")
	echo $((100 * a / b))
}

# within VALUE WANT TOLERANCE
within() {
	test "$1" -ge $(($2 - $3)) && test "$1" -le $(($2 + $3)) || {
		echo "observed $1%, wanted $2% +- $3" >&2; return 1; }
}

export DEMO_DELAY=10
# The good-path steps analyse errors only (latencyRatio: 0), so timing
# noise on a loaded machine cannot roll back a good canary; latency
# detection has its own test below, with a 3x slower release.

test_expect_success 'setup: canary app, stable v1' '
	write_app web <<-EOF &&
	instances: 2
	health: {http: {path: /health}, interval: 100ms, timeout: 1s}
	strategy:
	  canary:
	    steps: [{setWeight: 20}, {pause: {}}, {setWeight: 50}, {pause: {}}]
	analysis: {interval: 1s, errorRate: 5%, latencyRatio: 0, failureLimit: 1, minRequests: 10}
	progressDeadline: 30s
	EOF
	make_release v1 && make_release v2 && make_release v3 errors && make_release v4 slow &&
	start_deployd &&
	kiln deploy web v1 --wait >out &&
	curl -sf "$URL" | grep "web v1"
'

# Every transition happens under load (loads a, b, c); the splits are
# measured by a load generator running alone, since two clients share
# HAProxy's round-robin sequence and each sees only part of it.
test_expect_success 'canary v2 pauses at 20%: observed split within 3 points' '
	load_start 60 a &&
	kiln deploy web v2 --wait >out 2>&1 &
	echo $! >deploy.pid &&
	wait_for 30 grep -q "paused at canary weight 20%" deployd.log &&
	load_stop a && cat a && assert_no_failures a &&
	load_start 3 w20 && load_wait w20 &&
	cat w20 &&
	assert_no_failures w20 &&
	within $(split w20 v2) 20 3 &&
	kiln status web >st && cat st &&
	test_grep "canary weight 20%" st
'

test_expect_success 'promote: 50% split within 3 points' '
	load_start 60 b &&
	kiln promote web &&
	wait_for 30 grep -q "paused at canary weight 50%" deployd.log &&
	load_stop b && cat b && assert_no_failures b &&
	load_start 3 w50 && load_wait w50 &&
	cat w50 &&
	assert_no_failures w50 &&
	within $(split w50 v2) 50 3
'

test_expect_success 'promote again: 100% v2, 0 failed requests' '
	load_start 60 c &&
	kiln promote web &&
	wait_pid $(cat deploy.pid) 30 &&
	cat out &&
	test_grep "release 2 (v2) succeeded" out &&
	load_stop c && cat c &&
	assert_no_failures c &&
	load_start 1 after && load_wait after &&
	assert_no_failures after &&
	test $(count after 200 v1) = 0 && test $(count after 200 v2) -gt 0
'

test_expect_success 'a canary answering 20% 5xx is rolled back by analysis' '
	load_start 60 bad &&
	test_expect_code 1 kiln deploy web v3 --wait >out 2>&1 &&
	load_stop bad &&
	cat out bad &&
	test_grep "analysis [0-9]*: FAILED: error rate" out &&
	test_grep "rolled-back" out &&
	test $(count bad 200 v2) -gt 0 &&
	kiln releases web >rel && cat rel &&
	test_grep "^3 *v3 .*canary *rolled-back .*analysis failed at canary weight 20%: error rate" rel &&
	kiln releases web --audit >audit &&
	test_grep "incident analysis failed" audit &&
	load_start 1 after && load_wait after &&
	assert_no_failures after &&
	test $(count after 200 v3) = 0 && test $(count after 200 v2) -gt 0
'

test_expect_success 'a 3x slower canary is rolled back on latency' '
	write_app web <<-EOF &&
	instances: 2
	health: {http: {path: /health}, interval: 100ms, timeout: 1s}
	strategy:
	  canary:
	    steps: [{setWeight: 30}, {analysis: {intervals: 3}}]
	analysis: {interval: 1s, errorRate: 5%, latencyRatio: 2, minLatencyDelta: 10ms, failureLimit: 1, minRequests: 10}
	progressDeadline: 30s
	EOF
	load_start 60 slow &&
	test_expect_code 1 kiln deploy web v4 --wait >out 2>&1 &&
	load_stop slow &&
	cat out &&
	test_grep "FAILED: latency [0-9]*ms > 2.0x stable" out &&
	kiln releases web >rel && cat rel &&
	test_grep "^4 *v4 .*canary *rolled-back .*latency" rel
'

test_expect_success 'the rolled-back canary instances are stopped' '
	wait_for 15 sh -c "! kiln status web | grep -q \" v[34] \"" &&
	kiln status web >st && cat st &&
	test $(grep -c " v2 .* active .*healthy" st) = 2
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
