#!/bin/bash
# examples/deploy/gitops-demo.sh KILN: seed 003's GitOps flow on kiln alone
# (`make demo-deploy`, `make demo`), everything on loopback:
#   1. a registry (Debian's docker-registry) and a config repository whose
#      apps/shop/values.yaml names the image and its tag (Helm-style);
#   2. kiln deployd --config-repo syncs it (automated: prune, selfHeal);
#   3. CI (`kiln run` of the app repository) builds the image with
#      docker/build-push-action, pushes it, and bumps .image.tag with
#      kiln/gitops -- the controller notices within its interval and rolls
#      the new image out under load;
#   4. a `git revert` of that commit rolls it back the same way.
# The image is the test image (tests/containers/images.sh) plus the demo
# app; the app runs on the host's python3, mounted read-only (a Debian
# host). Everything it starts is stopped at the end.
set -u
KILN=${1:-$(dirname "$0")/../../build/kiln}
here=$(cd "$(dirname "$0")" && pwd)
for c in podman mmdebstrap docker-registry haproxy wrk git curl; do
	command -v $c >/dev/null || { echo "gitops-demo: skipped ($c is needed: make deps)"; exit 0; }
done
[ -x /usr/bin/python3 ] || { echo "gitops-demo: skipped (Debian's python3 is needed)"; exit 0; }
export CONTAINERS_CONF="$here/../../build/test-images/containers.conf"
"$here/../../tests/containers/images.sh" "$here/../../build" || { echo "gitops-demo: cannot build the base image"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-demo-gitops.XXXXXX")
export KILN_DEPLOY_STATE=$work/state KILN_HOME=$work/home
cleanup() {
	"$KILN" deployd --stop >/dev/null 2>&1
	sleep 1
	[ -n "${dpid:-}" ] && kill -9 "$dpid" 2>/dev/null
	[ -n "${lpid:-}" ] && kill "$lpid" 2>/dev/null
	[ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null
	podman ps -aq --filter "label=io.kiln.deploy=$(realpath "$work/state" 2>/dev/null)" | xargs -r podman rm -f -t 0 >/dev/null 2>&1
	podman images -q --filter "reference=localhost:$REG/*" 2>/dev/null | xargs -r podman rmi -f >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
REG=$(port)
PORT=$(port)
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "a registry on 127.0.0.1:$REG and a config repository"
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/reg" "$REG" >"$work/registry.yml"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
rpid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$REG/v2/" >/dev/null && break; sleep 0.1; done

# the app repository: the demo app and its image
git init -q -b main "$work/shop"
cp "$here/app.py" "$work/shop/app.py"
cat >"$work/shop/Containerfile" <<'EOF'
FROM kiln-test/debian:latest
WORKDIR /app
COPY app.py /app/app.py
EOF
mkdir -p "$work/shop/.github/workflows"
cat >"$work/shop/.github/workflows/release.yml" <<EOF
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: tag
        run: echo "tag=\$(git rev-parse --short=8 HEAD)" >>"\$GITHUB_OUTPUT"
      - uses: docker/build-push-action@v6
        with:
          context: .
          file: Containerfile
          tags: localhost:$REG/demo/shop:\${{ steps.tag.outputs.tag }}
          push: true
      # seed 003: yq -i '.image.tag = "..."' apps/shop/values.yaml; git commit; git push
      - uses: kiln/gitops@v1
        with:
          repo: $work/config.git
          file: apps/shop/values.yaml
          set: .image.tag=\${{ steps.tag.outputs.tag }}
          message: "chore(shop): update image tag to \${{ steps.tag.outputs.tag }}"
          author: CI <ci@example.com>
EOF
git -C "$work/shop" add -A
git -C "$work/shop" -c user.name=dev -c user.email=dev@example.com commit -q -m "shop: first release"
first=$(git -C "$work/shop" rev-parse --short=8 HEAD)
podman build -q -t "localhost:$REG/demo/shop:$first" "$work/shop" >/dev/null
podman push -q --tls-verify=false "localhost:$REG/demo/shop:$first"

py=$(readlink -f /usr/bin/python3)
pylib=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')
vols="$py:/usr/bin/python3:ro, $pylib:$pylib:ro"
for lib in $(ldd "$py" | awk '$3 ~ /^\// && $1 !~ /^lib(c|m)\.so/ { print $3 }'); do vols="$vols, $lib:$lib:ro"; done
git init -q --bare -b main "$work/config.git"
git clone -q "$work/config.git" "$work/config" 2>/dev/null
git -C "$work/config" checkout -q -b main
mkdir -p "$work/config/apps/shop"
cat >"$work/config/apps/shop/values.yaml" <<EOF
# shop: the storefront (seed 003's apps/<app>/values.yaml)
image:
  repository: localhost:$REG/demo/shop
  tag: "$first"   # CI bumps this
command: [python3, /app/app.py]
volumes: [$vols]      # the host's python3
env: {DEMO_BIND: 0.0.0.0}
instances: 2
listen: 127.0.0.1:$PORT
health: {http: {path: /health}, interval: 200ms}
strategy: {rolling: {maxSurge: 1, maxUnavailable: 0}}
progressDeadline: 60s
automated: {prune: true, selfHeal: true}
EOF
git -C "$work/config" add -A
git -C "$work/config" -c user.name=ops -c user.email=ops@example.com commit -q -m "shop: first deploy"
git -C "$work/config" push -q origin main 2>/dev/null
cat "$work/config/apps/shop/values.yaml"

say "kiln deployd --config-repo (polling every 2s; Argo CD's default is 3m)"
"$KILN" deployd --config-repo "$work/config.git" --path apps --interval 2s >"$work/deployd.log" 2>&1 &
dpid=$!
synced() { "$KILN" status 2>/dev/null | grep -q "^shop .*Synced  *Healthy  *$1 "; }
for _ in $(seq 1 600); do synced "$first" && break; sleep 0.1; done
"$KILN" status
curl -s "http://127.0.0.1:$PORT/"

timeout -k 2 300 wrk -t1 -c4 -d300s --timeout 5s -s "$here/count.lua" "http://127.0.0.1:$PORT/" >"$work/load" 2>&1 &
lpid=$!

say "a developer pushes a change; CI builds and pushes the image, then bumps the tag in the config repository"
echo "# a change" >>"$work/shop/app.py"
git -C "$work/shop" -c user.name=dev -c user.email=dev@example.com commit -q -am "shop: a change"
second=$(git -C "$work/shop" rev-parse --short=8 HEAD)
(cd "$work/shop" && "$KILN" run) 2>&1 | grep -E "kiln/gitops|pushed|build-push|release +(success|failure)|run (success|failure)"
git -C "$work/config" pull -q 2>/dev/null
git -C "$work/config" log --oneline -3 | cat
git -C "$work/config" show HEAD --stat --format=%s | cat
git -C "$work/config" show HEAD -U0 --format= | cat

say "the controller syncs the new image under load"
t0=$(date +%s%N)
for _ in $(seq 1 900); do synced "$second" && break; sleep 0.1; done
echo "push of the tag -> Synced/Healthy on $second: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
"$KILN" status shop | head -4

say "a git revert of that commit rolls it back"
git -C "$work/config" -c user.name=ops -c user.email=ops@example.com revert --no-edit HEAD >/dev/null
git -C "$work/config" push -q origin main 2>/dev/null
git -C "$work/config" log --oneline -1 | cat
for _ in $(seq 1 900); do synced "$first" && break; sleep 0.1; done
"$KILN" status
kill -INT "$lpid" 2>/dev/null
for _ in $(seq 1 50); do kill -0 "$lpid" 2>/dev/null || break; sleep 0.1; done
lpid=
echo
echo "load during both rollouts: $(awk '/^requests /{print $2}' "$work/load") requests, $(awk '/^errors /{e=$2} /^non2xx /{n=$2} END{print e+n}' "$work/load") failed"
"$KILN" releases shop
synced "$first" || { echo "gitops-demo: shop did not come back to $first"; exit 1; }
