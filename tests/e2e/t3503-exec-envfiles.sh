#!/bin/bash
test_description='executor: GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY, job outputs'
. "$(dirname "$0")/../lib.sh"

run_job() {
	(cd repo && kiln debug job --run-dir "$TRASH/run" "$@" .github/workflows/ci.yml build) >out 2>err
}

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'GITHUB_OUTPUT sets steps.<id>.outputs for later steps' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: gen
	        run: |
	          echo "name=value with = sign" >>"$GITHUB_OUTPUT"
	          echo "empty=" >>"$GITHUB_OUTPUT"
	      - run: echo "got [${{ steps.gen.outputs.name }}] [${{ steps.gen.outputs.empty }}] [${{ steps.gen.outputs.missing }}]"
	EOF
	run_job &&
	test_grep "^| got \[value with = sign\] \[\] \[\]$" out
'

test_expect_success 'GITHUB_OUTPUT multi-line values with name<<DELIMITER' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: gen
	        run: |
	          {
	            echo "text<<EOF_MARK"
	            echo "line one"
	            echo "line two"
	            echo "EOF_MARK"
	          } >>"$GITHUB_OUTPUT"
	      - run: |
	          printf "%s\n" "$T" | sed "s/^/got: /"
	        env:
	          T: ${{ steps.gen.outputs.text }}
	EOF
	run_job &&
	test_grep "^| got: line one$" out &&
	test_grep "^| got: line two$" out &&
	test $(grep -c "^| got:" out) = 2
'

test_expect_success 'a missing heredoc delimiter fails the step with GitHub message' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "text<<EOF" >>"$GITHUB_OUTPUT"
	          printf "no newline before the marker EOF\n" >>"$GITHUB_OUTPUT"
	EOF
	test_expect_code 1 run_job &&
	test_grep "^error: Unable to process file command .output. successfully.$" out &&
	test_grep "^error: Invalid value. Matching delimiter not found .EOF.$" out &&
	test_grep "^< .*: failure$" out
'

test_expect_success 'GITHUB_ENV sets env for the following steps only (multi-line too)' '
	write_workflow repo ci <<-\EOF &&
	on: push
	env:
	  OVER: workflow
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "FOO=bar" >>"$GITHUB_ENV"
	          echo "OVER=from-file" >>"$GITHUB_ENV"
	          printf "ML<<END\na\nb\nEND\n" >>"$GITHUB_ENV"
	          echo "same step: ${FOO:-unset}"
	      - run: |
	          echo "next: $FOO $OVER ${{ env.FOO }}"
	          echo "$ML" | tr "\n" ,; echo
	      - run: echo "step env wins=$OVER"
	        env:
	          OVER: step
	EOF
	run_job &&
	test_grep "^| same step: unset$" out &&
	test_grep "^| next: bar from-file bar$" out &&
	test_grep "^| a,b,$" out &&
	test_grep "^| step env wins=step$" out
'

test_expect_success 'GITHUB_PATH prepends to PATH for the following steps' '
	mkdir -p repo/tools &&
	printf "#!/bin/sh\necho mytool ran\n" >repo/tools/mytool &&
	chmod +x repo/tools/mytool &&
	git -C repo add tools && git -C repo commit -q -m tools &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "$GITHUB_WORKSPACE/tools" >>"$GITHUB_PATH"
	          command -v mytool || echo "not yet"
	      - run: |
	          mytool
	          echo "first=${PATH%%:*}"
	EOF
	run_job &&
	test_grep "^| not yet$" out &&
	test_grep "^| mytool ran$" out &&
	test_grep "^| first=.*/workspace/tools$" out
'

test_expect_success 'GITHUB_STEP_SUMMARY of every step is collected for the job' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "## Step one" >>"$GITHUB_STEP_SUMMARY"
	      - run: echo "quiet"
	      - run: printf "* two\n" >>"$GITHUB_STEP_SUMMARY"
	EOF
	run_job &&
	sed -n "/^summary:/,\$p" out >summary &&
	printf "summary:\n## Step one\n* two\n" >expect &&
	test_cmp expect summary
'

test_expect_success 'job outputs are evaluated at the end of the job' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    outputs:
	      version: ${{ steps.v.outputs.version }}
	      fixed: constant
	      both: ${{ steps.v.outputs.version }}-${{ steps.w.outputs.x }}
	    steps:
	      - id: v
	        run: echo "version=1.2.3" >>"$GITHUB_OUTPUT"
	      - id: w
	        run: echo "x=y" >>"$GITHUB_OUTPUT"
	EOF
	run_job &&
	test_grep "^outputs: {\"version\":\"1.2.3\",\"fixed\":\"constant\",\"both\":\"1.2.3-y\"}$" out
'

test_expect_success 'a job output holding a secret is skipped with a warning' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    outputs:
	      leak: ${{ secrets.TOKEN }}
	      ok: fine
	    steps:
	      - run: true
	EOF
	run_job --secret TOKEN=hunter2 &&
	test_grep "^warning: Skip output .leak. since it may contain secret.$" out &&
	test_grep "^outputs: {\"ok\":\"fine\"}$" out &&
	test_grep -v hunter2 out
'

test_expect_success 'a bash put first on PATH by GITHUB_PATH runs the next steps (the shell lookup follows PATH)' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "before [${KILN_WRAPPED:-no}]"
	      - run: |
	          mkdir -p "$RUNNER_TEMP/wrap"
	          real=$(command -v bash)
	          printf "#!%s\nexport KILN_WRAPPED=yes\nexec %s \"\$@\"\n" "$real" "$real" >"$RUNNER_TEMP/wrap/bash"
	          chmod +x "$RUNNER_TEMP/wrap/bash"
	          echo "$RUNNER_TEMP/wrap" >>"$GITHUB_PATH"
	      - run: echo "after [${KILN_WRAPPED:-no}]"
	EOF
	run_job &&
	test_grep "^| before \[no\]$" out &&
	test_grep "^| after \[yes\]$" out
'

test_expect_success 'file commands: a link to a file is read, each step starts from empty files' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: a
	        run: |
	          echo "k=from-a" >"$RUNNER_TEMP/out"
	          ln -sf "$RUNNER_TEMP/out" "$GITHUB_OUTPUT"
	      - id: b
	        run: |
	          test -f "$GITHUB_OUTPUT" && test ! -s "$GITHUB_OUTPUT" && echo "b starts empty"
	          echo "k=from-b" >>"$GITHUB_OUTPUT"
	      - id: c
	        run: test ! -s "$GITHUB_OUTPUT" && echo "c starts empty"
	      - run: echo "[${{ steps.a.outputs.k }}] [${{ steps.b.outputs.k }}] [${{ steps.c.outputs.k }}]"
	EOF
	run_job &&
	test_grep "^| b starts empty$" out &&
	test_grep "^| c starts empty$" out &&
	test_grep "^| \[from-a\] \[from-b\] \[\]$" out
'

test_done
