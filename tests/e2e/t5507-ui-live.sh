#!/bin/bash
test_description='web UI: a running job'"'"'s log streams live (Server-Sent Events; Last-Event-ID resumes without gap or duplicate); in Chromium new lines appear without reload and auto-scroll stops when the reader scrolls up'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"

# a job that writes a line every 0.1 s for a few seconds
test_expect_success 'a server, and a run whose job writes slowly' '
	test_create_repo app &&
	write_workflow app slow <<-\EOF &&
	name: Slow
	on: push
	jobs:
	  slow:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          for i in $(seq 1 60); do echo "tick $i <b>"; sleep 0.1; done
	          printf "\033[32mdone\033[0m\n"
	EOF
	write_workflow app long <<-\EOF &&
	name: Long
	on: push
	jobs:
	  slow:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          for i in $(seq 1 200); do echo "tick $i <b>"; sleep 0.1; done
	EOF
	start_serve &&
	ui_user alice admin alice-pass-1 &&
	ui_login alice alice-pass-1 a
'

# start_slow_run RUN WORKFLOW: start it in the background, JOB its job id
start_slow_run() {
	(cd "$TRASH/app" && KILN_HOME="$DATA" kiln run push -W ".github/workflows/$2.yml" >"$TRASH/slow.out" 2>&1 &)
	local i
	for i in $(seq 1 100); do
		ui_get "/runs/$1" "$TRASH/a" >"$TRASH/run.page"
		JOB=$(sed -n "s|.*href=\"/runs/$1/jobs/\([0-9]*\)\">slow</a>.*|\1|p" "$TRASH/run.page" | head -1)
		[ -n "$JOB" ] && echo "$JOB" >"$TRASH/job.$1" && return 0
		sleep 0.1
	done
	return 1
}

test_expect_success 'SSE: every line once, in order, numbered; then the end with the conclusion' '
	start_slow_run 1 slow &&
	test -n "$JOB" &&
	ui_get "/runs/1/jobs/$JOB" a >page &&
	test_grep "data-stream=\"/runs/1/jobs/$JOB/live\"" page &&
	curl -s -N --max-time 30 -b a "$(serve_url)/runs/1/jobs/$JOB/live?after=0" >sse &&
	test_grep "^event: end" sse &&
	test_grep "^data: success" sse &&
	grep "^id: " sse | sed "s/id: //" >ids &&
	seq 1 $(wc -l <ids) >want && test_cmp want ids &&
	test "$(grep -c "^data: .*tick [0-9]* &lt;b&gt;" sse)" = 60 &&
	test_grep "<span class=\"a32\">done</span>" sse &&
	! grep -q "<b>" sse
'

test_expect_success 'per-line times: each live line has its <time>; stored when written, not when read' '
	JOB=$(cat job.1) &&
	test "$(grep "^data: <div" sse | grep -c "<time class=\"t\" datetime=\"20[0-9-]*T[0-9:]*\.[0-9]\{3\}Z\">[0-9:]*\.[0-9]\{3\}</time>")" = "$(grep -c "^data: <div" sse)" &&
	ui_get "/runs/1/jobs/$JOB" a >page &&
	test_grep "id=\"ts-toggle\" href=\"/runs/1/jobs/$JOB?timestamps=1\" role=\"button\" aria-pressed=\"false\"" page &&
	ui_get "/runs/1/jobs/$JOB/raw?timestamps=1" a | sed 1d >raw &&
	sed -n "1p" raw | grep -q "^20[0-9-]*T[0-9:]*\.[0-9]\{3\}Z > " &&
	test "$(grep -c "^20[0-9-]*T[0-9:.]*Z " raw)" = "$(wc -l <raw)" &&
	python3 - raw <<-\PY
	import sys, datetime
	t = {}
	for l in open(sys.argv[1]):
	    ts, text = l.split(" ", 1)
	    if text.startswith("tick "):
	        t[int(text.split()[1])] = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
	assert len(t) == 60, t
	# the job slept 0.1 s between ticks: the stored times say so
	span = (t[60] - t[1]).total_seconds()
	assert span >= 5, span
	assert all(t[i] <= t[i + 1] for i in range(1, 60))
	PY
'

test_expect_success 'Last-Event-ID: a reconnecting client gets the lines after it, no duplicate' '
	JOB=$(cat job.1) &&
	curl -s -N --max-time 10 -b a -H "Last-Event-ID: 30" "$(serve_url)/runs/1/jobs/$JOB/live" >sse2 &&
	test "$(grep "^id: " sse2 | head -1)" = "id: 31" &&
	test "$(grep -c "^id: " sse2)" = $(( $(wc -l <ids) - 30 )) &&
	test_grep "^event: end" sse2
'

test_expect_success 'the stream needs a session' '
	curl -s -o /dev/null -w "%{http_code}\n" "$(serve_url)/runs/1/jobs/$(cat job.1)/live" >code &&
	test "$(cat code)" = 303
'

test_expect_success 'in the browser: lines appear live; scrolling up stops the auto-scroll' '
	ui_browser_prereq_ok || { echo "# chromium unusable: skipped"; exit 0; }
	start_slow_run 2 long &&
	ui_browser t5507.mjs "$(serve_url)" "$UI_SHOTS/t5507" "/runs/2/jobs/$JOB"
'

test_done
