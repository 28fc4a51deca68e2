#!/bin/bash
test_description='executor: env precedence, default environment, workspace, ${{ }} in run:'
. "$(dirname "$0")/../lib.sh"

run_job() {
	(cd repo && kiln debug job --run-dir "$TRASH/run" "$@" .github/workflows/ci.yml build) >out 2>err
}

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'env merges workflow -> job -> step, the nearest wins' '
	write_workflow repo ci <<-\EOF &&
	on: push
	env:
	  A: wf
	  B: wf
	  C: wf
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    env:
	      B: job
	      C: job
	    steps:
	      - run: echo "A=$A B=$B C=$C"
	        env:
	          C: step
	      - run: echo "later C=$C"
	EOF
	run_job &&
	test_grep "^| A=wf B=job C=step$" out &&
	test_grep "^| later C=job$" out
'

test_expect_success 'env values are expressions; step env sees the job env' '
	write_workflow repo ci <<-\EOF &&
	on: push
	env:
	  BASE: base
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    env:
	      DERIVED: ${{ github.event_name }}-job
	      NUM: ${{ format('"'"'{0}{1}'"'"', 4, 2) }}
	    steps:
	      - run: echo "$DERIVED $NUM $S"
	        env:
	          S: ${{ env.DERIVED }}-step
	EOF
	run_job &&
	test_grep "^| push-job 42 push-job-step$" out
'

test_expect_success '${{ }} in run: is interpolated into the script before it runs' '
	write_workflow repo ci <<-\EOF &&
	on: push
	env:
	  WORD: "it'"'"'s; echo injected"
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "sum=${{ format('"'"'{0}'"'"', 3) }}"
	          cat "$0"
	      - run: echo "$WORD"
	EOF
	run_job &&
	test_grep "^| sum=3$" out &&
	test_grep "^| echo \"sum=3\"$" out &&
	test_grep "^| it.s; echo injected$" out
'

test_expect_success 'GitHub default environment variables are set' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "CI=$CI GHA=$GITHUB_ACTIONS JOB=$GITHUB_JOB OS=$RUNNER_OS"
	          echo "ws=$GITHUB_WORKSPACE"
	          echo "pwd=$PWD"
	          echo "temp=$RUNNER_TEMP"
	          test -d "$RUNNER_TEMP"
	          for f in GITHUB_OUTPUT GITHUB_ENV GITHUB_PATH GITHUB_STEP_SUMMARY GITHUB_STATE; do
	            test -f "${!f}" && echo "$f ok"
	          done
	          echo "action=$GITHUB_ACTION"
	          test -n "$RUNNER_TRACKING_ID"
	EOF
	run_job &&
	test_grep "^| CI=true GHA=true JOB=build OS=Linux$" out &&
	test_grep "^| ws=$TRASH/run/build/workspace$" out &&
	test_grep "^| pwd=$TRASH/run/build/workspace$" out &&
	test_grep "^| temp=$TRASH/run/build/temp$" out &&
	test $(grep -c "^| GITHUB_[A-Z_]* ok$" out) = 5 &&
	test_grep "^| action=__run$" out
'

test_expect_success 'the workspace is HEAD of the repository, not the dirty work tree' '
	mkdir -p repo/src &&
	echo committed >repo/src/file.txt &&
	git -C repo add src && git -C repo commit -q -m src &&
	echo dirty >repo/src/file.txt &&
	echo untracked >repo/new.txt &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          cat src/file.txt
	          test ! -e new.txt && echo no-untracked
	          cat README.md
	EOF
	run_job &&
	test_grep "^| committed$" out &&
	test_grep "^| no-untracked$" out &&
	test_grep "^| # repo$" out &&
	echo dirty >expect && test_cmp expect repo/src/file.txt
'

test_expect_success 'GITHUB_ACTION is the step id or __run, __run_2, ...' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "a=$GITHUB_ACTION"
	      - id: mine
	        run: echo "b=$GITHUB_ACTION"
	      - run: echo "c=$GITHUB_ACTION"
	EOF
	run_job &&
	test_grep "^| a=__run$" out &&
	test_grep "^| b=mine$" out &&
	test_grep "^| c=__run_2$" out
'

test_expect_success 'runner and job contexts are available' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "${{ runner.os }} ${{ job.status }} ${{ runner.temp != '"''"' }}"
	      - run: false
	        continue-on-error: true
	      - run: exit 1
	      - if: always()
	        run: echo "status=${{ job.status }}"
	EOF
	test_expect_code 1 run_job &&
	test_grep "^| Linux success true$" out &&
	test_grep "^| status=failure$" out
'

test_expect_success 'an expression error in env fails the step with the message' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo hi
	        env:
	          X: ${{ fromJSON('"'"'{not json'"'"') }}
	EOF
	test_expect_code 1 run_job &&
	test_grep "^error: .github/workflows/ci.yml:8:14: env .X.: " out &&
	test_grep -v "^| hi" out
'

test_done
