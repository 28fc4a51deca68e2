#!/bin/bash
test_description='kiln lint: several files, sorted output, directories, options'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup: a repository with good and bad workflows' '
	test_create_repo repo &&
	mkdir -p repo/.github/workflows &&
	printf "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: make\n" >repo/.github/workflows/good.yml &&
	printf "on: push\njobs:\n  b:\n    runs-on: x\n    needs: zz\n  a:\n    runs_on: x\n" >repo/.github/workflows/bad.yaml &&
	printf "on: pushh\njobs:\n  a:\n    runs-on: x\n" >repo/.github/workflows/a-first.yml &&
	echo "not a workflow" >repo/.github/workflows/README.md
'

test_expect_success 'default: every .yml and .yaml in .github/workflows, sorted by file and line' '
	(cd repo && test_expect_code 2 kiln lint >../out) &&
	cat >expect <<-\EOF &&
	.github/workflows/a-first.yml:1:5: error: unknown event '"'"'pushh'"'"' (did you mean '"'"'push'"'"'?)
	.github/workflows/bad.yaml:5:12: error: job '"'"'b'"'"' needs unknown job '"'"'zz'"'"'
	.github/workflows/bad.yaml:7:5: error: unknown key '"'"'runs_on'"'"' in job '"'"'a'"'"' (did you mean '"'"'runs-on'"'"'?)
	.github/workflows/bad.yaml:7:5: error: job '"'"'a'"'"' is missing '"'"'runs-on'"'"'
	EOF
	test_cmp expect out
'

test_expect_success 'only the named files are linted' '
	kiln lint repo/.github/workflows/good.yml >out &&
	test_must_be_empty out &&
	test_expect_code 2 kiln lint repo/.github/workflows/good.yml repo/.github/workflows/a-first.yml >out &&
	test $(wc -l <out) = 1
'

test_expect_success 'a directory argument lints the workflows in it' '
	test_expect_code 2 kiln lint repo/.github/workflows >out &&
	test $(wc -l <out) = 4 &&
	test_grep "^repo/.github/workflows/bad.yaml:5:12:" out
'

test_expect_success 'an empty workflow directory is an error' '
	mkdir -p empty/.github/workflows &&
	(cd empty && test_expect_code 2 kiln lint >../out) &&
	test_grep "no .yml or .yaml workflow files" out
'

test_expect_success 'a missing file among good ones still fails, and the rest is linted' '
	test_expect_code 2 kiln lint repo/.github/workflows/good.yml missing.yml repo/.github/workflows/a-first.yml >out &&
	test_grep "^missing.yml: error: cannot read workflow: No such file or directory" out &&
	test_grep "^repo/.github/workflows/a-first.yml:1:5:" out
'

test_expect_success 'lint --help exits 0; an unknown option is a usage error' '
	kiln lint --help >out &&
	test_grep "usage: kiln lint" out &&
	test_expect_code 2 kiln lint --frobnicate 2>err &&
	test_grep "unknown option" err
'

test_expect_success 'kiln help lists lint' '
	kiln help >out &&
	test_grep "lint" out
'

test_done
