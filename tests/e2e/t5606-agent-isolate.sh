#!/bin/bash
test_description='kiln agent --isolate: the steps of leased jobs run in the bubblewrap sandbox (the job directory writable, the rest of the agent host read-only)'
. "$(dirname "$0")/../lib.sh"
command -v bwrap >/dev/null || test_skip_all "bubblewrap (bwrap) is needed (make deps installs it)"
. "$TEST_ROOT/e2e/lib-serve.sh"
. "$TEST_ROOT/e2e/lib-agent.sh"

ZERO=0000000000000000000000000000000000000000

test_expect_success 'setup' '
	test_create_repo src &&
	mkdir -p src/.github/workflows outside &&
	cat >src/.github/workflows/iso.yml <<-EOF &&
	name: Iso
	on: push
	jobs:
	  iso:
	    runs-on: [self-hosted, iso]
	    steps:
	      - run: |
	          if touch "$TRASH/outside/x" 2>/dev/null; then echo "outside written"; else echo "outside denied"; fi
	          echo hi >inside.txt && echo "inside written"
	EOF
	git -C src add . && git -C src commit -q -m iso &&
	kiln repo add acme/app "$TRASH/src" >secret
'

start_serve --jobs 1 --agents self-hosted
SECRET=$(cat secret)
REGTOKEN=$(regtoken)

test_expect_success 'a job on an --isolate agent cannot write outside its job directory' '
	start_agent iso --labels iso --isolate &&
	push_hook refs/heads/main $ZERO "$(git -C src rev-parse HEAD)" i1 >out &&
	wait_status 1 success 60 &&
	kiln logs "Iso#1" >log &&
	test_grep "outside denied" log &&
	test_grep "inside written" log &&
	test ! -e outside/x
'

test_done
