#!/bin/sh
# install.sh: installs the browser-test drivers from npm — puppeteer-core
# (drives Debian's chromium; it downloads no browser) and axe-core (the
# accessibility check) — into tests/e2e/browser/node_modules (gitignored).
# Test-time only, never a runtime dependency. Idempotent; exits 1 when
# node/npm or the registry is unreachable so callers can skip clearly.
PUPPETEER=24.10.0
AXE=4.10.3
dir=$(cd "$(dirname "$0")" && pwd)
have() {
	grep -q "\"version\": \"$PUPPETEER\"" "$dir/node_modules/puppeteer-core/package.json" 2>/dev/null &&
	grep -q "\"version\": \"$AXE\"" "$dir/node_modules/axe-core/package.json" 2>/dev/null
}
command -v node >/dev/null && command -v npm >/dev/null || { echo "node/npm not installed" >&2; exit 1; }
have && exit 0
# one installer at a time (prove -j runs tests in parallel)
exec 9>"$dir/.install.lock"
flock 9
have && exit 0
PUPPETEER_SKIP_DOWNLOAD=1 timeout 300 npm install --no-save --no-audit --no-fund --loglevel=error \
	--prefix "$dir" "puppeteer-core@$PUPPETEER" "axe-core@$AXE" >"$dir/.install.log" 2>&1 || {
	echo "npm install puppeteer-core@$PUPPETEER axe-core@$AXE failed:" >&2
	tail -5 "$dir/.install.log" >&2
	exit 1
}
