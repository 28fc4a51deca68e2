#!/bin/bash
test_description='remote and $/ reusable workflows, $/ actions of the run'"'"'s own repository, nesting limits'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-remote.sh"

# acme/flows: a reusable workflow with inputs, secrets and outputs that
# calls a sibling through $/ and uses an action of its own repository
action_repo acme/flows
mkdir -p work/acme/flows/.github/workflows work/acme/flows/tools/greet
cat >work/acme/flows/.github/workflows/build.yml <<-\EOF
on:
  workflow_call:
    inputs:
      target: { type: string, required: true }
      debug: { type: boolean, default: false }
    secrets:
      API_KEY: { required: true }
    outputs:
      artifact:
        value: ${{ jobs.compile.outputs.artifact }}
      inner:
        value: ${{ jobs.deeper.outputs.said }}
jobs:
  compile:
    runs-on: ubuntu-latest
    outputs:
      artifact: ${{ steps.c.outputs.name }}
    steps:
      - id: c
        run: |
          echo "compile ${{ inputs.target }} debug=${{ inputs.debug }} key-len=${#KEY}"
          echo "name=${{ inputs.target }}.bin" >>"$GITHUB_OUTPUT"
        env:
          KEY: ${{ secrets.API_KEY }}
      - uses: $/tools/greet
        with: { who: "${{ inputs.target }}" }
  deeper:
    uses: $/.github/workflows/inner.yml
EOF
cat >work/acme/flows/.github/workflows/inner.yml <<-\EOF
on:
  workflow_call:
    outputs:
      said: { value: "${{ jobs.say.outputs.said }}" }
jobs:
  say:
    runs-on: ubuntu-latest
    outputs:
      said: ${{ steps.s.outputs.said }}
    steps:
      - id: s
        run: echo "said=inner-of-flows" >>"$GITHUB_OUTPUT"
EOF
cat >work/acme/flows/tools/greet/action.yml <<-\EOF
inputs:
  who: { description: who }
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "greet ${{ inputs.who }} from $GITHUB_ACTION_REPOSITORY@$GITHUB_ACTION_REF"
EOF
commit_all acme/flows one
git -C work/acme/flows tag v2
publish acme/flows

test_create_repo repo
mkdir -p repo/.github/actions/local
cat >repo/.github/actions/local/action.yml <<-\EOF
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "self action at $GITHUB_ACTION_REF"
EOF
write_workflow repo ci <<-\EOF
on: push
jobs:
  call:
    uses: acme/flows/.github/workflows/build.yml@v2
    with:
      target: linux
    secrets: inherit
  use:
    needs: call
    runs-on: ubuntu-latest
    steps:
      - run: echo "artifact=${{ needs.call.outputs.artifact }} inner=${{ needs.call.outputs.inner }}"
  self:
    runs-on: ubuntu-latest
    steps:
      - uses: $/.github/actions/local
  selfcall:
    uses: $/.github/workflows/local.yml
EOF
write_workflow repo local <<-\EOF
on: workflow_call
jobs:
  here:
    runs-on: ubuntu-latest
    steps:
      - run: echo "local reusable via \$/"
EOF

test_expect_success 'a remote reusable workflow: inputs, secrets: inherit, outputs, $/ inside it' '
	use_home a &&
	(cd repo && kiln run -s API_KEY=abcdef --github-instance "$SRV") >out 2>&1 &&
	test_grep "compile linux debug=false key-len=6" out &&
	test_grep "greet linux from acme/flows@v2" out &&
	test_grep "artifact=linux.bin inner=inner-of-flows" out
'

test_expect_success '$/ at the workflow level: the run'"'"'s repository at its commit, no checkout' '
	use_home a &&
	sha=$(git -C repo rev-parse HEAD) &&
	test_grep "self action at $sha" out &&
	test_grep "local reusable via \$/" out
'

test_expect_success '$/ reads the commit, not the work tree' '
	use_home a &&
	sed -i "s/self action at/dirty action at/" repo/.github/actions/local/action.yml &&
	(cd repo && kiln run -j self --github-instance "$SRV") >out 2>&1 &&
	test_grep "self action at" out &&
	test_grep -v "dirty action at" out &&
	git -C repo checkout -q .github/actions/local/action.yml
'

test_expect_success 'kiln run -l lists a workflow calling a remote reusable workflow' '
	use_home cold &&
	(cd repo && kiln run -l --github-instance "$TRASH/nowhere") >out 2>&1 &&
	test_grep "call" out &&
	test_grep "use" out
'

test_expect_success 'a missing remote reusable workflow: error at its uses:, exit 2' '
	use_home a &&
	write_workflow repo bad <<-\EOF &&
	on: push
	jobs:
	  call:
	    uses: acme/flows/.github/workflows/nope.yml@v2
	EOF
	(cd repo && test_expect_code 2 kiln run -W .github/workflows/bad.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "bad.yml:4:11: error: job .call.: .acme/flows@v2. has no file .\.github/workflows/nope.yml." out &&
	git -C repo rm -q .github/workflows/bad.yml && git -C repo commit -q -m rm
'

test_expect_success 'a matrix of remote reusable workflow calls: one call per combination' '
	use_home a &&
	write_workflow repo matrix <<-\EOF &&
	on: push
	jobs:
	  build:
	    strategy:
	      matrix:
	        os: [linux, bsd]
	        debug: [true]
	    uses: acme/flows/.github/workflows/build.yml@v2
	    with:
	      target: ${{ matrix.os }}
	      debug: ${{ matrix.debug }}
	    secrets:
	      API_KEY: k${{ matrix.os }}
	  after:
	    needs: build
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "after=${{ needs.build.result }} artifact=${{ needs.build.outputs.artifact }}"
	EOF
	(cd repo && kiln run -W .github/workflows/matrix.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "^\[build (linux, true) / compile\] compile linux debug=true key-len=6" out &&
	test_grep "^\[build (bsd, true) / compile\] compile bsd debug=true key-len=4" out &&
	test_grep "after=success artifact=\(bsd\|linux\).bin" out &&
	(cd repo && kiln run -l -W .github/workflows/matrix.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "build (linux, true)" out &&
	test_grep "build (bsd, true)" out
'

test_expect_success 'the instances of a call matrix run at the same time' '
	use_home a &&
	mkdir -p meet &&
	cat >repo/.github/workflows/pair.yml <<-EOF &&
	on:
	  workflow_call:
	    inputs:
	      me: { type: string }
	      other: { type: string }
	jobs:
	  meet:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          touch "$TRASH/meet/\${{ inputs.me }}"
	          for i in \$(seq 300); do
	            test -e "$TRASH/meet/\${{ inputs.other }}" && echo "\${{ inputs.me }} met" && exit 0
	            sleep 0.1
	          done
	          echo "\${{ inputs.me }} alone"
	EOF
	write_workflow repo pairs <<-\EOF &&
	on: push
	jobs:
	  pair:
	    strategy:
	      matrix:
	        include:
	          - { me: a, other: b }
	          - { me: b, other: a }
	    uses: ./.github/workflows/pair.yml
	    with: { me: "${{ matrix.me }}", other: "${{ matrix.other }}" }
	EOF
	(cd repo && kiln run -W .github/workflows/pairs.yml) >out 2>&1 &&
	test_grep "a met" out &&
	test_grep "b met" out
'

test_expect_success 'a failing instance of a call matrix: fail-fast cancels the rest' '
	use_home a &&
	write_workflow repo matrix <<-\EOF &&
	on: push
	jobs:
	  build:
	    strategy:
	      matrix:
	        include:
	          - { os: bsd, debug: nope }
	          - { os: linux, debug: true }
	    uses: acme/flows/.github/workflows/build.yml@v2
	    with:
	      target: ${{ matrix.os }}
	      debug: ${{ matrix.debug }}
	    secrets: inherit
	EOF
	(cd repo && test_expect_code 1 kiln run -W .github/workflows/matrix.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "job .build.: cannot call: input .debug. must be a boolean" out &&
	test_grep "build (linux, true).*not started" out &&
	test_grep -v "compile linux" out
'

test_expect_success 'nesting deeper than GitHub'"'"'s ten levels is an error' '
	use_home a &&
	mkdir -p deep/.github/workflows &&
	git -C deep init -q &&
	for i in $(seq 1 10); do
		cat >deep/.github/workflows/l$i.yml <<-EOF
		on: workflow_call
		jobs:
		  next:
		    uses: ./.github/workflows/l$((i + 1)).yml
		EOF
	done &&
	cat >deep/.github/workflows/l11.yml <<-\EOF &&
	on: workflow_call
	jobs:
	  leaf:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo leaf
	EOF
	cat >deep/.github/workflows/ci.yml <<-\EOF &&
	on: push
	jobs:
	  top:
	    uses: ./.github/workflows/l1.yml
	EOF
	git -C deep add . && git -C deep commit -q -m deep &&
	(cd deep && test_expect_code 2 kiln run -W .github/workflows/ci.yml) >out 2>&1 &&
	test_grep "l9.yml:4:11: error: job .next.: reusable workflows are nested too deeply (GitHub allows 10 levels: the caller and 9 called)" out &&
	rm deep/.github/workflows/l10.yml deep/.github/workflows/l11.yml &&
	cat >deep/.github/workflows/l9.yml <<-\EOF &&
	on: workflow_call
	jobs:
	  leaf:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo leaf-at-nine
	EOF
	git -C deep add -A && git -C deep commit -q -m nine &&
	(cd deep && kiln run -W .github/workflows/ci.yml) >out 2>&1 &&
	test_grep "leaf-at-nine" out
'

test_done
