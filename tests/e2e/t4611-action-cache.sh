#!/bin/bash
test_description='actions/cache: a miss saves at job end, the second run hits; restore/save'
. "$(dirname "$0")/../lib.sh"

export KILN_HOME="$TRASH/kh"

test_expect_success 'setup' '
	test_create_repo repo &&
	echo "lock 1" >repo/deps.lock &&
	git -C repo add deps.lock && git -C repo commit -q -m deps
'

test_expect_success 'first run: miss, the step builds, the cache is saved at job end' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: c
	        uses: actions/cache@v4
	        with:
	          path: |
	            .deps
	            out/*.bin
	          key: deps-${{ hashFiles(\x27deps.lock\x27) }}
	          restore-keys: deps-
	      - run: echo "hit=[${{ steps.c.outputs.cache-hit }}]"
	      - if: steps.c.outputs.cache-hit != \x27true\x27
	        run: |
	          mkdir -p .deps/pkg out
	          seq 1 500 >.deps/pkg/index.js
	          echo bin >out/a.bin
	          echo txt >out/a.txt
	          echo built-deps
	      - run: cat .deps/pkg/index.js | wc -l
	EOF
	sed -i "s/\\\\x27/\x27/g" repo/.github/workflows/ci.yml &&
	git -C repo commit -q -am quote &&
	(cd repo && kiln run) >out 2>err &&
	test_grep "hit=\[false\]" out &&
	test_grep "built-deps" out &&
	test_grep "Cache not found for input keys: deps-" out &&
	test_grep "^\[build\] > Post Run actions/cache@v4" out &&
	test_grep "Cache saved with key: deps-" out &&
	kiln cache list >list &&
	test_grep "deps-" list
'

test_expect_success 'second run: exact hit, files restored, nothing rebuilt or saved' '
	(cd repo && kiln run) >out 2>err &&
	test_grep "hit=\[true\]" out &&
	test_grep -v "built-deps" out &&
	test_grep "500" out &&
	test_grep "Cache restored from key: deps-" out &&
	test_grep "not saving cache" out &&
	test_grep -v "Cache saved" out
'

test_expect_success 'a changed key restores from restore-keys (cache-hit false) and saves anew' '
	echo "lock 2" >repo/deps.lock && git -C repo commit -q -am lock2 &&
	(cd repo && kiln run) >out 2>err &&
	test_grep "hit=\[false\]" out &&
	test_grep "Cache restored from key: deps-" out &&
	test_grep "Cache saved with key: deps-" out &&
	test "$(kiln cache list | grep -c deps-)" = 2
'

test_expect_success 'a failing job does not save' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/cache@v4
	        with:
	          path: stuff
	          key: never-${{ github.sha }}
	      - run: mkdir stuff && echo x >stuff/x && exit 3
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "Skipping the cache save" out &&
	! kiln cache list | grep -q never-
'

test_expect_success 'cache/save then cache/restore in another job; lookup-only; fail-on-cache-miss' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  save:
	    runs-on: ubuntu-latest
	    steps:
	      - run: mkdir -p dist && echo artefact >dist/app
	      - uses: actions/cache/save@v4
	        with:
	          path: dist
	          key: dist-${{ github.sha }}
	  restore:
	    needs: save
	    runs-on: ubuntu-latest
	    steps:
	      - id: look
	        uses: actions/cache/restore@v4
	        with:
	          path: dist
	          key: dist-${{ github.sha }}
	          lookup-only: true
	      - run: test ! -e dist && echo "looked=${{ steps.look.outputs.cache-hit }}"
	      - id: r
	        uses: actions/cache/restore@v4
	        with:
	          path: dist
	          key: dist-${{ github.sha }}
	      - run: echo "restored=$(cat dist/app) ${{ steps.r.outputs.cache-hit }} ${{ steps.r.outputs.cache-matched-key == steps.r.outputs.cache-primary-key }}"
	      - uses: actions/cache/restore@v4
	        with:
	          path: dist
	          key: absent-key
	          fail-on-cache-miss: true
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "looked=true" out &&
	test_grep "restored=artefact true true" out &&
	test_grep "Failed to restore cache entry. Exiting as fail-on-cache-miss is set" out
'

test_expect_success 'a damaged cache blob is a miss: nothing restored, the entry removed, saved anew' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  b:
	    runs-on: ubuntu-latest
	    steps:
	      - id: c
	        uses: actions/cache@v4
	        with:
	          path: dmg
	          key: dmg-1
	      - run: echo "hit=[${{ steps.c.outputs.cache-hit }}] files=[$(ls dmg 2>/dev/null | tr -d "\n")]"
	      - run: mkdir -p dmg && seq 1 20000 >dmg/a && seq 1 20000 >dmg/b
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "Cache saved with key: dmg-1" out &&
	entry=$(grep -l "\"dmg-1\"" "$KILN_HOME"/cache/entries/*.json) &&
	blob=$(sed "s/.*\"blob\": *\"\([0-9a-f]*\)\".*/\1/" "$entry") &&
	f="$KILN_HOME/cache/blobs/$blob.tzst" &&
	test -s "$f" &&
	head -c $(($(stat -c %s "$f") - 100)) "$f" >cut && mv cut "$f" &&
	(cd repo && kiln run) >out 2>err &&
	test_grep "hit=\[false\] files=\[\]" out &&
	test_grep "Failed to restore: cache blob ${blob%${blob#????????????}} is damaged" out &&
	test_grep "Cache saved with key: dmg-1" out &&
	(cd repo && kiln run) >out 2>err &&
	test_grep "hit=\[true\] files=\[ab\]" out
'

test_expect_success 'missing key is an input error' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  b:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/cache@v4
	        with:
	          path: x
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "Input required and not supplied: key" out
'

test_done
