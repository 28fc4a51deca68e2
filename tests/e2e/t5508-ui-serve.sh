#!/bin/bash
test_description='web UI on the real queue: a webhook push becomes a run on the runs and repositories pages, badges pass and fail, a developer cancels (a viewer cannot), and in Chromium the run appears and its log streams live'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'a repository whose CI writes slowly, then tests; a server' '
	test_create_repo src &&
	git -C src branch -M main &&
	write_workflow src ci <<-\EOF &&
	name: CI
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          for i in $(seq 1 ${TICKS:-20}); do echo "tick $i <script>x</script>"; sleep 0.1; done
	        env:
	          TICKS: ${{ contains(github.event.head_commit.message, '"'"'long'"'"') && '"'"'600'"'"' || '"'"'20'"'"' }}
	  test:
	    needs: build
	    runs-on: ubuntu-latest
	    steps:
	      - run: test "$(cat VERSION 2>/dev/null)" != bad
	EOF
	kiln repo add acme/app "$TRASH/src" >secret &&
	start_serve --jobs 2 &&
	ui_user alice admin alice-pass-1 &&
	ui_user dev developer dev-pass-123 &&
	ui_user vic viewer vic-pass-123 &&
	ui_login alice alice-pass-1 a &&
	ui_login dev dev-pass-123 d &&
	ui_login vic vic-pass-123 v
'

push() {
	local sha
	sha=$(git -C "$TRASH/src" rev-parse HEAD)
	SECRET=$(cat "$TRASH/secret") hook github push "{\"ref\":\"refs/heads/main\",\"before\":\"$ZERO\",\"after\":\"$sha\",\"repository\":{\"full_name\":\"acme/app\"},\"sender\":{\"login\":\"alice\"},\"head_commit\":{\"id\":\"$sha\",\"message\":\"$(git -C "$TRASH/src" log -1 --format=%s)\"}}" "$1" >"$TRASH/hook.out" &&
	head -1 "$TRASH/hook.out" | grep -qx 202
}

# wait_page PATH JAR PATTERN [SECONDS]: until the page matches
wait_page() {
	local i
	for i in $(seq 1 $((${4:-30} * 5))); do
		ui_get "$1" "$2" >"$TRASH/wait.page" 2>/dev/null && grep -q -- "$3" "$TRASH/wait.page" && return 0
		sleep 0.2
	done
	echo "page $1 never matched $3:"; cat "$TRASH/wait.page"
	return 1
}

test_expect_success 'a webhook push: the run appears with its repository and actor, and ends' '
	push d1 &&
	wait_page /runs a "href=\"/runs/1\">CI #1</a>" &&
	test_grep "<td>acme/app</td>" wait.page &&
	test_grep "<td>push</td><td>alice</td>" wait.page &&
	wait_page /runs/1 a "class=\"st st-success\">success</span> <span\|<th scope=\"row\">Status</th><td><span class=\"st st-success\"" 40 &&
	test_grep "aria-label=\"test: success\"" wait.page &&
	test_grep "build</text>" wait.page
'

test_expect_success 'the run page: graph stages from the workflow at the commit (build, then test)' '
	ui_get /runs/1 a >out &&
	bx=$(sed -n "s/.*aria-label=\"build: success\"><rect x=\"\([0-9]*\)\".*/\1/p" out) &&
	tx=$(sed -n "s/.*aria-label=\"test: success\"><rect x=\"\([0-9]*\)\".*/\1/p" out) &&
	test -n "$bx" && test -n "$tx" && test "$tx" -gt "$bx" &&
	test_grep "<path d=\"M" out
'

test_expect_success 'repositories: the last run of main, a passing badge' '
	ui_get / a >out &&
	test_grep "<h2 id=\"repo-[0-9]*\"><a href=\"/runs?repo=acme%2Fapp\">acme/app</a></h2>" out &&
	test_grep "/hooks/github?repo=acme/app" out &&
	test_grep "href=\"/runs/1\">CI #1</a>" out &&
	curl -s -D h "$(serve_url)/badge/acme/app/ci.svg" >badge.svg &&
	hdr h "^content-type: image/svg+xml" &&
	test_grep "aria-label=\"CI: passing\"" badge.svg &&
	curl -s "$(serve_url)/badge/acme/app/ci.svg?branch=nope" >b2.svg &&
	test_grep "no status" b2.svg
'

test_expect_success 'a failing push turns the badge to failing' '
	echo bad >src/VERSION && git -C src add VERSION && git -C src commit -q -m bad &&
	push d2 &&
	wait_page "/runs?status=failure" a "CI #2" 40 &&
	curl -s "$(serve_url)/badge/acme/app/ci.svg" >badge.svg &&
	test_grep "aria-label=\"CI: failing\"" badge.svg
'

test_expect_success 'a running run: Cancel for a developer, not for a viewer; the developer cancels' '
	echo ok >src/VERSION && git -C src commit -q -am "long run" &&
	push d3 &&
	wait_page /runs/3 d "Cancel run" 40 &&
	ui_get /runs/3 v >out &&
	! grep -q "Cancel run" out &&
	csrf=$(ui_csrf v /runs/3) &&
	curl -s -o /dev/null -w "%{http_code}\n" -b v "$(serve_url)/runs/3/cancel" --data "csrf=$csrf" >code &&
	test "$(cat code)" = 403 &&
	csrf=$(ui_csrf d /runs/3) &&
	curl -s -o /dev/null -w "%{http_code}\n" -b d "$(serve_url)/runs/3/cancel" --data "" >code &&
	test "$(cat code)" = 403 &&
	curl -s -o /dev/null -w "%{http_code}\n" -b d "$(serve_url)/runs/3/cancel" --data "csrf=$csrf" >code &&
	test "$(cat code)" = 303 &&
	wait_page /runs/3 a "<th scope=\"row\">Status</th><td><span class=\"st st-cancelled\"" 30 &&
	curl -s -H "Authorization: Bearer $(ui_admin_token)" "$(serve_url)/api/v1/audit?action=run.cancel" >audit &&
	test_grep "\"actor\":\"dev\"" audit
'

test_expect_success 'in Chromium: a push appears on the runs page and its log streams live' '
	ui_browser_prereq_ok || { echo "# chromium unusable: skipped"; exit 0; }
	git -C src commit -q --allow-empty -m "long again" &&
	(sleep 3 && push d4) &
	ui_browser t5508.mjs "$(serve_url)" "$UI_SHOTS/t5508" 4
'

test_done
