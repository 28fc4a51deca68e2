#!/bin/bash
test_description='kiln serve: events API (list, get, log, cancel) and workflow_dispatch with inputs; roles'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

ZERO=0000000000000000000000000000000000000000
api () {
	local method=$1 path=$2 tok=${3:--} body=${4:-}
	local args=(-s -o "$TRASH/api.body" -w "%{http_code}" -X "$method")
	[ "$tok" != - ] && args+=(-H "Authorization: Bearer $tok")
	[ -n "$body" ] && args+=(-H "Content-Type: application/json" --data-binary "$body")
	curl "${args[@]}" "$(serve_url)$path"
	echo
	cat "$TRASH/api.body"
}
jq_ () { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
tok () { cat "$TRASH/tok.$1"; }
SQ="'"


test_expect_success 'setup: a repository with a dispatchable and a slow workflow' '
	test_create_repo src &&
	write_workflow src deploy <<-\EOF &&
	on:
	  workflow_dispatch:
	    inputs:
	      target:
	        type: choice
	        options: [staging, production]
	        required: true
	      dry:
	        type: boolean
	        default: false
	jobs:
	  go:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "deploy to ${{ inputs.target }} dry=${{ inputs.dry }} by $GITHUB_ACTOR ref=$GITHUB_REF attempt=$GITHUB_RUN_ATTEMPT/${{ github.run_attempt }}"
	EOF
	write_workflow src slow <<-\EOF &&
	on: push
	jobs:
	  wait:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo started; sleep 30
	EOF
	kiln repo add acme/app "$TRASH/src" >secret
'

start_serve --jobs 1
SECRET=$(cat secret)

test_expect_success 'tokens: the admin makes a developer and a viewer' '
	cp "$DATA/initial-admin-token" tok.admin &&
	for r in viewer developer; do
		api POST /api/v1/users "$(tok admin)" "{\"name\":\"$r-u\",\"role\":\"$r\",\"password\":\"pw-$r-12345\"}" >out &&
		test "$(head -1 out)" = 201 || return 1
		api POST /api/v1/login - "{\"user\":\"$r-u\",\"password\":\"pw-$r-12345\"}" >out &&
		tail -n +2 out | jq_ "d[\"token\"]" >tok.$r || return 1
	done
'

test_expect_success 'workflow_dispatch with typed inputs runs that workflow at the ref' '
	api POST /api/v1/repos/acme/app/workflows/deploy.yml/dispatches "$(tok viewer)" "{\"ref\":\"main\"}" >out &&
	test "$(head -1 out)" = 403 &&
	api POST /api/v1/repos/acme/app/workflows/deploy.yml/dispatches "$(tok developer)" \
		"{\"ref\":\"main\",\"inputs\":{\"target\":\"staging\",\"dry\":true}}" >out &&
	test "$(head -1 out)" = 201 &&
	id=$(tail -n +2 out | jq_ "d[\"event\"]") &&
	wait_status $id success &&
	api GET /api/v1/events/$id/log "$(tok viewer)" >out &&
	test "$(head -1 out)" = 200 &&
	test_grep "deploy to staging dry=true by developer-u ref=refs/heads/main attempt=1/1" out &&
	echo $id >dispatched &&
	! grep -q "sleep 30" out
'

test_expect_success 'runs API: the dispatched run, its jobs and steps, its logs' '
	api GET "/api/v1/runs?repo=acme/app&event=workflow_dispatch" "$(tok viewer)" >out &&
	test "$(head -1 out)" = 200 &&
	tail -n +2 out >runs.json &&
	run=$(jq_ "d[\"runs\"][0][\"id\"]" <runs.json) &&
	test "$(jq_ "d[\"runs\"][0][\"conclusion\"], d[\"runs\"][0][\"actor\"], d[\"runs\"][0][\"repo\"]" <runs.json)" = "($SQ""success$SQ, ${SQ}developer-u$SQ, ${SQ}acme/app$SQ)" &&
	api GET /api/v1/runs/$run "$(tok viewer)" >out &&
	test "$(head -1 out)" = 200 &&
	api GET /api/v1/runs/$run/jobs "$(tok viewer)" >out &&
	tail -n +2 out | jq_ "d[\"jobs\"][0][\"name\"], d[\"jobs\"][0][\"conclusion\"], len(d[\"jobs\"][0][\"steps\"]) >= 1" >j &&
	test "$(cat j)" = "(${SQ}go$SQ, ${SQ}success$SQ, True)" &&
	api GET "/api/v1/runs/$run/logs?job=go" "$(tok viewer)" >out &&
	test "$(head -1 out)" = 200 &&
	test_grep "deploy to staging dry=true" out &&
	api GET "/api/v1/runs/$run/logs?job=nope" "$(tok viewer)" >out &&
	test "$(head -1 out)" = 404 &&
	api GET /api/v1/runs/99999 "$(tok viewer)" >out &&
	test "$(head -1 out)" = 404 &&
	api GET "/api/v1/runs?per_page=0" "$(tok viewer)" >out &&
	test "$(head -1 out)" = 400 &&
	api GET /api/v1/runs - >out &&
	test "$(head -1 out)" = 401
'

test_expect_success 're-run an event, then its run: attempts 2 and 3, same inputs; an ignored event is 409' '
	id=$(cat dispatched) &&
	api POST /api/v1/events/$id/rerun "$(tok viewer)" >out &&
	test "$(head -1 out)" = 403 &&
	api POST /api/v1/events/$id/rerun "$(tok developer)" >out &&
	test "$(head -1 out)" = 201 &&
	test "$(tail -n +2 out | jq_ "d[\"attempt\"]")" = 2 &&
	re=$(tail -n +2 out | jq_ "d[\"event\"]") &&
	wait_status $re success &&
	test_grep "deploy to staging dry=true by developer-u ref=refs/heads/main attempt=2/2" "$DATA/events/$re.log" &&
	api GET /api/v1/events/$re "$(tok viewer)" >out &&
	test "$(tail -n +2 out | jq_ "d[\"rerun_of\"], d[\"attempt\"]")" = "($id, 2)" &&
	api GET "/api/v1/runs?event=workflow_dispatch&per_page=1" "$(tok viewer)" >out &&
	run=$(tail -n +2 out | jq_ "d[\"runs\"][0][\"id\"]") &&
	api POST /api/v1/runs/$run/rerun "$(tok developer)" >out &&
	test "$(head -1 out)" = 201 &&
	test "$(tail -n +2 out | jq_ "d[\"attempt\"]")" = 3 &&
	re3=$(tail -n +2 out | jq_ "d[\"event\"]") &&
	wait_status $re3 success &&
	push_hook refs/heads/gone $(git -C src rev-parse HEAD) $ZERO del1 >out &&
	del=$(python3 -c "import json; print(json.load(open(\"$TRASH/hook.body\"))[\"event\"])") &&
	api POST /api/v1/events/$del/rerun "$(tok developer)" >out &&
	test "$(head -1 out)" = 409 &&
	test_grep "attempt=3/3" "$DATA/events/$re3.log"
'

test_expect_success 'bad dispatches: unknown ref, bad file name, wrong input, malformed JSON' '
	api POST /api/v1/repos/acme/app/workflows/deploy.yml/dispatches "$(tok developer)" "{\"ref\":\"nope\"}" >out &&
	test "$(head -1 out)" = 422 &&
	api POST /api/v1/repos/acme/app/workflows/..%2Fx.yml/dispatches "$(tok developer)" "{\"ref\":\"main\"}" >out &&
	test "$(head -1 out)" = 400 -o "$(head -1 out)" = 404 &&
	api POST /api/v1/repos/acme/app/workflows/deploy.yml/dispatches "$(tok developer)" "{\"ref\":" >out &&
	test "$(head -1 out)" = 400 &&
	api POST /api/v1/repos/nobody/x/workflows/deploy.yml/dispatches "$(tok developer)" "{\"ref\":\"main\"}" >out &&
	test "$(head -1 out)" = 404 &&
	api POST /api/v1/repos/acme/app/workflows/deploy.yml/dispatches "$(tok developer)" \
		"{\"ref\":\"main\",\"inputs\":{\"target\":\"moon\"}}" >out &&
	test "$(head -1 out)" = 422 &&
	test_grep "invalid_inputs" out && test_grep "input .target. .*moon" out
'

test_expect_success 'events are listed newest first, filtered by status and repository' '
	api GET "/api/v1/events?status=success" "$(tok viewer)" >out &&
	test "$(head -1 out)" = 200 &&
	tail -n +2 out | jq_ "[e[\"kind\"] for e in d[\"events\"]]" | grep -q workflow_dispatch &&
	api GET "/api/v1/events?repo=acme/app&limit=1" "$(tok viewer)" >out &&
	test "$(tail -n +2 out | jq_ "len(d[\"events\"])")" = 1 &&
	api GET "/api/v1/events?status=weird" "$(tok viewer)" >out &&
	test "$(head -1 out)" = 400 &&
	api GET /api/v1/events - >out &&
	test "$(head -1 out)" = 401 &&
	api GET /api/v1/events/999 "$(tok viewer)" >out &&
	test "$(head -1 out)" = 404
'

test_expect_success 'cancel a running run and a queued one; a finished one is 409; audited' '
	sha=$(git -C src rev-parse HEAD) &&
	push_hook refs/heads/main $ZERO $sha c1 >out &&
	run=$(python3 -c "import json; print(json.load(open(\"$TRASH/hook.body\"))[\"event\"])") &&
	push_hook refs/heads/main $ZERO $sha c2 >out &&
	queued=$(python3 -c "import json; print(json.load(open(\"$TRASH/hook.body\"))[\"event\"])") &&
	wait_status $run running &&
	for i in $(seq 1 100); do grep -q started "$DATA/events/$run.log" 2>/dev/null && break; sleep 0.1; done &&
	api POST /api/v1/events/$queued/cancel "$(tok viewer)" >out &&
	test "$(head -1 out)" = 403 &&
	api POST /api/v1/events/$queued/cancel "$(tok developer)" >out &&
	test "$(head -1 out)" = 202 &&
	test "$(event_status $queued)" = "cancelled cancelled" &&
	api POST /api/v1/events/$run/cancel "$(tok developer)" >out &&
	test "$(head -1 out)" = 202 &&
	wait_status $run "cancelled cancelled" &&
	api POST /api/v1/events/$run/cancel "$(tok developer)" >out &&
	test "$(head -1 out)" = 409 &&
	api GET "/api/v1/audit?repo=acme/app" "$(tok admin)" >out &&
	test_grep "run.cancel" out && test_grep "workflow.dispatch" out
'

test_expect_success 'cancel through the runs API' '
	push_hook refs/heads/main $ZERO $(git -C src rev-parse HEAD) c3 >out &&
	ev=$(python3 -c "import json; print(json.load(open(\"$TRASH/hook.body\"))[\"event\"])") &&
	for i in $(seq 1 100); do grep -q started "$DATA/events/$ev.log" 2>/dev/null && break; sleep 0.1; done &&
	api GET "/api/v1/runs?status=in_progress" "$(tok viewer)" >out &&
	run=$(tail -n +2 out | jq_ "[r[\"id\"] for r in d[\"runs\"] if r[\"event_id\"] == $ev][0]") &&
	api POST /api/v1/runs/$run/cancel "$(tok viewer)" >out &&
	test "$(head -1 out)" = 403 &&
	api POST /api/v1/runs/$run/cancel "$(tok developer)" >out &&
	test "$(head -1 out)" = 202 &&
	wait_status $ev "cancelled cancelled"
'

test_expect_success 'stop' '
	stop_serve
'

test_done
