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

test_done
