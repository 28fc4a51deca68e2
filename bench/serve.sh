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
# Live-log followers (SSE) are not measured: the endpoint is not built yet.
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
echo "serve: concurrent SSE followers: not measured (live logs are not built yet)"
