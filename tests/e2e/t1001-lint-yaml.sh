#!/bin/bash
test_description='kiln lint: malformed and hostile YAML never crashes and is reported with a position'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'malformed yaml: error with line and column, exit 2' '
	printf "on: push\njobs:\n  a: [1, 2\n" >bad.yml &&
	test_expect_code 2 kiln lint bad.yml >out &&
	test_grep "^bad.yml:[0-9]*:[0-9]*: error: yaml: " out
'

test_expect_success 'tab indentation is a yaml error' '
	printf "on: push\njobs:\n\tbuild:\n" >tab.yml &&
	test_expect_code 2 kiln lint tab.yml >out &&
	test_grep "^tab.yml:3:1: error: yaml" out
'

test_expect_success 'empty file' '
	: >empty.yml &&
	test_expect_code 2 kiln lint empty.yml >out &&
	echo "empty.yml:1:1: error: the workflow is empty" >expect &&
	test_cmp expect out
'

test_expect_success 'a scalar document' '
	echo "hello" >scalar.yml &&
	test_expect_code 2 kiln lint scalar.yml >out &&
	echo "scalar.yml:1:1: error: a workflow must be a mapping, not a string" >expect &&
	test_cmp expect out
'

test_expect_success 'a list at the top level' '
	printf -- "- on: push\n- jobs: {}\n" >list.yml &&
	test_expect_code 2 kiln lint list.yml >out &&
	echo "list.yml:1:1: error: a workflow must be a mapping, not a sequence" >expect &&
	test_cmp expect out
'

test_expect_success 'binary garbage' '
	head -c 4096 /dev/urandom >garbage.yml &&
	printf "\0\1\2" >>garbage.yml &&
	test_expect_code 2 kiln lint garbage.yml >out &&
	test_grep "^garbage.yml" out
'

test_expect_success 'invalid utf-8 is a yaml error, not a crash' '
	printf "on: push\nname: \377\376\n" >utf.yml &&
	test_expect_code 2 kiln lint utf.yml >out &&
	test_grep "^utf.yml:.*error" out
'

test_expect_success 'a huge file is refused with a clear error' '
	{ echo "on: push"; echo "env:"; i=0; while [ $i -lt 200000 ]; do echo "  V$i: xxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done; } >huge.yml &&
	test_expect_code 2 kiln lint huge.yml >out &&
	test_grep "^huge.yml:1:1: error: file is larger than" out
'

test_expect_success 'deep nesting is refused at its position' '
	python3 -c "print(\"on: push\nenv: \" + \"[\" * 500 + \"]\" * 500)" >deep.yml &&
	test_expect_code 2 kiln lint deep.yml >out &&
	test_grep "^deep.yml:2:.*error: yaml nesting deeper than" out
'

test_expect_success 'deep block nesting too' '
	python3 -c "
print(\"on: push\")
for i in range(300): print(\"  \" * i + \"k%d:\" % i)
" >deepblock.yml &&
	test_expect_code 2 kiln lint deepblock.yml >out &&
	test_grep "error: yaml nesting deeper than" out
'

test_expect_success 'anchors and aliases are accepted, as GitHub does since 2025' '
	cat >anchor.yml <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    env: &common
	      A: 1
	    steps: &steps
	      - run: echo hi
	  test:
	    runs-on: ubuntu-latest
	    env: *common
	    steps: *steps
	EOF
	kiln lint anchor.yml >out &&
	test_must_be_empty out &&
	kiln debug workflow --json anchor.yml >wf.json &&
	python3 -c "import json; w = json.load(open(\"wf.json\")); assert len(w[\"jobs\"]) == 2 and all(len(j[\"steps\"]) == 1 for j in w[\"jobs\"]), w"
'

test_expect_success 'merge keys and unknown aliases are errors' '
	cat >merge.yml <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    env: &common
	      A: 1
	    steps:
	      - run: echo hi
	  test:
	    runs-on: ubuntu-latest
	    env:
	      <<: *common
	      B: 2
	    steps:
	      - run: echo ${{ 1 }}
	EOF
	test_expect_code 2 kiln lint merge.yml >out &&
	test_grep "^merge.yml:12:7: error: yaml merge keys" out &&
	printf "on: push\njobs: *nowhere\n" >unknown.yml &&
	test_expect_code 2 kiln lint unknown.yml >out &&
	test_grep "^unknown.yml:2:7: error: yaml: unknown alias" out
'

test_expect_success 'a billion-laughs alias bomb is refused quickly' '
	cat >bomb.yml <<-\EOF &&
	a: &a ["x","x","x","x","x","x","x","x","x"]
	b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
	c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
	d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
	e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
	f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
	g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]
	EOF
	test_expect_code 2 kiln lint bomb.yml >out &&
	test_grep "aliases expand to more than" out
'

test_expect_success 'unknown tags are refused; core tags must match their value' '
	cat >tags.yml <<-\EOF &&
	on: push
	env:
	  A: !!str 12
	  B: !!int "12"
	  C: !!bool maybe
	  D: !custom x
	  E: !!timestamp 2001-12-14
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - run: echo
	EOF
	test_expect_code 2 kiln lint tags.yml >out &&
	cat >expect <<-\EOF &&
	tags.yml:4:6: error: a quoted scalar cannot have the tag '"'"'!!int'"'"'
	tags.yml:5:6: error: '"'"'maybe'"'"' is not a valid bool
	tags.yml:6:6: error: unsupported yaml tag '"'"'!custom'"'"'
	tags.yml:7:6: error: unsupported yaml tag '"'"'tag:yaml.org,2002:timestamp'"'"'
	EOF
	test_cmp expect out
'

test_expect_success 'two documents in one file' '
	printf "on: push\n---\non: push\n" >two.yml &&
	test_expect_code 2 kiln lint two.yml >out &&
	test_grep "two.yml:2:1: error: only one yaml document is allowed" out
'

test_expect_success 'a NUL byte in a file is reported' '
	printf "on: push\0\n" >nul.yml &&
	test_expect_code 2 kiln lint nul.yml >out &&
	test_grep "nul.yml:1:1: error: not a text file" out
'

test_expect_success PYTHON 'hostile sizes stay linear: many keys, needs, cycles, expressions' '
	python3 -c "
print(\"on: push\\njobs:\\n  a:\\n    runs-on: x\")
for i in range(50000): print(\"    k%d: 1\" % i)
" >keys.yml &&
	test_expect_code 2 kiln lint keys.yml >out &&
	test $(wc -l <out) = 50000 &&
	python3 -c "
N = 2000
print(\"on: push\\njobs:\")
for i in range(N):
    print(\"  j%d:\\n    runs-on: x\\n    needs: [%s]\" % (i, \", \".join(\"j%d\" % ((i + d) % N) for d in range(1, 20))))
" >ring.yml &&
	test_expect_code 2 kiln lint ring.yml >out &&
	test_grep "more needs are on cycles (not listed)" out &&
	test_grep "(.* more) ->" out &&
	python3 -c "
v = \"\${{ github.a }}\" * 1000
print(\"on: push\\njobs:\\n  a:\\n    runs-on: x\\n    steps:\")
for i in range(100): print(\"      - run: echo \" + v)
" >exprs.yml &&
	kiln lint exprs.yml >out &&
	test_must_be_empty out &&
	kiln debug workflow exprs.yml >out &&
	test $(grep -c "^expr" out) = 100000
'

test_done
