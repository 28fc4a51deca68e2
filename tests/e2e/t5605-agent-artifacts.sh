#!/bin/bash
test_description='kiln agent: an artifact uploaded by a job on an agent reaches the server (in chunks, digest checked) and is served by the run history API'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-agent.sh"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'setup: a job uploading a 1.5 MB artifact' '
	test_create_repo src &&
	mkdir -p src/.github/workflows &&
	cat >src/.github/workflows/art.yml <<-\EOF &&
	name: Art
	on: push
	jobs:
	  build:
	    runs-on: self-hosted
	    steps:
	      - run: |
	          mkdir out
	          head -c 1500000 /dev/urandom >out/blob.bin
	          echo hello >out/hello.txt
	          echo "sum $(sha256sum out/blob.bin | cut -d" " -f1)"
	      - uses: actions/upload-artifact@v4
	        with:
	          name: bin
	          path: out/
	EOF
	git -C src add . && git -C src commit -q -m art &&
	kiln repo add acme/app "$TRASH/src" >secret
'

start_serve --jobs 1 --agents all --agent-lease 5
SECRET=$(cat secret)
REGTOKEN=$(regtoken)
ADMIN=$(cat "$DATA/initial-admin-token")

test_expect_success 'the artifact made on the agent is downloaded from the server' '
	start_agent a --jobs 1 &&
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" a1 >out &&
	wait_status 1 success 60 &&
	kiln logs "Art#1" >log &&
	sum=$(sed -n "s/.*sum \([0-9a-f]*\)$/\1/p" log) && test -n "$sum" &&
	run=$(sql "SELECT run_id FROM artifacts WHERE name = '"'"'bin'"'"'") && test -n "$run" &&
	curl -sS -f -H "Authorization: Bearer $ADMIN" -o bin.tar.zst \
		"$(serve_url)/api/v1/runs/$run/artifacts/bin" &&
	mkdir got && zstd -qdc bin.tar.zst | tar -x -C got &&
	test "$(sha256sum got/blob.bin | cut -d" " -f1)" = "$sum" &&
	test "$(cat got/hello.txt)" = hello &&
	! ls "$DATA"/artifacts/.agent-* 2>/dev/null &&
	# in the store (chunks may reach different server replicas), checked
	test "$(sql "SELECT count(*) FROM blobs WHERE kind = '"'"'artifact'"'"'")" = 1 &&
	! ls "$DATA"/artifacts/*.tzst "$DATA"/artifacts/.from-store-* 2>/dev/null
'

test_expect_success 'an artifact chunk for a job the agent no longer holds is refused (lease_lost)' '
	tok=$(sed -n 2p agent-a/agent-token) &&
	code=$(curl -sS -o r.body -w "%{http_code}" -X POST -H "Authorization: Bearer $tok" \
		"$(serve_url)/api/v1/agent/jobs/1/artifacts/$(printf %064d 0)" \
		--data "{\"attempt\":1,\"offset\":0,\"final\":true,\"data\":\"aGVsbG8=\"}") &&
	test "$code" = 409 && test_grep lease_lost r.body
'

test_done
