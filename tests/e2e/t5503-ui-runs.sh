#!/bin/bash
test_description='web UI: runs list (filters, paging), run page (job graph by needs, matrix), job page (steps, groups, ANSI, line links, annotations, escaping), a 50,000-line log in pages'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"

# runs recorded by `kiln run` with the server's data directory as
# KILN_HOME are the same history the server shows
test_expect_success 'a repository whose workflow has a matrix, needs, groups, colours, annotations' '
	test_create_repo app &&
	write_workflow app ci <<-\EOF &&
	name: CI
	on: push
	jobs:
	  build:
	    strategy:
	      matrix:
	        os: [linux, mac]
	    runs-on: ubuntu-latest
	    steps:
	      - name: Compile
	        run: |
	          echo "::group::Setup toolchain"
	          echo inside the group
	          echo "::endgroup::"
	          printf "\033[31mred\033[0m and \033[1;32mbold green\033[0m\n"
	          echo "<script>alert(1)</script>"
	          echo "::warning file=src/a.c,line=3::careful here"
	      - name: Summary
	        run: |
	          echo "### Results ~~old~~" >>$GITHUB_STEP_SUMMARY
	          printf "| suite | passed |\n|---|---|\n| unit | 42 |\n" >>$GITHUB_STEP_SUMMARY
	          echo "<script>alert(2)</script> <img src=x onerror=alert(3)> [x](javascript:alert(4))" >>$GITHUB_STEP_SUMMARY
	  test:
	    needs: build
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "::error file=src/x.c,line=2::boom"; exit 1
	  big:
	    runs-on: ubuntu-latest
	    steps:
	      - run: seq 1 50000
	EOF
	git -C app checkout -q -b "x<script>alert(1)</script>" &&
	(cd app && KILN_HOME="$DATA" test_expect_code 1 kiln run push >../run.out 2>&1) &&
	start_serve &&
	ui_user alice admin "alice-pass-1" &&
	ui_login alice alice-pass-1 a
'

test_expect_success 'the runs list shows the run; the branch with <script> stays text' '
	ui_get /runs a >out &&
	test "$(head -1 out)" = 200 &&
	test_grep "href=\"/runs/1\">CI #1</a>" out &&
	test_grep "<code>x&lt;script&gt;alert(1)&lt;/script&gt;</code>" out &&
	! grep -q "<script>alert" out &&
	test_grep "class=\"st st-failure\">failure<" out
'

test_expect_success 'filters: status, event, branch, workflow; an unmatched filter shows nothing' '
	ui_get "/runs?status=failure&event=push&workflow=ci" a >out &&
	test_grep "CI #1" out &&
	ui_get "/runs?status=success" a >out &&
	! grep -q "CI #1" out &&
	test_grep "No run matches" out &&
	ui_get "/runs?branch=x%3Cscript%3Ealert(1)%3C%2Fscript%3E" a >out &&
	test_grep "CI #1" out &&
	test_grep "value=\"x&lt;script&gt;alert(1)&lt;/script&gt;\"" out &&
	ui_get "/runs?branch=main" a >out &&
	! grep -q "CI #1" out
'

test_expect_success 'paging: 25 runs a page, Older/Newer keep the filters' '
	for i in $(seq 2 27); do
		write_workflow app "w$i" <<-EOF || return 1
		name: W$i
		on: push
		jobs:
		  j:
		    runs-on: ubuntu-latest
		    steps:
		      - run: "true"
		EOF
	done &&
	(cd app && for i in $(seq 2 27); do
		KILN_HOME="$DATA" kiln run push -W ".github/workflows/w$i.yml" >/dev/null 2>&1 || exit 1
	done) &&
	ui_get "/runs?event=push" a >p1 &&
	test "$(grep -o "<tr><td><span class=\"st" p1 | wc -l)" = 25 &&
	test_grep "href=\"/runs?event=push&amp;page=2\" rel=\"next\">Older" p1 &&
	ui_get "/runs?event=push&page=2" a >p2 &&
	test "$(grep -o "<tr><td><span class=\"st" p2 | wc -l)" = 2 &&
	test_grep "rel=\"prev\">Newer" p2 &&
	! grep -q "rel=\"next\"" p2
'

test_expect_success 'the run page: facts, every job, the graph (matrix grouped, colour and word)' '
	ui_get /runs/1 a >out &&
	test "$(head -1 out)" = 200 &&
	test_grep "<h1>CI #1</h1>" out &&
	test_grep "<svg" out &&
	test_grep "build (matrix: 2)" out &&
	test_grep "aria-label=\"build (linux): success\"" out &&
	test_grep "aria-label=\"test: failure\"" out &&
	test_grep ">failure</text>" out
'

job_id() { sed -n "s|.*href=\"/runs/1/jobs/\([0-9]*\)\">$1</a>.*|\1|p" "$TRASH/run1" | head -1; }

test_expect_success 'a job page: steps, the group collapsed, ANSI colours, escaped text, line links' '
	ui_get /runs/1 a >run1 &&
	id=$(job_id "build (linux)") && test -n "$id" &&
	ui_get "/runs/1/jobs/$id" a >out &&
	test "$(head -1 out)" = 200 &&
	test_grep "<details class=\"group\"><summary>Setup toolchain</summary>" out &&
	test_grep "<span class=\"a31\">red</span>" out &&
	test_grep "<span class=\"a32 a-b\">bold green</span>" out &&
	test_grep "&lt;script&gt;alert(1)&lt;/script&gt;" out &&
	! grep -q "<script>alert" out &&
	test_grep "id=\"L1\"><a class=\"n\" href=\"/runs/1/jobs/$id?line=1#L1\">1</a>" out &&
	test_grep "class=\"l ann ann-warning\" id=\"L[0-9]*\"" out
'

test_expect_success 'the step summary: Markdown rendered (GFM table), raw HTML and script links dropped' '
	id=$(job_id "build (linux)") && test -n "$id" &&
	ui_get "/runs/1/jobs/$id" a >out &&
	test_grep "<h2>Summary</h2><div class=\"summary-md\">" out &&
	test_grep "<h3>Results <del>old</del></h3>" out &&
	test_grep "<td>unit</td>" out &&
	! grep -q "<script>alert" out &&
	! grep -q "onerror" out &&
	! grep -q "javascript:" out
'

test_expect_success 'a failed job: its annotation is listed and marked at its line' '
	id=$(job_id test) && test -n "$id" &&
	ui_get "/runs/1/jobs/$id" a >out &&
	line=$(sed -n "s/.*class=\"l ann ann-error\" id=\"L\([0-9]*\)\".*src\/x.c:2: boom.*/\1/p" out | head -1) &&
	test -n "$line" &&
	test_grep "<a href=\"/runs/1/jobs/$id?line=$line#L$line\">test: src/x.c:2</a> .*<div class=\"ann-msg\">boom</div>" out
'

test_expect_success 'a 50,000-line log opens in pages of 2,000 lines; ?line=N opens its page' '
	id=$(job_id big) && test -n "$id" &&
	ui_get "/runs/1/jobs/$id" a >out &&
	test_grep "Lines 1–2000 of 5000[0-9]" out &&
	test "$(grep -o "class=\"l\" id=\"L" out | wc -l)" = 2000 &&
	test $(wc -c <out) -lt 600000 &&
	ui_get "/runs/1/jobs/$id?line=42001" a >out &&
	test_grep "id=\"L42001\"" out &&
	test_grep "Lines 42001–44000 of" out &&
	! grep -q "id=\"L2000\"" out &&
	ui_get "/runs/1/jobs/$id/raw" a >raw &&
	test "$(grep -c "^[0-9]*$" raw)" -ge 50000
'

test_expect_success 'per-line timestamps: a <time> per line (hidden until asked), ?timestamps=1 shows them, the raw log with them' '
	id=$(job_id big) && test -n "$id" &&
	ui_get "/runs/1/jobs/$id" a >out &&
	test "$(grep -o "<time class=\"t\" datetime=\"20[0-9-]*T[0-9:]*\.[0-9]*Z\">" out | wc -l)" = 2000 &&
	test_grep "<div id=\"log\" class=\"log\" role=\"log\"" out &&
	test_grep "id=\"ts-toggle\" href=\"/runs/1/jobs/$id?timestamps=1\" role=\"button\" aria-pressed=\"false\"" out &&
	ui_get "/runs/1/jobs/$id?from=2001&timestamps=1" a >out &&
	test_grep "<div id=\"log\" class=\"log show-ts\" role=\"log\"" out &&
	test_grep "id=\"ts-toggle\" href=\"/runs/1/jobs/$id?from=2001\" role=\"button\" aria-pressed=\"true\"" out &&
	test_grep "?from=4001&timestamps=1\" rel=\"next\"" out &&
	ui_get "/runs/1/jobs/$id/raw?timestamps=1" a | sed 1d >raw &&
	ui_get "/runs/1/jobs/$id/raw" a | sed 1d >plain &&
	test "$(wc -l <raw)" = "$(wc -l <plain)" &&
	test "$(grep -c "^20[0-9-]*T[0-9:]*\.[0-9]\{3\}Z " raw)" = "$(wc -l <raw)" &&
	sed "s/^[^ ]* //" raw >stripped && test_cmp plain stripped &&
	grep -q "Z 50000$" raw
'

test_expect_success 'unknown run or job: 404 pages' '
	ui_get /runs/999 a >out &&
	test "$(head -1 out)" = 404 &&
	ui_get /runs/1/jobs/999999 a >out &&
	test "$(head -1 out)" = 404 &&
	ui_get /runs/abc a >out &&
	test "$(head -1 out)" = 404
'

test_done
