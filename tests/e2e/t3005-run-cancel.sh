#!/bin/bash
test_description='kiln run: job timeout-minutes, Ctrl-C (SIGINT) and SIGTERM'
. "$(dirname "$0")/../lib.sh"

# wait_for FILE: up to 20 s
wait_for() {
	for _ in $(seq 1 200); do
		test -e "$1" && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	return 1
}

test_expect_success 'setup' '
	test_create_repo repo &&
	mkdir probe
'

test_expect_success 'job timeout-minutes kills the whole process group; the job fails' '
	export PROBE="$TRASH/probe" &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  slow:
	    runs-on: ubuntu-latest
	    timeout-minutes: 0.02
	    steps:
	      - run: |
	          sleep 120 &
	          echo $! >"$PROBE/bgpid"
	          sleep 120
	  after:
	    needs: slow
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo after ran
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "^slow  *\(failure\|cancelled\)" out &&
	test_grep "^after  *skipped" out &&
	pid=$(cat probe/bgpid) &&
	! kill -0 "$pid" 2>/dev/null
'

test_expect_success 'timeout-minutes from an expression' '
	export PROBE="$TRASH/probe" &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  slow:
	    runs-on: ubuntu-latest
	    timeout-minutes: ${{ fromJSON(vars.T) }}
	    steps:
	      - run: sleep 120
	EOF
	test_expect_code 1 env -C repo kiln run --var T=0.01 >out 2>err &&
	test_grep "^slow  *\(failure\|cancelled\)" out
'

test_expect_success 'SIGINT cancels: cancelled() steps and always() jobs still run, exit 1' '
	export PROBE="$TRASH/p3" &&
	mkdir p3 &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  long:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo $PPID >"$PROBE/kilnpid" && echo started >"$PROBE/started"
	          sleep 60
	          echo finished >"$PROBE/finished"
	      - if: cancelled()
	        run: echo cleanup >"$PROBE/cleanup"
	      - run: echo next >"$PROBE/next"
	  next:
	    needs: long
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo next job >"$PROBE/nextjob"
	  report:
	    needs: long
	    if: always()
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "report ${{ needs.long.result }}" >"$PROBE/report"
	EOF
	env -C repo kiln run >p3/out 2>p3/err &
	job=$! &&
	wait_for p3/started &&
	pid=$(cat p3/kilnpid) &&
	test "$(cat /proc/$pid/comm)" = kiln &&
	kill -INT $pid &&
	rc=0 && wait $job || rc=$? &&
	test "$rc" = 1 &&
	test -e p3/cleanup &&
	! test -e p3/finished &&
	! test -e p3/next &&
	! test -e p3/nextjob &&
	test_grep "report cancelled" p3/report &&
	test_grep "cancelling the run" p3/out &&
	test_grep "^long  *cancelled" p3/out &&
	test_grep "^run cancelled" p3/out
'

test_expect_success 'a second SIGINT stops at once, even a step that ignores SIGINT' '
	export PROBE="$TRASH/p4" &&
	mkdir p4 &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  stubborn:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          trap "" INT
	          echo $PPID >"$PROBE/kilnpid" && echo started >"$PROBE/started"
	          for i in $(seq 1 600); do sleep 0.1; done
	          echo finished >"$PROBE/finished"
	EOF
	env -C repo kiln run >p4/out 2>p4/err &
	job=$! &&
	wait_for p4/started &&
	pid=$(cat p4/kilnpid) &&
	test "$(cat /proc/$pid/comm)" = kiln &&
	kill -INT $pid &&
	sleep 0.5 &&
	kill -INT $pid &&
	rc=0 && wait $job || rc=$? &&
	test "$rc" = 1 &&
	test_grep "stopping now" p4/out &&
	! test -e p4/finished
'

test_expect_success 'SIGTERM cancels too' '
	export PROBE="$TRASH/p5" &&
	mkdir p5 &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  long:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo $PPID >"$PROBE/kilnpid" && echo started >"$PROBE/started"
	          sleep 60
	EOF
	env -C repo kiln run >p5/out 2>p5/err &
	job=$! &&
	wait_for p5/started &&
	pid=$(cat p5/kilnpid) &&
	test "$(cat /proc/$pid/comm)" = kiln &&
	kill -TERM $pid &&
	rc=0 && wait $job || rc=$? &&
	test "$rc" = 1 &&
	test_grep "terminated: cancelling" p5/out
'

test_done
