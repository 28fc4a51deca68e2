#!/bin/bash
test_description='make demo, the server part: examples/serve-demo.sh runs every stage on a real kiln serve and leaves nothing behind'
. "$(dirname "$0")/../lib.sh"

test_have_prereq HAPROXY || test_skip_all "haproxy is not installed"
test_have_prereq PYTHON || test_skip_all "python3 is not installed"
test_have_prereq CURL || test_skip_all "curl is not installed"

# leftovers DIR: processes (but this one) whose command line or environment names DIR
leftovers() {
	python3 - "$1" <<-\PY
	import os, sys
	for p in os.listdir("/proc"):
	    if not p.isdigit() or int(p) == os.getpid():
	        continue
	    for f in ("cmdline", "environ"):
	        try:
	            if sys.argv[1].encode() in open("/proc/%s/%s" % (p, f), "rb").read():
	                print(p, open("/proc/%s/cmdline" % p, "rb").read().replace(b"\0", b" ").decode())
	                break
	        except OSError:
	            pass
	PY
}

test_expect_success 'every stage: push by webhook, CI, staging by itself, production after approval, DORA' '
	mkdir -p tmp &&
	TMPDIR=$TRASH/tmp timeout 120 "$SRC_ROOT/examples/serve-demo.sh" "$KILN" >out 2>&1 ||
		{ cat out; false; } &&
	test_grep "POST /hooks/github -> 202, event 1 queued" out &&
	test_grep "staging serves shop-staging r-" out &&
	test_grep "production: not for develop" out &&
	test_grep "run 2 waits: production needs rui.s approval" out &&
	test_grep "waiting for approval to deploy to .production. by rui" out &&
	test_grep "production serves nothing yet" out &&
	test_grep "run 2: 1 deployment approved" out &&
	test_grep "production serves shop r-" out &&
	test_grep "deployment frequency .*1 successful" out &&
	test_grep "lead time for changes" out &&
	test_grep "change failure rate .*0 of 1" out &&
	test_grep "recovery time" out &&
	test_grep "^serve demo: push -> CI -> staging -> approval -> production -> DORA" out &&
	test "$(ls tmp)" = "" &&
	test -z "$(leftovers "$TRASH/tmp")"
'

test_expect_success 'a stage that does not happen fails the demo (exit 1, the stage named), and it still cleans up' '
	mkdir -p bin tmp2 &&
	printf "#!/bin/sh\necho haproxy: broken >&2\nexit 1\n" >bin/haproxy && chmod +x bin/haproxy &&
	test_expect_code 1 env PATH="$TRASH/bin:$PATH" TMPDIR=$TRASH/tmp2 timeout 120 \
		"$SRC_ROOT/examples/serve-demo.sh" "$KILN" >out 2>&1 &&
	test_grep "serve-demo: FAILED: kiln deployd did not start" out &&
	test "$(ls tmp2)" = "" &&
	test -z "$(leftovers "$TRASH/tmp2")"
'

test_done
