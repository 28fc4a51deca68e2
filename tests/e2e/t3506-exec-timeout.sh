#!/bin/bash
test_description='executor: step and job timeouts, cancellation, leftover processes'
. "$(dirname "$0")/../lib.sh"

run_job() {
	(cd repo && kiln debug job --run-dir "$TRASH/run" "$@" .github/workflows/ci.yml build) >out 2>err
}

# gone PIDFILE: the process whose pid is in the file no longer exists
gone() {
	pid=$(cat "$1") &&
	test -n "$pid" &&
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done &&
	echo "process $pid still alive" >&2 &&
	return 1
}

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'step timeout-minutes kills the step and its grandchildren' '
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - name: slow
	        timeout-minutes: 0.01
	        run: |
	          sleep 300 &
	          echo \$! >"$TRASH/bg.pid"
	          echo started
	          sleep 300
	      - if: always()
	        run: echo "after outcome=\${{ steps.x.outcome }}"
	EOF
	test_expect_code 1 run_job &&
	test_grep "^| started$" out &&
	test_grep "^error: The action .slow. has timed out after 0.01 minutes.$" out &&
	test_grep "^< slow: failure$" out &&
	test_grep "^| after outcome=" out &&
	gone "$TRASH/bg.pid"
'

test_expect_success 'job timeout-minutes stops the job; always() steps still run' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    timeout-minutes: 0.01
	    steps:
	      - run: sleep 300
	      - run: echo not-run
	      - if: always()
	        run: echo cleanup
	EOF
	test_expect_code 1 run_job &&
	test_grep "^error: The job running on runner kiln has exceeded the maximum execution time of 0.01 minutes.$" out &&
	test_grep -v "^| not-run" out &&
	test_grep "^| cleanup$" out &&
	test_grep "^job: failure$" out
'

test_expect_success 'cancel: SIGINT to the step, then cancelled() and always() steps run' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: long
	        run: |
	          trap "echo got SIGINT; exit 130" INT
	          echo waiting
	          while :; do sleep 0.05; done
	      - run: echo not-run
	      - if: cancelled()
	        run: echo "on cancel ${{ steps.long.outcome }}"
	      - if: always()
	        run: echo always-ran
	      - if: failure()
	        run: echo not-failure
	EOF
	test_expect_code 1 run_job --cancel-after 500 &&
	test_grep "^| got SIGINT$" out &&
	test_grep "^| on cancel cancelled$" out &&
	test_grep "^| always-ran$" out &&
	test_grep -v "^| not-" out &&
	test_grep "^job: cancelled$" out
'

test_expect_success 'cancel: a step ignoring SIGINT is killed after the grace period' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          trap "" INT
	          echo stubborn
	          sleep 300
	EOF
	test_expect_code 1 run_job --cancel-after 300 &&
	test_grep "^| stubborn$" out &&
	test_grep "^job: cancelled$" out
'

test_expect_success 'SIGINT to kiln cancels the job gracefully' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo running; sleep 60
	      - if: always()
	        run: echo cleanup
	EOF
	rm -f out &&
	cd repo &&
	{ kiln debug job --run-dir "$TRASH/run" .github/workflows/ci.yml build >../out 2>&1 & }
	pid=$! &&
	cd .. &&
	for i in $(seq 1 200); do grep -q "^| running" out 2>/dev/null && break; sleep 0.05; done &&
	kill -INT $pid &&
	test_expect_code 1 wait $pid &&
	test_grep "^| cleanup$" out &&
	test_grep "^job: cancelled$" out
'

test_expect_success 'a background process does not hold its step and is killed at job end' '
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          sleep 300 &
	          echo \$! >"$TRASH/bg.pid"
	      - run: kill -0 \$(cat "$TRASH/bg.pid") && echo still-alive
	EOF
	run_job &&
	test_grep "^| still-alive$" out &&
	gone "$TRASH/bg.pid"
'

test_expect_success 'a process escaping with setsid is found and killed at job end' '
	write_workflow repo ci <<-EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          setsid sleep 300 </dev/null >/dev/null 2>&1 &
	          echo \$! >"$TRASH/esc.pid"
	          sleep 0.2
	EOF
	run_job &&
	gone "$TRASH/esc.pid"
'

test_done
