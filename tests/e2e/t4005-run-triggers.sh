#!/bin/bash
test_description='kiln run picks workflows by their triggers on real repositories; workflow_run chains'
. "$(dirname "$0")/../lib.sh"

wf() { # wf REPO NAME: workflow from stdin, committed
	write_workflow "$@"
}

test_expect_success 'setup: release on semver tags, CI on branches' '
	test_create_repo repo &&
	wf repo release <<-\EOF &&
	name: Release
	on:
	  push:
	    tags: ["v[0-9]+.[0-9]+.[0-9]+"]
	jobs:
	  publish:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "publish ${{ github.ref_name }} ${{ github.ref_type }} created=${{ github.event.created }}"
	EOF
	wf repo ci <<-\EOF
	name: CI
	on:
	  push:
	    branches-ignore: ["wip/**"]
	jobs:
	  test:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "ci on ${{ github.ref }}"
	EOF
'

test_expect_success 'a tag push v1.2.3 runs the release workflow, not CI' '
	git -C repo tag v1.2.3 &&
	(cd repo && kiln run --ref v1.2.3 -v) >out 2>err &&
	test_grep "^\[publish\] publish v1.2.3 tag created=true$" out &&
	test_grep -v "ci on" out &&
	test_grep "ci.yml: push to tag .v1.2.3.: only branch filters are set" err
'

test_expect_success 'a branch push runs CI, not the release' '
	(cd repo && kiln run -v) >out 2>err &&
	test_grep "^\[test\] ci on refs/heads/main$" out &&
	test_grep -v "publish" out &&
	test_grep "release.yml: push to branch .main.: only tag filters are set" err
'

test_expect_success 'branches-ignore: a wip branch runs nothing' '
	git -C repo checkout -q -b wip/x &&
	(cd repo && kiln run -v) >out 2>err &&
	git -C repo checkout -q main &&
	test_grep "no workflow is triggered by .push." err &&
	test_grep "ci.yml: branch .wip/x. is ignored by branches-ignore pattern .wip/\*\*." err
'

test_expect_success 'setup: monorepo with five services' '
	test_create_repo mono &&
	for s in api web worker billing auth; do
		mkdir -p mono/services/$s && echo $s >mono/services/$s/main.go &&
		wf mono $s <<-EOF || return 1
		name: $s
		on:
		  push:
		    paths: ["services/$s/**"]
		jobs:
		  build-$s:
		    runs-on: ubuntu-latest
		    steps:
		      - run: echo "built $s"
		EOF
	done &&
	git -C mono add . && git -C mono commit -q -m services && git -C mono tag start
'

test_expect_success 'only the changed services build' '
	echo 2 >>mono/services/web/main.go && echo 2 >>mono/services/billing/main.go &&
	git -C mono commit -q -am "web and billing" &&
	(cd mono && kiln run) >out 2>err &&
	grep "^\[.*build-[a-z]*\] built" out | sort >got &&
	printf "[billing / build-billing] built billing\n[web / build-web] built web\n" >expect &&
	test_cmp expect got
'

test_expect_success '--base START compares against an older commit' '
	echo 3 >>mono/services/auth/main.go && git -C mono commit -q -am auth &&
	(cd mono && kiln run) >out 2>err &&
	grep "^\[.*build-[a-z]*\] built" out | sort >got &&
	echo "[build-auth] built auth" >expect &&
	test_cmp expect got &&
	(cd mono && kiln run --base start) >out 2>err &&
	test $(grep -c "^\[.*build-[a-z]*\] built" out) = 3
'

test_expect_success 'schedule: kiln run schedule runs scheduled workflows with github.event.schedule' '
	test_create_repo sched &&
	wf sched nightly <<-\EOF &&
	on:
	  schedule:
	    - cron: "15 3 * * *"
	jobs:
	  n:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "cron=${{ github.event.schedule }} event=${{ github.event_name }}"
	EOF
	(cd sched && kiln run schedule) >out 2>err &&
	test_grep "^\[n\] cron=15 3 \* \* \* event=schedule$" out &&
	(cd sched && kiln run) >out 2>err &&
	test_grep "no workflow is triggered by .push." err
'

test_expect_success 'dispatch inputs: errors are exit 2 with the position of the input' '
	test_create_repo disp &&
	wf disp deploy <<-\EOF &&
	on:
	  workflow_dispatch:
	    inputs:
	      replicas:
	        type: number
	        required: true
	jobs:
	  d:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "replicas=${{ inputs.replicas }}"
	EOF
	(cd disp && test_expect_code 2 kiln run workflow_dispatch --input replicas=lots) >out 2>err &&
	test_grep "deploy.yml:4:7: error: workflow_dispatch input .replicas. expects a number (got .lots.)" err &&
	(cd disp && test_expect_code 2 kiln run workflow_dispatch) >out 2>err &&
	test_grep "input .replicas. is required" err &&
	(cd disp && kiln run workflow_dispatch --input replicas=3) >out 2>err &&
	test_grep "^\[d\] replicas=3$" out
'

test_expect_success 'setup: CI, then staging deploy after CI succeeds on develop' '
	test_create_repo chain &&
	wf chain ci <<-\EOF &&
	name: CI
	on: push
	jobs:
	  test:
	    runs-on: ubuntu-latest
	    steps:
	      - run: test ! -e fail
	EOF
	wf chain staging <<-\EOF &&
	name: Deploy staging
	on:
	  workflow_run:
	    workflows: [CI]
	    types: [completed]
	    branches: [develop]
	jobs:
	  deploy:
	    if: ${{ github.event.workflow_run.conclusion == '"'"'success'"'"' }}
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "deploying ${{ github.event.workflow_run.head_branch }} after ${{ github.event.workflow_run.name }} (${{ github.event.workflow_run.conclusion }})"
	      - run: test -f .github/workflows/ci.yml && echo "deploy has the run files"
	EOF
	wf chain notify <<-\EOF
	name: Notify
	on:
	  workflow_run:
	    workflows: [Deploy staging]
	jobs:
	  tell:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo "notified after ${{ github.event.workflow_run.name }}"
	EOF
'

test_expect_success 'on develop: CI, then staging deploy, then notify (three levels)' '
	git -C chain checkout -q -b develop &&
	(cd chain && kiln run) >out 2>err &&
	test_grep "^\[deploy\] deploying develop after CI (success)$" out &&
	# CI is the only job of the first level: it gets a copy of the run files,
	# the next levels read them (cli/run.c snapshot_alone)
	test_grep "^\[deploy\] deploy has the run files$" out &&
	test_grep "^\[tell\] notified after Deploy staging$" out &&
	test_grep "workflow_run: .CI. success on .develop. starts 1 workflow" err
'

test_expect_success 'on main: CI runs, the develop-only deploy does not follow' '
	git -C chain checkout -q main &&
	(cd chain && kiln run) >out 2>err &&
	test_grep -v "deploying" out &&
	test_grep -v "notified" out
'

test_expect_success 'a failed CI still completes: the deploy job is skipped by its if' '
	git -C chain checkout -q develop &&
	touch chain/fail && git -C chain add fail && git -C chain commit -q -m fail &&
	(cd chain && test_expect_code 1 kiln run) >out 2>err &&
	test_grep -v "deploying" out &&
	test_grep "workflow_run: .CI. failure on .develop." err
'

test_expect_success 'chains stop after three levels' '
	test_create_repo loop &&
	wf loop a <<-\EOF &&
	name: A
	on:
	  push:
	  workflow_run:
	    workflows: [C]
	jobs:
	  a:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo level-a
	EOF
	wf loop b <<-\EOF &&
	name: B
	on:
	  workflow_run:
	    workflows: [A]
	jobs:
	  b:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo level-b
	EOF
	wf loop c <<-\EOF &&
	name: C
	on:
	  workflow_run:
	    workflows: [B]
	jobs:
	  c:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo level-c
	EOF
	(cd loop && kiln run) >out 2>err &&
	test $(grep -c "^\[a\] level-a" out) = 1 &&
	test $(grep -c "^\[b\] level-b" out) = 1 &&
	test $(grep -c "^\[c\] level-c" out) = 1
'

test_done
