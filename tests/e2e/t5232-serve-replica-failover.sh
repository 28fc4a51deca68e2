#!/bin/bash
test_description='two kiln serve replicas on one PostgreSQL behind HAProxy, two agents through HAProxy: kill -9 of a replica (the agents go on through the other, every job once, the log complete; a dead replica'"'"'s run is failed "server lost" and runs its unfinished jobs again as attempt 2 on the other), PostgreSQL restarted mid-run (nothing lost), an agent'"'"'s artifact served by either replica'
export KILN_TEST_DB=pg # always on PostgreSQL (replicas need a shared database)
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-haproxy.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-agent.sh"
. "$TEST_ROOT/e2e/lib-replicas.sh"

ZERO=0000000000000000000000000000000000000000
# jobs per run: each makes its own directory (mkdir fails on a second run
# of the same job) and prints LINES lines
N=40
LINES=20

cleanup_failover() {
	local f p
	for f in "$TRASH"/a.pid "$TRASH"/b.pid "$TRASH"/haproxy.pid; do
		p=$(cat "$f" 2>/dev/null) && [ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	agent_cleanup
}
trap cleanup_failover EXIT

# a replica: jobs to agents; silent 5 s, it is lost
agent_replica() {
	replica "$1" --agents all --agent-lease 5 --replica-ttl 5
}

# HAProxy over the replicas' current ports (a restarted replica listens
# on a new one: reloaded)
lb_start() {
	haproxy_start --check --reload "$(cat "$TRASH/serve.port")" "" \
		"127.0.0.1:$(cat "$TRASH/a.port")" "127.0.0.1:$(cat "$TRASH/b.port")" &&
	haproxy_wait "$(serve_url)/healthz"
}

# push ROUND: a new commit pushed through HAProxy as delivery rROUND; its sha in sha-ROUND
push() {
	echo "$1" >src/ROUND && git -C src add ROUND && git -C src commit -q -m "round $1" &&
	git -C src rev-parse HEAD >"sha-$1" &&
	push_hook refs/heads/main $ZERO "$(cat "sha-$1")" "r$1" >out && head -n1 out | grep -qx 202
}

# the event id of round ROUND
event_of() { db_sql "SELECT id FROM events WHERE delivery = 'r$1'"; }

# wait_effects ROUND COUNT: until COUNT jobs of the round ran
wait_effects() {
	local i
	for i in $(seq 1 1200); do
		[ "$(ls -d effects/"$(cat "sha-$1")"-* 2>/dev/null | wc -l)" -ge "$2" ] && return 0
		sleep 0.05
	done
	echo "round $1: fewer than $2 jobs ran" >&2
	return 1
}

# the replica (a or b) running the event of round ROUND
owner_of() {
	local ev i d
	ev=$(event_of "$1")
	for i in $(seq 1 200); do
		d=$(db_sql "SELECT r.data_dir FROM events e JOIN replicas r ON r.id = e.replica WHERE e.id = $ev")
		[ -n "$d" ] && { basename "$d"; return 0; }
		sleep 0.05
	done
	return 1
}

# every job of round ROUND ran exactly once, its log complete
all_once() {
	local sha n
	sha=$(cat "sha-$1") &&
	n=$(ls -d effects/"$sha"-* | wc -l) && test "$n" = $N &&
	test "$(db_sql "SELECT count(*) FROM agent_jobs a JOIN runs r ON r.id = a.run_id JOIN events e ON e.id = r.event_id WHERE e.delivery = 'r$1' AND a.status = 'done' AND a.result = 'success' AND a.attempt = 1")" = $N &&
	kiln logs "$(db_sql "SELECT r.id FROM runs r JOIN events e ON e.id = r.event_id WHERE e.delivery = 'r$1'")" >"log-$1" &&
	test "$(grep -c "line [0-9]* of job" "log-$1")" = $((N * LINES))
}

test_expect_success 'setup: a run of many short jobs, two replicas, HAProxy, two agents through it' '
	test_create_repo src &&
	mkdir -p src/.github/workflows effects &&
	cat >src/.github/workflows/many.yml <<-EOF &&
	name: Many
	on:
	  push:
	    branches: [main]
	jobs:
	  work:
	    runs-on: self-hosted
	    strategy:
	      matrix:
	        n: [$(seq -s, 1 $N)]
	    steps:
	      - run: |
	          a=\${{ github.run_attempt }}; [ \$a = 1 ] && a= || a=-a\$a
	          mkdir "$TRASH/effects/\${{ github.sha }}-\${{ matrix.n }}\$a"
	          for i in \$(seq 1 $LINES); do echo "line \$i of job \${{ matrix.n }}"; done
	          sleep 0.3
	EOF
	# an artifact in 384 KB chunks: round-robin takes them to both replicas
	cat >src/.github/workflows/art.yml <<-\EOF &&
	name: Art
	on:
	  push:
	    branches: [art]
	jobs:
	  build:
	    runs-on: self-hosted
	    steps:
	      - run: |
	          mkdir out
	          head -c 1500000 /dev/urandom >out/blob.bin
	          echo "sum $(sha256sum out/blob.bin | cut -d" " -f1)"
	      - uses: actions/upload-artifact@v4
	        with:
	          name: bin
	          path: out/
	EOF
	git -C src add . && git -C src commit -q -m many &&
	KILN_HOME="$TRASH/a" kiln repo add acme/app "$TRASH/src" >secret &&
	mkdir -p b && cp a/secret.key b/secret.key &&
	agent_replica a && agent_replica b &&
	free_port >serve.port &&
	lb_start &&
	REGTOKEN=$(regtoken) && echo "$REGTOKEN" >regtoken &&
	start_agent x --jobs 2 && start_agent y --jobs 2
'
SECRET=$(cat "$TRASH/secret" 2>/dev/null)
REGTOKEN=$(cat "$TRASH/regtoken" 2>/dev/null)

test_expect_success 'kill -9 of the replica not running the event: the agents go on through the other, every job once' '
	push 1 && own=$(owner_of 1) &&
	case $own in a) other=b ;; *) other=a ;; esac && echo $other >killed &&
	wait_effects 1 5 &&
	kill -9 "$(cat $other.pid)" &&
	wait_status "$(event_of 1)" success 180 &&
	all_once 1
'

test_expect_success 'the killed replica comes back (its start closes nothing of the live one)' '
	other=$(cat killed) &&
	agent_replica $other && lb_start &&
	! grep "ended as failed" $other.log
'

test_expect_success 'kill -9 of the replica running the event: the other fails it "server lost", its agent jobs end, attempt 2 runs what did not finish' '
	push 2 && own=$(owner_of 2) &&
	wait_effects 2 5 &&
	kill -9 "$(cat $own.pid)" &&
	ev=$(event_of 2) &&
	wait_status "$ev" failure 120 &&
	db_sql "SELECT reason FROM events WHERE id = $ev" >reason &&
	test_grep "server lost" reason &&
	test "$(db_sql "SELECT count(*) FROM runs WHERE event_id = $ev AND status = '\''in_progress'\''")" = 0 &&
	for i in $(seq 1 200); do
		open=$(db_sql "SELECT count(*) FROM agent_jobs a JOIN runs r ON r.id = a.run_id WHERE r.event_id = $ev AND a.status <> '\''done'\''") &&
		[ "$open" = 0 ] && break
		sleep 0.1
	done &&
	test "$open" = 0 &&
	for i in $(seq 1 600); do
		re=$(db_sql "SELECT id FROM events WHERE rerun_of = $ev") && [ -n "$re" ] && break
		sleep 0.1
	done &&
	test -n "$re" &&
	test "$(db_sql "SELECT attempt FROM events WHERE id = $re")" = 2 &&
	wait_status "$re" success 180 &&
	# every job ran; in attempt 2 only those attempt 1 had not finished, once each
	sha=$(cat sha-2) &&
	for n in $(seq 1 $N); do
		test -d "effects/$sha-$n" || test -d "effects/$sha-$n-a2" || { echo "job $n never ran" >&2; false; }
	done &&
	done1=$(db_sql "SELECT count(*) FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.event_id = $ev AND j.conclusion = '\''success'\''") &&
	say "attempt 1 finished $done1 of $N jobs, attempt 2 ran the other $((N - done1))" &&
	test "$done1" -lt $N &&
	test "$(ls -d effects/"$sha"-*-a2 2>/dev/null | wc -l)" = $((N - done1)) &&
	db_sql "SELECT actor || '\'' '\'' || detail FROM audit_log WHERE action = '\''run.rerun'\'' AND target = '\''event $ev'\''" >audit &&
	test_grep "^kiln attempt 2, server lost" audit &&
	agent_replica $own && lb_start
'

test_expect_success 'the agents run the next push to the end on the replicas left' '
	push 3 &&
	wait_status "$(event_of 3)" success 180 &&
	all_once 3
'

test_expect_success 'PostgreSQL restarted mid-run: the replicas and the agents go on by themselves' '
	push 4 &&
	wait_effects 4 5 &&
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 restart >pg-restart.out 2>&1 &&
	wait_status "$(event_of 4)" success 180 &&
	all_once 4 &&
	push 5 &&
	wait_status "$(event_of 5)" success 180 &&
	all_once 5
'

test_expect_success 'an artifact an agent uploaded through both replicas is served by each' '
	sha=$(git -C src rev-parse HEAD) &&
	push_hook refs/heads/art $ZERO "$sha" art1 >out && head -n1 out | grep -qx 202 &&
	ev=$(db_sql "SELECT id FROM events WHERE delivery = '\''art1'\''") &&
	wait_status "$ev" success 180 &&
	run=$(db_sql "SELECT r.id FROM runs r WHERE r.event_id = $ev") &&
	kiln logs "$run" >art-log &&
	sum=$(sed -n "s/.*sum \([0-9a-f]*\)$/\1/p" art-log) && test -n "$sum" &&
	token=$(cat a/initial-admin-token b/initial-admin-token 2>/dev/null | head -n 1) &&
	for r in a b; do
		curl -sS -f -H "Authorization: Bearer $token" -o $r.tar.zst \
			"http://127.0.0.1:$(cat $r.port)/api/v1/runs/$run/artifacts/bin" &&
		mkdir got-$r && zstd -qdc $r.tar.zst | tar -x -C got-$r &&
		test "$(sha256sum got-$r/blob.bin | cut -d" " -f1)" = "$sum" || return 1
	done &&
	# kept in the shared store, in no replica'"'"'s data directory
	test "$(db_sql "SELECT count(*) FROM blobs WHERE kind = '\''artifact'\''")" = 1 &&
	! ls a/artifacts/*.tzst b/artifacts/*.tzst 2>/dev/null
'

test_done
