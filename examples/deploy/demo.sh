#!/bin/bash
# examples/deploy/demo.sh KILN: `make demo-deploy`. A demo app behind a
# real HAProxy driven by kiln deployd, under load from wrk:
#   1. v1 goes live;
#   2. a canary of v2, which answers 20% 5xx, is rolled back automatically
#      by analysis;
#   3. v3 goes out blue-green and succeeds;
# then the release history and the audit log. Everything it starts is
# stopped at the end.
set -u
KILN=${1:-$(dirname "$0")/../../build/kiln}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-demo-deploy.XXXXXX")
export KILN_DEPLOY_STATE=$work/state KILN_DEPLOY_APPS=$work/repo/.kiln/apps
mkdir -p "$KILN_DEPLOY_APPS" "$work/pids"
cleanup() {
	"$KILN" deployd --stop >/dev/null 2>&1
	sleep 0.5
	[ -n "${dpid:-}" ] && kill -9 "$dpid" 2>/dev/null
	[ -n "${lpid:-}" ] && kill "$lpid" 2>/dev/null
	for f in "$work"/pids/*.pid; do
		[ -e "$f" ] || continue
		p=$(cat "$f")
		grep -q app.py "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for v in v1 v2 v3; do mkdir -p "$work/repo/releases/$v"; done
echo errors >"$work/repo/releases/v2/mode"
cat >"$KILN_DEPLOY_APPS/shop.yml" <<YML
command: [python3, $here/app.py]
dir: releases/\$KILN_RELEASE
env: {DEMO_PIDDIR: $work/pids}
instances: 2
listen: 127.0.0.1:$PORT
health:
  http: {path: /health, status: 200}
  interval: 200ms
strategy:
  canary:
    steps:
      - setWeight: 20
      - analysis: {intervals: 2}
      - setWeight: 50
      - analysis: {intervals: 2}
analysis: {interval: 1s, errorRate: 5%, latencyRatio: 2, failureLimit: 1, minRequests: 10}
progressDeadline: 30s
YML
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "the app definition (.kiln/apps/shop.yml)"
cat "$KILN_DEPLOY_APPS/shop.yml"
"$KILN" deployd >"$work/deployd.log" 2>&1 &
dpid=$!
for _ in $(seq 1 100); do
	[ -S "$KILN_DEPLOY_STATE/haproxy.sock" ] && [ -S "$KILN_DEPLOY_STATE/deployd.sock" ] && break
	sleep 0.1
done

step "kiln deploy shop v1 --wait"
"$KILN" deploy shop v1 --wait --user demo
timeout 60 wrk -t2 -c4 -d40s -s "$here/count.lua" "http://127.0.0.1:$PORT/" >"$work/load" 2>&1 &
lpid=$!
sleep 1

step "kiln deploy shop v2 --dry-run (v2 answers 20% 5xx)"
"$KILN" deploy shop v2 --dry-run
step "kiln deploy shop v2 --wait: analysis rolls it back"
"$KILN" deploy shop v2 --wait --user demo
echo "(exit status $?: the deploy failed and rolled back)"

step "kiln deploy shop v3 --strategy blueGreen --wait"
"$KILN" deploy shop v3 --strategy blueGreen --wait --user demo
step "kiln status shop"
"$KILN" status shop
step "curl http://127.0.0.1:$PORT/"
curl -s "http://127.0.0.1:$PORT/"
step "kiln releases shop"
"$KILN" releases shop
step "kiln releases shop --audit"
"$KILN" releases shop --audit
kill -INT "$lpid" 2>/dev/null
wait "$lpid" 2>/dev/null
step "what the load generator saw (status:version count)"
grep -E "^(resp|errors|non2xx)" "$work/load"
