#!/bin/bash
test_description='kiln run: reusable workflows of the same repository (workflow_call)'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup: a callee with typed inputs, secrets and outputs' '
	test_create_repo repo &&
	write_workflow repo build <<-\EOF
	on:
	  workflow_call:
	    inputs:
	      target:
	        type: string
	        required: true
	      debug:
	        type: boolean
	        default: false
	      level:
	        type: number
	        default: 3
	    secrets:
	      token:
	        required: false
	    outputs:
	      artifact:
	        value: ${{ jobs.compile.outputs.art }}
	      size:
	        value: ${{ jobs.package.outputs.size }}
	jobs:
	  compile:
	    runs-on: ubuntu-latest
	    outputs:
	      art: ${{ steps.c.outputs.art }}
	    steps:
	      - id: c
	        run: |
	          echo "target=${{ inputs.target }} debug=${{ inputs.debug }} level=${{ inputs.level }}"
	          echo "types=${{ inputs.debug == false }}/${{ inputs.level == 3 }}"
	          echo "art=${{ inputs.target }}.tar" >>"$GITHUB_OUTPUT"
	      - run: echo "token=${{ secrets.token }} len=${#TOK}"
	        env:
	          TOK: ${{ secrets.token }}
	  package:
	    needs: compile
	    runs-on: ubuntu-latest
	    outputs:
	      size: ${{ steps.p.outputs.size }}
	    steps:
	      - id: p
	        run: echo "size=42" >>"$GITHUB_OUTPUT"
	EOF
'

test_expect_success 'inputs (given, defaults, types) and outputs cross the call' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  prep:
	    runs-on: ubuntu-latest
	    outputs:
	      t: ${{ steps.s.outputs.t }}
	    steps:
	      - id: s
	        run: echo "t=linux" >>"$GITHUB_OUTPUT"
	  call:
	    needs: prep
	    uses: ./.github/workflows/build.yml
	    with:
	      target: ${{ needs.prep.outputs.t }}
	  after:
	    needs: call
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "got ${{ needs.call.outputs.artifact }} size ${{ needs.call.outputs.size }} result ${{ needs.call.result }}"
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "^\[call / compile\] target=linux debug=false level=3$" out &&
	test_grep "^\[call / compile\] types=true/true$" out &&
	test_grep "^\[after\] got linux.tar size 42 result success$" out &&
	test_grep "^call / compile  *success" out &&
	test_grep "^call / package  *success" out &&
	test_grep "^run success" out
'

test_expect_success 'literal inputs of each type; secrets: inherit is masked' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  call:
	    name: Build it
	    uses: ./.github/workflows/build.yml
	    with:
	      target: arm
	      debug: true
	      level: 7
	    secrets: inherit
	EOF
	(cd repo && kiln run -s token=s3cr3t-inherit-val) >out 2>err &&
	test_grep "^\[Build it / compile\] target=arm debug=true level=7$" out &&
	test_grep "^\[Build it / compile\] token=\*\*\* len=18$" out &&
	! grep -r "s3cr3t-inherit-val" out err
'

test_expect_success 'an explicit secrets mapping; without it the callee sees none' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  mapped:
	    uses: ./.github/workflows/build.yml
	    with:
	      target: x
	    secrets:
	      token: ${{ secrets.OTHER }}
	  bare:
	    uses: ./.github/workflows/build.yml
	    with:
	      target: y
	EOF
	(cd repo && kiln run -s OTHER=mapped-pw-123 -s token=not-passed-pw) >out 2>err &&
	test_grep "^\[mapped / compile\] token=\*\*\* len=13$" out &&
	test_grep "^\[bare / compile\] token= len=0$" out &&
	! grep -r "mapped-pw-123" out err
'

test_expect_success 'a failing callee job fails the caller and skips its dependents' '
	write_workflow repo bad <<-\EOF &&
	on: workflow_call
	jobs:
	  boom:
	    runs-on: ubuntu-latest
	    steps:
	      - run: exit 3
	  later:
	    needs: boom
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo never-later
	EOF
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  call:
	    uses: ./.github/workflows/bad.yml
	  after:
	    needs: call
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo never-after
	  cleanup:
	    needs: call
	    if: failure()
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "cleanup sees ${{ needs.call.result }}"
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "^call / boom  *failure" out &&
	test_grep "^call / later  *skipped" out &&
	test_grep "^after  *skipped" out &&
	test_grep "^\[cleanup\] cleanup sees failure$" out &&
	! grep never- out
'

test_expect_success 'bad calls are input errors (exit 2) at file:line:col' '
	write_workflow repo plain <<-\EOF &&
	on: push
	jobs:
	  j:
	    runs-on: ubuntu-latest
	    steps:
	      - run: "true"
	EOF
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  nofile:
	    uses: ./.github/workflows/nope.yml
	  notcall:
	    uses: ./.github/workflows/plain.yml
	  unknown:
	    uses: ./.github/workflows/build.yml
	    with:
	      target: a
	      colour: red
	  missing:
	    uses: ./.github/workflows/build.yml
	    with:
	      debug: true
	  mistyped:
	    uses: ./.github/workflows/build.yml
	    with:
	      target: a
	      debug: maybe
	      level: high
	  remote:
	    uses: octo/other/.github/workflows/x.yml@v1
	  matrix:
	    strategy:
	      matrix:
	        t: [a, b]
	    uses: ./.github/workflows/build.yml
	    with:
	      target: ${{ matrix.t }}
	EOF
	test_expect_code 2 env -C repo KILN_GITHUB_URL="$TRASH/nowhere" kiln run >out 2>err &&
	test_grep "ci.yml:4:11: error: job .nofile.: reusable workflow .*nope.yml. not found" err &&
	test_grep "ci.yml:6:11: error: job .notcall.: .*plain.yml. is not a reusable workflow (no .on: workflow_call.)" err &&
	test_grep "ci.yml:11:7: error: job .unknown.: .*build.yml. has no input .colour." err &&
	test_grep "ci.yml:13:11: error: job .missing.: required input .target. of .*build.yml. is not given" err &&
	test_grep "ci.yml:20:14: error: job .mistyped.: input .debug. must be a boolean" err &&
	test_grep "ci.yml:21:14: error: job .mistyped.: input .level. must be a number" err &&
	test_grep "ci.yml:23:11: error: job .remote.: cannot resolve action .octo/other@v1.: no repository at .$TRASH/nowhere/octo/other." err &&
	test_must_be_empty out
'

test_expect_success 'an input whose expression has the wrong type fails the caller at run time' '
	git -C repo rm -q .github/workflows/plain.yml &&
	git -C repo commit -q -m "no plain" &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  call:
	    uses: ./.github/workflows/build.yml
	    with:
	      target: a
	      level: ${{ github.ref }}
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "ci.yml:4:11: job .call.: cannot call: input .level. must be a number" out &&
	test_grep "^call  *failure" out &&
	! grep "call / compile" out
'

test_expect_success 'SIGINT during a callee job cancels the call; always() dependents see it' '
	export PROBE="$TRASH/p" &&
	mkdir p &&
	write_workflow repo slow <<-\EOF &&
	on: workflow_call
	jobs:
	  long:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo $PPID >"$PROBE/kilnpid" && echo started >"$PROBE/started"
	          sleep 60
	          echo finished >"$PROBE/finished"
	EOF
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  call:
	    uses: ./.github/workflows/slow.yml
	  report:
	    needs: call
	    if: always()
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "report ${{ needs.call.result }}" >"$PROBE/report"
	EOF
	env -C repo kiln run >p/out 2>p/err &
	job=$! &&
	for _ in $(seq 1 200); do test -e p/started && break; sleep 0.1; done &&
	pid=$(cat p/kilnpid) &&
	test "$(cat /proc/$pid/comm)" = kiln &&
	kill -INT $pid &&
	rc=0 && wait $job || rc=$? &&
	test "$rc" = 1 &&
	! test -e p/finished &&
	test_grep "report cancelled" p/report &&
	test_grep "^call / long  *cancelled" p/out &&
	test_grep "^run cancelled" p/out
'

test_done
