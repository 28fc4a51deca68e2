#!/usr/bin/env bash
# bench/sched.sh: the scheduler benchmark (issue 3, point 11).
#
# Runs the same layered DAG of N trivial jobs (N = 100, 500, 2000; each job
# is one `bash --noprofile --norc -eo pipefail` running `true`) with
#   kiln run -p 2        (a workflow in a temp git repository)
#   make -j2             (a Makefile, one phony target per job)
#   ninja -j2            (a build.ninja, one edge per job)
#   gitlab-ci-local      (for the record, N <= 500: .gitlab-ci.yml with needs:,
#                         shell executor, --concurrency 2)
# side by side, interleaved, several repetitions, and prints the medians of
# the wall time and of the CPU time (user+sys of the tool and its children,
# which hardly moves with the machine's load), per job, and the ratios. Then the start-up overhead: `kiln run` of a
# one-step workflow vs `bash -c true` (hyperfine).
#
# Targets (printed PASS/MISS, never fatal: benches are not tests):
#   2000 jobs: kiln <= 1.5x make -j2;  start-up: kiln run <= bash -c true + 5 ms.
#
# Usage: KILN=/abs/path/kiln bash bench/sched.sh
# Knobs (environment):
#   BENCH_SIZES="100 500 2000"  graph sizes        BENCH_REPS=5      repetitions
#   BENCH_LAYERS=10             layers per graph   BENCH_SEED=1      graph seed
#   BENCH_PARALLEL=2            -j / -p            BENCH_TIMEOUT=300 s per tool run
#   BENCH_GCL_SIZES="100 500"   gitlab-ci-local sizes ("" = skip it)
#   BENCH_GCL_REPS=1            its repetitions    BENCH_STARTUP_RUNS=40
#   BENCH_BUDGET=240            s per size: no new repetition starts after it
#                               (at least 2 are always made)
#   BENCH_KEEP=1                keep the temp dir (printed) for inspection
#   TMPDIR                      where the temp dir (and kiln's run dirs) live
#
# Exit status: 0 whenever the bench ran (targets missed or not), 2 when it
# cannot run (no kiln binary, no python3), 3 on an internal error.

set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZES=${BENCH_SIZES:-100 500 2000}
REPS=${BENCH_REPS:-5}
LAYERS=${BENCH_LAYERS:-10}
SEED=${BENCH_SEED:-1}
PAR=${BENCH_PARALLEL:-2}
LIMIT=${BENCH_TIMEOUT:-300}
GCL_SIZES=${BENCH_GCL_SIZES-100 500}
GCL_REPS=${BENCH_GCL_REPS:-1}
GCL_VERSION=4.52
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-40}
BUDGET=${BENCH_BUDGET:-240}
TARGET_MAKE_RATIO=1.5
TARGET_STARTUP_MS=5

bench_init sched
if [ -n "${BENCH_KEEP:-}" ]; then
	trap - EXIT INT TERM
	echo "sched: keeping $BENCH_TMP"
fi
command -v python3 >/dev/null || { echo "sched: python3 is required" >&2; exit 2; }
GEN=$BENCH_ROOT/bench/gen-dag.py

# ---- helpers ---------------------------------------------------------------

# row LABEL NAME N: the result line of tool NAME (arrays W_NAME, C_NAME, F_NAME)
row() {
	local label=$1 n=$3 wm cm
	local -n w=W_$2 c=C_$2 f=F_$2
	if [ "${#w[@]}" -eq 0 ]; then
		skip "$label" "every run failed or timed out (${LIMIT}s)"
		return
	fi
	wm=$(bench_median "${w[@]}")
	cm=$(bench_median "${c[@]}")
	printf '  %-24s %8s s %8s ms/job  cpu %7s ms/job  (wall %s-%s s, %s runs%s)\n' "$label" \
		"$(bench_secs "$wm")" "$(bench_calc 'ms / n' ms="$wm" n="$n")" \
		"$(bench_calc 'ms / n' ms="$cm" n="$n")" \
		"$(bench_secs "$(bench_min "${w[@]}")")" "$(bench_secs "$(bench_max "${w[@]}")")" \
		"${#w[@]}" "$([ "$f" -eq 0 ] || echo ", $f failed")"
}

# measure NAME DIR CMD...: one timed run of CMD in DIR (sandboxed env);
# appends wall and cpu ms to W_NAME and C_NAME, or counts a failure in F_NAME
measure() {
	local name=$1 dir=$2 here=$PWD t
	local -n w=W_$name c=C_$name f=F_$name
	shift 2
	cd "$dir" || exit 3
	if t=$(bench_env bench_run "$LIMIT" "$@"); then
		w+=("${t%% *}")
		c+=("${t##* }")
	else
		f=$((f + 1))
	fi
	cd "$here" || exit 3
}

# reset NAME...: empty the measurement arrays of the tools
reset() {
	local name
	for name in "$@"; do
		local -n w=W_$name c=C_$name f=F_$name
		w=() c=() f=0
		unset -n w c f
	done
}
# x RATIO: "1.23x", or "-" when there is no ratio
x() { bench_isnum "$1" && echo "$1x" || echo -; }
skip() { printf '  %-24s SKIP: %s\n' "$1" "$2"; }

# git_repo DIR: make DIR a git repository with everything committed
git_repo() {
	git -C "$1" init -q -b main 2>/dev/null || git -C "$1" init -q
	git -C "$1" add -A
	git -C "$1" -c user.name=bench -c user.email=bench@localhost \
		-c commit.gpgsign=false commit -q -m bench
}

# kiln_ok: does this kiln have a `run` command with -p?
kiln_ok() {
	"$KILN" run --help 2>&1 | grep -q -- --parallel
}

# kiln_check DIR N: one untimed run with --json; prints how many jobs
# succeeded and fails unless kiln exited 0 with N successful jobs.
kiln_check() {
	local dir=$1 n=$2 out=$BENCH_TMP/kiln-check.json rc ok
	(cd "$dir" && bench_env timeout -k 5 "$LIMIT" "$KILN" run -p "$PAR" --json) \
		>"$out" 2>"$out.err"
	rc=$?
	ok=$(grep '"event":"job_end"' "$out" | grep -c '"result":"success"')
	if [ "$rc" -ne 0 ] || [ "$ok" -ne "$n" ]; then
		echo "  kiln check: exit $rc, $ok/$n jobs succeeded; last lines:"
		tail -n 5 "$out.err" "$out" | sed 's/^/    /' | cut -c1-200
		return 1
	fi
	return 0
}

# gcl_install: install gitlab-ci-local under build/bench/npm (once); sets GCL
gcl_install() {
	local dir=$BENCH_ROOT/build/bench/npm have
	GCL=$dir/node_modules/.bin/gitlab-ci-local
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		GCL_SKIP="node/npm not installed (make deps)"
		return 1
	fi
	if ! command -v rsync >/dev/null; then
		GCL_SKIP="rsync not installed (make deps)"
		return 1
	fi
	have=$(node -p "require('$dir/node_modules/gitlab-ci-local/package.json').version" 2>/dev/null)
	case $have in
	"$GCL_VERSION".*) return 0 ;;
	esac
	mkdir -p "$dir" || { GCL_SKIP="cannot create $dir"; return 1; }
	echo "  installing gitlab-ci-local@$GCL_VERSION into $dir (npm)"
	if ! timeout -k 5 300 npm install --prefix "$dir" --no-audit --no-fund --no-save \
		--cache "$dir/.npm-cache" "gitlab-ci-local@$GCL_VERSION" >"$BENCH_TMP/npm.log" 2>&1 ||
		[ ! -x "$GCL" ]; then
		GCL_SKIP="npm install gitlab-ci-local@$GCL_VERSION failed: $(tail -n 1 "$BENCH_TMP/npm.log")"
		return 1
	fi
	return 0
}

# gcl_run DIR: one gitlab-ci-local pipeline from a clean state dir
gcl_run() {
	rm -rf "$1/.gitlab-ci-local"
	measure gcl "$1" "$GCL" --concurrency "$PAR" --quiet
}

# ---- start-up overhead -----------------------------------------------------

# startup: sets SU_BASH, SU_KILN (ms, medians) and SU_NOTE; without a
# working `kiln run` it measures bash alone
startup() {
	local dir=$BENCH_TMP/startup json=$BENCH_TMP/startup.json
	local cmds=('bash -c true') kiln=$HAVE_KILN
	SU_BASH=- SU_KILN=- SU_NOTE=$KILN_NOTE SU_BASH_CPU=- SU_KILN_CPU=-
	SU_OTHER=() # "name wall cpu" of kiln version / lint / expr (hyperfine only)
	mkdir -p "$dir/.github/workflows"
	printf 'on: push\njobs:\n  one:\n    runs-on: ubuntu-latest\n    steps:\n      - run: "true"\n' \
		>"$dir/.github/workflows/one.yml"
	git_repo "$dir" || exit 3
	if [ "$kiln" = 1 ] && ! kiln_check "$dir" 1; then
		kiln=0
		SU_NOTE="kiln run of the one-step workflow failed"
	fi
	[ "$kiln" = 0 ] || cmds+=("$KILN run -p $PAR" "$KILN version"
		"$KILN lint .github/workflows/one.yml" "$KILN expr \"format('{0}', 1) == 1\"")
	if command -v hyperfine >/dev/null &&
		(cd "$dir" && bench_env timeout -k 5 "$LIMIT" hyperfine -N --style none \
			--warmup 3 --runs "$STARTUP_RUNS" --export-json "$json" "${cmds[@]}") >/dev/null 2>&1; then
		SU_BASH=$(json_median "$json" 0)
		SU_BASH_CPU=$(json_cpu "$json" 0)
		[ "$kiln" = 0 ] || SU_KILN=$(json_median "$json" 1)
		[ "$kiln" = 0 ] || SU_KILN_CPU=$(json_cpu "$json" 1)
		[ "$kiln" = 0 ] || SU_NOTE="hyperfine -N, median of $STARTUP_RUNS"
		local i name
		for i in 2 3 4; do
			[ "$kiln" = 0 ] && break
			name=("" "" "kiln version" "kiln lint (1 file)" "kiln expr")
			SU_OTHER+=("${name[$i]}|$(json_median "$json" "$i")|$(json_cpu "$json" "$i")")
		done
		return
	fi
	local i b=() k=() t
	for i in $(seq "$STARTUP_RUNS"); do
		t=$(bench_run_ms 10 bash -c true) && b+=("$t")
		[ "$kiln" = 0 ] && continue
		t=$(cd "$dir" && bench_env bench_run_ms "$LIMIT" "$KILN" run -p "$PAR") && k+=("$t")
	done
	SU_BASH=$(bench_median "${b[@]}")
	[ "$kiln" = 0 ] && return
	SU_KILN=$(bench_median "${k[@]}")
	SU_NOTE="no hyperfine: own loop (bash time around timeout), median of $STARTUP_RUNS"
}

# json_median FILE I: hyperfine's median wall time of command I, in ms
json_median() {
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print("%.3f" % (r[int(sys.argv[2])]["median"]*1000))' "$1" "$2"
}

# json_cpu FILE I: hyperfine's mean user+system time of command I, in ms
json_cpu() {
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print("%.3f" % ((r["user"]+r["system"])*1000))' "$1" "$2"
}

# ---- one graph size --------------------------------------------------------

# size N: generate, run everything, print the block, and record the medians
# in R_MAKE[N], R_NINJA[N], R_KILN[N], R_GCL[N] (wall) and RC_*[N] (cpu)
declare -A R_MAKE R_NINJA R_KILN R_GCL RC_MAKE RC_KILN
size() {
	local n=$1 dir=$BENCH_TMP/dag-$1 info i t0 do_kiln=$HAVE_KILN
	info=$(python3 "$GEN" -n "$n" -o "$dir" --layers "$LAYERS" --seed "$SEED") || {
		echo "sched: gen-dag.py failed for N=$n" >&2
		exit 3
	}
	git_repo "$dir/gha" || exit 3
	echo
	echo "N=$n  ($info, seed $SEED, up to $REPS runs each, interleaved)"
	if [ "$do_kiln" = 1 ] && ! kiln_check "$dir/gha" "$n"; then
		do_kiln=0
		KILN_NOTE="kiln run failed on the N=$n graph"
	fi
	reset make ninja kiln gcl
	t0=$(bench_now_ns)
	for i in $(seq "$REPS"); do
		if [ "$i" -gt 2 ] && [ $((($(bench_now_ns) - t0) / 1000000000)) -ge "$BUDGET" ]; then
			echo "  (time budget of ${BUDGET}s for this size spent after $((i - 1)) rounds)"
			break
		fi
		measure make "$dir/make" make -j"$PAR"
		if [ "$HAVE_NINJA" = 1 ]; then
			rm -f "$dir/ninja/.ninja_log" "$dir/ninja/.ninja_deps"
			measure ninja "$dir/ninja" ninja -j"$PAR"
		fi
		[ "$do_kiln" = 0 ] || measure kiln "$dir/gha" "$KILN" run -p "$PAR"
	done
	R_MAKE[$n]=$(bench_median "${W_make[@]}")
	RC_MAKE[$n]=$(bench_median "${C_make[@]}")
	R_NINJA[$n]=$(bench_median "${W_ninja[@]}")
	R_KILN[$n]=$(bench_median "${W_kiln[@]}")
	RC_KILN[$n]=$(bench_median "${C_kiln[@]}")
	row "make -j$PAR" make "$n"
	if [ "$HAVE_NINJA" = 1 ]; then
		row "ninja -j$PAR" ninja "$n"
	else
		skip "ninja -j$PAR" "ninja not installed (make deps)"
	fi
	if [ "$do_kiln" = 1 ]; then
		row "kiln run -p $PAR" kiln "$n"
	else
		skip "kiln run -p $PAR" "$KILN_NOTE"
	fi
	R_GCL[$n]=-
	if [[ " $GCL_SIZES " == *" $n "* ]]; then
		[ -n "${GCL_SKIP:-}" ] || [ -n "${GCL:-}" ] || gcl_install || true
		if [ -n "${GCL_SKIP:-}" ]; then
			skip "gitlab-ci-local -c $PAR" "$GCL_SKIP"
		else
			git_repo "$dir/gitlab" || exit 3
			for i in $(seq "$GCL_REPS"); do
				gcl_run "$dir/gitlab"
			done
			R_GCL[$n]=$(bench_median "${W_gcl[@]}")
			row "gitlab-ci-local -c $PAR" gcl "$n"
		fi
	fi
	local r_m r_n
	r_m=$(bench_ratio "${R_KILN[$n]}" "${R_MAKE[$n]}")
	r_n=$(bench_ratio "${R_KILN[$n]}" "${R_NINJA[$n]}")
	printf '  %-24s %10s   (cpu %s)   kiln over make: %s ms/job wall, %s ms/job cpu\n' \
		"kiln/make" "$(x "$r_m")" "$(x "$(bench_ratio "${RC_KILN[$n]}" "${RC_MAKE[$n]}")")" \
		"$(bench_calc '(k - m) / n' k="${R_KILN[$n]}" m="${R_MAKE[$n]}" n="$n")" \
		"$(bench_calc '(k - m) / n' k="${RC_KILN[$n]}" m="${RC_MAKE[$n]}" n="$n")"
	printf '  %-24s %10s\n' "kiln/ninja" "$(x "$r_n")" \
		"ninja/make" "$(x "$(bench_ratio "${R_NINJA[$n]}" "${R_MAKE[$n]}")")"
	if [ "${R_GCL[$n]}" != - ]; then
		printf '  %-24s %10s\n' "gitlab-ci-local/kiln" "$(x "$(bench_ratio "${R_GCL[$n]}" "${R_KILN[$n]}")")" \
			"gitlab-ci-local/make" "$(x "$(bench_ratio "${R_GCL[$n]}" "${R_MAKE[$n]}")")"
	fi
	if [ "$n" = 2000 ]; then
		printf '  %-24s %10s   target <= %sx: %s\n' "target kiln/make" "$(x "$r_m")" "$TARGET_MAKE_RATIO" \
			"$(bench_verdict "$r_m" '<=' "$TARGET_MAKE_RATIO")"
	fi
	rm -rf "$dir"
}

# ---- main ------------------------------------------------------------------

HAVE_KILN=1 KILN_NOTE=
if ! kiln_ok; then
	HAVE_KILN=0
	KILN_NOTE="this kiln has no \`kiln run\` ($KILN)"
fi
HAVE_NINJA=1
command -v ninja >/dev/null || HAVE_NINJA=0
command -v make >/dev/null || { echo "sched: make is required" >&2; exit 2; }

echo "sched bench: kiln=$KILN"
echo "  $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), -j$PAR/-p $PAR, work per job:" \
	"bash --noprofile --norc -eo pipefail -c true"
T0=$(bench_now_ns)

for n in $SIZES; do
	size "$n"
done

echo
echo "start-up: \`kiln run -p $PAR\` of a one-step workflow vs \`bash -c true\`"
startup
SU_OVER=$(bench_calc 'k - b' k="$SU_KILN" b="$SU_BASH")
printf '  %-24s %10s ms   cpu %s ms\n' "bash -c true" "$SU_BASH" "$SU_BASH_CPU" \
	"kiln run (1 step)" "$SU_KILN" "$SU_KILN_CPU" \
	"kiln over bash" "$SU_OVER" "$(bench_calc 'k - b' k="$SU_KILN_CPU" b="$SU_BASH_CPU")"
printf '  %-24s %10s    (%s)\n' "target <= ${TARGET_STARTUP_MS} ms over" \
	"$(bench_verdict "$SU_OVER" '<=' "$TARGET_STARTUP_MS")" "$SU_NOTE"
for o in ${SU_OTHER[@]+"${SU_OTHER[@]}"}; do
	IFS='|' read -r name wall cpu <<<"$o"
	printf '  %-24s %10s ms   cpu %s ms   (over bash: %s ms, cpu %s ms)\n' "$name" "$wall" "$cpu" \
		"$(bench_calc 'k - b' k="$wall" b="$SU_BASH")" "$(bench_calc 'k - b' k="$cpu" b="$SU_BASH_CPU")"
done

# ---- summary ---------------------------------------------------------------

T1=$(bench_now_ns)
echo
echo "== sched summary: median wall seconds, -j$PAR/-p $PAR, $REPS runs," \
	"$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.0f", (b - a) / 1e9 }') s in all"
printf '  %6s %9s %9s %9s %9s %10s %10s %9s %9s %9s\n' N make ninja kiln gcl kiln/make kiln/ninja \
	"kiln ms/j" "cpu k/m" "gcl/kiln"
for n in $SIZES; do
	printf '  %6s %9s %9s %9s %9s %10s %10s %9s %9s %9s\n' "$n" \
		"$(bench_secs "${R_MAKE[$n]}")" "$(bench_secs "${R_NINJA[$n]}")" \
		"$(bench_secs "${R_KILN[$n]}")" "$(bench_secs "${R_GCL[$n]}")" \
		"$(x "$(bench_ratio "${R_KILN[$n]}" "${R_MAKE[$n]}")")" \
		"$(x "$(bench_ratio "${R_KILN[$n]}" "${R_NINJA[$n]}")")" \
		"$(bench_calc 'ms / n' ms="${R_KILN[$n]}" n="$n")" \
		"$(x "$(bench_ratio "${RC_KILN[$n]}" "${RC_MAKE[$n]}")")" \
		"$(x "$(bench_ratio "${R_GCL[$n]}" "${R_KILN[$n]}")")"
done
for n in $SIZES; do
	r=$(bench_ratio "${R_KILN[$n]}" "${R_MAKE[$n]}")
	printf '  target: %s jobs kiln/make %s <= %sx ............ %s\n' "$n" "$(x "$r")" "$TARGET_MAKE_RATIO" \
		"$(bench_verdict "$r" '<=' "$TARGET_MAKE_RATIO")"
done
printf '  target: start-up kiln over bash -c true %s ms <= %s ms ... %s\n' "$SU_OVER" "$TARGET_STARTUP_MS" \
	"$(bench_verdict "$SU_OVER" '<=' "$TARGET_STARTUP_MS")"
[ "$HAVE_KILN" = 1 ] || echo "  SKIP kiln: $KILN_NOTE"
exit 0
