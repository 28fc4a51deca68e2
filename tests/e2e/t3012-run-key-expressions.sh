#!/bin/bash
# Expressions in mapping keys and the `${{ insert }}` directive, where
# GitHub's parser allows them (mappings with contexts: env, with, outputs,
# strategy.matrix, ...): checked by kiln lint, evaluated when the job runs;
# a clear file:line:col error where keys cannot be expressions.
test_description='mapping keys with expressions and ${{ insert }}: lint and run'
. "$(dirname "$0")/../lib.sh"

ACT="$SHARED_DIR/peers/act-runner-testdata"

test_expect_success 'setup' '
	test_create_repo repo &&
	mkdir -p repo/act1 &&
	cat >repo/act1/action.yml <<-\EOF &&
	inputs:
	  alpha: {default: a0}
	  beta: {default: b0}
	outputs:
	  both: {value: "${{ inputs.alpha }}+${{ inputs.beta }}"}
	runs:
	  using: composite
	  steps:
	    - run: echo "alpha=${{ inputs.alpha }} beta=${{ inputs.beta }}"
	      shell: bash
	EOF
	git -C repo add act1 && git -C repo commit -q -m action
'

test_expect_success 'env, with and outputs keys: expressions and insert, at every level' '
	write_workflow repo ci <<-\EOF &&
	on: push
	env:
	  ${{ github.event_name }}_KIND: wf
	  ${{ insert }}:
	    WF_INS: literal map
	jobs:
	  generate:
	    runs-on: ubuntu-latest
	    outputs:
	      map: ${{ steps.s.outputs.m }}
	      ${{ format('\''{0}-out'\'', '\''dyn'\'') }}: value
	      ${{ insert }}: ${{ fromJSON('\''{"inserted":"io"}'\'') }}
	    steps:
	      - id: s
	        run: echo '\''m={"FROM_MAP":"one","OTHER":"two"}'\'' >>"$GITHUB_OUTPUT"
	  run:
	    runs-on: ubuntu-latest
	    needs: generate
	    env:
	      ${{ insert }}: ${{ fromJson(needs.generate.outputs.map) }}
	      JOB_${{ needs.generate.outputs.dyn-out }}: v
	    steps:
	      - run: echo "from=$FROM_MAP other=$OTHER job=$JOB_value kind=$push_KIND ins=$WF_INS step=$STEP_X out=${{ needs.generate.outputs.inserted }}"
	        env:
	          STEP_${{ '\''X'\'' }}: sx
	      - uses: ./act1
	        with:
	          ${{ '\''alpha'\'' }}: A
	          ${{ insert }}: ${{ fromJSON('\''{"beta":"B"}'\'') }}
	EOF
	(cd repo && kiln lint) &&
	(cd repo && kiln run --no-history) >out 2>err &&
	test_grep "^\[run\] from=one other=two job=v kind=wf ins=literal map step=sx out=io$" out &&
	test_grep "^\[run\] alpha=A beta=B$" out
'

test_expect_success 'matrix: an expression key from needs, inserted maps, spliced arrays' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  prepare:
	    runs-on: ubuntu-latest
	    outputs:
	      name: flavour
	      values: "[\"a\", \"b\"]"
	    steps:
	      - run: "true"
	  m:
	    needs: prepare
	    runs-on: ubuntu-latest
	    strategy:
	      matrix:
	        ${{ needs.prepare.outputs.name }}: ${{ fromJSON(needs.prepare.outputs.values) }}
	        ${{ insert }}:
	          size: [s]
	        cfg:
	          - env: {k1: v1}
	          - ${{ fromJSON('\''[{"env":{"k2":"v2"}}]'\'') }}
	    steps:
	      - run: echo "flavour=${{ matrix.flavour }} size=${{ matrix.size }} cfg=${{ toJSON(matrix.cfg.env) }}" | tr -d "\n "
	EOF
	(cd repo && kiln lint) &&
	(cd repo && kiln run -l) >out 2>err &&
	test_grep "^1  *m  *m (matrix known when the job starts)  *ci.yml  *prepare$" out &&
	(cd repo && kiln run --no-history) >out 2>err &&
	test_grep "^\[m (a, s, v1)\] flavour=asize=scfg={k1:v1}$" out &&
	test_grep "^\[m (b, s, v2)\] flavour=bsize=scfg={k2:v2}$" out &&
	test $(grep -c "^m (.*success" out) = 4
'

test_expect_success 'a reusable workflow call: with and secrets keys from expressions and insert' '
	write_workflow repo callee <<-\EOF &&
	on:
	  workflow_call:
	    inputs:
	      first: {type: string, required: true}
	      second: {type: number}
	    secrets:
	      token: {required: false}
	jobs:
	  show:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "first=${{ inputs.first }} second=${{ inputs.second }} token=${{ secrets.token != '\'''\'' }}"
	EOF
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  call:
	    uses: ./.github/workflows/callee.yml
	    with:
	      ${{ format('\''{0}st'\'', '\''fir'\'') }}: one
	      ${{ insert }}: ${{ fromJSON('\''{"second":2}'\'') }}
	    secrets:
	      ${{ insert }}:
	        token: shh
	  bad:
	    uses: ./.github/workflows/callee.yml
	    with:
	      ${{ '\''third'\'' }}: x
	EOF
	(cd repo && kiln lint) &&
	test_expect_code 1 env -C repo kiln run --no-history >out 2>err &&
	test_grep "^\[call / show\] first=one second=2 token=true$" out &&
	test_grep "has no input .third." out
'

test_expect_success 'an insert that is not a mapping, a key defined twice: the job fails with the reason' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  bad:
	    runs-on: ubuntu-latest
	    env:
	      ${{ insert }}: ${{ '\''not a map'\'' }}
	    steps:
	      - run: echo never-bad
	  dup:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo never-dup
	        env:
	          FOO: 1
	          ${{ '\''foo'\'' }}: 2
	  ok:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo fine
	  mat:
	    runs-on: ubuntu-latest
	    strategy:
	      matrix:
	        os: [a]
	        ${{ insert }}: ${{ fromJSON('\''[1]'\'') }}
	    steps:
	      - run: echo never-mat
	EOF
	test_expect_code 1 env -C repo kiln run --no-history >out 2>err &&
	test_grep "\[bad\] error: .*ci.yml:6:22: the value of .\${{ insert }}. must be a mapping, not a string" out &&
	test_grep "error: .*ci.yml:15:11: .foo. is already defined" out &&
	test_grep "ci.yml:6:22: error: the value of .\${{ insert }}. must be a mapping, not a string \[bad\]" out &&
	! grep -q "^\[.*\] never" out &&
	test_grep "^\[ok\] fine$" out &&
	test_grep "\[mat\] error: .*ci.yml:25:24: the value of .\${{ insert }}. must be a mapping, not an array" out
'

test_expect_success 'lint: keys cannot be expressions where GitHub has no contexts (file:line:col)' '
	mkdir -p lint && cat >lint/bad.yml <<-\EOF &&
	on:
	  push:
	    ${{ github.ref }}: x
	permissions:
	  ${{ github.ref }}: read
	jobs:
	  a:
	    runs-on: ubuntu-latest
	    ${{ github.ref }}: x
	    env:
	      pre-${{ insert }}: 1
	      ${{ steps.nope }}: 1
	    steps:
	      - run: x
	        ${{ insert }}: {}
	EOF
	test_expect_code 2 kiln lint lint/bad.yml >err 2>&1 &&
	test_grep "bad.yml:3:5: error: expressions are not allowed in keys (in event .push.)" err &&
	test_grep "bad.yml:5:3: error: expressions are not allowed in keys (in permissions)" err &&
	test_grep "bad.yml:9:5: error: expressions are not allowed in keys (in job .a.)" err &&
	test_grep "bad.yml:11:11: error: the .insert. directive is only allowed as a whole mapping key" err &&
	test_grep "bad.yml:12:11: error: Unrecognized named-value: .steps." err &&
	test_grep "bad.yml:15:9: error: expressions are not allowed in keys (in a step)" err &&
	test $(wc -l <err) = 6
'

test_expect_success 'debug workflow --json shows the insert directive as GitHub does' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  j:
	    runs-on: ubuntu-latest
	    env:
	      ${{ insert }}: ${{ fromJson(github.event.x) }}
	    steps:
	      - run: x
	EOF
	(cd repo && kiln debug workflow --json .github/workflows/ci.yml) >out &&
	test_grep "{\"Key\":{\"type\":4,\"directive\":\"insert\"},\"Value\":{\"type\":3,\"expr\":\"fromJson(github.event.x)\"}}" out
'

for c in evalmatrixneeds2 evalmatrix-merge-map evalmatrix-merge-array; do
	test_expect_success "act's $c case passes" '
		test -f "$ACT/'$c'/push.yml" || { say "skipped: $ACT not found"; return 0; }
		test_create_repo '$c' &&
		mkdir -p '$c'/.github/workflows &&
		cp "$ACT/'$c'/push.yml" '$c'/.github/workflows/ &&
		git -C '$c' add .github && git -C '$c' commit -q -m act &&
		(cd '$c' && kiln lint && kiln run --no-history) >out 2>err &&
		test_grep "^run success" out
	'
done

test_done
