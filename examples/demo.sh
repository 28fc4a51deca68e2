#!/usr/bin/env bash
# demo: run the example pipeline (examples/pipeline) with kiln in a fresh
# git repository, then show lint catching a broken workflow.
# The pipeline has a job that fails on purpose, so kiln exits 1 there.
set -uo pipefail
KILN=${1:-build/kiln}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cp -r "$here/pipeline" "$tmp/repo"
cd "$tmp/repo"
git init -q -b main
git add -A
git -c user.name=demo -c user.email=demo@example.com commit -q -m "demo pipeline"

echo "== kiln run -l: the plan"
"$KILN" run -l || exit 3
echo
echo "== kiln run: build, lint, a test matrix, a failing smoke job, a skipped deploy"
"$KILN" run
rc=$?
if [ $rc -ne 1 ]; then
	echo "demo: expected exit 1 (smoke fails on purpose), got $rc" >&2
	exit 1
fi
echo "(kiln exited 1 as expected: the smoke job failed and deploy was skipped)"
echo
echo "== kiln lint on a broken workflow"
mkdir -p "$tmp/bad/.github/workflows"
cat > "$tmp/bad/.github/workflows/bad.yml" <<'YML'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: make
  deploy:
    needs: biuld
    runs-on: ubuntu-latest
    step:
      - run: echo ${{ github.sha
YML
cd "$tmp/bad"
"$KILN" lint
rc=$?
[ $rc -eq 2 ] || { echo "demo: expected lint exit 2, got $rc" >&2; exit 1; }
echo "(kiln lint exited 2 as expected)"
echo
echo "== monorepo: change detection (paths-filter), cache and artifacts"
"$here/monorepo-demo.sh" "$KILN" || exit 1
