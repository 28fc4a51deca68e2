#!/bin/bash
test_description='faults: concurrent first starts, kill -9 at several moments, SIGINT, full disk,
a damaged store, a missing key — each with its exit code, its message, and nothing left behind
(no process, no run directory, no in_progress row)'
. "$(dirname "$0")/../lib.sh"

export KILN_HOME="$TRASH/kh"
export TMPDIR="$TRASH/tmp" # run directories of this test only
export PIDDIR="$TRASH/pids"
mkdir -p "$TMPDIR" "$PIDDIR"

# gone PID: no such process, or a zombie (pid 1 here may not reap)
gone() {
	local st
	[ -n "$1" ] || return 0 # killed before it wrote its pid
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}
wait_gone() {
	for _ in $(seq 1 100); do gone "$1" && return 0; sleep 0.05; done
	echo "process $1 is still alive: $(tr '\0' ' ' </proc/$1/cmdline)" >&2
	return 1
}
# every pid a step wrote into $PIDDIR is gone
all_gone() {
	for f in "$PIDDIR"/*; do
		[ -e "$f" ] || continue
		wait_gone "$(cat "$f")" || return 1
	done
}
wait_grep() {
	for _ in $(seq 1 400); do grep -q -e "$1" "$2" 2>/dev/null && return 0; sleep 0.05; done
	echo "timed out waiting for '$1' in $2:" >&2
	cat "$2" >&2
	return 1
}
no_in_progress() {
	kiln runs --all -n 0 --json >"$TRASH/runs.json" &&
	python3 - "$TRASH/runs.json" <<-\PY
	import json, sys
	bad = [r for r in json.load(open(sys.argv[1])) if r["status"] != "completed"]
	sys.exit("runs still in progress: %r" % bad if bad else 0)
	PY
}
no_run_dirs() {
	if ls -d "$TMPDIR"/kiln-run-* 2>/dev/null; then
		echo "run directories left behind" >&2
		return 1
	fi
}
# the next kiln invocation cleans up; then nothing may be left
left_nothing() {
	no_in_progress && all_gone && no_run_dirs
}
# kiln run -W WORKFLOW in the background: $kpid
start_run() {
	(cd repo && exec kiln run -W ".github/workflows/$1.yml" >"$TRASH/out" 2>"$TRASH/err") &
	kpid=$!
}

test_expect_success 'setup' '
	test_create_repo repo &&
	# children that keep the job marker, clear their environment, or
	# also leave the session of the step: all found after kiln died
	write_workflow repo long <<-\EOF &&
	name: Long
	on: push
	jobs:
	  long:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          sleep 300 &
	          echo $! >"$PIDDIR/child"
	          env -i /bin/sh -c "sleep 300" &
	          echo $! >"$PIDDIR/child-without-env"
	          (setsid env -i /bin/sh -c "sleep 300" & echo $! >"$PIDDIR/child-own-session")
	          echo $$ >"$PIDDIR/shell"
	          echo last-line-before-kill
	          wait
	EOF
	write_workflow repo slow <<-\EOF &&
	name: Slow
	on: push
	jobs:
	  slow:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          sleep 300 &
	          echo $! >"$PIDDIR/child"
	          env -i /bin/sh -c "sleep 300" &
	          echo $! >"$PIDDIR/child-without-env"
	          echo last-line-before-kill
	          wait
	EOF
	write_workflow repo chain <<-\EOF &&
	name: Chain
	on: push
	jobs:
	  a:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo a-out; sleep 300 & echo $! >"$PIDDIR/a.child"; sleep 0.2
	  b:
	    needs: a
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo b-out; sleep 300 & echo $! >"$PIDDIR/b.child"; wait
	EOF
	write_workflow repo quick <<-\EOF &&
	name: Quick
	on: push
	jobs:
	  q:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo quick-ran
	EOF
	write_workflow repo secret <<-\EOF
	name: Secret
	on: push
	jobs:
	  s:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "token length ${#TOKEN}"
	        env:
	          TOKEN: ${{ secrets.TOKEN }}
	EOF
'

test_expect_success 'concurrent first starts: 8 at once on a fresh store' '
	export KILN_HOME="$TRASH/kh-concurrent" &&
	pids= &&
	for i in 1 2 3 4 5 6 7 8; do
		(cd repo && exec kiln run -W .github/workflows/quick.yml >"$TRASH/c.$i" 2>&1) &
		pids="$pids $!"
	done &&
	for p in $pids; do wait $p; done &&
	! grep -E "locked|malformed|already exists|warning" "$TRASH"/c.* &&
	(cd repo && kiln runs) >runs &&
	test $(grep -c " Quick .*success" runs) = 8 &&
	left_nothing
'

test_expect_success 'kill -9 during a step: the step group dies with kiln, the next kiln closes the run' '
	start_run long &&
	wait_grep "last-line-before-kill" out &&
	ls -d "$TMPDIR"/kiln-run-* >/dev/null &&
	echo $kpid >kpid &&
	kill -9 $kpid &&
	test_expect_code 137 wait $kpid &&
	wait_gone "$(cat "$PIDDIR/shell")" &&
	(cd repo && kiln runs) >runs 2>err &&
	test_must_be_empty err &&
	test_grep "^1  *Long  *1  *push  *main  *failure\*" runs &&
	test_grep "^\* run 1: kiln (pid $kpid) ended without finishing this run" runs &&
	wait_gone "$(cat "$PIDDIR/child")" &&
	wait_gone "$(cat "$PIDDIR/child-without-env")" &&
	wait_gone "$(cat "$PIDDIR/child-own-session")" &&
	no_run_dirs &&
	no_in_progress
'

test_expect_success 'kill -9: the last line printed before the kill is in kiln logs, with the reason' '
	kpid=$(cat kpid) &&
	kiln logs Long#1 long >log &&
	test_grep "^last-line-before-kill$" log &&
	test_grep "^kiln: error: kiln (pid $kpid) ended without finishing this run" log &&
	kiln logs Long#1 >log &&
	test_grep "^== job long (failure)" log &&
	test_grep "^kiln: run 1 (Long #1): kiln (pid $kpid) ended" log
'

for delay in 0 0.02 0.1 0.3 0.6 1.0; do
test_expect_success "kill -9 after ${delay}s (start, between jobs, during a job): nothing left" "
	rm -f \"\$PIDDIR\"/* &&
	start_run chain &&
	sleep $delay &&
	kill -9 \$kpid &&
	test_expect_code 137 wait \$kpid &&
	left_nothing &&
	(cd repo && kiln run -W .github/workflows/quick.yml) >q &&
	test_grep quick-ran q &&
	left_nothing
"
done

test_expect_success 'kill -9 with --keep: the kept run directory stays (the run is closed)' '
	rm -f "$PIDDIR"/*
	(cd repo && exec kiln run --keep -W .github/workflows/slow.yml >"$TRASH/out" 2>"$TRASH/err") &
	kpid=$! &&
	wait_grep "last-line-before-kill" out &&
	kill -9 $kpid &&
	test_expect_code 137 wait $kpid &&
	no_in_progress &&
	all_gone &&
	kept=$(ls -d "$TMPDIR"/kiln-run-*) &&
	test -d "$kept/slow/workspace" &&
	rm -rf "$kept"
'

test_expect_success 'kill -9 of a kiln that opens a fresh store, then the store works' '
	for delay in 0 0.005 0.01 0.03; do
		export KILN_HOME="$TRASH/kh-fresh-$delay"
		start_run quick
		sleep $delay
		kill -9 $kpid 2>/dev/null || : # on a quiet machine the run may be done already
		wait $kpid || :
		(cd repo && kiln run -W .github/workflows/quick.yml) >q 2>err &&
		test_grep quick-ran q &&
		! grep -E "locked|malformed|warning" err &&
		left_nothing || exit 1
	done
'

test_expect_success 'SIGINT during a step: cancelled, exit 1, nothing left' '
	export KILN_HOME="$TRASH/kh" &&
	rm -f "$PIDDIR"/* &&
	start_run slow &&
	wait_grep "last-line-before-kill" out &&
	kill -INT $kpid &&
	test_expect_code 1 wait $kpid &&
	test_grep "^run cancelled" out &&
	all_gone &&
	no_run_dirs &&
	no_in_progress &&
	kiln runs -n 1 --all >runs &&
	test_grep "Slow  *2 .*cancelled" runs
'

test_expect_success 'a damaged store: every command names the file and says how to recover' '
	export KILN_HOME="$TRASH/kh-garbage" &&
	mkdir -p "$KILN_HOME" &&
	head -c 65536 /dev/urandom >"$KILN_HOME/kiln.db" &&
	for cmd in "runs" "runs --all" "logs 1" "secret list" "run -W .github/workflows/quick.yml"; do
		(cd repo && test_expect_code 3 kiln $cmd) >o 2>e || exit 1
		test_grep "^kiln: error: .*the store .$KILN_HOME/kiln.db.: file is not a database" e &&
		test_grep "^hint: .*mv .$KILN_HOME/kiln.db.\*" e &&
		test_grep "^hint: .*sqlite3 .$KILN_HOME/damaged/kiln.db. .dump" e &&
		! grep quick-ran o || exit 1
	done &&
	printf x | test_expect_code 3 kiln secret set X 2>e &&
	test_grep "kh-garbage/kiln.db" e &&
	no_run_dirs
'

test_expect_success 'a damaged store: following the hint starts a new store' '
	export KILN_HOME="$TRASH/kh-garbage" &&
	mkdir "$KILN_HOME/damaged" && mv "$KILN_HOME"/kiln.db* "$KILN_HOME/damaged/" &&
	(cd repo && kiln run -W .github/workflows/quick.yml) >o 2>e &&
	test_grep quick-ran o &&
	left_nothing
'

test_expect_success 'a truncated store: the command fails naming the file, a run needing its secrets does not run' '
	export KILN_HOME="$TRASH/kh-trunc" &&
	# lines zstd cannot shrink much: the store must be large enough that
	# its first third still holds the whole schema (sqlite_schema spans
	# pages up to ~70 since migrations 14-17), or .dump cannot list any table
	python3 -c "import hashlib; print(\"\n\".join(\"log line %d %s\" % (i, hashlib.sha256(str(i).encode()).hexdigest()) for i in range(20000)))" >big.log &&
	for i in 1 2 3 4 5 6; do
		kiln debug record-run --workflow .github/workflows/ci.yml --name CI \
			--job build:success:big.log >/dev/null || exit 1
	done &&
	printf secret-value | kiln secret set TOKEN &&
	python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"PRAGMA wal_checkpoint(TRUNCATE)\")" "$KILN_HOME/kiln.db" &&
	size=$(stat -c %s "$KILN_HOME/kiln.db") &&
	truncate -s $((size / 3)) "$KILN_HOME/kiln.db" &&
	(cd repo && test_expect_code 3 kiln run -W .github/workflows/secret.yml) >o 2>e &&
	test_grep "kiln: error: .*kh-trunc/kiln.db" e &&
	test_grep "^hint: .*\.dump" e &&
	! grep "token length" o &&
	test_expect_code 3 kiln logs CI#1 >o 2>e &&
	test_grep "kh-trunc/kiln.db" e &&
	no_run_dirs
'

test_expect_success 'a truncated store: the commands of the hint, run as printed, give a working store' '
	export KILN_HOME="$TRASH/kh-trunc" &&
	test_expect_code 3 kiln runs 2>e &&
	sed -n "s/^hint:   //p" e >recover.sh &&
	test $(wc -l <recover.sh) = 2 &&
	bash -e recover.sh &&
	test -f "$KILN_HOME/damaged/kiln.db" &&
	kiln runs --all >out 2>err &&
	test_grep "^ID " out &&
	test_grep -v "already exists" err &&
	printf another | kiln secret set OTHER
'

test_expect_success 'a damaged page of logs: kiln logs says how to recover; the hint saves runs and secrets' '
	export KILN_HOME="$TRASH/kh-page" &&
	seq 1 20000 | sed "s/^/log line /" >big.log &&
	for i in 1 2 3; do
		kiln debug record-run --workflow .github/workflows/ci.yml --name CI \
			--job build:success:big.log >/dev/null || exit 1
	done &&
	printf secret-value | kiln secret set TOKEN &&
	python3 - "$KILN_HOME/kiln.db" <<-\PY &&
	import sqlite3, sys
	c = sqlite3.connect(sys.argv[1])
	c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
	root = c.execute("SELECT rootpage FROM sqlite_schema WHERE name = \"logs\"").fetchone()[0]
	c.close()
	with open(sys.argv[1], "r+b") as f:
	    f.seek((root - 1) * 4096)
	    f.write(b"\xa5" * 4096)
	PY
	kiln runs >runs &&
	test $(grep -c " CI " runs) = 3 &&
	test_expect_code 3 kiln logs CI#1 2>e &&
	test_grep "^kiln: error: sqlite: cannot read logs: database disk image is malformed" e &&
	test_grep "^hint: the store .$KILN_HOME/kiln.db. is damaged" e &&
	sed -n "s/^hint:   //p" e >recover.sh &&
	bash -e recover.sh &&
	kiln runs >runs2 &&
	test_cmp runs runs2 &&
	kiln secret list >secrets &&
	test_grep "TOKEN" secrets &&
	(cd repo && kiln run -W .github/workflows/secret.yml) >o &&
	test_grep "token length 12" o
'

test_expect_success 'a removed key file: a run needing a stored secret fails with the reason' '
	export KILN_HOME="$TRASH/kh-key" &&
	printf secret-value | kiln secret set TOKEN &&
	rm "$KILN_HOME/secret.key" &&
	(cd repo && test_expect_code 3 kiln run -W .github/workflows/secret.yml) >o 2>e &&
	test_grep "^kiln: error: secret key file .$KILN_HOME/secret.key. is missing" e &&
	! grep "token length" o &&
	no_run_dirs &&
	no_in_progress
'

test_expect_success 'an unreadable key file: the same' '
	export KILN_HOME="$TRASH/kh-key2" &&
	printf secret-value | kiln secret set TOKEN &&
	rm "$KILN_HOME/secret.key" && mkdir "$KILN_HOME/secret.key" &&
	(cd repo && test_expect_code 3 kiln run -W .github/workflows/secret.yml) >o 2>e &&
	test_grep "^kiln: error: .*secret key file .$KILN_HOME/secret.key." e &&
	! grep "token length" o &&
	no_run_dirs
'

# ---- full disk: a small tmpfs as the data directory (we may be root) ----
SMALL="$TRASH/small"
mkdir -p "$SMALL"
if mount -t tmpfs -o size=4m kiln-t0901 "$SMALL" 2>/dev/null; then
	MOUNTED=1
else
	MOUNTED=
	say "full disk cases skipped: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)"
fi
eval "orig_$(declare -f test_have_prereq)"
test_have_prereq() {
	if [ "$1" = TMPFS ]; then [ -n "$MOUNTED" ]; else orig_test_have_prereq "$1"; fi
}
fill() {
	dd if=/dev/zero of="$SMALL/fill" bs=64k 2>/dev/null || :
	test "$(df --output=avail "$SMALL" | tail -n 1)" -lt 64
}

test_expect_success TMPFS 'full disk before the first run: the job runs, the output says history was not recorded' '
	export KILN_HOME="$SMALL/kh-fresh" &&
	fill &&
	(cd repo && kiln run -W .github/workflows/quick.yml) >o 2>e &&
	test_grep quick-ran o &&
	test_grep "^kiln: warning: run history not recorded: .*full" e &&
	rm "$SMALL/fill" &&
	left_nothing
'

test_expect_success TMPFS 'the disk fills during a run: said clearly, and no in_progress row stays' '
	export KILN_HOME="$SMALL/kh" &&
	(cd repo && kiln run -W .github/workflows/quick.yml) >o 2>e &&
	test_must_be_empty e &&
	write_workflow repo filler <<-\EOF &&
	name: Filler
	on: push
	jobs:
	  f:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          dd if=/dev/zero of="$KILN_HOME/../fill" bs=64k 2>/dev/null || true
	          seq 1 50000 | sed "s/^/output line /"
	EOF
	(cd repo && kiln run -W .github/workflows/filler.yml) >o 2>e &&
	test_grep "output line 50000" o &&
	test_grep "^kiln: warning: run history not recorded: .*full" e &&
	tail -n 1 e >last &&
	test_grep "^kiln: warning: the history of this run is incomplete (see .kiln runs.): .*full" last &&
	rm "$SMALL/fill" &&
	(cd repo && kiln runs) >runs &&
	test_grep "Filler  *1 .*failure\*" runs &&
	test_grep "^\* run 2: " runs &&
	left_nothing
'

test_expect_success TMPFS 'full disk: unmount' '
	umount "$SMALL"
'

test_done
