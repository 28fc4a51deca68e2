# tests/e2e/lib-agent.sh: helpers for `kiln agent` tests, sourced after
# lib-serve.sh. Agents a test starts are killed at exit.
#
#   regtoken                    a registration token from the server's store
#   start_agent NAME [ARGS]     kiln agent NAME (own data dir $TRASH/agent-NAME)
#   stop_agent NAME             SIGTERM, wait
#   kill9_agent NAME            kill -9 (and its job's processes stay to be found)
#   ajob_col ID COL             a column of agent_jobs
#   wait_ajobs_done N [SECONDS] until N agent jobs are done

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
