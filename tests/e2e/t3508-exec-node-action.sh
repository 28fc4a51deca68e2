#!/bin/bash
test_description='local JavaScript actions (runs.using: node20) run with the host node (pre: GitHub skips it for local actions, with a warning)'
. "$(dirname "$0")/../lib.sh"

command -v node >/dev/null || test_skip_all "node is not installed"

# written outside test bodies: the files need single quotes
test_create_repo repo >/dev/null
mkdir -p repo/act/dist repo/bad repo/.github/workflows
cat >repo/act/action.yml <<'END'
name: greet
inputs:
  who:
    default: world
  extra flag:
    default: "no"
outputs:
  greeting:
    description: the greeting
runs:
  using: node20
  pre: dist/pre.js
  main: dist/index.js
END
cat >repo/act/dist/pre.js <<'END'
console.log('pre ran');
END
cat >repo/act/dist/index.js <<'END'
const fs = require('fs');
const who = process.env.INPUT_WHO;
console.log(`hello ${who} (extra=${process.env.INPUT_EXTRA_FLAG}, ws=${process.env.GITHUB_WORKSPACE !== undefined})`);
if (process.env.INPUT_SURPRISE) console.log(`surprise=${process.env.INPUT_SURPRISE}`);
if (who === 'fail') process.exit(4);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `greeting=hi ${who}\n`);
END
cat >repo/bad/action.yml <<'END'
name: nomain
runs:
  using: node20
END
cat >repo/.github/workflows/ci.yml <<'END'
on: push
jobs:
  a:
    runs-on: x
    steps:
      - uses: ./act
        id: g
        with:
          who: kiln
          extra flag: "yes"
      - uses: ./act
        id: d
      - run: echo "out=${{ steps.g.outputs.greeting }}/${{ steps.d.outputs.greeting }}"
  failing:
    runs-on: x
    steps:
      - uses: ./act
        with:
          who: fail
      - run: echo never
  nomain:
    runs-on: x
    steps:
      - uses: ./bad
  undeclared:
    runs-on: x
    steps:
      - uses: ./act
        with:
          surprise: boo
END
(cd repo && git add -A && git commit -q -m actions) || exit 1

test_expect_success 'inputs (given and default) reach the script as INPUT_*' '
	(cd repo && test_expect_code 1 kiln run >../out 2>&1) &&
	test_grep -v "\[a\] pre ran" out &&
	test_grep "pre. execution is not supported for local action from .\./act." out &&
	test_grep "\[a\] hello kiln (extra=yes, ws=true)" out &&
	test_grep "\[a\] hello world (extra=no, ws=true)" out
'

test_expect_success 'declared outputs come from the script GITHUB_OUTPUT' '
	test_grep "out=hi kiln/hi world" out
'

test_expect_success 'a failing script fails its step and the job' '
	test_grep "failing *failure" out &&
	test_grep -v "\[failing\] never" out
'

test_expect_success 'an action without runs.main is a clear error' '
	test_grep "runs.main" out &&
	test_grep "nomain *failure" out
'

test_expect_success 'an undeclared input is warned about and still passed, as GitHub does' '
	test_grep "\[undeclared\] warning: Unexpected input(s) .surprise., valid inputs are \[.who., .extra flag.\]" out &&
	test_grep "\[undeclared\] surprise=boo" out
'

test_done
