#!/bin/bash
test_description='kiln deploy: rolling update under load; a release that never becomes healthy gets 0 requests'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"

test_expect_success 'setup: 3 instances, rolling maxSurge 1 maxUnavailable 0, stable v1' '
	write_app web <<-EOF &&
	instances: 3
	health: {http: {path: /health}, interval: 100ms, timeout: 1s, failureThreshold: 2}
	strategy: {rolling: {maxSurge: 1, maxUnavailable: 0}}
	progressDeadline: $DEADLINE
	drainTimeout: 5s
	EOF
	make_release v1 && make_release v2 && make_release v3 unhealthy &&
	start_deployd &&
	kiln deploy web v1 --wait >out &&
	curl -sf "$URL" | grep "web v1"
'

test_expect_success 'rolling to v2 under load: 0 failed requests, then 100% v2' '
	load_start 120 load1 &&
	sleep 1 &&
	kiln deploy web v2 --wait >out &&
	load_stop load1 &&
	cat out load1 &&
	test $(grep -c "rolling: draining" out) = 3 &&
	test_grep "all 3 instance(s) run v2" out &&
	assert_no_failures load1 &&
	test $(count load1 200 v1) -gt 0 && test $(count load1 200 v2) -gt 0 &&
	load_start 1 load2 && load_wait load2 &&
	assert_no_failures load2 &&
	test $(count load2 200 v1) = 0 && test $(count load2 200 v2) -gt 0
'

test_expect_success 'old instances were drained before being stopped' '
	wait_for 15 sh -c "! kiln status web | grep -q \" v1 \"" &&
	test $(grep -c "v1 drained; stopping" deployd.log) = 3
'

test_expect_success 'a never-healthy v3: deploy fails (exit 1), v3 gets 0 requests, v2 keeps serving' '
	load_start 120 load3 &&
	test_expect_code 1 kiln deploy web v3 --wait >out 2>&1 &&
	load_stop load3 &&
	cat out load3 &&
	test_grep "0 of 3 new instance(s) healthy after progressDeadline" out &&
	assert_no_failures load3 &&
	test $(count load3 200 v3) = 0 &&
	test $(count load3 200 v2) -gt 0 &&
	! grep -l "first request served" state/logs/web/*-v3.log &&
	grep -l "listening" state/logs/web/*-v3.log &&
	kiln releases web >rel && cat rel &&
	test_grep "^3 *v3 .*rolling *failed .*progressDeadline" rel
'

test_expect_success 'after the failed release: v3 stopped, 3 healthy v2 serve' '
	wait_for 15 sh -c "! kiln status web | grep -q \" v3 \"" &&
	kiln status web >st && cat st &&
	test $(grep -c " v2 .* active .*healthy" st) = 3
'

if [ "$DEPLOY_KIND" = process ]; then
test_expect_success 'kiln rollback to an unknown or missing version is refused' '
	test_expect_code 2 kiln rollback web v9 2>err &&
	test_grep "release directory .*v9. does not exist" err
'
else
test_expect_success 'an image tag missing from the registry: exit 1, the reason in releases, v2 keeps serving' '
	load_start 120 load5 &&
	test_expect_code 1 kiln deploy web v9 --wait >out 2>&1 &&
	load_stop load5 &&
	cat out &&
	assert_no_failures load5 &&
	test $(count load5 200 v9) = 0 && test $(count load5 200 v2) -gt 0 &&
	test_grep "image localhost:[0-9]*/kiln/demo:v9 not found in the registry (wrong tag?)" out &&
	kiln releases web >rel &&
	test_grep "^4 *v9 .*rolling *failed .*wrong tag" rel
'
fi

test_expect_success 'kiln rollback with no retained instances redeploys the previous good release' '
	load_start 120 load4 &&
	kiln rollback web --wait >out 2>&1 &&
	load_stop load4 &&
	cat out &&
	test_grep "deploying v1 to web with rollback:blueGreen" out &&
	assert_no_failures load4 &&
	curl -sf "$URL" | grep "web v1" &&
	kiln releases web >rel &&
	test_grep "^[45] *v1 .*rollback:blueGreen *succeeded" rel
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
