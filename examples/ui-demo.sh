#!/usr/bin/env bash
# ui-demo.sh KILN: a running `kiln serve` whose pages are all filled — a
# repository pushed by webhook (CI with a matrix, needs, groups, colours,
# annotations, a step summary; a failing branch), a deployment to staging
# and one to production waiting for a reviewer, DORA history — then prints
# the URL and the demo users. The server keeps running; the last line says
# how to stop it. Data in build/ui-demo (removed at the next start).
set -euo pipefail
KILN=${1:?usage: ui-demo.sh KILN}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "$(dirname "$KILN")" && pwd)/ui-demo
port=${KILN_DEMO_PORT:-8420}
[ -f "$dir/serve.pid" ] && kill "$(cat "$dir/serve.pid")" 2>/dev/null && sleep 0.5 || :
rm -rf "$dir"
mkdir -p "$dir"
export KILN_HOME="$dir/data"

# the repository
git init -q -b main "$dir/shop"
cp -r "$here/ui/." "$dir/shop/"
git -C "$dir/shop" add -A
git -C "$dir/shop" -c user.name=Dana -c user.email=dana@example.com commit -q -m "shop: CI and deploy"
secret=$("$KILN" repo add acme/shop "$dir/shop" 2>/dev/null)

# the server
nohup "$KILN" serve --listen "127.0.0.1:$port" --data "$KILN_HOME" >"$dir/serve.out" 2>"$dir/serve.log" &
echo $! >"$dir/serve.pid"
for _ in $(seq 1 100); do grep -q '^listening' "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^listening' "$dir/serve.out" || { cat "$dir/serve.log"; exit 1; }
url="http://127.0.0.1:$port"
tok=$(cat "$KILN_HOME/initial-admin-token")
api() { curl -sf -o /dev/null -X "$1" -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
	--data-binary "$3" "$url$2"; }
api POST /api/v1/users '{"name":"dana","role":"admin","password":"dana-demo-pw"}'
api POST /api/v1/users '{"name":"rui","role":"deployer","password":"rui-demo-pw"}'
api POST /api/v1/users '{"name":"val","role":"viewer","password":"val-demo-pw"}'
api PUT /api/v1/repos/acme/shop/environments/staging '{}'
api PUT /api/v1/repos/acme/shop/environments/production \
	'{"reviewers":[{"type":"user","name":"rui"}],"wait_timer":1,"prevent_self_review":true,
	  "deployment_branch_policy":{"patterns":[{"type":"branch","name":"main"}]}}'

# DORA history: the last weeks' staging deployments (through the real gate)
now=$(date +%s%3N)
for i in $(seq 1 12); do
	end=$((now - i * 40 * 3600000)); res=(--result success)
	[ $((i % 5)) = 0 ] && res=(--result failure --reason "health check failed")
	"$KILN" debug record-deploy --repo acme/shop --env staging --run $((9000 + i)) \
		--commit $((end - (i % 4 + 1) * 3600000)) --end "$end" "${res[@]}" >/dev/null
done

# pushes by webhook, as GitHub sends them
push() {
	local ref=$1 sha body sig
	sha=$(git -C "$dir/shop" rev-parse HEAD)
	body="{\"ref\":\"$ref\",\"before\":\"0000000000000000000000000000000000000000\",\"after\":\"$sha\",\"repository\":{\"full_name\":\"acme/shop\"},\"sender\":{\"login\":\"dana\"},\"head_commit\":{\"id\":\"$sha\",\"message\":\"demo\"}}"
	sig=sha256=$(python3 -c 'import hmac, hashlib, sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$secret" "$body")
	curl -sf -o /dev/null -X POST "$url/hooks/github?repo=acme/shop" -H 'X-GitHub-Event: push' \
		-H "X-GitHub-Delivery: demo-$RANDOM$RANDOM" -H "X-Hub-Signature-256: $sig" \
		-H 'Content-Type: application/json' --data-binary "$body"
}
push refs/heads/main
git -C "$dir/shop" checkout -q -b feature/checkout
echo broken >"$dir/shop/VERSION"
git -C "$dir/shop" add VERSION
git -C "$dir/shop" -c user.name=Dana -c user.email=dana@example.com commit -q -m "checkout: wip"
push refs/heads/feature/checkout
# the push to main runs deploy.yml: staging deploys, then its production
# job waits at the environment's gate (the queue's runs are gated) for rui
for _ in $(seq 1 100); do
	curl -sf -H "Authorization: Bearer $tok" \
		"$url/api/v1/deployments?repo=acme/shop&environment=production&state=waiting" |
		grep -q '"run_id"' && break
	sleep 0.2
done

cat <<MSG

kiln web UI demo: $url
  dana / dana-demo-pw   admin     (settings, everything)
  rui  / rui-demo-pw    deployer  (reviewer of production: Approvals)
  val  / val-demo-pw    viewer    (sees all, acts on nothing)
Runs are running now (refresh /runs); production waits for rui's approval.
Stop the server: kill \$(cat $dir/serve.pid)
MSG
