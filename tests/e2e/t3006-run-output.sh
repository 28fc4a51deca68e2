#!/bin/bash
test_description='kiln run: terminal output (groups, annotations, summary) and --json'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup' '
	test_create_repo repo &&
	write_workflow repo ci <<-\EOF
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - name: Compile
	        run: |
	          echo "::group::Compiler output"
	          echo "cc -c main.c"
	          echo "::endgroup::"
	          echo "::error file=src/main.c,line=12,col=5::missing semicolon"
	          echo "::warning file=README.md,line=3::typo"
	          echo "::notice::all done"
	  test:
	    needs: build
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "a \"quoted\" line with a tab	here"
	      - run: exit 3
	EOF
'

test_expect_success 'groups are headers, steps have start and end markers' '
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "^\[build\] > Compile$" out &&
	test_grep "^\[build\] == Compiler output ==$" out &&
	test_grep "^\[build\] cc -c main.c$" out &&
	test_grep "^\[build\] < Compile: success in " out &&
	test_grep -v "::group::" out
'

test_expect_success 'annotations show inline and again at the end with file:line' '
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "^\[build\] error: src/main.c:12:5: missing semicolon$" out &&
	sed -n "/^annotations:/,\$p" out >tail &&
	test_grep "^  src/main.c:12:5: error: missing semicolon \[build\]$" tail &&
	test_grep "^  README.md:3: warning: typo \[build\]$" tail &&
	test_grep "notice: all done \[build\]$" tail
'

test_expect_success 'the summary table lists every job with result and duration' '
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "^job  *result  *duration$" out &&
	test_grep "^build  *success  *[0-9.]*s$" out &&
	test_grep "^test  *failure  *[0-9.]*s$" out &&
	test_grep "^run failure in " out
'

test_expect_success '--json: one parseable object per line with the run events' '
	test_expect_code 1 env -C repo kiln run --json >out 2>err &&
	python3 - out <<-\EOF
	import json, sys
	events = [json.loads(line) for line in open(sys.argv[1])]
	kinds = [e["event"] for e in events]
	assert kinds[0] == "run_start", kinds
	assert kinds[-1] == "run_end", kinds
	assert events[-1]["result"] == "failure"
	for k in ("job_start", "job_end", "step_start", "step_end", "log", "annotation", "group"):
	    assert k in kinds, k
	ann = [e for e in events if e["event"] == "annotation" and e.get("file") == "src/main.c"]
	assert ann and ann[0]["line"] == 12 and ann[0]["col"] == 5 and ann[0]["level"] == "error", ann
	logs = [e["text"] for e in events if e["event"] == "log" and e["job"] == "test"]
	assert "a \"quoted\" line with a tab\there" in logs, logs
	ends = {e["job"]: e["result"] for e in events if e["event"] == "job_end"}
	assert ends == {"build": "success", "test": "failure"}, ends
	EOF
'

test_expect_success SCRIPT 'colors on a terminal, none with NO_COLOR' '
	(cd repo && env -u NO_COLOR script -qec "kiln run -p 1" /dev/null) >tty.out 2>&1 || : &&
	grep -q "$(printf "\033")\[3[0-9]m\[build\]" tty.out &&
	(cd repo && NO_COLOR=1 script -qec "kiln run -p 1" /dev/null) >tty.out 2>&1 || : &&
	test_grep "\[build\] cc -c main.c" tty.out &&
	! grep -q "$(printf "\033")\[3" tty.out
'

test_expect_success '::debug:: lines only with -v' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  d:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "::debug::hidden detail"
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep -v "debug: hidden detail" out &&
	(cd repo && kiln run -v) >out 2>err &&
	test_grep "^\[d\] debug: hidden detail$" out
'

test_done
