#!/bin/bash
test_description='kiln agent: jobs of a server run leased to agents; needs, outputs and if: unchanged; logs in the history'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-agent.sh"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'setup: a workflow with needs, outputs and a secret' '
	test_create_repo src &&
	write_workflow src ci <<-\EOF &&
	name: CI
	on: push
	jobs:
	  build:
	    runs-on: [self-hosted, linux]
	    outputs:
	      version: ${{ steps.v.outputs.version }}
	    steps:
	      - id: v
	        run: echo "version=$(cat VERSION)" >>"$GITHUB_OUTPUT"
	      - run: echo "built on $RUNNER_NAME token=$TOKEN"
	        env:
	          TOKEN: ${{ secrets.DEPLOY_TOKEN }}
	  test:
	    needs: build
	    runs-on: self-hosted
	    steps:
	      - run: echo "testing ${{ needs.build.outputs.version }}"
	  skipped:
	    needs: build
	    if: needs.build.outputs.version == '"'"'nope'"'"'
	    runs-on: self-hosted
	    steps:
	      - run: echo never
	EOF
	echo 1.5 >src/VERSION && git -C src add VERSION && git -C src commit -q -m v1 &&
	kiln repo add acme/app "$TRASH/src" >secret &&
	echo hunter2-secret | kiln env secret set acme/app DEPLOY_TOKEN
'

start_serve --jobs 2 --agents self-hosted
SECRET=$(cat secret)
REGTOKEN=$(regtoken)

test_expect_success 'a registration token is exchanged for an agent token' '
	case "$REGTOKEN" in kreg_*) ;; *) false ;; esac &&
	start_agent a1 --labels linux &&
	for i in $(seq 1 100); do test -s "$TRASH/agent-a1/agent-token" && break; sleep 0.1; done &&
	grep -q "^kagt_" "$TRASH/agent-a1/agent-token" &&
	kiln agent list >list && test_grep "a1" list
'

test_expect_success 'a push runs every job on the agent: needs, outputs, if: as on the server' '
	sha=$(git -C src rev-parse HEAD) &&
	push_hook refs/heads/main $ZERO $sha p1 >out && head -n1 out | grep -qx 202 &&
	wait_status 1 success 60 &&
	kiln logs "CI#1" >log &&
	test_grep "built on a1 token=\*\*\*" log &&
	test_grep "testing 1.5" log &&
	test_grep -v "hunter2-secret" log &&
	test_grep -v "never" log &&
	test "$(sql "SELECT count(*) FROM agent_jobs WHERE status = '"'"'done'"'"' AND result = '"'"'success'"'"'")" = 2 &&
	sql "SELECT secrets_box FROM agent_jobs" >boxes && test_grep -v hunter2 boxes &&
	! grep -rq hunter2-secret "$DATA/kiln.db" &&
	# the run'"'"'s files went once to the agent, content addressed, from
	# the store (any server replica serves them), not the data directory
	src=$(sql "SELECT DISTINCT source FROM agent_jobs") &&
	test "$(sql "SELECT kind FROM blobs WHERE digest = '"'"'$src'"'"'")" = source &&
	! test -d "$DATA/agent-src" && test -f "$TRASH/agent-a1/cache/blobs/$src.tzst"
'

test_done
