#!/bin/bash
test_description='executor: run: steps, shells, working-directory (kiln debug job)'
. "$(dirname "$0")/../lib.sh"

# run_job JOB: run a job of repo/.github/workflows/ci.yml; events in ../out
run_job() {
	(cd repo && kiln debug job --run-dir "$TRASH/run" "$@" .github/workflows/ci.yml build) >out 2>err
}

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'a run: step prints its output and succeeds' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo hello world
	EOF
	run_job &&
	test_grep "^> Run echo hello world$" out &&
	test_grep "^| hello world$" out &&
	test_grep "^< Run echo hello world: success$" out &&
	test_grep "^job: success$" out
'

test_expect_success 'a failing step fails the job with the exit code (exit 1)' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: exit 42
	      - run: echo never
	EOF
	test_expect_code 1 run_job &&
	test_grep "^error: Process completed with exit code 42.$" out &&
	test_grep "^< Run echo never: skipped$" out &&
	test_grep -v "^| never" out &&
	test_grep "^job: failure$" out
'

test_expect_success 'the default shell is bash -e (no pipefail), as GitHub runs it' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          false | true
	          echo "bash=$BASH_VERSION"
	          echo "opts=$-"
	EOF
	run_job &&
	test_grep "^| bash=[0-9]" out &&
	test_grep "^| opts=.*e" out
'

test_expect_success 'shell: bash adds --noprofile --norc -eo pipefail' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - shell: bash
	        run: |
	          echo "pipefail=$(set -o | grep pipefail | tr -s " \t" " ")"
	          false | true
	          echo not reached
	EOF
	test_expect_code 1 run_job &&
	test_grep "^| pipefail=pipefail on" out &&
	test_grep -v "not reached" out
'

test_expect_success 'shell: sh runs sh -e' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - shell: sh
	        run: |
	          echo "no-bash=${BASH_VERSION:-none}"
	          false
	          echo not reached
	EOF
	test_expect_code 1 run_job &&
	test_grep "^| no-bash=none$" out &&
	test_grep -v "not reached" out
'

test_expect_success PYTHON 'shell: python runs the script with python' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - shell: python
	        run: |
	          import sys
	          print("python", sys.version_info[0], 6 * 7)
	EOF
	run_job &&
	test_grep "^| python 3 42$" out
'

test_expect_success 'shell: pwsh without PowerShell installed is a clear step error' '
	if command -v pwsh >/dev/null; then exit 0; fi &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - shell: pwsh
	        run: Write-Output hi
	EOF
	test_expect_code 1 run_job &&
	test_grep "^error: cannot find .pwsh. in PATH for shell: pwsh$" out
'

test_expect_success 'a custom shell template gets the script path for {0}' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - shell: perl -w {0}
	        run: |
	          print "perl says ", 2 + 3, "\n";
	      - shell: bash -c "echo custom; cat {0}"
	        run: "# the script text"
	EOF
	run_job &&
	test_grep "^| perl says 5$" out &&
	test_grep "^| custom$" out &&
	test_grep "^| # the script text$" out
'

test_expect_success 'defaults.run.shell applies: job over workflow' '
	write_workflow repo ci <<-\EOF &&
	on: push
	defaults:
	  run:
	    shell: bash
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    defaults:
	      run:
	        shell: sh
	    steps:
	      - run: echo "shell=${BASH_VERSION:-sh}"
	EOF
	run_job &&
	test_grep "^| shell=sh$" out
'

test_expect_success 'working-directory: step over job defaults over workflow defaults' '
	mkdir -p repo/a repo/b repo/c &&
	echo a >repo/a/f && echo b >repo/b/f && echo c >repo/c/f &&
	git -C repo add a b c && git -C repo commit -q -m dirs &&
	write_workflow repo ci <<-\EOF &&
	on: push
	defaults:
	  run:
	    working-directory: a
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "wf=$(cat f)"
	      - run: echo "step=$(cat f)"
	        working-directory: c
	EOF
	run_job &&
	test_grep "^| wf=a$" out &&
	test_grep "^| step=c$" out &&
	write_workflow repo ci <<-\EOF &&
	on: push
	defaults:
	  run:
	    working-directory: a
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    defaults:
	      run:
	        working-directory: b
	    steps:
	      - run: echo "job=$(cat f)"
	EOF
	run_job &&
	test_grep "^| job=b$" out
'

test_expect_success 'a missing working-directory fails the step clearly' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo hi
	        working-directory: nope
	EOF
	test_expect_code 1 run_job &&
	test_grep "^error: working-directory .*nope. does not exist" out
'

test_expect_success 'steps read /dev/null, not kiln stdin' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          n=$(cat | wc -c)
	          echo "stdin-bytes=$n"
	EOF
	(cd repo && echo "secret input" | kiln debug job --run-dir "$TRASH/run" .github/workflows/ci.yml build) >out &&
	test_grep "^| stdin-bytes=0$" out
'

test_expect_success 'step names: name: is evaluated, the default is Run <first line>' '
	write_workflow repo ci <<-\EOF &&
	on: push
	env:
	  WHO: world
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - name: Greet ${{ env.WHO }}
	        run: true
	      - run: |

	          echo first
	          echo second
	EOF
	run_job &&
	test_grep "^> Greet world$" out &&
	test_grep "^> Run echo first$" out
'

test_expect_success 'defaults.run.shell may be an expression (env, matrix contexts)' '
	write_workflow repo ci <<-\EOF &&
	on: push
	env:
	  MY_SHELL: sh
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    defaults:
	      run:
	        shell: ${{ env.MY_SHELL }}
	    steps:
	      - run: if [ -z "${BASH+x}" ]; then echo "plain sh"; fi
	  other:
	    runs-on: ubuntu-latest
	    defaults:
	      run:
	        shell: ${{ matrix.sh }}
	    strategy:
	      matrix:
	        sh: [bash]
	    steps:
	      - run: echo "bash=$BASH_VERSION" | grep -q "bash=[0-9]" && echo "in bash"
	EOF
	run_job &&
	test_grep "^| plain sh$" out &&
	(cd repo && kiln run -j other --no-history) >out 2>&1 &&
	test_grep "in bash$" out
'

test_expect_success PYTHON 'a step script is emptied when its step ends and rewritten whole by the next' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          # a long first script with secret-looking text: sEcReT-42
	          # padding padding padding padding padding padding padding padding padding
	          echo "first ran"
	      - shell: python
	        run: |
	          import os
	          p = os.path.join(os.environ["RUNNER_TEMP"], ".kiln-step.sh")
	          print("bash script bytes after its step:", os.path.getsize(p))
	      - run: echo "short"; grep -c "sEc[R]eT" "$0" || echo "no leftover"
	EOF
	run_job &&
	test_grep "first ran" out &&
	test_grep "bash script bytes after its step: 0$" out &&
	test_grep "| short$" out &&
	test_grep "^| 0$" out &&
	test_grep "^| no leftover$" out
'

test_done
