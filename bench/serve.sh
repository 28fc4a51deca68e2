#!/bin/bash
# bench/serve.sh: `kiln serve` under webhooks on loopback, and Debian's
# buildbot (master + worker) beside it doing the same push -> first step.
#
#   1. RSS of the idle server;
#   2. latency: webhook sent -> first step of the run executing, over
#      SERVE_BENCH_PUSHES pushes (default 500) of distinct commits, one at a
#      time (p50, p90, p99, max);
#   3. RSS per running job: SERVE_BENCH_JOBS pushes (default 4; the server
#      runs with --jobs N) whose one step sleeps, all running at once: the
#      server's RSS, and the USS (private memory) of the whole process tree (server, kiln run
#      children, their shells) minus the idle server's, per job;
#   4. sustained load: SERVE_BENCH_RATE webhooks/s (default 100) for
#      SERVE_BENCH_SECONDS (default 60; 0 skips), every delivery distinct;
#      counts the acknowledged ones and checks each is in the store (0
#      lost), then how long the queue takes to drain (the pushes are to a
#      branch no workflow wants, so each run is a short `kiln run`);
#   5. live logs: SERVE_BENCH_FOLLOWERS (default "1000 10000"; "" skips)
#      concurrent SSE followers of one running job's log (200 lines over
#      ~4 s): the time until every follower has the end event, whether each
#      got every line once, and the server's RSS meanwhile;
#   6. the peer, buildbot 3.7 from Debian (`buildbot`, `buildbot-worker`;
#      skipped with a message when not installed): the same repository, a
#      builder doing what the kiln workflow does (Git checkout of the
#      commit, then the same first step), its idle RSS (master + worker),
#      latency over SERVE_BENCH_PEER_PUSHES pushes (default 100: a build is
#      slower; 0 skips the peer) and its RSS per running job the same way; then the ratios.
#      Debian does not package buildbot-www, without which buildbot's web
#      server (and so its /change_hook/github endpoint) does not start; the
#      changes go to its PB change port instead (what buildbot's own git
#      post-receive hook does), from one long-lived client, so the sender's
#      start-up is not counted against it.
#
# Prints numbers and ratios; never fails on a target. Bounded: each phase
# has a count and a time limit.
set -u
. "$(dirname "$0")/lib.sh"
bench_init serve
PUSHES=${SERVE_BENCH_PUSHES:-500}
RATE=${SERVE_BENCH_RATE:-100}
DURATION=${SERVE_BENCH_SECONDS:-60}
JOBS=${SERVE_BENCH_JOBS:-4}
PEER_PUSHES=${SERVE_BENCH_PEER_PUSHES:-100}
HOLD=8 # seconds the jobs of phase 3 run
export GIT_CONFIG_NOSYSTEM=1 HOME=$BENCH_TMP/home PYTHONPATH=$BENCH_TMP
git config --global user.name bench && git config --global user.email bench@example.com
git config --global init.defaultBranch main
DATA=$BENCH_TMP/data
MARKS=$BENCH_TMP/marks
mkdir -p "$MARKS"

src=$BENCH_TMP/src
git init -q "$src" && mkdir -p "$src/.github/workflows" || exit 3
printf '%s\n' 'on:' '  push:' '    branches: [main]' 'jobs:' '  first:' \
	'    runs-on: ubuntu-latest' '    steps:' "      - run: date +%s%N >$MARKS/\$GITHUB_SHA" \
	>"$src/.github/workflows/ci.yml"
printf '%s\n' 'on:' '  push:' '    branches: [sse]' 'jobs:' '  talk:' \
	'    runs-on: ubuntu-latest' '    steps:' \
	'      - run: sleep 3; for i in $(seq 1 200); do echo "line-$i"; sleep 0.02; done' \
	>"$src/.github/workflows/sse.yml"
printf '%s\n' 'on:' '  push:' '    branches: [hold]' 'jobs:' '  hold:' \
	'    runs-on: ubuntu-latest' '    steps:' "      - run: date +%s%N >$MARKS/hold-\$GITHUB_SHA; sleep $HOLD" \
	>"$src/.github/workflows/hold.yml"
git -C "$src" add . && git -C "$src" commit -q -m wf || exit 3
for i in $(seq 1 "$JOBS"); do git -C "$src" commit -q --allow-empty -m "hold$i" || exit 3; done
git -C "$src" rev-list --reverse HEAD~"$JOBS"..HEAD >"$BENCH_TMP/holdshas" || exit 3
git -C "$src" branch hold || exit 3 # buildbot's Git step fetches the branch
for i in $(seq 1 "$PUSHES"); do git -C "$src" commit -q --allow-empty -m "c$i" || exit 3; done
git -C "$src" rev-list --reverse HEAD~"$PUSHES"..HEAD >"$BENCH_TMP/shas" || exit 3
SECRET=$("$KILN" repo add bench/app "$src" --data "$DATA" 2>/dev/null) || exit 3

"$KILN" serve --listen 127.0.0.1:0 --data "$DATA" --jobs "$JOBS" >"$BENCH_TMP/serve.out" 2>"$BENCH_TMP/serve.log" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; peer_stop; bench_cleanup' EXIT
peer_stop() { :; }
PORT=
for i in $(seq 1 100); do
	PORT=$(sed -n 's/^listening //p' "$BENCH_TMP/serve.out")
	[ -n "$PORT" ] && break
	sleep 0.05
done
[ -n "$PORT" ] || { echo "serve: the server did not start" >&2; cat "$BENCH_TMP/serve.log" >&2; exit 3; }
rss() { awk '/^VmRSS/ { printf "%.1f MB", $2 / 1024 }' "/proc/$SERVE/status"; }
# mem PID...: "RSS-of-the-first-kB USS-of-their-process-trees-kB processes" (USS: the
# private memory, what would be freed if the processes ended; RSS counts shared libraries again)
cat >"$BENCH_TMP/mem.py" <<'PY'
import os, sys
kids = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            st = open("/proc/%s/stat" % d).read()
            kids.setdefault(int(st[st.rindex(")") + 2:].split()[1]), []).append(int(d))
        except (OSError, ValueError):
            pass
def field(pid, f, name):
    try:
        for l in open("/proc/%d/%s" % (pid, f)):
            if l.startswith(name + ":"):
                return int(l.split()[1])
    except OSError:
        pass
    return 0
todo, seen = [int(p) for p in sys.argv[1:]], []
while todo:
    p = todo.pop()
    seen.append(p)
    todo.extend(kids.get(p, []))
print(field(int(sys.argv[1]), "status", "VmRSS"),
      sum(field(p, "smaps_rollup", "Private_Clean") + field(p, "smaps_rollup", "Private_Dirty")
          for p in seen), len(seen))
PY
mem() { python3 "$BENCH_TMP/mem.py" "$@"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
sleep 1
set -- $(mem $SERVE)
IDLE_USS=$2
echo "serve: idle RSS $(rss) (USS $(mb "$IDLE_USS"))"

# the webhook sender shared by the phases below (GitHub's signature)
cat >"$BENCH_TMP/hooklib.py" <<'PY'
import hashlib, hmac, json, time
ZERO = "0" * 40
SECRET = b""

def post(conn, body, delivery):
    sig = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    conn.request("POST", "/hooks/github?repo=bench/app", body,
                 {"X-GitHub-Event": "push", "X-GitHub-Delivery": delivery,
                  "X-Hub-Signature-256": sig, "Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    return r.status

def push(ref, sha):
    return json.dumps({"ref": ref, "before": ZERO, "after": sha,
                       "repository": {"full_name": "bench/app"}}).encode()

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]

def wait_mark(path, secs):
    """the time a first step wrote into path (0 when none within secs)"""
    limit = time.time() + secs
    while time.time() < limit:
        try:
            return int(open(path).read().strip())
        except (OSError, ValueError):  # not there yet, or being written
            time.sleep(0.001)
    return 0
PY

python3 - "$PORT" "$SECRET" "$BENCH_TMP/shas" "$MARKS" "$RATE" "$DURATION" "$DATA/kiln.db" <<'PY'
import http.client, os, sqlite3, sys, threading, time
port, secret, shas, marks, rate, secs, dbpath = sys.argv[1:8]
port, rate, secs = int(port), int(rate), int(secs)
shas = open(shas).read().split()
import hooklib
from hooklib import post, push, pct, wait_mark
hooklib.SECRET = secret.encode()

# 1. latency, one push at a time (15 minutes at most)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
lat = []
deadline = time.time() + 900
for i, sha in enumerate(shas):
    if time.time() > deadline:
        break
    t0 = time.time_ns()
    if post(conn, push("refs/heads/main", sha), "lat-%d" % i) != 202:
        print("serve: push %d not accepted" % i)
        continue
    t1 = wait_mark(os.path.join(marks, sha), 30)
    if t1:
        lat.append((t1 - t0) / 1e6)
if lat:
    print("serve: webhook -> first step running over %d pushes: p50 %.1f ms, p90 %.1f ms, "
          "p99 %.1f ms, max %.1f ms" % (len(lat), pct(lat, 50), pct(lat, 90), pct(lat, 99), max(lat)))

with open(os.path.join(marks, "kiln.lat"), "w") as f:
    f.write("%.1f %.1f\n" % (pct(lat, 50), pct(lat, 99)) if lat else "")
PY


# 3. RSS per running job: JOBS pushes whose step sleeps, all running at once
python3 - "$PORT" "$SECRET" "$BENCH_TMP/holdshas" "$MARKS" <<'PY'
import http.client, os, sys, time
port, secret, shas, marks = sys.argv[1:5]
port = int(port)
shas = open(shas).read().split()
import hooklib
from hooklib import post, push, pct, wait_mark
hooklib.SECRET = secret.encode()

conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for i, sha in enumerate(shas):
    post(conn, push("refs/heads/hold", sha), "hold-%d" % i)
limit = time.time() + 60
while time.time() < limit and not all(os.path.exists(os.path.join(marks, "hold-" + x)) for x in shas):
    time.sleep(0.05)
PY
n=$(ls "$MARKS" | grep -c '^hold-')
set -- $(mem $SERVE)
echo "serve: $n jobs running at once: server RSS $(mb "$1"); the process tree's USS $(mb "$2")" \
	"in $3 processes, $(( ($2 - IDLE_USS) / (n > 0 ? n : 1) )) kB per job more than the idle server"
echo "$(( ($2 - IDLE_USS) / (n > 0 ? n : 1) ))" >"$MARKS/kiln.perjob"
sleep $((HOLD + 2))

[ "$DURATION" -gt 0 ] && python3 - "$PORT" "$SECRET" "$BENCH_TMP/shas" "$MARKS" "$RATE" "$DURATION" "$DATA/kiln.db" <<'PY'
import http.client, os, sqlite3, sys, threading, time
port, secret, shas, marks, rate, secs, dbpath = sys.argv[1:8]
port, rate, secs = int(port), int(rate), int(secs)
shas = open(shas).read().split()
import hooklib
from hooklib import post, push, pct, wait_mark
hooklib.SECRET = secret.encode()

# 2. sustained load: rate/s for secs, spread over 4 keep-alive connections
acked, codes, lock = [], {}, threading.Lock()
n_total = rate * secs
start = time.time() + 0.2
def sender(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(k, n_total, 4):
        d = start + i / rate - time.time()
        if d > 0:
            time.sleep(d)
        dv = "load-%d" % i
        try:
            st = post(c, push("refs/heads/load", shas[i % len(shas)]), dv)
        except Exception:
            st = 0
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with lock:
            codes[st] = codes.get(st, 0) + 1
            if st in (200, 202):
                acked.append(dv)
ts = [threading.Thread(target=sender, args=(k,)) for k in range(4)]
t0 = time.time()
for t in ts:
    t.start()
for t in ts:
    t.join()
took = time.time() - t0
db = sqlite3.connect(dbpath)
stored = {r[0] for r in db.execute("SELECT delivery FROM events WHERE delivery LIKE 'load-%'")}
lost = [d for d in acked if d not in stored]
print("serve: %d webhooks in %.1f s (%.0f/s, offered %d/s): answers %s, acknowledged %d, "
      "lost %d" % (n_total, took, n_total / took, rate, codes, len(acked), len(lost)))
t0 = time.time()
q = -1
while time.time() - t0 < 1800:
    q = db.execute("SELECT count(*) FROM events WHERE status IN ('queued','running')").fetchone()[0]
    if q == 0:
        break
    time.sleep(0.5)
print("serve: queue drained %d runs in %.1f s after the load (%s)" % (
    len(stored), time.time() - t0, "done" if q == 0 else "%d left" % q))
PY
[ "$DURATION" -gt 0 ] && echo "serve: RSS after the load $(rss)"

TOKEN=$(cat "$DATA/initial-admin-token")
for N in ${SERVE_BENCH_FOLLOWERS-1000 10000}; do
	python3 - "$PORT" "$SECRET" "$TOKEN" "$N" "$DATA/kiln.db" "$SERVE" "$(git -C "$src" rev-parse HEAD)" <<'PY'
import hashlib, hmac, http.client, json, os, selectors, socket, sqlite3, sys, time
port, secret, token, n, dbpath, pid, sha = sys.argv[1:8]
port, n = int(port), int(n)
db = sqlite3.connect(dbpath)
last_job = db.execute("SELECT coalesce(max(id), 0) FROM jobs").fetchone()[0]
body = json.dumps({"ref": "refs/heads/sse", "before": "0" * 40, "after": sha,
                   "repository": {"full_name": "bench/app"}}).encode()
sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
c.request("POST", "/hooks/github?repo=bench/app", body, {"X-GitHub-Event": "push",
          "X-GitHub-Delivery": "sse-%d-%f" % (n, time.time()), "X-Hub-Signature-256": sig})
c.getresponse().read()
job, t0 = None, time.time()
while not job and time.time() - t0 < 60:
    job = db.execute("SELECT max(id) FROM jobs WHERE id > ? AND name = 'talk'", (last_job,)).fetchone()[0]
    time.sleep(0.05)
if not job:
    print("serve: SSE %d followers: the job did not start" % n); sys.exit(0)
req = ("GET /api/v1/jobs/%d/logs/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
       % (job, token)).encode()
sel = selectors.DefaultSelector()
state = {}
t_conn = time.time()
failed = 0
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect_ex(("127.0.0.1", port))
    except OSError:
        failed += 1; continue
    sel.register(s, selectors.EVENT_WRITE, i)
    state[s] = bytearray()
    if i % 500 == 499:   # let the accept queue drain
        for key, ev in sel.select(timeout=0.05):
            if ev & selectors.EVENT_WRITE:
                key.fileobj.send(req); sel.modify(key.fileobj, selectors.EVENT_READ, key.data)
connected = time.time() - t_conn
done, peak = set(), 0
deadline = time.time() + 120
while len(done) + failed < n and time.time() < deadline:
    for key, ev in sel.select(timeout=0.5):
        s = key.fileobj
        if ev & selectors.EVENT_WRITE:
            try:
                s.send(req)
            except OSError:
                failed += 1; sel.unregister(s); continue
            sel.modify(s, selectors.EVENT_READ, key.data); continue
        try:
            d = s.recv(65536)
        except OSError:
            d = b""
        if d:
            state[s] += d
        if not d or b"event: end" in state[s][-200:]:
            done.add(s); sel.unregister(s)
    try:
        rss = int([l for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS")][0].split()[1])
        peak = max(peak, rss)
    except Exception:
        pass
took = time.time() - t_conn
complete = 0
for s, b in state.items():
    text = b.decode(errors="replace")
    lines = [l[6:] for l in text.split("\n") if l.startswith("data: line-")]
    if lines == ["line-%d" % i for i in range(1, 201)] and "event: end" in text:
        complete += 1
    s.close()
print("serve: SSE %d followers of one live log: connected in %.1f s, %d got every line once "
      "in order and the end, %d failed to connect, all done %.1f s after the first connect; "
      "server RSS peak %.1f MB" % (n, connected, complete, failed, took, peak / 1024.0))
PY
done

kill "$SERVE" 2>/dev/null
wait "$SERVE" 2>/dev/null

# 6. the peer: buildbot master + worker from Debian, the same pushes
peer() {
	local bb=$BENCH_TMP/buildbot pb py=/usr/bin/python3
	[ "$PEER_PUSHES" -gt 0 ] || return 1
	if ! command -v buildbot >/dev/null || ! command -v buildbot-worker >/dev/null ||
		! $py -c 'import buildbot, buildbot_worker' 2>/dev/null; then
		echo "buildbot: not installed (apt-get install buildbot buildbot-worker): no peer"
		return 1
	fi
	mkdir -p "$bb" && buildbot create-master -q "$bb/master" >/dev/null || return 1
	pb=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	cat >"$bb/master/master.cfg" <<CFG
from buildbot.plugins import changes, schedulers, steps, util, worker
c = BuildmasterConfig = {}
c['workers'] = [worker.Worker('w1', 'bench-pw')]
c['protocols'] = {'pb': {'port': 'tcp:$pb:interface=127.0.0.1'}}
c['change_source'] = [changes.PBChangeSource(user='bench', passwd='bench-change')]
def factory(cmd):
    f = util.BuildFactory()
    f.addStep(steps.Git(repourl='$src', mode='incremental'))
    f.addStep(steps.ShellCommand(command=['sh', '-c', util.Interpolate(cmd)]))
    return f
c['schedulers'] = [
    schedulers.AnyBranchScheduler(name='main', treeStableTimer=None, builderNames=['first'],
                                  change_filter=util.ChangeFilter(branch='main')),
    schedulers.AnyBranchScheduler(name='hold', treeStableTimer=None,
                                  builderNames=['hold%d' % i for i in range($JOBS)],
                                  change_filter=util.ChangeFilter(branch='hold'))]
c['builders'] = [util.BuilderConfig(name='first', workernames=['w1'],
                     factory=factory('date +%%s%%N >$MARKS/bb-%(prop:got_revision)s'))] + [
                 util.BuilderConfig(name='hold%d' % i, workernames=['w1'],
                     factory=factory('date +%%s%%N >$MARKS/bbhold' + str(i) + '-%(prop:got_revision)s; sleep $HOLD'))
                 for i in range($JOBS)]
c['db'] = {'db_url': 'sqlite:///state.sqlite'}
c['buildbotNetUsageData'] = None
CFG
	buildbot upgrade-master "$bb/master" >/dev/null 2>&1
	buildbot start "$bb/master" >"$bb/master.out" 2>&1 || { tail "$bb/master/twistd.log"; return 1; }
	peer_stop() {
		buildbot-worker stop "$BENCH_TMP/buildbot/worker" >/dev/null 2>&1
		buildbot stop "$BENCH_TMP/buildbot/master" >/dev/null 2>&1
	}
	buildbot-worker create-worker -q "$bb/worker" "127.0.0.1:$pb" w1 bench-pw >/dev/null &&
		buildbot-worker start "$bb/worker" >"$bb/worker.out" 2>&1
	for _ in $(seq 1 300); do
		grep -q "attached" "$bb/worker/twistd.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "attached" "$bb/worker/twistd.log" || { echo "buildbot: the worker did not attach"; return 1; }
	local master worker
	master=$(cat "$bb/master/twistd.pid") worker=$(cat "$bb/worker/twistd.pid")
	sleep 1
	set -- $(mem "$master" "$worker")
	local idle=$2
	echo "buildbot: idle RSS master $(mb "$1"), master + worker USS $(mb "$idle")"
	echo "$((idle))" >"$MARKS/bb.idle"
	head -n "$PEER_PUSHES" "$BENCH_TMP/shas" >"$BENCH_TMP/bbshas"
	$py - "$pb" "$src" "$BENCH_TMP/bbshas" "$BENCH_TMP/holdshas" "$MARKS" <<'PY'
import os, sys, time
from twisted.internet import reactor, threads
from buildbot.clients.sendchange import Sender
pb, src, shas, holds, marks = sys.argv[1:6]
shas, holds = open(shas).read().split(), open(holds).read().split()
sender = Sender("127.0.0.1:" + pb, auth=("bench", "bench-change"))
def send(branch, sha):
    return threads.blockingCallFromThread(reactor, sender.send, branch, sha, "bench", [],
                                          who="bench <bench@example.com>", repository=src)
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]
def wait(path, secs):
    limit = time.time() + secs
    while time.time() < limit:
        try:
            return int(open(path).read().strip())
        except (OSError, ValueError):
            time.sleep(0.001)
    return 0
def main():
    try:
        lat, deadline = [], time.time() + 900
        for sha in shas:
            if time.time() > deadline:
                break
            t0 = time.time_ns()
            send("main", sha)
            t1 = wait(os.path.join(marks, "bb-" + sha), 60)
            if t1:
                lat.append((t1 - t0) / 1e6)
        if lat:
            print("buildbot: change sent -> first step running over %d pushes: p50 %.1f ms, "
                  "p90 %.1f ms, p99 %.1f ms, max %.1f ms" % (len(lat), pct(lat, 50), pct(lat, 90),
                                                             pct(lat, 99), max(lat)))
            open(os.path.join(marks, "bb.lat"), "w").write("%.1f %.1f\n" % (pct(lat, 50), pct(lat, 99)))
        send("hold", holds[0])
    finally:
        reactor.callFromThread(reactor.stop)
reactor.callInThread(main)
reactor.run()
PY
	for _ in $(seq 1 600); do
		[ "$(ls "$MARKS" | grep -c '^bbhold')" -ge "$JOBS" ] && break
		sleep 0.1
	done
	local n
	n=$(ls "$MARKS" | grep -c '^bbhold')
	[ "$n" -lt "$JOBS" ] && grep -iE "error|exception|fail" "$bb/master/twistd.log" | tail -5
	set -- $(mem "$master" "$worker")
	echo "buildbot: $n jobs running at once: master RSS $(mb "$1"); master + worker tree USS" \
		"$(mb "$2") in $3 processes, $(( ($2 - idle) / (n > 0 ? n : 1) )) kB per job more than idle"
	echo "$(( ($2 - idle) / (n > 0 ? n : 1) ))" >"$MARKS/bb.perjob"
	sleep $((HOLD + 1))
	peer_stop
}
if peer; then
	ratio() { [ -n "$2" ] && [ "$2" != 0 ] && bench_ratio "$1" "$2" || echo "n/a"; }
	read -r k50 k99 <"$MARKS/kiln.lat" 2>/dev/null
	read -r b50 b99 <"$MARKS/bb.lat" 2>/dev/null
	echo "ratio kiln/buildbot: webhook -> first step p50 $(ratio "${k50:-}" "${b50:-}")," \
		"p99 $(ratio "${k99:-}" "${b99:-}"); idle memory (USS) $(ratio "$IDLE_USS" "$(cat "$MARKS/bb.idle")");" \
		"memory per running job $(ratio "$(cat "$MARKS/kiln.perjob")" "$(cat "$MARKS/bb.perjob")")"
fi
