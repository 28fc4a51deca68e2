#!/bin/bash
test_description='web UI: Re-run buttons on a finished run of the server — a developer re-runs all jobs, the failed ones or one job (POST with CSRF, audited, the next attempt queued and run), a viewer sees no button and is refused; in Chromium by clicking'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'a repository whose test job fails after build; a server and its users' '
	FLAG="$TRASH/flag" &&
	serve_app_repo CI <<-EOF &&
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "BUILD RAN attempt \$GITHUB_RUN_ATTEMPT"
	  test:
	    needs: build
	    runs-on: ubuntu-latest
	    steps:
	      - run: test -f $FLAG || { echo "::error file=t.c,line=1::broken"; exit 1; }
	EOF
	git -C src branch -M main &&
	start_serve &&
	ui_user dev developer dev-pass-123 &&
	ui_user vic viewer vic-pass-123 &&
	ui_login dev dev-pass-123 d &&
	ui_login vic vic-pass-123 v
'

push() {
	local sha
	sha=$(git -C "$TRASH/src" rev-parse HEAD)
	SECRET=$(cat "$TRASH/secret") hook github push "{\"ref\":\"refs/heads/main\",\"before\":\"$ZERO\",\"after\":\"$sha\",\"repository\":{\"full_name\":\"acme/app\"},\"sender\":{\"login\":\"alice\"}}" "$1" >"$TRASH/hook.out" &&
	head -1 "$TRASH/hook.out" | grep -qx 202
}

wait_page() {
	local i
	for i in $(seq 1 $((${4:-30} * 5))); do
		ui_get "$1" "$2" >"$TRASH/wait.page" 2>/dev/null && grep -q -- "$3" "$TRASH/wait.page" && return 0
		sleep 0.2
	done
	echo "page $1 never matched $3:"; cat "$TRASH/wait.page"
	return 1
}


test_expect_success 'a push runs and fails' '
	push d1 &&
	wait_page /runs/1 d "<th scope=\"row\">Status</th><td><span class=\"st st-failure\"" 60
'

test_expect_success 'a developer sees Re-run all jobs and Re-run failed jobs; a viewer sees no action' '
	ui_get /runs/1 d >out &&
	test_grep "<form method=\"post\" action=\"/runs/1/rerun\"><input type=\"hidden\" name=\"csrf\"" out &&
	test_grep ">Re-run all jobs</button>" out &&
	test_grep "<input type=\"hidden\" name=\"failed_only\" value=\"1\"><button type=\"submit\" class=\"secondary\">Re-run failed jobs</button>" out &&
	! grep -q "Cancel run" out &&
	ui_get /runs/1 v >out &&
	! grep -q "Re-run" out &&
	! grep -q "action=\"/runs/1/rerun\"" out
'

test_expect_success 'refused: a viewer (403), a POST without CSRF (403), an unknown run (404); nothing queued' '
	csrf=$(ui_csrf v /runs/1) && test -n "$csrf" &&
	curl -s -o /dev/null -w "%{http_code}\n" -b v "$(serve_url)/runs/1/rerun" --data "csrf=$csrf" >code &&
	test "$(cat code)" = 403 &&
	curl -s -o /dev/null -w "%{http_code}\n" -b d "$(serve_url)/runs/1/rerun" --data "" >code &&
	test "$(cat code)" = 403 &&
	csrf=$(ui_csrf d /runs/1) &&
	curl -s -o /dev/null -w "%{http_code}\n" -b d "$(serve_url)/runs/99/rerun" --data "csrf=$csrf" >code &&
	test "$(cat code)" = 404 &&
	api /api/v1/events >ev &&
	test "$(grep -o "\"id\":" ev | wc -l)" = 1
'

test_expect_success 'the developer re-runs: 303 to the repository runs, the next attempt is queued, audited, and runs' '
	csrf=$(ui_csrf d /runs/1) &&
	curl -s -D h -o /dev/null -b d "$(serve_url)/runs/1/rerun" --data "csrf=$csrf" &&
	hdr h "^HTTP/1.1 303" &&
	hdr h "^location: /runs?repo=acme%2Fapp" &&
	api "/api/v1/events/2" >ev &&
	test_grep "\"attempt\": *2" ev &&
	test_grep "\"rerun_of\": *1" ev &&
	test_grep "\"actor\": *\"dev\"" ev &&
	api "/api/v1/audit?action=run.rerun" >audit &&
	test_grep "\"actor\": *\"dev\"" audit &&
	wait_page /runs/2 d "<th scope=\"row\">Status</th><td><span class=\"st st-failure\"" 60 &&
	test_grep "<th scope=\"row\">Attempt</th><td>2 (re-run by dev)</td>" wait.page
'

test_expect_success 'Re-run failed jobs: the failed job runs again, the successful one is reused; a passing run has no such button (409)' '
	touch "$TRASH/flag" &&
	csrf=$(ui_csrf d /runs/2) &&
	curl -s -D h -o /dev/null -b d "$(serve_url)/runs/2/rerun" --data "csrf=$csrf&failed_only=1" &&
	hdr h "^HTTP/1.1 303" &&
	api "/api/v1/events/3" >ev &&
	test_grep "\"attempt\": *3" ev &&
	test_grep "\"reuse_run\": *2" ev &&
	api "/api/v1/audit?action=run.rerun" >audit &&
	test_grep "attempt 3, failed jobs" audit &&
	wait_page /runs/3 d "<th scope=\"row\">Status</th><td><span class=\"st st-success\"" 60 &&
	test_grep "<th scope=\"row\">Attempt</th><td>3 (re-run by dev)</td>" wait.page &&
	test_grep -v "BUILD RAN attempt 3" "$DATA/events/3.log" &&
	test_grep "success in the previous attempt: not run again" "$DATA/events/3.log" &&
	! grep -q "Re-run failed jobs" wait.page &&
	test_grep ">Re-run all jobs</button>" wait.page &&
	csrf=$(ui_csrf d /runs/3) &&
	curl -s -o /dev/null -w "%{http_code}\n" -b d "$(serve_url)/runs/3/rerun" --data "csrf=$csrf&failed_only=1" >code &&
	test "$(cat code)" = 409 &&
	rm -f "$TRASH/flag"
'

# the id of job $2 of run $1
job_id() { api "/api/v1/runs/$1/jobs" | python3 -c "import json,sys; print([j[\"id\"] for j in json.load(sys.stdin)[\"jobs\"] if j[\"name\"]==\"$2\"][0])"; }

test_expect_success 'Re-run this job (job page): a developer has the button, a viewer none and is refused; the job runs again, build is reused' '
	job_id 3 test >jt &&
	ui_get /runs/3/jobs/$(cat jt) d >out &&
	test_grep "<div class=\"actions\" role=\"group\" aria-label=\"Job actions\"><form method=\"post\" action=\"/runs/3/rerun\">" out &&
	test_grep "<input type=\"hidden\" name=\"job\" value=\"$(cat jt)\"><button type=\"submit\" class=\"secondary\">Re-run this job</button>" out &&
	ui_get /runs/3/jobs/$(cat jt) v >out &&
	! grep -q "Re-run" out &&
	csrf=$(ui_csrf v /runs/3) &&
	curl -s -o /dev/null -w "%{http_code}\n" -b v "$(serve_url)/runs/3/rerun" --data "csrf=$csrf&job=$(cat jt)" >code &&
	test "$(cat code)" = 403 &&
	csrf=$(ui_csrf d /runs/3) &&
	curl -s -o /dev/null -w "%{http_code}\n" -b d "$(serve_url)/runs/3/rerun" --data "csrf=$csrf&job=999999" >code &&
	test "$(cat code)" = 404 &&
	curl -s -D h -o /dev/null -b d "$(serve_url)/runs/3/rerun" --data "csrf=$csrf&job=$(cat jt)" &&
	hdr h "^HTTP/1.1 303" &&
	api "/api/v1/events/4" >ev &&
	test_grep "\"rerun_job\": *\"test\"" ev &&
	test_grep "\"reuse_run\": *3" ev &&
	api "/api/v1/audit?action=run.rerun" >audit &&
	test_grep "attempt 4, job test" audit &&
	wait_page /runs/4 d "<th scope=\"row\">Status</th><td><span class=\"st st-failure\"" 60 &&
	test_grep -v "BUILD RAN attempt 4" "$DATA/events/4.log" &&
	test_grep "\[build\] kiln: success in the previous attempt: not run again" "$DATA/events/4.log"
'

test_expect_success 'in Chromium: the developer clicks Re-run all jobs, then Re-run this job; the new attempts appear' '
	ui_browser_prereq_ok || { echo "# chromium unusable: skipped"; exit 0; }
	ui_browser t5510.mjs "$(serve_url)" "$UI_SHOTS/t5510"
'

test_done
