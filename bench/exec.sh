#!/bin/bash
# bench/exec.sh: per-job overhead of the executor alone. `kiln debug job
# --repeat N` runs a one-step job (`run: true`) N times in a row — each
# with its own workspace (libgit2 checkout of HEAD), RUNNER_TEMP, env
# files, script file and process group — against the floor: N spawns of
# `bash --noprofile --norc -eo pipefail -c true` from a shell loop. Both
# on tmpfs (/dev/shm) and on the disk ($TMPDIR), alternating, best of RUNS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
KILN=${KILN:-$here/../build/kiln}
N=${N:-300}
RUNS=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-exec.XXXXXX")
shm=
[ -d /dev/shm ] && [ -w /dev/shm ] && shm=$(mktemp -d /dev/shm/kiln-bench-exec.XXXXXX)
trap 'rm -rf "$work" ${shm:+"$shm"}' EXIT

repo=$work/repo
mkdir -p "$repo/.github/workflows" "$repo/src"
for i in $(seq 1 20); do echo "file $i" >"$repo/src/f$i.txt"; done
cat >"$repo/.github/workflows/ci.yml" <<'YML'
on: push
jobs:
  one:
    runs-on: ubuntu-latest
    steps:
      - run: true
YML
git -C "$repo" init -q && git -C "$repo" add . &&
	git -C "$repo" -c user.name=b -c user.email=b@b commit -q -m bench

us_kiln() { # DIR -> microseconds per job
	rm -rf "$1/run"
	(cd "$repo" && "$KILN" debug job --repeat "$N" --run-dir "$1/run" .github/workflows/ci.yml one 2>&1 >/dev/null) |
		sed -n 's/.*: \([0-9]*\) us per job/\1/p'
	rm -rf "$1/run"
}
us_bash() {
	local t0 t1
	t0=$(date +%s%N)
	for _ in $(seq "$N"); do bash --noprofile --norc -eo pipefail -c true; done
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000 / N ))
}
min() { sort -n | head -1; }

b=$(for _ in $(seq "$RUNS"); do us_bash; done | min)
printf '%-34s %8s us/job\n' "bash -c true loop (floor)" "$b"
for d in ${shm:+"$shm"} "$work"; do
	k=$(for _ in $(seq "$RUNS"); do us_kiln "$d"; done | min)
	printf '%-34s %8s us/job   ratio %s  overhead %s us\n' "kiln job on $(df --output=fstype "$d" | tail -1)" \
		"$k" "$(awk -v a="$k" -v b="$b" 'BEGIN { printf "%.2f", a / b }')" "$((k - b))"
done
