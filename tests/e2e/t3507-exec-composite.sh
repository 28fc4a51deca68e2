#!/bin/bash
test_description='executor: local composite actions (uses: ./path), built-in and remote actions'
. "$(dirname "$0")/../lib.sh"

run_job() {
	(cd repo && kiln debug job --run-dir "$TRASH/run" "$@" .github/workflows/ci.yml build) >out 2>err
}

# add_action DIR <<EOF: writes repo/DIR/action.yml and commits it
add_action() {
	mkdir -p "repo/$1" &&
	cat >"repo/$1/action.yml" &&
	git -C repo add "$1" &&
	git -C repo commit -q -m "action $1"
}

test_expect_success 'setup' '
	test_create_repo repo
'

test_expect_success 'composite action: inputs with defaults, outputs with value:' '
	add_action .github/actions/greet <<-\EOF &&
	name: greet
	inputs:
	  who:
	    description: whom to greet
	    required: true
	  greeting:
	    default: Hello
	outputs:
	  message:
	    description: the message
	    value: ${{ steps.say.outputs.msg }}
	runs:
	  using: composite
	  steps:
	    - id: say
	      shell: bash
	      run: |
	        echo "${{ inputs.greeting }}, ${{ inputs.who }}!"
	        echo "msg=${{ inputs.greeting }} ${{ inputs.who }}" >>"$GITHUB_OUTPUT"
	        echo "action path: $GITHUB_ACTION_PATH"
	EOF
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: g
	        uses: ./.github/actions/greet
	        with:
	          who: kiln
	      - run: echo "output=${{ steps.g.outputs.message }}"
	      - uses: ./.github/actions/greet
	        with:
	          who: again
	          greeting: Hi
	EOF
	run_job &&
	test_grep "^| Hello, kiln!$" out &&
	test_grep "^| action path: .*/workspace/.github/actions/greet$" out &&
	test_grep "^| output=Hello kiln$" out &&
	test_grep "^| Hi, again!$" out &&
	test_grep "^job: success$" out
'

test_expect_success 'composite steps see the caller step env; unknown inputs warn' '
	add_action act/envy <<-\EOF &&
	runs:
	  using: composite
	  steps:
	    - shell: sh
	      run: echo "FROM_CALLER=$FROM_CALLER INNER=$INNER"
	      env:
	        INNER: inner-${{ env.FROM_CALLER }}
	EOF
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: ./act/envy
	        env:
	          FROM_CALLER: yes
	        with:
	          bogus: 1
	EOF
	run_job &&
	test_grep "^| FROM_CALLER=yes INNER=inner-yes$" out &&
	test_grep "^warning: Unexpected input(s) .bogus., valid inputs are \[\]$" out
'

test_expect_success 'nested composite actions pass outputs up' '
	add_action act/inner <<-\EOF &&
	inputs:
	  n:
	    default: "1"
	outputs:
	  doubled:
	    value: ${{ steps.calc.outputs.v }}
	runs:
	  using: composite
	  steps:
	    - id: calc
	      shell: bash
	      run: echo "v=$(( ${{ inputs.n }} * 2 ))" >>"$GITHUB_OUTPUT"
	EOF
	add_action act/outer <<-\EOF &&
	inputs:
	  n:
	    required: true
	outputs:
	  result:
	    value: r${{ steps.in.outputs.doubled }}
	runs:
	  using: composite
	  steps:
	    - id: in
	      uses: ./act/inner
	      with:
	        n: ${{ inputs.n }}
	EOF
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    outputs:
	      r: ${{ steps.o.outputs.result }}
	    steps:
	      - id: o
	        uses: ./act/outer
	        with:
	          n: 21
	      - run: echo "result=${{ steps.o.outputs.result }}"
	EOF
	run_job &&
	test_grep "^| result=r42$" out &&
	test_grep "^outputs: {\"r\":\"r42\"}$" out
'

test_expect_success 'a failing composite step fails the calling step' '
	add_action act/fails <<-\EOF &&
	runs:
	  using: composite
	  steps:
	    - shell: bash
	      run: exit 4
	    - shell: bash
	      run: echo not-run
	    - if: failure()
	      shell: bash
	      run: echo inner-failure-handler
	EOF
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: c
	        uses: ./act/fails
	        continue-on-error: true
	      - run: echo "c=${{ steps.c.outcome }}/${{ steps.c.conclusion }}"
	EOF
	run_job &&
	test_grep "^| inner-failure-handler$" out &&
	test_grep -v "^| not-run" out &&
	test_grep "^| c=failure/success$" out
'

test_expect_success 'cancelling inside a composite action cancels its step' '
	add_action act/slow <<-\EOF &&
	runs:
	  using: composite
	  steps:
	    - shell: bash
	      run: echo inner-started; sleep 60
	    - shell: bash
	      run: echo inner-not-run
	EOF
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: c
	        uses: ./act/slow
	      - if: always()
	        run: echo "c=${{ steps.c.outcome }}"
	EOF
	test_expect_code 1 run_job --cancel-after 500 &&
	test_grep "^| inner-started$" out &&
	test_grep -v "^| inner-not-run" out &&
	test_grep "^| c=cancelled$" out &&
	test_grep "^job: cancelled$" out
'

test_expect_success 'timeout-minutes on a composite step stops the action' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - id: c
	        name: slow action
	        uses: ./act/slow
	        timeout-minutes: 0.01
	      - run: echo not-run
	      - if: always()
	        run: echo "c=${{ steps.c.outcome }}"
	EOF
	test_expect_code 1 run_job &&
	test_grep "^| inner-started$" out &&
	test_grep -v "^| inner-not-run" out &&
	test_grep "^error: The action .slow action. has timed out after 0.01 minutes.$" out &&
	test_grep -v "^| not-run" out &&
	test_grep "^| c=failure$" out &&
	test_grep "^job: failure$" out
'

test_expect_success 'a missing action.yml is a clear step error' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: ./no/such/action
	EOF
	test_expect_code 1 run_job &&
	test_grep "can.t find .action.yml., .action.yaml. or .Dockerfile. under .*no/such/action" out
'

test_expect_success 'a composite run step without shell is an error with its position' '
	add_action act/noshell <<-\EOF &&
	runs:
	  using: composite
	  steps:
	    - run: echo hi
	EOF
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: ./act/noshell
	EOF
	test_expect_code 1 run_job &&
	test_grep "^error: .*act/noshell/action.yml:4:7: required property is missing: shell" out
'

test_expect_success 'a Docker action without its Dockerfile fails its step, naming it' '
	add_action act/dock <<-\EOF &&
	runs:
	  using: docker
	  image: Dockerfile
	EOF
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: ./act/dock
	EOF
	test_expect_code 1 run_job &&
	test_grep "act/dock/action.yml: runs.image .Dockerfile.: no such Dockerfile\|needs podman for step" out
'

test_expect_success 'a remote action is not fetched by kiln debug job: the step fails naming it' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: someone/some-action@v3
	      - run: echo not-run
	EOF
	test_expect_code 1 run_job &&
	test_grep "^error: can.t run action .someone/some-action@v3.: remote actions need kiln run" out &&
	test_grep -v "^| not-run" out
'

test_expect_success 'actions/checkout is built in: it checks out HEAD into the workspace' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/checkout@v4
	      - run: cat README.md
	EOF
	run_job &&
	test_grep "^> Run actions/checkout@v4$" out &&
	test_grep "^info: Checking out " out &&
	test_grep "^| # repo$" out
'

test_expect_success 'actions/checkout with another repository is refused clearly' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    steps:
	      - uses: actions/checkout@v4
	        with:
	          repository: other/repo
	EOF
	test_expect_code 1 run_job &&
	test_grep "^error: actions/checkout: repository .other/repo. is not the run.s repository" out
'

test_done
