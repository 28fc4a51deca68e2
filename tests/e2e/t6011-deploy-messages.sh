#!/bin/bash
test_description='kiln deploy: what the controller says is true: rollback after scaleDownDelay, a release that never got traffic, durations, check state, a quiet stop'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"

test_expect_success 'setup: 2 instances, blue-green with scaleDownDelay 1s, stable v1' '
	write_app web <<-EOF &&
	instances: 2
	health: {http: {path: /health}, interval: 100ms, timeout: 1s}
	strategy: {blueGreen: {autoPromote: true, scaleDownDelay: 1s}}
	progressDeadline: 3s
	drainTimeout: 2s
	EOF
	make_release v1 && make_release v2 && make_release v3 unhealthy &&
	start_deployd &&
	kiln deploy web v1 --wait >out &&
	curl -sf "$URL" | grep "web v1"
'

test_expect_success 'durations read as 1.17s / 250ms / 3s, never as 3000ms' '
	kiln deploy web v2 --wait >out &&
	cat out &&
	test_grep "^release 2 (v2) succeeded after [0-9.]*m\{0,1\}s: switch took [0-9.]*ms$" out &&
	kiln deploy web v2 --dry-run >plan &&
	cat plan &&
	test_grep "every 100ms, timeout 1s" plan &&
	test_grep "keep old for 1s, then stop it" plan &&
	test_grep "progress deadline: 3s" plan &&
	kiln releases web >rel &&
	cat rel &&
	test_grep "^2 *v2 .*blueGreen *succeeded *[0-9.]*m\{0,1\}s " rel &&
	! grep -E "[0-9]{4,}ms|[0-9]ms[0-9]" out plan rel deployd.log
'

test_expect_success 'kiln status shows the check state, not "no check"' '
	kiln status web >st &&
	cat st &&
	test_grep "CHECK$" st &&
	test $(grep -c " v2 .* active .*healthy *UP .*L7OK 200 in [0-9.]*ms$" st) = 2 &&
	! grep -i "no check" st
'

test_expect_success 'rollback after scaleDownDelay says it redeploys and that traffic stays until healthy' '
	wait_for 15 sh -c "! kiln status web | grep -q \" v1 \"" &&
	kiln rollback web >out &&
	curl -sf "$URL" >body &&
	cat out body &&
	test_grep "^rolling back web to v1: redeploying v1 as release 3 (scale-down delay 1s passed, no v1 instance retained); traffic stays on v2 until v1 is healthy, then moves; use --wait to follow it$" out &&
	test_grep "web v2" body &&
	wait_for 15 sh -c "curl -sf $URL | grep -q \"web v1\"" &&
	wait_for 15 sh -c "kiln releases web | grep -q \"^3 *v1 .*rollback:blueGreen *succeeded\""
'

test_expect_success 'a release that never became healthy: "no traffic reached", not "traffic back in 0ms"' '
	load_start 60 load1 &&
	test_expect_code 1 kiln deploy web v3 --wait >out 2>&1 &&
	load_stop load1 &&
	cat out &&
	test_grep "0 of 2 new instance(s) healthy after progressDeadline 3s; no traffic reached v3 (v1 kept serving)" out &&
	! grep "traffic back on" out &&
	test $(count load1 200 v3) = 0 &&
	assert_no_failures load1 &&
	kiln releases web >rel &&
	test_grep "^4 *v3 .*failed .*no traffic reached v3 (v1 kept serving)" rel
'

test_expect_success 'deployd --stop: no instance "exited unexpectedly", no HAProxy error, no crash in the audit log' '
	kiln status web >st && test $(grep -c " v1 .* active " st) = 2 &&
	stop_deployd_clean &&
	! curl -s "$URL" &&
	for f in pids/*.pid; do test -e "$f" || continue; ! kill -0 $(cat $f) 2>/dev/null || exit 1; done &&
	tail -n 12 deployd.log &&
	test_grep "s[0-9]: v1 stopped" deployd.log &&
	kiln releases web --audit >audit &&
	! grep instance-crashed audit
'

test_done
