#!/bin/bash
# bench/containers.sh: what kiln's container support costs over podman
# itself, on the test images (tests/containers/images.sh, built if needed).
#
# 1. service start-to-healthy: a job whose only step is `true` with one
#    service (PostgreSQL, then Redis; health check every 200 ms) — kiln's
#    "Initialize containers" step — against the image's own start: `podman
#    run -d` and the same health command polled every 200 ms until it
#    passes, then `podman rm -f`.
# 2. job container step: a job of N `run: true` steps in a `container:`
#    (each a `podman exec`) against the same job on the host, per step.
# 3. bubblewrap step: the same host job with `kiln run --isolate`, per step.
# 4. JavaScript action in a job container: N uses of a local node20 action
#    (the host's node mounted at /__e/node20, one `podman exec` each)
#    against the same job on the host, per step.
# Best of RUNS, printed with the ratio.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
KILN=${KILN:-$root/build/kiln}
RUNS=${RUNS:-3}
N=${N:-20}
export CONTAINERS_CONF=$root/build/test-images/containers.conf
"$root/tests/containers/images.sh" "$root/build" >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-ctr.XXXXXX")
trap 'rm -rf "$work"' EXIT
export KILN_HOME=$work/home
repo=$work/repo
mkdir -p "$repo/.github/workflows"
git -C "$repo" init -q

ms() { echo $(( $(date +%s%N) / 1000000 )); }

commit() { # workflow text on stdin
	cat >"$repo/.github/workflows/ci.yml"
	git -C "$repo" add -A && git -C "$repo" -c user.name=b -c user.email=b@b commit -q -m b
}

# the "Initialize containers" step of a --json run, in ms
init_ms() {
	(cd "$repo" && "$KILN" run --json --no-history 2>/dev/null) |
		grep '"step_end"' | grep '"Initialize containers"' |
		sed -n 's/.*"duration_ms":\([0-9.]*\).*/\1/p' | cut -d. -f1
}

# the raw start: podman run -d, poll the health command, remove
raw_ms() { # image health-command env...
	local img=$1 cmd=$2 t0 t1 name=kiln-bench-$$
	shift 2
	t0=$(ms)
	podman run -d --name $name "$@" "$img" >/dev/null
	until podman exec $name sh -c "$cmd" >/dev/null 2>&1; do sleep 0.2; done
	t1=$(ms)
	podman rm -f -t 0 $name >/dev/null
	echo $((t1 - t0))
}

best() { sort -n | head -1; }

service() { # id image health-command env
	commit <<YML
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    services:
      $1:
        image: $2
        env: { $4 }
        options: --health-cmd "$3" --health-interval 200ms --health-retries 300
    steps:
      - run: "true"
YML
	local k r
	k=$(for _ in $(seq 1 "$RUNS"); do init_ms; done | best)
	r=$(for _ in $(seq 1 "$RUNS"); do raw_ms "$2" "$3" ${4:+-e "${4%%:*}=${4#*: }"}; done | best)
	printf '%-28s kiln %6d ms   podman alone %6d ms   ratio %.2f\n' "service $1 to healthy" "$k" "$r" \
		"$(echo "$k / $r" | bc -l)"
}

service postgres kiln-test/postgres pg_isready "POSTGRES_PASSWORD: pw"
service redis kiln-test/redis "redis-cli ping" ""

mkdir -p "$repo/js" && printf 'runs:\n  using: node20\n  main: main.js\n' >"$repo/js/action.yml" &&
	echo 'process.exitCode = 0;' >"$repo/js/main.js"

steps() { # container line or empty, kiln run flags, step -> ms for the job's steps
	{
		printf 'on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n'
		[ -n "$1" ] && printf '    container: %s\n' "$1"
		printf '    steps:\n'
		for _ in $(seq 1 "$N"); do printf '      - %s\n' "${3:-run: \"true\"}"; done
	} | commit
	for _ in $(seq 1 "$RUNS"); do
		(cd "$repo" && "$KILN" run --json --no-history ${2:-} 2>/dev/null) |
			grep '"step_end"' | grep -v 'containers"' |
			sed -n 's/.*"duration_ms":\([0-9.]*\).*/\1/p' |
			awk '{s += $1} END {printf "%d\n", s}'
	done | best
}
h=$(steps "")
c=$(steps kiln-test/debian)
printf '%-28s kiln %6.1f ms   host step    %6.1f ms   ratio %.1f\n' "job container step (exec)" \
	"$(echo "$c / $N" | bc -l)" "$(echo "$h / $N" | bc -l)" "$(echo "$c / ($h + 0.001)" | bc -l)"
b=$(steps "" --isolate)
printf '%-28s kiln %6.1f ms   host step    %6.1f ms   ratio %.1f\n' "bubblewrap step (--isolate)" \
	"$(echo "$b / $N" | bc -l)" "$(echo "$h / $N" | bc -l)" "$(echo "$b / ($h + 0.001)" | bc -l)"
if command -v node >/dev/null; then
	jh=$(steps "" "" "uses: ./js")
	jc=$(steps kiln-test/debian "" "uses: ./js")
	printf '%-28s kiln %6.1f ms   host step    %6.1f ms   ratio %.1f\n' "JS action in job container" \
		"$(echo "$jc / $N" | bc -l)" "$(echo "$jh / $N" | bc -l)" "$(echo "$jc / ($jh + 0.001)" | bc -l)"
fi
