#!/bin/bash
test_description='kiln serve: artifact downloads are streamed from the blob (a chunk at a time, read off the loop): byte-exact with its Content-Length and digest, several at once, a client that leaves midway, and the server never holding the file in memory (API and UI)'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-ui.sh"

command -v zstd >/dev/null || test_skip_all "zstd is not installed"

ZERO=0000000000000000000000000000000000000000
MB=32

test_expect_success 'setup: a workflow that uploads a 32 MB incompressible artifact' '
	serve_app_repo CI <<-EOF
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: mkdir out && head -c ${MB}000000 /dev/urandom >out/big.bin
	      - uses: actions/upload-artifact@v4
	        with:
	          name: big
	          path: out/
	EOF
'

serve_app --jobs 1

# the server's peak resident memory so far, kB
peak_kb () { sed -n "s/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p" /proc/$(serve_pid)/status; }

test_expect_success 'the run uploads the artifact' '
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" a1 >out &&
	head -n1 out | grep -qx 202 &&
	wait_status 1 success 120 &&
	api "/api/v1/runs?repo=acme/app" |
		python3 -c "import json,sys; print(json.load(sys.stdin)[\"runs\"][0][\"id\"])" >run.id &&
	api "/api/v1/runs/$(cat run.id)/artifacts" >list &&
	python3 -c "import json; a=json.load(open(\"list\"))[\"artifacts\"][0]; print(a[\"digest\"]); print(a[\"size\"])" >meta &&
	digest=$(sed -n 1p meta) && test -f "$DATA/artifacts/$digest.tzst" &&
	test "$(stat -c %s "$DATA/artifacts/$digest.tzst")" -gt $((MB * 1000000))
'

test_expect_success 'three downloads at once: each byte-exact, Content-Length the blob size, the digest the blob digest' '
	digest=$(sed -n 1p meta) &&
	before=$(peak_kb) &&
	for n in 1 2 3; do
		curl -sS -f -D h$n -H "Authorization: Bearer $TOKEN" -o d$n.tzst \
			"$(serve_url)/api/v1/runs/$(cat run.id)/artifacts/big" & 
	done &&
	wait &&
	size=$(stat -c %s "$DATA/artifacts/$digest.tzst") &&
	for n in 1 2 3; do
		cmp d$n.tzst "$DATA/artifacts/$digest.tzst" &&
		grep -qi "^content-length: $size" h$n &&
		grep -qi "^x-kiln-digest: $digest" h$n || return 1
	done &&
	zstd -dc d1.tzst | tar -x -O big.bin | wc -c >len && test "$(cat len)" = ${MB}000000 &&
	after=$(peak_kb) &&
	echo "# peak RSS before $before kB, after three downloads of $size bytes: $after kB" &&
	# read whole, one download alone would raise the peak by the file size
	test $((after - before)) -lt $((size / 1024 / 2))
'

test_expect_success 'a client that leaves midway: the server goes on serving' '
	{ curl -sS -H "Authorization: Bearer $TOKEN" "$(serve_url)/api/v1/runs/$(cat run.id)/artifacts/big" |
		head -c 1000000 >part; } 2>/dev/null;
	test "$(stat -c %s part)" = 1000000 &&
	kill -0 "$(serve_pid)" &&
	curl -sS -f -H "Authorization: Bearer $TOKEN" -o again.tzst \
		"$(serve_url)/api/v1/runs/$(cat run.id)/artifacts/big" &&
	cmp again.tzst "$DATA/artifacts/$(sed -n 1p meta).tzst"
'

test_expect_success 'the UI download is streamed the same way; a missing blob is a clear 500' '
	ui_user vic viewer vic-pass-123 &&
	ui_login vic vic-pass-123 v &&
	curl -sS -f -D uh -b v -o ui.tzst "$(serve_url)/runs/$(cat run.id)/artifacts/big" &&
	cmp ui.tzst "$DATA/artifacts/$(sed -n 1p meta).tzst" &&
	grep -qi "^content-disposition: attachment; filename=\"big.tar.zst\"" uh &&
	mv "$DATA/artifacts/$(sed -n 1p meta).tzst" moved.tzst &&
	curl -sS -o err -w "%{http_code}\n" -H "Authorization: Bearer $TOKEN" \
		"$(serve_url)/api/v1/runs/$(cat run.id)/artifacts/big" >code &&
	grep -qx 500 code && test_grep "cannot read artifact .big." err &&
	mv moved.tzst "$DATA/artifacts/$(sed -n 1p meta).tzst"
'

test_done
