#!/bin/bash
test_description='kiln run: matrix expansion, names, include/exclude, matrix from needs'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'include/exclude expand as GitHub documents, with GitHub job names' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  t:
	    runs-on: ubuntu-latest
	    strategy:
	      matrix:
	        fruit: [apple, pear]
	        animal: [cat, dog]
	        include:
	          - color: green
	          - color: pink
	            animal: cat
	          - fruit: apple
	            shape: circle
	          - fruit: banana
	          - fruit: banana
	            animal: cat
	    steps:
	      - run: echo "m=${{ matrix.fruit }}/${{ matrix.animal }}/${{ matrix.color }}/${{ matrix.shape }}"
	EOF
	(cd repo && kiln run -p 2) >out 2>err &&
	test_grep "^\[t (apple, cat)\] m=apple/cat/pink/circle$" out &&
	test_grep "^\[t (apple, dog)\] m=apple/dog/green/circle$" out &&
	test_grep "^\[t (pear, cat)\] m=pear/cat/pink/$" out &&
	test_grep "^\[t (pear, dog)\] m=pear/dog/green/$" out &&
	test_grep "^\[t (banana)\] m=banana///$" out &&
	test_grep "^\[t (banana, cat)\] m=banana/cat//$" out &&
	test "$(grep -c "job success" out)" = 6
'

test_expect_success 'exclude removes matching partial combinations; -l lists them in order' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    name: Build
	    runs-on: ubuntu-latest
	    strategy:
	      matrix:
	        os: [linux, mac]
	        node: [18, 20]
	        exclude:
	          - os: mac
	            node: 18
	    steps:
	      - run: echo ${{ matrix.os }}-${{ matrix.node }}
	EOF
	(cd repo && kiln run -l) >out 2>err &&
	grep "^0 " out | awk "{print \$3, \$4, \$5}" >names &&
	cat >expect <<-\EOF &&
	Build (linux, 18)
	Build (linux, 20)
	Build (mac, 20)
	EOF
	test_cmp expect names
'

test_expect_success 'strategy context and a name with an expression' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    name: b-${{ matrix.v }}
	    runs-on: ubuntu-latest
	    strategy:
	      max-parallel: 1
	      matrix:
	        v: [x, y]
	    steps:
	      - run: echo "index=${{ strategy.job-index }} total=${{ strategy.job-total }} ff=${{ strategy.fail-fast }} mp=${{ strategy.max-parallel }}"
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "^\[b-x\] index=0 total=2 ff=true mp=1$" out &&
	test_grep "^\[b-y\] index=1 total=2 ff=true mp=1$" out
'

test_expect_success 'a matrix from fromJSON(needs.x.outputs.m) expands when the job is ready' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  setup:
	    runs-on: ubuntu-latest
	    outputs:
	      m: ${{ steps.s.outputs.m }}
	    steps:
	      - id: s
	        run: echo "m={\"svc\":[\"api\",\"web\",\"db\"]}" >>"$GITHUB_OUTPUT"
	  deploy:
	    needs: setup
	    runs-on: ubuntu-latest
	    strategy:
	      matrix: ${{ fromJSON(needs.setup.outputs.m) }}
	    steps:
	      - run: echo "deploying ${{ matrix.svc }}"
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "^\[deploy (api)\] deploying api$" out &&
	test_grep "^\[deploy (web)\] deploying web$" out &&
	test_grep "^\[deploy (db)\] deploying db$" out &&
	(cd repo && kiln run -l) >out 2>err &&
	test_grep "deploy (matrix known when the job starts)" out
'

test_expect_success 'a vector from an expression, objects in the name' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  t:
	    runs-on: ubuntu-latest
	    strategy:
	      matrix:
	        cfg: ${{ fromJSON(vars.CFGS) }}
	    steps:
	      - run: echo "cc=${{ matrix.cfg.cc }}"
	EOF
	(cd repo && kiln run --var "CFGS=[{\"cc\":\"gcc\",\"std\":11},{\"cc\":\"clang\",\"std\":17}]") >out 2>err &&
	test_grep "^\[t (gcc, 11)\] cc=gcc$" out &&
	test_grep "^\[t (clang, 17)\] cc=clang$" out
'

test_expect_success 'a dynamic matrix past 256 jobs fails the job with a clear error' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  big:
	    runs-on: ubuntu-latest
	    strategy:
	      matrix:
	        a: ${{ fromJSON(vars.A) }}
	        b: ${{ fromJSON(vars.A) }}
	    steps:
	      - run: echo never
	EOF
	test_expect_code 1 env -C repo kiln run --var "A=[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]" >out 2>err &&
	test_grep "ci.yml:.*matrix expands to more than 256 jobs" out &&
	test_grep -v "never" out
'

test_expect_success 'matrix values reach steps through matrix context, fail-fast false keeps going' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  t:
	    runs-on: ubuntu-latest
	    strategy:
	      fail-fast: false
	      matrix:
	        n: [1, 2, 3]
	    steps:
	      - run: test ${{ matrix.n }} != 2
	EOF
	test_expect_code 1 env -C repo kiln run -p 1 >out 2>err &&
	test_grep "^t (1)  *success" out &&
	test_grep "^t (2)  *failure" out &&
	test_grep "^t (3)  *success" out
'

test_done
