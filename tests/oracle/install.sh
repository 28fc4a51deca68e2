#!/bin/sh
# install.sh: installs GitHub's evaluator, the npm package @actions/expressions
# (a test-time oracle, never a runtime dependency), into
# tests/oracle/node_modules (gitignored). Idempotent; exits 1 when node/npm or
# the registry is unreachable so callers can skip with a clear message.
VERSION=0.3.61
dir=$(cd "$(dirname "$0")" && pwd)
pkg="$dir/node_modules/@actions/expressions/package.json"
command -v node >/dev/null && command -v npm >/dev/null || { echo "node/npm not installed" >&2; exit 1; }
if [ -f "$pkg" ] && grep -q "\"version\": \"$VERSION\"" "$pkg"; then
	exit 0
fi
# one installer at a time (prove -j runs tests in parallel)
exec 9>"$dir/.install.lock"
flock 9
[ -f "$pkg" ] && grep -q "\"version\": \"$VERSION\"" "$pkg" && exit 0
timeout 120 npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$dir" \
	"@actions/expressions@$VERSION" >"$dir/.install.log" 2>&1 || {
	echo "npm install @actions/expressions@$VERSION failed:" >&2
	tail -5 "$dir/.install.log" >&2
	exit 1
}
