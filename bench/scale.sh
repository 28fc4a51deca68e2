#!/usr/bin/env bash
# bench/scale.sh: how kiln's per-job overhead grows with the graph (issue 13,
# point 6), next to make -j2 run on the same graph in the same minute.
#
# Shapes (every job runs `true` through bash, as in bench/sched.sh):
#   layered-N   N jobs over 10 layers, 1-3 needs each (bench/gen-dag.py), N in
#               BENCH_SCALE_SIZES (default "100 500 2000 10000")
#   fanout-N    one job, then N jobs that need it (default N = 2000)
#   chain-N     N jobs, each needing the previous one (default N = 500)
# For each: kiln run -p 2 and make -j2 interleaved BENCH_SCALE_REPS times
# (default 2), the median wall, ms per job for both, kiln's extra ms per job
# over make (the overhead; it should stay flat as N grows: a growing value
# shows a super-linear cost), kiln's CPU per job (its process tree), and
# kiln's max RSS (GNU time's %M) and that per 1,000 jobs (meaningful for
# large N; small graphs show the fixed ~16 MB base).
#
# Usage: KILN=/abs/path/kiln bash bench/scale.sh     (or: make bench)
# Knobs: BENCH_SCALE_SIZES, BENCH_SCALE_FANOUT (2000), BENCH_SCALE_CHAIN (500),
#        BENCH_SCALE_REPS (2), BENCH_PARALLEL (2), BENCH_TIMEOUT (600 s per run),
#        BENCH_KEEP=1.  Exit 0 whenever it ran; 2 without kiln/python3/make.

set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZES=${BENCH_SCALE_SIZES:-100 500 2000 10000}
FANOUT=${BENCH_SCALE_FANOUT:-2000}
CHAIN=${BENCH_SCALE_CHAIN:-500}
REPS=${BENCH_SCALE_REPS:-2}
PAR=${BENCH_PARALLEL:-2}
LIMIT=${BENCH_TIMEOUT:-600}

bench_init scale
if [ -n "${BENCH_KEEP:-}" ]; then
	trap - EXIT INT TERM
	echo "scale: keeping $BENCH_TMP"
fi
for t in python3 make git; do
	command -v $t >/dev/null || { echo "scale: $t is required" >&2; exit 2; }
done
TIME=$(command -v time 2>/dev/null)
[ -x /usr/bin/time ] && TIME=/usr/bin/time

# gen SHAPE N DIR: the workflow (committed) and the Makefile of a shape
gen() {
	local shape=$1 n=$2 dir=$3
	if [ "$shape" = layered ]; then
		python3 "$BENCH_ROOT/bench/gen-dag.py" -n "$n" -o "$dir" >/dev/null || exit 3
	else
		mkdir -p "$dir/gha/.github/workflows" "$dir/make"
		python3 - "$shape" "$n" "$dir" <<-'PY' || exit 3
		import sys
		shape, n, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
		if shape == "fanout":
		    names = ["root"] + ["j%d" % i for i in range(n)]
		    needs = {"root": []}
		    needs.update({"j%d" % i: ["root"] for i in range(n)})
		else:
		    names = ["j%d" % i for i in range(n)]
		    needs = {"j%d" % i: (["j%d" % (i - 1)] if i else []) for i in range(n)}
		with open(d + "/gha/.github/workflows/dag.yml", "w") as f:
		    f.write("on: push\njobs:\n")
		    for j in names:
		        f.write("  %s:\n    runs-on: ubuntu-latest\n" % j)
		        if needs[j]:
		            f.write("    needs: [%s]\n" % ", ".join(needs[j]))
		        f.write('    steps:\n      - run: "true"\n')
		with open(d + "/make/Makefile", "w") as f:
		    f.write(".PHONY: all %s\nall: %s\n" % (" ".join(names), " ".join(names)))
		    for j in names:
		        f.write("%s: %s\n\tbash --noprofile --norc -eo pipefail -c true\n" % (j, " ".join(needs[j])))
		PY
	fi
	git -C "$dir/gha" init -q && git -C "$dir/gha" add -A &&
		git -C "$dir/gha" -c user.name=bench -c user.email=bench@localhost \
			-c commit.gpgsign=false commit -q -m bench || exit 3
}

# kiln_rss DIR: one kiln run under GNU time; prints max RSS in KB
kiln_rss() {
	[ -n "$TIME" ] || { echo -; return; }
	(cd "$1" && bench_env timeout -k 5 "$LIMIT" "$TIME" -f '%M' -o "$BENCH_TMP/rss" \
		"$KILN" run -p "$PAR" >/dev/null 2>&1) && cat "$BENCH_TMP/rss" || echo -
}

echo "scale: kiln run -p $PAR vs make -j$PAR, $REPS interleaved runs per shape (median);"
echo "  extra = kiln's ms per job over make's (flat = linear scaling)"
printf '  %-14s %7s %9s %9s %9s %8s %9s %8s %11s\n' shape jobs make/job kiln/job extra "kiln/make" "cpu/job" "max RSS" "RSS/1k jobs"
shapes=()
for n in $SIZES; do shapes+=("layered $n"); done
shapes+=("fanout $FANOUT" "chain $CHAIN")
for s in "${shapes[@]}"; do
	set -- $s
	shape=$1 n=$2 dir=$BENCH_TMP/$1-$2
	jobs=$n
	[ "$shape" = fanout ] && jobs=$((n + 1))
	gen "$shape" "$n" "$dir"
	mw=() kw=() kc=()
	for _ in $(seq "$REPS"); do
		t=$(cd "$dir/make" && bench_env bench_run "$LIMIT" make -s -j"$PAR") && mw+=("${t%% *}")
		t=$(cd "$dir/gha" && bench_env bench_run "$LIMIT" "$KILN" run -p "$PAR") &&
			{ kw+=("${t%% *}"); kc+=("${t##* }"); }
	done
	if [ ${#mw[@]} -eq 0 ] || [ ${#kw[@]} -eq 0 ]; then
		printf '  %-14s SKIP: a run failed or timed out (%ss)\n' "$shape-$n" "$LIMIT"
		continue
	fi
	m=$(bench_median "${mw[@]}") k=$(bench_median "${kw[@]}") c=$(bench_median "${kc[@]}")
	rss=$(kiln_rss "$dir/gha")
	printf '  %-14s %7s %9s %9s %9s %8s %9s %5s MB %8s MB\n' "$shape-$n" "$jobs" \
		"$(bench_calc 'm / j' m="$m" j="$jobs")" "$(bench_calc 'k / j' k="$k" j="$jobs")" \
		"$(bench_calc '(k - m) / j' k="$k" m="$m" j="$jobs")" "$(bench_ratio "$k" "$m")x" \
		"$(bench_calc 'c / j' c="$c" j="$jobs")" "$(bench_calc 'r / 1024' r="$rss")" \
		"$(bench_calc 'r / 1024 * 1000 / j' r="$rss" j="$jobs")"
	rm -rf "$dir"
done
exit 0
