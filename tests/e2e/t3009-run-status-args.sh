#!/bin/bash
test_description='job-level success()/failure() naming needed jobs; generated step ids'
. "$(dirname "$0")/../lib.sh"

# written outside a test body: the expressions need single quotes
test_create_repo repo >/dev/null
write_workflow repo ci <<-\EOF
	on: push
	jobs:
	  good:
	    runs-on: x
	    steps:
	      - run: echo good
	  bad:
	    runs-on: x
	    steps:
	      - run: exit 1
	  after-good:
	    needs: [good, bad]
	    if: success('good')
	    runs-on: x
	    steps:
	      - run: echo after-good-ran
	  after-bad:
	    needs: [good, bad]
	    if: failure('bad')
	    runs-on: x
	    steps:
	      - run: echo after-bad-ran
	  none-failed:
	    needs: [good, bad]
	    if: failure('good')
	    runs-on: x
	    steps:
	      - run: echo none-failed-ran
	EOF

test_expect_success 'success(job) and failure(job) look at the named jobs only' '
	(cd repo && test_expect_code 1 kiln run >../out 2>&1) &&
	test_grep "after-good-ran" out &&
	test_grep "after-bad-ran" out &&
	test_grep -v "none-failed-ran" out
'

test_expect_success 'steps without id get GitHub ids (__actions_checkout, __run, __run_2)' '
	test_create_repo ids &&
	write_workflow ids ci <<-\EOF
	on: push
	jobs:
	  a:
	    runs-on: x
	    steps:
	      - uses: actions/checkout@v4
	      - run: echo one
	      - run: echo two
	      - run: echo "${{ toJSON(steps.*.outcome) }} $GITHUB_ACTION"
	EOF
	(cd ids && kiln run --json >../ids.json 2>&1) &&
	python3 -c "
import json, sys
text = [json.loads(l).get(\"text\", \"\") for l in open(\"ids.json\") if l.strip()]
assert any(\"__run_3\" in t for t in text), text
" &&
	kiln debug workflow --json ids/.github/workflows/ci.yml >wf.json &&
	test_grep "__actions_checkout" wf.json &&
	test_grep "\"__run\"" wf.json &&
	test_grep "__run_2" wf.json
'

test_done
