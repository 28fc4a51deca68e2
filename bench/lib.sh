# bench/lib.sh: shared helpers for the benchmarks in bench/*.sh (sourced).
#
#   . "$(dirname "$0")/lib.sh"
#   bench_init sched            # BENCH_TMP (removed on exit), BENCH_ROOT, KILN
#   ms=$(bench_run_ms 60 make -j2 -C dir) || echo "failed or timed out"
#   set -- $(bench_run 60 make -j2 -C dir)   # $1 wall ms, $2 cpu ms
#   bench_median 3.1 2.9 3.0    # -> 3.000
#   bench_ratio 3.0 2.0         # -> 1.50
#   bench_verdict 1.2 '<=' 1.5  # -> PASS
#
# Benchmarks print numbers and ratios against peers run side by side; they
# never fail on a missed target (they are not tests). They exit non-zero only
# when they cannot run at all (no kiln binary, a broken generator).

# bench_init NAME: set BENCH_NAME, BENCH_ROOT (the repository), KILN (absolute
# path of the binary: $KILN, else build/kiln), BENCH_TMP (a fresh temp dir,
# removed on exit or interruption, with home/ and tmp/ inside it).
bench_init() {
	BENCH_NAME=$1
	BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	KILN=${KILN:-$BENCH_ROOT/build/kiln}
	case $KILN in
	/*) ;;
	*) KILN=$PWD/$KILN ;;
	esac
	if [ ! -x "$KILN" ]; then
		echo "$BENCH_NAME: no kiln binary at $KILN (run make, or set KILN=/abs/path/kiln)" >&2
		exit 2
	fi
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-$BENCH_NAME.XXXXXX") || exit 3
	mkdir -p "$BENCH_TMP/home" "$BENCH_TMP/tmp" "$BENCH_TMP/cache"
	trap 'bench_cleanup' EXIT
	trap 'bench_cleanup; exit 130' INT
	trap 'bench_cleanup; exit 143' TERM
}

# bench_cleanup: remove BENCH_TMP (idempotent).
bench_cleanup() {
	if [ -n "${BENCH_TMP:-}" ] && [ -d "$BENCH_TMP" ]; then
		chmod -R u+w "$BENCH_TMP" 2>/dev/null
		rm -rf "$BENCH_TMP"
	fi
	BENCH_TMP=
}

# bench_env CMD...: run CMD with HOME, TMPDIR and XDG_CACHE_HOME inside
# BENCH_TMP, so no tool writes outside the bench's temp dir.
bench_env() {
	HOME=$BENCH_TMP/home TMPDIR=$BENCH_TMP/tmp XDG_CACHE_HOME=$BENCH_TMP/cache \
		XDG_STATE_HOME=$BENCH_TMP/home/.local/state XDG_DATA_HOME=$BENCH_TMP/home/.local/share \
		"$@"
}

# bench_now_ns: monotonic-enough wall clock in nanoseconds.
bench_now_ns() {
	date +%s%N
}

# bench_run TIMEOUT_S CMD...: run CMD once (output discarded, bounded by
# TIMEOUT_S seconds) and print "WALL_MS CPU_MS": wall time and the user+sys
# CPU time of CMD and every process it waited for (bash's `time`). CPU time
# hardly moves with the machine's load; wall time does. Returns CMD's exit
# status (124 on timeout) and prints nothing when it fails.
bench_run() {
	local limit=$1 rc f=$BENCH_TMP/.time.$BASHPID TIMEFORMAT='%3R %3U %3S'
	shift
	{ time timeout -k 5 "$limit" "$@" >/dev/null 2>&1; } 2>"$f"
	rc=$?
	[ "$rc" -eq 0 ] || { rm -f "$f"; return "$rc"; }
	awk '{ printf "%.3f %.3f\n", $1 * 1000, ($2 + $3) * 1000 }' "$f"
	rm -f "$f"
}

# bench_run_ms TIMEOUT_S CMD...: like bench_run, the wall time alone.
bench_run_ms() {
	local t
	t=$(bench_run "$@") || return
	echo "${t%% *}"
}

# bench_median X...: the median of the numbers (mean of the two middle ones
# for an even count), 3 decimals; prints "-" when given none.
bench_median() {
	[ $# -gt 0 ] || { echo -; return; }
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
		      printf "%.3f\n", m }'
}

# bench_min X... / bench_max X...: smallest / largest number, or "-".
bench_min() {
	[ $# -gt 0 ] || { echo -; return; }
	printf '%s\n' "$@" | sort -g | head -n1
}
bench_max() {
	[ $# -gt 0 ] || { echo -; return; }
	printf '%s\n' "$@" | sort -g | tail -n1
}

# bench_isnum X: true when X is a number (not "-" or empty).
bench_isnum() {
	case ${1:-} in
	'' | - | *[!0-9.eE+-]*) return 1 ;;
	esac
	return 0
}

# bench_ratio A B: A / B with 2 decimals, or "-" when either is missing or B is 0.
bench_ratio() {
	if bench_isnum "${1:-}" && bench_isnum "${2:-}"; then
		awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f\n", a / b }'
	else
		echo -
	fi
}

# bench_calc EXPR VAR=VALUE...: evaluate an awk expression with the given
# variables, 3 decimals; "-" when a value is not a number.
bench_calc() {
	local expr=$1 kv args=()
	shift
	for kv in "$@"; do
		bench_isnum "${kv#*=}" || { echo -; return; }
		args+=(-v "$kv")
	done
	awk "${args[@]}" "BEGIN { printf \"%.3f\\n\", $expr }"
}

# bench_verdict VALUE OP TARGET: PASS when VALUE OP TARGET holds (OP is <=
# or >=), MISS when not, "n/a" when VALUE is missing.
bench_verdict() {
	bench_isnum "${1:-}" || { echo n/a; return; }
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
		ok = (op == "<=") ? (v <= t) : (v >= t); print ok ? "PASS" : "MISS" }'
}

# bench_secs MS: milliseconds as seconds with 3 decimals ("-" stays "-").
bench_secs() {
	bench_isnum "${1:-}" || { echo -; return; }
	awk -v m="$1" 'BEGIN { printf "%.3f\n", m / 1000 }'
}

# `make bench` runs every bench/*.sh: executed rather than sourced, this
# file has nothing to measure.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "bench/lib.sh: helpers sourced by the other benches; nothing to run"
	exit 0
fi
