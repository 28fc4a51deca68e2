#!/usr/bin/env bash
# ci/test.sh: what CI runs (also runnable locally): deps, then the README's
# test command with gcc, then the same suite under ASan+UBSan with clang.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
make deps
echo "== make test (gcc, -Werror)"
make -j2 DEVELOPER=1 test 2>&1 | tee build-test.log
echo "== make test SAN=1 (clang, ASan+UBSan)"
make -j2 DEVELOPER=1 SAN=1 CC=clang test 2>&1 | tee build-test-san.log
echo "== summary"
for f in build-test.log build-test-san.log; do
	grep -E '^(Files=|Result:)' "$f" | sed "s|^|$f: |"
done
echo "ci: finished in $(( $(date +%s) - start ))s"
