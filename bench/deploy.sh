#!/bin/bash
# bench/deploy.sh: kiln deploy under load (wrk, loopback, 2 instances of the
# demo app behind HAProxy). For each strategy it prints the time from the
# decision to traffic fully switched (what kiln measures around its one
# runtime API call), the time from a failed analysis to traffic fully back
# on stable, the deploy's duration, and the failed requests wrk saw.
# Peer, side by side: the seeds' way (000: edit haproxy.cfg and reload), the
# same two colors switched by rewriting the config and `haproxy -sf`;
# its switch time is from the decision until the first answer of the new
# color, probed every millisecond.
set -u
here=$(cd "$(dirname "$0")" && pwd)
KILN=${KILN:-$here/../build/kiln}
APP=$here/../examples/deploy/app.py
LUA=$here/../examples/deploy/count.lua
for c in haproxy wrk python3 curl; do
	command -v $c >/dev/null || { echo "bench/deploy.sh: $c is missing (make deps)"; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-deploy.XXXXXX")
export KILN_DEPLOY_STATE=$work/state KILN_DEPLOY_APPS=$work/repo/.kiln/apps
mkdir -p "$work/repo/.kiln/apps" "$work/pids"
cleanup() {
	"$KILN" deployd --stop >/dev/null 2>&1
	[ -n "${dpid:-}" ] && { sleep 0.5; kill -9 "$dpid" 2>/dev/null; }
	[ -f "$work/peer.pid" ] && kill -9 "$(cat "$work/peer.pid")" 2>/dev/null
	for f in "$work"/pids/*.pid; do
		[ -e "$f" ] || continue
		p=$(cat "$f")
		grep -q app.py "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p" 2>/dev/null
	done
	for p in ${peer_apps:-}; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(port)
URL=http://127.0.0.1:$PORT/
for v in v1 v2 v3; do mkdir -p "$work/repo/releases/$v"; done
echo errors >"$work/repo/releases/v3/mode"
cat >"$work/repo/.kiln/apps/web.yml" <<EOF
command: [python3, $APP]
dir: releases/\$KILN_RELEASE
env: {DEMO_PIDDIR: $work/pids, DEMO_DELAY_MS: "2"}
instances: 2
listen: 127.0.0.1:$PORT
health: {http: {path: /health}, interval: 100ms, timeout: 1s}
strategy:
  canary:
    steps: [{setWeight: 20}, {analysis: {intervals: 1}}, {setWeight: 50}, {analysis: {intervals: 1}}]
analysis: {interval: 1s, errorRate: 5%, minRequests: 10}
progressDeadline: 30s
EOF

"$KILN" deployd >"$work/deployd.log" 2>&1 &
dpid=$!
for _ in $(seq 1 100); do [ -S "$KILN_DEPLOY_STATE/deployd.sock" ] && [ -S "$KILN_DEPLOY_STATE/haproxy.sock" ] && break; sleep 0.1; done
"$KILN" deploy web v1 --wait >/dev/null || { echo "bench: first deploy failed"; cat "$work/deployd.log"; exit 1; }

load() { # SECONDS OUT: wrk in the background
	timeout -k 2 $(($1 + 10)) wrk -t2 -c8 -d"$1"s --timeout 5s -s "$LUA" "$URL" >"$2" 2>&1 &
	echo $! >"$2.pid"
}
load_stop() {
	sleep 0.5
	kill -INT "$(cat "$1.pid")" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$(cat "$1.pid")" 2>/dev/null || break; sleep 0.1; done
}
failed() { # OUT: socket errors + non-2xx
	awk '/^errors /{e=$2} /^non2xx /{n=$2} END{print e+n}' "$1"
}
total() { awk '/^requests /{print $2}' "$1"; }

# run STRATEGY VERSION KEY LABEL: one deploy under load; prints a row
run() {
	local out=$work/$3.out ld=$work/$3.load t0 t1 sw rb
	load 60 "$ld"
	sleep 1
	t0=$(date +%s%N)
	"$KILN" deploy web "$2" ${1:+--strategy "$1"} --wait >"$out" 2>&1
	t1=$(date +%s%N)
	load_stop "$ld"
	sw=$(sed -n 's/.*\(switched 100% of traffic to [^ ]* in\|applied in\) \([0-9.]*\)ms.*/\2/p' "$out" | sort -n | tail -1)
	rb=$(sed -n 's/.*traffic back on [^ ]* in \([0-9.]*\)ms.*/\1/p' "$out" | tail -1)
	printf "%-28s %14s %14s %10.2fs %9s %9s\n" "$4" "${sw:--}" "${rb:--}" \
		"$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$(failed "$ld")" "$(total "$ld")"
}

echo "kiln deploy bench: 2 instances, wrk -t2 -c8 on loopback, HAProxy $(haproxy -v | sed -n '1s/HAProxy version \([^ ]*\).*/\1/p')"
printf "%-28s %14s %14s %11s %9s %9s\n" "deploy" "switch ms" "rollback ms" "duration" "failed" "requests"
run blueGreen v2 bg "blueGreen v1->v2"
run rolling v1 roll "rolling v2->v1"
run canary v2 can "canary v1->v2 (20/50/100)"
run canary v3 bad "canary v2->v3 (20% 5xx)"
grep -q "rolled-back" "$work/bad.out" || echo "  (expected a rollback of v3)"
echo "  (the failed requests of v3 are its own 5xx answers while it had 20% of the traffic)"
"$KILN" deployd --stop >/dev/null 2>&1
for _ in $(seq 1 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done

# ---- peer: edit haproxy.cfg and reload (seed 000) ----
peer_apps=
start_app() { # VERSION PORT
	mkdir -p "$work/peer/$1"
	(cd "$work/peer/$1" && KILN_RELEASE=$1 PORT=$2 DEMO_DELAY_MS=2 exec python3 "$APP" >/dev/null 2>&1) &
	peer_apps="$peer_apps $!"
}
pcfg() { # VERSION -> haproxy.cfg with that color active, the other backup
	local a=$1 b=$2
	cat >"$work/peer.cfg" <<EOF
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend fe
    bind 127.0.0.1:$PORT
    default_backend be
backend be
    balance roundrobin
    server a1 127.0.0.1:$a1 check inter 1s $a
    server a2 127.0.0.1:$a2 check inter 1s $a
    server b1 127.0.0.1:$b1 check inter 1s $b
    server b2 127.0.0.1:$b2 check inter 1s $b
EOF
}
a1=$(port); a2=$(port); b1=$(port); b2=$(port)
start_app v1 "$a1"; start_app v1 "$a2"; start_app v2 "$b1"; start_app v2 "$b2"
sleep 1.5
pcfg "" backup
haproxy -D -p "$work/peer.pid" -f "$work/peer.cfg" || exit 1
sleep 1
load 60 "$work/peer.load"
sleep 1
t0=$(date +%s%N)
pcfg backup ""
haproxy -D -p "$work/peer.pid" -f "$work/peer.cfg" -sf "$(cat "$work/peer.pid")"
for _ in $(seq 1 5000); do
	curl -s "$URL" 2>/dev/null | grep -q v2 && break
done
t1=$(date +%s%N)
load_stop "$work/peer.load"
peer_ms=$(echo "($t1 - $t0) / 1000000" | bc -l)
printf "%-28s %14.3f %14s %11s %9s %9s\n" "peer: sed cfg + reload" "$peer_ms" "-" "-" \
	"$(failed "$work/peer.load")" "$(total "$work/peer.load")"
kiln_ms=$(sed -n 's/.*switched 100% of traffic to v2 in \([0-9.]*\)ms.*/\1/p' "$work/bg.out" | tail -1)
[ -n "$kiln_ms" ] && printf "blue-green switch: kiln %.3f ms vs reload %.1f ms (%.0fx faster)\n" "$kiln_ms" "$peer_ms" \
	"$(echo "$peer_ms / $kiln_ms" | bc -l)"
