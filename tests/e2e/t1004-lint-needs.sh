#!/bin/bash
test_description='kiln lint: needs (unknown jobs, cycles, no start job)'
. "$(dirname "$0")/../lib.sh"

lint_is() {
	test_expect_code 2 kiln lint "$1" >out && test_cmp expect out
}

test_expect_success 'needs an unknown job, with and without a hint' '
	cat >a.yml <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: x
	  deploy:
	    needs: [biuld, zzz-nothing-like-it]
	    runs-on: x
	EOF
	cat >expect <<-\EOF &&
	a.yml:6:13: error: job '"'"'deploy'"'"' needs unknown job '"'"'biuld'"'"' (did you mean '"'"'build'"'"'?)
	a.yml:6:20: error: job '"'"'deploy'"'"' needs unknown job '"'"'zzz-nothing-like-it'"'"'
	EOF
	lint_is a.yml
'

test_expect_success 'a cycle is reported on each of its edges, spelled out' '
	cat >b.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	  b:
	    needs: [a, d]
	    runs-on: x
	  c:
	    needs: b
	    runs-on: x
	  d:
	    needs:
	      - c
	    runs-on: x
	EOF
	cat >expect <<-\EOF &&
	b.yml:6:16: error: job '"'"'b'"'"' needs '"'"'d'"'"', which creates a cycle: b -> d -> c -> b
	b.yml:9:12: error: job '"'"'c'"'"' needs '"'"'b'"'"', which creates a cycle: c -> b -> d -> c
	b.yml:13:9: error: job '"'"'d'"'"' needs '"'"'c'"'"', which creates a cycle: d -> c -> b -> d
	EOF
	lint_is b.yml
'

test_expect_success 'a job that needs itself' '
	printf "on: push\njobs:\n  a:\n    runs-on: x\n  e:\n    needs: e\n    runs-on: x\n" >c.yml &&
	echo "c.yml:6:12: error: job '"'"'e'"'"' needs itself" >expect &&
	lint_is c.yml
'

test_expect_success 'every job needs another: nothing can start' '
	printf "on: push\njobs:\n  a:\n    needs: b\n    runs-on: x\n  b:\n    needs: a\n    runs-on: x\n" >d.yml &&
	test_expect_code 2 kiln lint d.yml >out &&
	test_grep "^d.yml:3:3: error: no job can start: every job needs another one" out
'

test_expect_success 'needs ignore case and take the job spelling' '
	cat >e.yml <<-\EOF &&
	on: push
	jobs:
	  Build:
	    runs-on: x
	    steps: [run: make]
	  deploy:
	    needs: build
	    runs-on: x
	    steps: [run: make deploy]
	EOF
	kiln lint e.yml >out && test_must_be_empty out &&
	kiln debug workflow e.yml >out &&
	test_grep "^job deploy needs=Build" out
'

test_expect_success 'needs must be job ids' '
	cat >f.yml <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: x
	  b:
	    needs:
	      - {x: 1}
	      - ${{ a }}
	    runs-on: x
	EOF
	cat >expect <<-\EOF &&
	f.yml:7:9: error: '"'"'needs'"'"' must list job ids, not a mapping
	f.yml:8:9: error: expressions are not allowed in '"'"'needs'"'"'
	EOF
	lint_is f.yml
'

test_done
