#!/bin/bash
test_description='kiln run: -p, max-parallel, fail-fast'
. "$(dirname "$0")/../lib.sh"

# each job instance marks itself running, records how many are running,
# waits, and unmarks itself
probe_workflow() {
	write_workflow repo ci <<-EOF
	on: push
	jobs:
	  t:
	    runs-on: ubuntu-latest
	    strategy:
	      $1
	      matrix:
	        n: [1, 2, 3, 4, 5]
	    steps:
	      - run: |
	          touch "\$PROBE/run.\${{ matrix.n }}"
	          ls "\$PROBE" | grep -c "^run\\." >>"\$PROBE/../counts"
	          sleep 1
	          rm "\$PROBE/run.\${{ matrix.n }}"
	EOF
}

max_count() {
	sort -n counts | tail -n 1
}

test_expect_success 'setup' '
	test_create_repo repo &&
	mkdir probe &&
	export PROBE="$TRASH/probe"
'

test_expect_success '-p 2 runs at most two jobs at once' '
	export PROBE="$TRASH/probe" &&
	probe_workflow "fail-fast: true" &&
	rm -f counts &&
	(cd repo && kiln run -p 2) >out 2>err &&
	test "$(wc -l <counts)" = 5 &&
	test "$(max_count)" = 2
'

test_expect_success '-p 1 runs jobs one after the other' '
	export PROBE="$TRASH/probe" &&
	rm -f counts &&
	(cd repo && kiln run -p 1) >out 2>err &&
	test "$(max_count)" = 1
'

test_expect_success 'max-parallel limits a matrix below -p' '
	export PROBE="$TRASH/probe" &&
	probe_workflow "max-parallel: 1" &&
	rm -f counts &&
	(cd repo && kiln run -p 4) >out 2>err &&
	test "$(wc -l <counts)" = 5 &&
	test "$(max_count)" = 1
'

test_expect_success 'max-parallel 2 with -p 8' '
	export PROBE="$TRASH/probe" &&
	probe_workflow "max-parallel: 2" &&
	rm -f counts &&
	(cd repo && kiln run -p 8) >out 2>err &&
	test "$(max_count)" = 2
'

test_expect_success 'fail-fast: a failing instance cancels running and queued siblings' '
	export PROBE="$TRASH/probe" &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  t:
	    runs-on: ubuntu-latest
	    strategy:
	      matrix:
	        n: [1, 2, 3, 4]
	    steps:
	      - run: |
	          if [ ${{ matrix.n }} = 1 ]; then sleep 1; exit 1; fi
	          echo started >"$PROBE/started.${{ matrix.n }}"
	          sleep 30
	          echo finished >"$PROBE/finished.${{ matrix.n }}"
	EOF
	rm -f probe/* &&
	test_expect_code 1 env -C repo kiln run -p 3 >out 2>err &&
	test_grep "^t (1)  *failure" out &&
	test_grep "^t (2)  *cancelled" out &&
	test_grep "^t (3)  *cancelled" out &&
	test_grep "^t (4)  *cancelled.*not started" out &&
	! ls probe/finished.* 2>/dev/null &&
	! test -e probe/started.4
'

test_expect_success 'fail-fast: false lets the other instances finish' '
	export PROBE="$TRASH/probe" &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  t:
	    runs-on: ubuntu-latest
	    strategy:
	      fail-fast: false
	      matrix:
	        n: [1, 2]
	    steps:
	      - run: |
	          if [ ${{ matrix.n }} = 1 ]; then exit 1; fi
	          sleep 1
	          echo finished >"$PROBE/finished.${{ matrix.n }}"
	EOF
	rm -f probe/* &&
	test_expect_code 1 env -C repo kiln run -p 2 >out 2>err &&
	test_grep "^t (2)  *success" out &&
	test -e probe/finished.2
'

test_expect_success 'a wide graph: 60 jobs with needs all run, in dependency order' '
	{
		printf "on: push\njobs:\n" &&
		for i in $(seq 1 30); do
			printf "  a%d:\n    runs-on: x\n    steps:\n      - run: echo a%d >>\"\$PROBE/log\"\n" $i $i &&
			printf "  b%d:\n    needs: a%d\n    runs-on: x\n    steps:\n      - run: echo b%d >>\"\$PROBE/log\"\n" $i $i $i
		done
	} | write_workflow repo ci &&
	rm -f probe/* &&
	(cd repo && PROBE="$TRASH/probe" kiln run -p 4) >out 2>err &&
	test "$(wc -l <probe/log)" = 60 &&
	for i in $(seq 1 30); do
		a=$(grep -n "^a$i\$" probe/log | cut -d: -f1) &&
		b=$(grep -n "^b$i\$" probe/log | cut -d: -f1) &&
		test "$a" -lt "$b" || return 1
	done
'

test_done
