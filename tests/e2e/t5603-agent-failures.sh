#!/bin/bash
test_description='kiln agent: an agent killed mid-job (re-queued as attempt 2, or failed "agent lost" with --agent-retry 0); an agent back after its lease was taken is told to stop'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-agent.sh"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'setup: a slow job that ticks into a file named after its agent' '
	test_create_repo src &&
	mkdir -p src/.github/workflows &&
	cat >src/.github/workflows/slow.yml <<-EOF &&
	name: Slow
	on: push
	jobs:
	  slow:
	    runs-on: self-hosted
	    steps:
	      - run: |
	          for i in \$(seq 1 40); do echo tick >>"$TRASH/ticks-\$RUNNER_NAME"; echo "tick \$i"; sleep 0.25; done
	          echo "\$RUNNER_NAME" >>"$TRASH/done"
	EOF
	git -C src add . && git -C src commit -q -m slow &&
	kiln repo add acme/app "$TRASH/src" >secret
'

start_serve --jobs 1 --agents all --agent-lease 2 --agent-retry 1
SECRET=$(cat secret)
REGTOKEN=$(regtoken)

# push_round N: a new commit pushed as delivery rN
push_round() {
	echo "$1" >src/ROUND && git -C src add ROUND && git -C src commit -q -m "round $1" &&
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" "r$1" >out &&
	head -n1 out | grep -qx 202
}

wait_file() {
	local i
	for i in $(seq 1 200); do test -s "$1" && return 0; sleep 0.05; done
	echo "no $1" >&2
	return 1
}

# the agent and every process under it ("the machine died")
kill9_tree() {
	local p=$1 kids k
	kill -STOP "$p" 2>/dev/null
	kids=$(ps -o pid= --ppid "$p")
	for k in $kids; do kill9_tree "$k"; done
	kill -9 "$p" 2>/dev/null
}

test_expect_success 'an agent killed mid-job: the lease expires, attempt 2 runs on another agent' '
	start_agent a --jobs 1 &&
	push_round 1 &&
	wait_file ticks-a &&
	kill9_tree "$(agent_pid a)" &&
	start_agent b --jobs 1 &&
	wait_status 1 success 60 &&
	test "$(cat done)" = b &&
	test "$(sql "SELECT attempt, result FROM agent_jobs WHERE id = 1")" = "2|success" &&
	kiln logs "Slow#1" >log && test_grep "tick 40" log &&
	test_grep "agent lost (agent 1 stopped renewing its lease): re-queued, attempt 2" log &&
	test_grep "leased by agent 2 (attempt 2)" log &&
	stop_agent b
'

test_expect_success 'an agent back after its lease was taken is told to stop the job' '
	rm -f done ticks-* &&
	start_agent c --jobs 1 &&
	push_round 2 &&
	wait_file ticks-c &&
	kill -STOP "$(agent_pid c)" &&
	start_agent d --jobs 1 &&
	wait_file ticks-d &&
	kill -CONT "$(agent_pid c)" &&
	for i in $(seq 1 100); do grep -q "lease was lost: stopping it" agent-c.log && break; sleep 0.05; done &&
	test_grep "lease was lost: stopping it" agent-c.log &&
	sleep 1 && n1=$(wc -l <ticks-c) && sleep 1.5 && n2=$(wc -l <ticks-c) &&
	test "$n1" = "$n2" && test "$n2" -lt 40 &&
	wait_status 2 success 60 &&
	test "$(cat done)" = d &&
	stop_agent c && stop_agent d
'

test_expect_success 'a job leased again to the agent running it (its lease re-offered unconfirmed) runs once' '
	rm -f done ticks-* &&
	start_agent g --jobs 2 &&
	push_round 3 &&
	wait_file ticks-g &&
	id=$(sql "SELECT max(id) FROM agent_jobs") &&
	sleep 0.5 &&
	# what the sweep does to a lease its agent did not confirm in time
	# (its first heartbeat could not get through: a database restart),
	# while the agent is stopped: its open lease request gets the job back
	kill -STOP "$(agent_pid g)" &&
	sql "UPDATE agent_jobs SET status = '"'"'queued'"'"', lease_owner = NULL, lease_expires_at = NULL WHERE id = $id" &&
	for i in $(seq 1 50); do
		test "$(sql "SELECT status FROM agent_jobs WHERE id = $id")" = leased && break
		sleep 0.1
	done &&
	kill -CONT "$(agent_pid g)" &&
	ev=$(sql "SELECT max(id) FROM events") &&
	wait_status "$ev" success 60 &&
	test_grep "job $id, attempt 1: leased again while it runs here: kept running once" agent-g.log &&
	test "$(cat done)" = g &&
	test "$(wc -l <ticks-g)" = 40 &&
	stop_agent g
'

test_expect_success 'cancelling the run stops the job on its agent (told with the heartbeat)' '
	rm -f done ticks-* &&
	start_agent f --jobs 1 &&
	push_round 4 &&
	wait_file ticks-f &&
	id=$(sql "SELECT max(id) FROM events") &&
	curl -sS -f -X POST -H "Authorization: Bearer $(cat "$DATA/initial-admin-token")" 		"$(serve_url)/api/v1/events/$id/cancel" >/dev/null &&
	wait_status "$id" cancelled 30 &&
	test_grep "cancelled by the server" agent-f.log &&
	n1=$(wc -l <ticks-f) && sleep 1 && n2=$(wc -l <ticks-f) &&
	test "$n1" = "$n2" && test "$n2" -lt 40 && test ! -e done &&
	test "$(sql "SELECT result FROM agent_jobs WHERE id = (SELECT max(id) FROM agent_jobs)")" = cancelled &&
	stop_agent f
'

test_expect_success 'with --agent-retry 0 a lost agent fails the job: "agent lost"' '
	stop_serve && start_serve --jobs 1 --agents all --agent-lease 2 --agent-retry 0 &&
	rm -f done ticks-* &&
	start_agent e --jobs 1 &&
	push_round 5 &&
	wait_file ticks-e &&
	kill9_tree "$(agent_pid e)" &&
	id=$(sql "SELECT max(id) FROM events") &&
	wait_status "$id" failure 60 &&
	kiln logs "Slow#$id" >log && test_grep "kiln: agent lost" log &&
	test "$(sql "SELECT attempt, result, reason FROM agent_jobs WHERE id = (SELECT max(id) FROM agent_jobs)")" = "1|failure|agent lost" &&
	test ! -e done
'

test_done
