#!/bin/bash
test_description='kiln lint warns about remote actions kiln cannot run, not about built-in ones'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup' '
	test_create_repo repo &&
	write_workflow repo ci <<-\EOF
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/checkout@v4
	      - uses: actions/cache@v4
	        with: { path: x, key: k }
	      - uses: actions/cache/save@v4
	        with: { path: x, key: k }
	      - uses: Actions/Setup-Node@v4
	      - uses: dorny/paths-filter@v3
	        with: { filters: "a: a/**" }
	      - uses: ./.github/actions/local
	      - uses: docker://alpine:3
	      - uses: codecov/codecov-action@v4
	      - uses: actions/labeler@v5
	EOF
'

test_expect_success 'one warning per unknown remote action, with its position; exit 0' '
	(cd repo && kiln lint) >out 2>&1 &&
	test_grep "^.github/workflows/ci.yml:16:15: warning: action .codecov/codecov-action@v4. is not built into kiln and cannot be downloaded: vendor it under .github/actions/<name>/" out &&
	test_grep "^.github/workflows/ci.yml:17:15: warning: action .actions/labeler@v5. is not built into kiln" out &&
	test "$(wc -l <out)" = 2
'

test_expect_success 'running it fails the step with the same advice' '
	write_workflow repo remote <<-\EOF &&
	on: push
	jobs:
	  up:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: codecov/codecov-action@v4
	EOF
	(cd repo && test_expect_code 1 kiln run -W .github/workflows/remote.yml) >out 2>&1 &&
	test_grep "can.t run action .codecov/codecov-action@v4.: kiln runs local actions" out &&
	test_grep "vendor the action into the repository" out
'

test_done
