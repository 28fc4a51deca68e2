#!/bin/bash
# bench/history.sh: what recording the run history costs `kiln run` now
# that log lines are stored per event-loop turn (docs/internals/store.md):
# the same workflow with history and with --no-history (the peer), on
# three shapes of output — a burst (BURST lines, default 300000, from one
# step), a trickle (TRICKLE lines, default 400, each in a loop turn of its
# own: one commit per line) and many small steps (STEPS, default 60).
# Median of RUNS runs (default 5) of wall and CPU ms; the ratio is
# history / no history (1.00 = free).
set -u
. "$(dirname "$0")/lib.sh"
bench_init history
BURST=${HISTORY_BENCH_BURST:-300000}
TRICKLE=${HISTORY_BENCH_TRICKLE:-400}
STEPS=${HISTORY_BENCH_STEPS:-60}
RUNS=${HISTORY_BENCH_RUNS:-5}
export GIT_CONFIG_NOSYSTEM=1 HOME=$BENCH_TMP/home KILN_HOME=$BENCH_TMP/kh
git config --global user.name bench && git config --global user.email bench@example.com
git config --global init.defaultBranch main

repo=$BENCH_TMP/repo
mkdir -p "$repo/.github/workflows"
cd "$repo" || exit 3
git init -q
wf() { # NAME STEP-LINES...
	local name=$1
	shift
	{
		printf 'name: %s\non: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n' "$name"
		for s in "$@"; do printf '      - run: %s\n' "$s"; done
	} >".github/workflows/$name.yml"
}
wf burst "seq 1 $BURST | sed 's/^/output line /'"
wf trickle "for i in \$(seq 1 $TRICKLE); do echo line \$i; sleep 0.001; done"
steps=()
for i in $(seq 1 "$STEPS"); do steps+=("echo step $i"); done
wf steps "${steps[@]}"
git add -A && git commit -q -m bench

printf '%-8s %12s %12s %8s %12s %12s %8s\n' shape "wall ms" "no-hist ms" ratio "cpu ms" "no-hist cpu" ratio
for shape in burst trickle steps; do
	hw=() hc=() nw=() nc=()
	for _ in $(seq 1 "$RUNS"); do
		set -- $(bench_run 120 env TMPDIR="$BENCH_TMP/tmp" "$KILN" run -W ".github/workflows/$shape.yml")
		hw+=("$1") hc+=("$2")
		set -- $(bench_run 120 env TMPDIR="$BENCH_TMP/tmp" "$KILN" run --no-history -W ".github/workflows/$shape.yml")
		nw+=("$1") nc+=("$2")
	done
	w=$(bench_median "${hw[@]}") c=$(bench_median "${hc[@]}")
	w0=$(bench_median "${nw[@]}") c0=$(bench_median "${nc[@]}")
	printf '%-8s %12s %12s %8s %12s %12s %8s\n' "$shape" "$w" "$w0" "$(bench_ratio "$w" "$w0")" \
		"$c" "$c0" "$(bench_ratio "$c" "$c0")"
done
