#!/bin/bash
test_description='kiln lint: job and step ids (GitHub rules), duplicates'
. "$(dirname "$0")/../lib.sh"

lint_is() {
	test_expect_code 2 kiln lint "$1" >out && test_cmp expect out
}

test_expect_success 'invalid job ids' '
	cat >a.yml <<-\EOF &&
	on: push
	jobs:
	  my.job:
	    runs-on: x
	  0job:
	    runs-on: x
	  __job:
	    runs-on: x
	  "":
	    runs-on: x
	  ok_job-2:
	    runs-on: x
	EOF
	cat >expect <<-\EOF &&
	a.yml:3:3: error: invalid job id '"'"'my.job'"'"': an id may only contain letters, digits, '"'"'_'"'"' and '"'"'-'"'"'
	a.yml:5:3: error: invalid job id '"'"'0job'"'"': an id must start with a letter or '"'"'_'"'"'
	a.yml:7:3: error: invalid job id '"'"'__job'"'"': ids starting with '"'"'__'"'"' are reserved
	a.yml:9:3: error: invalid job id '"'"''"'"': an id must not be empty
	EOF
	lint_is a.yml
'

test_expect_success 'job ids are unique ignoring case' '
	cat >b.yml <<-\EOF &&
	on: push
	jobs:
	  Build:
	    runs-on: x
	  build:
	    runs-on: x
	EOF
	echo "b.yml:5:3: error: job '"'"'build'"'"' is defined twice (first at line 3; ids ignore case)" >expect &&
	lint_is b.yml
'

test_expect_success 'a job id of 100 characters is too long' '
	long=$(printf "j%.0s" $(seq 100)) &&
	printf "on: push\njobs:\n  %s:\n    runs-on: x\n" "$long" >c.yml &&
	test_expect_code 2 kiln lint c.yml >out &&
	test_grep "must be shorter than 100 characters" out
'

test_expect_success 'invalid and duplicate step ids' '
	cat >d.yml <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: x
	    steps:
	      - id: step1
	        run: x
	      - id: STEP1
	        run: x
	      - id: bad$id
	        run: x
	      - id: __x
	        run: x
	      - id: -dash
	        run: x
	EOF
	cat >expect <<-\EOF &&
	d.yml:8:13: error: duplicate step id '"'"'STEP1'"'"' in job '"'"'build'"'"' (first used at line 6)
	d.yml:10:13: error: invalid step id '"'"'bad$id'"'"': an id may only contain letters, digits, '"'"'_'"'"' and '"'"'-'"'"'
	d.yml:12:13: error: invalid step id '"'"'__x'"'"': ids starting with '"'"'__'"'"' are reserved
	d.yml:14:13: error: invalid step id '"'"'-dash'"'"': an id must start with a letter or '"'"'_'"'"'
	EOF
	lint_is d.yml
'

test_expect_success 'the same step id in two jobs is fine' '
	cat >e.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - id: build
	        run: x
	  b:
	    runs-on: x
	    steps:
	      - id: build
	        run: x
	EOF
	kiln lint e.yml >out &&
	test_must_be_empty out
'

test_expect_success 'steps without id get GitHub generated ids' '
	cat >f.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - uses: actions/checkout@v4
	      - run: make
	      - id: __run_2_is_not_mine
	        run: true
	      - uses: docker://alpine:3.19
	      - uses: ./.github/actions/setup
	      - run: make test
	      - uses: actions/checkout@v4
	      - id: __run_3
	        run: x
	EOF
	test_expect_code 2 kiln lint f.yml >out &&
	test_grep "reserved" out &&
	sed -i "/id: __/d" f.yml && sed -i "/run: true/d; /run: x/d" f.yml &&
	kiln debug workflow f.yml >out &&
	cat >expect <<-\EOF &&
	  step __actions_checkout uses
	  step __run run
	  step __alpine_3_19 uses
	  step __self uses
	  step __run_2 run
	  step __actions_checkout_2 uses
	EOF
	grep "^  step" out >actual &&
	test_cmp expect actual
'

test_expect_success 'generated ids avoid the ids users chose' '
	cat >g.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - run: one
	      - id: run
	        run: two
	EOF
	kiln debug workflow g.yml >out &&
	test_grep "^  step __run run" out &&
	test_grep "^  step run run" out
'

test_expect_success 'a null job id is empty (found by fuzzing: a crash)' '
	printf "on: push\njobs:\n  null:\n    runs-on: x\n  b:\n    needs: nul\n    runs-on: x\n" >h.yml &&
	test_expect_code 2 kiln lint h.yml >out &&
	test_grep "^h.yml:3:3: error: invalid job id .null.: YAML reads it as null" out &&
	test_grep "^h.yml:6:12: error: job .b. needs unknown job .nul.$" out
'

test_done
