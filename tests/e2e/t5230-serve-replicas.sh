#!/bin/bash
test_description='two kiln serve replicas on one PostgreSQL behind HAProxy: a webhook through one, the run and its live log through the other, a cron fired once, each event run once'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/lib-pg.sh"
. "$TEST_ROOT/e2e/lib-haproxy.sh"

test_have_prereq PYTHON || test_skip_all "python3 is not installed"
command -v curl >/dev/null || test_skip_all "curl is not installed"
pg_start >"$TRASH/pg.out" 2>&1 || test_skip_all "no PostgreSQL: $(tail -n 1 "$TRASH/pg.out")"
export KILN_DB="$PG_URL"
ZERO=0000000000000000000000000000000000000000

cleanup_replicas() {
	local f p
	haproxy_kill
	for f in "$TRASH"/a.pid "$TRASH"/b.pid; do
		p=$(cat "$f" 2>/dev/null) && [ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	pg_stop
	_cleanup
}
trap cleanup_replicas EXIT

. "$TEST_ROOT/e2e/lib-replicas.sh"

test_expect_success 'setup: a repository with a push workflow that talks slowly and an every-minute cron' '
	test_create_repo src &&
	write_workflow src ci <<-\EOF &&
	on: push
	jobs:
	  talk:
	    runs-on: ubuntu-latest
	    steps:
	      - run: for i in $(seq 1 30); do echo "line-$i"; sleep 0.1; done
	EOF
	write_workflow src tick <<-\EOF &&
	on:
	  schedule:
	    - cron: "* * * * *"
	jobs:
	  t:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo tick
	EOF
	KILN_HOME="$TRASH/a" kiln repo add acme/app "$TRASH/src" >secret &&
	# the replicas share the secret key (webhook secrets, secrets)
	mkdir -p b && cp a/secret.key b/secret.key
'

test_expect_success 'two replicas start on the database; the first makes the admin' '
	replica a && replica b &&
	test -f a/initial-admin-token && ! test -f b/initial-admin-token &&
	curl -sf "$(url a)/healthz" && curl -sf "$(url b)/healthz"
'

test_expect_success 'HAProxy balances between them' '
	port=$(free_port) && echo $port >lb.port &&
	haproxy_start $port "" "127.0.0.1:$(cat a.port)" "127.0.0.1:$(cat b.port)" &&
	haproxy_wait "http://127.0.0.1:$port/healthz"
'

TOKEN=$(cat "$TRASH/a/initial-admin-token" 2>/dev/null)
SECRET=$(cat "$TRASH/secret" 2>/dev/null)

test_expect_success 'a webhook through replica a: the run and its live log through replica b' '
	body="{\"ref\":\"refs/heads/main\",\"before\":\"$ZERO\",\"after\":\"$(git -C src rev-parse HEAD)\",\"repository\":{\"full_name\":\"acme/app\"},\"sender\":{\"login\":\"alice\"}}" &&
	sig=$(python3 -c "import hmac,hashlib,sys; print(\"sha256=\" + hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())" "$SECRET" "$body") &&
	curl -sS -o hook.out -w "%{http_code}" -X POST "$(url a)/hooks/github" \
		-H "X-GitHub-Event: push" -H "X-GitHub-Delivery: r1" -H "X-Hub-Signature-256: $sig" \
		-H "Content-Type: application/json" --data-binary "$body" >code &&
	test "$(cat code)" = 202 &&
	for i in $(seq 1 100); do
		job=$(pg_psql "SELECT max(j.id) FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.workflow LIKE '\''%ci.yml'\''") &&
		[ -n "$job" ] && break
		sleep 0.1
	done &&
	test -n "$job" &&
	timeout 60 curl -sN -H "Authorization: Bearer $TOKEN" "$(url b)/api/v1/jobs/$job/logs/stream" >live &&
	grep -c "^data: line-" live >n && test "$(cat n)" = 30 &&
	grep -q "^event: end" live &&
	# run by exactly one of the two
	ls a/events/*.log b/events/*.log 2>/dev/null | grep -c "/1\.log$" >ran && test "$(cat ran)" = 1 &&
	curl -sf -H "Authorization: Bearer $TOKEN" "$(url b)/api/v1/runs?repo=acme/app" >runs.json &&
	python3 -c "import json; r=[x for x in json.load(open(\"runs.json\"))[\"runs\"] if x[\"workflow\"].endswith(\"ci.yml\")]; assert len(r)==1 and r[0][\"conclusion\"]==\"success\", r"
'

test_expect_success 'through HAProxy: both replicas answer the same API' '
	lb="http://127.0.0.1:$(cat lb.port)" &&
	for i in 1 2 3 4; do
		curl -sf -H "Authorization: Bearer $TOKEN" "$lb/api/v1/runs?repo=acme/app" >lb$i.json || return 1
	done &&
	for i in 2 3 4; do cmp lb1.json lb$i.json || return 1; done
'

test_expect_success 'the cron fired once for its minute, and every event ran exactly once' '
	for i in $(seq 1 100); do
		[ "$(pg_psql "SELECT count(*) FROM events WHERE kind = '\''schedule'\'' AND status IN ('\''success'\'', '\''failure'\'')")" -ge 1 ] && break
		sleep 0.1
	done &&
	pg_psql "SELECT delivery, count(*) FROM events WHERE kind = '\''schedule'\'' GROUP BY delivery HAVING count(*) > 1" >dups &&
	test ! -s dups &&
	pg_psql "SELECT count(*) FROM runs r WHERE r.workflow LIKE '\''%tick.yml'\''" >ticks &&
	pg_psql "SELECT count(DISTINCT delivery) FROM events WHERE kind = '\''schedule'\''" >minutes &&
	test "$(cat ticks)" -le "$(cat minutes)" &&
	pg_psql "SELECT count(*) FROM runs GROUP BY event_id HAVING count(*) > 1" >twice &&
	test ! -s twice
'

test_expect_success 'kill -9 of replica a: replica b keeps serving webhooks and runs them' '
	kill -9 $(cat a.pid) &&
	body="{\"ref\":\"refs/heads/main\",\"before\":\"$ZERO\",\"after\":\"$(git -C src rev-parse HEAD)\",\"repository\":{\"full_name\":\"acme/app\"},\"sender\":{\"login\":\"alice\"}}" &&
	sig=$(python3 -c "import hmac,hashlib,sys; print(\"sha256=\" + hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())" "$SECRET" "$body") &&
	lb="http://127.0.0.1:$(cat lb.port)" &&
	for i in $(seq 1 20); do
		code=$(curl -sS -o /dev/null -w "%{http_code}" -X POST "$lb/hooks/github" \
			-H "X-GitHub-Event: push" -H "X-GitHub-Delivery: r2" -H "X-Hub-Signature-256: $sig" \
			-H "Content-Type: application/json" --data-binary "$body") &&
		case $code in 20?) break ;; esac
		sleep 0.2
	done &&
	case $code in 20?) ;; *) false ;; esac &&
	for i in $(seq 1 200); do
		s=$(pg_psql "SELECT status FROM events WHERE delivery = '\''r2'\''") &&
		[ "$s" = success ] && break
		sleep 0.1
	done &&
	test "$s" = success
'

test_done
