#!/bin/bash
# nektos/act's runner test cases, each with the outcome act's own table
# expects. The cases, what kiln must do with each and why some are not run
# are the table in docs/act-compat.md (this test reads it).
test_description='act runner test data (../shared/peers/act-runner-testdata)'
. "$(dirname "$0")/../lib.sh"

ACT_DATA="$SHARED_DIR/peers/act-runner-testdata"
TABLE="$SRC_ROOT/docs/act-compat.md"
[ -d "$ACT_DATA" ] || test_skip_all "act's runner test data not found at $ACT_DATA (expected ../shared next to the checkout)"
command -v node >/dev/null || test_skip_all "node is needed (the cases use JavaScript actions)"
# remote actions would come from github.com: the suite stays on loopback,
# so a case that tries one fails at once instead of going online
export KILN_GITHUB_URL=http://127.0.0.1:9

# the cases marked `containers` run on podman with stand-ins for the
# docker.io images they name, built offline on the container tests' images
# (tests/containers/act-images.sh); without podman or mmdebstrap they are
# skipped
containers=
if command -v podman >/dev/null && command -v mmdebstrap >/dev/null; then
	export CONTAINERS_CONF="$SRC_ROOT/build/test-images/containers.conf"
	if "$SRC_ROOT/tests/containers/images.sh" "$SRC_ROOT/build" >"$TRASH/images.log" 2>&1 &&
	   "$SRC_ROOT/tests/containers/act-images.sh" "$SRC_ROOT/build" >>"$TRASH/images.log" 2>&1; then
		containers=1
	else
		cat "$TRASH/images.log" >&2
		echo "Bail out! cannot build the test images (tests/containers/images.sh, act-images.sh)"
		exit 1
	fi
fi

# KILN_ACT_CASES="a b": run only these cases (while working on them)
selected() {
	[ -z "${KILN_ACT_CASES:-}" ] && return 0
	case " $KILN_ACT_CASES " in *" $1 "*) return 0 ;; esac
	return 1
}

# the table's rows: case|event|expect|kiln|options|reason, one per line
rows() {
	sed -n '/<!-- act-cases:begin -->/,/<!-- act-cases:end -->/p' "$TABLE" |
	grep '^| ' | grep -v '^| case | event |' |
	awk -F'|' '{ for (i = 2; i <= 7; i++) { gsub(/^ +| +$/, "", $i) }
		     print $2 "|" $3 "|" $4 "|" $5 "|" $6 "|" $7 }'
}

# one git repository with the whole test data, cloned per case: act runs
# every case with the test data directory as the repository
cp -R "$ACT_DATA" base && chmod -R u+w base &&
git -C base init -q && git -C base add -A && git -C base commit -q -m "act runner testdata" ||
	{ echo "Bail out! cannot make the test data repository"; exit 1; }

# run_case CASE EVENT OPTIONS: every workflow file of the case, with the
# case's options (act's secrets...); each `-j JOB` of OPTIONS is a run of
# its own. Output in $dir/out, the exit codes in $dir/rc
run_case() {
	local c=$1 ev=$2 f rel j jobs= opts=() want=
	for j in $3; do
		if [ -n "$want" ]; then jobs="$jobs $j"; want=
		elif [ "$j" = -j ]; then want=1
		else opts+=("$j")
		fi
	done
	dir="$TRASH/work/$(printf '%s-%s' "$c" "$ev" | tr '/ ' '__')"
	rm -rf "$dir" && mkdir -p "$dir" &&
	git clone -q --shared base "$dir/repo" || return 1
	: >"$dir/rc"
	for f in "$dir/repo/$c"/*.yml "$dir/repo/$c"/*.yaml; do
		[ -f "$f" ] || continue
		rel=${f#"$dir/repo/"}
		set -- run "$ev" -W "$rel" --no-history ${opts[@]+"${opts[@]}"}
		[ -f "$dir/repo/$c/event.json" ] && set -- "$@" -e "$c/event.json"
		for j in ${jobs:-.}; do
			[ "$j" = . ] || set -- "$@" -j "$j"
			echo "== kiln $*" >>"$dir/out"
			(cd "$dir/repo" && timeout 300 kiln "$@") >>"$dir/out" 2>&1
			echo $? >>"$dir/rc"
			[ "$j" = . ] || set -- "${@:1:$(($# - 2))}"
		done
	done
	[ -s "$dir/rc" ] || { echo "no workflow file in $c" >>"$dir/out"; return 1; }
}

# check_case CASE EXPECT: the outcome act expects
check_case() {
	local c=$1 expect=$2 worst job
	worst=$(sort -n "$dir/rc" | tail -n 1)
	case $expect in
	success)
		[ "$worst" = 0 ] || { echo "expected success, kiln exited $worst"; return 1; } ;;
	failure*)
		[ "$worst" = 1 ] || { echo "expected a failed run (exit 1), kiln exited $worst"; return 1; }
		job=${expect#failure}
		job=${job#: }
		if [ -n "$job" ] && ! grep -Eq "^$job( \([^)]*\))? +failure " "$dir/out"; then
			echo "expected job '$job' to fail"
			return 1
		fi ;;
	*)
		echo "bad expectation '$expect' in $TABLE"; return 1 ;;
	esac
	# act's TestMaskValues: masked values never reach the output (but
	# the step that registers one shows its command before it runs)
	if [ "$c" = mask-values ] && grep -v "::add-mask::" "$dir/out" | grep "secret value\|YWJjCg=="; then
		echo "a masked value is in the output"
		return 1
	fi
	return 0
}

test_expect_success 'every case directory of the test data has a row in docs/act-compat.md' '
	rows | cut -d"|" -f1 | sort -u >listed &&
	# a case: a directory with workflow files, or (shells/, steps-context/)
	# its subdirectories that have some; actions/ holds actions only
	(cd "$ACT_DATA" && has_wf() { compgen -G "$1/*.yml" || compgen -G "$1/*.yaml"; } &&
	for d in */; do
		d=${d%/}
		[ "$d" = actions ] && continue
		if has_wf "$d" >/dev/null; then echo "$d"; continue; fi
		for s in "$d"/*/; do has_wf "${s%/}" >/dev/null && echo "${s%/}"; done
	done) | sort -u >cases &&
	test $(wc -l <cases) -ge 100 &&
	test_grep "^shells/bash$" cases &&
	test_grep "^GITHUB_ENV-use-in-env-ctx$" listed &&
	comm -23 cases listed >missing &&
	test_must_be_empty missing
'

npass=0 npending=0 nexcluded=0 ncontainers=0
while IFS='|' read -r c ev expect kiln opts reason; do
	title="$c ($ev): act expects $expect"
	[ -n "$opts" ] && title="$title, with $opts"
	if ! selected "$c"; then
		test_count=$((test_count + 1))
		echo "ok $test_count # skip $c ($ev): not in KILN_ACT_CASES"
		continue
	fi
	case $kiln in
	excluded)
		nexcluded=$((nexcluded + 1))
		test_count=$((test_count + 1))
		echo "ok $test_count # skip $c ($ev): $reason"
		continue ;;
	pending)
		npending=$((npending + 1)) ;;
	pass)
		npass=$((npass + 1)) ;;
	containers)
		if [ -z "$containers" ]; then
			nexcluded=$((nexcluded + 1))
			test_count=$((test_count + 1))
			echo "ok $test_count # skip $c ($ev): podman and mmdebstrap are needed (make deps)"
			continue
		fi
		# services publishes PostgreSQL on host port 5432, as act's case says
		if [ "$c" = services ] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
			nexcluded=$((nexcluded + 1))
			test_count=$((test_count + 1))
			echo "ok $test_count # skip $c ($ev): port 5432 of this machine is in use"
			continue
		fi
		npass=$((npass + 1)) ncontainers=$((ncontainers + 1)) ;;
	*)
		echo "Bail out! $TABLE: case '$c': kiln column must be pass, containers, pending or excluded, not '$kiln'"
		exit 1 ;;
	esac
	test_count=$((test_count + 1))
	if run_case "$c" "$ev" "$opts" && check_case "$c" "$expect" >"$dir/why" 2>&1; then
		result=ok
	else
		result="not ok"
	fi
	if [ "$kiln" = pending ]; then
		echo "$result $test_count - $title # TODO $reason"
	elif [ "$result" = ok ]; then
		echo "ok $test_count - $title"
		rm -rf "$dir"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $title"
		sed 's/^/#   /' "$dir/why"
		echo "#   --- kiln output ($dir/out) ---"
		tail -n 40 "$dir/out" | sed 's/^/#   /'
	fi
done < <(rows)
say "act cases: $npass pass ($ncontainers of them on podman), $npending pending, $nexcluded excluded"

test_done
