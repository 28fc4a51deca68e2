#!/bin/bash
# bench/serve.sh: `kiln serve` under webhooks on loopback.
#
#   1. latency: webhook sent -> first step of the run executing, over
#      SERVE_BENCH_PUSHES pushes (default 500) of distinct commits, one at a
#      time (p50, p90, p99, max);
#   2. sustained load: SERVE_BENCH_RATE webhooks/s (default 100) for
#      SERVE_BENCH_SECONDS (default 60), every delivery distinct; counts the
#      acknowledged ones and checks each is in the store (0 lost), then how
#      long the queue takes to drain (the pushes are to a branch no
#      workflow wants, so each run is a short `kiln run`);
#   3. RSS of the idle server, and after the load.
#
#   4. live logs: SERVE_BENCH_FOLLOWERS (default "1000 10000") concurrent SSE
#      followers of one running job's log (200 lines over ~4 s): the time
#      until every follower has the end event, whether each got every line
#      once, and the server's RSS meanwhile.
#
# No peer is run side by side (buildbot master + worker is not set up here).
# Prints numbers; never fails on a target. Bounded: each phase has a limit.
set -u
. "$(dirname "$0")/lib.sh"
bench_init serve
PUSHES=${SERVE_BENCH_PUSHES:-500}
RATE=${SERVE_BENCH_RATE:-100}
DURATION=${SERVE_BENCH_SECONDS:-60}
export GIT_CONFIG_NOSYSTEM=1 HOME=$BENCH_TMP/home
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
git -C "$src" add . && git -C "$src" commit -q -m wf || exit 3
for i in $(seq 1 "$PUSHES"); do git -C "$src" commit -q --allow-empty -m "c$i" || exit 3; done
git -C "$src" rev-list --reverse HEAD~"$PUSHES"..HEAD >"$BENCH_TMP/shas" || exit 3
SECRET=$("$KILN" repo add bench/app "$src" --data "$DATA" 2>/dev/null) || exit 3

"$KILN" serve --listen 127.0.0.1:0 --data "$DATA" --jobs 2 >"$BENCH_TMP/serve.out" 2>"$BENCH_TMP/serve.log" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; bench_cleanup' EXIT
PORT=
for i in $(seq 1 100); do
	PORT=$(sed -n 's/^listening //p' "$BENCH_TMP/serve.out")
	[ -n "$PORT" ] && break
	sleep 0.05
done
[ -n "$PORT" ] || { echo "serve: the server did not start" >&2; cat "$BENCH_TMP/serve.log" >&2; exit 3; }
rss() { awk '/^VmRSS/ { printf "%.1f MB", $2 / 1024 }' "/proc/$SERVE/status"; }
sleep 1
echo "serve: idle RSS $(rss)"

python3 - "$PORT" "$SECRET" "$BENCH_TMP/shas" "$MARKS" "$RATE" "$DURATION" "$DATA/kiln.db" <<'PY'
import hashlib, hmac, http.client, json, os, sqlite3, sys, threading, time
port, secret, shas, marks, rate, secs, dbpath = sys.argv[1:8]
port, rate, secs = int(port), int(rate), int(secs)
shas = open(shas).read().split()
ZERO = "0" * 40

def post(conn, body, delivery):
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
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
    mark = os.path.join(marks, sha)
    limit = time.time() + 30
    while not os.path.exists(mark) and time.time() < limit:
        time.sleep(0.001)
    try:
        t1 = int(open(mark).read().strip() or 0)
    except (OSError, ValueError):
        continue
    lat.append((t1 - t0) / 1e6)
if lat:
    print("serve: webhook -> first step running over %d pushes: p50 %.1f ms, p90 %.1f ms, "
          "p99 %.1f ms, max %.1f ms" % (len(lat), pct(lat, 50), pct(lat, 90), pct(lat, 99), max(lat)))

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
echo "serve: RSS after the load $(rss)"

TOKEN=$(cat "$DATA/initial-admin-token")
for N in ${SERVE_BENCH_FOLLOWERS:-1000 10000}; do
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
