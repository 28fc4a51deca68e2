#!/bin/bash
test_description='kiln runs and kiln logs read the run history'
. "$(dirname "$0")/../lib.sh"

export KILN_HOME="$TRASH/kh"

# the store's size (the database and its WAL, where recent pages live)
store_size() {
	echo $(( $(stat -c %s "$KILN_HOME/kiln.db") + $(stat -c %s "$KILN_HOME/kiln.db-wal" 2>/dev/null || echo 0) ))
}

test_expect_success 'no runs yet' '
	kiln runs 2>err >out &&
	test_grep "no runs recorded yet" err &&
	store_size >size0
'

test_expect_success 'record runs of two workflows' '
	seq 1 30000 | sed "s/^/build line /" >build.log &&
	printf "ok 1 - a\nnot ok 2 - b\n" >test.log &&
	kiln debug record-run --workflow .github/workflows/ci.yml --name CI \
		--job build:success:build.log --job test:failure:test.log --conclusion failure >r1 &&
	test "$(cat r1)" = "1 1" &&
	kiln debug record-run --workflow .github/workflows/ci.yml --name CI --job build:success:test.log >r2 &&
	test "$(cat r2)" = "2 2" &&
	kiln debug record-run --workflow .github/workflows/release.yml --name Release \
		--event push --ref refs/tags/v1.2.3 >r3 &&
	test "$(cat r3)" = "3 1"
'

test_expect_success 'kiln runs lists newest first with the columns' '
	kiln runs >out &&
	head -n1 out >hdr &&
	test_grep "ID *WORKFLOW *# *EVENT *REF *RESULT *DURATION *WHEN" hdr &&
	sed -n 2p out | grep "^3  *Release  *1  *push  *v1.2.3  *success" &&
	sed -n 4p out | grep "^1  *CI  *1  *push  *main  *failure" &&
	kiln runs --workflow CI -n 1 >out &&
	test $(wc -l <out) = 2 &&
	test_grep "^2  *CI  *2 " out
'

test_expect_success 'kiln runs --json' '
	kiln runs --json >out.json &&
	python3 -c "import json,sys; d=json.load(open(\"out.json\")); assert [r[\"number\"] for r in d]==[1,2,1], d; assert d[2][\"conclusion\"]==\"failure\""
'

test_expect_success 'kiln logs by id, by workflow#number, by job' '
	kiln logs 1 build >out &&
	test_cmp build.log out &&
	kiln logs CI#1 test >out &&
	test_cmp test.log out &&
	kiln logs ci#1 >out &&
	test_grep "^== job build (success)" out &&
	test_grep "^== job test (failure)" out &&
	test_grep "^build line 30000$" out
'

test_expect_success 'kiln logs -t: every line after its time, the text unchanged' '
	kiln logs -t 1 build >out &&
	test "$(wc -l <out)" = "$(wc -l <build.log)" &&
	test "$(grep -c "^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]*\.[0-9][0-9][0-9]Z " out)" = "$(wc -l <build.log)" &&
	sed "s/^.\{25\}//" out >untimed && test_cmp build.log untimed
'

test_expect_success 'logs are stored compressed' '
	test $(( $(store_size) - $(cat size0) )) -lt $(( $(stat -c %s build.log) / 2 ))
'

test_expect_success 'unknown run or job is a usage error' '
	test_expect_code 2 kiln logs 99 2>err &&
	test_grep "no run .99." err &&
	test_expect_code 2 kiln logs CI#1 deploy 2>err &&
	test_grep "has no job .deploy." err &&
	test_expect_code 2 kiln logs abc 2>err &&
	test_grep "expected a run id" err &&
	test_expect_code 2 kiln logs 2>err &&
	test_grep "usage: kiln logs" err
'

test_expect_success 'kiln runs lists the current repository by default, --all every one' '
	export KILN_HOME="$TRASH/kh-repos" &&
	test_create_repo one &&
	test_create_repo two &&
	for r in one two; do
		mkdir -p $r/.github/workflows &&
		printf "name: Build %s\non: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo %s\n" \
			$r $r >$r/.github/workflows/ci.yml &&
		git -C $r add . && git -C $r commit -q -m ci &&
		(cd $r && kiln run >/dev/null) || exit 1
	done &&
	(cd one && kiln runs) >out &&
	test_grep "Build one" out &&
	test_grep -v "Build two" out &&
	test_grep -v "REPO" out &&
	(cd two/.github && kiln runs) >out &&
	test_grep "Build two" out &&
	test_grep -v "Build one" out &&
	(cd one && kiln runs --all) >out &&
	test_grep "Build one .* one$" out &&
	test_grep "Build two .* two$" out &&
	test_grep "^ID .* WHEN  *REPO$" out &&
	(cd one && kiln runs --json) >out.json &&
	python3 -c "import json,sys; d=json.load(open(\"out.json\")); assert [r[\"repo\"] for r in d]==[sys.argv[1]], d" "$TRASH/one" &&
	mkdir -p three && (cd three && git init -q && kiln runs) 2>err &&
	test_grep "no runs recorded yet in .*three (--all: every repository)" err
'

test_expect_success 'long workflow names do not break the columns' '
	export KILN_HOME="$TRASH/kh-long" &&
	long="A workflow whose name goes on and on far past any sensible column width" &&
	kiln debug record-run --workflow .github/workflows/a.yml --name "$long" >/dev/null &&
	kiln debug record-run --workflow .github/workflows/b.yml --name "Short" >/dev/null &&
	kiln debug record-run --workflow .github/workflows/c.yml --name "Ünïcödé wörkflöw nämé thät is älsö löng" >/dev/null &&
	kiln runs >out &&
	cat out &&
	test_grep "A workflow whose name goes on a…" out &&
	test_grep "Ünïcödé wörkflöw nämé thät is ä…" out &&
	# every row has its # column (run number) at the same character offset
	python3 - out <<-\PY
	import sys
	lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
	cols = {l.index(" 1 ") if not l.startswith("ID") else l.index(" # ") for l in lines}
	assert len(cols) == 1, (cols, lines)
	PY
'

test_done
