#!/bin/bash
# bench/store.sh [N]: the store's write path, SQLite vs PostgreSQL: N runs
# recorded one after another (kiln debug record-run: a run, a job with a
# 2000-line log, its end), each by a new process as `kiln run` does, on a
# SQLite file and on a PostgreSQL of its own (tests/lib-pg.sh, fsync off
# as in the tests: compare shapes, not absolute numbers). Prints runs/s
# of each and the ratio.
set -euo pipefail
N=${1:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KILN=${KILN:-$ROOT/build/kiln}
. "$ROOT/tests/lib-pg.sh"
T=$(mktemp -d)
trap 'pg_stop; rm -rf "$T"' EXIT
pg_start >/dev/null
seq 1 2000 | sed 's/^/log line /' >"$T/log"
rate() {
	local s e i
	s=$(date +%s%N)
	for i in $(seq 1 "$N"); do
		"$KILN" debug record-run --workflow .github/workflows/ci.yml --name CI \
			--job "build:success:$T/log" >/dev/null
	done
	e=$(date +%s%N)
	echo "$N $s $e" | awk '{ printf "%.1f", $1 / (($3 - $2) / 1e9) }'
}
lite=$(KILN_HOME="$T/lite" KILN_DB= rate)
pg=$(KILN_HOME="$T/pg" KILN_DB="$PG_URL" rate)
echo "runs recorded per second (N=$N): sqlite $lite, postgres $pg"
echo "$lite $pg" | awk '{ printf "postgres / sqlite: %.2fx\n", $2 / $1 }'
