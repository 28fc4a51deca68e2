#!/bin/bash
test_description='kiln deploy: blue-green with a preview port and manual promotion'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"

PREVIEW=$(free_port)
PURL="http://127.0.0.1:$PREVIEW/"

test_expect_success 'setup: blueGreen without autoPromote, previewPort' '
	write_app web <<-EOF &&
	instances: 2
	health: {http: {path: /health}, interval: 100ms}
	strategy: {blueGreen: {autoPromote: false, previewPort: $PREVIEW, scaleDownDelay: 30s}}
	progressDeadline: 30s
	EOF
	make_release v1 && make_release v2 &&
	start_deployd &&
	kiln deploy web v1 --wait >out 2>&1 &
	echo $! >deploy.pid &&
	wait_for 30 grep -q "new color ready: run .kiln promote web." deployd.log &&
	curl -sf "$PURL" | grep "web v1" &&
	code=$(curl -s -o /dev/null -w "%{http_code}" "$URL") && test "$code" = 503 &&
	kiln promote web &&
	wait_pid $(cat deploy.pid) 30 &&
	test_grep "release 1 (v1) succeeded" out &&
	curl -sf "$URL" | grep "web v1"
'

test_expect_success 'v2 waits on the preview port while v1 serves; promote switches under load' '
	load_start 60 load &&
	kiln deploy web v2 >out &&
	wait_for 30 sh -c "grep -c \"new color ready\" deployd.log | grep -q 2" &&
	curl -sf "$PURL" | grep "web v2" &&
	curl -sf "$URL" | grep "web v1" &&
	kiln status web >st && cat st &&
	test_grep "waiting for promote" st &&
	kiln promote web &&
	wait_for 30 sh -c "kiln releases web | grep -q \"^2 .*succeeded\"" &&
	load_stop load && cat load &&
	assert_no_failures load &&
	test $(count load 200 v1) -gt 0 && test $(count load 200 v2) -gt 0 &&
	curl -sf "$URL" | grep "web v2" &&
	curl -sf "$PURL" | grep "web v2"
'

test_expect_success 'kiln promote without a rollout is a usage error' '
	test_expect_code 2 kiln promote web 2>err &&
	test_grep "no rollout of web in progress" err
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
