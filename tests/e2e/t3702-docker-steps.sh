#!/bin/bash
test_description='uses: docker://IMAGE steps and Docker container actions (Dockerfile or image) on podman'
. "$(dirname "$0")/../lib.sh"
. "$TEST_ROOT/e2e/lib-containers.sh"

test_expect_success 'setup: a Dockerfile action and an image action' '
	test_create_repo repo &&
	mkdir -p repo/act/greet repo/act/img &&
	cat >repo/act/greet/action.yml <<-\EOF &&
	name: greet
	inputs:
	  who:
	    description: who to greet
	    default: world
	  punctuation:
	    description: the end
	    default: "!"
	outputs:
	  said:
	    description: what it said
	runs:
	  using: docker
	  image: Dockerfile
	  args:
	    - ${{ inputs.who }}
	    - two words
	  env:
	    FROM_ACTION: set by the action
	EOF
	cat >repo/act/greet/Dockerfile <<-\EOF &&
	FROM kiln-test/debian
	COPY entrypoint.sh /entrypoint.sh
	ENTRYPOINT ["/entrypoint.sh"]
	EOF
	cat >repo/act/greet/entrypoint.sh <<-\EOF &&
	#!/bin/sh
	echo "hello $1$INPUT_PUNCTUATION ($2) env: $FROM_ACTION, in $(pwd), $(cat /etc/debian_version)"
	echo "said=hello $1" >>"$GITHUB_OUTPUT"
	echo "GREETED=$1" >>"$GITHUB_ENV"
	test -f /run/.containerenv
	EOF
	chmod +x repo/act/greet/entrypoint.sh &&
	cat >repo/act/img/action.yml <<-\EOF &&
	name: from an image
	inputs:
	  code:
	    description: exit code
	runs:
	  using: docker
	  image: docker://kiln-test/debian
	  entrypoint: /bin/sh
	  args: ["-c", "echo image action says $INPUT_CODE; exit $INPUT_CODE"]
	EOF
	git -C repo add -A && git -C repo commit -q -m actions
'

# dock_steps <STEPS: repo's ci.yml, one push job `dock` with the steps on
# stdin (as under `steps:`), committed with the rest of the work tree
dock_steps () {
	git -C repo add -A &&
	{ printf "on: push\njobs:\n  dock:\n    runs-on: ubuntu-latest\n    steps:\n"; cat; } |
		write_workflow repo ci
}

test_expect_success 'docker:// steps (args, entrypoint, INPUT_*) and a Dockerfile action with inputs and outputs' '
	dock_steps <<-\EOF &&
	      - id: d
	        uses: docker://kiln-test/debian
	        with:
	          entrypoint: /bin/sh
	          args: -c "echo in a docker step as $INPUT_NAME; echo v=1 >>\"$GITHUB_OUTPUT\""
	          name: kiln
	      - id: a
	        uses: ./act/greet
	        with:
	          who: kiln
	      - uses: ./act/img
	        with:
	          code: 0
	      - run: echo "d=${{ steps.d.outputs.v }} a=${{ steps.a.outputs.said }} env=$GREETED"
	EOF
	env -C repo kiln run >out 2>err &&
	test_grep "in a docker step as kiln" out &&
	test_grep "hello kiln! (two words) env: set by the action, in .*/workspace, 12\." out &&
	test_grep "image action says 0" out &&
	test_grep "d=1 a=hello kiln env=kiln" out &&
	test_grep "^dock  *success" out
'

test_expect_success 'a Docker step that fails fails the job with its exit code' '
	dock_steps <<-\EOF &&
	      - uses: ./act/img
	        with:
	          code: 7
	      - run: echo never
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "image action says 7" out &&
	test_grep "Process completed with exit code 7" out &&
	! test_grep "^\[dock\] never" out
'

test_expect_success 'a Docker step in a job with services reaches them by id' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  dock:
	    runs-on: ubuntu-latest
	    services:
	      redis:
	        image: kiln-test/redis
	        options: --health-cmd "redis-cli ping" --health-interval 1s --health-retries 30
	    steps:
	      - uses: docker://kiln-test/redis
	        with:
	          args: redis-cli -h redis ping
	EOF
	env -C repo kiln run >out 2>err &&
	test_grep "PONG" out
'

test_expect_success 'a Dockerfile that does not build fails the step with the build output' '
	mkdir -p repo/act/broken &&
	printf "runs:\n  using: docker\n  image: Dockerfile\n" >repo/act/broken/action.yml &&
	printf "FROM kiln-test/debian\nRUN exit 42\n" >repo/act/broken/Dockerfile &&
	dock_steps <<-\EOF &&
	      - uses: ./act/broken
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "exit status 42\|exit 42" out &&
	test_grep "Docker build failed" out
'

# a Docker action with pre-entrypoint and post-entrypoint (files written
# outside test bodies: they need single quotes)
mkdir -p stages
cat >stages/action.yml <<'END'
inputs:
  tag:
    default: x
runs:
  using: docker
  image: Dockerfile
  pre-entrypoint: /pre.sh
  pre-if: env.NOPRE != 'yes'
  entrypoint: /main.sh
  post-entrypoint: /post.sh
  post-if: always() && env.NOPOST != 'yes'
  args:
    - ${{ inputs.tag }}
END
cat >stages/Dockerfile <<'END'
FROM kiln-test/debian
COPY pre.sh main.sh post.sh /
END
cat >stages/pre.sh <<'END'
#!/bin/sh
echo "pre $1 input=$INPUT_TAG container=$(test -f /run/.containerenv && echo yes)"
echo "frompre=$1-pre" >>"$GITHUB_STATE"
test "$1" != prefail
END
cat >stages/main.sh <<'END'
#!/bin/sh
echo "main $1 frompre=$STATE_frompre"
echo "frommain=$1-main" >>"$GITHUB_STATE"
test "$1" != mainfail
END
cat >stages/post.sh <<'END'
#!/bin/sh
echo "post $1 frompre=$STATE_frompre frommain=$STATE_frommain"
END
chmod +x stages/*.sh
cat >stages.yml <<'END'
on: push
jobs:
  r:
    runs-on: x
    steps:
      - run: echo first main step
      - uses: o/stages@v1
        with: { tag: a }
      - uses: o/stages@v1
        env: { NOPRE: "yes" }
        with: { tag: b }
      - uses: o/stages@v1
        env: { NOPOST: "yes" }
        with: { tag: nopost }
      - run: echo last main step
  prefail:
    runs-on: x
    steps:
      - uses: o/stages@v1
        with: { tag: prefail }
      - run: echo never
  mainfail:
    runs-on: x
    steps:
      - uses: o/stages@v1
        with: { tag: mainfail }
END

test_expect_success 'a fetched Docker action: pre-entrypoint at job start (pre-if), main, post-entrypoint at job end in reverse order (post-if), state across stages' '
	(cd repo && kiln debug job ../stages.yml r --action "o/stages@v1=$TRASH/stages" >../sout 2>&1) &&
	grep "^| \(pre\|main\|post\|first\|last\) " sout >actual &&
	cat >expect <<-\EOF &&
	| pre a input=a container=yes
	| pre nopost input=nopost container=yes
	| first main step
	| main a frompre=a-pre
	| main b frompre=
	| main nopost frompre=nopost-pre
	| last main step
	| post b frompre= frommain=b-main
	| post a frompre=a-pre frommain=a-main
	EOF
	test_cmp expect actual &&
	test_grep "> Pre Run o/stages@v1" sout &&
	test_grep "Post Run o/stages@v1: skipped" sout
'

test_expect_success 'a failing pre-entrypoint fails the job before its steps; a failed main still gets its post' '
	(cd repo && test_expect_code 1 kiln debug job ../stages.yml prefail --action "o/stages@v1=$TRASH/stages" >../pout 2>&1) &&
	test_grep "pre prefail" pout &&
	! grep -q "^| never" pout &&
	(cd repo && test_expect_code 1 kiln debug job ../stages.yml mainfail --action "o/stages@v1=$TRASH/stages" >../mout 2>&1) &&
	test_grep "main mainfail" mout &&
	test_grep "post mainfail frompre=mainfail-pre frommain=mainfail-main" mout
'

test_expect_success 'a local Docker action: pre-entrypoint not run (GitHub'"'"'s warning), post-entrypoint runs' '
	cp -r stages repo/act/stages &&
	dock_steps <<-\EOF &&
	      - uses: ./act/stages
	        with: { tag: local }
	EOF
	env -C repo kiln run >out 2>err &&
	test_grep "warning: .pre. execution is not supported for local action from .\./act/stages." out &&
	! grep -q "^\[dock\] pre local" out &&
	test_grep "^\[dock\] main local frompre=$" out &&
	test_grep "^\[dock\] post local frompre= frommain=local-main" out
'

test_expect_success 'a directory with only a Dockerfile is an action; with: args and entrypoint when runs has none; an entrypoint of several words' '
	mkdir -p repo/act/bare &&
	printf "FROM kiln-test/debian\nENTRYPOINT [\"echo\", \"bare:\"]\n" >repo/act/bare/Dockerfile &&
	mkdir -p repo/act/noargs &&
	printf "runs:\n  using: docker\n  image: docker://kiln-test/debian\n  entrypoint: /bin/sh -c\n  args: [\"echo split \$0\", \"entry\"]\n" \
		>repo/act/noargs/action.yml &&
	dock_steps <<-\EOF &&
	      - uses: ./act/bare
	        with:
	          args: one "two words"
	      - uses: ./act/bare
	        with:
	          entrypoint: /bin/echo
	          args: replaced entrypoint
	      - uses: ./act/noargs
	EOF
	env -C repo kiln run >out 2>err &&
	test_grep "^\[dock\] bare: one two words$" out &&
	test_grep "^\[dock\] replaced entrypoint$" out &&
	test_grep "^\[dock\] split entry$" out
'

test_done
