#!/bin/bash
test_description='remote actions over git:// (git daemon) and smart HTTP (git http-backend), a private action with a token, unreachable servers'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-remote.sh"

test_have_prereq PYTHON || test_skip_all 'python3 is needed for the loopback servers'

action_repo acme/hello
cat >work/acme/hello/action.yml <<-\EOF
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "hello from $GITHUB_ACTION_REPOSITORY@$GITHUB_ACTION_REF"
EOF
commit_all acme/hello one
git -C work/acme/hello tag -a -m v1 v1
publish acme/hello

test_create_repo repo
write_workflow repo ci <<-\EOF
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/hello@v1
      - run: echo "token in env is ${#GITHUB_TOKEN} long"
EOF

start_git_daemon
start_http

test_expect_success 'git://: a cold run fetches, a warm one runs with the daemon gone' '
	use_home git &&
	(cd repo && kiln run --github-instance "git://127.0.0.1:$GIT_PORT") >out 2>&1 &&
	test_grep "hello from acme/hello@v1" out
'

kill $GIT_DAEMON_PID
wait $GIT_DAEMON_PID 2>/dev/null

test_expect_success 'git://: unreachable server, with the cache: runs' '
	use_home git &&
	(cd repo && kiln run --github-instance "git://127.0.0.1:$GIT_PORT") >out 2>&1 &&
	test_grep "hello from acme/hello@v1" out
'

test_expect_success 'git://: unreachable server, without cache: names the action, exit 2' '
	use_home git-cold &&
	(cd repo && test_expect_code 2 kiln run --github-instance "git://127.0.0.1:$GIT_PORT") >out 2>&1 &&
	test_grep "ci.yml:6:15: error: cannot resolve action .acme/hello@v1.: cannot reach .git://127.0.0.1:$GIT_PORT/acme/hello." out
'

test_expect_success 'http://: smart HTTP through git http-backend' '
	use_home http &&
	(cd repo && KILN_GITHUB_URL="http://127.0.0.1:$HTTP_PORT" kiln run) >out 2>&1 &&
	test_grep "hello from acme/hello@v1" out &&
	test_grep "GET /acme/hello/info/refs?service=git-upload-pack" "$TRASH/http.log"
'

test_expect_success 'http://: a warm cache makes no request at all' '
	use_home http &&
	before=$(wc -l <"$TRASH/http.log") &&
	(cd repo && KILN_GITHUB_URL="http://127.0.0.1:$HTTP_PORT" kiln run) >out 2>&1 &&
	test_grep "hello from acme/hello@v1" out &&
	test "$(wc -l <"$TRASH/http.log")" = "$before"
'

test_expect_success 'concurrent cold runs share one cache safely, nothing half-written' '
	use_home race &&
	for i in 1 2 3 4; do
		(cd repo && KILN_GITHUB_URL="http://127.0.0.1:$HTTP_PORT" kiln run >../race.$i 2>&1; echo $? >../race.$i.rc) &
	done &&
	wait &&
	for i in 1 2 3 4; do
		test "$(cat race.$i.rc)" = 0 &&
		test_grep "hello from acme/hello@v1" race.$i || return 1
	done &&
	test "$(ls "$KILN_HOME"/actions/*/acme/hello/commits | wc -l)" = 1 &&
	test -z "$(find "$KILN_HOME/actions" -name "tmp.*" -o -name "*.tmp.*")"
'

test_expect_success 'a fetch that fails leaves nothing in the cache' '
	use_home failed &&
	(cd repo && test_expect_code 2 kiln run --github-instance "http://127.0.0.1:$HTTP_PORT/missing") >out 2>&1 &&
	test -z "$(find "$KILN_HOME/actions" -path "*/commits/*" -o -name "tmp.*" -o -path "*/acme/hello/refs")"
'

kill $HTTP_PID
wait $HTTP_PID 2>/dev/null
TOKEN=s3cr3t-t0ken-4-kiln
start_http "$TOKEN"

test_expect_success 'private action: without a token the server says 401, kiln says why' '
	use_home priv &&
	(cd repo && unset GITHUB_TOKEN && test_expect_code 2 kiln run --github-instance "http://127.0.0.1:$HTTP_PORT") >out 2>&1 &&
	test_grep "cannot resolve action .acme/hello@v1.: .*authentication required (give a token with GITHUB_TOKEN or -s GITHUB_TOKEN)" out
'

test_expect_success 'private action: a wrong token is refused' '
	use_home priv &&
	(cd repo && test_expect_code 2 kiln run -s GITHUB_TOKEN=wrong --github-instance "http://127.0.0.1:$HTTP_PORT") >out 2>&1 &&
	test_grep "authentication failed (the token was refused)" out &&
	test_grep -v wrong out
'

test_expect_success 'private action: -s GITHUB_TOKEN fetches it; the token is never shown' '
	use_home priv &&
	(cd repo && kiln run -s GITHUB_TOKEN="$TOKEN" --github-instance "http://127.0.0.1:$HTTP_PORT") >out 2>&1 &&
	test_grep "hello from acme/hello@v1" out &&
	test_grep -v "$TOKEN" out &&
	! grep -r -F "$TOKEN" "$KILN_HOME" &&
	id=$(cd repo && kiln runs | awk "NR == 2 { print \$1 }") &&
	(cd repo && kiln logs "$id") >logs 2>&1 &&
	test_grep "hello from acme/hello@v1" logs &&
	test_grep -v "$TOKEN" logs
'

test_expect_success 'private action: GITHUB_TOKEN from the environment, masked in the logs' '
	use_home priv-env &&
	(cd repo && GITHUB_TOKEN="$TOKEN" kiln run --github-instance "http://127.0.0.1:$HTTP_PORT") >out 2>&1 &&
	test_grep "hello from acme/hello@v1" out &&
	test_grep "token in env is ${#TOKEN} long" out &&
	test_grep -v "$TOKEN" out &&
	! grep -r -F "$TOKEN" "$KILN_HOME"
'

test_done
