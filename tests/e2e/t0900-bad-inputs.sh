#!/bin/bash
test_description='catalog of malformed inputs: each one a clean error, nothing left behind'
. "$(dirname "$0")/../lib.sh"

# The cases are data: tests/data/bad-inputs.txt (its header says the format).
# Every case runs in the one fixture repository, reset between cases, with
# its own TMPDIR and a marker in the environment, and asserts:
#   - the exit code, and that it is not a crash, a signal or a timeout;
#   - each expected message (an extended regex over stdout + stderr);
#   - no sanitizer report, no "BUG:" line;
#   - nothing left behind: TMPDIR empty (no kiln-run-* directory), no
#     process carrying the case's marker (no orphaned step).
# At the end no run of the store is left in_progress.

CASES="$TEST_ROOT/data/bad-inputs.txt"
export KILN_HOME="$TRASH/kiln-home"
CASE_TMP="$TRASH/case-tmp"
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
	flush() {
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

reset_repo() {
	cd "$TRASH/repo" &&
	{ [ "$(git rev-parse HEAD)" = "$BASE" ] || git reset -q --hard "$BASE"; } &&
	rm -rf .github .kiln in "$CASE_TMP" &&
	mkdir -p "$CASE_TMP" in
}

# run case i; prints what went wrong and returns 1 on failure
run_case() {
	local i=$1 out="$TRASH/case.out" rc
	reset_repo || return 1
	write_files "$i" || return 1
	if [ -n "${setups[$i]}" ]; then
		(eval "${setups[$i]}") || { echo "setup failed"; return 1; }
	fi
	rc=0
	(export TMPDIR="$CASE_TMP" KILN_T0900_MARK="$MARK:$i"
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
	if [ -n "$(ls -A "$CASE_TMP")" ]; then
		echo "left behind in TMPDIR:"; ls -A "$CASE_TMP"
		return 1
	fi
	if grep -l -s -a "KILN_T0900_MARK=$MARK:$i" /proc/[0-9]*/environ 2>/dev/null |
	   grep -v -e "^/proc/$$/" -e "^/proc/self/" >"$TRASH/procs"; then
		echo "processes left behind:"; cat "$TRASH/procs"
		return 1
	fi
	return 0
}

test_expect_success 'setup: one fixture repository for every case' '
	test_create_repo repo &&
	git -C repo remote add origin https://github.com/octo/hello.git &&
	test ${#titles[@]} -ge 45
'
BASE=$(git -C "$TRASH/repo" rev-parse HEAD)
test_expect_success 'the fixture repository has its commit' '
	test -n "$BASE"
'

for i in "${!titles[@]}"; do
	if [ -z "${cmds[$i]}" ] || [ -z "${codes[$i]}" ] || [ -z "${regexes[$i]}" ]; then
		echo "Bail out! case '${titles[$i]}' needs \$, ? and ~ lines"
		exit 1
	fi
	test_expect_success "${titles[$i]}" "run_case $i"
done

test_expect_success 'no run is left in_progress in the store' '
	cd "$TRASH/repo" &&
	kiln runs >runs.out 2>&1 &&
	test_grep -v in_progress runs.out
'

test_done
