#!/bin/bash
test_description='kiln command line basics'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'kiln version prints a version' '
	kiln version >out &&
	test_grep "^kiln [0-9]" out
'

test_expect_success 'kiln with no command is a usage error (exit 2)' '
	test_expect_code 2 kiln 2>err &&
	test_grep "usage: kiln" err
'

test_expect_success 'kiln help lists commands and exits 0' '
	kiln help >out &&
	test_grep "version" out
'

test_expect_success 'unknown command suggests the closest one' '
	test_expect_code 2 kiln versoin 2>err &&
	test_grep "did you mean .version." err
'

test_expect_success 'debug yaml reports a yaml error with its position' '
	printf "a: [1, 2\n" >bad.yml &&
	test_expect_code 2 kiln debug yaml bad.yml 2>err &&
	test_grep "^bad.yml:[0-9]*:[0-9]*: error: yaml" err
'

test_expect_success 'debug yaml shows positions of nodes' '
	printf "on: push\njobs:\n  a:\n    x: 1\n" >ok.yml &&
	kiln debug yaml ok.yml >out &&
	test_grep "^      4:5 string \"x\"" out
'

test_done
