#!/bin/bash
test_description='web UI: the deployments page shows the controller'"'"'s releases; the live rollout page follows a canary (weights move on promote) in Chromium'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"

both_cleanup() {
	local p
	p=$(serve_pid)
	[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	deploy_cleanup
}
trap both_cleanup EXIT

test_expect_success 'a canary app at v1 under the controller; the server' '
	write_app web <<-EOF &&
	instances: 2
	health: {http: {path: /health}, interval: 100ms, timeout: 1s}
	strategy:
	  canary:
	    steps: [{setWeight: 20}, {pause: {}}, {setWeight: 60}, {pause: {}}]
	progressDeadline: 60s
	EOF
	make_release v1 && make_release v2 &&
	start_deployd &&
	kiln deploy web v1 --wait >out &&
	start_serve &&
	ui_user alice admin alice-pass-1 &&
	ui_login alice alice-pass-1 a
'

test_expect_success 'deployments: the controller'"'"'s releases, a link to the live view' '
	ui_get /deployments a >out &&
	test_grep "<h3>web</h3>" out &&
	test_grep "href=\"/deployments/app/web\"" out &&
	test_grep "<td>v1</td><td>" out &&
	ui_get /deployments/app/web/status a >st &&
	test_grep "app web: frontend" st &&
	test_grep "v1" st
'

test_expect_success 'the live view follows a canary: 20%, then 60% after promote' '
	(cd repo && kiln deploy web v2 --wait >../deploy.out 2>&1 &) &&
	wait_for 30 grep -q "paused at canary weight 20%" deployd.log &&
	ui_get /deployments/app/web/status a >st &&
	test_grep "v2" st &&
	if ui_browser_prereq_ok; then
		ui_browser t5509.mjs "$(serve_url)" "$UI_SHOTS/t5509" &
		bp=$! &&
		wait_for 60 test -f "$UI_SHOTS/t5509/at-20" &&
		kiln promote web >/dev/null &&
		wait $bp
	else
		echo "# chromium unusable: browser part skipped"
	fi &&
	kiln promote web >/dev/null 2>&1 || :
'

test_done
