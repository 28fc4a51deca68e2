#!/bin/bash
test_description='kiln lint: clean workflows, exit codes, default directory'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'a clean workflow: exit 0 and no output' '
	test_create_repo repo &&
	write_workflow repo ci <<-\EOF &&
	name: CI
	on: [push, pull_request]
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/checkout@v4
	      - run: make test
	  deploy:
	    needs: build
	    if: github.ref == '"'"'refs/heads/main'"'"'
	    runs-on: ubuntu-latest
	    steps:
	      - run: ./deploy.sh ${{ github.sha }}
	EOF
	(cd repo && kiln lint >../out 2>&1) &&
	test_must_be_empty out
'

test_expect_success 'lint names files on the command line' '
	kiln lint repo/.github/workflows/ci.yml >out 2>&1 &&
	test_must_be_empty out
'

test_expect_success 'lint of a directory lints its workflows' '
	kiln lint repo/.github/workflows >out 2>&1 &&
	test_must_be_empty out
'

test_expect_success 'unknown needs: error with position and hint, exit 2' '
	cat >bad.yml <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: make
	  deploy:
	    needs: biuld
	    runs-on: ubuntu-latest
	    steps:
	      - run: ./deploy
	EOF
	test_expect_code 2 kiln lint bad.yml >out &&
	echo "bad.yml:8:12: error: job '"'"'deploy'"'"' needs unknown job '"'"'biuld'"'"' (did you mean '"'"'build'"'"'?)" >expect &&
	test_cmp expect out
'

test_expect_success 'a missing file is an error (exit 2)' '
	test_expect_code 2 kiln lint nosuch.yml >out &&
	test_grep "^nosuch.yml: error: cannot read" out
'

test_expect_success 'no .github/workflows in the current directory is an error' '
	mkdir empty && (cd empty && test_expect_code 2 kiln lint >../out) &&
	test_grep "no workflow directory" out
'

test_done
