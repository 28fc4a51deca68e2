#!/bin/bash
test_description='kiln serve: logins hash passwords off the loop (the server answers meanwhile, a client leaving mid-login is harmless); an approval or rejection wakes the waiting run at once (the poll is only a safety net)'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

ZERO=0000000000000000000000000000000000000000
sql () {
	python3 -c "import sqlite3,sys; [print(\"|\".join(map(str, r))) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]" "$DATA/kiln.db" "$1"
}

test_expect_success 'setup: a protected environment, a reviewer with a password' '
	test_create_repo app &&
	write_workflow app deploy <<-\EOF &&
	on: push
	jobs:
	  production:
	    environment: production
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo deployed
	EOF
	kiln repo add shop "$TRASH/app" >secret &&
	echo "bob-password-123" | kiln user add bob --role deployer --password-stdin >/dev/null &&
	kiln env set shop production --reviewer user:bob >/dev/null
'

# the safety-net poll of a waiting job: a minute, three times the bound of
# wait_status below, so only a wake-up can end these runs in time
KILN_GATE_POLL_MS=60000 start_serve --jobs 2
SECRET=$(cat secret)

login () {
	curl -sS -o "$1" -w "%{http_code}\n" -X POST "$(serve_url)/api/v1/login" \
		-H "Content-Type: application/json" -d "{\"user\":\"bob\",\"password\":\"$2\"}"
}

test_expect_success 'a login answers with a token; a wrong password is 401' '
	test "$(login ok.json bob-password-123)" = 200 &&
	python3 -c "import json; d=json.load(open(\"ok.json\")); assert d[\"token\"].startswith(\"kiln_\") and d[\"user\"]==\"bob\" and d[\"role\"]==\"deployer\", d" &&
	test "$(login bad.json wrong-password)" = 401 &&
	test_grep invalid_credentials bad.json &&
	python3 -c "import json; print(json.load(open(\"ok.json\"))[\"token\"])" >bob.tok
'

test_expect_success 'while logins are being hashed the server answers other requests' '
	for i in $(seq 1 16); do
		(login l$i.json bob-password-123 >l$i.code; date +%s%N >l$i.end) &
	done &&
	sleep 0.05 &&
	curl -sS -f "$(serve_url)/healthz" >/dev/null && date +%s%N >hz.end &&
	wait &&
	for i in $(seq 1 16); do test "$(cat l$i.code)" = 200 || return 1; done &&
	# on the loop, 16 hashes (~0.1 s of CPU each) would all come before
	# /healthz; off it, /healthz overtakes most of them
	before=0 &&
	for i in $(seq 1 16); do
		if [ "$(cat l$i.end)" -lt "$(cat hz.end)" ]; then before=$((before + 1)); fi
	done &&
	echo "$before logins ended before /healthz" &&
	test $before -lt 8
'

test_expect_success 'a client that leaves in the middle of a login harms nothing' '
	for i in 1 2 3 4; do
		curl -s -o /dev/null --max-time 0.02 -X POST "$(serve_url)/api/v1/login" \
			-d "{\"user\":\"bob\",\"password\":\"bob-password-123\"}" || :
	done &&
	sleep 0.5 &&
	kill -0 "$(serve_pid)" &&
	test "$(login again.json bob-password-123)" = 200
'

# a push; the production job waits for bob; prints the run id
push_and_wait () {
	git -C app commit -q --allow-empty -m "$1" &&
	hook github push "{\"ref\":\"refs/heads/main\",\"before\":\"$ZERO\",\"after\":\"$(git -C app rev-parse HEAD)\",\"repository\":{\"full_name\":\"shop\"},\"sender\":{\"login\":\"alice\"}}" "$1" >"$TRASH/hook.out" &&
	for i in $(seq 1 300); do
		run=$(sql "SELECT run_id FROM deployments WHERE state = 'waiting' ORDER BY id DESC LIMIT 1")
		[ -n "$run" ] && break
		sleep 0.1
	done &&
	test -n "$run" && echo "$run"
}

test_expect_success 'an approval starts the waiting job at once' '
	run=$(push_and_wait d1) &&
	id=$(events) && test "$(event_status $id)" = running &&
	kiln approve "$run" --server "$(serve_url)" --token "$(cat bob.tok)" -c "ship it" >out &&
	wait_status $id success 20 &&
	test_grep "deployed" "$DATA/events/$id.log"
'

test_expect_success 'a rejection ends the waiting job at once' '
	run=$(push_and_wait d2) &&
	id=$(events) &&
	kiln reject "$run" --server "$(serve_url)" --token "$(cat bob.tok)" -c "not today" >out &&
	wait_status $id failure 20 &&
	test_grep "rejected by bob: not today" "$DATA/events/$id.log"
'

test_done
