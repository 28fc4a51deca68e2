#!/bin/bash
test_description='kiln run: the concurrency groups of a job calling a reusable workflow hold the whole called workflow'
. "$(dirname "$0")/../lib.sh"

GATE="$TRASH/gate"

test_expect_success 'setup: a callee that stamps its start and end' '
	test_create_repo repo &&
	write_workflow repo slow <<-\EOF
	on:
	  workflow_call:
	    inputs:
	      who:
	        type: string
	        required: true
	jobs:
	  work:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "${{ inputs.who }} start $(date +%s%N)" && sleep 1 && echo "${{ inputs.who }} end $(date +%s%N)"
	EOF
'

# the [start, end] stamps of WHO1 and WHO2 in FILE do not overlap
no_overlap () {
	python3 - "$@" <<-\PY
	import re, sys
	t = {}
	for m in re.finditer(r"(\w+) (start|end) (\d+)", open(sys.argv[1]).read()):
	    t.setdefault(m.group(1), {})[m.group(2)] = int(m.group(3))
	iv = sorted((t[w]["start"], t[w]["end"]) for w in sys.argv[2:])
	assert iv[0][1] <= iv[1][0], t
	PY
}

# GitHub: a group has one running and one pending job (a third cancels
# the pending one), so each group here has two members
test_expect_success 'job-level groups: a call and a plain job, two calls: one at a time' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  a:
	    uses: ./.github/workflows/slow.yml
	    concurrency: db
	    with:
	      who: a
	  plain:
	    runs-on: ubuntu-latest
	    concurrency: db
	    steps:
	      - run: echo "plain start $(date +%s%N)" && sleep 1 && echo "plain end $(date +%s%N)"
	  b:
	    uses: ./.github/workflows/slow.yml
	    concurrency:
	      group: ${{ format('"'"'{0}-{1}'"'"', '"'"'calls'"'"', inputs.nothing) }}
	    with:
	      who: b
	  c:
	    uses: ./.github/workflows/slow.yml
	    concurrency: calls-
	    with:
	      who: c
	EOF
	(cd repo && kiln run -p 4) >out 2>&1 &&
	test_grep "waiting for a run in concurrency group .db. to complete" out &&
	test_grep "waiting for a run in concurrency group .calls-. to complete" out &&
	test_grep "concurrency group free: starting" out &&
	no_overlap out a plain &&
	no_overlap out b c &&
	test_grep "^a / work  *success" out &&
	test_grep "^b / work  *success" out &&
	test_grep "^c / work  *success" out
'

test_expect_success 'a bad group expression on a call fails the call at its line' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  a:
	    uses: ./.github/workflows/slow.yml
	    concurrency: ${{ fromJSON('"'"'{'"'"') }}
	    with:
	      who: a
	EOF
	test_must_fail env -C repo kiln run >out 2>&1 &&
	test_grep "ci.yml:5:" out &&
	test_grep -v "a start" out
'

# kiln run in the background, its output in FILE, its pid in FILE.pid
run_bg () { (cd repo && exec kiln run) >"$1" 2>&1 & echo $! >"$1.pid"; }

test_expect_success 'a workflow-level group is held by the call and until the caller ends' '
	write_workflow repo ci <<-EOF &&
	on: push
	concurrency: wfg
	jobs:
	  c:
	    uses: ./.github/workflows/slow.yml
	    with:
	      who: c
	  s:
	    needs: c
	    runs-on: ubuntu-latest
	    steps:
	      - run: touch "$TRASH/at-gate" && for i in \$(seq 1 600); do test -f "$GATE" && break; sleep 0.1; done; test -f "$GATE"
	EOF
	run_bg run1.out &&
	for i in $(seq 1 600); do test -f at-gate && break; sleep 0.1; done &&
	test -f at-gate &&
	run_bg run2.out &&
	for i in $(seq 1 600); do grep -q "waiting for a run in concurrency group .wfg." run2.out && break; sleep 0.1; done &&
	test_grep "waiting for a run in concurrency group .wfg. to complete" run2.out &&
	test_grep -v "c start" run2.out &&
	touch "$GATE" &&
	wait $(cat run1.out.pid) && wait $(cat run2.out.pid) &&
	test_grep "concurrency group free: starting" run2.out &&
	test_grep "^c / work  *success" run2.out
'

test_done
