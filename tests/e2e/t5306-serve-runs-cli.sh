#!/bin/bash
test_description='kiln dispatch, runs, logs [-f], cancel against kiln serve (as gh workflow run / gh run list, view --log, watch, cancel)'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

test_expect_success 'setup: a repository with a dispatchable workflow, the server' '
	test_create_repo src &&
	write_workflow src deploy <<-\EOF &&
	name: Deploy
	on:
	  workflow_dispatch:
	    inputs:
	      target: {type: string, required: true}
	      pause: {type: string, default: "0"}
	jobs:
	  ship:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "first line for ${{ inputs.target }}"
	      - run: sleep ${{ inputs.pause }}
	      - run: echo "last line for ${{ inputs.target }}"
	EOF
	write_workflow src a-workflow-with-a-rather-long-file-name <<-\EOF &&
	on: workflow_dispatch
	jobs:
	  j:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo long
	EOF
	kiln repo add acme/app "$TRASH/src" >/dev/null 2>&1 &&
	start_serve --jobs 1 &&
	cp "$DATA/initial-admin-token" admin.tok
'

k () {
	KILN_SERVER=$(serve_url) KILN_TOKEN=$(cat "$TRASH/admin.tok") kiln "$@"
}

# the newest run's id once one exists
newest_run () {
	k runs --json -n 1 >newest.json 2>/dev/null &&
	python3 -c "import json; r=json.load(open(\"newest.json\")); assert r; print(r[0][\"id\"])" >run.id 2>/dev/null
}

wait_for () {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

test_expect_success 'kiln dispatch queues a run with inputs; kiln runs lists it' '
	k dispatch acme/app deploy.yml --ref main -f target=staging >out &&
	test_grep "^event [0-9]* queued: refs/heads/main at " out &&
	wait_for 30 newest_run &&
	wait_for 30 sh -c "KILN_SERVER=$(serve_url) KILN_TOKEN=$(cat admin.tok) kiln runs | grep -q \"acme/app .*Deploy .*workflow_dispatch .*main .*success\"" &&
	k runs --repo acme/app --status success >out &&
	test_grep "^[0-9]* *acme/app *Deploy" out &&
	k runs --repo other/repo >out 2>err &&
	test_grep "no runs recorded yet" err
'

test_expect_success 'kiln logs RUN [JOB] prints the stored log' '
	k logs "$(cat run.id)" ship >log &&
	test_grep "first line for staging" log &&
	test_grep "last line for staging" log &&
	test_expect_code 1 k logs "$(cat run.id)" nojob 2>err &&
	test_grep "HTTP 404" err
'

test_expect_success 'kiln logs -t / ?timestamps=true: each line after its UTC time; a bad value is 400' '
	k logs -t "$(cat run.id)" ship >tlog &&
	test_grep "^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9][0-9][0-9]Z .*first line for staging" tlog &&
	test "$(wc -l <tlog)" = "$(wc -l <log)" &&
	sed "s/^.\{25\}//" tlog >untimed && cmp untimed log &&
	k logs --timestamps "$(cat run.id)" >all &&
	test_grep "^== job ship" all &&
	test_grep "^20[0-9-]*T[0-9:.]*Z .*last line for staging" all &&
	curl -sS -H "Authorization: Bearer $(cat admin.tok)" \
		"$(serve_url)/api/v1/runs/$(cat run.id)/logs?job=ship&timestamps=true" >api.log &&
	cmp api.log tlog &&
	curl -sS -o err -w "%{http_code}\n" -H "Authorization: Bearer $(cat admin.tok)" \
		"$(serve_url)/api/v1/runs/$(cat run.id)/logs?timestamps=yes" >code &&
	grep -qx 400 code && test_grep "timestamps must be true or false" err
'

test_expect_success 'kiln logs -f follows a running run to its end' '
	k dispatch acme/app deploy.yml --ref main -f target=prod -f pause=3 >/dev/null &&
	old=$(cat run.id) &&
	wait_for 30 sh -c "KILN_SERVER=$(serve_url) KILN_TOKEN=$(cat admin.tok) kiln runs --json -n 1 | python3 -c \"import json,sys; r=json.load(sys.stdin); sys.exit(0 if r and r[0][\\\"id\\\"] != $old else 1)\"" &&
	newest_run &&
	k logs -f "$(cat run.id)" >follow.out &&
	test_grep "first line for prod" follow.out &&
	test_grep "last line for prod" follow.out &&
	test_grep "kiln: run $(cat run.id) success" follow.out &&
	test "$(grep -c "first line for prod" follow.out)" = 1
'

test_expect_success 'kiln cancel stops a running run' '
	k dispatch acme/app deploy.yml --ref main -f target=slow -f pause=30 >/dev/null &&
	old=$(cat run.id) &&
	wait_for 30 sh -c "KILN_SERVER=$(serve_url) KILN_TOKEN=$(cat admin.tok) kiln runs --json -n 1 | python3 -c \"import json,sys; r=json.load(sys.stdin); sys.exit(0 if r and r[0][\\\"id\\\"] != $old else 1)\"" &&
	newest_run &&
	k cancel "$(cat run.id)" >out &&
	test_grep "run $(cat run.id): cancelling" out &&
	test_expect_code 1 k logs -f "$(cat run.id)" >follow.out &&
	test_grep "kiln: run $(cat run.id) cancelled" follow.out
'

test_expect_success 'bad input' '
	test_expect_code 2 k dispatch acme/app deploy.yml --ref main -f novalue 2>err &&
	test_grep "expected KEY=VALUE" err &&
	test_expect_code 2 k dispatch acme/app deploy.yml 2>err &&
	test_grep "say which branch or tag to run" err &&
	test_expect_code 2 kiln cancel 1 2>err &&
	test_grep "pass --server URL" err &&
	test_expect_code 2 k logs CI#1 2>err &&
	test_grep "RUN is the run.s id" err
'

test_expect_success 'kiln runs: a long unnamed workflow path does not shift the columns' '
	k dispatch acme/app a-workflow-with-a-rather-long-file-name.yml --ref main >/dev/null &&
	wait_for 30 sh -c "KILN_SERVER=$(serve_url) KILN_TOKEN=$(cat admin.tok) kiln runs | grep -q \"a-workflow-wi.* success\"" &&
	k runs >out &&
	test_grep "workflows/a-workflow-wi… " out &&
	python3 - out <<-\PY
	import sys
	lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
	cols = [lines[0].index(h) for h in ("WORKFLOW", "#", "EVENT", "REF", "RESULT", "DURATION")]
	assert len(lines) > 2, lines
	for l in lines[1:]:
	    for c in cols:
	        assert l[c - 1] == " " and l[c] != " ", (c, l, lines[0])
	PY
'

test_expect_success 'the server stops cleanly' '
	stop_serve
'

test_done
