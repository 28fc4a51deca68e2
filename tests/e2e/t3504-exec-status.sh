#!/bin/bash
test_description='executor: if:, status functions, continue-on-error outcome and conclusion'
. "$(dirname "$0")/../lib.sh"

run_job() {
	(cd repo && kiln debug job --run-dir "$TRASH/run" "$@" .github/workflows/ci.yml build) >out 2>err
}

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'after a failure only failure() and always() steps run' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo one
	      - run: exit 1
	      - run: echo skipped-default
	      - if: success()
	        run: echo skipped-success
	      - if: failure()
	        run: echo ran-failure
	      - if: ${{ always() }}
	        run: echo ran-always
	      - if: cancelled()
	        run: echo skipped-cancelled
	EOF
	test_expect_code 1 run_job &&
	test_grep "^| one$" out &&
	test_grep "^| ran-failure$" out &&
	test_grep "^| ran-always$" out &&
	test_grep -v "^| skipped" out &&
	test $(grep -c ": skipped$" out) = 3 &&
	test_grep "^job: failure$" out
'

test_expect_success 'failure() is false while everything succeeds; if: false skips' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - if: failure()
	        run: echo not-me
	      - if: false
	        run: echo not-me-either
	      - if: github.event_name == '"'"'push'"'"'
	        run: echo event-ok
	EOF
	run_job &&
	test_grep -v "^| not-me" out &&
	test_grep "^| event-ok$" out &&
	test_grep "^job: success$" out
'

test_expect_success 'continue-on-error: outcome failure, conclusion success, job succeeds' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: flaky
	        run: exit 3
	        continue-on-error: true
	      - run: echo "outcome=${{ steps.flaky.outcome }} conclusion=${{ steps.flaky.conclusion }}"
	      - if: failure()
	        run: echo not-run
	EOF
	run_job &&
	test_grep "^| outcome=failure conclusion=success$" out &&
	test_grep -v "^| not-run" out &&
	test_grep "^job: success$" out
'

test_expect_success 'continue-on-error can be an expression' '
	write_workflow repo ci <<-\EOF &&
	on: push
	env:
	  TOLERATE: "true"
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: exit 1
	        continue-on-error: ${{ env.TOLERATE == '"'"'true'"'"' }}
	EOF
	run_job &&
	test_grep "^job: success$" out
'

test_expect_success 'skipped steps have outcome and conclusion skipped' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: s
	        if: false
	        run: true
	      - run: echo "s=${{ steps.s.outcome }}/${{ steps.s.conclusion }}"
	EOF
	run_job &&
	test_grep "^| s=skipped/skipped$" out
'

test_expect_success 'an if: failing at run time fails the step with its position' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - if: fromJSON('"'"'{bad'"'"')
	        run: echo no
	EOF
	test_expect_code 1 run_job &&
	test_grep "^error: .*ci.yml:6:13: error in if:" out &&
	test_grep -v "^| no" out
'

test_done
