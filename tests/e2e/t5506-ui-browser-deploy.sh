#!/bin/bash
test_description='web UI in headless Chromium: approvals (viewer without buttons, timer, reviewer approves), deployments, DORA equal to the API'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"

ui_browser_prereq
NOW=$(date +%s%3N)
H=3600000

test_expect_success 'production protected by bob with a wait timer; staging deployments with a failure' '
	test_create_repo src &&
	kiln repo add acme/app "$TRASH/src" >/dev/null 2>&1 &&
	start_serve &&
	ui_user bob deployer bob-pass-123 &&
	ui_user vic viewer vic-pass-123 &&
	curl -s -o /dev/null -w "%{http_code}\n" -X PUT -H "Authorization: Bearer $(ui_admin_token)" \
		--data-binary "{\"reviewers\":[{\"type\":\"user\",\"name\":\"bob\"}],\"wait_timer\":30}" \
		"$(serve_url)/api/v1/repos/acme/app/environments/production" | grep -q 200 &&
	kiln debug record-deploy --repo acme/app --env production --run 7 --commit $NOW \
		--end $((NOW + 5 * 60000)) --actor dev >gate &&
	test_grep "^wait " gate &&
	for i in 1 2 3 4 5 6 7 8; do
		end=$((NOW - i * 40 * H)) && res=success && [ $i = 4 ] && res=failure
		kiln debug record-deploy --repo acme/app --env staging --run $((100 + i)) \
			--commit $((end - (i + 1) * H)) --end $end --result $res --reason "probe failed" >/dev/null || return 1
	done
'

test_expect_success 'approvals, deployments and DORA pages in the browser' '
	ui_browser t5506.mjs "$(serve_url)" "$UI_SHOTS/t5506" "$(ui_admin_token)"
'

test_done
