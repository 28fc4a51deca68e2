#!/usr/bin/env bash
# serve-demo.sh KILN: the server side of `make demo`, end to end on loopback.
#
#   1. a real `kiln serve` (temp data dir) and `kiln deployd` with HAProxy
#      in front of the shop's staging and production instances;
#   2. the repository acme/shop (examples/serve) added to the server, its
#      environments: staging open, production reviewed by rui, main only;
#   3. a push to develop, sent as GitHub sends webhooks (X-Hub-Signature-256):
#      CI runs, the release deploys to staging by itself, production is
#      not for develop;
#   4. develop merged into main and pushed: CI, staging again, production
#      waits for its reviewer; rui approves (`kiln approve`); it deploys
#      behind HAProxy;
#   5. `kiln dora`: the four keys from what was recorded.
#
# Every stage is checked: the script exits 1 (naming the stage, with the
# logs) when one does not happen within its time limit. Everything it starts
# is stopped and its temp dir removed at the end, whatever happens.
set -uo pipefail
KILN=${1:?usage: serve-demo.sh KILN}
case $KILN in /*) ;; *) KILN=$PWD/$KILN ;; esac
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-serve-demo.XXXXXX")
export KILN_HOME=$work/data KILN_DEPLOY_STATE=$work/deploy/state \
	KILN_DEPLOY_APPS=$work/deploy/.kiln/apps NO_COLOR=1
export GIT_CONFIG_NOSYSTEM=1 HOME=$work/home
mkdir -p "$HOME" "$KILN_DEPLOY_APPS" "$work/deploy/releases" "$work/pids"
serve_pid= deployd_pid=

cleanup() {
	if [ -n "$serve_pid" ]; then
		kill "$serve_pid" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$serve_pid" 2>/dev/null
	fi
	if [ -n "$deployd_pid" ]; then
		"$KILN" deployd --stop >/dev/null 2>&1
		for _ in $(seq 1 50); do kill -0 "$deployd_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$deployd_pid" 2>/dev/null
	fi
	# what a killed controller would leave: HAProxy and the app instances
	local p
	p=$(cat "$KILN_DEPLOY_STATE/haproxy.pid" 2>/dev/null)
	[ -n "$p" ] && grep -q haproxy "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p"
	for f in "$work"/pids/*.pid; do
		[ -e "$f" ] || continue
		p=$(cat "$f")
		grep -q app.py "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stage() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ok() { printf '   ok: %s\n' "$*"; }
fail() {
	printf '\nserve-demo: FAILED: %s\n' "$*" >&2
	for f in "$work/serve.log" "$work/deployd.log" "$KILN_HOME"/events/*.log; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 25 "$f" >&2; }
	done
	exit 1
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# until_ok SECONDS CMD...: CMD succeeds within SECONDS
until_ok() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

stage "1. kiln serve and kiln deployd (HAProxy) on loopback"
sport=$(free_port) pport=$(free_port)
for app in shop-staging:$sport shop:$pport; do
	cat >"$KILN_DEPLOY_APPS/${app%%:*}.yml" <<YML
command: [python3, $here/deploy/app.py]
dir: releases/\$KILN_RELEASE
env: {DEMO_PIDDIR: $work/pids, DEMO_DELAY_MS: '1'}
instances: 1
listen: 127.0.0.1:${app#*:}
health:
  http: {path: /health, status: 200}
  interval: 100ms
strategy:
  blueGreen: {scaleDownDelay: 1s}
progressDeadline: 20s
YML
done
(cd "$work/deploy" && exec "$KILN" deployd) >"$work/deployd.log" 2>&1 &
deployd_pid=$!
until_ok 20 test -S "$KILN_DEPLOY_STATE/deployd.sock" -a -S "$KILN_DEPLOY_STATE/haproxy.sock" ||
	fail "kiln deployd did not start"
ok "deployd (pid $deployd_pid): HAProxy serves shop-staging on :$sport and shop on :$pport"

# the repository, as the team has it: the pipeline on develop
git init -q -b develop "$work/shop"
cp -r "$here/serve/." "$work/shop/"
git -C "$work/shop" add -A
git -C "$work/shop" -c user.name=Dana -c user.email=dana@example.com commit -q -m "shop: CI/CD pipeline"
git -C "$work/shop" branch main
secret=$("$KILN" repo add acme/shop "$work/shop" 2>"$work/repo-add.err") ||
	{ cat "$work/repo-add.err" >&2; fail "kiln repo add"; }
"$KILN" user add ops --role admin >/dev/null && admin=$("$KILN" token create --user ops) &&
	"$KILN" user add rui --role deployer >/dev/null && rui=$("$KILN" token create --user rui) ||
	fail "kiln user add"
"$KILN" env set acme/shop staging --any-ref >/dev/null || fail "kiln env set staging"
"$KILN" env set acme/shop production --reviewer user:rui --branch main --prevent-self-review \
	>/dev/null || fail "kiln env set production"
"$KILN" env var set acme/shop RELEASES "$work/deploy/releases" >/dev/null &&
	"$KILN" env var set acme/shop DEPLOY_STATE "$KILN_DEPLOY_STATE" >/dev/null &&
	"$KILN" env var set acme/shop STAGING_URL "http://127.0.0.1:$sport/" >/dev/null &&
	"$KILN" env var set acme/shop PRODUCTION_URL "http://127.0.0.1:$pport/" >/dev/null ||
	fail "kiln env var set"

"$KILN" serve --listen 127.0.0.1:0 --data "$KILN_HOME" --jobs 2 >"$work/serve.out" 2>"$work/serve.log" &
serve_pid=$!
until_ok 20 grep -q '^listening ' "$work/serve.out" || fail "kiln serve did not start"
url=http://127.0.0.1:$(sed -n 's/^listening //p' "$work/serve.out")
ok "kiln serve (pid $serve_pid) at $url; repository acme/shop, webhook secret set"
"$KILN" env list acme/shop

api() { curl -sf -H "Authorization: Bearer $admin" "$url$1"; }
# push REF [BEFORE]: the webhook GitHub sends for a push of REF, signed
# with the repository's secret (X-Hub-Signature-256); prints the event id
# the server queued
push() {
	python3 - "$url" "$secret" "$work/shop" "$1" "${2:-0000000000000000000000000000000000000000}" <<'PY'
import hashlib, hmac, json, subprocess, sys, urllib.request, uuid
url, secret, repo, ref, before = sys.argv[1:6]
sha = subprocess.check_output(["git", "-C", repo, "rev-parse", "HEAD"], text=True).strip()
subject, date, name, email = subprocess.check_output(
    ["git", "-C", repo, "log", "-1", "--format=%s%n%cI%n%an%n%ae", sha], text=True).split("\n")[:4]
body = json.dumps({
    "ref": ref, "before": before, "after": sha, "created": before == "0" * 40,
    "deleted": False, "forced": False,
    "repository": {"full_name": "acme/shop", "default_branch": "main"},
    "pusher": {"name": "dana"}, "sender": {"login": "dana"},
    "head_commit": {"id": sha, "message": subject, "timestamp": date,
                    "author": {"name": name, "email": email}}}).encode()
req = urllib.request.Request(url + "/hooks/github", data=body, method="POST", headers={
    "X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()),
    "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    "Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        code, answer = r.status, json.load(r)
except urllib.error.HTTPError as e:
    code, answer = e.code, e.read().decode(errors="replace")
if code != 202:
    sys.exit("serve-demo: the webhook was answered %d: %s" % (code, answer))
print(answer["event"])
PY
}
event_status() {
	api "/api/v1/events/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null
}
event_done() { case $(event_status "$1") in success | failure | cancelled) return 0 ;; esac; return 1; }
# deployment ENV STATE: the run id of a deployment to ENV in STATE
deployment() {
	api "/api/v1/deployments?repo=acme/shop&environment=$1&state=$2" |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["run_id"]) if d else sys.exit(1)' 2>/dev/null
}
served() { curl -sf "http://127.0.0.1:$1/" | grep -q "$2"; }

stage "2. a push to develop: webhook (signed like GitHub's) -> CI -> staging deploys by itself"
ev=$(push refs/heads/develop) || fail "the develop push webhook was not accepted"
ok "POST /hooks/github -> 202, event $ev queued"
until_ok 45 event_done "$ev" || fail "the develop run did not finish"
[ "$(event_status "$ev")" = success ] || fail "the develop run ended $(event_status "$ev")"
sed -n '/^job  /,$p' "$KILN_HOME/events/$ev.log" | sed 's/^/   /'
"$KILN" runs --server "$url" --token "$admin" --repo acme/shop -n 1
v1=r-$(git -C "$work/shop" rev-parse HEAD | cut -c1-8)
deployment staging success >/dev/null || fail "no successful staging deployment"
served "$sport" "$v1" || fail "staging does not serve $v1"
ok "staging serves $(curl -sf "http://127.0.0.1:$sport/") (through HAProxy)"
deployment production waiting >/dev/null && fail "develop must not go to production"
ok "production: not for develop (the job's if: skips it)"

stage "3. develop merged into main and pushed: CI -> staging -> production waits for rui"
echo "v2: faster checkout" >>"$work/shop/README.md"
git -C "$work/shop" -c user.name=Dana -c user.email=dana@example.com commit -q -am "checkout: faster" &&
	git -C "$work/shop" checkout -q main &&
	git -C "$work/shop" -c user.name=Dana -c user.email=dana@example.com merge -q --no-ff -m "Merge develop" develop ||
	fail "git merge"
before=$(git -C "$work/shop" rev-parse main^1)
ev=$(push refs/heads/main "$before") || fail "the main push webhook was not accepted"
ok "POST /hooks/github -> 202, event $ev queued"
until_ok 45 deployment production waiting >"$work/run" ||
	fail "production is not waiting for a review (event $ev: $(event_status "$ev"))"
run=$(cat "$work/run")
v2=r-$(git -C "$work/shop" rev-parse HEAD | cut -c1-8)
until_ok 10 served "$sport" "$v2" || fail "staging does not serve $v2"
ok "staging serves $v2; run $run waits: production needs rui's approval"
grep -h "waiting for approval" "$KILN_HOME/events/$ev.log" | sed 's/^/   log: /' 
served "$pport" . && fail "production serves before the approval"
ok "production serves nothing yet"
"$KILN" runs --server "$url" --token "$admin" --repo acme/shop -n 1

stage "4. kiln approve $run by rui (deployer, a required reviewer of production)"
"$KILN" approve "$run" --server "$url" --token "$rui" -c "ship it" || fail "kiln approve"
until_ok 45 event_done "$ev" || fail "the main run did not finish after the approval"
[ "$(event_status "$ev")" = success ] || fail "the main run ended $(event_status "$ev")"
sed -n '/^job  /,$p' "$KILN_HOME/events/$ev.log" | sed 's/^/   /'
deployment production success >/dev/null || fail "no successful production deployment"
served "$pport" "$v2" || fail "production does not serve $v2"
ok "production serves $(curl -sf "http://127.0.0.1:$pport/") (through HAProxy)"
"$KILN" releases shop

stage "5. kiln dora: the four keys, from the recorded deployments"
"$KILN" dora --server "$url" --token "$admin" --repo acme/shop >"$work/dora" || fail "kiln dora"
cat "$work/dora"
for key in "deployment frequency" "lead time" "change failure rate" "recovery"; do
	grep -qi "$key" "$work/dora" || fail "kiln dora does not show the $key"
done
"$KILN" dora --server "$url" --token "$admin" --repo acme/shop --env production --json |
	python3 -c 'import json,sys; r=json.load(sys.stdin); assert r and r[0]["deployment_frequency"]["deployments"] == 1, r' ||
	fail "kiln dora does not count the production deployment"
printf '\nserve demo: push -> CI -> staging -> approval -> production -> DORA, all on a real kiln serve.\n'
