#!/bin/bash
test_description='kiln debug workflow: the loaded model, in text and in GitHub parser JSON shape'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup' '
	cat >w.yml <<-\EOF
	name: CI
	on: push
	jobs:
	  build:
	    runs-on: [self-hosted, linux]
	    strategy:
	      matrix:
	        node: [18, 20]
	    steps:
	      - uses: actions/checkout@v4
	      - run: echo ${{ matrix.node }}
	        if: matrix.node == 20
	  deploy:
	    needs: build
	    if: ${{ always() }}
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "it'"'"'s {done}: ${{ github.sha }}"
	EOF
'

test_expect_success 'text form: jobs, needs, matrix size, step ids, expressions' '
	kiln debug workflow w.yml >out &&
	cat >expect <<-\EOF &&
	workflow CI
	on push
	job build matrix=2
	  step __actions_checkout uses
	  step __run run
	job deploy needs=build
	  step __run run
	expr 11:22 jobs.<job_id>.steps.run:  matrix.node 
	expr 12:13 jobs.<job_id>.steps.if: matrix.node == 20
	expr 15:12 jobs.<job_id>.if:  always() 
	expr 19:33 jobs.<job_id>.steps.run:  github.sha 
	EOF
	test_cmp expect out
'

test_expect_success PYTHON 'json form follows the GitHub parser shape' '
	kiln debug workflow --json w.yml >out.json &&
	python3 - <<-\EOF
	import json
	d = json.load(open("out.json"))
	b, dep = d["jobs"]
	assert b["type"] == "job" and b["id"] == "build" and b["name"] == "build"
	assert b["if"] == {"type": 3, "expr": "success()"}, b["if"]
	assert b["runs-on"] == {"type": 1, "seq": ["self-hosted", "linux"]}
	m = b["strategy"]["map"][0]
	assert m["Key"] == "matrix" and m["Value"]["map"][0]["Value"]["seq"] == [18, 20]
	s = b["steps"][1]
	assert s["id"] == "__run" and s["run"] == {"type": 3, "expr": "format('"'"'echo {0}'"'"', matrix.node)"}, s
	assert s["if"]["expr"] == "success() && (matrix.node == 20)"
	assert dep["needs"] == ["build"] and dep["if"]["expr"] == "always()"
	r = dep["steps"][0]["run"]["expr"]
	assert r == "format('"'"'echo \"it'"'"''"'"'s {{done}}: {0}\"\n'"'"', github.sha)", r
	assert d["events"] == {"push": None}
	assert len(d["expressions"]) == 4
	EOF
'

test_expect_success PYTHON 'errors as JSON with their positions' '
	printf "on: push\njobs:\n  a:\n    runs-on: x\n    needs: b\n" >bad.yml &&
	test_expect_code 2 kiln debug workflow --json bad.yml >out.json 2>err &&
	python3 -c "
import json
e = json.load(open(\"out.json\"))[\"errors\"]
assert e == [{\"line\": 5, \"col\": 12, \"message\": \"job '"'"'a'"'"' needs unknown job '"'"'b'"'"'\"}], e
" &&
	test_grep "^bad.yml:5:12: error:" err
'

test_expect_success '--github-positions reports expression errors at the scalar start' '
	printf "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo \${{ github.x == }}\n" >e.yml &&
	test_expect_code 2 kiln debug workflow e.yml 2>err &&
	test_grep "^e.yml:6:32:" err &&
	test_expect_code 2 kiln debug workflow --github-positions e.yml 2>err &&
	test_grep "^e.yml:6:14:" err
'

test_expect_success 'usage errors' '
	test_expect_code 2 kiln debug workflow 2>err &&
	test_grep "usage: kiln debug workflow" err &&
	test_expect_code 2 kiln debug workflow nosuch.yml 2>err &&
	test_grep "cannot read" err
'

test_done
