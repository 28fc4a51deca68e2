#!/bin/bash
test_description='kiln deploy: rolling never runs more than instances + maxSurge processes, draining ones included (answers take 200ms, so draining takes a while)'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"

test_expect_success 'setup: 3 instances, rolling maxSurge 1 maxUnavailable 0, stable v1' '
	DEMO_DELAY=200 write_app web <<-EOF &&
	instances: 3
	health: {http: {path: /health}, interval: 100ms, timeout: 1s, failureThreshold: 2}
	strategy: {rolling: {maxSurge: 1, maxUnavailable: 0}}
	progressDeadline: 10s
	drainTimeout: 5s
	EOF
	make_release v1 && make_release v2 && make_release v3 &&
	start_deployd &&
	kiln deploy web v1 --wait >out &&
	curl -sf "$URL" | grep "web v1"
'

test_expect_success 'maxSurge 1 under load: at most 4 instance processes at any sample, 0 failed requests' '
	load_start 60 load1 &&
	sample_start procs1 &&
	sleep 0.5 &&
	kiln deploy web v2 --wait >out &&
	sample_stop procs1 &&
	load_stop load1 &&
	cat out &&
	echo "samples: $(wc -l <procs1), max $(max_of procs1), min $(min_of procs1)" &&
	test $(wc -l <procs1) -ge 20 &&
	test $(max_of procs1) -le 4 &&
	test $(max_of procs1) = 4 &&
	test $(min_of procs1) -ge 3 &&
	test $(grep -c "rolling: draining" out) = 3 &&
	test_grep "all 3 instance(s) run v2" out &&
	assert_no_failures load1 &&
	test $(count load1 200 v2) -gt 0
'

test_expect_success 'each new instance started only after the drained one exited' '
	grep -E "web: s[0-9]+: (started v2|v1 stopped)" deployd.log >events &&
	cat events &&
	test $(grep -c "started v2" events) = 3 &&
	test $(grep -c "v1 stopped" events) = 3 &&
	awk "/v1 stopped/ { stopped++ } /started v2/ { started++; if (started > stopped + 1) bad = 1 }
	     END { exit bad }" events
'

test_expect_success 'maxSurge 0 maxUnavailable 1: never more than 3 processes, never fewer than 2' '
	DEMO_DELAY=200 write_app web <<-EOF &&
	instances: 3
	health: {http: {path: /health}, interval: 100ms, timeout: 1s, failureThreshold: 2}
	strategy: {rolling: {maxSurge: 0, maxUnavailable: 1}}
	progressDeadline: 10s
	drainTimeout: 5s
	EOF
	wait_for 15 sh -c "! kiln status web | grep -q \" v1 \"" &&
	sample_start procs2 &&
	kiln deploy web v3 --wait >out &&
	sample_stop procs2 &&
	cat out &&
	echo "samples: $(wc -l <procs2), max $(max_of procs2), min $(min_of procs2)" &&
	test $(max_of procs2) -le 3 &&
	test $(min_of procs2) -ge 2 &&
	test_grep "all 3 instance(s) run v3" out &&
	curl -sf "$URL" | grep "web v3"
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
