#!/bin/bash
test_description='kiln serve: a workflow_dispatch with bad inputs is refused (422, naming the input), nothing queued; kiln dispatch exits 2'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

test_expect_success 'setup: a workflow with typed inputs, one without workflow_dispatch' '
	test_create_repo src &&
	write_workflow src deploy <<-\EOF &&
	on:
	  workflow_dispatch:
	    inputs:
	      target:
	        type: choice
	        options: [staging, production]
	        required: true
	      replicas:
	        type: number
	        default: 2
	      dry:
	        type: boolean
	jobs:
	  go:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "target=${{ inputs.target }} replicas=${{ inputs.replicas }} dry=${{ inputs.dry }}"
	EOF
	write_workflow src ci <<-\EOF &&
	on: push
	jobs:
	  b:
	    runs-on: ubuntu-latest
	    steps:
	      - run: true
	EOF
	kiln repo add acme/app "$TRASH/src" >/dev/null
'

start_serve --jobs 1
TOKEN=$(cat "$DATA/initial-admin-token")

dispatch () {
	curl -sS -o body -w "%{http_code}\n" -X POST -H "Authorization: Bearer $TOKEN" \
		-H "Content-Type: application/json" --data-binary "$2" \
		"$(serve_url)/api/v1/repos/acme/app/workflows/$1/dispatches"
}
k () {
	KILN_SERVER=$(serve_url) KILN_TOKEN=$TOKEN kiln "$@"
}
err_of () { python3 -c "import json; e=json.load(open(\"body\"))[\"error\"]; print(e[\"code\"] + \": \" + e[\"message\"])"; }

test_expect_success 'a choice not in the options: 422 naming the input and the value' '
	test "$(dispatch deploy.yml "{\"ref\":\"main\",\"inputs\":{\"target\":\"moon\"}}")" = 422 &&
	err_of >msg &&
	test_grep "^invalid_inputs: .*deploy.yml:[0-9]*:[0-9]*: workflow_dispatch input .target. " msg &&
	test_grep "moon" msg
'

test_expect_success 'a missing required input, a wrong type, an unknown input: each named' '
	test "$(dispatch deploy.yml "{\"ref\":\"main\",\"inputs\":{}}")" = 422 &&
	err_of >msg && test_grep "input .target. is required" msg &&
	test "$(dispatch deploy.yml "{\"ref\":\"main\",\"inputs\":{\"target\":\"staging\",\"replicas\":\"many\"}}")" = 422 &&
	err_of >msg && test_grep "input .replicas. expects a number (got .many.)" msg &&
	test "$(dispatch deploy.yml "{\"ref\":\"main\",\"inputs\":{\"target\":\"staging\",\"dry\":\"maybe\"}}")" = 422 &&
	err_of >msg && test_grep "input .dry. expects a boolean" msg &&
	test "$(dispatch deploy.yml "{\"ref\":\"main\",\"inputs\":{\"target\":\"staging\",\"replica\":3}}")" = 422 &&
	err_of >msg && test_grep "unknown workflow_dispatch input .replica. (did you mean .replicas.?)" msg
'

test_expect_success 'no workflow_dispatch trigger is 422, an unknown workflow 404; nothing was queued' '
	test "$(dispatch ci.yml "{\"ref\":\"main\"}")" = 422 &&
	err_of >msg && test_grep "^no_dispatch_trigger: .*ci.yml" msg &&
	test "$(dispatch nope.yml "{\"ref\":\"main\"}")" = 404 &&
	err_of >msg && test_grep "^unknown_workflow: " msg &&
	test "$(events)" = 0
'

test_expect_success 'good inputs (JSON number and boolean) are accepted and run' '
	test "$(dispatch deploy.yml "{\"ref\":\"main\",\"inputs\":{\"target\":\"production\",\"replicas\":5,\"dry\":true}}")" = 201 &&
	wait_status 1 success &&
	test_grep "target=production replicas=5 dry=true" "$DATA/events/1.log"
'

test_expect_success 'kiln dispatch: bad inputs exit 2 with the message; good ones 0' '
	test_expect_code 2 k dispatch acme/app deploy.yml --ref main -f target=moon 2>err &&
	test_grep "kiln dispatch: error: .*input .target. .*moon.* (HTTP 422 invalid_inputs)" err &&
	test_expect_code 2 k dispatch acme/app deploy.yml --ref main 2>err &&
	test_grep "input .target. is required" err &&
	test_expect_code 2 k dispatch acme/app deploy.yml --ref nobranch -f target=staging 2>err &&
	test_grep "HTTP 422 unknown_ref" err &&
	k dispatch acme/app deploy.yml --ref main -f target=staging >out &&
	test_grep "^event 2 queued" out &&
	test "$(events)" = 2
'

test_done
