#!/bin/bash
test_description='libgit2 trust store: parsed only when kiln connects to a remote, never by a local run'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-remote.sh"

test_have_prereq PYTHON || test_skip_all 'python3 is needed for the loopback server'
kiln debug git-tls >tls.out || test_skip_all 'kiln debug git-tls failed'
ca=$(sed -n 's/^deferred: //p' tls.out)
[ -n "$ca" ] && [ "$ca" != - ] ||
	test_skip_all 'libgit2 is not built on mbedTLS here: its init loads no CA file to defer'

test_expect_success 'after libgit2 init the CA file is recorded, nothing parsed' '
	test_grep "^loaded: 0$" tls.out
'

test_expect_success 'before a connection the CA file is parsed for real' '
	kiln debug git-tls --connect >out &&
	n=$(sed -n "s/^loaded: //p" out) &&
	test "$n" -gt 0
'

action_repo acme/hello
cat >work/acme/hello/action.yml <<-\EOF
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "hello from $GITHUB_ACTION_REPOSITORY"
EOF
commit_all acme/hello one
publish acme/hello

test_create_repo local
write_workflow local ci <<-\EOF
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo local
EOF
test_create_repo remote
write_workflow remote ci <<-\EOF
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/hello@main
EOF

start_http

# LeakSanitizer cannot run under ptrace (SAN=1 builds): leaks are checked
# by every other test
nolsan="${ASAN_OPTIONS:-}:detect_leaks=0"

test_expect_success STRACE 'a local run never opens the CA file' '
	use_home local &&
	(cd local && ASAN_OPTIONS=$nolsan strace -f -e trace=open,openat -o ../local.trace kiln run) >out 2>&1 &&
	test_grep "local" out &&
	test_grep "workflows/ci.yml" local.trace &&
	! grep -F "$ca" local.trace
'

test_expect_success STRACE 'a run that fetches an action opens it before connecting' '
	use_home remote &&
	(cd remote && KILN_GITHUB_URL="http://127.0.0.1:$HTTP_PORT" ASAN_OPTIONS=$nolsan \
		strace -f -e trace=open,openat,connect -o ../remote.trace kiln run) >out 2>&1 &&
	test_grep "hello from acme/hello" out &&
	ca_line=$(grep -nF "$ca" remote.trace | head -n1 | cut -d: -f1) &&
	conn_line=$(grep -n "connect(.*htons($HTTP_PORT)" remote.trace | head -n1 | cut -d: -f1) &&
	test -n "$ca_line" && test -n "$conn_line" &&
	test "$ca_line" -lt "$conn_line"
'

test_done
