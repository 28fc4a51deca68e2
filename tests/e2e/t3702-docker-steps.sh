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

test_expect_success 'docker:// steps (args, entrypoint, INPUT_*) and a Dockerfile action with inputs and outputs' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  dock:
	    runs-on: ubuntu-latest
	    steps:
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
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  dock:
	    runs-on: ubuntu-latest
	    steps:
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
	git -C repo add -A && git -C repo commit -q -m broken &&
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  dock:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: ./act/broken
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "exit status 42\|exit 42" out &&
	test_grep "Docker build failed" out
'

test_done
