#!/bin/bash
test_description='kiln lint: matrix size with include/exclude (256 jobs at most), vectors'
. "$(dirname "$0")/../lib.sh"

# matrix_job NAME <<EOF matrix lines (indented 6)
matrix_wf() {
	{ printf "on: push\njobs:\n  m:\n    runs-on: x\n    strategy:\n      matrix:\n"; sed "s/^/        /"; printf "    steps:\n      - run: x\n"; }
}

test_expect_success 'a cross product past 256 jobs is an error at the matrix' '
	matrix_wf >a.yml <<-\EOF &&
	a: [1,2,3,4,5,6,7,8]
	b: [1,2,3,4,5,6,7,8]
	c: [1,2,3,4,5]
	EOF
	test_expect_code 2 kiln lint a.yml >out &&
	echo "a.yml:7:9: error: the matrix of job '"'"'m'"'"' expands to 320 jobs, more than the 256 allowed" >expect &&
	test_cmp expect out
'

test_expect_success 'exclude brings it back under the limit' '
	matrix_wf >b.yml <<-\EOF &&
	a: [1,2,3,4,5,6,7,8]
	b: [1,2,3,4,5,6,7,8]
	c: [1,2,3,4,5]
	exclude:
	  - c: 5
	  - c: 4
	EOF
	kiln lint b.yml >out && test_must_be_empty out &&
	kiln debug workflow b.yml >out &&
	test_grep "^job m matrix=192" out
'

test_expect_success 'include adds combinations that match no original value' '
	matrix_wf >c.yml <<-\EOF &&
	os: [linux, mac]
	node: [18, 20]
	include:
	  - os: linux
	    experimental: true
	  - os: windows
	    node: 20
	  - node: 22
	exclude:
	  - os: mac
	    node: 18
	EOF
	kiln debug workflow c.yml >out &&
	test_grep "^job m matrix=5" out
'

test_expect_success 'include can push a matrix past 256' '
	{ echo "a: [$(seq -s, 1 16)]"; echo "b: [$(seq -s, 1 16)]"; echo "include:"; echo "  - a: 99"; } | matrix_wf >d.yml &&
	test_expect_code 2 kiln lint d.yml >out &&
	test_grep "expands to 257 jobs" out
'

test_expect_success 'exactly 256 is fine' '
	{ echo "a: [$(seq -s, 1 16)]"; echo "b: [$(seq -s, 1 16)]"; } | matrix_wf >e.yml &&
	kiln lint e.yml >out && test_must_be_empty out
'

test_expect_success 'a huge cross product is reported without expanding it' '
	for v in a b c d e f g h; do echo "$v: [$(seq -s, 1 20)]"; done | matrix_wf >f.yml &&
	test_expect_code 2 kiln lint f.yml >out &&
	test_grep "expands to 25600000000 jobs" out
'

test_expect_success 'an include-only matrix has one job per entry' '
	matrix_wf >g.yml <<-\EOF &&
	include: [{a: 1}, {a: 2}, {b: 3}]
	EOF
	kiln debug workflow g.yml >out &&
	test_grep "^job m matrix=3" out
'

test_expect_success 'empty vectors, scalars as vectors, bad include' '
	matrix_wf >h.yml <<-\EOF &&
	os: []
	node: 18
	include: [linux]
	EOF
	test_expect_code 2 kiln lint h.yml >out &&
	cat >expect <<-\EOF &&
	h.yml:7:13: error: matrix vector '"'"'os'"'"' has no values
	h.yml:8:15: error: matrix vector '"'"'node'"'"' must be a sequence, not a number
	h.yml:9:19: error: a matrix '"'"'include'"'"' entry must be a mapping, not a string
	EOF
	test_cmp expect out
'

test_expect_success 'a matrix from an expression is counted at run time' '
	cat >i.yml <<-\EOF &&
	on: push
	jobs:
	  m:
	    runs-on: x
	    strategy:
	      matrix: ${{ fromJSON(vars.MATRIX) }}
	    steps:
	      - run: x
	EOF
	kiln lint i.yml >out && test_must_be_empty out &&
	kiln debug workflow i.yml >out &&
	test_grep "^job m matrix=-1" out
'

test_done
