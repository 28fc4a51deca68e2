#!/bin/bash
test_description='kiln run: -j, -W, -l, -n'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup: two workflows' '
	test_create_repo repo &&
	write_workflow repo ci <<-\EOF &&
	name: CI
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo build ran
	  test:
	    needs: build
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo test ran
	  deploy:
	    needs: [test]
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo deploy ran
	  lint:
	    runs-on: ubuntu-latest
	    steps:
	      - name: Lint it
	        run: echo lint ran
	EOF
	write_workflow repo docs <<-\EOF
	name: Docs
	on: [push, pull_request]
	jobs:
	  docs:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo docs ran
	EOF
'

test_expect_success '-l lists every job with stage, workflow and needs' '
	(cd repo && kiln run -l) >out 2>err &&
	test_grep "^stage  *job  *name  *workflow  *needs" out &&
	test_grep "^0  *build  *build  *ci.yml  *-$" out &&
	test_grep "^0  *lint  *lint  *ci.yml  *-$" out &&
	test_grep "^1  *test  *test  *ci.yml  *build$" out &&
	test_grep "^2  *deploy  *deploy  *ci.yml  *test$" out &&
	test_grep "^0  *docs  *docs  *docs.yml  *-$" out &&
	test_grep -v "ran" out
'

test_expect_success '-j JOB runs that job and what it needs, transitively' '
	(cd repo && kiln run -j deploy) >out 2>err &&
	test_grep "build ran" out &&
	test_grep "test ran" out &&
	test_grep "deploy ran" out &&
	test_grep -v "lint ran" out &&
	test_grep -v "docs ran" out
'

test_expect_success '-j with an unknown job suggests the closest (exit 2)' '
	test_expect_code 2 env -C repo kiln run -j deplyo 2>err &&
	test_grep "unknown job .deplyo. (did you mean .deploy.?)" err
'

test_expect_success '-W FILE runs only that workflow' '
	(cd repo && kiln run -W .github/workflows/docs.yml) >out 2>err &&
	test_grep "docs ran" out &&
	test_grep -v "build ran" out
'

test_expect_success '-W with a missing file is exit 2' '
	test_expect_code 2 env -C repo kiln run -W nope.yml 2>err &&
	test_grep "nope.yml" err
'

test_expect_success 'several workflows: job names carry the workflow name' '
	(cd repo && kiln run -p 1) >out 2>err &&
	test_grep "^\[CI / build\] build ran$" out &&
	test_grep "^\[Docs / docs\] docs ran$" out
'

test_expect_success 'EVENT picks workflows by on: (pull_request runs Docs only)' '
	git -C repo branch feature &&
	(cd repo && kiln run pull_request) >out 2>err &&
	test_grep "docs ran" out &&
	test_grep -v "build ran" out
'

test_expect_success '-n shows stages, jobs and steps and runs nothing' '
	(cd repo && kiln run -n -W .github/workflows/ci.yml) >out 2>err &&
	test_grep "^stage 0$" out &&
	test_grep "^  job build$" out &&
	test_grep "^    - Run echo build ran$" out &&
	test_grep "^  job test (needs build)$" out &&
	test_grep "^    - Lint it$" out &&
	test_grep "^stage 2$" out &&
	test_grep -v "job started" out &&
	test_grep -v "^\[build\]" out
'

test_expect_success '-l and -n together are a usage error' '
	test_expect_code 2 env -C repo kiln run -l -n 2>err &&
	test_grep "cannot be used together" err
'

test_expect_success 'the run directory is removed unless --keep' '
	export TMPDIR="$TRASH/tmp" &&
	mkdir -p "$TMPDIR" &&
	(cd repo && kiln run -j build) >out 2>err &&
	test -z "$(ls "$TMPDIR")" &&
	test -z "$(find "$TMPDIR" -name "kiln-run-*")" &&
	(cd repo && kiln run -j build --keep) >out 2>err &&
	ls "$TMPDIR" >dirs &&
	test_grep "^kiln-run-" dirs &&
	test -f "$TMPDIR"/kiln-run-*/event.json
'

test_expect_success 'a run leaves its directory for the next, emptied of its values' '
	export TMPDIR="$TRASH/tmp-spare" &&
	mkdir -p "$TMPDIR" &&
	spare="$TMPDIR/.kiln-spare-$(id -u)" &&
	write_workflow repo spare <<-\EOF &&
	on: workflow_dispatch
	jobs:
	  one:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          ls -A "$RUNNER_TEMP" >"$HOME/temp-seen"
	          cat "$GITHUB_ENV" "$GITHUB_OUTPUT" "$GITHUB_STEP_SUMMARY" "$GITHUB_PATH" "$GITHUB_STATE" >"$HOME/files-seen"
	          pwd >"$HOME/dir-seen"
	          echo "SECRETISH=value-of-run" >>"$GITHUB_ENV"
	          echo "out=value-of-run" >>"$GITHUB_OUTPUT"
	          echo "# value-of-run" >>"$GITHUB_STEP_SUMMARY"
	          echo "value-of-run" >"$RUNNER_TEMP/left-by-step"
	          echo "value-of-run" >new-in-workspace
	EOF
	(cd repo && kiln run workflow_dispatch -W .github/workflows/spare.yml) >out 2>err &&
	test_grep "run success" out &&
	test -d "$spare" &&
	test "$(stat -c %a "$spare")" = 700 &&
	test -z "$(ls "$TMPDIR")" &&
	test ! -e "$spare/.skel/workspace" &&
	test_must_fail grep -r value-of-run "$spare" &&
	test "$(ls -A "$spare/.skel/temp")" = .kiln-step.sh &&
	(cd repo && kiln run workflow_dispatch -W .github/workflows/spare.yml) >out 2>err &&
	test_grep "run success" out &&
	# the second run used the spare (its directory was renamed from it),
	# and its step saw nothing of the first one
	test "$(cat "$HOME/temp-seen")" = .kiln-step.sh &&
	test ! -s "$HOME/files-seen" &&
	case "$(cat "$HOME/dir-seen")" in "$TMPDIR"/kiln-run-*/one/workspace) ;; *) false ;; esac &&
	test_must_fail grep -r value-of-run "$spare" &&
	test -d "$spare"
'

test_expect_success 'a spare run directory open to others is not used' '
	export TMPDIR="$TRASH/tmp-spare" &&
	spare="$TMPDIR/.kiln-spare-$(id -u)" &&
	chmod 755 "$spare" &&
	: >"$spare/marker" &&
	(cd repo && kiln run workflow_dispatch -W .github/workflows/spare.yml) >out 2>err &&
	test_grep "run success" out &&
	# this user'"'"'s own but opened to others: removed, and this run'"'"'s
	# directory is the new spare, private again
	test ! -e "$spare/marker" &&
	test "$(stat -c %a "$spare")" = 700 &&
	test -z "$(ls "$TMPDIR")" &&
	rm -rf "$spare" &&
	ln -s "$TRASH/elsewhere" "$spare" &&
	mkdir -p "$TRASH/elsewhere" &&
	(cd repo && kiln run workflow_dispatch -W .github/workflows/spare.yml) >out 2>err &&
	test_grep "run success" out &&
	test -L "$spare" &&
	test -z "$(ls -A "$TRASH/elsewhere")" &&
	rm "$spare"
'

test_expect_success 'what a step made of event.json does not reach the next run' '
	export TMPDIR="$TRASH/tmp-spare" &&
	write_workflow repo event <<-\EOF &&
	on: workflow_dispatch
	jobs:
	  one:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          test "$(head -c1 "$GITHUB_EVENT_PATH")" = "{"
	          rm -f "$GITHUB_EVENT_PATH" && mkfifo "$GITHUB_EVENT_PATH"
	EOF
	(cd repo && kiln run workflow_dispatch -W .github/workflows/event.yml) >out 2>err &&
	test_grep "run success" out &&
	test ! -e "$TMPDIR/.kiln-spare-$(id -u)/event.json" &&
	# a FIFO left in place would block the next run in open()
	(cd repo && timeout 60 kiln run workflow_dispatch -W .github/workflows/event.yml) >out 2>err &&
	test_grep "run success" out &&
	write_workflow repo event <<-\EOF &&
	on: workflow_dispatch
	jobs:
	  one:
	    runs-on: ubuntu-latest
	    steps:
	      - run: rm -f "$GITHUB_EVENT_PATH" && ln "$HOME/victim" "$GITHUB_EVENT_PATH"
	EOF
	echo keep-me >"$HOME/victim" &&
	(cd repo && kiln run workflow_dispatch -W .github/workflows/event.yml) >out 2>err &&
	(cd repo && kiln run workflow_dispatch -W .github/workflows/event.yml) >out 2>err &&
	test_grep "run success" out &&
	test "$(cat "$HOME/victim")" = keep-me
'

test_done
