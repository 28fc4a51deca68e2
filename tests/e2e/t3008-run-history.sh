#!/bin/bash
test_description='kiln run: runs are recorded in the store (kiln runs, kiln logs, run numbers)'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup' '
	test_create_repo repo &&
	write_workflow repo ci <<-\EOF
	name: CI
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "number=$GITHUB_RUN_NUMBER ctx=${{ github.run_number }}"
	  broken:
	    needs: build
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo about to fail && exit 4
	EOF
'

test_expect_success 'run numbers count up per workflow' '
	test_expect_code 1 env -C repo kiln run >out1 2>err &&
	test_grep "number=1 ctx=1" out1 &&
	test_expect_code 1 env -C repo kiln run >out2 2>err &&
	test_grep "number=2 ctx=2" out2
'

test_expect_success 'kiln runs lists the recorded runs with their result' '
	kiln runs >runs 2>err &&
	test_grep "^2  *CI  *2  *push  *main  *failure" runs &&
	test_grep "^1  *CI  *1  *push  *main  *failure" runs
'

test_expect_success 'kiln logs shows a job log with steps and output' '
	kiln logs "CI#2" broken >log 2>err &&
	test_grep "^about to fail$" log &&
	test_grep "exit code 4" log &&
	kiln logs "CI#2" build >log 2>err &&
	test_grep "^number=2 ctx=2$" log
'

test_expect_success '--no-history records nothing' '
	kiln runs >before &&
	test_expect_code 1 env -C repo kiln run --no-history >out 2>err &&
	kiln runs >after &&
	test_cmp before after
'

test_expect_success 'a run: step that cannot start is recorded and shown with its start before its error' '
	write_workflow repo wd <<-\EOF &&
	name: WD
	on: push
	jobs:
	  wd:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo first
	      - run: echo never
	        working-directory: nope
	      - if: always()
	        run: echo last
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	sed -n "s/^\[WD \/ wd\] //p" out | sed "s/ in [0-9.]*s$//; s|'"'"'/[^'"'"']*/nope'"'"'|WS/nope|" >shown &&
	cat >expect <<-\EOF &&
	job started
	> Run echo first
	first
	< Run echo first: success
	> Run echo never
	error: working-directory WS/nope does not exist
	< Run echo never: failure
	> Run echo last
	last
	< Run echo last: success
	job failure
	EOF
	test_cmp expect shown &&
	kiln logs "WD#1" "WD / wd" >log 2>err &&
	sed "s|'"'"'/[^'"'"']*/nope'"'"'|WS/nope|" log >log.ws &&
	cat >expect <<-\EOF &&
	> Run echo first
	first
	< Run echo first: success
	> Run echo never
	error: working-directory WS/nope does not exist
	< Run echo never: failure
	> Run echo last
	last
	< Run echo last: success
	EOF
	test_cmp expect log.ws
'

test_done
