#!/bin/bash
test_description='JavaScript actions: pre/main/post stages, post-if, state, post steps of composites, GITHUB_ACTION_*'
. "$(dirname "$0")/../lib.sh"

command -v node >/dev/null || test_skip_all "node is not installed"

# written outside test bodies: the files need single quotes
test_create_repo repo >/dev/null
mkdir -p repo/act repo/comp repo/nest repo/.github/workflows
cat >repo/act/action.yml <<'END'
name: stages
inputs:
  tag:
    default: x
runs:
  using: node20
  pre: pre.js
  main: main.js
  post: post.js
END
cat >repo/act/pre.js <<'END'
console.log('local pre ran');
END
cat >repo/act/main.js <<'END'
const fs = require('fs');
const e = process.env;
console.log(`main ${e.INPUT_TAG} path=${e.GITHUB_ACTION_PATH} repo=[${e.GITHUB_ACTION_REPOSITORY}] ref=[${e.GITHUB_ACTION_REF}] action=${e.GITHUB_ACTION}`);
console.log(`::save-state name=cmd::${e.INPUT_TAG}-c`);
fs.appendFileSync(e.GITHUB_STATE, `file=${e.INPUT_TAG}-f\n`);
if (e.INPUT_TAG === 'mainfail') process.exit(3);
END
cat >repo/act/post.js <<'END'
const e = process.env;
console.log(`post ${e.INPUT_TAG} state=${e.STATE_cmd}/${e.STATE_file} later=${e.LATER} stepenv=${e.STEPENV}`);
if (e.INPUT_TAG === 'postfail') process.exit(5);
END
cat >repo/comp/action.yml <<'END'
runs:
  using: composite
  steps:
    - uses: ./act
      with: { tag: inner1 }
    - uses: ./act
      with: { tag: inner2 }
    - run: echo "comp ctx=${{ github.action_path }} env=$GITHUB_ACTION_PATH"
      shell: bash
    - uses: ./nest
END
cat >repo/nest/action.yml <<'END'
runs:
  using: composite
  steps:
    - run: echo "nest ctx=${{ github.action_path }} env=$GITHUB_ACTION_PATH repo=[$GITHUB_ACTION_REPOSITORY]"
      shell: bash
END
cat >repo/.github/workflows/ci.yml <<'END'
on: push
jobs:
  order:
    runs-on: x
    steps:
      - uses: ./act
        env: { STEPENV: kept }
        with: { tag: one }
      - uses: ./act
        if: false
        with: { tag: skipped }
      - uses: ./comp
      - uses: ./act
        with: { tag: two }
      - run: echo LATER=yes >> "$GITHUB_ENV"
      - run: echo "top repo=[$GITHUB_ACTION_REPOSITORY] ref=[$GITHUB_ACTION_REF] path=[$GITHUB_ACTION_PATH]"
  postfail:
    runs-on: x
    steps:
      - uses: ./act
        with: { tag: first }
      - uses: ./act
        with: { tag: postfail }
      - run: echo main steps done
  mainfail:
    runs-on: x
    steps:
      - uses: ./act
        with: { tag: mainfail }
      - run: echo never
  twocomp:
    runs-on: x
    steps:
      - uses: ./comp
      - uses: ./comp
END
(cd repo && git add -A && git commit -q -m actions) || exit 1

test_expect_success 'a local action: pre skipped with GitHub warning, main and post run' '
	(cd repo && test_expect_code 1 kiln run --no-history >../out 2>&1) &&
	test_grep "\[order\] warning: .pre. execution is not supported for local action from .\./act." out &&
	test_grep -v "local pre ran" out &&
	test_grep "\[order\] main one path=.*/workspace/act repo=\[\] ref=\[\] action=__self" out
'

test_expect_success 'post steps run after the job steps, newest first, not for skipped steps' '
	grep "\[order\] \(post\|> Post\|< Post\|top repo\)" out | sed "s/ in [0-9.]*s//" >actual &&
	cat >expect <<-\EOF &&
	[order] top repo=[] ref=[] path=[]
	[order] > Post Run ./act
	[order] post two state=two-c/two-f later=yes stepenv=undefined
	[order] < Post Run ./act: success
	[order] > Post Run ./comp
	[order] > Post Run ./act
	[order] post inner2 state=inner2-c/inner2-f later=yes stepenv=undefined
	[order] < Post Run ./act: success
	[order] > Post Run ./act
	[order] post inner1 state=inner1-c/inner1-f later=yes stepenv=undefined
	[order] < Post Run ./act: success
	[order] < Post Run ./comp: success
	[order] > Post Run ./act
	[order] post one state=one-c/one-f later=yes stepenv=kept
	[order] < Post Run ./act: success
	EOF
	test_cmp expect actual &&
	test_grep "order  *success" out
'

test_expect_success 'github.action_path and GITHUB_ACTION_PATH in composites, nested too' '
	test_grep "\[order\] comp ctx=.*/workspace/comp env=.*/workspace/comp$" out &&
	test_grep "\[order\] nest ctx=.*/workspace/nest env=.*/workspace/nest repo=\[\]$" out
'

test_expect_success 'a failing post step fails the job; the other posts still run' '
	grep "\[postfail\] \(post\|< Post\)" out | sed "s/ in [0-9.]*s//" >actual &&
	cat >expect <<-\EOF &&
	[postfail] post postfail state=postfail-c/postfail-f later=undefined stepenv=undefined
	[postfail] < Post Run ./act: failure
	[postfail] post first state=first-c/first-f later=undefined stepenv=undefined
	[postfail] < Post Run ./act: success
	EOF
	test_cmp expect actual &&
	test_grep "postfail  *failure" out
'

test_expect_success 'a failed main step still gets its post step (post-if: always())' '
	test_grep "\[mainfail\] post mainfail state=mainfail-c/mainfail-f" out &&
	test_grep -v "\[mainfail\] never" out &&
	test_grep "mainfail  *failure" out
'

test_expect_success 'two uses of one composite: two Post steps, each with its own posts' '
	grep "\[twocomp\] [<>] Post" out | sed "s/ in [0-9.]*s//" >actual &&
	cat >expect <<-\EOF &&
	[twocomp] > Post Run ./comp
	[twocomp] > Post Run ./act
	[twocomp] < Post Run ./act: success
	[twocomp] > Post Run ./act
	[twocomp] < Post Run ./act: success
	[twocomp] < Post Run ./comp: success
	[twocomp] > Post Run ./comp
	[twocomp] > Post Run ./act
	[twocomp] < Post Run ./act: success
	[twocomp] > Post Run ./act
	[twocomp] < Post Run ./act: success
	[twocomp] < Post Run ./comp: success
	EOF
	test_cmp expect actual
'

test_expect_success 'post steps are in the run history' '
	(cd repo && test_expect_code 1 kiln run -j postfail >/dev/null 2>&1 &&
	 kiln logs "ci.yml#1" postfail >../logs 2>&1) &&
	test_grep "Post Run ./act" logs &&
	test_grep "post postfail" logs
'

# a fetched (remote) action: `kiln debug job --action` stands in for the fetcher
mkdir -p remote
cat >remote/action.yml <<'END'
inputs:
  tag:
    default: x
runs:
  using: node20
  pre: pre.js
  pre-if: env.NOPRE != 'yes'
  main: main.js
  post: post.js
  post-if: success()
END
cat >remote/pre.js <<'END'
const e = process.env;
console.log(`pre ${e.INPUT_TAG} repo=${e.GITHUB_ACTION_REPOSITORY} ref=${e.GITHUB_ACTION_REF}`);
require('fs').appendFileSync(e.GITHUB_STATE, `frompre=${e.INPUT_TAG}\n`);
if (e.INPUT_TAG === 'prefail') process.exit(1);
END
cat >remote/main.js <<'END'
console.log(`main ${process.env.INPUT_TAG} frompre=${process.env.STATE_frompre}`);
if (process.env.INPUT_TAG === 'bad') process.exit(2);
END
cat >remote/post.js <<'END'
console.log(`post ${process.env.INPUT_TAG} frompre=${process.env.STATE_frompre}`);
END
cat >repo/remote.yml <<'END'
on: push
jobs:
  r:
    runs-on: x
    steps:
      - run: echo first main step
      - uses: o/r/sub@v1
        with: { tag: a }
      - uses: o/r/sub@v1
        env: { NOPRE: "yes" }
        with: { tag: c }
      - uses: o/r/sub@v1
        if: false
        with: { tag: skippedmain }
  bad:
    runs-on: x
    steps:
      - uses: o/r/sub@v1
        with: { tag: bad }
  prefail:
    runs-on: x
    steps:
      - uses: o/r/sub@v1
        with: { tag: prefail }
      - run: echo never
END

test_expect_success 'a fetched action: pre at job start in step order (its post registered then), state to main and post' '
	(cd repo && kiln debug job remote.yml r --action "o/r/sub@v1=$TRASH/remote" >../rout 2>&1) &&
	grep "^[|<>]" rout >actual &&
	cat >expect <<-\EOF &&
	> Pre Run o/r/sub@v1
	| pre a repo=o/r ref=v1
	< Pre Run o/r/sub@v1: success
	> Pre Run o/r/sub@v1
	| pre skippedmain repo=o/r ref=v1
	< Pre Run o/r/sub@v1: success
	> Run echo first main step
	| first main step
	< Run echo first main step: success
	> Run o/r/sub@v1
	| main a frompre=a
	< Run o/r/sub@v1: success
	> Run o/r/sub@v1
	| main c frompre=undefined
	< Run o/r/sub@v1: success
	< Run o/r/sub@v1: skipped
	> Post Run o/r/sub@v1
	| post c frompre=undefined
	< Post Run o/r/sub@v1: success
	> Post Run o/r/sub@v1
	| post skippedmain frompre=skippedmain
	< Post Run o/r/sub@v1: success
	> Post Run o/r/sub@v1
	| post a frompre=a
	< Post Run o/r/sub@v1: success
	EOF
	test_cmp expect actual
'

test_expect_success 'post-if: success() is false after a failed main step' '
	(cd repo && test_expect_code 1 kiln debug job remote.yml bad --action "o/r/sub@v1=$TRASH/remote" >../bout 2>&1) &&
	test_grep "< Run o/r/sub@v1: failure" bout &&
	test_grep "< Post Run o/r/sub@v1: skipped" bout &&
	test_grep -v "| post bad" bout
'

test_expect_success 'a failing pre step fails the job and skips its steps' '
	(cd repo && test_expect_code 1 kiln debug job remote.yml prefail --action "o/r/sub@v1=$TRASH/remote" >../pout 2>&1) &&
	test_grep "< Pre Run o/r/sub@v1: failure" pout &&
	test_grep "< Run o/r/sub@v1: skipped" pout &&
	test_grep -v "| never" pout &&
	test_grep "< Post Run o/r/sub@v1: skipped" pout
'

# a fetched composite using a fetched JavaScript action with a pre
mkdir -p comp2
cat >comp2/action.yml <<'END'
inputs:
  who:
    default: dflt
  extra:
    default: fromdefault
runs:
  using: composite
  steps:
    - uses: o/r/sub@v1
      with:
        tag: ${{ inputs.who }}-${{ inputs.extra }}
    - run: echo "comp repo=$GITHUB_ACTION_REPOSITORY ref=$GITHUB_ACTION_REF ctx=${{ github.action_repository }}"
      shell: bash
END
cat >repo/nested.yml <<'END'
on: push
jobs:
  n:
    runs-on: x
    steps:
      - run: echo first
      - uses: o/comp@v2
        with: { who: job }
      - uses: o/r/sub@v1
        with: { tag: top }
END

test_expect_success 'fetched composite: the pre of its actions runs at job start inside one Pre step, its posts inside one Post step' '
	(cd repo && kiln debug job nested.yml n --action "o/r/sub@v1=$TRASH/remote" \
		--action "o/comp@v2=$TRASH/comp2" >../nout 2>&1) &&
	grep "^[|<>]" nout >actual &&
	cat >expect <<-\EOF &&
	> Pre Run o/comp@v2
	> Pre Run o/r/sub@v1
	| pre job-fromdefault repo=o/r ref=v1
	< Pre Run o/r/sub@v1: success
	< Pre Run o/comp@v2: success
	> Pre Run o/r/sub@v1
	| pre top repo=o/r ref=v1
	< Pre Run o/r/sub@v1: success
	> Run echo first
	| first
	< Run echo first: success
	> Run o/comp@v2
	> Run o/r/sub@v1
	| main job-fromdefault frompre=job-fromdefault
	< Run o/r/sub@v1: success
	> Run echo "comp repo=$GITHUB_ACTION_REPOSITORY ref=$GITHUB_ACTION_REF ctx=${{ github.action_repository }}"
	| comp repo=o/comp ref=v2 ctx=o/comp
	< Run echo "comp repo=$GITHUB_ACTION_REPOSITORY ref=$GITHUB_ACTION_REF ctx=${{ github.action_repository }}": success
	< Run o/comp@v2: success
	> Run o/r/sub@v1
	| main top frompre=top
	< Run o/r/sub@v1: success
	> Post Run o/r/sub@v1
	| post top frompre=top
	< Post Run o/r/sub@v1: success
	> Post Run o/comp@v2
	> Post Run o/r/sub@v1
	| post job-fromdefault frompre=job-fromdefault
	< Post Run o/r/sub@v1: success
	< Post Run o/comp@v2: success
	EOF
	test_cmp expect actual
'

test_done
