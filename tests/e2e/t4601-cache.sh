#!/bin/bash
test_description='kiln cache save|restore|list|rm|prune'
. "$(dirname "$0")/../lib.sh"

export KILN_HOME="$TRASH/kh"

test_expect_success 'setup a workspace' '
	mkdir -p ws/node_modules/pkg ws/dist &&
	seq 1 1000 >ws/node_modules/pkg/index.js &&
	echo x >ws/dist/app.min.js &&
	echo y >ws/dist/app.map
'

test_expect_success 'save, then a miss and a hit' '
	kiln cache save npm-linux-111 node_modules "dist/*.js" -C ws 2>err &&
	test_grep "saved cache .npm-linux-111." err &&
	test_expect_code 1 kiln cache restore npm-linux-222 node_modules "dist/*.js" -C ws >out 2>err &&
	test_grep "cache-hit=false" out &&
	rm -rf ws/node_modules ws/dist &&
	kiln cache restore npm-linux-111 node_modules "dist/*.js" -C ws >out &&
	test_grep "cache-hit=true" out &&
	seq 1 1000 | test_cmp - ws/node_modules/pkg/index.js &&
	test -f ws/dist/app.min.js && test ! -e ws/dist/app.map
'

test_expect_success 'restore-keys: newest prefix match, cache-hit false' '
	sleep 0.01 && echo 2 >ws/node_modules/pkg/v &&
	kiln cache save npm-linux-333 node_modules "dist/*.js" -C ws 2>/dev/null &&
	rm -rf ws/node_modules &&
	kiln cache restore npm-linux-999 node_modules "dist/*.js" -C ws --restore-key npm-linux- >out &&
	test_grep "cache-hit=false" out &&
	test_grep "cache-matched-key=npm-linux-333" out &&
	test -f ws/node_modules/pkg/v
'

test_expect_success 'keys are immutable' '
	kiln cache save npm-linux-111 node_modules "dist/*.js" -C ws 2>err &&
	test_grep "already exists" err
'

test_expect_success 'list shows entries, most recently used first' '
	kiln cache list >out 2>err &&
	test_grep "^KEY" out &&
	test $(grep -c npm-linux- out) = 2 &&
	test_grep "2 entries" err
'

test_expect_success 'rm and prune' '
	kiln cache rm npm-linux-111 2>err &&
	test_grep "removed 1 entry" err &&
	test_expect_code 2 kiln cache rm npm-linux-111 2>err &&
	test_grep "no cache entry" err &&
	kiln cache prune --max-size 0 2>err &&
	test_grep "pruned 1 entry" err &&
	kiln cache list >out 2>err &&
	test_grep "0 entries" err &&
	test -z "$(ls "$KILN_HOME/cache/blobs")"
'

test_expect_success 'KILN_CACHE_LIMIT evicts on save' '
	head -c 300000 /dev/urandom >ws/r1 &&
	KILN_CACHE_LIMIT=400K kiln cache save a r1 -C ws 2>/dev/null &&
	head -c 300000 /dev/urandom >ws/r1 &&
	KILN_CACHE_LIMIT=400K kiln cache save b r1 -C ws 2>/dev/null &&
	kiln cache list >out 2>/dev/null &&
	test_grep -v "^a " out &&
	test_grep "^b " out
'

test_expect_success 'bad input is a usage error' '
	test_expect_code 2 kiln cache frob 2>err &&
	test_grep "usage: kiln cache" err &&
	test_expect_code 2 kiln cache prune --max-size lots 2>err &&
	test_grep "bad size" err &&
	test_expect_code 3 env KILN_CACHE_LIMIT=zz kiln cache list 2>err &&
	test_grep "bad KILN_CACHE_LIMIT" err &&
	test_expect_code 1 kiln cache save k "nothing/**" -C ws 2>err &&
	test_grep "no files matched" err
'

test_done
