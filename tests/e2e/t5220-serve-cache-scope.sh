#!/bin/bash
test_description='kiln serve: actions/cache is per repository (as on GitHub): a repository never restores another one'"'"'s cache, by key or restore-key prefix; its own caches still hit'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-serve.sh"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'setup: two repositories whose CI caches under the same key' '
	for r in one two; do
		test_create_repo $r &&
		echo "made by $r" >$r/who.txt &&
		git -C $r add who.txt && git -C $r commit -q -m who &&
		write_workflow $r ci <<-\EOF || return 1
		on: push
		jobs:
		  build:
		    runs-on: ubuntu-latest
		    steps:
		      - uses: actions/cache@v4
		        id: c
		        with:
		          path: stash
		          key: shared-key-1
		          restore-keys: shared-
		      - run: echo "HIT=${{ steps.c.outputs.cache-hit }} CONTENT=$(cat stash/who.txt 2>/dev/null || echo none)"
		      - run: mkdir -p stash && cp -n who.txt stash/
		EOF
		kiln repo add acme/$r "$TRASH/$r" >secret.$r || return 1
	done
'

start_serve --jobs 1

push () { # REPO DELIVERY
	hook github push "{\"ref\":\"refs/heads/main\",\"before\":\"$ZERO\",\"after\":\"$(git -C "$TRASH/$1" rev-parse HEAD)\",\"repository\":{\"full_name\":\"acme/$1\"},\"sender\":{\"login\":\"alice\"}}" "$2" "$(cat "$TRASH/secret.$1")" >"$TRASH/hook.out" &&
	head -n1 "$TRASH/hook.out" | grep -qx 202
}

test_expect_success 'one: a miss, then its cache is saved' '
	push one d1 && wait_status 1 success 60 &&
	test_grep "HIT=false CONTENT=none" "$DATA/events/1.log" &&
	test_grep "Cache saved with key: shared-key-1 " "$DATA/events/1.log"
'

test_expect_success 'two: the same key misses (not one'"'"'s cache), the restore-key prefix too; two saves its own' '
	push two d2 && wait_status 2 success 60 &&
	test_grep "HIT=false CONTENT=none" "$DATA/events/2.log" &&
	test_grep -v "made by one" "$DATA/events/2.log" &&
	test_grep "Cache saved with key: shared-key-1 " "$DATA/events/2.log"
'

test_expect_success 'each repository hits its own cache, the key shown as written' '
	push one d3 && wait_status 3 success 60 &&
	test_grep "HIT=true CONTENT=made by one" "$DATA/events/3.log" &&
	test_grep "Cache restored from key: shared-key-1 " "$DATA/events/3.log" &&
	push two d4 && wait_status 4 success 60 &&
	test_grep "HIT=true CONTENT=made by two" "$DATA/events/4.log"
'

test_done
