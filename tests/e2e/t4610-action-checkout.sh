#!/bin/bash
test_description='actions/checkout: ref, path, clean; the workspace is a usable git repository'
. "$(dirname "$0")/../lib.sh"

export KILN_HOME="$TRASH/kh"

test_expect_success 'setup: a repository with history, a branch and a tag' '
	test_create_repo repo &&
	git -C repo branch -M main &&
	echo one >repo/f.txt && git -C repo add f.txt && git -C repo commit -q -m one &&
	git -C repo tag v1.0.0 &&
	echo two >repo/f.txt && git -C repo commit -q -am two &&
	git -C repo rev-parse HEAD >head.sha &&
	git -C repo rev-parse v1.0.0 >tag.sha
'

test_expect_success 'checkout then git rev-parse, log, status, diff work in the workspace' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: co
	        uses: actions/checkout@v4
	        with:
	          fetch-depth: 0
	      - run: |
	          echo "sha=$(git rev-parse HEAD)"
	          echo "branch=$(git rev-parse --abbrev-ref HEAD)"
	          echo "count=$(git log --oneline | wc -l)"
	          echo "tag=$(git describe --tags --abbrev=0)"
	          echo "origin=$(git rev-parse origin/main)"
	          git status --porcelain >status.txt
	          echo "status=$(grep -v status.txt status.txt | wc -l)"
	          echo changed >>f.txt
	          echo "diff=$(git diff --name-only)"
	          echo "out=${{ steps.co.outputs.commit }}"
	EOF
	git -C repo rev-parse HEAD >head.sha &&
	(cd repo && kiln run) >out 2>err &&
	test_grep "sha=$(cat head.sha)" out &&
	test_grep "out=$(cat head.sha)" out &&
	test_grep "branch=main" out &&
	test_grep "count=4" out &&
	test_grep "tag=v1.0.0" out &&
	test_grep "origin=$(cat head.sha)" out &&
	test_grep "status=0" out &&
	test_grep "diff=f.txt" out
'

test_expect_success 'the source repository is left untouched' '
	git -C repo status --porcelain >st &&
	test_must_be_empty st &&
	test "$(git -C repo rev-parse HEAD)" = "$(cat head.sha)"
'

test_expect_success 'ref and path: a tag checked out into a subdirectory, detached' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: co
	        uses: actions/checkout@v4
	        with:
	          ref: v1.0.0
	          path: sub/dir
	      - run: |
	          echo "content=$(cat sub/dir/f.txt)"
	          echo "sha=$(git -C sub/dir rev-parse HEAD)"
	          git -C sub/dir symbolic-ref -q HEAD || echo detached
	          echo "commit=${{ steps.co.outputs.commit }}"
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "content=one" out &&
	test_grep "sha=$(cat tag.sha)" out &&
	test_grep "commit=$(cat tag.sha)" out &&
	test_grep "detached" out
'

test_expect_success 'clean: true empties the directory, clean: false keeps other files' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo junk >junk.txt
	      - uses: actions/checkout@v4
	        with:
	          clean: false
	      - run: test -f junk.txt && echo kept-junk
	      - uses: actions/checkout@v4
	      - run: test -f junk.txt || echo cleaned-junk
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "kept-junk" out &&
	test_grep "cleaned-junk" out
'

test_expect_success 'bad inputs fail clearly' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  a:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/checkout@v4
	        with:
	          ref: no-such-branch
	  b:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/checkout@v4
	        with:
	          path: ../../escape
	  c:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/checkout@v4
	        with:
	          clean: maybe
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "actions/checkout: unknown ref .no-such-branch." out &&
	test_grep "path .../../escape. leaves the workspace" out &&
	test_grep "Input does not meet YAML 1.2" out
'

test_done
