#!/usr/bin/env bash
# monorepo demo: five services; dorny/paths-filter decides which changed,
# only those are built (a matrix from its `changes` output), dependencies
# come from actions/cache on the second run, artifacts go from the build
# jobs to the test job. Everything native: no node, no network.
set -uo pipefail
KILN=${1:-build/kiln}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-monorepo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export KILN_HOME="$tmp/kiln-home" # a private cache store for the demo

cp -r "$here/monorepo" "$tmp/repo"
cd "$tmp/repo"
git init -q -b main
git add -A
commit() { git -c user.name=demo -c user.email=demo@example.com commit -q "$@"; }
commit -m "five services"

echo "== monorepo 1: first push, every service is new: five builds, caches cold"
"$KILN" run --no-history || exit 1
echo
echo "== monorepo 2: a push changing billing and search: two builds, deps from the cache"
echo "billing v2" >>services/billing/main.txt
echo "search v2" >>services/search/main.txt
commit -am "billing and search"
out=$("$KILN" run --no-history) || { echo "$out"; exit 1; }
echo "$out"
grep -q "built billing (deps cache hit: true)" <<<"$out" &&
	grep -q "built search (deps cache hit: true)" <<<"$out" &&
	! grep -q "built auth" <<<"$out" || { echo "demo: unexpected result" >&2; exit 1; }
echo
echo "== monorepo 3: a dependency change in cart: one build, a cache miss, then saved"
echo "lib-new 0.1" >>services/cart/deps.txt
commit -am "cart deps"
"$KILN" run --no-history || exit 1
echo
"$KILN" cache list
