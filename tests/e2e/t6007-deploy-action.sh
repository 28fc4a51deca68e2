#!/bin/bash
test_description='uses: kiln/deploy in a workflow deploys, and fails the job when the deploy fails'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-deploy.sh"

test_expect_success 'setup: repository with an app and a deploy workflow' '
	test_create_repo repo &&
	write_app web <<-EOF &&
	health: {http: {path: /health}, interval: 100ms}
	strategy: {blueGreen: {scaleDownDelay: 1s}}
	progressDeadline: 3s
	EOF
	make_release v1 && make_release v2 unhealthy &&
	start_deployd
'

# deploy_workflow VERSION: the workflow deploying VERSION
deploy_workflow() {
	write_workflow repo deploy <<-EOF
	on: push
	env: {VERSION: $1}
	jobs:
	  production:
	    runs-on: ubuntu-latest
	    steps:
	      - id: d
	        uses: kiln/deploy@v1
	        with:
	          app: web
	          version: \${{ env.VERSION }}
	          wait: true
	          state: $KILN_DEPLOY_STATE
	      - run: echo "outcome=\${{ steps.d.outputs.outcome }}"
	EOF
}

test_expect_success 'a good release: the job succeeds and traffic is on v1' '
	deploy_workflow v1 &&
	(cd repo && kiln run) >out 2>&1 &&
	cat out &&
	test_grep "switched 100% of traffic to v1" out &&
	test_grep "outcome=success" out &&
	curl -sf "$URL" | grep "web v1"
'

test_expect_success 'a release that never becomes healthy fails the job (exit 1), v1 keeps serving' '
	deploy_workflow v2 &&
	test_expect_code 1 sh -c "cd repo && kiln run" >out 2>&1 &&
	cat out &&
	test_grep "0 of 1 new instance(s) healthy after progressDeadline" out &&
	curl -sf "$URL" | grep "web v1" &&
	kiln releases web >rel &&
	test_grep "^2 *v2 .*kiln/deploy *blueGreen *failed" rel
'

test_expect_success 'bad inputs fail the step clearly' '
	write_workflow repo deploy <<-EOF &&
	on: push
	jobs:
	  production:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: kiln/deploy@v1
	        with: {app: web, version: "../x"}
	EOF
	test_expect_code 1 sh -c "cd repo && kiln run" >out 2>&1 &&
	test_grep "kiln/deploy: .../x. is not a valid version" out
'

test_expect_success 'the controller stops cleanly; its log has no sanitizer report' '
	stop_deployd_clean
'

test_done
