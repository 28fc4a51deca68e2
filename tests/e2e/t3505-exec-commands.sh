#!/bin/bash
test_description='executor: workflow commands (::group::, annotations, masks, stop-commands, deprecated)'
. "$(dirname "$0")/../lib.sh"

run_job() {
	(cd repo && kiln debug job --run-dir "$TRASH/run" "$@" .github/workflows/ci.yml build) >out 2>err
}

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'group, endgroup and annotations with their properties' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "::group::Build output"
	          echo inside
	          echo "::endgroup::"
	          echo "::error file=src/app.c,line=12,col=5,title=Bad%2C bad::it broke%0Asecond line"
	          echo "::warning::careful"
	          echo "::notice file=README.md::fyi" >&2
	EOF
	run_job &&
	test_grep "^group: Build output$" out &&
	test_grep "^| inside$" out &&
	test_grep "^endgroup$" out &&
	test_grep "^error: src/app.c:12:5: \[Bad, bad\] it broke$" out &&
	test_grep "^second line$" out &&
	test_grep "^warning: careful$" out &&
	test_grep "^notice: README.md:0:0: fyi$" out &&
	test_grep -v "^| .*::" out
'

test_expect_success '::debug:: is shown only in verbose mode or with ACTIONS_STEP_DEBUG' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "::debug::hidden detail"
	EOF
	run_job &&
	test_grep -v "^debug: hidden detail" out &&
	run_job -v &&
	test_grep "^debug: hidden detail$" out &&
	run_job --secret ACTIONS_STEP_DEBUG=true &&
	test_grep "^debug: hidden detail$" out
'

test_expect_success '::add-mask:: hides the value from then on, and its own line' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - name: masking
	        run: |
	          echo "before: s3cr3t-value"
	          echo "::add-mask::s3cr3t-value"
	          echo "after: s3cr3t-value and again s3cr3t-value"
	      - name: next
	        run: echo "next step s3cr3t-value"
	      - name: warn
	        run: echo "::warning::warn s3cr3t-value"
	EOF
	run_job &&
	test_grep "^| before: s3cr3t-value$" out &&
	test_grep "^| after: \*\*\* and again \*\*\*$" out &&
	test_grep "^| next step \*\*\*$" out &&
	test_grep "^warning: warn \*\*\*$" out &&
	test $(grep -c s3cr3t-value out) = 1
'

test_expect_success 'secrets are masked in output, names and annotations' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - name: use ${{ secrets.TOKEN }}
	        run: |
	          echo "token is $T"
	          echo "::error::leaked $T"
	        env:
	          T: ${{ secrets.TOKEN }}
	EOF
	run_job --secret TOKEN=tok-123456 &&
	test_grep "^> use \*\*\*$" out &&
	test_grep "^| token is \*\*\*$" out &&
	test_grep "^error: leaked \*\*\*$" out &&
	test_grep -v "tok-123456" out
'

test_expect_success '::stop-commands:: suspends command processing until the token' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "::stop-commands::pause-token-1"
	          echo "::warning::not a warning"
	          echo "::add-mask::not-masked"
	          echo "::pause-token-1::"
	          echo "::warning::a real warning"
	          echo "not-masked"
	EOF
	run_job &&
	test_grep "^| ::warning::not a warning$" out &&
	test_grep "^| ::add-mask::not-masked$" out &&
	test_grep "^warning: a real warning$" out &&
	test_grep "^| not-masked$" out &&
	test_grep -v "^warning: not a warning" out
'

test_expect_success '::echo::on shows commands in the log' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "::warning::quiet"
	          echo "::echo::on"
	          echo "::warning::loud"
	          echo "::add-mask::maskme"
	          echo "::echo::off"
	          echo "::warning::quiet again"
	EOF
	run_job &&
	test_grep "^| ::warning::loud$" out &&
	test_grep "^| ::add-mask::\*\*\*$" out &&
	test_grep -v "^| ::warning::quiet" out &&
	test_grep -v "maskme" out
'

test_expect_success 'deprecated set-output and save-state work with a warning' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: old
	        run: |
	          echo "::set-output name=answer::forty%0Atwo"
	          echo "::save-state name=pid::123"
	      - run: echo "answer=${{ steps.old.outputs.answer }}" | tr "\n" " "; echo
	EOF
	run_job &&
	test_grep "^warning: The .set-output. command is deprecated and will be disabled soon. Please upgrade to using Environment Files." out &&
	test_grep "^warning: The .save-state. command is deprecated" out &&
	test_grep "^| answer=forty two $" out
'

test_expect_success '::set-env and ::add-path fail the step with GitHub error' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: a
	        continue-on-error: true
	        run: echo "::set-env name=FOO::bar"
	      - id: b
	        continue-on-error: true
	        run: echo "::add-path::/opt/x"
	      - run: echo "a=${{ steps.a.outcome }} b=${{ steps.b.outcome }} foo=${FOO:-unset}"
	EOF
	run_job &&
	test_grep "^error: Unable to process command .::set-env name=FOO::bar. successfully.$" out &&
	test_grep "^error: The .set-env. command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the .ACTIONS_ALLOW_UNSECURE_COMMANDS. environment variable to .true.." out &&
	test_grep "^error: The .add-path. command is disabled." out &&
	test_grep "^| a=failure b=failure foo=unset$" out
'

test_expect_success 'ACTIONS_ALLOW_UNSECURE_COMMANDS=true re-enables set-env and add-path' '
	write_workflow repo ci <<-\EOF &&
	on: push
	env:
	  ACTIONS_ALLOW_UNSECURE_COMMANDS: true
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "::set-env name=FOO::bar"
	          echo "::add-path::/opt/kiln-test-bin"
	      - run: echo "foo=$FOO first=${PATH%%:*}"
	EOF
	run_job &&
	test_grep "^| foo=bar first=/opt/kiln-test-bin$" out
'

test_expect_success 'unknown ::commands:: are ordinary output' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "::not-a-command::text"
	EOF
	run_job &&
	test_grep "^| ::not-a-command::text$" out
'

test_done
