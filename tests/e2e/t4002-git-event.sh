#!/bin/bash
test_description='events derived from real git repositories (libgit2): push, tags, pull requests, changed files'
. "$(dirname "$0")/../lib.sh"

# history: c1 - c2 - c3 (main, tag v1.2.3); feature forks at c2 with f1
test_expect_success 'setup a repository with branches and tags' '
	test_create_repo repo &&
	cd repo &&
	mkdir -p svc/api svc/web &&
	echo 1 >svc/api/main.go && git add . && git commit -q -m c2 &&
	git checkout -q -b feature && echo x >svc/web/app.js && git add . &&
	git commit -q -m "f1: web" -m "details" && git checkout -q main &&
	seq 1 40 >svc/api/big.txt && git add . && git commit -q -m c3 &&
	git mv svc/api/big.txt svc/api/moved.txt && git commit -q -m c4 &&
	git tag -a -m release v1.2.3 &&
	git remote add origin https://github.com/acme/rocket.git
'

test_expect_success 'push on the current branch: ref, sha, before/after, commits' '
	cd repo &&
	kiln debug event >out &&
	test_grep "^ref=refs/heads/main$" out &&
	test_grep "^ref_type=branch$" out &&
	test_grep "^sha=$(git rev-parse HEAD)$" out &&
	test_grep "^repository=acme/rocket$" out &&
	test_grep "\"before\": \"$(git rev-parse HEAD~1)\"" out &&
	test_grep "\"after\": \"$(git rev-parse HEAD)\"" out &&
	test_grep "\"created\": false" out &&
	test_grep "\"full_name\": \"acme/rocket\"" out
'

test_expect_success 'a rename shows both names as changed files' '
	cd repo &&
	kiln debug event >out &&
	grep "^changed=" out >changed &&
	printf "changed=svc/api/big.txt\nchanged=svc/api/moved.txt\n" >expect &&
	test_cmp expect changed &&
	kiln debug changes HEAD~1 >ch &&
	printf "renamed\tsvc/api/moved.txt\tsvc/api/big.txt\n" >expect &&
	test_cmp expect ch
'

test_expect_success '--base widens the push to several commits, oldest first' '
	cd repo &&
	kiln debug event --base HEAD~3 >out &&
	grep "\"message\": \"c[0-9]" out >msgs &&
	head -3 msgs | sed "s/^ *//" >got &&
	printf "\"message\": \"c2\\\\n\",\n\"message\": \"c3\\\\n\",\n\"message\": \"c4\\\\n\",\n" >expect &&
	test_cmp expect got
'

test_expect_success 'a tag push: ref_type tag, created, no commits' '
	cd repo &&
	kiln debug event --ref v1.2.3 >out &&
	test_grep "^ref=refs/tags/v1.2.3$" out &&
	test_grep "^ref_name=v1.2.3$" out &&
	test_grep "^ref_type=tag$" out &&
	test_grep "\"before\": \"0000000000000000000000000000000000000000\"" out &&
	test_grep "\"created\": true" out &&
	test_grep "\"commits\": \[\]" out &&
	test_grep "\"base_ref\": \"refs/heads/main\"" out
'

test_expect_success 'detached HEAD on a tag pushes the tag' '
	cd repo &&
	git checkout -q v1.2.3 &&
	kiln debug event >out &&
	git checkout -q main &&
	test_grep "^ref=refs/tags/v1.2.3$" out
'

test_expect_success 'pull_request: three-dot changed files, refs and number' '
	cd repo &&
	kiln debug event pull_request --head feature --number 12 >out &&
	test_grep "^ref=refs/pull/12/merge$" out &&
	test_grep "^ref_name=12/merge$" out &&
	test_grep "^base_ref=main$" out &&
	test_grep "^head_ref=feature$" out &&
	test_grep "^filter_ref=refs/heads/main$" out &&
	grep "^changed=" out >changed &&
	echo changed=svc/web/app.js >expect &&
	test_cmp expect changed &&
	test_grep "\"title\": \"f1: web\"" out &&
	test_grep "\"action\": \"opened\"" out
'

test_expect_success 'unknown revisions are clear errors (exit 2)' '
	cd repo &&
	test_expect_code 2 kiln debug event --base nope 2>err &&
	test_grep "unknown revision .nope." err &&
	test_expect_code 2 kiln debug event pull_request --head nope 2>err &&
	test_grep "nope" err &&
	test_expect_code 2 kiln debug changes nope 2>err &&
	test_grep "unknown revision .nope." err
'

test_expect_success 'outside a repository: a clear error' '
	mkdir -p plain &&
	cd plain &&
	test_expect_code 2 kiln debug event 2>err &&
	test_grep "not a git repository" err
'

test_done
