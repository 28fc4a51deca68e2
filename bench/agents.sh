#!/bin/bash
# bench/agents.sh: `kiln serve --agents all` with 1, 2 and 4 `kiln agent`
# processes (each its own data directory, AGENT_BENCH_SLOTS jobs at once,
# default 1) draining one run of AGENT_BENCH_JOBS jobs (default 500: two
# matrix jobs of 250; each job runs one short step).
#
# Per round, from the store's agent_jobs rows:
#   - jobs/s: jobs / (last finished - first queued)
#   - lease latency (queued -> leased by an agent): p50, p90, p99, max
#   - the run's wall time (webhook accepted -> event success)
# and every job ran exactly once (one directory per job under effects/).
# Then, with one idle agent, AGENT_BENCH_SINGLES (default 20) runs of one
# job each, one at a time: the lease latency of a job an idle agent waits
# for (the long-poll's reaction time, not queueing).
# With KILN_BENCH_PG_URL (a PostgreSQL URL, e.g. from tests/with-pg) and a
# kiln whose serve takes --db, the same rounds run on PostgreSQL too.
#
# Prints numbers and the curve; never fails on a target. Bounded: each
# round waits at most AGENT_BENCH_TIMEOUT seconds (default 600).
set -u
. "$(dirname "$0")/lib.sh"
bench_init agents
JOBS=${AGENT_BENCH_JOBS:-500}
SLOTS=${AGENT_BENCH_SLOTS:-1}
SINGLES=${AGENT_BENCH_SINGLES:-20}
TIMEOUT=${AGENT_BENCH_TIMEOUT:-600}
export GIT_CONFIG_NOSYSTEM=1 HOME=$BENCH_TMP/home
git config --global user.name bench && git config --global user.email bench@example.com
git config --global init.defaultBranch main
EFFECTS=$BENCH_TMP/effects
mkdir -p "$EFFECTS"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; bench_cleanup' EXIT

half=$((JOBS / 2))
src=$BENCH_TMP/src
git init -q "$src" && mkdir -p "$src/.github/workflows" || exit 3
{
	echo 'on: push'
	echo 'jobs:'
	for j in a b; do
		n=$half
		[ $j = b ] && n=$((JOBS - half))
		echo "  $j:"
		echo '    runs-on: self-hosted'
		echo '    strategy:'
		echo "      matrix: { n: [$(seq -s, 1 "$n")] }"
		echo '    steps:'
		echo "      - run: mkdir $EFFECTS/\${{ github.sha }}-$j-\${{ matrix.n }} && echo ran $j \${{ matrix.n }}"
	done
} >"$src/.github/workflows/drain.yml"
git -C "$src" add . && git -C "$src" commit -q -m wf || exit 3
one=$BENCH_TMP/one
git init -q "$one" && mkdir -p "$one/.github/workflows" || exit 3
printf '%s\n' 'on: push' 'jobs:' '  one:' '    runs-on: self-hosted' '    steps:' '      - run: echo one' \
	>"$one/.github/workflows/one.yml"
git -C "$one" add . && git -C "$one" commit -q -m wf || exit 3
for i in $(seq 1 "$SINGLES"); do git -C "$one" commit -q --allow-empty -m "c$i" || exit 3; done

# round STORE AGENTS: one run drained by AGENTS agents on a fresh server
round() {
	local store=$1 agents=$2 data=$BENCH_TMP/data-$1-$2 dbflag=() port i sha t0 t1 pgurl=
	# PostgreSQL: a fresh database per round on the server KILN_BENCH_PG_URL names
	if [ "$store" = postgres ]; then
		local -x KILN_DB="${KILN_BENCH_PG_URL%/*}/bench_$agents"
		"$PSQL" -q "$KILN_BENCH_PG_URL" -c "CREATE DATABASE bench_$agents" >/dev/null ||
			{ echo "agents: cannot create database bench_$agents" >&2; return 1; }
		dbflag=(--db "$KILN_DB")
		pgurl=$KILN_DB
	fi
	KILN_HOME=$data "$KILN" repo add bench/app "$src" --data "$data" \
		>"$BENCH_TMP/secret" 2>/dev/null || { echo "agents: repo add failed" >&2; return 1; }
	KILN_HOME=$data "$KILN" repo add bench/one "$one" --data "$data" \
		>"$BENCH_TMP/secret-one" 2>/dev/null || { echo "agents: repo add failed" >&2; return 1; }
	KILN_HOME=$data "$KILN" serve --listen 127.0.0.1:0 --data "$data" "${dbflag[@]}" --jobs 2 \
		--agents all >"$BENCH_TMP/serve.out" 2>"$BENCH_TMP/serve-$store-$agents.log" &
	local serve=$!
	PIDS+=("$serve")
	for i in $(seq 1 100); do
		port=$(sed -n 's/^listening //p' "$BENCH_TMP/serve.out")
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || { echo "agents: the server did not start" >&2; return 1; }
	local url=http://127.0.0.1:$port reg
	reg=$(KILN_HOME=$data "$KILN" agent token create 2>/dev/null)
	for i in $(seq 1 "$agents"); do
		"$KILN" agent --server "$url" --token "$reg" --name "a$i" --jobs "$SLOTS" \
			--data "$BENCH_TMP/agent-$store-$agents-$i" 2>"$BENCH_TMP/agent-$store-$agents-$i.log" &
		PIDS+=("$!")
	done
	sleep 0.5
	echo "round $store $agents" >"$src/ROUND" && git -C "$src" add ROUND &&
		git -C "$src" commit -q -m "$store $agents" || return 1
	sha=$(git -C "$src" rev-parse HEAD)
	python3 - "$url" "$(cat "$BENCH_TMP/secret")" "$sha" "$data" "$TIMEOUT" "$JOBS" "$EFFECTS" \
		"$store" "$agents" "$SLOTS" "$pgurl" <<'PY'
import hashlib, hmac, json, os, sys, time, urllib.request
url, secret, sha, data, timeout, jobs, effects, store, agents, slots, pg = sys.argv[1:12]
timeout, jobs = int(timeout), int(jobs)
body = json.dumps({"ref": "refs/heads/main", "before": "0" * 40, "after": sha,
                   "repository": {"full_name": "bench/app"}}).encode()
sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
req = urllib.request.Request(url + "/hooks/github?repo=bench/app", body, {
    "X-GitHub-Event": "push", "X-GitHub-Delivery": sha, "X-Hub-Signature-256": sig,
    "Content-Type": "application/json"})
t0 = time.time()
ev = json.loads(urllib.request.urlopen(req).read())["event"]

def query(sql):
    if store == "postgres":
        import subprocess
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "|", pg, "-c", sql],
                             capture_output=True, text=True).stdout
        return [tuple(int(x) if x.lstrip("-").isdigit() else x for x in l.split("|"))
                for l in out.splitlines() if l]
    import sqlite3
    db = sqlite3.connect(os.path.join(data, "kiln.db"), timeout=30)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()

status = None
while time.time() < t0 + timeout:
    r = query("SELECT status FROM events WHERE id = %d" % ev)
    status = r[0][0] if r else None
    if status in ("success", "failure", "cancelled"):
        break
    time.sleep(0.2)
wall = time.time() - t0
rows = query("SELECT created_at, leased_at, finished_at, attempt FROM agent_jobs "
             "WHERE status = 'done' AND result = 'success'")
ran = len([d for d in os.listdir(effects) if d.startswith(sha)])
if status != "success" or len(rows) != jobs:
    print("agents: %s, %s agent(s): the run ended '%s' with %d of %d jobs done (%d ran)"
          % (store, agents, status, len(rows), jobs, ran))
    sys.exit(1)
lat = sorted(r[1] - r[0] for r in rows)
def pct(p):
    return lat[min(len(lat) - 1, int(round(p / 100.0 * (len(lat) - 1))))]
span = (max(r[2] for r in rows) - min(r[0] for r in rows)) / 1000.0
once = "each once" if ran == jobs and all(r[3] == 1 for r in rows) else "NOT each once (%d ran)" % ran
print("agents: %-8s %d agent(s) x %s slot(s): %d jobs in %.1f s = %.1f jobs/s; lease latency "
      "p50 %d ms, p90 %d ms, p99 %d ms, max %d ms; run wall %.1f s; %s"
      % (store, int(agents), slots, jobs, span, jobs / span if span else 0, pct(50), pct(90),
         pct(99), lat[-1], wall, once))
with open(os.environ.get("AGENT_BENCH_CURVE", "/dev/null"), "a") as f:
    f.write("%s %s %.2f %d\n" % (store, agents, jobs / span if span else 0, pct(50)))
PY
	local rc=$?
	if [ $rc = 0 ] && [ "$agents" = 1 ] && [ "$SINGLES" -gt 0 ]; then
		python3 - "$url" "$(cat "$BENCH_TMP/secret-one")" "$one" "$data" "$store" \
			"$pgurl" <<'PY' || rc=1
import hashlib, hmac, json, os, subprocess, sys, time, urllib.request
url, secret, repo, data, store, pg = sys.argv[1:7]
shas = subprocess.run(["git", "-C", repo, "rev-list", "--reverse", "HEAD~%s..HEAD"
                       % os.environ.get("AGENT_BENCH_SINGLES", "20")],
                      capture_output=True, text=True).stdout.split()
def query(sql):
    if store == "postgres":
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "|", pg, "-c", sql],
                             capture_output=True, text=True).stdout
        return [tuple(int(x) if x.lstrip("-").isdigit() else x for x in l.split("|"))
                for l in out.splitlines() if l]
    import sqlite3
    db = sqlite3.connect(os.path.join(data, "kiln.db"), timeout=30)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()
walls = []
for sha in shas:
    body = json.dumps({"ref": "refs/heads/main", "before": "0" * 40, "after": sha,
                       "repository": {"full_name": "bench/one"}}).encode()
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(url + "/hooks/github?repo=bench/one", body, {
        "X-GitHub-Event": "push", "X-GitHub-Delivery": "one-" + sha,
        "X-Hub-Signature-256": sig, "Content-Type": "application/json"})
    t0 = time.time()
    ev = json.loads(urllib.request.urlopen(req).read())["event"]
    while time.time() < t0 + 60:
        r = query("SELECT status FROM events WHERE id = %d" % ev)
        if r and r[0][0] in ("success", "failure", "cancelled"):
            break
        time.sleep(0.05)
    walls.append((time.time() - t0) * 1000)
lat = sorted(r[0] for r in query("SELECT leased_at - created_at FROM agent_jobs WHERE repo = 'bench/one'"))
if not lat:
    print("agents: no single-job run finished")
    sys.exit(1)
pct = lambda v, p: v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]
walls.sort()
print("agents: %-8s idle agent, %d one-job runs one at a time: lease latency p50 %d ms, "
      "p90 %d ms, max %d ms; webhook -> run done p50 %d ms" % (store, len(lat), pct(lat, 50),
      pct(lat, 90), lat[-1], pct(walls, 50)))
PY
	fi
	kill "$serve" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	PIDS=()
	return $rc
}

export AGENT_BENCH_CURVE=$BENCH_TMP/curve
stores=(sqlite)
if [ -n "${KILN_BENCH_PG_URL:-}" ]; then
	if "$KILN" serve --help 2>&1 | grep -q -- "--db"; then
		stores+=(postgres)
		PSQL=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
	else
		echo "agents: PostgreSQL: not measured (this kiln's serve has no --db)"
	fi
else
	echo "agents: PostgreSQL: not measured (set KILN_BENCH_PG_URL, e.g. tests/with-pg)"
fi
echo "agents: $(nproc) cores; $JOBS jobs per round, $SLOTS slot(s) per agent"
for store in "${stores[@]}"; do
	for n in 1 2 4; do
		round "$store" "$n" || echo "agents: $store, $n agent(s): round failed"
	done
done
# the curve: throughput relative to one agent
for store in "${stores[@]}"; do
	base=$(awk -v s="$store" '$1 == s && $2 == 1 { print $3 }' "$AGENT_BENCH_CURVE")
	[ -n "$base" ] || continue
	awk -v s="$store" -v b="$base" '$1 == s {
		printf "agents: curve %s: %d agent(s) %.1f jobs/s (x%.2f of one agent), lease p50 %d ms\n",
			s, $2, $3, $3 / b, $4 }' "$AGENT_BENCH_CURVE"
done
