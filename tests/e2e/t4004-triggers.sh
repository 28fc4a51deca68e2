#!/bin/bash
test_description='on: triggers decided on real repositories: tags, branches, paths, dispatch inputs, schedule, workflow_run'
. "$(dirname "$0")/../lib.sh"

wf() { # wf NAME: workflow body from stdin into .github/workflows/NAME.yml
	mkdir -p .github/workflows && cat >.github/workflows/$1.yml
}

test_expect_success 'setup: release on tags, CI on branches' '
	test_create_repo repo &&
	cd repo &&
	wf release <<-\EOF &&
	name: Release
	on:
	  push:
	    tags: ["v[0-9]+.[0-9]+.[0-9]+"]
	jobs:
	  publish:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo publish
	EOF
	wf ci <<-\EOF &&
	name: CI
	on:
	  push:
	    branches: [main, "release/**"]
	    branches-ignore-not-used: []
	jobs:
	  test:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo test
	EOF
	sed -i "/branches-ignore-not-used/d" .github/workflows/ci.yml &&
	wf nightly <<-\EOF &&
	name: Nightly
	on:
	  schedule:
	    - cron: "30 2 * * 1-5"
	jobs:
	  n:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo nightly
	EOF
	git add . && git commit -q -m workflows && git tag v1.2.3 && git tag v1.2
'

test_expect_success 'a tag push v1.2.3 runs the release workflow only' '
	cd repo &&
	kiln debug trigger --ref v1.2.3 >out &&
	test_grep "^run .github/workflows/release.yml: tag .v1.2.3. matches tags pattern" out &&
	test_grep "^skip .github/workflows/ci.yml: push to tag .v1.2.3.: only branch filters are set" out &&
	test_grep "^skip .github/workflows/nightly.yml: not triggered by .push." out
'

test_expect_success 'a branch push runs CI, not the release' '
	cd repo &&
	kiln debug trigger >out &&
	test_grep "^run .github/workflows/ci.yml: branch .main. matches branches pattern .main." out &&
	test_grep "^skip .github/workflows/release.yml: push to branch .main.: only tag filters are set" out
'

test_expect_success 'a tag that does not match the semver pattern runs nothing' '
	cd repo &&
	kiln debug trigger --ref v1.2 >out &&
	test_grep "^skip .github/workflows/release.yml: tag .v1.2. matches none of tags" out &&
	! grep "^run" out
'

test_expect_success 'branches-ignore skips ignored branches and runs the others' '
	cd repo &&
	wf docs <<-\EOF &&
	on:
	  push:
	    branches-ignore: ["wip/**", "dependabot/**"]
	jobs:
	  d:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo docs
	EOF
	git add . && git commit -q -m docs &&
	git checkout -q -b wip/try &&
	kiln debug trigger >out &&
	test_grep "^skip .github/workflows/docs.yml: branch .wip/try. is ignored by branches-ignore pattern .wip/\*\*." out &&
	test_grep "^skip .github/workflows/ci.yml: branch .wip/try. matches none of branches" out &&
	git checkout -q -b feature/x &&
	kiln debug trigger >out &&
	test_grep "^run .github/workflows/docs.yml: branch .feature/x. is not in branches-ignore" out &&
	git checkout -q main
'

test_expect_success 'schedule: kiln debug trigger schedule picks scheduled workflows' '
	cd repo &&
	kiln debug trigger schedule --payload >out &&
	test_grep "^run .github/workflows/nightly.yml: scheduled by cron .30 2 \* \* 1-5." out &&
	test_grep "\"schedule\":\"30 2 \* \* 1-5\"" out &&
	test_grep "^skip .github/workflows/ci.yml" out
'

test_expect_success 'setup: monorepo with five services and paths filters' '
	test_create_repo mono &&
	cd mono &&
	for s in api web worker billing auth; do
		mkdir -p services/$s && echo $s >services/$s/main.go &&
		wf $s <<-EOF
		name: $s
		on:
		  push:
		    paths:
		      - "services/$s/**"
		      - "!services/$s/**.md"
		      - "libs/**"
		jobs:
		  build:
		    runs-on: ubuntu-latest
		    steps:
		      - run: echo $s
		EOF
	done &&
	mkdir -p libs && echo v1 >libs/shared.go &&
	git add . && git commit -q -m "five services" && git tag start
'

test_expect_success 'only the workflows of changed services run (HEAD~1..HEAD)' '
	cd mono &&
	echo change >>services/api/main.go && echo change >>services/auth/main.go &&
	git commit -q -am "api and auth" &&
	kiln debug trigger >out &&
	test $(grep -c "^run" out) = 2 &&
	test_grep "^run .github/workflows/api.yml: push to branch .main.; changed file .services/api/main.go. matches paths pattern .services/api/\*\*." out &&
	test_grep "^run .github/workflows/auth.yml" out &&
	test_grep "^skip .github/workflows/web.yml: push to branch .main.; none of the 2 changed files matches paths" out
'

test_expect_success 'a markdown-only change is excluded by the negated pattern' '
	cd mono &&
	echo doc >services/web/README.md && git add . && git commit -q -m doc &&
	kiln debug trigger >out &&
	! grep "^run" out &&
	test_grep "^skip .github/workflows/web.yml" out
'

test_expect_success '--base widens the changed files; a shared lib runs all five' '
	cd mono &&
	kiln debug trigger --base start >out &&
	test $(grep -c "^run" out) = 2 &&
	echo v2 >libs/shared.go && git commit -q -am lib &&
	kiln debug trigger >out &&
	test $(grep -c "^run" out) = 5
'

test_expect_success 'setup: dispatch inputs and workflow_run' '
	test_create_repo disp &&
	cd disp &&
	wf deploy <<-\EOF &&
	name: Deploy
	on:
	  workflow_dispatch:
	    inputs:
	      environment:
	        type: environment
	        required: true
	      level:
	        type: choice
	        options: [low, high]
	        default: low
	      dry-run:
	        type: boolean
	      replicas:
	        type: number
	        default: 2
	jobs:
	  d:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo deploy
	EOF
	wf staging <<-\EOF &&
	name: Deploy staging
	on:
	  workflow_run:
	    workflows: [CI]
	    types: [completed]
	    branches: [develop]
	jobs:
	  s:
	    runs-on: ubuntu-latest
	    steps:
	      - run: echo staging
	EOF
	git add . && git commit -q -m wf
'

test_expect_success 'dispatch inputs are typed, defaults applied' '
	cd disp &&
	kiln debug trigger workflow_dispatch --input environment=prod --input dry-run=TRUE --payload >out &&
	test_grep "^run .github/workflows/deploy.yml: dispatched manually" out &&
	test_grep "^inputs={\"environment\":\"prod\",\"level\":\"low\",\"dry-run\":true,\"replicas\":2}" out &&
	test_grep "\"inputs\":{\"environment\":\"prod\",\"level\":\"low\",\"dry-run\":\"true\",\"replicas\":\"2\"}" out
'

test_expect_success 'bad dispatch inputs are clear errors with exit 2' '
	cd disp &&
	test_expect_code 2 kiln debug trigger workflow_dispatch --input environment=prod --input level=mid 2>err &&
	test_grep "^.github/workflows/deploy.yml:8:7: error: workflow_dispatch input .level. must be one of .low., .high. (got .mid.)" err &&
	test_expect_code 2 kiln debug trigger workflow_dispatch 2>err &&
	test_grep "input .environment. is required (use --input environment=VALUE)" err &&
	test_expect_code 2 kiln debug trigger workflow_dispatch --input environment=x --input replicas=many 2>err &&
	test_grep "input .replicas. expects a number (got .many.)" err &&
	test_expect_code 2 kiln debug trigger workflow_dispatch --input environment=x --input dry-run=maybe 2>err &&
	test_grep "input .dry-run. expects a boolean" err &&
	test_expect_code 2 kiln debug trigger workflow_dispatch --input environment=x --input levle=low 2>err &&
	test_grep "unknown workflow_dispatch input .levle. (did you mean .level.?)" err
'

test_expect_success 'workflow_run follows CI on develop only' '
	cd disp &&
	git checkout -q -b develop &&
	kiln debug trigger workflow_run --workflow CI --payload >out &&
	test_grep "^run .github/workflows/staging.yml: .*workflow .CI. completed" out &&
	git checkout -q main &&
	kiln debug trigger workflow_run --workflow CI >out &&
	test_grep "^skip .github/workflows/staging.yml: branch .main. matches none of branches: .develop." out &&
	kiln debug trigger workflow_run --workflow Lint >out &&
	test_grep "^skip .github/workflows/staging.yml: workflow .Lint. is not in workflows: .CI." out
'

test_expect_success 'lint reports bad patterns, crons and input declarations with positions' '
	test_create_repo bad &&
	cd bad &&
	wf bad <<-\EOF &&
	on:
	  push:
	    branches: ["release/v[0-9"]
	    tags: [v1]
	    tags-ignore: [v2]
	  schedule:
	    - cron: "61 * * * *"
	  workflow_dispatch:
	    inputs:
	      x:
	        type: choice
	jobs:
	  a:
	    runs-on: ubuntu-latest
	    steps:
	      - run: true
	EOF
	test_expect_code 2 kiln lint >out &&
	test_grep "^.github/workflows/bad.yml:3:16: error: on.push.branches: invalid pattern .release/v\[0-9.: missing .\]." out &&
	test_grep "^.github/workflows/bad.yml:5:5: error: on.push: .tags. and .tags-ignore. cannot be used together" out &&
	test_grep "^.github/workflows/bad.yml:7:13: error: invalid cron expression .61 \* \* \* \*.: minute .61. is out of range 0-59" out &&
	test_grep "^.github/workflows/bad.yml:10:7: error: workflow_dispatch input .x. of type choice needs a non-empty .options. list" out
'

test_done
