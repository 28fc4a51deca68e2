#!/bin/bash
test_description='kiln run --isolate: host steps in a bubblewrap sandbox (workspace writable, the rest read-only, own /tmp, optional no network)'
. "$(dirname "$0")/../lib.sh"

command -v bwrap >/dev/null || test_skip_all "bubblewrap (bwrap) is needed (make deps installs it)"

test_expect_success 'setup' '
	test_create_repo repo &&
	mkdir outside &&
	write_workflow repo ci <<-\EOF
	on: push
	jobs:
	  iso:
	    runs-on: ubuntu-latest
	    steps:
	      - id: w
	        run: |
	          echo made >made.txt
	          echo "in temp" >"$RUNNER_TEMP/t.txt"
	          echo "x=1" >>"$GITHUB_OUTPUT"
	          echo "FROM_ENV=yes" >>"$GITHUB_ENV"
	          test -r "$GITHUB_EVENT_PATH" && echo "event readable"
	          echo private >/tmp/kiln-isolate-probe-$PROBE_ID && echo "own tmp written"
	          if echo nope >"$OUTSIDE/denied.txt" 2>/dev/null; then echo "outside WRITTEN"; else echo "outside denied"; fi
	          if touch "$HOME/denied" 2>/dev/null; then echo "home WRITTEN"; else echo "home denied"; fi
	          echo "interfaces $(grep -c : /proc/net/dev)"
	      - run: echo "next step sees $(cat made.txt) x=${{ steps.w.outputs.x }} env=$FROM_ENV"
	EOF
'

test_expect_success '--isolate: the workspace and the file commands work; a write outside the workspace is denied' '
	export OUTSIDE="$TRASH/outside" PROBE_ID=$$ &&
	env -C repo kiln run --isolate >out 2>err &&
	test_grep "event readable" out &&
	test_grep "own tmp written" out &&
	test_grep "outside denied" out &&
	test_grep "home denied" out &&
	test_grep "next step sees made x=1 env=yes" out &&
	! test -e outside/denied.txt &&
	! test -e "$HOME/denied" &&
	! test -e /tmp/kiln-isolate-probe-$$ &&
	test_grep "^iso  *success" out
'

test_expect_success 'without --isolate the same write succeeds (the test can fail)' '
	export OUTSIDE="$TRASH/outside" PROBE_ID=$$ &&
	env -C repo kiln run >out 2>err &&
	test_grep "outside WRITTEN" out &&
	test -e outside/denied.txt &&
	rm -f outside/denied.txt "$HOME/denied" /tmp/kiln-isolate-probe-$$
'

test_expect_success '--isolate-no-network: only the loopback interface' '
	export OUTSIDE="$TRASH/outside" PROBE_ID=$$ &&
	env -C repo kiln run --isolate-no-network >out 2>err &&
	test_grep "interfaces 1$" out &&
	test_grep "outside denied" out
'

test_expect_success 'a step killed by its timeout leaves nothing running in the sandbox' '
	write_workflow repo slow <<-\EOF &&
	on: push
	jobs:
	  slow:
	    runs-on: ubuntu-latest
	    steps:
	      - timeout-minutes: 0.02
	        run: |
	          (sleep 313; echo late) &
	          sleep 313
	EOF
	test_expect_code 1 env -C repo kiln run --isolate -W .github/workflows/slow.yml >out 2>err &&
	test_grep "^slow  *failure" out &&
	! pgrep -f "^sleep 313$"
'

test_expect_success 'without bwrap on PATH --isolate is a usage error' '
	mkdir nobwrap &&
	for p in git sh bash env; do ln -s "$(command -v $p)" nobwrap/; done &&
	test_expect_code 2 env -C repo PATH="$TRASH/nobwrap" "$KILN" run --isolate >out 2>err &&
	test_grep "isolate needs bubblewrap" err
'

test_done
