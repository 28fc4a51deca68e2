#!/bin/bash
test_description='kiln agent: 1, 2 and 4 agents (own processes and data dirs) drain a run of many jobs; each job runs exactly once, its log complete'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-agent.sh"

# jobs per round (bench/agents.sh runs 500)
N=${KILN_AGENT_TEST_JOBS:-100}
LINES=20
ZERO=0000000000000000000000000000000000000000

# a workflow of $N jobs (matrix of N), each making its own directory under
# effects/ (mkdir fails on a second run of the same job) and printing LINES
# numbered lines
write_drain_workflow() {
	local list
	list=$(seq -s, 1 "$N")
	mkdir -p src/.github/workflows &&
	cat >src/.github/workflows/drain.yml <<-EOF
	name: Drain
	on: push
	jobs:
	  work:
	    runs-on: self-hosted
	    strategy:
	      matrix:
	        n: [$list]
	    steps:
	      - run: |
	          mkdir "$TRASH/effects/\${{ github.sha }}-\${{ matrix.n }}"
	          echo "\$RUNNER_NAME" >"$TRASH/effects/\${{ github.sha }}-\${{ matrix.n }}/by"
	          for i in \$(seq 1 $LINES); do echo "line \$i of job \${{ matrix.n }}"; done
	EOF
}

test_expect_success 'setup' '
	test_create_repo src && write_drain_workflow &&
	git -C src add . && git -C src commit -q -m drain &&
	mkdir effects &&
	kiln repo add acme/app "$TRASH/src" >secret
'

start_serve --jobs 2 --agents all --agent-lease 5
SECRET=$(cat secret)
REGTOKEN=$(regtoken)

# drain ROUND AGENTS JOBS_EACH: push a commit, run it on AGENTS agents
drain() {
	local round=$1 agents=$2 each=$3 i sha n
	echo "round $round" >src/ROUND && git -C src add ROUND && git -C src commit -q -m "round $round" &&
	sha=$(git -C src rev-parse HEAD) &&
	for i in $(seq 1 "$agents"); do start_agent "r$round-$i" --jobs "$each" || return 1; done &&
	push_hook refs/heads/main $ZERO "$sha" "d$round" >out && head -n1 out | grep -qx 202 &&
	wait_status "$round" success 240 &&
	for i in $(seq 1 "$agents"); do stop_agent "r$round-$i" || return 1; done &&
	n=$(ls -d effects/"$sha"-* | wc -l) && test "$n" = "$N" &&
	for i in $(seq 1 "$N"); do test -f "effects/$sha-$i/by" || return 1; done &&
	# every job once: one agent job per matrix entry, one attempt each
	test "$(sql "SELECT count(*) FROM agent_jobs WHERE status = 'done' AND result = 'success' AND attempt = 1")" = $((round * N)) &&
	# each agent job names its run and job in the history
	test "$(sql "SELECT count(*) FROM agent_jobs a JOIN jobs j ON j.id = a.job_id AND j.run_id = a.run_id AND j.name = a.name")" = $((round * N)) &&
	kiln logs "Drain#$round" >log &&
	test "$(grep -c "line [0-9]* of job" log)" = $((N * LINES)) &&
	for i in 1 $((N / 2)) "$N"; do
		test "$(grep -c "line [0-9]* of job $i\$" log)" = $LINES || return 1
	done &&
	echo "# round $round: $(cat effects/"$sha"-*/by | sort | uniq -c | tr "\n" " ")"
}

test_expect_success "one agent drains $N jobs" 'drain 1 1 2'
test_expect_success "two agents drain $N jobs" 'drain 2 2 2'
test_expect_success "four agents drain $N jobs" 'drain 3 4 1'

test_done
