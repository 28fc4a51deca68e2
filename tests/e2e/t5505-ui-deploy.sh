#!/bin/bash
test_description='web UI: approvals (rules, reviewers, timers; buttons only for a permitted reviewer; CSRF), deployments timeline, DORA page'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"

NOW=$(date +%s%3N)
H=3600000
admin_api() {
	curl -s -o "$TRASH/api.body" -w "%{http_code}\n" -X "$1" -H "Authorization: Bearer $(ui_admin_token)" \
		-H "Content-Type: application/json" ${3:+--data-binary "$3"} "$(serve_url)$2"
}

test_expect_success 'a repository, users of every role, production protected by bob' '
	test_create_repo src &&
	kiln repo add acme/app "$TRASH/src" >/dev/null 2>&1 &&
	start_serve &&
	ui_user alice admin alice-pass-1 &&
	ui_user bob deployer bob-pass-123 &&
	ui_user carol deployer carol-pass-1 &&
	ui_user vic viewer vic-pass-123 &&
	test "$(admin_api PUT /api/v1/repos/acme/app/environments/production \
		"{\"reviewers\":[{\"type\":\"user\",\"name\":\"bob\"}],\"wait_timer\":30,\"prevent_self_review\":true}")" = 200 &&
	kiln debug record-deploy --repo acme/app --env production --run 7 --commit $NOW --end $NOW \
		--actor "dev<script>x</script>" >gate &&
	test_grep "^wait " gate
'

test_expect_success 'staging deployments over weeks: successes, a failure, a recovery' '
	for i in 1 2 3 4 5 6; do
		end=$((NOW - i * 20 * H)) &&
		res=success && [ $i = 3 ] && res=failure
		kiln debug record-deploy --repo acme/app --env staging --run $((100 + i)) \
			--commit $((end - 2 * H)) --end $end --result $res --reason "probe <failed>" >/dev/null || return 1
	done
'

test_expect_success 'approvals: the environment, rules, reviewers, timers; no buttons for a viewer' '
	ui_login vic vic-pass-123 v &&
	ui_get /approvals v >out &&
	test "$(head -1 out)" = 200 &&
	test_grep "acme/app → <span class=\"env\">production</span>" out &&
	test_grep "<span class=\"reviewer\">bob</span>" out &&
	test_grep "Wait timer: 30 min" out &&
	test_grep "Prevent self-review" out &&
	test_grep "data-until=\"[0-9]*\"" out &&
	test_grep "triggered by dev&lt;script&gt;x&lt;/script&gt;" out &&
	! grep -q "<script>x" out &&
	! grep -q "name=\"decision\"" out &&
	test_grep "You are not a reviewer" out
'

test_expect_success 'a deployer who is not a reviewer sees no buttons, and its POST is refused' '
	ui_login carol carol-pass-1 c &&
	ui_get /approvals c >out &&
	! grep -q "name=\"decision\"" out &&
	csrf=$(ui_csrf c /approvals) &&
	curl -s -o page -w "%{http_code}\n" -b c "$(serve_url)/approvals/7" \
		--data "csrf=$csrf&decision=approve&environment=production" >code &&
	test "$(cat code)" = 403 &&
	test_grep "not a required reviewer" page
'

test_expect_success 'the viewer cannot review even with a CSRF token' '
	csrf=$(ui_csrf v /approvals) &&
	curl -s -o /dev/null -w "%{http_code}\n" -b v "$(serve_url)/approvals/7" \
		--data "csrf=$csrf&decision=approve&environment=production" >code &&
	test "$(cat code)" = 403
'

test_expect_success 'the reviewer sees the buttons; without a CSRF token its approval is refused' '
	ui_login bob bob-pass-123 b &&
	ui_get /approvals b >out &&
	test_grep "name=\"decision\" value=\"approve\"" out &&
	test_grep "name=\"decision\" value=\"reject\"" out &&
	curl -s -o /dev/null -w "%{http_code}\n" -b b "$(serve_url)/approvals/7" \
		--data "decision=approve&environment=production" >code &&
	test "$(cat code)" = 403 &&
	curl -s -H "Authorization: Bearer $(ui_admin_token)" "$(serve_url)/api/v1/deployments?run=7" >d &&
	test_grep "\"state\":\"waiting\"" d &&
	! grep -q "\"approved_by\"" d
'

test_expect_success 'the reviewer approves with a comment: audited, the deployment approved' '
	csrf=$(ui_csrf b /approvals) &&
	curl -s -o /dev/null -w "%{http_code}\n" -b b "$(serve_url)/approvals/7" \
		--data-urlencode "csrf=$csrf" --data "decision=approve&environment=production" \
		--data-urlencode "comment=ship it <b>now</b>" >code &&
	test "$(cat code)" = 303 &&
	curl -s -H "Authorization: Bearer $(ui_admin_token)" "$(serve_url)/api/v1/deployments?run=7" >d &&
	test_grep "\"approved_by\":\"bob\"" d &&
	curl -s -H "Authorization: Bearer $(ui_admin_token)" "$(serve_url)/api/v1/audit?action=deploy." >a &&
	test_grep "\"actor\":\"bob\",\"action\":\"deploy.approve\"" a &&
	ui_get /approvals b >out &&
	test_grep "Approved by bob; waiting for its timer" out
'

test_expect_success 'deployments: per environment timeline with states, reasons escaped' '
	ui_get /deployments v >out &&
	test "$(head -1 out)" = 200 &&
	test_grep "<h3>acme/app → staging</h3>" out &&
	test_grep "<h3>acme/app → production</h3>" out &&
	test "$(grep -o "class=\"st st-success\">success<" out | wc -l)" = 5 &&
	test_grep "class=\"st st-failure\">failure<" out &&
	test_grep "probe &lt;failed&gt;" out
'

test_expect_success 'DORA: the page shows the API figures for 7, 30 and 90 days' '
	for d in 7 30 90; do
		ui_get "/dora?days=$d" v >page &&
		curl -s -H "Authorization: Bearer $(ui_admin_token)" "$(serve_url)/api/v1/dora?days=$d&environment=staging" >api &&
		python3 - "$d" <<-\PY || return 1
		import json, re, sys
		page = open("page").read()
		api = [r for r in json.load(open("api")) if r["environment"] == "staging"][0]
		sec = page[page.index("data-environment=\"staging\""):]
		def val(cls):
		    return re.search(r"class=\"%s\" value=\"([^\"]*)\"" % cls, sec).group(1)
		df = api["deployment_frequency"]
		assert int(val("deployments")) == df["deployments"], (val("deployments"), df)
		assert int(val("failed")) == df["failed_deployments"]
		assert abs(float(val("per-day")) - df["per_day"]) < 1e-6
		if df["deployments"] + df["failed_deployments"]:
		    assert abs(float(val("rate")) - api["change_failure_rate"]["rate"]) < 1e-6
		lt = api["lead_time"]["median_ms"]
		if lt is not None:
		    m = re.search(r"class=\"lead-median\"><data value=\"(\d+)\"", sec).group(1)
		    assert int(m) == lt, (m, lt)
		for k in ("frequency", "lead", "cfr", "recovery"):
		    assert "data-key=\"%s\"" % k in sec
		assert "band band-" + df["band"] in sec
		assert "<svg class=\"chart\"" in sec
		print(sys.argv[1], "ok", df)
		PY
	done
'

test_expect_success 'settings: an environment, its rules, a write-only secret, a variable' '
	ui_login alice alice-pass-1 ad &&
	ui_get /settings ad >out &&
	test_grep "/hooks/github?repo=acme/app" out &&
	csrf=$(ui_csrf ad /settings) &&
	curl -s -o /dev/null -w "%{http_code}\n" -b ad "$(serve_url)/settings/environments" \
		--data "csrf=$csrf&repo=acme/app&name=qa" >code &&
	test "$(cat code)" = 303 &&
	ui_get /settings ad >out &&
	curl -s -o /dev/null -w "%{http_code}\n" -b ad "$(serve_url)/settings/environment" \
		--data "csrf=$csrf&repo=acme%2Fapp&env=qa&do=rules&reviewers=user%3Abob&wait_timer=5&patterns=branch%3Amain&prevent_self_review=1" >code &&
	test "$(cat code)" = 303 &&
	curl -s -o /dev/null -w "%{http_code}\n" -b ad "$(serve_url)/settings/environment" \
		--data "csrf=$csrf&repo=acme%2Fapp&env=qa&do=secret&name=QA_TOKEN&value=sup3r-s3cret-value" >code &&
	test "$(cat code)" = 303 &&
	curl -s -o /dev/null -w "%{http_code}\n" -b ad "$(serve_url)/settings/environment" \
		--data "csrf=$csrf&repo=acme%2Fapp&env=qa&do=variable&name=REGION&value=eu-west-1" >code &&
	test "$(cat code)" = 303 &&
	ui_get /settings ad >out &&
	test_grep "value=\"user:bob\"" out &&
	test_grep "<code class=\"secret-name\">QA_TOKEN</code>" out &&
	test_grep "<code>REGION=eu-west-1</code>" out &&
	! grep -q sup3r-s3cret-value out &&
	curl -s -H "Authorization: Bearer $(ui_admin_token)" "$(serve_url)/api/v1/repos/acme/app/environments/qa" >api &&
	test_grep "\"wait_timer\":5" api &&
	! grep -q sup3r-s3cret-value api &&
	cat "$DATA"/kiln.db* >all.db && ! grep -aq sup3r-s3cret-value all.db &&
	! grep -q sup3r-s3cret-value serve.log &&
	curl -s -o /dev/null -w "%{http_code}\n" -b b "$(serve_url)/settings/environment" \
		--data "csrf=$(ui_csrf b /approvals)&repo=acme%2Fapp&env=qa&do=secret&name=X&value=y" >code &&
	test "$(cat code)" = 403
'

test_done
