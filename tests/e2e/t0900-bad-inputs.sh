#!/bin/bash
test_description='catalog of malformed inputs: each one a clean error, nothing left behind'
. "$(dirname "$0")/../lib.sh"

# The cases are data: tests/data/bad-inputs.txt (its header says the format).
# Every case runs in a copy of one fixture repository, reset between cases,
# with its own TMPDIR and a marker in the environment, and asserts:
#   - the exit code, and that it is not a crash, a signal or a timeout;
#   - each expected message (an extended regex over stdout + stderr);
#   - no sanitizer report, no "BUG:" line;
#   - nothing left behind: TMPDIR empty (no kiln-run-* directory) but for
#     the spare run directory, which holds only empty files (no event.json), no workspace;
#     no process carrying the case's marker (no orphaned step).
# At the end no run of the store is left in_progress.

CASES="$TEST_ROOT/data/bad-inputs.txt"
export KILN_HOME="$TRASH/kiln-home"
MARK="kiln_t0900_$$"

# the case table, parsed once: parallel arrays indexed by case number
titles=() cmds=() codes=() regexes=() setups=() files=()
parse_cases() {
	local n=-1 line cur_file=
	while IFS= read -r line || [ -n "$line" ]; do
		if [ -n "$cur_file" ] && [ "${line:0:3}" != "== " ] && [ "${line:0:2}" != "> " ]; then
			files[$n]+="$line"$'\n'
			continue
		fi
		case "$line" in
		'== '*)
			n=$((n + 1)); cur_file=
			titles[$n]=${line#== }; cmds[$n]=; codes[$n]=; regexes[$n]=; setups[$n]=; files[$n]= ;;
		'$ '*) cmds[$n]=${line#\$ } ;;
		'? '*) codes[$n]=${line#\? } ;;
		'~ '*) regexes[$n]+="${line#\~ }"$'\n' ;;
		'! '*) setups[$n]+="${line#! }"$'\n' ;;
		'> '*)
			cur_file=${line#> }
			files[$n]+=$'\x1f'"$cur_file"$'\n' ;;
		'#'*|'') ;;
		*) echo "Bail out! bad line in $CASES: $line"; exit 1 ;;
		esac
	done <"$CASES"
}
parse_cases

# write the case's files (a \x1f line starts each file: its path)
write_files() {
	local path= content= line
	# trailing blank lines separate cases: they are not part of the file
	flush() {
		while [ "${content%$'\n'}" != "$content" ]; do content=${content%$'\n'}; done
		[ -z "$content" ] || content+=$'\n'
		[ -z "$path" ] || { mkdir -p "$(dirname "$path")" && printf '%s' "$content" >"$path"; }
	}
	while IFS= read -r line; do
		if [ "${line:0:1}" = $'\x1f' ]; then
			flush
			path=${line:1}; content=
		else
			content+="$line"$'\n'
		fi
	done <<<"${files[$1]}"
	flush
}

# worker w's copy of the fixture repository, back to its first commit
reset_repo() {
	cd "$TRASH/repo-$1" &&
	if [ -e .git/case-committed ]; then git reset -q --hard "$BASE" && rm -f .git/case-committed; fi &&
	rm -rf .github .kiln in "$TRASH/tmp-$1" &&
	mkdir -p "$TRASH/tmp-$1" in
}

# run case i in worker w's repository; prints what went wrong and returns 1
run_case() {
	local i=$1 w=$2 out="$TRASH/res/$1.out" rc tmp="$TRASH/tmp-$2"
	reset_repo "$w" || return 1
	write_files "$i" || return 1
	case "${setups[$i]}" in *"git commit"*) : >.git/case-committed ;; esac
	if [ -n "${setups[$i]}" ]; then
		(eval "${setups[$i]}") || { echo "setup failed"; return 1; }
	fi
	rc=0
	(export TMPDIR="$tmp" KILN_T0900_MARK="$MARK:$i:"
	 exec timeout -k 5 60 bash -c "${cmds[$i]}") >"$out" 2>&1 </dev/null || rc=$?
	cat "$out"
	if [ "$rc" != "${codes[$i]}" ]; then
		echo "expected exit ${codes[$i]}, got $rc"
		return 1
	fi
	if grep -E -q 'Sanitizer|runtime error:|BUG:|Segmentation fault|core dumped' "$out"; then
		echo "a sanitizer report or a crash"
		return 1
	fi
	local re
	while IFS= read -r re; do
		[ -z "$re" ] && continue
		if ! grep -E -q -e "$re" "$out"; then
			echo "expected a line matching: $re"
			return 1
		fi
	done <<<"${regexes[$i]}"
	local left spare=".kiln-spare-$(id -u)"
	left=$(ls -A "$tmp" | grep -v -x -F -e "$spare")
	if [ -n "$left" ]; then
		echo "left behind in TMPDIR: $left"
		return 1
	fi
	# a run that ran jobs leaves its directory for the next one (exec.md):
	# a job skeleton of empty files, no workspace, no event.json
	if [ -e "$tmp/$spare" ]; then
		left=$(cd "$tmp/$spare" && find . -mindepth 1 \
			\( -name event.json -o -name workspace -o ! -type d ! -type f -o -type f -size +0 \))
		if [ -n "$left" ]; then
			echo "left in the spare run directory: $left"
			return 1
		fi
	fi
	# grep exits 2 when a process vanished during the scan: look at the output
	grep -l -s -a "KILN_T0900_MARK=$MARK:$i:" /proc/[0-9]*/environ >"$TRASH/res/$i.procs"
	if [ -s "$TRASH/res/$i.procs" ]; then
		echo "processes left behind:"; cat "$TRASH/res/$i.procs"
		return 1
	fi
	return 0
}

# worker w runs every case i with i % WORKERS == w, one result file per case
worker() {
	local w=$1 i
	for i in "${!titles[@]}"; do
		[ $((i % WORKERS)) = "$w" ] || continue
		if run_case "$i" "$w" >"$TRASH/res/$i.log" 2>&1; then
			echo 0 >"$TRASH/res/$i.rc"
		else
			echo 1 >"$TRASH/res/$i.rc"
		fi
	done
}

# the result of case i, for test_expect_success
case_result() {
	cat "$TRASH/res/$1.log"
	[ "$(cat "$TRASH/res/$1.rc" 2>/dev/null)" = 0 ]
}

for i in "${!titles[@]}"; do
	if [ -z "${cmds[$i]}" ] || [ -z "${codes[$i]}" ] || [ -z "${regexes[$i]}" ]; then
		echo "Bail out! case '${titles[$i]}' needs \$, ? and ~ lines"
		exit 1
	fi
done

# The cases are independent: a few workers, each with its own copy of the
# repository and its own TMPDIR, share the data directory (as concurrent
# kiln runs do); results are reported in the table's order.
WORKERS=${KILN_T0900_JOBS:-4}
test_expect_success 'setup: one fixture repository per worker, at least 150 cases' '
	test ${#titles[@]} -ge 150 &&
	test_create_repo repo &&
	git -C repo remote add origin https://github.com/octo/hello.git &&
	mkdir -p res &&
	for w in $(seq 0 $((WORKERS - 1))); do
		cp -R repo "repo-$w" || return 1
	done
'
BASE=$(git -C "$TRASH/repo" rev-parse HEAD)

for w in $(seq 0 $((WORKERS - 1))); do
	worker "$w" &
done
wait
cd "$TRASH" || exit 1

for i in "${!titles[@]}"; do
	test_expect_success "${titles[$i]}" "case_result $i"
done

# cases that need another user than the one running the tests
test_expect_success ROOT 'a repository owned by another user: git'"'"'s ownership check, with the safe.directory hint' '
	cp -r "$TRASH/repo" "$TRASH/foreign" &&
	mkdir -p "$TRASH/foreign/.github/workflows" &&
	printf "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [run: echo]\n" >"$TRASH/foreign/.github/workflows/ci.yml" &&
	chown -R nobody "$TRASH/foreign" &&
	(cd "$TRASH/foreign" && test_expect_code 2 kiln run -n) 2>err &&
	test_grep "^kiln: error: repository .*/foreign'"'"' is owned by another user (uid [0-9]*): git'"'"'s ownership check (safe.directory) refuses it; if you trust it: git config --global --add safe.directory " err &&
	test_grep -v "not a git repository" err &&
	git config --global --add safe.directory "$(cd "$TRASH/foreign" && pwd -P)" &&
	(cd "$TRASH/foreign" && kiln run -n) >out &&
	test_grep "^dry run: " out
'

test_expect_success NOTROOT 'an unreadable workflow says why' '
	mkdir -p unreadable &&
	echo "on: push" >unreadable/ci.yml &&
	chmod 000 unreadable/ci.yml &&
	test_expect_code 2 kiln lint unreadable/ci.yml >out &&
	test_grep "^unreadable/ci.yml: error: cannot read workflow: Permission denied$" out
'

test_expect_success 'no run is left in_progress in the store' '
	cd "$TRASH/repo" &&
	kiln runs >runs.out 2>&1 &&
	test_grep -v in_progress runs.out
'

test_expect_success 'KILN_DIE_WITH (kiln serve -> kiln run): a bad value is an error, another parent ends at once, its parent runs it' '
	test_expect_code 2 env KILN_DIE_WITH=abc kiln version 2>err &&
	test_grep "KILN_DIE_WITH=.abc. is not a process id" err &&
	test_expect_code 3 env KILN_DIE_WITH=1 kiln version >out &&
	test_must_be_empty out &&
	bash -c "KILN_DIE_WITH=\$\$ kiln version; :" >out &&
	test_grep "^kiln " out
'

test_done
