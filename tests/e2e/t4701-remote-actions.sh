#!/bin/bash
test_description='remote actions: fetched with libgit2 from a path mirror, cached, --offline, --pull'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-remote.sh"

# acme/hello: a composite action at the root (tag v1, annotated) and one in
# sub/ that uses acme/inner, which uses its sibling through $/
action_repo acme/hello
mkdir -p work/acme/hello/sub
cat >work/acme/hello/action.yml <<-\EOF
name: hello
inputs:
  who: { description: who, default: world }
outputs:
  greeting: { description: text, value: "${{ steps.g.outputs.text }}" }
runs:
  using: composite
  steps:
    - id: g
      shell: bash
      run: |
        echo "hello ${{ inputs.who }} from $GITHUB_ACTION_REPOSITORY@$GITHUB_ACTION_REF"
        test -f "$GITHUB_ACTION_PATH/action.yml"
        echo "text=v1 hello ${{ inputs.who }}" >>"$GITHUB_OUTPUT"
EOF
cat >work/acme/hello/sub/action.yml <<-\EOF
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "sub of hello"
    - uses: acme/inner@main
EOF
commit_all acme/hello one
git -C work/acme/hello tag -a -m v1 v1
action_repo acme/inner
mkdir -p work/acme/inner/lib
cat >work/acme/inner/action.yml <<-\EOF
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "inner at $GITHUB_ACTION_REF"
    - uses: $/lib
EOF
cat >work/acme/inner/lib/action.yml <<-\EOF
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "inner lib from $GITHUB_ACTION_REPOSITORY"
EOF
commit_all acme/inner one
action_repo acme/js
cat >work/acme/js/action.yml <<-\EOF
inputs:
  name: { description: n, required: true }
outputs:
  upper: { description: u }
runs:
  using: node20
  main: dist/index.js
EOF
mkdir -p work/acme/js/dist
cat >work/acme/js/dist/index.js <<-\EOF
const fs = require('fs');
const name = process.env.INPUT_NAME;
console.log(`js main: ${name} ${process.env.GITHUB_ACTION_REPOSITORY}@${process.env.GITHUB_ACTION_REF}`);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `upper=${name.toUpperCase()}\n`);
EOF
commit_all acme/js one
git -C work/acme/js tag v3
action_repo acme/life
cat >work/acme/life/action.yml <<-\EOF
runs:
  using: node20
  pre: pre.js
  main: main.js
  post: post.js
EOF
cat >work/acme/life/pre.js <<-\EOF
const fs = require('fs');
console.log(`pre of ${process.env.GITHUB_ACTION_REPOSITORY}@${process.env.GITHUB_ACTION_REF}`);
fs.appendFileSync(process.env.GITHUB_STATE, 'from_pre=p1\n');
EOF
cat >work/acme/life/main.js <<-\EOF
const fs = require('fs');
console.log(`main sees state ${process.env.STATE_from_pre}`);
fs.appendFileSync(process.env.GITHUB_STATE, 'from_main=m2\n');
EOF
cat >work/acme/life/post.js <<-\EOF
console.log(`post sees ${process.env.STATE_from_pre} ${process.env.STATE_from_main}`);
EOF
commit_all acme/life one
git -C work/acme/life tag v1
action_repo acme/dock
cat >work/acme/dock/action.yml <<-\EOF
runs:
  using: docker
  image: Dockerfile
EOF
commit_all acme/dock one
git -C work/acme/dock tag v1
for r in acme/hello acme/inner acme/js acme/life acme/dock; do publish $r; done

test_create_repo repo
write_workflow repo ci <<-\EOF
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: h
        uses: acme/hello@v1
        with: { who: kiln }
      - run: echo "got '${{ steps.h.outputs.greeting }}'"
      - uses: acme/hello/sub@v1
EOF

test_expect_success 'a path mirror: composite, nested remote composite and $/ run' '
	use_home a &&
	(cd repo && KILN_GITHUB_URL="$SRV" kiln run) >out 2>&1 &&
	test_grep "hello kiln from acme/hello@v1" out &&
	test_grep "got .v1 hello kiln." out &&
	test_grep "sub of hello" out &&
	test_grep "inner at main" out &&
	test_grep "inner lib from acme/inner" out
'

test_expect_success 'the cache: keyed by commit, with the refs used' '
	use_home a &&
	sha=$(git -C work/acme/hello rev-parse "v1^{commit}") &&
	ls -d "$KILN_HOME"/actions/*/acme/hello/commits/$sha &&
	grep "^v1	$sha\$" "$KILN_HOME"/actions/*/acme/hello/refs
'

test_expect_success 'a second run needs no server at all' '
	use_home a &&
	mv srv srv.away &&
	rc=0 && { (cd repo && KILN_GITHUB_URL="$SRV" kiln run) >out 2>&1 || rc=$?; } &&
	mv srv.away srv && test $rc = 0 &&
	test_grep "got .v1 hello kiln." out
'

test_expect_success '--offline with an empty cache names the missing action, exit 2' '
	use_home b &&
	(cd repo && test_expect_code 2 kiln run --offline --github-instance "$SRV") >out 2>&1 &&
	test_grep "ci.yml:8:15: error: action .acme/hello@v1. is not in the cache (--offline)" out &&
	test -z "$(find "$KILN_HOME" -path "*/acme/hello/commits/*")"
'

test_expect_success 'a missing ref is a clear error at its uses:, exit 2, nothing runs' '
	use_home c &&
	write_workflow repo bad <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo should-not-run
	      - uses: acme/hello@nope
	EOF
	(cd repo && test_expect_code 2 kiln run -W .github/workflows/bad.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "bad.yml:7:15: error: cannot resolve action .acme/hello@nope.: .*has no tag or branch .nope." out &&
	test_grep -v "should-not-run" out &&
	git -C repo rm -q .github/workflows/bad.yml && git -C repo commit -q -m rm
'

test_expect_success 'an unknown repository is a clear error' '
	write_workflow repo bad <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: nobody/nothing@v1
	EOF
	(cd repo && test_expect_code 2 kiln run -W .github/workflows/bad.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "error: cannot resolve action .nobody/nothing@v1.: " out &&
	git -C repo rm -q .github/workflows/bad.yml && git -C repo commit -q -m rm
'

test_expect_success NODE 'JavaScript action: INPUT_*, outputs, GITHUB_ACTION_REPOSITORY/REF' '
	write_workflow repo js <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: j
	        uses: acme/js@v3
	        with: { name: kiln }
	      - run: echo "upper=${{ steps.j.outputs.upper }}"
	EOF
	(cd repo && kiln run -W .github/workflows/js.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "js main: kiln acme/js@v3" out &&
	test_grep "upper=KILN" out
'

test_expect_success NODE 'JavaScript action with pre, main, post and state between them' '
	write_workflow repo life <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo first-step
	      - uses: acme/life@v1
	      - run: echo last-step
	EOF
	(cd repo && kiln run -W .github/workflows/life.yml --github-instance "$SRV") >out 2>&1 &&
	grep -e "pre of acme/life@v1" -e "] first-step" -e "main sees state p1" -e "] last-step" \
		-e "post sees p1 m2" out | sed "s/^\[build\] //" >got &&
	printf "%s\n" "pre of acme/life@v1" first-step "main sees state p1" last-step "post sees p1 m2" >want &&
	test_cmp want got
'

test_expect_success NODE 'full and abbreviated commit ids as refs' '
	sha=$(git -C work/acme/js rev-parse HEAD) &&
	short=$(git -C work/acme/js rev-parse --short=10 HEAD) &&
	sed -e "s/acme\/js@v3/acme\/js@$sha/" repo/.github/workflows/js.yml >repo/.github/workflows/sha.yml &&
	sed -e "s/acme\/js@v3/acme\/js@$short/" repo/.github/workflows/js.yml >repo/.github/workflows/short.yml &&
	git -C repo add .github && git -C repo commit -q -m shas &&
	use_home d &&
	(cd repo && kiln run -W .github/workflows/sha.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "js main: kiln acme/js@$sha" out &&
	(cd repo && kiln run -W .github/workflows/short.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "js main: kiln acme/js@$short" out &&
	git -C repo rm -q .github/workflows/sha.yml .github/workflows/short.yml &&
	git -C repo commit -q -m rm
'

test_expect_success 'a Docker action without its Dockerfile fails its step' '
	write_workflow repo dock <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - name: containerized
	        uses: acme/dock@v1
	EOF
	(cd repo && test_expect_code 1 kiln run -W .github/workflows/dock.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "runs.image .Dockerfile.: no such Dockerfile\|needs podman for step" out &&
	test_grep "containerized" out &&
	git -C repo rm -q .github/workflows/dock.yml && git -C repo commit -q -m rm
'

test_expect_success 'built-in actions keep precedence: actions/checkout is never fetched' '
	use_home e &&
	(cd repo && kiln run -W .github/workflows/ci.yml --github-instance "$SRV") >out 2>&1 &&
	ls -d "$KILN_HOME"/actions/*/acme/hello &&
	test -z "$(find "$KILN_HOME" -path "*/actions/*/actions")"
'

test_expect_success '--pull picks a moved tag; without it the cached commit stays' '
	use_home f &&
	(cd repo && kiln run -W .github/workflows/ci.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "got .v1 hello kiln." out &&
	sed -i "s/v1 hello/v1.1 hello/" work/acme/hello/action.yml &&
	commit_all acme/hello moved && git -C work/acme/hello tag -f -a -m v1 v1 &&
	publish acme/hello &&
	(cd repo && kiln run -W .github/workflows/ci.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "got .v1 hello kiln." out &&
	(cd repo && kiln run --pull -W .github/workflows/ci.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "got .v1.1 hello kiln." out &&
	(cd repo && kiln run --offline -W .github/workflows/ci.yml --github-instance "$SRV") >out 2>&1 &&
	test_grep "got .v1.1 hello kiln." out
'

test_expect_success '--offline rebuilds removed commit directories from the cached objects' '
	use_home f &&
	rm -rf "$KILN_HOME"/actions/*/acme/hello/commits &&
	mv srv srv.away &&
	rc=0 && { (cd repo && kiln run --offline -W .github/workflows/ci.yml --github-instance "$SRV") >out 2>&1 || rc=$?; } &&
	mv srv.away srv && test $rc = 0 &&
	test_grep "got .v1.1 hello kiln." out &&
	ls -d "$KILN_HOME"/actions/*/acme/hello/commits/*
'

test_expect_success 'kiln run -l and -n list a workflow with remote actions without fetching' '
	use_home g &&
	(cd repo && kiln run -l -W .github/workflows/ci.yml --github-instance "$TRASH/nowhere") >out 2>&1 &&
	test_grep "build" out &&
	(cd repo && kiln run -n -W .github/workflows/ci.yml --github-instance "$TRASH/nowhere") >out 2>&1 &&
	test_grep "Run acme/hello@v1" out &&
	test -z "$(find "$KILN_HOME" -path "*/acme*")"
'

test_expect_success 'credentials in the instance URL never reach an error message' '
	use_home h &&
	port=$(free_port) &&
	(cd repo && test_expect_code 2 kiln run -W .github/workflows/ci.yml \
		--github-instance "http://x-access-token:tok3n-in-url@127.0.0.1:$port") >out 2>&1 &&
	test_grep "http://\*\*\*@127.0.0.1:$port" out &&
	! grep -q "tok3n-in-url" out
'

test_done
