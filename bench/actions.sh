#!/bin/bash
# bench/actions.sh: resolving N remote actions (default 20) served by
# `git daemon` on loopback — kiln's cold fetch (empty cache: ls-remote, the
# tag's objects, the tree written out) and its warm cache (no network at
# all), side by side with the peer: `git clone` of the same repositories
# (shallow at the tag, and full as act does), and `git fetch` into those
# clones, which is what act repeats on every run unless offline.
#
# Each action repository has REV commits (default 20) of a small JS action
# (dist/index.js ~200 KB plus 40 source files). The kiln side is `kiln run`
# on a workflow whose one job uses the N actions and is skipped by `if:`, so
# only resolution is measured (plus kiln's start-up, a few ms). Median of
# RUNS runs (default 3). Prints ms and ratios (peer / kiln: >1 is faster).
set -u
. "$(dirname "$0")/lib.sh"
bench_init actions
N=${ACTIONS_BENCH_N:-20}
REV=${ACTIONS_BENCH_REV:-20}
RUNS=${ACTIONS_BENCH_RUNS:-3}
export GIT_CONFIG_NOSYSTEM=1 HOME=$BENCH_TMP/home
git config --global user.name bench && git config --global user.email bench@example.com
git config --global init.defaultBranch main

srv=$BENCH_TMP/srv
mkdir -p "$srv/bench"
python3 - "$BENCH_TMP/src" "$N" <<'PY' || exit 3
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
r = random.Random(11)
words = ["const", "let", "function", "return", "await", "require", "module", "exports",
         "core", "input", "output", "path", "fs", "if", "else", "for", "of", "=>"]
for i in range(n):
    d = os.path.join(root, "a%d" % i)
    os.makedirs(os.path.join(d, "dist"), exist_ok=True)
    os.makedirs(os.path.join(d, "src"), exist_ok=True)
    with open(os.path.join(d, "action.yml"), "w") as f:
        f.write("name: a%d\nruns:\n  using: node20\n  main: dist/index.js\n" % i)
    with open(os.path.join(d, "dist", "index.js"), "w") as f:
        f.write(" ".join(r.choice(words) for _ in range(40000)))
    for k in range(40):
        with open(os.path.join(d, "src", "m%d.js" % k), "w") as f:
            f.write(" ".join(r.choice(words) for _ in range(300)))
PY
for i in $(seq 0 $((N - 1))); do
	(cd "$BENCH_TMP/src/a$i" && git init -q && git add -A && git commit -q -m c0 &&
		for c in $(seq 1 $((REV - 1))); do
			echo "// $c" >>dist/index.js && echo "// $c" >>"src/m$((c % 40)).js" &&
				git commit -q -am "c$c" || exit 1
		done && git tag -a -m v1 v1 &&
		git clone -q --bare . "$srv/bench/a$i") || { echo "actions: cannot build repos" >&2; exit 3; }
done

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
git daemon --reuseaddr --export-all --base-path="$srv" --listen=127.0.0.1 --port="$port" \
	>"$BENCH_TMP/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null; bench_cleanup' EXIT
for _ in $(seq 100); do
	git ls-remote "git://127.0.0.1:$port/bench/a0" >/dev/null 2>&1 && break
	sleep 0.1
done
base="git://127.0.0.1:$port"

repo=$BENCH_TMP/repo
mkdir -p "$repo/.github/workflows"
{
	printf 'on: push\njobs:\n  use:\n    if: false\n    runs-on: ubuntu-latest\n    steps:\n'
	for i in $(seq 0 $((N - 1))); do printf '      - uses: bench/a%d@v1\n' "$i"; done
} >"$repo/.github/workflows/ci.yml"
printf 'on: push\njobs:\n  use:\n    if: false\n    runs-on: ubuntu-latest\n    steps:\n      - run: "true"\n' \
	>"$repo/.github/workflows/base.yml"
(cd "$repo" && git init -q && git add -A && git commit -q -m ci) || exit 3

kiln_run() { # KILN_HOME [WORKFLOW]
	(cd "$repo" && KILN_HOME=$1 bench_env "$KILN" run --no-history --github-instance "$base" \
		-W ".github/workflows/${2:-ci}.yml")
}
clones() { # DIR DEPTH-ARGS...
	local dir=$1 i
	shift
	for i in $(seq 0 $((N - 1))); do
		git clone -q "$@" "$base/bench/a$i" "$dir/a$i" || return 1
	done
}
fetches() { # DIR
	local i
	for i in $(seq 0 $((N - 1))); do
		git -C "$1/a$i" fetch -q origin || return 1
	done
}

# bench_run runs a program (timeout): the helpers go through bash -c
export -f kiln_run clones fetches bench_env
export repo base N KILN BENCH_TMP
cold=() warm=() shallow=() full=() refetch=() baseline=()
for r in $(seq 1 "$RUNS"); do
	h=$BENCH_TMP/kh.$r
	baseline+=("$(bench_run_ms 300 bash -c 'kiln_run "$1" base' - "$BENCH_TMP/kh.base")")
	cold+=("$(bench_run_ms 300 bash -c 'kiln_run "$1"' - "$h")")
	warm+=("$(bench_run_ms 300 bash -c 'kiln_run "$1"' - "$h")")
	shallow+=("$(bench_run_ms 300 bash -c 'clones "$1" --depth 1 --branch v1' - "$BENCH_TMP/shallow.$r")")
	full+=("$(bench_run_ms 300 bash -c 'clones "$1"' - "$BENCH_TMP/full.$r")")
	refetch+=("$(bench_run_ms 300 bash -c 'fetches "$1"' - "$BENCH_TMP/full.$r")")
done
kc=$(bench_median "${cold[@]}") kw=$(bench_median "${warm[@]}")
ps=$(bench_median "${shallow[@]}") pf=$(bench_median "${full[@]}")
pr=$(bench_median "${refetch[@]}") kb=$(bench_median "${baseline[@]}")
size=$(du -sk "$srv/bench/a0" | cut -f1)
echo "actions: $N remote actions over git:// on loopback, $REV commits each (${size} KB bare), median of $RUNS"
printf '  %-40s %9s ms   %-40s %9s ms   ratio %sx\n' \
	"kiln cold (empty cache)" "$kc" "git clone --depth 1 --branch v1 (each)" "$ps" "$(bench_ratio "$ps" "$kc")"
printf '  %-40s %9s ms   %-40s %9s ms   ratio %sx\n' \
	"kiln cold (empty cache)" "$kc" "git clone (each, full history)" "$pf" "$(bench_ratio "$pf" "$kc")"
printf '  %-40s %9s ms   %-40s %9s ms   ratio %sx\n' \
	"kiln warm (cache, no network)" "$kw" "git fetch into the clones (each)" "$pr" "$(bench_ratio "$pr" "$kw")"
printf '  kiln run of the same skipped job without actions (start-up, run set-up): %s ms\n' "$kb"
printf '  per action, start-up subtracted: kiln cold %s ms, warm %s ms; git clone --depth 1 %s ms\n' \
	"$(bench_calc "(k - b) / n" k="$kc" b="$kb" n="$N")" \
	"$(bench_calc "(k - b) / n" k="$kw" b="$kb" n="$N")" "$(bench_calc "p / n" p="$ps" n="$N")"
