#!/bin/bash
test_description='kiln agent: forged and revoked tokens are refused; runs-on labels as self-hosted runners (a job no agent can take waits, saying why); a job'"'"'s secrets reach only the agent that runs it'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-agent.sh"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'setup: a gpu job, and a job holding a secret' '
	test_create_repo src &&
	mkdir -p src/.github/workflows &&
	cat >src/.github/workflows/gpu.yml <<-EOF &&
	name: GPU
	on: push
	jobs:
	  train:
	    runs-on: [self-hosted, GPU]
	    steps:
	      - run: echo "trained on \$RUNNER_NAME"
	EOF
	cat >src/.github/workflows/secret.yml <<-EOF &&
	name: Secret
	on: push
	jobs:
	  deploy:
	    runs-on: [self-hosted, deploy]
	    steps:
	      - run: |
	          echo "\$TOKEN" >proof.txt
	          echo "token=\$TOKEN on \$RUNNER_NAME"
	          for i in \$(seq 1 60); do test -e "$TRASH/release" && break; sleep 0.1; done
	        env:
	          TOKEN: \${{ secrets.DEPLOY_TOKEN }}
	EOF
	git -C src add . && git -C src commit -q -m jobs &&
	kiln repo add acme/app "$TRASH/src" >secret &&
	echo s3cr3t-v4lue-42 | kiln env secret set acme/app DEPLOY_TOKEN
'

start_serve --jobs 2 --agents self-hosted --agent-lease 3
SECRET=$(cat secret)
REGTOKEN=$(regtoken)
ADMIN=$(cat "$DATA/initial-admin-token")

lease() { # TOKEN: the HTTP status of a lease request
	curl -sS -o "$TRASH/lease.body" -w "%{http_code}" -X POST "$(serve_url)/api/v1/agent/lease" \
		-H "Authorization: Bearer $1" --data "{}"
}

test_expect_success 'forged tokens are refused (401), registration needs a live registration token' '
	test "$(lease kagt_forgedforgedforgedforgedforgedforgedforge)" = 401 &&
	test "$(lease "$ADMIN")" = 401 &&
	test "$(lease "$REGTOKEN")" = 401 &&
	code=$(curl -sS -o reg.body -w "%{http_code}" -X POST "$(serve_url)/api/v1/agent/register" \
		-H "Authorization: Bearer kreg_forgedforgedforgedforgedforgedforgedforge" \
		--data "{\"name\":\"x\",\"labels\":[]}") &&
	test "$code" = 401 &&
	test_expect_code 2 kiln agent --server "$(serve_url)" --token kreg_nope --data "$TRASH/agent-x" 2>err &&
	test_grep "registration refused (HTTP 401)" err
'

test_expect_success 'registration tokens over the API: admins only' '
	tok=$(kiln agent token create --server "$(serve_url)" --token "$ADMIN" --expires 1) &&
	case "$tok" in kreg_*) ;; *) false ;; esac &&
	kiln user add dev --role developer &&
	devtok=$(kiln token create --user dev | grep -o "kiln_[A-Za-z0-9]*") &&
	test_expect_code 1 kiln agent token create --server "$(serve_url)" --token "$devtok" 2>err &&
	test_grep "403\|forbidden\|admin" err
'

test_expect_success 'a job whose labels no agent has waits with the reason; a GPU agent takes it' '
	start_agent cpu --labels linux,x64 --jobs 2 &&
	start_agent dep1 --labels deploy --jobs 1 &&
	touch release &&
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" g1 >out &&
	for i in $(seq 1 100); do
		curl -sS -H "Authorization: Bearer $ADMIN" "$(serve_url)/api/v1/agent/jobs" >jobs.json &&
		grep -q "no agent with labels \[gpu,self-hosted\]" jobs.json && break
		sleep 0.1
	done &&
	test_grep "no agent with labels \[gpu,self-hosted\]" jobs.json &&
	test "$(event_status 1)" = running &&
	# the run logs the reason on its next look at the queue
	for i in $(seq 1 200); do
		kiln logs "GPU#1" >log 2>/dev/null &&
		grep -q "waiting: no agent with labels \[gpu,self-hosted\]" log && break
		sleep 0.1
	done &&
	start_agent gpu --labels GPU --jobs 1 &&
	wait_status 1 success 60 &&
	kiln logs "GPU#1" >log &&
	test_grep "trained on gpu" log &&
	test_grep "waiting: no agent with labels \[gpu,self-hosted\]" log
'

test_expect_success 'a revoked agent token is refused; the agent stops' '
	id=$(kiln agent list --json | python3 -c "import json,sys; print([a[\"id\"] for a in json.load(sys.stdin) if a[\"name\"] == \"cpu\"][0])") &&
	kiln agent revoke "$id" &&
	tok=$(sed -n 2p agent-cpu/agent-token) &&
	test "$(lease "$tok")" = 401 &&
	for i in $(seq 1 300); do kill -0 "$(agent_pid cpu)" 2>/dev/null || break; sleep 0.05; done &&
	! kill -0 "$(agent_pid cpu)" 2>/dev/null &&
	test_grep "refused the agent token" agent-cpu.log
'

test_expect_success 'a secret reaches only the agent running its job, never the store or the logs in clear' '
	rm -f release &&
	start_agent dep2 --labels deploy --jobs 1 &&
	echo 2 >src/ROUND && git -C src add ROUND && git -C src commit -q -m two &&
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" g2 >out &&
	for i in $(seq 1 200); do
		grep -rqs s3cr3t-v4lue-42 agent-dep1 agent-dep2 && break
		sleep 0.05
	done &&
	ran=$(grep -rls s3cr3t-v4lue-42 agent-dep1 agent-dep2 | cut -d/ -f1 | sort -u) &&
	test "$(echo "$ran" | wc -l)" = 1 &&
	case $ran in agent-dep1) other=agent-dep2 ;; *) other=agent-dep1 ;; esac &&
	! grep -rqs s3cr3t-v4lue-42 "$other" agent-gpu &&
	for p in $(agent_pid dep1) $(agent_pid dep2) $(agent_pid gpu); do
		! grep -qs s3cr3t-v4lue-42 "/proc/$p/environ" || return 1
	done &&
	touch release &&
	wait_status 2 success 60 &&
	kiln logs "Secret#2" >log &&
	test_grep "token=\*\*\* on ${ran#agent-}" log &&
	! grep -rqs s3cr3t-v4lue-42 "$DATA/kiln.db" "$DATA/kiln.db-wal" log &&
	test "$(sql "SELECT count(*) FROM agent_jobs WHERE secrets_box IS NOT NULL")" -ge 1 &&
	! grep -rqs s3cr3t-v4lue-42 "$ran" "$other"
'

test_done
