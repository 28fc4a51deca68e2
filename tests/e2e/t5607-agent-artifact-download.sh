#!/bin/bash
test_description='kiln agent: download-artifact on one agent fetches what a job on another agent uploaded, from the server, for its own run only'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-agent.sh"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'setup: build on agent x uploads, deploy on agent y downloads' '
	test_create_repo src &&
	mkdir -p src/.github/workflows &&
	cat >src/.github/workflows/art.yml <<-\EOF &&
	name: Art
	on:
	  push:
	    branches: [main]
	jobs:
	  build:
	    runs-on: [self-hosted, x]
	    steps:
	      - run: |
	          mkdir -p out/sub other
	          head -c 300000 /dev/urandom >out/blob.bin
	          echo hello >out/sub/hello.txt
	          echo second >other/two.txt
	          sha256sum out/blob.bin | cut -d" " -f1 >out/blob.sum
	          echo "built on $RUNNER_NAME"
	      - uses: actions/upload-artifact@v4
	        with:
	          name: bin
	          path: out/
	      - uses: actions/upload-artifact@v4
	        with:
	          name: other
	          path: other/
	  deploy:
	    needs: build
	    runs-on: [self-hosted, y]
	    steps:
	      - uses: actions/download-artifact@v4
	        with:
	          name: bin
	          path: got
	      - run: |
	          echo "deployed on $RUNNER_NAME"
	          test "$(sha256sum got/blob.bin | cut -d" " -f1)" = "$(cat got/blob.sum)"
	          test "$(cat got/sub/hello.txt)" = hello
	      - uses: actions/download-artifact@v4
	        with:
	          path: all
	      - run: |
	          test "$(cat all/bin/sub/hello.txt)" = hello
	          test "$(cat all/other/two.txt)" = second
	      - uses: actions/download-artifact@v4
	        with:
	          pattern: o*
	          path: merged
	          merge-multiple: true
	      - run: |
	          test "$(cat merged/two.txt)" = second
	          test ! -e merged/blob.bin
	          echo "all checked"
	EOF
	# (unquoted: $TRASH/go is the file the test touches to end it)
	cat >src/.github/workflows/hold.yml <<-EOF &&
	name: Hold
	on:
	  push:
	    branches: [other]
	jobs:
	  hold:
	    runs-on: [self-hosted, y]
	    steps:
	      - run: |
	          for i in \$(seq 1 1200); do
	            test -f "$TRASH/go" && exit 0
	            sleep 0.1
	          done
	          exit 1
	EOF
	git -C src add . && git -C src commit -q -m art &&
	git -C src branch other &&
	kiln repo add acme/app "$TRASH/src" >secret
'

serve_agents_xy

test_expect_success 'the deploy job on agent y gets the artifacts build uploaded on agent x' '
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" a1 >out &&
	wait_status 1 success 120 &&
	kiln logs "Art#1" >log &&
	test_grep "built on ax" log &&
	test_grep "deployed on ay" log &&
	test_grep "all checked" log &&
	test_grep "Artifact .bin. downloaded" log &&
	test "$(sql "SELECT count(DISTINCT lease_owner) FROM agent_jobs")" = 2 &&
	# agent y had no copy of its own: the blobs came from the server
	for d in $(sql "SELECT digest FROM artifacts"); do
		test -f "agent-ay/cache/blobs/$d.tzst" || return 1
	done
'

test_expect_success 'a job no longer leased may not list or fetch artifacts (lease_lost)' '
	tok=$(agent_token ay) &&
	id=$(sql "SELECT id FROM agent_jobs WHERE name LIKE '"'"'%deploy%'"'"'") && test -n "$id" &&
	code=$(agent_call "$tok" "/api/v1/agent/jobs/$id/artifacts?attempt=1") &&
	test "$code" = 409 && test_grep lease_lost r.body &&
	code=$(agent_call forged "/api/v1/agent/jobs/$id/artifacts?attempt=1") &&
	test "$code" = 401
'

test_expect_success 'a job of another run may not read this run'"'"'s artifacts' '
	digest=$(sql "SELECT digest FROM artifacts WHERE name = '"'"'bin'"'"'") && test -n "$digest" &&
	push_hook refs/heads/other $ZERO "$(git -C src rev-parse HEAD)" a2 >out &&
	id=$(leased_ajob hold) &&
	tok=$(agent_token ay) &&
	curl -sS -H "Authorization: Bearer $tok" \
		"$(serve_url)/api/v1/agent/jobs/$id/artifacts?attempt=1" >list &&
	test_grep "\"artifacts\":\[\]" list &&
	code=$(agent_call "$tok" "/api/v1/agent/jobs/$id/artifacts/$digest?attempt=1") &&
	test "$code" = 404 && test_grep not_found r.body &&
	# the other agent may not use the job it does not hold
	tokx=$(agent_token ax) &&
	code=$(agent_call "$tokx" "/api/v1/agent/jobs/$id/artifacts?attempt=1") &&
	test "$code" = 409 &&
	# nor claim its blob as an upload of its own: the store has it, but
	# this run must send the bytes (a digest is not a capability)
	code=$(curl -sS -o r.body -w "%{http_code}" -X POST -H "Authorization: Bearer $tok" \
		"$(serve_url)/api/v1/agent/jobs/$id/artifacts/$digest" \
		--data "{\"attempt\":1,\"offset\":0,\"final\":true,\"data\":\"\"}") &&
	test "$code" = 400 && test_grep digest_mismatch r.body &&
	code=$(curl -sS -o r.body -w "%{http_code}" -X POST -H "Authorization: Bearer $tok" \
		"$(serve_url)/api/v1/agent/jobs/$id/artifacts/$digest" \
		--data "{\"attempt\":1,\"offset\":300000,\"final\":true,\"data\":\"\"}") &&
	test "$code" = 409 && test_grep "\"size\":0" r.body &&
	# nor record an artifact naming it (its log says so)
	for i in $(seq 1 50); do
		seq=$(( $(sql "SELECT log_seq FROM agent_jobs WHERE id = $id") + 1 )) &&
		code=$(curl -sS -o r.body -w "%{http_code}" -X POST -H "Authorization: Bearer $tok" \
			"$(serve_url)/api/v1/agent/jobs/$id/logs" \
			--data "{\"attempt\":1,\"events\":[{\"seq\":$seq,\"event\":{\"k\":10,\"t\":\"stolen\\t300000\\t1\\t$digest\\t90\"}}]}") &&
		test "$code" = 200 && break
	done &&
	test "$code" = 200 &&
	touch go &&
	wait_status 2 success 120 &&
	run2=$(sql "SELECT r.id FROM runs r WHERE r.event_id = 2") && test -n "$run2" &&
	test "$(sql "SELECT count(*) FROM artifacts WHERE run_id = $run2")" = 0 &&
	kiln logs "$run2" >log2 &&
	test_grep "artifact stolen: blob $digest was not uploaded by this run: not recorded" log2
'

test_done
