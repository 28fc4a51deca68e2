#!/bin/bash
test_description='kiln lint accepts remote actions (kiln fetches them) and $/ references, checks their shape'
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
	      - uses: Actions/Setup-Node@v4
	      - uses: ./.github/actions/local
	      - uses: $/.github/actions/local
	      - uses: docker://alpine:3
	      - uses: codecov/codecov-action@v4
	      - uses: actions/labeler@v5
	  call:
	    uses: $/.github/workflows/reusable.yml
	  remote:
	    uses: octo/workflows/.github/workflows/ci.yml@v1
	EOF
'

test_expect_success 'no warning for remote actions or $/ references; exit 0' '
	(cd repo && kiln lint) >out 2>&1 &&
	test_must_be_empty out
'

test_expect_success 'bad $/ references are errors with their position' '
	write_workflow repo bad <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: $/
	      - uses: $/../outside
	      - uses: $/x@v1
	  call:
	    uses: $/.github/workflows/x.txt
	EOF
	(cd repo && test_expect_code 2 kiln lint .github/workflows/bad.yml) >out 2>&1 &&
	test_grep "bad.yml:6:15: error: invalid action reference .\$/.: .\$/. is followed by a path" out &&
	test_grep "bad.yml:7:15: error: invalid action reference .\$/../outside." out &&
	test_grep "bad.yml:8:15: error: invalid action reference .\$/x@v1." out &&
	test_grep "bad.yml:10:11: error: reusable workflow .\$/.github/workflows/x.txt. must be a .yml or .yaml file" out
'

test_done
