#!/bin/bash
# bench/gitops.sh: kiln deployd --config-repo on loopback. A config
# repository holds 100 apps: `web` (2 instances of the demo app behind
# HAProxy, under wrk load) and 99 small ones (`sleep` instances with exec
# probes every 5s). It prints:
#   - the time for the controller to bring all 100 apps from nothing to
#     Synced/Healthy after its start;
#   - push -> traffic on the new release of web (the first answer of the
#     new version, curl every 10ms), by polling (--interval 3s) and by a
#     signed push webhook (--interval 10m), with the failed requests wrk saw;
#   - the controller's CPU (utime+stime over 30 s) and RSS while it
#     watches the 100 apps.
# Peer, side by side: Argo CD's default (the seed's) polls every 3 minutes
# (timeout.reconciliation 180s, stated in Argo CD's documentation), so a
# push reaches the cluster 0..180 s later, 90 s on average, before the
# rollout itself; with its webhook configured it refreshes at once.
# Usage: bench/gitops.sh [ROUNDS]   (default 3 pushes per mode)
set -u
here=$(cd "$(dirname "$0")" && pwd)
KILN=${KILN:-$here/../build/kiln}
APP=$here/../examples/deploy/app.py
LUA=$here/../examples/deploy/count.lua
ROUNDS=${1:-3}
for c in haproxy wrk python3 curl git; do
	command -v $c >/dev/null || { echo "bench/gitops.sh: $c is missing (make deps)"; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-gitops.XXXXXX")
export KILN_DEPLOY_STATE=$work/state KILN_HOME=$work/home
cleanup() {
	"$KILN" deployd --stop >/dev/null 2>&1
	[ -n "${dpid:-}" ] && { sleep 1; kill -9 "$dpid" 2>/dev/null; }
	[ -n "${lpid:-}" ] && kill "$lpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(port)
HOOK=$(port)
URL=http://127.0.0.1:$PORT/
mkdir -p "$work/rel"
for v in $(seq 1 $((2 * ROUNDS + 1))); do mkdir -p "$work/rel/v$v"; done
git init -q --bare -b main "$work/config.git"
git clone -q "$work/config.git" "$work/cfg" 2>/dev/null
git -C "$work/cfg" checkout -q -b main
git -C "$work/cfg" config user.name bench
git -C "$work/cfg" config user.email bench@example.com
mkdir -p "$work/cfg/apps"
cat >"$work/cfg/apps/web.yml" <<EOF
command: [python3, $APP]
dir: $work/rel/\$KILN_RELEASE
env: {DEMO_DELAY_MS: "2"}
instances: 2
listen: 127.0.0.1:$PORT
health: {http: {path: /health}, interval: 100ms, timeout: 1s}
strategy: {rolling: {maxSurge: 1, maxUnavailable: 0}}
version: v1
automated: {selfHeal: true}
EOF
for i in $(seq 1 99); do
	cat >"$work/cfg/apps/small$i.yml" <<EOF
command: [sleep, "86400"]
listen: 127.0.0.1:$(port)
health: {exec: {command: ["true"]}, interval: 5s}
version: v1
automated: {prune: true, selfHeal: true}
EOF
done
git -C "$work/cfg" add -A && git -C "$work/cfg" commit -q -m "100 apps" && git -C "$work/cfg" push -q origin main 2>/dev/null
printf 'bench-webhook-secret\n' >"$work/secret"

start() { # ARGS: start the controller, wait for its socket
	"$KILN" deployd --config-repo "$work/config.git" --path apps "$@" >>"$work/deployd.log" 2>&1 &
	dpid=$!
	for _ in $(seq 1 300); do "$KILN" status >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "bench: the controller did not start"; tail "$work/deployd.log"; exit 1
}
all_healthy() { [ "$("$KILN" status | grep -c ' Synced  *Healthy ')" = 100 ]; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

t0=$(date +%s%N)
start --interval 3s
for _ in $(seq 1 1200); do all_healthy && break; sleep 0.1; done
all_healthy || { echo "bench: not all apps became Synced/Healthy"; "$KILN" status | head; exit 1; }
initial=$(ms "$t0")

next=1
# push_round: bump web, then time until the new version answers; prints ms
push_round() { # MODE
	next=$((next + 1))
	sed -i "s/^version: v[0-9]*/version: v$next/" "$work/cfg/apps/web.yml"
	git -C "$work/cfg" commit -q -am "web: v$next"
	git -C "$work/cfg" push -q origin main 2>/dev/null
	local t=$(date +%s%N)
	if [ "$1" = webhook ]; then
		local body sig
		body='{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000","after":"1111111111111111111111111111111111111111","repository":{"full_name":"bench/config"}}'
		sig=$(python3 -c 'import hmac,hashlib,sys; print("sha256=" + hmac.new(b"bench-webhook-secret", sys.argv[1].encode(), hashlib.sha256).hexdigest())' "$body")
		curl -s -o /dev/null -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: $sig" --data-binary "$body" "http://127.0.0.1:$HOOK/"
	fi
	for _ in $(seq 1 6000); do
		curl -s "$URL" | grep -q "web v$next$" && break
		sleep 0.01
	done
	ms "$t"
	# the rollout's end before the next push
	for _ in $(seq 1 600); do "$KILN" status | grep -q "^web .* Synced  *Healthy  *v$next " && break; sleep 0.1; done
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }

timeout -k 2 600 wrk -t1 -c4 -d600s --timeout 5s -s "$LUA" "$URL" >"$work/load" 2>&1 &
lpid=$!
sleep 1
for _ in $(seq 1 "$ROUNDS"); do push_round poll; done >"$work/poll.ms"

# a restart with other flags keeps traffic flowing: the instances and
# HAProxy outlive a killed controller and the new one adopts them
kill -9 "$dpid"
wait "$dpid" 2>/dev/null
start --interval 10m --webhook "127.0.0.1:$HOOK" --webhook-secret-file "$work/secret"
for _ in $(seq 1 600); do all_healthy && break; sleep 0.1; done
for _ in $(seq 1 "$ROUNDS"); do push_round webhook; done >"$work/hook.ms"
kill -INT "$lpid" 2>/dev/null
for _ in $(seq 1 100); do kill -0 "$lpid" 2>/dev/null || break; sleep 0.1; done
lpid=

# the controller at rest, watching 100 apps (one fetch every 10m, probes)
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$dpid/stat"; }
c0=$(cpu); s0=$(date +%s%N)
sleep 30
c1=$(cpu); el=$(ms "$s0")
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$dpid/status")
cpu_pct=$(awk -v c=$((c1 - c0)) -v t="$ticks" -v e="$el" 'BEGIN {printf "%.2f", 100 * c / t / (e / 1000)}')

poll=$(median <"$work/poll.ms")
hook=$(median <"$work/hook.ms")
failed=$(awk '/^errors /{e=$2} /^non2xx /{n=$2} END{print e+n}' "$work/load")
reqs=$(awk '/^requests /{print $2}' "$work/load")
echo "kiln deployd --config-repo, 100 apps (web: 2 demo instances under wrk; 99 sleep instances)"
echo "  all 100 apps Synced/Healthy from a cold start:   ${initial} ms"
echo "  push -> traffic on the new release, polling 3s:  median ${poll} ms  (rounds: $(tr '\n' ' ' <"$work/poll.ms"))"
echo "  push -> traffic on the new release, webhook:     median ${hook} ms  (rounds: $(tr '\n' ' ' <"$work/hook.ms"))"
echo "  requests during the $((2 * ROUNDS)) rollouts: ${reqs:-0}, failed: ${failed:-?}"
echo "  controller watching 100 apps: CPU ${cpu_pct}% of a core (30 s), RSS $((rss / 1024)) MiB"
echo "Argo CD default (seed 003): polling every 180 s -> 90000 ms on average before the sync starts"
awk -v p="$poll" -v h="$hook" 'BEGIN {
	printf "  ratio vs Argo CD default: polling 3s %.0fx sooner, webhook %.0fx sooner (average 90 s wait)\n",
		90000 / p, 90000 / h }'
