#!/bin/bash
test_description='kiln lint: ${{ }} located and checked at their exact position, in every YAML style'
. "$(dirname "$0")/../lib.sh"

lint_is() {
	test_expect_code 2 kiln lint "$1" >out && test_cmp expect out
}

# the same, comparing each message up to its first ". " (the expression
# parser adds where in the expression, which the column already says)
lint_first_sentence_is() {
	test_expect_code 2 kiln lint "$1" >out && sed "s/\. Located at.*//" out >first &&
	test_cmp expect first
}

test_expect_success 'unclosed and empty expressions' '
	cat >a.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - run: echo ${{ github.sha
	      - run: echo ${{ }}
	EOF
	cat >expect <<-\EOF &&
	a.yml:6:19: error: '"'"'${{'"'"' is not closed by '"'"'}}'"'"'
	a.yml:7:19: error: empty expression '"'"'${{ }}'"'"'
	EOF
	lint_is a.yml
'

test_expect_success 'syntax errors point into the expression, whatever the quoting' '
	cat >b.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - run: echo "${{ github.x == }}"
	      - run: '"'"'echo '"'"''"'"'${{ github.x == }}'"'"''"'"''"'"'
	      - run: "echo \"${{ github.x == }}\""
	      - run: |
	          echo one
	            echo ${{ fromJSON( }}
	      - run: >
	          folded line
	          and ${{ github.x == }}
	      - run: plain multi
	          line ${{ github.x == }}
	EOF
	cat >expect <<-\EOF &&
	b.yml:6:33: error: Unexpected end of expression: '"'"'=='"'"'
	b.yml:7:35: error: Unexpected end of expression: '"'"'=='"'"'
	b.yml:8:35: error: Unexpected end of expression: '"'"'=='"'"'
	b.yml:11:30: error: Unexpected end of expression: '"'"'('"'"'
	b.yml:14:28: error: Unexpected end of expression: '"'"'=='"'"'
	b.yml:16:29: error: Unexpected end of expression: '"'"'=='"'"'
	EOF
	lint_first_sentence_is b.yml
'

test_expect_success 'if: is an expression even without ${{ }}' '
	cat >c.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    if: github.ref == '"'"'x'"'"' &&
	    runs-on: x
	    steps:
	      - if: github.a && (b
	        run: x
	      - if: ${{ github.a ) }}
	        run: x
	      - if: always()
	        run: x
	EOF
	cat >expect <<-\EOF &&
	c.yml:4:27: error: Unexpected end of expression: '"'"'&&'"'"'
	c.yml:7:26: error: Unrecognized named-value: '"'"'b'"'"'
	c.yml:9:26: error: Unexpected symbol: '"'"')'"'"'
	EOF
	lint_first_sentence_is c.yml
'

test_expect_success 'expressions where GitHub allows none' '
	cat >d.yml <<-\EOF &&
	name: Build ${{ github.ref }}
	on: push
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - uses: actions/checkout@${{ github.sha }}
	      - run: x
	        shell: ${{ matrix.shell }}
	EOF
	cat >expect <<-\EOF &&
	d.yml:1:13: error: expressions are not allowed in '"'"'name'"'"'
	d.yml:7:15: error: expressions are not allowed in '"'"'uses'"'"'
	d.yml:9:16: error: expressions are not allowed in '"'"'shell'"'"'
	EOF
	lint_is d.yml
'

test_expect_success 'the insert directive only as a whole key' '
	cat >e.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	    env:
	      A: "bad ${{ insert }}"
	    steps:
	      - run: x
	EOF
	echo "e.yml:6:15: error: the '"'"'insert'"'"' directive is only allowed as a whole mapping key" >expect &&
	lint_is e.yml
'

test_expect_success 'every expression is located with its key path' '
	cat >f.yml <<-\EOF &&
	run-name: Deploy ${{ github.ref_name }}
	on: push
	env:
	  GLOBAL: ${{ vars.X }}
	jobs:
	  a:
	    if: github.event_name == '"'"'push'"'"'
	    runs-on: ${{ matrix.os }}
	    strategy:
	      matrix:
	        os: [ubuntu-latest]
	    outputs:
	      v: ${{ steps.s.outputs.v }}
	    steps:
	      - id: s
	        run: echo "v=${{ hashFiles('"'"'**/x'"'"') }}" >> "$GITHUB_OUTPUT"
	        with:
	          k: ${{ env.A }}
	EOF
	test_expect_code 2 kiln lint f.yml >/dev/null &&
	sed -i "/with:/d; /k: /d" f.yml &&
	kiln debug workflow f.yml >out &&
	grep "^expr" out >actual &&
	cat >expect <<-\EOF &&
	expr 1:21 run-name:  github.ref_name 
	expr 4:14 env:  vars.X 
	expr 7:9 jobs.<job_id>.if: github.event_name == '"'"'push'"'"'
	expr 8:17 jobs.<job_id>.runs-on:  matrix.os 
	expr 13:13 jobs.<job_id>.outputs:  steps.s.outputs.v 
	expr 16:25 jobs.<job_id>.steps.run:  hashFiles('"'"'**/x'"'"') 
	EOF
	test_cmp expect actual
'

test_expect_success 'quotes and }} inside string literals do not end an expression' '
	cat >g.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - run: echo ${{ format('"'"'{0} }} {1}'"'"', '"'"'it'"'"''"'"'s'"'"', github.sha) }}
	EOF
	kiln lint g.yml >out && test_must_be_empty out
'

test_expect_success 'under on: only workflow_call input defaults and output values take expressions' '
	cat >h.yml <<-\EOF &&
	on:
	  push:
	    branches: ["${{ github.x }}"]
	  workflow_call:
	    inputs:
	      name:
	        type: string
	        default: ${{ github.actor }}
	        description: ${{ github.x }}
	    outputs:
	      out:
	        value: ${{ jobs.a.outputs.v }}
	jobs:
	  a:
	    runs-on: x
	EOF
	cat >expect <<-\EOF &&
	h.yml:3:17: error: expressions are not allowed in '"'"'on'"'"'
	h.yml:9:22: error: expressions are not allowed in '"'"'on'"'"'
	EOF
	lint_is h.yml
'

test_expect_success 'escapes and line breaks of double-quoted scalars keep columns exact' '
	cp "$SRC_ROOT/tests/data/lint/double-quoted.yml" dq.yml &&
	cat >expect <<-\EOF &&
	dq.yml:6:59: error: Unexpected end of expression: '"'"'=='"'"'
	dq.yml:8:31: error: Unexpected end of expression: '"'"'=='"'"'
	dq.yml:10:33: error: Unexpected end of expression: '"'"'=='"'"'
	EOF
	lint_first_sentence_is dq.yml
'

test_expect_success 'no expressions in workflow-level defaults (found by fuzzing: a crash)' '
	printf "on: push\ndefaults:\n  run:\n    shell: \${{ x }}\njobs:\n  a:\n    runs-on: x\n" >i.yml &&
	echo "i.yml:4:12: error: expressions are not allowed in '"'"'defaults.run'"'"'" >expect &&
	lint_is i.yml
'

test_done
