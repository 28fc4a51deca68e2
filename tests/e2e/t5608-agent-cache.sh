#!/bin/bash
test_description='kiln agent: a cache saved by a job on one agent is restored by a later job on another, through the server, for its own repository only'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-agent.sh"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'setup: save on agent x, restore on agent y; another repository' '
	test_create_repo src &&
	mkdir -p src/.github/workflows &&
	cat >src/.github/workflows/cache.yml <<-\EOF &&
	name: Cache
	on:
	  push:
	    branches: [main]
	jobs:
	  save:
	    runs-on: [self-hosted, x]
	    steps:
	      - run: |
	          mkdir -p deps/sub
	          head -c 300000 /dev/urandom >deps/blob.bin
	          echo hello >deps/sub/hello.txt
	          sha256sum deps/blob.bin | cut -d" " -f1 >deps/blob.sum
	          echo "saved on $RUNNER_NAME"
	      - uses: actions/cache/save@v4
	        with:
	          key: deps-linux-v1
	          path: deps
	  restore:
	    needs: save
	    runs-on: [self-hosted, y]
	    steps:
	      - uses: actions/cache/restore@v4
	        id: exact
	        with:
	          key: deps-linux-v1
	          path: deps
	      - run: |
	          echo "restored on $RUNNER_NAME hit=${{ steps.exact.outputs.cache-hit }}"
	          test "${{ steps.exact.outputs.cache-hit }}" = true
	          test "$(sha256sum deps/blob.bin | cut -d" " -f1)" = "$(cat deps/blob.sum)"
	          test "$(cat deps/sub/hello.txt)" = hello
	          rm -rf deps
	      - uses: actions/cache/restore@v4
	        id: prefix
	        with:
	          key: deps-linux-v2
	          restore-keys: |
	            nothing-
	            deps-linux-
	          path: deps
	      - run: |
	          test "${{ steps.prefix.outputs.cache-hit }}" = false
	          test "${{ steps.prefix.outputs.cache-matched-key }}" = deps-linux-v1
	          test "$(cat deps/sub/hello.txt)" = hello
	          echo "prefix checked"
	      - uses: actions/cache/restore@v4
	        id: other
	        with:
	          key: deps-linux-v1
	          path: elsewhere
	      - run: |
	          test "${{ steps.other.outputs.cache-hit }}" = false
	          echo "version checked"
	      - uses: actions/cache@v4
	        id: post
	        with:
	          key: post-v1
	          path: deps
	      - run: test "${{ steps.post.outputs.cache-hit }}" = false
	EOF
	git -C src add . && git -C src commit -q -m cache &&
	kiln repo add acme/app "$TRASH/src" >secret &&
	test_create_repo other &&
	mkdir -p other/.github/workflows &&
	# (unquoted: $TRASH/go is the file the test touches to end it)
	cat >other/.github/workflows/steal.yml <<-EOF &&
	name: Steal
	on:
	  push:
	    branches: [main]
	jobs:
	  steal:
	    runs-on: [self-hosted, y]
	    steps:
	      - uses: actions/cache/restore@v4
	        id: r
	        with:
	          key: deps-linux-v1
	          restore-keys: deps-
	          path: deps
	      - run: |
	          test "\${{ steps.r.outputs.cache-hit }}" = false
	          test ! -e deps
	          echo "other repository missed"
	          for i in \$(seq 1 1200); do
	            test -f "$TRASH/go" && exit 0
	            sleep 0.1
	          done
	          exit 1
	EOF
	git -C other add . && git -C other commit -q -m steal &&
	kiln repo add acme/other "$TRASH/other" >secret2
'

serve_agents_xy

test_expect_success 'the job on agent y restores what the job on agent x saved' '
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" c1 >out &&
	wait_status 1 success 120 &&
	kiln logs "Cache#1" >log &&
	test_grep "saved on ax" log &&
	test_grep "restored on ay hit=true" log &&
	test_grep "Cache saved with key: deps-linux-v1" log &&
	test_grep "Cache restored from key: deps-linux-v1" log &&
	test_grep "prefix checked" log &&
	test_grep "version checked" log &&
	# actions/cache saved post-v1 at the end of the job on agent y
	test_grep "Cache saved with key: post-v1" log &&
	test "$(sql "SELECT count(*) FROM caches")" = 2 &&
	test "$(sql "SELECT DISTINCT repo FROM caches")" = acme/app &&
	digest=$(sql "SELECT digest FROM caches WHERE key = '"'"'deps-linux-v1'"'"'") &&
	test -n "$digest" &&
	test "$(sql "SELECT kind FROM blobs WHERE digest = '"'"'$digest'"'"'")" = cache &&
	# agent y had no entry of its own: the blob came from the server
	test -f "agent-ay/cache/blobs/$digest.tzst" &&
	test -z "$(ls agent-ay/cache/entries 2>/dev/null)"
'

test_expect_success 'a job of another repository cannot restore or fetch it' '
	digest=$(sql "SELECT digest FROM caches WHERE key = '"'"'deps-linux-v1'"'"'") &&
	test -n "$digest" &&
	hook github push "{\"ref\":\"refs/heads/main\",\"before\":\"$ZERO\",\"after\":\"$(git -C other rev-parse HEAD)\",\"repository\":{\"full_name\":\"acme/other\"},\"sender\":{\"login\":\"alice\"}}" c2 "$(cat secret2)" >out &&
	id=$(leased_ajob steal) &&
	tok=$(agent_token ay) &&
	code=$(agent_call "$tok" "/api/v1/agent/jobs/$id/cache-lookup?attempt=1" \
		-X POST -d "{\"key\":\"deps-linux-v1\",\"restore_keys\":[\"d\"],\"version\":\"$(sql "SELECT version FROM caches WHERE key = '"'"'deps-linux-v1'"'"'")\"}") &&
	test "$code" = 404 && test_grep not_found r.body &&
	code=$(agent_call "$tok" "/api/v1/agent/jobs/$id/caches/$digest?attempt=1") &&
	test "$code" = 404 && test_grep not_found r.body &&
	# a digest is not a capability: acme/other cannot make an entry of
	# the blob of acme/app (then fetch it), nor an artifact or source blob
	version=$(sql "SELECT version FROM caches WHERE key = '"'"'deps-linux-v1'"'"'") &&
	code=$(agent_call "$tok" "/api/v1/agent/jobs/$id/cache-entries?attempt=1" \
		-X POST -d "{\"key\":\"mine\",\"version\":\"$version\",\"digest\":\"$digest\"}") &&
	test "$code" = 400 && test_grep "not a cache uploaded for acme/other" r.body &&
	code=$(agent_call "$tok" "/api/v1/agent/jobs/$id/caches/$digest?attempt=1") &&
	test "$code" = 404 &&
	src=$(sql "SELECT source FROM agent_jobs WHERE id = $id") &&
	test -n "$src" &&
	code=$(agent_call "$tok" "/api/v1/agent/jobs/$id/cache-entries?attempt=1" \
		-X POST -d "{\"key\":\"src\",\"version\":\"$version\",\"digest\":\"$src\"}") &&
	test "$code" = 400 &&
	test "$(sql "SELECT count(*) FROM caches WHERE repo = '"'"'acme/other'"'"'")" = 0 &&
	# a key is per repository: acme/other uploads and registers its own;
	# the first writer of a key wins
	echo "acme/other cache" >mine.bin &&
	mine=$(b2sum -l 256 mine.bin | cut -d" " -f1) &&
	code=$(agent_call "$tok" "/api/v1/agent/jobs/$id/caches/$mine" \
		-X POST -d "{\"attempt\":1,\"offset\":0,\"data\":\"$(base64 -w0 mine.bin)\",\"final\":true}") &&
	test "$code" = 200 &&
	code=$(agent_call "$tok" "/api/v1/agent/jobs/$id/cache-entries?attempt=1" \
		-X POST -d "{\"key\":\"mine\",\"version\":\"$version\",\"digest\":\"$mine\"}") &&
	test "$code" = 201 &&
	code=$(agent_call "$tok" "/api/v1/agent/jobs/$id/cache-entries?attempt=1" \
		-X POST -d "{\"key\":\"mine\",\"version\":\"$version\",\"digest\":\"$mine\"}") &&
	test "$code" = 409 && test_grep exists r.body &&
	test "$(sql "SELECT count(*) FROM caches WHERE repo = '"'"'acme/other'"'"'")" = 1 &&
	code=$(agent_call "$tok" "/api/v1/agent/jobs/$id/cache-entries?attempt=1" \
		-X POST -d "{\"key\":\"a,b\",\"version\":\"$version\",\"digest\":\"$mine\"}") &&
	test "$code" = 400 &&
	# the other agent may not use the job it does not hold
	tokx=$(agent_token ax) &&
	code=$(agent_call "$tokx" "/api/v1/agent/jobs/$id/caches/$digest?attempt=1") &&
	test "$code" = 409 &&
	touch go &&
	wait_status 2 success 120 &&
	kiln logs "Steal#1" >log2 &&
	test_grep "other repository missed" log2
'

test_done
