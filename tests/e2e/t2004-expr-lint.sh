#!/bin/bash
# kiln lint parses every expression with the contexts and functions GitHub
# allows at its key (docs: "Contexts > Context availability") and reports
# problems as file:line:col with the column inside the expression.
test_description='kiln lint: expression syntax and context availability'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'contexts used where GitHub allows them lint clean' '
	cat >ok.yml <<-\EOF &&
	name: ok
	run-name: deploy ${{ inputs.env || github.ref_name }} by ${{ github.actor }}
	on:
	  push:
	  workflow_call:
	    inputs:
	      env: { type: string, default: "${{ vars.DEFAULT_ENV }}" }
	env:
	  TOKEN: ${{ secrets.TOKEN }}
	jobs:
	  build:
	    if: github.event_name == '"'"'push'"'"' && !cancelled()
	    runs-on: ${{ matrix.os }}
	    strategy:
	      matrix:
	        os: ${{ fromJSON(vars.OSES) }}
	    container:
	      image: node:${{ matrix.node }}
	      credentials:
	        password: ${{ secrets.REGISTRY_PASSWORD }}
	    outputs:
	      v: ${{ steps.ver.outputs.v }}
	    steps:
	      - id: ver
	        run: echo "v=${{ hashFiles('"'"'**/go.sum'"'"') }}" >>"$GITHUB_OUTPUT"
	      - if: failure() && steps.ver.outcome == '"'"'failure'"'"'
	        run: echo ${{ runner.os }} ${{ job.status }} ${{ env.TOKEN }}
	        env:
	          X: ${{ format('"'"'{0}-{1}'"'"', matrix.os, strategy.job-index) }}
	  after:
	    needs: build
	    if: always() && needs.build.result == '"'"'success'"'"'
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo ${{ needs.build.outputs.v }}
	EOF
	kiln lint ok.yml >out 2>&1 &&
	test_must_be_empty out
'

test_expect_success 'a context not available at the key: error at its column, exit 2' '
	cat >ctx.yml <<-\EOF &&
	on: push
	jobs:
	  build:
	    if: matrix.os == '"'"'linux'"'"'
	    runs-on: ubuntu-latest
	    steps:
	      - if: ${{ secrets.TOKEN != '"'"''"'"' }}
	        run: echo ${{ steps.a.outputs.b }}
	EOF
	test_expect_code 2 kiln lint ctx.yml >out 2>&1 &&
	test_grep "^ctx.yml:4:9: error: Unrecognized named-value: '"'"'matrix'"'"'. Located at position 1 within expression: matrix.os" out &&
	test_grep "in '"'"'jobs.<job_id>.if'"'"' only these contexts are available: github, vars, needs, inputs" out &&
	test_grep "^ctx.yml:7:17: error: Unrecognized named-value: '"'"'secrets'"'"'" out &&
	test $(grep -c error: out) = 2
'

test_expect_success 'matrix is not available in strategy; hashFiles not in runs-on' '
	cat >strat.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: ${{ hashFiles('"'"'x'"'"') }}
	    strategy:
	      max-parallel: ${{ matrix.n }}
	      matrix: { n: [1] }
	    steps:
	      - run: true
	EOF
	test_expect_code 2 kiln lint strat.yml >out 2>&1 &&
	test_grep "^strat.yml:4:18: error: Unrecognized function: '"'"'hashFiles'"'"'" out &&
	test_grep "^strat.yml:6:25: error: Unrecognized named-value: '"'"'matrix'"'"'" out
'

test_expect_success 'syntax errors point into the expression' '
	cat >syn.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo ${{ github.event_name == }}
	      - run: echo ${{ github.ref }} ${{ foo.bar }}
	      - run: echo ${{ contains(github.ref) }}
	      - run: echo ${{ 1 = 2 }}
	EOF
	test_expect_code 2 kiln lint syn.yml >out 2>&1 &&
	test_grep "^syn.yml:6:41: error: Unexpected end of expression: '"'"'=='"'"'" out &&
	test_grep "^syn.yml:7:41: error: Unrecognized named-value: '"'"'foo'"'"'" out &&
	test_grep "^syn.yml:8:23: error: Too few parameters supplied: '"'"'contains'"'"'" out &&
	test_grep "^syn.yml:9:25: error: Unexpected symbol: '"'"'='"'"'" out
'

test_done
