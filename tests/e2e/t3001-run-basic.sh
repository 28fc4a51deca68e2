#!/bin/bash
test_description='kiln run: jobs, needs, results, exit codes, default environment'
. "$(dirname "$0")/../lib.sh"

test_expect_success 'setup' '
	test_create_repo repo &&
	git -C repo remote add origin https://github.com/octo/hello.git
'

test_expect_success 'a passing workflow exits 0 with lines prefixed by the job' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  hello:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo hello from kiln
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "^\[hello\] hello from kiln$" out &&
	test_grep "^\[hello\] > Run echo hello from kiln$" out &&
	test_grep "^hello  *success" out &&
	test_grep "^run success" out
'

test_expect_success 'no escape codes when stdout is not a terminal' '
	(cd repo && kiln run) >out 2>err &&
	! grep -q "$(printf "\033")" out
'

test_expect_success 'needs order jobs; a failure skips dependents, exit 1' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  first:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo first
	  second:
	    needs: first
	    runs-on: ubuntu-latest
	    steps:
	      - run: exit 7
	  third:
	    needs: second
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo third ran
	  fourth:
	    needs: third
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo fourth ran
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "^first  *success" out &&
	test_grep "^second  *failure" out &&
	test_grep "^third  *skipped" out &&
	test_grep "^fourth  *skipped" out &&
	test_grep -v "third ran" out &&
	test_grep "^run failure" out &&
	# order: first ends before second starts
	first_end=$(grep -n "^\[first\] job success" out | cut -d: -f1) &&
	second_start=$(grep -n "^\[second\] job started" out | cut -d: -f1) &&
	test "$first_end" -lt "$second_start"
'

test_expect_success 'if: always() and failure() dependents run after a failure; success() does not' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  bad:
	    runs-on: ubuntu-latest
	    steps:
	      - run: false
	  cleanup:
	    needs: bad
	    if: always()
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "cleanup saw ${{ needs.bad.result }}"
	  report:
	    needs: bad
	    if: ${{ failure() }}
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo report ran
	  onsuccess:
	    needs: bad
	    if: success()
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo onsuccess ran
	  chained:
	    needs: cleanup
	    if: failure()
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo chained saw an ancestor fail
	EOF
	test_expect_code 1 env -C repo kiln run >out 2>err &&
	test_grep "^\[cleanup\] cleanup saw failure$" out &&
	test_grep "^\[report\] report ran$" out &&
	test_grep "^onsuccess  *skipped" out &&
	test_grep "^\[chained\] chained saw an ancestor fail$" out
'

test_expect_success 'job outputs flow to needs.<job>.outputs and .result' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  produce:
	    runs-on: ubuntu-latest
	    outputs:
	      greeting: ${{ steps.g.outputs.text }}
	      number: ${{ steps.g.outputs.n }}
	    steps:
	      - id: g
	        run: |
	          echo "text=hello world" >>"$GITHUB_OUTPUT"
	          echo "n=42" >>"$GITHUB_OUTPUT"
	  consume:
	    needs: [produce]
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "got ${{ needs.produce.outputs.greeting }} / ${{ needs.produce.outputs.number }} / ${{ needs.produce.result }}"
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "^\[consume\] got hello world / 42 / success$" out
'

test_expect_success 'job-level continue-on-error keeps the run green' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  flaky:
	    runs-on: ubuntu-latest
	    continue-on-error: true
	    steps:
	      - run: exit 1
	  after:
	    needs: flaky
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo after ran
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "^flaky  *failure.*continue-on-error" out &&
	test_grep "^\[after\] after ran$" out &&
	test_grep "^run success" out
'

test_expect_success 'steps see GitHub default environment for the run' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  env:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          echo "CI=$CI GHA=$GITHUB_ACTIONS"
	          echo "REF=$GITHUB_REF NAME=$GITHUB_REF_NAME TYPE=$GITHUB_REF_TYPE"
	          echo "SHA=$GITHUB_SHA"
	          echo "REPO=$GITHUB_REPOSITORY OWNER=$GITHUB_REPOSITORY_OWNER"
	          echo "EVENT=$GITHUB_EVENT_NAME JOB=$GITHUB_JOB OS=$RUNNER_OS"
	          echo "NUM=$GITHUB_RUN_NUMBER ATTEMPT=$GITHUB_RUN_ATTEMPT WF=$GITHUB_WORKFLOW"
	          echo "SERVER=$GITHUB_SERVER_URL API=$GITHUB_API_URL"
	          test -n "$GITHUB_RUN_ID" && test -n "$RUNNER_ARCH" && test -n "$RUNNER_TEMP"
	          test -n "$RUNNER_TOOL_CACHE" && test -n "$GITHUB_ACTOR"
	          python3 -c "import json,sys; e=json.load(open(sys.argv[1])); print(\"PAYLOAD_REF=\" + e[\"ref\"])" "$GITHUB_EVENT_PATH"
	          echo "CTX=${{ github.repository }} ${{ github.ref_name }} ${{ github.event_name }} ${{ github.job }} ${{ github.workflow }}"
	EOF
	(cd repo && kiln run) >out 2>err &&
	sha=$(git -C repo rev-parse HEAD) &&
	test_grep "CI=true GHA=true" out &&
	test_grep "REF=refs/heads/main NAME=main TYPE=branch" out &&
	test_grep "SHA=$sha" out &&
	test_grep "REPO=octo/hello OWNER=octo" out &&
	test_grep "EVENT=push JOB=env OS=Linux" out &&
	test_grep "NUM=[0-9]* ATTEMPT=1 WF=.github/workflows/ci.yml" out &&
	test_grep "SERVER=https://github.com API=https://api.github.com" out &&
	test_grep "PAYLOAD_REF=refs/heads/main" out &&
	test_grep "CTX=octo/hello main push env .github/workflows/ci.yml" out
'

test_expect_success '-e event.json gives github.event; EVENT selects workflows by on:' '
	write_workflow repo ci <<-\EOF &&
	name: Dispatch
	on: [workflow_dispatch, repository_dispatch]
	jobs:
	  show:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "payload=${{ github.event.client_payload.version }} event=${{ github.event_name }}"
	EOF
	echo "{\"client_payload\": {\"version\": \"1.2.3\"}}" >event.json &&
	(cd repo && kiln run repository_dispatch -e ../event.json) >out 2>err &&
	test_grep "payload=1.2.3 event=repository_dispatch" out &&
	(cd repo && kiln run) >out 2>err &&
	test_grep "no workflow is triggered by .push." err
'

test_expect_success 'a bad event file is an input error (exit 2)' '
	echo "{not json" >bad.json &&
	test_expect_code 2 env -C repo kiln run -e ../bad.json 2>err &&
	test_grep "bad.json" err &&
	test_expect_code 2 env -C repo kiln run -e ../missing.json 2>err &&
	test_grep "cannot read event file" err
'

test_expect_success 'a bad workflow gives file:line:col and exit 2' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  build:
	    runs-on: ubuntu-latest
	    stepz:
	      - run: echo hi
	EOF
	test_expect_code 2 env -C repo kiln run >out 2>err &&
	test_grep "ci.yml:5:5: error: " err
'

test_expect_success 'bad flags and arguments are usage errors (exit 2); --help exits 0' '
	test_expect_code 2 env -C repo kiln run --nope 2>err &&
	test_grep "unknown option" err &&
	test_expect_code 2 env -C repo kiln run push pull_request 2>err &&
	test_grep "too many arguments" err &&
	test_expect_code 2 env -C repo kiln run -p x 2>err &&
	kiln run --help >out &&
	test_grep "usage: kiln run" out &&
	test_grep "exit status" out
'

test_expect_success 'outside a repository is an input error (exit 2)' '
	mkdir -p plain &&
	test_expect_code 2 env -C plain kiln run 2>err &&
	test_grep "error" err
'

test_expect_success 'secrets from -s, the environment and --secret-file are masked in output' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  s:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "a=${{ secrets.API_KEY }} b=${{ secrets.FROM_ENV }} c=${{ secrets.FILED }}"
	EOF
	printf "FILED=\"file value 42\"\n" >secrets.env &&
	(cd repo && FROM_ENV=envsecret99 kiln run -s API_KEY=hunter2xyz -s FROM_ENV --secret-file ../secrets.env) >out 2>err &&
	test_grep "^\[s\] a=\*\*\* b=\*\*\* c=\*\*\*$" out &&
	test_grep -v "hunter2xyz" out &&
	test_grep -v "envsecret99" out &&
	test_expect_code 2 env -C repo kiln run -s UNSET_SECRET_X 2>err &&
	test_grep "not set in the environment" err
'

test_expect_success 'a call of a missing reusable workflow fails clearly (exit 2)' '
	write_workflow repo ci <<-\EOF &&
	on: push
	jobs:
	  call:
	    uses: ./.github/workflows/other.yml
	EOF
	test_expect_code 2 env -C repo kiln run >out 2>err &&
	test_grep "ci.yml:4:11: error: job .call.: reusable workflow .*other.yml. not found" err
'

test_expect_success 'the github context has GitHub keys; github.workspace is $GITHUB_WORKSPACE' '
	write_workflow repo ci <<-\EOF &&
	on: [push, pull_request]
	jobs:
	  ctx:
	    runs-on: ubuntu-latest
	    steps:
	      - run: |
	          test "${{ github.workspace }}" = "$GITHUB_WORKSPACE" && echo workspace-ok
	          cat >"$RUNNER_TEMP/github.json" <<"JSON"
	          ${{ toJSON(github) }}
	          JSON
	          python3 -c "import json,sys; g=json.load(open(sys.argv[1])); print(\"keys:\", \" \".join(sorted(k for k in g if k in sys.argv[2:])))" "$RUNNER_TEMP/github.json" event_name event sha ref ref_name ref_type repository repository_owner actor workspace run_id run_number run_attempt job server_url api_url workflow workflow_ref head_ref base_ref
	          echo "pr: head=${{ github.head_ref }} base=${{ github.base_ref }} ref=${{ github.ref }}"
	EOF
	(cd repo && kiln run) >out 2>err &&
	test_grep "^\[ctx\] workspace-ok$" out &&
	test_grep "^\[ctx\] keys: actor api_url base_ref event event_name head_ref job ref ref_name ref_type repository repository_owner run_attempt run_id run_number server_url sha workflow workflow_ref workspace$" out &&
	git -C repo checkout -q -b feature &&
	(cd repo && kiln run pull_request) >out 2>err &&
	test_grep "^\[ctx\] pr: head=feature base=main ref=refs/pull/1/merge$" out &&
	git -C repo checkout -q main
'

test_done
