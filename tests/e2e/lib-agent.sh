# tests/e2e/lib-agent.sh: helpers for `kiln agent` tests, sourced after
# lib-serve.sh. Agents a test starts are killed at exit.
#
#   regtoken                    a registration token from the server's store
#   start_agent NAME [ARGS]     kiln agent NAME (own data dir $TRASH/agent-NAME)
#   stop_agent NAME             SIGTERM, wait
#   kill9_agent NAME            kill -9 (and its job's processes stay to be found)
#   ajob_col ID COL             a column of agent_jobs
#   wait_ajobs_done N [SECONDS] until N agent jobs are done
#   serve_agents_xy             serve_app for agents (a 10 s lease), REGTOKEN, and
#                               agents ax (label x) and ay (label y), one job each
#   agent_token NAME            agent NAME's own token (to call the agent API as it)
#   leased_ajob LIKE [SECONDS]  the id of the agent job named like %LIKE%, once leased
#   agent_call TOKEN PATH [CURL ARGS]  the HTTP status of the server's PATH called
#                               with TOKEN; the body in r.body

agent_cleanup() {
	local f
	for f in "$TRASH"/agent-*.pid; do
		[ -f "$f" ] || continue
		kill -9 "$(cat "$f")" 2>/dev/null
	done
	serve_cleanup
}
trap agent_cleanup EXIT

regtoken() {
	kiln agent token create
}

start_agent() {
	local name=$1
	shift
	kiln agent --server "$(serve_url)" --token "$REGTOKEN" --name "$name" \
		--data "$TRASH/agent-$name" "$@" >>"$TRASH/agent-$name.log" 2>&1 &
	echo $! >"$TRASH/agent-$name.pid"
}

agent_pid() { cat "$TRASH/agent-$1.pid"; }

stop_agent() {
	local p i
	p=$(agent_pid "$1")
	kill -TERM "$p" 2>/dev/null || return 0
	for i in $(seq 1 300); do
		kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || :; return 0; }
		sleep 0.05
	done
	echo "kiln agent $1 did not stop after SIGTERM" >&2
	return 1
}

kill9_agent() {
	local p
	p=$(agent_pid "$1")
	kill -9 "$p" && while kill -0 "$p" 2>/dev/null; do sleep 0.02; done
}

# sql QUERY: the rows as "a|b", one a line (the server's store: SQLite, or
# PostgreSQL when tests/lib-pg.sh started one for the suite)
sql() {
	db_sql "$1"
}

wait_ajobs_done() {
	local i n
	for i in $(seq 1 $((${2:-30} * 10))); do
		n=$(sql "SELECT count(*) FROM agent_jobs WHERE status = 'done'")
		[ "$n" -ge "$1" ] && return 0
		sleep 0.1
	done
	echo "expected $1 agent jobs done, $n are" >&2
	sql "SELECT id, name, status, reason, attempt FROM agent_jobs" >&2
	return 1
}

serve_agents_xy() {
	serve_app --agents all --agent-lease 10 &&
	REGTOKEN=$(regtoken) &&
	start_agent ax --jobs 1 --labels x &&
	start_agent ay --jobs 1 --labels y
}

agent_token() {
	sed -n 2p "$TRASH/agent-$1/agent-token"
}

leased_ajob() {
	local i id
	for i in $(seq 1 $((${2:-60} * 10))); do
		id=$(sql "SELECT id FROM agent_jobs WHERE status = 'leased' AND name LIKE '%$1%'")
		[ -n "$id" ] && { echo "$id"; return 0; }
		sleep 0.1
	done
	echo "no agent job like '$1' was leased" >&2
	sql "SELECT id, name, status, reason, attempt FROM agent_jobs" >&2
	return 1
}

agent_call() {
	local tok=$1 path=$2
	shift 2
	curl -sS -o r.body -w "%{http_code}" -H "Authorization: Bearer $tok" "$@" "$(serve_url)$path"
}
