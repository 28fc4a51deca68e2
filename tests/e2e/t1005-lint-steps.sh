#!/bin/bash
test_description='kiln lint: steps (run/uses, action references, step-only keys)'
. "$(dirname "$0")/../lib.sh"

lint_is() {
	test_expect_code 2 kiln lint "$1" >out && test_cmp expect out
}

test_expect_success 'a step with both run and uses, or neither' '
	cat >a.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - run: make
	        uses: actions/checkout@v4
	      - name: nothing to do
	      - hello
	EOF
	cat >expect <<-\EOF &&
	a.yml:6:9: error: a step cannot have both '"'"'run'"'"' and '"'"'uses'"'"'
	a.yml:8:9: error: a step must have '"'"'run'"'"' or '"'"'uses'"'"'
	a.yml:9:9: error: a step must be a mapping, not a string
	EOF
	lint_is a.yml
'

test_expect_success 'uses syntax: GitHub conformance cases and more' '
	cat >b.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - uses: docker://alpine:3.8
	      - uses: actions/aws/ec2@main
	      - uses: ./.github/actions/my-action
	      - uses: $$docker://alpine:3.8
	      - uses: badrepo@invalid
	      - uses: docker://
	      - uses: actions/checkout
	      - uses: ""
	EOF
	cat >expect <<-\EOF &&
	b.yml:9:15: error: invalid action reference '"'"'$$docker://alpine:3.8'"'"': expected '"'"'{owner}/{repo}[/path]@{ref}'"'"', '"'"'./path'"'"' or '"'"'docker://image'"'"'
	b.yml:10:15: error: invalid action reference '"'"'badrepo@invalid'"'"': expected '"'"'{owner}/{repo}[/path]@{ref}'"'"', '"'"'./path'"'"' or '"'"'docker://image'"'"'
	b.yml:11:15: error: '"'"'uses'"'"' names no image after '"'"'docker://'"'"'
	b.yml:12:15: error: invalid action reference '"'"'actions/checkout'"'"': expected '"'"'{owner}/{repo}[/path]@{ref}'"'"', '"'"'./path'"'"' or '"'"'docker://image'"'"'
	b.yml:13:15: error: '"'"'uses'"'"' must not be empty
	EOF
	lint_is b.yml
'

test_expect_success 'run-only and uses-only keys' '
	cat >c.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - run: make
	        with:
	          x: 1
	      - uses: actions/checkout@v4
	        shell: bash
	        working-directory: sub
	EOF
	cat >expect <<-\EOF &&
	c.yml:7:9: error: key '"'"'with'"'"' is only allowed in a '"'"'uses'"'"' step
	c.yml:10:9: error: key '"'"'shell'"'"' is only allowed in a '"'"'run'"'"' step
	c.yml:11:9: error: key '"'"'working-directory'"'"' is only allowed in a '"'"'run'"'"' step
	EOF
	lint_is c.yml
'

test_expect_success 'every step key GitHub supports loads' '
	cat >d.yml <<-\EOF &&
	on: push
	defaults:
	  run:
	    shell: bash
	    working-directory: src
	jobs:
	  a:
	    runs-on: x
	    defaults:
	      run:
	        shell: sh
	    steps:
	      - id: build
	        name: Build ${{ matrix.os }}
	        if: success() && github.event_name == '"'"'push'"'"'
	        run: make
	        shell: python {0}
	        working-directory: ${{ github.workspace }}/sub
	        env:
	          A: 1
	        continue-on-error: true
	        timeout-minutes: 10
	      - uses: ./.github/actions/local
	        with:
	          token: ${{ secrets.TOKEN }}
	EOF
	kiln lint d.yml >out && test_must_be_empty out &&
	kiln debug workflow d.yml >out &&
	test_grep "^  step build run" out &&
	test_grep "^  step __self uses" out
'

test_done
