#!/bin/bash
test_description='kiln serve: live job logs over SSE (GET /api/v1/jobs/{id}/logs/stream): every line once, in order, Last-Event-ID resumes, many followers'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

ZERO=0000000000000000000000000000000000000000
jq_ () { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

test_expect_success 'setup: a job that prints 40 lines over 4 seconds' '
	test_create_repo src &&
	write_workflow src ci <<-\EOF &&
	on: push
	jobs:
	  talk:
	    runs-on: ubuntu-latest
	    steps:
	      - run: for i in $(seq 1 40); do echo "line-$i"; sleep 0.1; done
	      - run: printf "## Report\n\n40 lines, **all good**\n" >>"$GITHUB_STEP_SUMMARY"
	EOF
	kiln repo add acme/app "$TRASH/src" >secret
'

start_serve
SECRET=$(cat secret)
TOKEN=$(cat "$DATA/initial-admin-token")

# follow JOB OUT [LAST-EVENT-ID]: the SSE stream into OUT until the server ends it
follow() {
	local h=()
	[ -n "${3:-}" ] && h=(-H "Last-Event-ID: $3")
	timeout 60 curl -sN -H "Authorization: Bearer $TOKEN" "${h[@]}" \
		"$(serve_url)/api/v1/jobs/$1/logs/stream" >"$2"
}

# check OUT FIRST LAST: ids FIRST..LAST each once, in order, data line-N
# wherever the step printed it, and an end event with success
check() {
	python3 - "$1" "$2" "$3" <<-\PY
	import sys
	text = open(sys.argv[1]).read()
	first, last = int(sys.argv[2]), int(sys.argv[3])
	events = [e for e in text.split("\n\n") if e.strip()]
	assert events[0] == "retry: 1000", events[0]
	ids, datas = [], []
	for e in events[1:-1]:
	    f = dict(l.split(": ", 1) for l in e.split("\n"))
	    ids.append(int(f["id"])); datas.append(f["data"])
	assert ids == list(range(first, first + len(ids))), ids
	nums = [int(d[5:]) for d in datas if d.startswith("line-")]
	assert nums == list(range(nums[0], last + 1)) if nums else last < first, nums
	assert events[-1] == "event: end\ndata: success", events[-1]
	PY
}

test_expect_success 'a follower from the start gets every line once, in order, then the end' '
	push_hook refs/heads/main $ZERO $(git -C src rev-parse HEAD) l1 >out &&
	for i in $(seq 1 100); do
		job=$(db_sql "SELECT max(id) FROM jobs") &&
		[ -n "$job" ] && break
		sleep 0.1
	done &&
	echo $job >job &&
	for k in 1 2 3 4 5 6 7 8 9 10; do follow $job f$k & done &&
	follow $job all &&
	wait &&
	check all 1 40 &&
	grep -c "^data: line-" all >n && test "$(cat n)" = 40 &&
	for k in 1 2 3 4 5 6 7 8 9 10; do cmp all f$k || return 1; done
'

test_expect_success 'Last-Event-ID resumes after that line: no gap, no duplicate' '
	job=$(cat job) &&
	n=$(grep "^id: " all | sed -n 12p | cut -d" " -f2) &&
	follow $job resumed $n &&
	grep "^id: " resumed | head -1 >first &&
	test "$(cat first)" = "id: $((n + 1))" &&
	tail -n +2 resumed >/dev/null &&
	python3 -c "
a = open(\"all\").read().split(\"\n\n\"); r = open(\"resumed\").read().split(\"\n\n\")
assert a[1 + $n:] == r[1:], (a[1 + $n:], r[1:])
"
'

test_expect_success 'the job step summary (Markdown)' '
	curl -sS -D h -o summary -H "Authorization: Bearer $TOKEN" \
		"$(serve_url)/api/v1/jobs/$(cat job)/summary" &&
	test_grep "^## Report" summary &&
	test_grep "40 lines, \*\*all good\*\*" summary &&
	grep -qi "content-type: text/markdown" h &&
	curl -s -o out -w "%{http_code}" -H "Authorization: Bearer $TOKEN" \
		"$(serve_url)/api/v1/jobs/99999/summary" >code &&
	test "$(cat code)" = 404
'

test_expect_success 'no token 401, unknown job 404' '
	curl -s -o out -w "%{http_code}" "$(serve_url)/api/v1/jobs/$(cat job)/logs/stream" >code &&
	test "$(cat code)" = 401 &&
	curl -s -o out -w "%{http_code}" -H "Authorization: Bearer $TOKEN" \
		"$(serve_url)/api/v1/jobs/99999/logs/stream" >code &&
	test "$(cat code)" = 404
'

test_expect_success 'SIGTERM with followers attached stops cleanly' '
	push_hook refs/heads/main $ZERO $(git -C src rev-parse HEAD) l2 >out &&
	sleep 1.5 &&
	job=$(db_sql "SELECT max(id) FROM jobs") &&
	(follow $job g1 &) &&
	sleep 0.5 &&
	stop_serve &&
	test_grep "^data: line-" g1
'

test_done
