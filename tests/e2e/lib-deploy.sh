# tests/e2e/lib-deploy.sh: helpers for the deploy tests (t6NNN), sourced
# after lib.sh. Every process a test starts (deployd, haproxy, instances,
# wrk) is killed at exit, even when the test fails.
#
#   deploy_setup APP INSTANCES        repo with .kiln/apps/APP.yml (write_app), releases/
#   make_release VERSION [MODE]       releases/VERSION with a mode file
#   start_deployd                     start the controller, wait until it answers
#   load_start SECONDS OUT            wrk in the background, counting versions
#   load_wait OUT                     wait for it; asserts nothing itself
#   load_stop OUT                     stop it now (SIGINT: wrk still reports)
#   sample_start OUT / sample_stop OUT   sample the instance process count
#
# DEPLOY_KIND=container (set before sourcing): the app is an image app;
# make_release builds an image of the demo app per version (FROM the
# test image of lib-containers.sh, the mode and release files in /app) and pushes it
# to a registry on loopback (Debian's docker-registry), then drops the
# local tag so the controller pulls it; the pushed digest is in
# $TRASH/ctx/VERSION.digest. The demo app runs with the
# host's python3 mounted read-only into the Debian image (the host is
# Debian too); the setup checks that it runs and skips otherwise.
# $DEADLINE is the progressDeadline the tests write: a container takes
# longer to start than a process.

DEMO_APP="$SRC_ROOT/examples/deploy/app.py"
COUNT_LUA="$SRC_ROOT/examples/deploy/count.lua"
export KILN_DEPLOY_STATE="$TRASH/state" KILN_DEPLOY_APPS="$TRASH/repo/.kiln/apps"
PIDDIR="$TRASH/pids"
mkdir -p "$PIDDIR" "$TRASH/repo/.kiln/apps" "$TRASH/repo/releases"
# test bodies run in subshells: pids live in files
deployd_pid() { cat "$TRASH/deployd.pid" 2>/dev/null; }

deploy_cleanup() {
	local DEPLOYD_PID p
	if [ "$DEPLOY_KIND" = container ]; then
		podman ps -aq --filter "label=io.kiln.deploy=$KILN_DEPLOY_STATE" | xargs -r podman rm -f -t 0 >/dev/null 2>&1
		# this test's tags, by name: its images share IDs with other tests'
		# (same content), so never `rmi -f ID`, and podman's reference
		# filter lists every name of a matching image
		[ -n "$REG_PORT" ] && podman images --format '{{.Repository}}:{{.Tag}}' |
			grep "^localhost:$REG_PORT/" | xargs -r podman rmi >/dev/null 2>&1
		# and the ones pulled by digest (no tag)
		[ -n "$REG_PORT" ] && podman images --digests --format '{{.Repository}}@{{.Digest}}' |
			grep "^localhost:$REG_PORT/" | xargs -r podman rmi >/dev/null 2>&1
	fi
	DEPLOYD_PID=$(deployd_pid)
	[ -n "$DEPLOYD_PID" ] && kill -0 "$DEPLOYD_PID" 2>/dev/null && kill "$DEPLOYD_PID" 2>/dev/null
	for p in $(cat "$TRASH/load.pids" 2>/dev/null); do kill "$p" 2>/dev/null; done
	local i
	for i in $(seq 1 50); do
		[ -n "$DEPLOYD_PID" ] && kill -0 "$DEPLOYD_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$DEPLOYD_PID" ] && kill -9 "$DEPLOYD_PID" 2>/dev/null
	# whatever a killed controller left behind: haproxy and instances
	local hp
	hp=$(cat "$KILN_DEPLOY_STATE/haproxy.pid" 2>/dev/null)
	if [ -n "$hp" ] && grep -q haproxy "/proc/$hp/cmdline" 2>/dev/null; then kill -9 "$hp"; fi
	for f in "$PIDDIR"/*.pid; do
		[ -e "$f" ] || continue
		p=$(cat "$f")
		if grep -q app.py "/proc/$p/cmdline" 2>/dev/null; then kill -9 -- "-$p" "$p" 2>/dev/null; fi
	done
	# even if the trash directory (and the pid files in it) vanished: every
	# process this test started carries its unique state path in its
	# environment (deployd, haproxy, instances, wrk)
	for f in $(grep -lsF "KILN_DEPLOY_STATE=$KILN_DEPLOY_STATE" /proc/[0-9]*/environ 2>/dev/null); do
		p=${f#/proc/}
		p=${p%/environ}
		[ "$p" = $$ ] || [ "$p" = "$BASHPID" ] || kill -9 "$p" 2>/dev/null
	done
	_cleanup
}
trap deploy_cleanup EXIT
# with lib-serve.sh too: the server first (trap serve_deploy_cleanup EXIT)
serve_deploy_cleanup() {
	local p
	p=$(serve_pid)
	[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	deploy_cleanup
}

test_have_prereq HAPROXY || test_skip_all "haproxy is not installed"
test_have_prereq WRK || test_skip_all "wrk is not installed"
test_have_prereq PYTHON || test_skip_all "python3 is not installed"

PORT=$(free_port)
URL="http://127.0.0.1:$PORT/"
DEPLOY_KIND=${DEPLOY_KIND:-process}
DEADLINE=3s

if [ "$DEPLOY_KIND" = container ]; then
	. "$TEST_ROOT/e2e/lib-containers.sh"
	command -v docker-registry >/dev/null || test_skip_all "docker-registry is needed (make deps installs it)"
	# a pull and a container start on a loaded machine (SAN build, other
	# container tests in parallel) take longer than a process start
	DEADLINE=30s
	REG_PORT=$(free_port)
	DEMO_IMAGE=localhost:$REG_PORT/kiln/demo
	mkdir -p "$TRASH/reg" "$TRASH/ctx"
	printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
		"$TRASH/reg/data" "$REG_PORT" >"$TRASH/reg/config.yml"
	(docker-registry serve "$TRASH/reg/config.yml" >"$TRASH/reg/log" 2>&1 & echo $! >"$TRASH/reg/pid")
	echo "$(cat "$TRASH/reg/pid")" >>"$TRASH/load.pids"
	for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$REG_PORT/v2/" >/dev/null && break; sleep 0.1; done
	curl -fs "http://127.0.0.1:$REG_PORT/v2/" >/dev/null || {
		cat "$TRASH/reg/log" >&2
		echo "Bail out! the registry on 127.0.0.1:$REG_PORT did not start in 60s"
		exit 1
	}
	# the host's python3 and its standard library, read-only in the container
	# (Debian's, not a version manager's shim that PATH may find first)
	[ -x /usr/bin/python3 ] || test_skip_all "Debian's python3 (/usr/bin/python3) is needed"
	PY_BIN=$(readlink -f /usr/bin/python3)
	PY_LIB=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')
	PY_VOLS="$PY_BIN:/usr/bin/python3:ro, $PY_LIB:$PY_LIB:ro, $DEMO_APP:/app/app.py:ro"
	for lib in $(ldd "$PY_BIN" | awk '$3 ~ /^\// && $1 !~ /^lib(c|m)\.so/ { print $3 }'); do
		PY_VOLS="$PY_VOLS, $lib:$lib:ro"
	done
	# shellcheck disable=SC2046 # the volumes are words
	podman run --rm $(echo "$PY_VOLS" | tr -d ' ' | tr ',' '\n' | sed 's/^/-v /') kiln-test/debian:latest \
		python3 -c 'import http.server' >/dev/null 2>&1 ||
		test_skip_all "the host's python3 does not run in the test image (not a Debian bookworm host?)"
fi

# write_app APP <<EOF: the app file; command, dir, env and listen are added
write_app() {
	if [ "$DEPLOY_KIND" = container ]; then
		{
			echo "image: $DEMO_IMAGE"
			echo "command: [python3, /app/app.py]"
			echo "volumes: [$PY_VOLS]"
			echo "env: {DEMO_BIND: 0.0.0.0, DEMO_DELAY_MS: '${DEMO_DELAY:-2}'}"
			echo "resources: {memory: 256m, pids: 256}"
			echo "listen: 127.0.0.1:$PORT"
			cat
		} >"$TRASH/repo/.kiln/apps/$1.yml"
		return
	fi
	{
		echo "command: [python3, $DEMO_APP]"
		echo 'dir: releases/$KILN_RELEASE'
		echo "env: {DEMO_PIDDIR: $PIDDIR, DEMO_DELAY_MS: '${DEMO_DELAY:-2}'}"
		echo "listen: 127.0.0.1:$PORT"
		cat
	} >"$TRASH/repo/.kiln/apps/$1.yml"
}

make_release() {
	if [ "$DEPLOY_KIND" = container ]; then
		echo "${2:-good}" >"$TRASH/ctx/mode" &&
		echo "$1" >"$TRASH/ctx/release" &&
		# this test's own image (its registry's port in it), not one a test
		# running in parallel builds too; once pushed, only its name goes
		# (the deploy pulls it): `rmi` would also remove its untagged parent
		# layers, which a parallel build's working container may be using
		echo "$REG_PORT" >"$TRASH/ctx/registry" &&
		printf 'FROM kiln-test/debian:latest\nWORKDIR /app\nCOPY mode release registry /app/\n' >"$TRASH/ctx/Containerfile" &&
		retry 3 podman build -q -t "$DEMO_IMAGE:$1" "$TRASH/ctx" >/dev/null &&
		retry 3 podman push -q --tls-verify=false --digestfile "$TRASH/ctx/$1.digest" "$DEMO_IMAGE:$1" &&
		podman untag "$DEMO_IMAGE:$1" >/dev/null
		return
	fi
	mkdir -p "$TRASH/repo/releases/$1" &&
	echo "${2:-good}" >"$TRASH/repo/releases/$1/mode"
}

# retry N CMD...: CMD up to N times, 2s apart (podman and the registry on a
# loaded machine); the last failure's output stays on stderr
retry() {
	local n=$1 i
	shift
	for i in $(seq 1 "$n"); do
		"$@" && return 0
		[ "$i" = "$n" ] || { echo "retrying ($i/$n): $*" >&2; sleep 2; }
	done
	return 1
}

start_deployd() {
	kiln deployd >>"$TRASH/deployd.log" 2>&1 &
	local DEPLOYD_PID=$!
	echo $DEPLOYD_PID >"$TRASH/deployd.pid"
	local i
	# generous: a SAN build on a loaded machine starts slowly
	for i in $(seq 1 600); do
		[ -S "$KILN_DEPLOY_STATE/deployd.sock" ] && [ -S "$KILN_DEPLOY_STATE/haproxy.sock" ] && return 0
		kill -0 "$DEPLOYD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "deployd did not start:" >&2
	cat "$TRASH/deployd.log" >&2
	return 1
}

# load_start SECONDS OUT: wrk for SECONDS (bounded), results in OUT
load_start() {
	timeout -k 2 $(($1 + 10)) wrk -t2 -c6 -d"$1"s --timeout 5s -s "$COUNT_LUA" "$URL" >"$2" 2>&1 &
	echo $! >>"$TRASH/load.pids"
	echo $! >"$2.pid"
}

# wait_pid PID SECONDS: wait for a process (not necessarily our child) to end
wait_pid() {
	local n=$(($2 * 10))
	while [ $n -gt 0 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		n=$((n - 1))
	done
	! kill -0 "$1" 2>/dev/null
}

load_wait() {
	wait_pid "$(cat "$1.pid")" 30 &&
	grep -q "^requests" "$1" || { echo "no load report:" >&2; cat "$1" >&2; return 1; }
}

load_stop() {
	sleep 0.3
	kill -INT "$(cat "$1.pid")" 2>/dev/null
	load_wait "$1"
}

# count OUT STATUS VERSION: responses with that status and version
count() {
	awk -v k="resp $2:$3" 'index($0, k" ") == 1 { print $NF; f = 1 } END { if (!f) print 0 }' "$1"
}

# assert_no_failures OUT: no socket errors, no non-2xx answers, some requests
assert_no_failures() {
	grep -q "^errors 0$" "$1" && grep -q "^non2xx 0$" "$1" && ! grep -q "^requests 0$" "$1" || {
		echo "load generator saw failures:" >&2; cat "$1" >&2; return 1
	}
}

# wait_for SECONDS CMD...: poll CMD until it succeeds (bounded)
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# stop the controller cleanly and check its log: no sanitizer report, no
# crash, and the stop itself is quiet: no instance "exited unexpectedly", no
# failed HAProxy command (it goes away with the controller)
stop_deployd_clean() {
	local pid from
	pid=$(deployd_pid)
	[ -n "$pid" ] || { echo "deployd never started" >&2; return 1; }
	from=$(($(stat -c %s "$TRASH/deployd.log") + 1))
	kiln deployd --stop >/dev/null 2>&1 || true
	wait_pid "$pid" 20 || { echo "deployd did not stop" >&2; return 1; }
	if grep -E "AddressSanitizer|LeakSanitizer|runtime error:|Segmentation" "$TRASH/deployd.log" >&2; then
		return 1
	fi
	if tail -c +$from "$TRASH/deployd.log" | grep -E "exited unexpectedly|haproxy: |refused" >&2; then
		echo "the controller's stop logged the above" >&2
		return 1
	fi
	return 0
}

# sample_procs OUT: every 50ms, the number of live instance processes the
# controller runs (its app.py children), one line each, until OUT.stop
# exists; at most 1200 samples (one minute)
sample_procs() {
	local pid i=0
	pid=$(deployd_pid)
	: >"$1"
	while [ $i -lt 1200 ] && [ ! -e "$1.stop" ]; do
		pgrep -c -P "$pid" -f "$DEMO_APP" >>"$1"
		sleep 0.05
		i=$((i + 1))
	done
	return 0
}

# sample_start OUT / sample_stop OUT: sample_procs in the background
sample_start() {
	rm -f "$1.stop"
	sample_procs "$1" &
	echo $! >"$1.pid"
	echo $! >>"$TRASH/load.pids"
}
sample_stop() {
	touch "$1.stop"
	wait_pid "$(cat "$1.pid")" 10
}

# max_of FILE / min_of FILE: of a column of numbers
max_of() { sort -n "$1" | tail -n1; }
min_of() { sort -n "$1" | head -n1; }

test_path_is_missing() {
	if [ -e "$1" ]; then echo "unexpected path: $1" >&2; return 1; fi
}
